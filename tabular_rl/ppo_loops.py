r"""PPO's update loops on a known MDP and their results.

* :func:`ppo_clip_exact` and :func:`ppo_kl_exact` ascend the exact objectives of
  :mod:`tabular_rl.ppo_surrogates`;
* :func:`sampled_ppo_clip` runs the same update from rollouts (``tabular_rl.sampling.rollout``) and GAE
  (``tabular_rl.advantage_estimation.gae``), and reports the same exact diagnostics so the two can be
  compared;
* :class:`PPOResult`, :class:`SampledPPOResult` and :class:`PPOHistory` hold what they return. Every loop
  records, for each step, CPO's Corollary 1 bounds (:func:`tabular_rl.bounds.performance_bounds`), which
  the realised improvement must satisfy.

All are importable from :mod:`tabular_rl.ppo`; the algorithms are described in docs/guide/ppo.md.
"""

import dataclasses

import numpy as np
import scipy.sparse as sp

from . import _validation as _v
from . import bounds as _b
from .evaluation import _sparse_lu
from .policies import softmax
from .ppo_losses import _check_epsilon, _clip_active, _clip_terms, adapt_kl_coefficient
from .ppo_surrogates import _check_theta, _clip_grad_pi, _ratios, _softmax_backward
from .sampling import rollout

__all__ = [
    "PPOHistory",
    "PPOResult",
    "SampledPPOResult",
    "ppo_clip_exact",
    "ppo_kl_exact",
    "sampled_ppo_clip",
]


# --------------------------------------------------------------------------------------------
# exact update loops


@dataclasses.dataclass(frozen=True, eq=False)
class PPOHistory:
    r"""Per-iteration diagnostics of a PPO run; iteration k maps :math:`\pi_k` to :math:`\pi_{k+1}`.

    All quantities are exact (computed on the MDP), also for :func:`sampled_ppo_clip`.

    Attributes
    ----------
    J : ndarray, shape (K+1,)
        :math:`J(\pi_k)` for k = 0..K (the last entry is the returned policy's).
    kl : ndarray, shape (K,)
        :math:`\sum_s d_k(s)KL(\pi_k\|\pi_{k+1})[s]` (old first).
    beta : ndarray, shape (K,)
        The penalty coefficient used in step k (0 for PPO-clip, which has none).
    clip_fraction : ndarray, shape (K,)
        Probability mass :math:`\sum_{s,a}d_k(s)\pi_k(a|s)\mathbb 1[\text{clip active}]` of the
        pairs whose gradient the clip removes at :math:`\pi_{k+1}` (A > 0, r > 1+eps or
        A < 0, r < 1-eps, with the exact :math:`A^{\pi_k}`).
    surrogate : ndarray, shape (K,)
        :math:`L_{\pi_k}(\pi_{k+1})`.
    lower_bound, upper_bound : ndarray, shape (K,)
        CPO Corollary 1 bounds on :math:`J(\pi_{k+1}) - J(\pi_k)` (:func:`tabular_rl.bounds.performance_bounds`).

    Examples
    --------
    The ``history`` of :class:`PPOResult`. One state, two actions paying 1 and 0,
    gamma = 0.5, one PPO-clip epoch of rate 1 from the uniform policy (J = 1): the first
    epoch starts at ratio 1, so it is a plain policy-gradient step to logits (0.5, -0.5)
    and policy (0.731, 0.269), J = 2 * 0.731. Both ratios (1.46 and 0.54) then lie
    outside [0.8, 1.2] on the side the clip cuts: the clip is active on all the mass.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import ppo_clip_exact
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> hist = ppo_clip_exact(mdp, np.zeros((1, 2)), n_iterations=1, n_epochs=1).history
    >>> hist.J, hist.clip_fraction, hist.beta               # PPO-clip has no penalty coefficient
    (array([1.        , 1.46211716]), array([1.]), array([0.]))
    >>> hist.improvement, hist.surrogate                    # one state: the surrogate is exact
    (array([0.46211716]), array([0.46211716]))
    >>> bool(hist.lower_bound[0] <= hist.improvement[0] <= hist.upper_bound[0])
    True
    >>> hist.kl.round(4)                                    # 0.5 log(0.5/0.731) + 0.5 log(0.5/0.269)
    array([0.1201])
    """

    J: np.ndarray
    kl: np.ndarray
    beta: np.ndarray
    clip_fraction: np.ndarray
    surrogate: np.ndarray
    lower_bound: np.ndarray
    upper_bound: np.ndarray

    @property
    def improvement(self):
        """:math:`J(\\pi_{k+1}) - J(\\pi_k)`, shape (K,)."""
        return np.diff(self.J)


