r"""Maximum causal entropy IRL (Ziebart 2010; Ziebart, Bagnell and Dey 2010/2013).

The soft Bellman recursion, in log space (temperature :math:`\alpha`, default 1):

.. math::
    Q(s,a) = r(s,a) + \gamma\sum_{s'}P(s'|s,a)V(s'),\qquad
    V(s) = \alpha\log\sum_a e^{Q(s,a)/\alpha},\qquad
    \pi(a|s) = e^{(Q(s,a)-V(s))/\alpha}.

Conventions fixed here:

* **Finite horizon H**: decision steps t = 0..H-1, :math:`V_H = 0`, discount
  ``mdp.gamma`` (1 allowed); policies have shape (H, S, A). The expert feature
  expectations sum :math:`\gamma^t f(s_t,a_t)` over the same t = 0..H-1 (H
  rewards for H decisions; the state :math:`s_H` is not counted).
* **Infinite horizon** (``horizon=None``, ``gamma < 1``): the discounted fixed
  point, by soft value iteration with a cap and a residual check. Feature
  expectations are discounted and unnormalised,
  :math:`\mu_\pi = E_\pi[\sum_{t\ge0}\gamma^t f(s_t,a_t)]`
  (:func:`tabular_rl.features.feature_expectations`), including the discount
  that some implementations drop.
* The soft value is the entropy-regularised value of the soft policy,
  :math:`V = (I-\gamma P_\pi)^{-1}(r_\pi + \alpha H(\pi))`, and that policy
  maximises the entropy-regularised value at every state
  (:func:`entropy_regularized_values` computes the right-hand side exactly).

In a deterministic MDP with :math:`\gamma = 1` the causal and non-causal models
coincide: :func:`soft_values` equals :func:`tabular_rl.maxent.maxent_log_partition`
and the policies agree. In a stochastic MDP the non-causal log partition
function is at least the causal soft value (Jensen).
"""

import dataclasses
import warnings

import numpy as np

from . import _kernels
from . import _validation as _v
from ._deprecation import renamed_keyword
from .evaluation import _Resolvent
from .features import check_features, feature_expectations
from .maxent_likelihood import IRLResult, _check_method, _check_weights, _gradient_ascent
from .sampling import Trajectories

__all__ = [
    "SoftValues",
    "entropy_regularized_values",
    "mce_irl",
    "mce_log_likelihood_gradient",
    "mce_log_likelihood_objective",
    "mce_policy",
    "soft_values",
]


def _check_rewards(R, mdp, name="R"):
    r = _v.as_float_array(R, name, real=True)
    S, A = mdp.shape
    if r.shape == (S,):
        r = np.repeat(r[:, None], A, axis=1)
    elif r.shape != (S, A):
        raise ValueError(f"{name} must have shape ({S},) or ({S}, {A}), got {r.shape}")
    return _v.check_finite(r, name)


@dataclasses.dataclass(frozen=True, eq=False)
class SoftValues:
    r"""Soft (maximum causal entropy) values and policy.

    Attributes
    ----------
    Q : ndarray, shape (S, A) or (H, S, A)
        :math:`Q = r + \gamma P V` (of the next step's V for a finite horizon).
    V : ndarray, shape (S,) or (H+1, S)
        :math:`V = \alpha\log\sum_a e^{Q/\alpha}`; for a finite horizon row H is 0.
    policy : ndarray, shape (S, A) or (H, S, A)
        :math:`\pi = e^{(Q - V)/\alpha}`.
    n_iterations : int
        Soft value iteration sweeps (H for a finite horizon).
    converged : bool
        Always True for a finite horizon (exact recursion).
    residual : float
        Infinite horizon: :math:`\|T V_k - V_k\|_\infty` of the iterate
        :math:`V_k` that ``Q`` was built from (``V`` is :math:`T V_k`), so
        :math:`\|V - V^{soft}\|_\infty \le \gamma\,\text{residual}/(1-\gamma)`.
        0.0 for a finite horizon.

    Examples
    --------
    :func:`soft_values` returns one. One state, two actions paying 0 and log 3: one
    step has soft value log(e^0 + e^log 3) = log 4 and policy (1/4, 3/4).

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import soft_values
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[0.0], gamma=0.5)
    >>> sv = soft_values(mdp, [[0.0, np.log(3)]], horizon=1)
    >>> np.exp(sv.V[:, 0]), sv.policy[0], sv.converged      # V_0 = log 4, V_H = 0
    (array([4., 1.]), array([[0.25, 0.75]]), True)

    Discounted (gamma = 0.5): V = log 4 + 0.5 V, so V = 2 log 4; the policy is unchanged.

    >>> sv = soft_values(mdp, [[0.0, np.log(3)]])
    >>> np.exp(sv.V / 2).round(6), sv.policy.round(6), bool(sv.residual < 1e-9)
    (array([4.]), array([[0.25, 0.75]]), True)
    """

    Q: np.ndarray
    V: np.ndarray
    policy: np.ndarray
    n_iterations: int
    converged: bool
    residual: float


