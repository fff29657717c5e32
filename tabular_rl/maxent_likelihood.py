r"""The MaxEnt IRL log-likelihood and its maximisation (Ziebart et al. 2008, eq. (4) and (6)).

* :func:`maxent_log_likelihood_objective` and :func:`maxent_log_likelihood_gradient`: the
  log-likelihood of the demonstrations, :math:`L(\theta) = \theta^\top\tilde f - E_{s_0}\log Z_{s_0}(\theta)`,
  and its gradient :math:`\tilde f - \sum_t\sum_s D_t(s) f(s)`;
* :func:`maxent_irl`: gradient ascent (or L-BFGS) on L, returning an :class:`IRLResult`
  (also the result of :func:`tabular_rl.mce.mce_irl`, which shares the ascent).

The passes they are built on are in :mod:`tabular_rl.maxent_passes`; the conventions are in the
docstring of :mod:`tabular_rl.maxent`, which re-exports every name here, and in
docs/guide/maxent.md.
"""

import dataclasses
import warnings

import numpy as np

from . import _validation as _v
from ._deprecation import renamed_keyword
from .maxent_passes import _backward, _check_reachable, _log_terminal, _path_marginals
from .sampling import Trajectories

__all__ = [
    "IRLResult",
    "maxent_irl",
    "maxent_log_likelihood_gradient",
    "maxent_log_likelihood_objective",
]


# ---------------------------------------------------------------- validation
def _check_state_features(features, mdp):
    phi = _v.as_float_array(features, "features", real=True)
    if phi.ndim != 2 or phi.shape[0] != mdp.n_states or phi.shape[1] < 1:
        raise ValueError(
            f"features must have shape ({mdp.n_states}, K) with K >= 1 (state features), got {phi.shape}"
        )
    _v.check_finite(phi, "features")
    return _v.check_magnitude(phi, "features")


def _check_weights(weights, K, name="weights"):
    w = _v.as_float_array(weights, name, real=True)
    _v.check_shape(w, (K,), name, what="(one weight per feature, K = features.shape[-1])")
    return _v.check_finite(w, name)


# ---------------------------------------------------------- log-likelihood
def _empirical_state_counts(mdp, phi, demonstrations, horizon, mu, log_terminal):
    """(f_tilde (K,), start distribution (S,)) from Trajectories or from given feature counts."""
    S, K = phi.shape
    if isinstance(demonstrations, Trajectories):
        demonstrations.check_against(mdp, "demonstrations")
        if demonstrations.horizon != horizon:
            raise ValueError(
                f"demonstrations must have horizon == horizon == {horizon} (H steps, H+1 states), "
                f"got demonstrations.horizon == {demonstrations.horizon}"
            )
        if demonstrations.n_episodes < 1:
            raise ValueError("demonstrations must hold at least one episode, got 0")
        if mu is not None:
            raise ValueError(
                "mu must be None when demonstrations are Trajectories: the start distribution is the "
                "demonstrations' empirical one"
            )
        states = demonstrations.states
        ends = states[:, horizon]
        off = ~np.isfinite(log_terminal[ends])
        if np.any(off):
            i = int(np.flatnonzero(off)[0])
            raise ValueError(
                f"demonstrations must end in terminal_states for the goal-directed model, but episode {i} "
                f"ends in state {int(ends[i])} (probability 0 under the model)"
            )
        f_tilde = phi[states[:, :horizon]].sum(axis=1).mean(axis=0)
        start = np.bincount(states[:, 0], minlength=S) / demonstrations.n_episodes
        return f_tilde, start
    f_tilde = _v.as_float_array(demonstrations, "demonstrations")
    if np.iscomplexobj(f_tilde):
        raise TypeError(f"demonstrations must be Trajectories or real feature counts, got dtype {f_tilde.dtype}")
    _v.check_shape(f_tilde, (K,), "demonstrations", what="(Trajectories, or empirical feature counts, one per feature)")
    _v.check_finite(f_tilde, "demonstrations")
    _v.check_magnitude(f_tilde, "demonstrations")
    start = mdp.mu if mu is None else _v.check_distribution(mu, "mu", S)
    return f_tilde, np.asarray(start, dtype=np.float64)


