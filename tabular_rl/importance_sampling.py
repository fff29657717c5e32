r"""Off-policy evaluation by importance sampling: a target policy's finite-horizon
discounted return estimated from episodes of a behavior policy.

Conventions:

* Episodes are :class:`~tabular_rl.sampling.Trajectories` of H steps drawn from
  the behavior policy b (stationary (S, A) or time-varying (H, S, A));
  the target e is stationary or time-varying likewise.
* The estimated quantity is the target's finite-horizon discounted return
  :math:`J_H(e) = E_e[\sum_{t=0}^{H-1}\gamma^t r_t]` from the episodes' start
  distribution, i.e. ``finite_horizon_values(mdp, e, H).J``.
* Per-step ratios :math:`\rho_t = e_t(a_t|s_t)/b_t(a_t|s_t)`, cumulative
  :math:`c_t = \prod_{k=0}^{t}\rho_k`, trajectory weight :math:`W = c_{H-1}` (1 when H = 0).
* Coverage: b must give positive probability to every action e takes
  (:math:`e(a|s) > 0 \Rightarrow b(a|s) > 0`); otherwise a ``ValueError`` names the
  step, state and action.
"""


import numpy as np

from . import _validation as _v
from .sampling import check_trajectories

__all__ = [
    "cumulative_ratios",
    "ordinary_importance_sampling",
    "ordinary_importance_sampling_samples",
    "per_decision_importance_sampling",
    "per_decision_importance_sampling_samples",
    "per_step_ratios",
    "trajectory_weights",
    "weighted_importance_sampling",
]


def _as_time_varying(pi, H):
    return np.broadcast_to(pi, (H,) + pi.shape) if pi.ndim == 2 else pi


def _check_inputs(trajectories, target, behavior):
    """Validate (trajectories, target, behavior); return (traj, e (H,S,A), b (H,S,A))."""
    check_trajectories(trajectories)
    H = trajectories.horizon
    e = _v.as_float_array(target, "target")
    if e.ndim not in (2, 3) or 0 in e.shape[-2:]:
        raise ValueError(f"target must have shape (S, A) or ({H}, S, A) with S, A >= 1, got {e.shape}")
    S, A = e.shape[-2:]
    e = _v.check_policy(e, (S, A), "target", horizon=H, time_varying=True)
    b = _v.check_policy(behavior, (S, A), "behavior", horizon=H, time_varying=True)
    trajectories.check_against((S, A), "trajectories")
    time_varying = e.ndim == 3 or b.ndim == 3
    e, b = _as_time_varying(e, H), _as_time_varying(b, H)
    uncovered = (e > 0) & (b <= 0)
    if np.any(uncovered):
        t, s, a = (int(i) for i in np.argwhere(uncovered)[0])
        when = f" at step {t}" if time_varying else ""
        raise ValueError(
            f"behavior gives zero probability to action {a} in state {s}{when}, which target takes with "
            f"probability {e[t, s, a]:.6g}; importance sampling needs behavior(a|s) > 0 wherever target(a|s) > 0"
        )
    if H:
        steps = np.arange(H)[None, :]
        p_b = b[steps, trajectories.states[:, :H], trajectories.actions]
        if np.any(p_b <= 0):
            n, t = (int(i) for i in np.argwhere(p_b <= 0)[0])
            raise ValueError(
                f"trajectories episode {n} takes action {trajectories.actions[n, t]} in state "
                f"{trajectories.states[n, t]} at step {t}, which behavior gives probability 0; "
                "were the trajectories drawn from behavior?"
            )
    return trajectories, e, b


def _ratios(trajectories, e, b):
    H = trajectories.horizon
    steps = np.arange(H)[None, :]
    s, a = trajectories.states[:, :H], trajectories.actions
    return e[steps, s, a] / b[steps, s, a]