@dataclasses.dataclass(frozen=True, eq=False)
class PPOResult:
    """Result of an exact PPO run.

    Attributes
    ----------
    theta : ndarray, shape (S, A)
        Final logits.
    policy : ndarray, shape (S, A)
        ``softmax(theta)``.
    J : float
        Its exact objective.
    n_iterations : int
    history : PPOHistory

    Examples
    --------
    :func:`ppo_clip_exact` and :func:`ppo_kl_exact` return one. The run of
    :class:`PPOHistory`: one epoch of rate 1 from the uniform policy on the one-state
    bandit paying 1 and 0 (gamma = 0.5) adds the exact gradient
    2 * 0.5 * (0.5, -0.5) to the logits.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import ppo_clip_exact
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> res = ppo_clip_exact(mdp, np.zeros((1, 2)), n_iterations=1, n_epochs=1)
    >>> res.theta, res.policy                               # softmax: e / (1 + e), 1 / (1 + e)
    (array([[ 0.5, -0.5]]), array([[0.73105858, 0.26894142]]))
    >>> round(res.J, 6), res.n_iterations                   # 0.731 / (1 - 0.5)
    (1.462117, 1)
    """

    theta: np.ndarray
    policy: np.ndarray
    J: float
    n_iterations: int
    history: PPOHistory


class _Recorder:
    """Collects the exact per-step diagnostics from the old policy's evaluation (no extra solves)."""

    def __init__(self, epsilon):
        self.epsilon = epsilon
        self.rows = {k: [] for k in ("J", "kl", "beta", "clip_fraction", "surrogate", "lower_bound", "upper_bound")}

    def step(self, gamma, old, pi_old, pi_new, beta):
        parts = _b._cpo_parts(gamma, old.d, old.adv, pi_new, pi_old)
        active = _clip_active(_ratios(pi_new, pi_old), old.adv, self.epsilon) & (pi_old > 0)
        row = self.rows
        row["J"].append(old.J)
        row["kl"].append(_b._expectation(old.d, _b._kl_rows(pi_old, pi_new)))
        row["beta"].append(beta)
        row["clip_fraction"].append(float(old.d @ np.sum(pi_old * active, axis=1)))
        row["surrogate"].append(parts[0])
        row["lower_bound"].append(parts[0] - parts[3])
        row["upper_bound"].append(parts[0] + parts[3])

    def history(self, J_final):
        arrays = {k: np.array(v, dtype=float) for k, v in self.rows.items()}
        arrays["J"] = np.append(arrays["J"], J_final)
        return PPOHistory(**arrays)


def _check_loop(mdp, theta0, n_iterations, n_epochs, learning_rate, what):
    _v.check_infinite_horizon(mdp, what)
    theta = np.array(_check_theta(theta0, mdp, "theta0"), dtype=float)
    n_iterations = _v.check_int(n_iterations, "n_iterations", min_value=0)
    n_epochs = _v.check_int(n_epochs, "n_epochs", min_value=1)
    learning_rate = _v.check_real(learning_rate, "learning_rate", low=0.0, low_open=True)
    return theta, n_iterations, n_epochs, learning_rate