class _MaxEntProblem:
    """The validated inputs of the MaxEnt log-likelihood; evaluates L and its gradient."""

    def __init__(self, mdp, features, demonstrations, horizon, terminal_states, mu):
        self.mdp = mdp
        self.phi = _check_state_features(features, mdp)
        self.horizon = _v.check_int(horizon, "horizon", min_value=0)
        self.log_terminal = _log_terminal(terminal_states, mdp)
        self.f_tilde, self.mu = _empirical_state_counts(
            mdp, self.phi, demonstrations, self.horizon, mu, self.log_terminal
        )
        part = _backward(mdp, np.zeros(mdp.n_states), self.horizon, self.log_terminal)
        _check_reachable(part.log_Z[0], self.mu, "the start distribution")
        self.support = self.mu > 0

    def value_and_grad(self, w):
        r = self.phi @ w
        part = _backward(self.mdp, r, self.horizon, self.log_terminal)
        value = float(w @ self.f_tilde - self.mu[self.support] @ part.log_Z[0][self.support])
        D = _path_marginals(self.mdp, part, r, self.mu).sum(axis=0)
        return value, self.f_tilde - D @ self.phi, part.policy


@renamed_keyword("p0", "mu")
def maxent_log_likelihood_objective(mdp, features, demonstrations, horizon, weights, *, terminal_states=None, mu=None):
    r"""The MaxEnt log-likelihood of demonstrations (to maximise), a float.

    .. math:: L(\theta) = \frac1m\sum_{i=1}^m \theta^\top f_{\zeta_i}
              - \frac1m\sum_{i=1}^m \log Z_{s_{0,i}}(\theta),\qquad
              f_\zeta = \sum_{t=0}^{H-1} f(s_t),

    the mean of :math:`\log P(\zeta_i|\theta, T)` of eq. (4) without its
    :math:`\sum_t\log P(s_{t+1}|s_t,a_t)` term, which does not depend on
    :math:`\theta`. The feature counts sum over the H rewarded steps t = 0..H-1
    (not :math:`s_H`), exactly as the backward pass rewards. Concave in
    :math:`\theta` (:math:`\log Z` is a log-sum-exp of linear functions), with gradient
    :func:`maxent_log_likelihood_gradient`.

    Parameters
    ----------
    mdp : TabularMDP
    features : array_like, shape (S, K)
        State features f(s).
    demonstrations : Trajectories or array_like (K,)
        Episodes of exactly ``horizon`` steps (their start states give the
        start distribution), or the empirical feature counts
        :math:`\tilde f` (then ``mu``, default ``mdp.mu``, is the start distribution).
    horizon : int >= 0
    weights : array_like, shape (K,)
        :math:`\theta`; the reward is :math:`r(s) = \theta^\top f(s)`.
    terminal_states : None, sequence of int, or bool array (S,)
        Goal set of the backward pass; demonstrations must end in it.
    mu : array_like, shape (S,), optional
        Start distribution, only with feature counts. ``p0`` is a deprecated alias (removed in 0.3.0).

    Returns
    -------
    float

    References
    ----------
    Ziebart et al. (2008), eq. (4) and the learning objective below it.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.maxent import maxent_log_likelihood_objective
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0)
    >>> demo = Trajectories(states=[[0, 1]], actions=[[1]], rewards=[[0.0]])
    >>> L = maxent_log_likelihood_objective(mdp, np.eye(2), demo, 1, [0.0, 0.0])
    >>> bool(np.isclose(L, -np.log(2)))                # one step, two equally likely actions
    True
    """
    prob = _MaxEntProblem(mdp, features, demonstrations, horizon, terminal_states, mu)
    w = _check_weights(weights, prob.phi.shape[1])
    return prob.value_and_grad(w)[0]