def per_step_ratios(trajectories, target, behavior):
    r"""Per-step importance ratios :math:`\rho_t = e_t(a_t|s_t) / b_t(a_t|s_t)`, shape (N, H).

    Parameters
    ----------
    trajectories : Trajectories
        N episodes of H steps drawn from ``behavior``.
    target, behavior : array_like, shape (S, A) or (H, S, A)
        Stationary or time-varying policies.

    Returns
    -------
    ndarray, shape (N, H)

    Raises
    ------
    ValueError
        If behavior gives probability 0 to an action target takes (naming state and action), if an episode takes
        an action behavior cannot take, or on shape mismatches.
    TypeError
        If ``trajectories`` is not a :class:`~tabular_rl.Trajectories`.

    References
    ----------
    Precup, Sutton, Singh, "Eligibility Traces for Off-Policy Policy Evaluation", ICML 2000.

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    >>> per_step_ratios(tr, target=[[0.9, 0.1]], behavior=[[0.5, 0.5]])
    array([[1.8, 0.2]])
    """
    trajectories, e, b = _check_inputs(trajectories, target, behavior)
    return _ratios(trajectories, e, b)


def cumulative_ratios(trajectories, target, behavior):
    r"""Cumulative ratios :math:`c_t = \prod_{k=0}^{t}\rho_k`, t = 0..H-1, shape (N, H).

    :math:`c_t` is the likelihood ratio of the first t+1 actions, the weight of
    reward :math:`r_t` in per-decision IS. Arguments as in :func:`per_step_ratios`.

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    >>> cumulative_ratios(tr, target=[[0.9, 0.1]], behavior=[[0.5, 0.5]])
    array([[1.8 , 0.36]])
    """
    trajectories, e, b = _check_inputs(trajectories, target, behavior)
    return np.cumprod(_ratios(trajectories, e, b), axis=1)


def trajectory_weights(trajectories, target, behavior):
    r"""Trajectory importance weights :math:`W = \prod_{t=0}^{H-1}\rho_t`, shape (N,) (1 when H = 0).

    :math:`E_b[W] = 1` and :math:`E_b[W^2] = E_e[W]`; for state-independent i.i.d.
    steps :math:`E_b[W^2] = (1+\chi^2(e\|b))^H`, exponential in H.
    Arguments as in :func:`per_step_ratios`.

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    >>> trajectory_weights(tr, target=[[0.9, 0.1]], behavior=[[0.5, 0.5]])
    array([0.36])
    """
    trajectories, e, b = _check_inputs(trajectories, target, behavior)
    return np.prod(_ratios(trajectories, e, b), axis=1)


def _discounted(trajectories, gamma):
    gamma = _v.check_real(gamma, "gamma", low=0.0, high=1.0)
    return trajectories.rewards * gamma ** np.arange(trajectories.horizon)


def ordinary_importance_sampling_samples(trajectories, target, behavior, gamma):
    r"""Per-episode ordinary (trajectory) IS terms :math:`W_i G_i`, shape (N,), with :math:`G_i = \sum_t\gamma^t r^i_t`.

    Their mean is :func:`ordinary_importance_sampling`; their variance under b is
    :math:`E_e[W G^2] - J_H(e)^2`.

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    >>> ordinary_importance_sampling_samples(tr, [[0.9, 0.1]], [[0.5, 0.5]], 0.5)     # 0.36 * 1.5
    array([0.54])
    """
    trajectories, e, b = _check_inputs(trajectories, target, behavior)
    disc_r = _discounted(trajectories, gamma)
    return np.prod(_ratios(trajectories, e, b), axis=1) * disc_r.sum(axis=1)