def ppo_clip_exact(mdp, theta0, *, n_iterations=20, n_epochs=10, learning_rate=1.0, epsilon=0.2):
    r"""PPO-clip on the exact MDP: each iteration ascends the exact clipped surrogate.

    For k = 0..K-1, with :math:`\pi_k = \mathrm{softmax}(\theta_k)`, run ``n_epochs`` full
    gradient-ascent steps :math:`\theta\leftarrow\theta + \eta\nabla_\theta L^{CLIP}_{\pi_k}(\mathrm{softmax}\,\theta)`
    (:func:`clipped_surrogate_gradient`) starting from :math:`\theta_k`. One exact evaluation of
    :math:`\pi_k` per iteration serves the gradient and every diagnostic of the step
    (:class:`PPOHistory`), including CPO's Corollary 1 bounds, which the realised
    improvement :math:`J(\pi_{k+1}) - J(\pi_k)` satisfies. Monotonic improvement is not
    guaranteed: the history shows when it happens and when it fails.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    theta0 : array_like, shape (S, A)
        Initial logits.
    n_iterations : int >= 0
    n_epochs : int >= 1
        Gradient steps on each surrogate.
    learning_rate : float > 0
    epsilon : float in [0, 1)

    Returns
    -------
    PPOResult

    References
    ----------
    Schulman et al. (2017), eq. (7) and Algorithm 1 (with exact expectations in place of
    minibatch estimates).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import ppo_clip_exact
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.9, mu=[1.0, 0.0])
    >>> res = ppo_clip_exact(mdp, np.zeros((2, 2)), n_iterations=5)
    >>> bool(np.all(np.diff(res.history.J) > 0)), round(res.J, 3)
    (True, 8.97)
    """
    theta, n_iterations, n_epochs, learning_rate = _check_loop(
        mdp, theta0, n_iterations, n_epochs, learning_rate, "ppo_clip_exact")
    epsilon = _check_epsilon(epsilon)
    gamma = mdp.gamma
    rec = _Recorder(epsilon)
    for _ in range(n_iterations):
        pi_old = softmax(theta)
        old = _b._evaluate_old(mdp, pi_old)
        w = old.eta[:, None]
        for _ in range(n_epochs):
            pi = softmax(theta)
            theta = theta + learning_rate * _softmax_backward(pi, w * _clip_grad_pi(pi_old, pi, old.adv, epsilon))
        rec.step(gamma, old, pi_old, softmax(theta), 0.0)
    pi = softmax(theta)
    J = _b._evaluate_old(mdp, pi).J
    return PPOResult(theta=theta, policy=pi, J=J, n_iterations=n_iterations, history=rec.history(J))


def ppo_kl_exact(mdp, theta0, *, n_iterations=20, n_epochs=10, learning_rate=1.0, beta=1.0, kl_target=0.01,
                 epsilon=0.2):
    r"""PPO with the adaptive KL penalty on the exact MDP.

    For k = 0..K-1: ``n_epochs`` gradient-ascent steps on
    :math:`L_{\pi_k}(\pi) - \beta_k\sum_s d_k(s)KL(\pi_k\|\pi)[s]`
    (:func:`kl_penalized_surrogate_gradient`), then measure
    :math:`d = \sum_s d_k(s)KL(\pi_k\|\pi_{k+1})[s]` and set
    :math:`\beta_{k+1}` = ``adapt_kl_coefficient(beta_k, d, kl_target)`` for the next step.
    ``history.beta[k]`` is the coefficient used in step k. One exact evaluation per iteration.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    theta0 : array_like, shape (S, A)
    n_iterations : int >= 0
    n_epochs : int >= 1
    learning_rate : float > 0
    beta : float > 0
        Initial coefficient (the paper finds it unimportant).
    kl_target : float > 0
    epsilon : float in [0, 1)
        Used only for the ``clip_fraction`` diagnostic (the objective has no clip).

    Returns
    -------
    PPOResult

    References
    ----------
    Schulman et al. (2017), eq. (8) and section 4.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import ppo_kl_exact
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.9, mu=[1.0, 0.0])
    >>> res = ppo_kl_exact(mdp, np.zeros((2, 2)), n_iterations=5)
    >>> bool(np.all(np.diff(res.history.J) > 0)), res.history.beta
    (True, array([1.  , 2.  , 1.  , 0.5 , 0.25]))
    """
    theta, n_iterations, n_epochs, learning_rate = _check_loop(
        mdp, theta0, n_iterations, n_epochs, learning_rate, "ppo_kl_exact")
    beta = _v.check_real(beta, "beta", low=0.0, low_open=True)
    kl_target = _v.check_real(kl_target, "kl_target", low=0.0, low_open=True)
    epsilon = _check_epsilon(epsilon)
    gamma = mdp.gamma
    rec = _Recorder(epsilon)
    for _ in range(n_iterations):
        pi_old = softmax(theta)
        old = _b._evaluate_old(mdp, pi_old)
        g_pi = old.eta[:, None] * old.adv
        for _ in range(n_epochs):
            pi = softmax(theta)
            grad = _softmax_backward(pi, g_pi) - beta * old.d[:, None] * (pi - pi_old)
            theta = theta + learning_rate * grad
        pi_new = softmax(theta)
        rec.step(gamma, old, pi_old, pi_new, beta)
        beta = adapt_kl_coefficient(beta, rec.rows["kl"][-1], kl_target)
    pi = softmax(theta)
    J = _b._evaluate_old(mdp, pi).J
    return PPOResult(theta=theta, policy=pi, J=J, n_iterations=n_iterations, history=rec.history(J))