@renamed_keyword("p0", "mu")
def maxent_log_likelihood_gradient(mdp, features, demonstrations, horizon, weights, *, terminal_states=None, mu=None):
    r"""Gradient of :func:`maxent_log_likelihood_objective`, shape (K,).

    .. math:: \nabla L(\theta) = \tilde f - \sum_{t=0}^{H-1}\sum_s D_t(s) f(s)

    (eq. (6)), with :math:`D_t` the exact state marginals of the model
    (:func:`maxent_path_marginals`, from the demonstrations' start distribution).
    In a deterministic MDP these are Algorithm 1's (corrected) forward pass
    under the time-indexed backward-pass policy; in a stochastic MDP the
    printed algorithm's true-dynamics forward pass is *not* this gradient
    (docs/guide/maxent.md#stochastic-dynamics).

    Parameters are those of :func:`maxent_log_likelihood_objective` (``p0`` is a deprecated alias of ``mu``,
    removed in 0.3.0).

    Returns
    -------
    ndarray, shape (K,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.maxent import maxent_log_likelihood_gradient
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0)
    >>> demo = Trajectories(states=[[0, 1, 1]], actions=[[1, 1]], rewards=[[0.0, 0.0]])
    >>> maxent_log_likelihood_gradient(mdp, np.eye(2), demo, 2, [0.0, 0.0])   # (1, 1) - (1.5, 0.5)
    array([-0.5,  0.5])
    """
    prob = _MaxEntProblem(mdp, features, demonstrations, horizon, terminal_states, mu)
    w = _check_weights(weights, prob.phi.shape[1])
    return prob.value_and_grad(w)[1]


# --------------------------------------------------------- gradient ascent
@dataclasses.dataclass(frozen=True, eq=False)
class IRLResult:
    r"""Result of :func:`maxent_irl` or :func:`tabular_rl.mce.mce_irl`.

    Attributes
    ----------
    weights : ndarray, shape (K,)
        The final :math:`\theta`.
    reward : ndarray
        The recovered reward :math:`\theta^\top f`: shape (S,) for state
        features, (S, A) for state-action features.
    policy : ndarray
        The model's policy at ``weights``: (H, S, A) time-indexed, or (S, A).
    log_likelihood : ndarray, shape (n_iterations + 1,)
        The objective at every iterate, the initial one included; non-decreasing.
    grad_norm : ndarray, shape (n_iterations + 1,)
        :math:`\|\nabla L\|_2` at every iterate: the feature-matching error.
    n_iterations : int
        Accepted ascent steps.
    converged : bool
        Whether the final gradient norm is at most ``tol``.

    Examples
    --------
    :func:`maxent_irl` returns one. Two states, action a moves to state a, start in
    state 0, two steps, one feature: "in state 1". Demonstrations that are in state 1
    at t = 1 three times in four are matched when the first step's policy is
    e^w / (1 + e^w) = 3/4, w = log 3; at w = 0 the four action sequences are equally
    likely, L = -log 4.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_irl
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0, mu=[1.0, 0.0])
    >>> res = maxent_irl(mdp, [[0.0], [1.0]], [0.75], horizon=2, mu=[1.0, 0.0])
    >>> res.converged, res.reward.round(6)                  # theta^T f per state: 0 and log 3
    (True, array([0.      , 1.098612]))
    >>> res.policy[0, 0].round(6)
    array([0.25, 0.75])
    >>> round(float(res.log_likelihood[0]), 6), bool(np.all(np.diff(res.log_likelihood) >= 0))
    (-1.386294, True)
    >>> bool(res.grad_norm[-1] <= 1e-8)
    True
    """

    weights: np.ndarray
    reward: np.ndarray
    policy: np.ndarray
    log_likelihood: np.ndarray
    grad_norm: np.ndarray
    n_iterations: int
    converged: bool


_METHODS = ("gradient", "lbfgs")


def _check_method(method):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    return method


