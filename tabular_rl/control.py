r"""Optimal control: exact policy iteration, value iteration with a stated
error bound, and optimal finite-horizon dynamic programming.

Bellman optimality operator: :math:`(TV)(s) = \max_a [r(s,a) + \gamma\sum_{s'}P(s'|s,a)V(s')]`.
"""

import dataclasses
import warnings

import numpy as np

from . import _validation as _v
from .evaluation import _evaluate
from .policies import greedy

__all__ = [
    "ControlResult",
    "FiniteHorizonControl",
    "finite_horizon_optimal",
    "policy_iteration",
    "value_iteration",
]


@dataclasses.dataclass(frozen=True, eq=False)
class ControlResult:
    r"""Result of policy or value iteration.

    Attributes
    ----------
    policy : ndarray, shape (S, A)
        Deterministic one-hot policy.
    V : ndarray, shape (S,)
        Policy iteration: :math:`V^{\pi}` of the returned policy, exact (= V*).
        Value iteration: the last iterate :math:`V_{k+1}`, within ``error_bound`` of V*.
    Q : ndarray, shape (S, A)
        :math:`r + \gamma P V` for the ``V`` above.
    n_iterations : int
    converged : bool
    error_bound : float
        A bound on :math:`\|V - V^*\|_\infty` (0.0 for policy iteration, which is exact).
    """

    policy: np.ndarray
    V: np.ndarray
    Q: np.ndarray
    n_iterations: int
    converged: bool
    error_bound: float


def _switch_on_strict_improvement(Q, current):
    """Greedy actions that keep ``current`` unless another action is strictly better."""
    S = Q.shape[0]
    q_cur = Q[np.arange(S), current]
    best = np.argmax(Q, axis=1)
    scale = 1.0 + np.max(np.abs(Q), axis=1)
    better = Q[np.arange(S), best] > q_cur + 1e-12 * scale
    return np.where(better, best, current)


def policy_iteration(mdp, *, pi0=None, max_iter=10_000):
    r"""Howard's policy iteration with exact (LU) evaluation at every step.

    Each step evaluates :math:`\pi_k` exactly and sets :math:`\pi_{k+1}(s) \in \arg\max_a Q^{\pi_k}(s,a)`,
    switching an action only when another is strictly better (by more than
    1e-12 relative), so it cannot cycle among equal-value policies and stops at
    an optimal policy in at most :math:`A^S` steps. The values are
    monotonically non-decreasing.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi0 : array_like, shape (S, A), optional
        Initial policy; only its greedy action (lowest index among ties) is used.
        Default: action 0 everywhere.
    max_iter : int
        Cap on improvement steps; a ``RuntimeWarning`` names it if reached.

    Returns
    -------
    ControlResult
        ``V`` is :math:`V^{\pi}` of the returned policy, exact; ``error_bound`` is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, policy_iteration
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> res = policy_iteration(TabularMDP(P, R=[0.0, 1.0], gamma=0.9))
    >>> res.policy                                          # go to and stay in state 1
    array([[0., 1.],
           [0., 1.]])
    >>> res.V.round(10)
    array([ 9., 10.])
    """
    _v.check_infinite_horizon(mdp, "policy_iteration")
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    S, A = mdp.shape
    if pi0 is None:
        actions = np.zeros(S, dtype=np.intp)
    else:
        actions = np.argmax(_v.check_policy(pi0, mdp, "pi0"), axis=1)
    converged = False
    for k in range(1, max_iter + 1):
        pi = np.zeros((S, A))
        pi[np.arange(S), actions] = 1.0
        V, Q, _ = _evaluate(mdp, pi, visitation=False)
        new = _switch_on_strict_improvement(Q, actions)
        if np.array_equal(new, actions):
            converged = True
            break
        actions = new
    else:
        warnings.warn(
            f"policy_iteration stopped after max_iter={max_iter} improvement steps without a stable policy; "
            "increase max_iter",
            RuntimeWarning,
            stacklevel=2,
        )
    return ControlResult(policy=pi, V=V, Q=Q, n_iterations=k, converged=converged, error_bound=0.0)