# --------------------------------------------------------------------------------------------
# sampled PPO


def _estimated_values(mdp, trajectories):
    r"""Certainty-equivalence (batch TD(0)) tabular values from one batch of transitions.

    :math:`\hat P(s'|s) = n(s, s')/n(s)`, :math:`\hat r(s) = \sum r/n(s)`, then one exact sparse
    LU solve of :math:`(I - \gamma\hat P)V = \hat r`; states never left in the batch get V = 0.
    This is the fixed point of tabular TD(0) on the batch.
    """
    S = mdp.n_states
    s = trajectories.states[:, :-1].ravel()
    s2 = trajectories.states[:, 1:].ravel()
    counts = np.bincount(s, minlength=S).astype(float)
    inv = np.divide(1.0, counts, out=np.zeros(S), where=counts > 0)
    r_hat = np.bincount(s, weights=trajectories.rewards.ravel(), minlength=S) * inv
    C = sp.csr_matrix((inv[s], (s, s2)), shape=(S, S))  # duplicates are summed
    M = (sp.identity(S, format="csc") - mdp.gamma * C).tocsc()  # an M-matrix like I - gamma P_pi
    return _sparse_lu(M).solve(r_hat)


@dataclasses.dataclass(frozen=True, eq=False)
class SampledPPOResult:
    r"""Result of :func:`sampled_ppo_clip`.

    Attributes
    ----------
    theta, policy : ndarray, shape (S, A)
        Final logits and ``softmax(theta)``.
    J : float
        Exact objective of the final policy.
    n_iterations : int
    history : PPOHistory
        The exact diagnostics of each step, as for :func:`ppo_clip_exact` (``clip_fraction``
        uses the exact advantages).
    sample_objective : ndarray, shape (K,)
        :func:`sampled_clipped_surrogate_objective` at the end of each iteration's epochs.
    sample_clip_fraction : ndarray, shape (K,)
        Fraction of sampled steps whose clip is active (with the estimated advantages).
    value_error : ndarray, shape (K,)
        :math:`\max_s|\hat V(s) - V^{\pi_k}(s)|` of the values fed to GAE (0 with exact values).

    Examples
    --------
    :func:`sampled_ppo_clip` returns one. Two iterations on the one-state bandit paying 1
    and 0 (gamma = 0.5), from the uniform policy (J = 1), with the exact values (so no
    value error) and lambda = 0 (so each sampled advantage is the exact A = +-0.5 of the
    action taken). The samples decide the step; every step here moves towards action 0.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import sampled_ppo_clip
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> res = sampled_ppo_clip(mdp, np.zeros((1, 2)), rng=np.random.default_rng(0), n_iterations=2,
    ...                        n_episodes=8, horizon=4, lambda_=0.0)
    >>> res.n_iterations, res.value_error, float(res.history.J[0])
    (2, array([0., 0.]), 1.0)
    >>> bool(np.all(np.diff(res.history.J) > 0)), bool(res.policy[0, 0] > 0.5), bool(res.J == res.history.J[-1])
    (True, True, True)
    >>> res.sample_objective.shape, res.sample_clip_fraction.shape     # one entry per iteration
    ((2,), (2,))
    """

    theta: np.ndarray
    policy: np.ndarray
    J: float
    n_iterations: int
    history: PPOHistory
    sample_objective: np.ndarray
    sample_clip_fraction: np.ndarray
    value_error: np.ndarray


_VALUE_MODES = ("exact", "estimated")