def _lbfgs_ascent(value_and_grad, w0, *, tol, max_iter):
    """L-BFGS (scipy.optimize, exact gradients) on -L; returns (w, value, grad, extra, values, norms, k).

    Every evaluation is cached, so the history and the final point cost no extra passes."""
    from scipy.optimize import minimize

    cache = {}

    def evaluate(w):
        key = w.tobytes()
        if key not in cache:
            cache.clear()  # keep only the latest point (each entry holds an (H, S, A) policy)
            cache[key] = value_and_grad(np.array(w, dtype=np.float64))
        return cache[key]

    w = np.array(w0, dtype=np.float64)
    value, grad, extra = evaluate(w)
    values, norms = [value], [float(np.linalg.norm(grad))]
    if norms[-1] <= tol:
        return w, value, grad, extra, values, norms, 0
    trace = []

    def negated(x):
        v, g, _ = evaluate(x)
        return -v, -g

    def record(x):
        v, g, _ = evaluate(x)
        trace.append((np.array(x), v, g))

    # gtol is a max-norm: tol / sqrt(K) makes the 2-norm <= tol. ftol = 0: stop on the gradient only.
    minimize(negated, w, jac=True, method="L-BFGS-B", callback=record,
             options=dict(gtol=tol / np.sqrt(max(w.size, 1)), ftol=0.0, maxiter=max_iter, maxcor=20))
    for x, v, g in trace:
        values.append(v)
        norms.append(float(np.linalg.norm(g)))
    if trace:
        w = trace[-1][0]
    value, grad, extra = value_and_grad(w) if w.tobytes() not in cache else cache[w.tobytes()]
    return w, value, grad, extra, values, norms, len(trace)


def _gradient_ascent(value_and_grad, w0, *, tol, max_iter, step_size, name, method="gradient"):
    r"""Gradient ascent on a concave objective with a Barzilai-Borwein trial step and
    backtracking on the directional derivative.

    A trial step :math:`\eta` (``step_size`` first, then the Barzilai-Borwein
    step :math:`s^\top s/s^\top y`) is halved until
    :math:`\nabla L(\theta+\eta g)^\top g \ge 0`, i.e. until it does not pass the
    maximum of L along g. For concave L this guarantees
    :math:`L(\theta+\eta g) \ge L(\theta) + \eta\,\nabla L(\theta+\eta g)^\top g \ge L(\theta)`
    (monotone ascent) and at least half the best improvement along the line;
    unlike an Armijo test on L it keeps working when the improvement is below
    the round-off of L, so gradient norms of 1e-10 are reachable.

    With ``method="lbfgs"`` the steps are L-BFGS's (quasi-Newton, far fewer on
    ill-conditioned problems); if it stops above ``tol`` (round-off), the
    ascent above continues from its last point within the same ``max_iter``.

    Returns (w, value, grad, extra, values, norms, n_iterations, converged).
    """
    if method == "lbfgs":
        w, value, grad, extra, values, norms, k = _lbfgs_ascent(value_and_grad, w0, tol=tol, max_iter=max_iter)
    else:
        w = np.array(w0, dtype=np.float64)
        value, grad, extra = value_and_grad(w)
        values, norms, k = [value], [float(np.linalg.norm(grad))], 0
    eta = step_size
    converged = norms[-1] <= tol
    stalled = False
    while not converged and k < max_iter:
        for _ in range(60):
            w_new = w + eta * grad
            value_new, grad_new, extra_new = value_and_grad(w_new)
            if grad_new @ grad >= 0.0 and np.isfinite(value_new):
                break
            eta *= 0.5
        else:
            stalled = True
            break
        s, y = w_new - w, grad - grad_new          # y = change in the gradient of -L
        sy = float(s @ y)
        eta = float(s @ s) / sy if sy > 0 else 2.0 * eta
        w, value, grad, extra = w_new, value_new, grad_new, extra_new
        values.append(value)
        norms.append(float(np.linalg.norm(grad)))
        k += 1
        converged = norms[-1] <= tol
    if not converged:
        why = (
            "the line search could not find an ascent step (round-off)" if stalled
            else f"max_iter={max_iter} steps were taken"
        )
        warnings.warn(
            f"{name} stopped with gradient norm {norms[-1]:.3g} above tol={tol:g}: {why}; "
            "increase max_iter or tol",
            RuntimeWarning,
            stacklevel=3,
        )
    return w, value, grad, extra, np.array(values), np.array(norms), k, converged