def _soft_backup(Q, alpha):
    v, pi = _kernels.soft_max_actions(Q if alpha == 1.0 else Q / alpha)
    return (v if alpha == 1.0 else alpha * v), pi


def _finite_soft(mdp, r, horizon, alpha):
    S, A = mdp.shape
    V = np.zeros((horizon + 1, S))
    Q = np.empty((horizon, S, A))
    policy = np.empty((horizon, S, A))
    for t in range(horizon - 1, -1, -1):
        Q[t] = r + mdp.gamma * mdp.expected_next(V[t + 1])
        V[t], policy[t] = _soft_backup(Q[t], alpha)
    return SoftValues(Q=Q, V=V, policy=policy, n_iterations=horizon, converged=True, residual=0.0)


def _discounted_soft(mdp, r, alpha, tol, max_iter, V0=None, name="soft_values"):
    gamma = mdp.gamma
    scale = max(1.0, float(np.max(np.abs(r))))  # tol is relative to the reward scale
    V = np.zeros(mdp.n_states) if V0 is None else np.array(V0, dtype=np.float64)
    converged = False
    for k in range(1, max_iter + 1):
        Q = r + gamma * mdp.expected_next(V)
        V_new, policy = _soft_backup(Q, alpha)
        residual = float(np.max(np.abs(V_new - V)))
        if residual <= tol * scale:
            converged = True
            break
        V = V_new
    else:
        warnings.warn(
            f"{name}: soft value iteration reached max_iter={max_iter} with soft Bellman residual "
            f"{residual:.3g} above tol * max(1, max|r|) = {tol * scale:.3g}; increase max_iter or tol",
            RuntimeWarning,
            stacklevel=3,
        )
    return SoftValues(Q=Q, V=V_new, policy=policy, n_iterations=k, converged=converged, residual=residual)


def _check_soft_options(mdp, horizon, temperature, tol, max_iter):
    temperature = _v.check_real(temperature, "temperature", low=0.0, low_open=True)
    tol = _v.check_real(tol, "tol", low=0.0, low_open=True)
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    if horizon is None:
        _v.check_infinite_horizon(mdp, "the discounted soft value (horizon=None)")
    else:
        horizon = _v.check_int(horizon, "horizon", min_value=0)
    return horizon, temperature, tol, max_iter