def sampled_ppo_clip(mdp, theta0, *, rng, n_iterations=20, n_episodes=64, horizon=50, n_epochs=10,
                     learning_rate=1.0, epsilon=0.2, lambda_=0.95, values="exact"):
    r"""PPO-clip from samples on a known MDP, with the exact diagnostics of :func:`ppo_clip_exact`.

    Each iteration k:

    1. draw N episodes of H steps from :math:`\pi_k` with ``tabular_rl.sampling.rollout``;
    2. values for GAE: the exact :math:`V^{\pi_k}` (``values="exact"``) or the certainty-equivalence
       tabular estimate from the batch (``values="estimated"``: empirical :math:`\hat P_\pi,\hat r_\pi`
       and one LU solve, the fixed point of batch TD(0); unvisited states get 0);
    3. :math:`\hat A` = ``gae(rewards, V[states], gamma, lambda_)`` (the end of each episode is a
       truncation and bootstraps from :math:`V(s_H)`);
    4. ``n_epochs`` full-batch gradient-ascent steps on
       :func:`sampled_clipped_surrogate_objective` over tabular logits:
       :math:`\partial/\partial\theta_{s,b} = \frac1N\sum_{it:\,s_{it}=s}\gamma^t\,\ell'(r_{it},\hat A_{it})\,
       r_{it}(\mathbb 1[a_{it}=b] - \pi_\theta(b|s))`.

    The update is the sample version of the exact loop's (same objective scale, same learning
    rate meaning), so a run can be laid beside ``ppo_clip_exact`` with the same settings; with
    many episodes the two trajectories of J agree. The exact :math:`\pi_k` evaluation (one LU per
    iteration) serves only the diagnostics and the exact values.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    theta0 : array_like, shape (S, A)
    rng : numpy.random.Generator
        Required; the only source of randomness.
    n_iterations : int >= 0
    n_episodes : int >= 1
    horizon : int >= 1
    n_epochs : int >= 1
    learning_rate : float > 0
    epsilon : float in [0, 1)
    lambda_ : float in [0, 1]
    values : {"exact", "estimated"}

    Returns
    -------
    SampledPPOResult

    References
    ----------
    Schulman et al. (2017), Algorithm 1 and eq. (7), (11)-(12).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import sampled_ppo_clip
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.9, mu=[1.0, 0.0])
    >>> res = sampled_ppo_clip(mdp, np.zeros((2, 2)), rng=np.random.default_rng(0), n_iterations=5)
    >>> bool(res.J > res.history.J[0])
    True
    """
    from .advantage_estimation import gae

    theta, n_iterations, n_epochs, learning_rate = _check_loop(
        mdp, theta0, n_iterations, n_epochs, learning_rate, "sampled_ppo_clip")
    _v.check_rng(rng)
    n_episodes = _v.check_int(n_episodes, "n_episodes", min_value=1)
    horizon = _v.check_int(horizon, "horizon", min_value=1)
    epsilon = _check_epsilon(epsilon)
    lambda_ = _v.check_probability(lambda_, "lambda_")
    if values not in _VALUE_MODES:
        raise ValueError(f"values must be one of {_VALUE_MODES}, got {values!r}")
    gamma = mdp.gamma
    S, A = mdp.shape
    disc = gamma ** np.arange(horizon)
    rec = _Recorder(epsilon)
    sample_obj, sample_clip, value_err = [], [], []
    for _ in range(n_iterations):
        pi_old = softmax(theta)
        old = _b._evaluate_old(mdp, pi_old)
        traj = rollout(mdp, pi_old, n_episodes, horizon, rng=rng)
        V = old.V if values == "exact" else _estimated_values(mdp, traj)
        value_err.append(float(np.max(np.abs(V - old.V))))
        adv_hat = gae(traj.rewards, V[traj.states], gamma, lambda_)
        s, a = traj.states[:, :-1].ravel(), traj.actions.ravel()
        p_old = pi_old[s, a]
        weighted = (adv_hat * disc).ravel() / n_episodes
        for _ in range(n_epochs):
            pi = softmax(theta)
            r = pi[s, a] / p_old
            coef = np.where(_clip_active(r, weighted, epsilon), 0.0, weighted) * r
            grad = np.zeros((S, A))
            np.add.at(grad, (s, a), coef)
            grad -= pi * np.bincount(s, weights=coef, minlength=S)[:, None]
            theta = theta + learning_rate * grad
        pi_new = softmax(theta)
        r = pi_new[s, a] / p_old
        sample_obj.append(float(np.sum(_clip_terms(r, weighted, epsilon))))
        sample_clip.append(float(np.mean(_clip_active(r, weighted, epsilon))))
        rec.step(gamma, old, pi_old, pi_new, 0.0)
    pi = softmax(theta)
    J = _b._evaluate_old(mdp, pi).J
    return SampledPPOResult(
        theta=theta, policy=pi, J=J, n_iterations=n_iterations, history=rec.history(J),
        sample_objective=np.array(sample_obj), sample_clip_fraction=np.array(sample_clip),
        value_error=np.array(value_err),
    )