@renamed_keyword("p0", "mu")
def maxent_irl(
    mdp,
    features,
    demonstrations,
    horizon,
    *,
    terminal_states=None,
    mu=None,
    weights0=None,
    tol=1e-8,
    max_iter=1000,
    step_size=1.0,
    method="gradient",
):
    r"""MaxEnt IRL: maximise the log-likelihood of demonstrations over reward weights.

    .. math:: \theta^* = \arg\max_\theta\ L(\theta),\qquad
              \nabla L(\theta) = \tilde f - \sum_{t=0}^{H-1}\sum_s D_t(s) f(s),

    with L of :func:`maxent_log_likelihood_objective` (concave) and the exact
    model marginals :math:`D_t`. At the maximum the model matches the
    demonstrations' feature counts: ``grad_norm[-1]`` is the feature-matching
    error :math:`\|\tilde f - E_\theta[f_\zeta]\|_2`.

    Step rule: gradient ascent with a Barzilai-Borwein trial step, halved until
    the directional derivative at the new point is still non-negative
    (:math:`\nabla L(\theta+\eta g)^\top g\ge0`). On a concave objective this is
    monotone and makes at least half the best progress along the line; it
    stops when :math:`\|\nabla L\|_2\le` ``tol``, or warns (RuntimeWarning) after
    ``max_iter`` steps.

    Parameters
    ----------
    mdp : TabularMDP
        Undiscounted model (``mdp.gamma`` and ``mdp.R`` are not used).
    features : array_like, shape (S, K)
        State features.
    demonstrations : Trajectories or array_like (K,)
        Episodes of exactly ``horizon`` steps, or empirical feature counts
        :math:`\tilde f` summed over t = 0..H-1 (with ``mu``).
    horizon : int >= 0
    terminal_states : None, sequence of int, or bool array (S,)
        The goal-directed model (see :func:`maxent_backward_pass`).
    mu : array_like, shape (S,), optional
        Start distribution, only with feature counts (default ``mdp.mu``). ``p0`` is a deprecated alias
        (removed in 0.3.0).
    weights0 : array_like, shape (K,), optional
        Initial weights; default zeros.
    tol : float > 0
        Stop when the gradient norm is at most this.
    max_iter : int >= 1
        Cap on ascent steps; a RuntimeWarning names it if reached.
    step_size : float > 0
        The first trial step.
    method : {"gradient", "lbfgs"}
        ``"gradient"``: gradient ascent as in the paper (Barzilai-Borwein trial
        step, see the Notes). ``"lbfgs"``: L-BFGS on the same exact objective
        and gradient (``scipy.optimize``); the same optimum, typically in tens of
        iterations where gradient ascent needs thousands (weakly identified
        reward directions make the problem ill-conditioned).

    Returns
    -------
    IRLResult
        ``reward`` has shape (S,); ``policy`` is the (H, S, A) backward-pass policy.

    References
    ----------
    Ziebart, Maas, Bagnell and Dey (2008). Maximum entropy inverse
    reinforcement learning. AAAI. Eq. (4), (6) and Algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.maxent import maxent_irl
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0, mu=[1.0, 0.0])
    >>> res = maxent_irl(mdp, [[0.0], [1.0]], [0.75], horizon=2, mu=[1.0, 0.0])
    >>> res.converged, round(float(res.weights[0]), 6)   # s_1 = 1 with probability 3/4: e^w = 3
    (True, 1.098612)
    """
    prob = _MaxEntProblem(mdp, features, demonstrations, horizon, terminal_states, mu)
    K = prob.phi.shape[1]
    w0 = np.zeros(K) if weights0 is None else _check_weights(weights0, K, "weights0")
    tol = _v.check_real(tol, "tol", low=0.0, low_open=True)
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    step_size = _v.check_real(step_size, "step_size", low=0.0, low_open=True)
    method = _check_method(method)
    w, _, _, policy, values, norms, k, converged = _gradient_ascent(
        prob.value_and_grad, w0, tol=tol, max_iter=max_iter, step_size=step_size, name="maxent_irl", method=method
    )
    return IRLResult(
        weights=w, reward=prob.phi @ w, policy=policy, log_likelihood=values,
        grad_norm=norms, n_iterations=k, converged=converged,
    )