@renamed_keyword("rewards", "R")
def soft_values(mdp, R, *, horizon=None, temperature=1.0, tol=1e-10, max_iter=100_000):
    r"""Soft Bellman values, Q-values and policy (finite horizon or discounted fixed point).

    Finite horizon (``horizon=H``), exact:

    .. math:: V_H = 0,\quad Q_t = r + \gamma P V_{t+1},\quad
              V_t = \alpha\log\sum_a e^{Q_t/\alpha},\quad \pi_t = e^{(Q_t - V_t)/\alpha}.

    Discounted (``horizon=None``, ``gamma < 1``): soft value iteration
    :math:`V_{k+1} = T V_k` from :math:`V_0 = 0`, a :math:`\gamma`-contraction in the
    max norm (log-sum-exp is 1-Lipschitz), stopped at the first k with soft
    Bellman residual :math:`\|TV_k - V_k\|_\infty \le \mathrm{tol}\cdot\max(1, \|r\|_\infty)`
    (``tol`` is relative to the reward scale, so it stays reachable at reward
    1e6); then :math:`\|V - V^{soft}\|_\infty` is at most :math:`\gamma/(1-\gamma)` times
    that residual. Every
    log-sum-exp is max-shifted (finite at reward 1e6).

    Parameters
    ----------
    mdp : TabularMDP
    R : array_like, shape (S,) or (S, A)
        r(s) or r(s, a) (``mdp.R`` is not used). ``rewards`` is a deprecated alias (removed in 0.3.0).
    horizon : int >= 0, optional
        None for the discounted infinite-horizon fixed point.
    temperature : float > 0
        :math:`\alpha`.
    tol : float > 0
        Residual target of soft value iteration, relative to
        :math:`\max(1, \|r\|_\infty)` (infinite horizon only).
    max_iter : int >= 1
        Cap on sweeps; a RuntimeWarning names it if reached.

    Returns
    -------
    SoftValues

    References
    ----------
    Ziebart (2010), PhD thesis, Algorithm 9.1 (soft value iteration); Ziebart,
    Bagnell and Dey (2010), ICML, the soft Bellman recursion.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import soft_values
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[0.0], gamma=0.5)    # 1 state, 2 actions
    >>> sv = soft_values(mdp, [1.0], tol=1e-12)
    >>> bool(np.isclose(sv.V[0], (1 + np.log(2)) / (1 - 0.5), rtol=0, atol=1e-10))
    True
    """
    r = _check_rewards(R, mdp)
    horizon, alpha, tol, max_iter = _check_soft_options(mdp, horizon, temperature, tol, max_iter)
    if horizon is not None:
        return _finite_soft(mdp, r, horizon, alpha)
    return _discounted_soft(mdp, r, alpha, tol, max_iter)


@renamed_keyword("rewards", "R")
def mce_policy(mdp, R, *, horizon=None, temperature=1.0, tol=1e-10, max_iter=100_000):
    r"""The soft Bellman (maximum causal entropy) policy: (horizon, S, A), or (S, A) when ``horizon`` is None.

    :math:`\pi(a|s) = e^{(Q(s,a)-V(s))/\alpha}` of :func:`soft_values` (see there
    for the recursion, the stopping rule and the options; ``rewards`` is a deprecated alias of ``R``,
    removed in 0.3.0).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import mce_policy
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mce_policy(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [0.0, 1.0], horizon=2)[0]
    array([[0.26894142, 0.73105858],
           [0.26894142, 0.73105858]])
    """
    if horizon is not None and temperature == 1.0:
        r = _check_rewards(R, mdp)
        horizon = _check_soft_options(mdp, horizon, temperature, tol, max_iter)[0]
        # The fused kernel keeps only V_{t+1} and writes each pi_t in place (benchmarks/ profiles it).
        return _kernels.mce_backward(mdp, r, horizon, mdp.gamma, np.zeros(mdp.n_states))[1]
    return soft_values(mdp, R, horizon=horizon, temperature=temperature, tol=tol, max_iter=max_iter).policy


@renamed_keyword("rewards", "R")
def entropy_regularized_values(mdp, pi, R, *, temperature=1.0):
    r"""Exact entropy-regularised value of a stationary policy, shape (S,).

    .. math:: V^\pi_\alpha = (I-\gamma P_\pi)^{-1}\big(r_\pi + \alpha H(\pi)\big),\qquad
              H(\pi)(s) = -\sum_a\pi(a|s)\log\pi(a|s),

    i.e. :math:`E_\pi[\sum_t\gamma^t(r(s_t,a_t) - \alpha\log\pi(a_t|s_t))\mid s_0=s]`,
    by one LU solve (never an iteration). For the soft-optimal policy this is
    the soft value; every other policy scores at most that, state by state.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi : array_like, shape (S, A)
    R : array_like, shape (S,) or (S, A)
        r(s) or r(s, a) (``mdp.R`` is not used). ``rewards`` is a deprecated alias (removed in 0.3.0).
    temperature : float > 0

    Returns
    -------
    ndarray, shape (S,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import entropy_regularized_values
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[0.0], gamma=0.5)
    >>> entropy_regularized_values(mdp, [[0.5, 0.5]], [1.0]) - 2 * (1 + np.log(2))
    array([0.])
    """
    pi = _v.check_policy(pi, mdp)
    r = _check_rewards(R, mdp)
    alpha = _v.check_real(temperature, "temperature", low=0.0, low_open=True)
    _v.check_infinite_horizon(mdp, "entropy_regularized_values")
    with np.errstate(divide="ignore", invalid="ignore"):
        neg_plogp = np.where(pi > 0, -pi * np.log(np.where(pi > 0, pi, 1.0)), 0.0)
    b = np.einsum("sa,sa->s", pi, r) + alpha * neg_plogp.sum(axis=1)
    return _Resolvent(mdp, pi).solve(b)