def ordinary_importance_sampling(trajectories, target, behavior, gamma):
    r"""Ordinary (trajectory-wise) importance-sampling estimate of the target's finite-horizon return.

    .. math::

        \hat J_{IS} = \frac1N\sum_{i=1}^N W_i G_i, \qquad
        W_i = \prod_{t=0}^{H-1}\frac{e(a^i_t|s^i_t)}{b(a^i_t|s^i_t)},\quad
        G_i = \sum_{t=0}^{H-1}\gamma^t r^i_t .

    Unbiased for :math:`J_H(e)` (``finite_horizon_values(mdp, target, H).J``) when
    b covers e; its variance is :math:`(E_e[W G^2] - J_H(e)^2)/N`, which can grow
    exponentially in H.

    Parameters
    ----------
    trajectories : Trajectories
        N episodes of H steps drawn from ``behavior``.
    target, behavior : array_like, shape (S, A) or (H, S, A)
    gamma : float in [0, 1]

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If behavior does not cover target (naming the state and action), or on bad shapes / gamma.

    References
    ----------
    Precup, Sutton, Singh, ICML 2000, Sec. 2; lecture slides "Importance Sampling" (variance formula).

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0], [0, 0]], actions=[[0], [1]], rewards=[[1.0], [0.0]])
    >>> ordinary_importance_sampling(tr, target=[[0.9, 0.1]], behavior=[[0.5, 0.5]], gamma=0.9)
    0.9
    """
    return float(np.mean(ordinary_importance_sampling_samples(trajectories, target, behavior, gamma)))


def per_decision_importance_sampling_samples(trajectories, target, behavior, gamma):
    r"""Per-episode per-decision IS terms :math:`\sum_t\gamma^t c^i_t r^i_t`, shape (N,).

    Their mean is :func:`per_decision_importance_sampling`.

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    >>> per_decision_importance_sampling_samples(tr, [[0.9, 0.1]], [[0.5, 0.5]], 0.5)  # 1.8 + 0.5 * 0.36
    array([1.98])
    """
    trajectories, e, b = _check_inputs(trajectories, target, behavior)
    disc_r = _discounted(trajectories, gamma)
    return np.sum(np.cumprod(_ratios(trajectories, e, b), axis=1) * disc_r, axis=1)


def per_decision_importance_sampling(trajectories, target, behavior, gamma):
    r"""Per-decision importance-sampling estimate of the target's finite-horizon return.

    .. math::

        \hat J_{PDIS} = \frac1N\sum_{i=1}^N\sum_{t=0}^{H-1}\gamma^t
            \Big(\prod_{k=0}^{t}\rho^i_k\Big) r^i_t .

    Reward :math:`r_t` is weighted only by the ratios of the actions up to t (later
    actions cannot affect it), so the estimator stays unbiased and is often lower
    variance than :func:`ordinary_importance_sampling`.

    Parameters and errors as in :func:`ordinary_importance_sampling`.

    Returns
    -------
    float

    References
    ----------
    Precup, Sutton, Singh, "Eligibility Traces for Off-Policy Policy Evaluation", ICML 2000, Sec. 3.

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    >>> per_decision_importance_sampling(tr, [[0.9, 0.1]], [[0.5, 0.5]], 0.5)
    1.98
    """
    return float(np.mean(per_decision_importance_sampling_samples(trajectories, target, behavior, gamma)))


def weighted_importance_sampling(trajectories, target, behavior, gamma):
    r"""Weighted (self-normalised) importance-sampling estimate of the target's finite-horizon return.

    .. math::

        \hat J_{WIS} = \frac{\sum_i W_i G_i}{\sum_i W_i}
        \qquad (0 \text{ when every } W_i = 0).

    Biased but consistent, and bounded in :math:`[\min_i G_i, \max_i G_i]`. With a
    single episode it returns that episode's return, so its expectation is the
    **behavior's** :math:`J_H(b)`, not the target's.

    Parameters and errors as in :func:`ordinary_importance_sampling`.

    Returns
    -------
    float

    References
    ----------
    Precup, Sutton, Singh, ICML 2000; Mahmood, van Hasselt, Sutton, "Weighted importance sampling for off-policy
    learning with linear function approximation", NeurIPS 2014 (0/0 := 0).

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0], [0, 0]], actions=[[0], [1]], rewards=[[1.0], [0.0]])
    >>> round(weighted_importance_sampling(tr, target=[[0.9, 0.1]], behavior=[[0.5, 0.5]], gamma=0.9), 12)
    0.9
    """
    trajectories, e, b = _check_inputs(trajectories, target, behavior)
    G = _discounted(trajectories, gamma).sum(axis=1)
    W = np.prod(_ratios(trajectories, e, b), axis=1)
    total = W.sum()
    if total == 0:
        return 0.0
    return float(W @ G / total)