def value_iteration(mdp, *, tol=1e-10, max_iter=100_000, V0=None):
    r"""Value iteration :math:`V_{k+1} = TV_k` with a stopping rule that bounds the error.

    Stops at the first k with :math:`\|V_{k+1}-V_k\|_\infty < \mathrm{tol}\,(1-\gamma)/(2\gamma)`.
    Then (Puterman 1994, Thm 6.3.1) the greedy policy is ``tol``-optimal and
    :math:`\|V_{k+1}-V^*\|_\infty \le \gamma\|V_{k+1}-V_k\|_\infty/(1-\gamma) < \mathrm{tol}/2`,
    which is reported as ``error_bound``. ``V`` is an iterate, not V*: use
    :func:`policy_iteration` for exact values.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    tol : float > 0
        Target suboptimality of the greedy policy.
    max_iter : int
        Cap; a ``RuntimeWarning`` names it (and ``tol``) if reached.
    V0 : array_like, shape (S,), optional
        Starting values; default zeros.

    Returns
    -------
    ControlResult

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, value_iteration
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> res = value_iteration(TabularMDP(P, R=[0.0, 1.0], gamma=0.9), tol=1e-8)
    >>> res.policy[:, 1], bool(res.error_bound < 1e-8)
    (array([1., 1.]), True)
    """
    _v.check_infinite_horizon(mdp, "value_iteration")
    tol = _v.check_real(tol, "tol", low=0.0, low_open=True)
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    gamma = mdp.gamma
    if V0 is None:
        V = np.zeros(mdp.n_states)
    else:
        # A NaN in V0 would make every delta NaN and run silently to max_iter.
        V = _v.check_finite(_v.check_shape(_v.as_float_array(V0, "V0"), (mdp.n_states,), "V0"), "V0").copy()
    threshold = tol * (1.0 - gamma) / (2.0 * gamma) if gamma > 0 else np.inf
    converged = False
    delta = np.inf
    for k in range(1, max_iter + 1):
        Q = mdp.R + gamma * mdp.expected_next(V)
        V_new = Q.max(axis=1)
        delta = float(np.max(np.abs(V_new - V)))
        V = V_new
        if delta < threshold or gamma == 0:
            converged = True
            break
    else:
        warnings.warn(
            f"value_iteration reached max_iter={max_iter} with ||V_k+1 - V_k|| = {delta:.3g} above the "
            f"stopping threshold {threshold:.3g} for tol={tol:g}; increase max_iter or tol",
            RuntimeWarning,
            stacklevel=2,
        )
    Q = mdp.R + gamma * mdp.expected_next(V)
    bound = gamma * delta / (1.0 - gamma)
    return ControlResult(policy=greedy(Q), V=V, Q=Q, n_iterations=k, converged=converged, error_bound=bound)


@dataclasses.dataclass(frozen=True, eq=False)
class FiniteHorizonControl:
    r"""Optimal finite-horizon policy over decision steps t = 0..H-1.

    Attributes
    ----------
    policy : ndarray, shape (H, S, A)
        Deterministic, time-varying (lowest action index among ties).
    V : ndarray, shape (H+1, S)
        :math:`V^*_t`, with :math:`V^*_H = 0`.
    Q : ndarray, shape (H, S, A)
    J : float
        :math:`\mu^\top V^*_0`.
    """

    policy: np.ndarray
    V: np.ndarray
    Q: np.ndarray
    J: float


def finite_horizon_optimal(mdp, horizon):
    r"""Optimal finite-horizon dynamic programming, any gamma in [0, 1].

    .. math:: V^*_H = 0,\quad Q^*_t = r + \gamma P V^*_{t+1},\quad V^*_t = \max_a Q^*_t

    Parameters
    ----------
    mdp : TabularMDP
    horizon : int >= 0
        Number of decision steps.

    Returns
    -------
    FiniteHorizonControl

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, finite_horizon_optimal
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> res = finite_horizon_optimal(TabularMDP(P, R=[0.0, 1.0], gamma=1.0), horizon=2)
    >>> res.V
    array([[1., 2.],
           [0., 1.],
           [0., 0.]])
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    S, A = mdp.shape
    V = np.zeros((horizon + 1, S))
    Q = np.empty((horizon, S, A))
    for t in range(horizon - 1, -1, -1):
        Q[t] = mdp.R + mdp.gamma * mdp.expected_next(V[t + 1])
        V[t] = Q[t].max(axis=1)
    policy = greedy(Q) if horizon else np.empty((0, S, A))
    return FiniteHorizonControl(policy=policy, V=V, Q=Q, J=float(mdp.mu @ V[0]))