# ------------------------------------------------------------------- IRL
def _empirical_expectations(mdp, phi, demonstrations, horizon, mu):
    """(mu_tilde (K,), start distribution (S,)) from Trajectories or given feature expectations."""
    K = phi.shape[2]
    if isinstance(demonstrations, Trajectories):
        demonstrations.check_against(mdp, "demonstrations")
        if demonstrations.n_episodes < 1:
            raise ValueError("demonstrations must hold at least one episode, got 0")
        if horizon is not None and demonstrations.horizon != horizon:
            raise ValueError(
                f"demonstrations must have horizon == horizon == {horizon} (H steps), "
                f"got demonstrations.horizon == {demonstrations.horizon}"
            )
        if mu is not None:
            raise ValueError(
                "mu must be None when demonstrations are Trajectories: the start distribution is the "
                "demonstrations' empirical one"
            )
        L = demonstrations.horizon
        disc = mdp.gamma ** np.arange(L)
        f = phi[demonstrations.states[:, :L], demonstrations.actions]  # (N, L, K)
        mu_tilde = np.einsum("t,ntk->k", disc, f) / demonstrations.n_episodes
        start = np.bincount(demonstrations.states[:, 0], minlength=mdp.n_states) / demonstrations.n_episodes
        return mu_tilde, start
    mu_tilde = _v.as_float_array(demonstrations, "demonstrations")
    if np.iscomplexobj(mu_tilde):
        raise TypeError(f"demonstrations must be Trajectories or real feature expectations, got dtype {mu_tilde.dtype}")
    _v.check_shape(mu_tilde, (K,), "demonstrations", what="(Trajectories, or expert feature expectations, one per feature)")
    _v.check_finite(mu_tilde, "demonstrations")
    _v.check_magnitude(mu_tilde, "demonstrations")
    start = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    return mu_tilde, np.asarray(start, dtype=np.float64)


class _MCEProblem:
    """Validated inputs of the MCE objective; evaluates it and its gradient."""

    def __init__(self, mdp, features, demonstrations, horizon, mu, soft_tol, soft_max_iter):
        self.state_features = _v.as_float_array(features, "features").ndim == 2
        self.phi = _v.check_magnitude(check_features(features, mdp, "features"), "features")
        if horizon is None:
            _v.check_infinite_horizon(mdp, "mce_irl with horizon=None")
        else:
            horizon = _v.check_int(horizon, "horizon", min_value=0)
        self.mdp, self.horizon = mdp, horizon
        self.soft_tol = _v.check_real(soft_tol, "soft_tol", low=0.0, low_open=True)
        self.soft_max_iter = _v.check_int(soft_max_iter, "soft_max_iter", min_value=1)
        self.mu_tilde, self.start = _empirical_expectations(mdp, self.phi, demonstrations, horizon, mu)
        self._mdp_start = mdp.with_(mu=self.start)
        self._V = None  # warm start for soft value iteration

    def reward(self, w):
        return self.phi @ w

    def value_and_grad(self, w):
        mdp, r = self.mdp, self.phi @ w
        if self.horizon is None:
            sv = _discounted_soft(mdp, r, 1.0, self.soft_tol, self.soft_max_iter, V0=self._V, name="mce_irl")
            self._V = sv.V
            value = float(w @ self.mu_tilde - self.start @ sv.V)
            mu = feature_expectations(self._mdp_start, sv.policy, self.phi)
            return value, self.mu_tilde - mu, sv.policy
        sv = _finite_soft(mdp, r, self.horizon, 1.0)
        value = float(w @ self.mu_tilde - self.start @ sv.V[0])
        d, _ = _kernels.forward_distributions(mdp, sv.policy, self.horizon, self.start)
        disc = mdp.gamma ** np.arange(self.horizon)
        mu = np.einsum("t,ts,tsa,sak->k", disc, d, sv.policy, self.phi)
        return value, self.mu_tilde - mu, sv.policy


@renamed_keyword("p0", "mu")
def mce_log_likelihood_objective(
    mdp, features, demonstrations, weights, *, horizon=None, mu=None, soft_tol=1e-12, soft_max_iter=100_000
):
    r"""The maximum causal entropy objective (to maximise), a float.

    .. math:: L(\theta) = \theta^\top\tilde\mu - E_{s_0\sim p_0}\,V^{soft}_\theta(s_0),

    the dual of the maximum causal entropy program, equal to the expected
    causal log-likelihood :math:`E[\sum_t\gamma^t\log\pi_\theta(a_t|s_t)]` of
    demonstrations whose transitions follow P (docs/guide/mce.md#objective-and-gradient). Concave in
    :math:`\theta`; gradient :func:`mce_log_likelihood_gradient`. (The
    *per-trajectory* causal log-likelihood is not concave in stochastic MDPs.)

    Parameters
    ----------
    mdp : TabularMDP
    features : array_like, shape (S, K) or (S, A, K)
    demonstrations : Trajectories or array_like (K,)
        Episodes (their start states give :math:`p_0`; :math:`\tilde\mu` sums
        :math:`\gamma^t f(s_t,a_t)` over their t = 0..L-1, a truncation when
        ``horizon`` is None), or expert feature expectations :math:`\tilde\mu`
        (discounted, unnormalised; then ``mu``, default ``mdp.mu``, is :math:`p_0`).
    weights : array_like, shape (K,)
    horizon : int >= 0, optional
        Finite horizon H (then demonstrations must have H steps), or None for
        the discounted infinite-horizon model (``gamma < 1``).
    mu : array_like, shape (S,), optional
        The start distribution :math:`p_0`, only with feature expectations. ``p0`` is a deprecated alias
        (removed in 0.3.0).
    soft_tol, soft_max_iter
        ``tol`` and ``max_iter`` of the soft value iteration (infinite horizon).

    Returns
    -------
    float

    References
    ----------
    Ziebart, Bagnell and Dey (2010), ICML; Ziebart (2010), PhD thesis, ch. 9.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import mce_log_likelihood_objective
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[0.0], gamma=0.5)
    >>> L = mce_log_likelihood_objective(mdp, [[1.0]], [2.0], [0.0])   # -V = -log(2) / (1 - 0.5)
    >>> bool(np.isclose(L, -2 * np.log(2)))
    True
    """
    prob = _MCEProblem(mdp, features, demonstrations, horizon, mu, soft_tol, soft_max_iter)
    return prob.value_and_grad(_check_weights(weights, prob.phi.shape[2]))[0]


@renamed_keyword("p0", "mu")
def mce_log_likelihood_gradient(
    mdp, features, demonstrations, weights, *, horizon=None, mu=None, soft_tol=1e-12, soft_max_iter=100_000
):
    r"""Gradient of :func:`mce_log_likelihood_objective`, shape (K,).

    .. math:: \nabla L(\theta) = \tilde\mu - \mu_{\pi_\theta},\qquad
              \mu_\pi = E_{\pi, s_0\sim p_0}\Big[\sum_t \gamma^t f(s_t,a_t)\Big],

    discounted and unnormalised (t = 0..H-1 for a finite horizon, t >= 0 by
    one LU solve otherwise), because
    :math:`\nabla_\theta V^{soft} = (I-\gamma P_\pi)^{-1}f_\pi`.

    Parameters are those of :func:`mce_log_likelihood_objective` (``p0`` is a deprecated alias of ``mu``,
    removed in 0.3.0).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import mce_log_likelihood_gradient
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[0.0], gamma=0.5)
    >>> mce_log_likelihood_gradient(mdp, [[[1.0], [0.0]]], [0.5], [0.0])   # 0.5 - 0.5 / (1 - 0.5)
    array([-0.5])
    """
    prob = _MCEProblem(mdp, features, demonstrations, horizon, mu, soft_tol, soft_max_iter)
    return prob.value_and_grad(_check_weights(weights, prob.phi.shape[2]))[1]


@renamed_keyword("p0", "mu")
def mce_irl(
    mdp,
    features,
    demonstrations,
    *,
    horizon=None,
    mu=None,
    weights0=None,
    tol=1e-8,
    max_iter=1000,
    step_size=1.0,
    soft_tol=1e-12,
    soft_max_iter=100_000,
    method="gradient",
):
    r"""Maximum causal entropy IRL: gradient ascent on the concave MCE objective.

    .. math:: \theta^* = \arg\max_\theta\ \theta^\top\tilde\mu - E_{p_0}V^{soft}_\theta(s_0),\qquad
              \nabla = \tilde\mu - \mu_{\pi_\theta}.

    At the optimum the soft policy matches the expert's (discounted,
    unnormalised) feature expectations; ``grad_norm[-1]`` is
    :math:`\|\tilde\mu-\mu_{\pi_\theta}\|_2`. The step rule is that of
    :func:`tabular_rl.maxent.maxent_irl` (Barzilai-Borwein trial step, halved
    until the directional derivative at the new point is non-negative; monotone
    on a concave objective). The soft value iteration of each evaluation is
    warm-started from the previous one.

    Parameters
    ----------
    mdp : TabularMDP
    features : array_like, shape (S, K) or (S, A, K)
    demonstrations : Trajectories or array_like (K,)
        See :func:`mce_log_likelihood_objective`.
    horizon : int >= 0, optional
        None: discounted infinite horizon (``gamma < 1``).
    mu : array_like, shape (S,), optional
        The start distribution :math:`p_0`, only with feature expectations; default ``mdp.mu``.
        ``p0`` is a deprecated alias (removed in 0.3.0).
    weights0 : array_like, shape (K,), optional
    tol : float > 0
        Stop when the gradient norm is at most this.
    max_iter : int >= 1
        Cap on ascent steps; a RuntimeWarning names it if reached.
    step_size : float > 0
        First trial step.
    method : {"gradient", "lbfgs"}
        As in :func:`tabular_rl.maxent.maxent_irl`: gradient ascent, or L-BFGS on
        the same exact objective and gradient (far fewer iterations).
    soft_tol, soft_max_iter
        Options of the inner soft value iteration (infinite horizon).

    Returns
    -------
    IRLResult
        ``reward`` is (S,) for state features, (S, A) for state-action ones;
        ``policy`` is (S, A), or (H, S, A) with a horizon.

    References
    ----------
    Ziebart, Bagnell and Dey (2010). Modeling interaction via the principle
    of maximum causal entropy. ICML. Ziebart (2010), PhD thesis, Alg. 9.1/9.3.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.mce import mce_irl
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[0.0], gamma=0.5)
    >>> res = mce_irl(mdp, [[[1.0], [0.0]]], [1.5])           # action 0 taken 3/4 of the time
    >>> res.converged, round(float(res.weights[0]), 6)        # e^w = 3
    (True, 1.098612)
    """
    prob = _MCEProblem(mdp, features, demonstrations, horizon, mu, soft_tol, soft_max_iter)
    K = prob.phi.shape[2]
    w0 = np.zeros(K) if weights0 is None else _check_weights(weights0, K, "weights0")
    tol = _v.check_real(tol, "tol", low=0.0, low_open=True)
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    step_size = _v.check_real(step_size, "step_size", low=0.0, low_open=True)
    method = _check_method(method)
    w, _, _, policy, values, norms, k, converged = _gradient_ascent(
        prob.value_and_grad, w0, tol=tol, max_iter=max_iter, step_size=step_size, name="mce_irl", method=method
    )
    reward = prob.phi @ w
    if prob.state_features:
        reward = reward[:, 0]
    return IRLResult(
        weights=w, reward=reward, policy=policy, log_likelihood=values,
        grad_norm=norms, n_iterations=k, converged=converged,
    )
