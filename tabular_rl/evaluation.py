r"""Exact policy evaluation: values, Q, advantages, the objective J, discounted
visitation and occupancy, infinite and finite horizon.

Conventions (shared/MATH.md section 0; the README's conventions table):

* Values are unnormalised: :math:`V^\pi(s) = E[\sum_{t\ge0}\gamma^t r(s_t,a_t) | s_0=s]`.
* :math:`J(\pi) = \mu^\top V^\pi`.
* ``discounted_visitation`` is **normalised**: :math:`d^\pi_\mu = (1-\gamma)\mu^\top(I-\gamma P_\pi)^{-1}`,
  summing to 1. ``discounted_visitation_unnormalized`` is :math:`d/(1-\gamma)` (TRPO's
  :math:`\rho_\pi`), summing to :math:`1/(1-\gamma)`.
* ``occupancy_measure`` is :math:`\rho(s,a) = d(s)\pi(a|s)`, summing to 1.
* A finite horizon H counts the H decision steps t = 0..H-1: :math:`V_H = 0`.

Every infinite-horizon quantity is one LU solve of :math:`(I - \gamma P_\pi)`
(``scipy.linalg.lu_factor`` dense, ``scipy.sparse.linalg.splu`` sparse); never an
inverse, never an iteration.
"""

import dataclasses
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from . import _kernels
from . import _validation as _v

__all__ = [
    "FiniteHorizonEvaluation",
    "PolicyEvaluation",
    "advantages",
    "bellman_residual",
    "discounted_visitation",
    "discounted_visitation_unnormalized",
    "evaluate",
    "expected_return",
    "finite_horizon_values",
    "occupancy_measure",
    "policy_evaluation",
    "q_values",
    "state_distributions",
]

#: Column ordering for sparse LU; chosen by measurement (``python benchmarks/run.py --lu 256 512 1024``):
#: on slippery gridworlds, whose P_pi is structurally symmetric, the minimum-degree ordering of
#: A + A^T halves the fill of COLAMD and factors 1.4x (256x256), 3.2x (512x512) and 3.4x (1024x1024)
#: faster; NATURAL is 30x slower already at 256x256.
SPARSE_PERMC_SPEC = "MMD_AT_PLUS_A"


class _Resolvent:
    """One LU factorisation of :math:`I - \\gamma P_\\pi`, solved from either side."""

    def __init__(self, mdp, pi, what="this quantity"):
        _v.check_infinite_horizon(mdp, what)
        self.gamma = mdp.gamma
        self.P_pi = mdp._transition_matrix(pi)
        S = mdp.n_states
        if sp.issparse(self.P_pi):
            M = (sp.identity(S, dtype=self.P_pi.dtype, format="csc") - self.gamma * self.P_pi).tocsc()
            self._lu = spla.splu(M, permc_spec=SPARSE_PERMC_SPEC)
            self._solve = lambda b, trans: self._lu.solve(np.ascontiguousarray(b), trans=trans)
        else:
            M = np.eye(S) - self.gamma * self.P_pi
            lu = sla.lu_factor(M, check_finite=False)
            self._solve = lambda b, trans: sla.lu_solve(lu, b, trans=(0 if trans == "N" else 1), check_finite=False)

    def _apply(self, x, trans):
        if trans == "N":
            return x - self.gamma * (self.P_pi @ x)
        return x - self.gamma * (self.P_pi.T @ x)

    def solve(self, b, trans="N"):
        """Solve (I - gamma P_pi) x = b (``trans='N'``) or its transpose (``'T'``), with one
        step of iterative refinement if the residual is above round-off."""
        x = self._solve(b, trans)
        scale = np.max(np.abs(b)) / (1.0 - self.gamma) if b.size else 0.0
        res = b - self._apply(x, trans)
        tol = 1e-13 * (1.0 + scale)
        if np.max(np.abs(res), initial=0.0) > tol:
            x = x + self._solve(res, trans)
            res = b - self._apply(x, trans)
            if np.max(np.abs(res), initial=0.0) > 1e3 * tol:
                warnings.warn(
                    f"linear solve residual {np.max(np.abs(res)):.3g} exceeds {1e3 * tol:.3g} after refinement; "
                    "the MDP may be nearly undiscounted (gamma close to 1): lower gamma or use a finite horizon",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return x


@dataclasses.dataclass(frozen=True, eq=False)
class PolicyEvaluation:
    r"""Everything exact about one stationary policy, from one factorisation.

    Attributes
    ----------
    V : ndarray, shape (S,)
        :math:`V^\pi = (I - \gamma P_\pi)^{-1} r_\pi`.
    Q : ndarray, shape (S, A)
        :math:`Q^\pi = r + \gamma P V^\pi`.
    adv : ndarray, shape (S, A)
        :math:`A^\pi = Q^\pi - V^\pi`.
    J : float
        :math:`\mu^\top V^\pi`.
    d : ndarray, shape (S,)
        Normalised discounted state visitation, sums to 1.
    rho : ndarray, shape (S, A)
        Normalised occupancy :math:`d(s)\pi(a|s)`, sums to 1.
    """

    V: np.ndarray
    Q: np.ndarray
    adv: np.ndarray
    J: float
    d: np.ndarray
    rho: np.ndarray


def _evaluate(mdp, pi, *, visitation=True, what="policy evaluation"):
    solver = _Resolvent(mdp, pi, what)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    V = solver.solve(r_pi)
    Q = mdp.R + mdp.gamma * mdp.expected_next(V)
    d = None
    if visitation:
        d = (1.0 - mdp.gamma) * solver.solve(np.asarray(mdp.mu, dtype=V.dtype), "T")
    return V, Q, d


def evaluate(mdp, pi):
    """Exact evaluation of a stationary policy: V, Q, advantages, J, d and rho.

    One LU factorisation of :math:`I-\\gamma P_\\pi` serves both V (a solve) and the
    visitation (a transposed solve).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi : array_like, shape (S, A)

    Returns
    -------
    PolicyEvaluation

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, evaluate
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), R=[1.0], gamma=0.5)
    >>> ev = evaluate(mdp, [[1.0]])
    >>> ev.V, ev.J, ev.d
    (array([2.]), 2.0, array([1.]))
    """
    pi = _v.check_policy(pi, mdp)
    V, Q, d = _evaluate(mdp, pi)
    adv = Q - V[:, None]
    J = float(np.real(mdp.mu @ V)) if not np.iscomplexobj(V) else mdp.mu @ V
    return PolicyEvaluation(V=V, Q=Q, adv=adv, J=J, d=d, rho=d[:, None] * pi)


def policy_evaluation(mdp, pi):
    r"""State values of a stationary policy by an exact linear solve.

    .. math:: V^\pi = (I - \gamma P_\pi)^{-1} r_\pi

    solved by LU (``scipy.linalg.lu_factor`` for dense transitions,
    ``scipy.sparse.linalg.splu`` for sparse ones), with one step of iterative
    refinement when the residual exceeds round-off. Never an explicit inverse,
    never value iteration.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi : array_like, shape (S, A)

    Returns
    -------
    V : ndarray, shape (S,)

    Raises
    ------
    ValueError
        If ``mdp.gamma == 1`` or ``pi`` is not a policy for ``mdp``.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, policy_evaluation
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])        # 0 -> 1 -> 1 -> ...
    >>> mdp = TabularMDP(P, R=[1.0, 2.0], gamma=0.5)
    >>> policy_evaluation(mdp, [[1.0], [1.0]])              # 1 + 0.5 * 4, 2 / (1 - 0.5)
    array([3., 4.])
    """
    pi = _v.check_policy(pi, mdp)
    return _evaluate(mdp, pi, visitation=False)[0]


def q_values(mdp, pi):
    r"""Action values :math:`Q^\pi(s,a) = r(s,a) + \gamma\sum_{s'}P(s'|s,a)V^\pi(s')`, shape (S, A)."""
    pi = _v.check_policy(pi, mdp)
    return _evaluate(mdp, pi, visitation=False)[1]


def advantages(mdp, pi):
    r"""Advantages :math:`A^\pi = Q^\pi - V^\pi`, shape (S, A); :math:`\sum_a\pi(a|s)A^\pi(s,a)=0`."""
    pi = _v.check_policy(pi, mdp)
    V, Q, _ = _evaluate(mdp, pi, visitation=False)
    return Q - V[:, None]


def expected_return(mdp, pi):
    r"""The objective :math:`J(\pi) = \mu^\top V^\pi = E[\sum_t\gamma^t r_t]`, a float."""
    pi = _v.check_policy(pi, mdp)
    V = _evaluate(mdp, pi, visitation=False)[0]
    return float(mdp.mu @ V) if not np.iscomplexobj(V) else mdp.mu @ V


def discounted_visitation(mdp, pi, *, mu=None):
    r"""Normalised discounted state visitation, summing to 1.

    .. math:: d^\pi_\mu(s) = (1-\gamma)\sum_{t\ge0}\gamma^t \Pr(s_t = s),\qquad
              d^{\pi\top}_\mu = (1-\gamma)\,\mu^\top (I-\gamma P_\pi)^{-1}

    computed by one transposed LU solve. This is the d of Agarwal et al. (2021)
    and Achiam et al. (2017); TRPO's unnormalised :math:`\rho_\pi` is
    :func:`discounted_visitation_unnormalized`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi : array_like, shape (S, A)
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``.

    Returns
    -------
    d : ndarray, shape (S,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, discounted_visitation
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.75, mu=[1.0, 0.0])
    >>> discounted_visitation(mdp, [[1.0], [1.0]])          # 1 - gamma at the start, the rest after
    array([0.25, 0.75])
    """
    pi = _v.check_policy(pi, mdp)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    solver = _Resolvent(mdp, pi, "discounted_visitation")
    return (1.0 - mdp.gamma) * solver.solve(np.asarray(mu, dtype=np.result_type(pi, float)), "T")


def discounted_visitation_unnormalized(mdp, pi, *, mu=None):
    r"""Unnormalised discounted visitation :math:`\rho_\pi(s) = \sum_t \gamma^t\Pr(s_t=s)`,
    summing to :math:`1/(1-\gamma)` (TRPO's :math:`\rho_\pi`)."""
    return discounted_visitation(mdp, pi, mu=mu) / (1.0 - mdp.gamma)


def occupancy_measure(mdp, pi):
    r"""Normalised state-action occupancy :math:`\rho^\pi(s,a) = d^\pi_\mu(s)\pi(a|s)`, summing to 1.

    It satisfies the normalised Bellman flow
    :math:`\sum_a\rho(s',a) = (1-\gamma)\mu(s') + \gamma\sum_{s,a}P(s'|s,a)\rho(s,a)`,
    and :math:`J = \sum_{s,a}\rho(s,a) r(s,a) / (1-\gamma)`.
    """
    pi = _v.check_policy(pi, mdp)
    return discounted_visitation(mdp, pi)[:, None] * pi


def bellman_residual(mdp, pi, V):
    r"""Max-norm residual :math:`\|r_\pi + \gamma P_\pi V - V\|_\infty` of the Bellman equation.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A)
    V : array_like, shape (S,)

    Returns
    -------
    float
    """
    pi = _v.check_policy(pi, mdp)
    V = _v.check_shape(_v.as_float_array(V, "V"), (mdp.n_states,), "V")
    _v.check_finite(V, "V")
    backup = np.einsum("sa,sa->s", pi, mdp.R + mdp.gamma * mdp.expected_next(V))
    return float(np.max(np.abs(backup - V)))


@dataclasses.dataclass(frozen=True, eq=False)
class FiniteHorizonEvaluation:
    r"""Finite-horizon evaluation over decision steps t = 0..H-1.

    Attributes
    ----------
    V : ndarray, shape (H+1, S)
        :math:`V_t`, with :math:`V_H = 0`; :math:`V_t` counts the rewards of steps t..H-1.
    Q : ndarray, shape (H, S, A)
        :math:`Q_t = r + \gamma P V_{t+1}`.
    d : ndarray, shape (H, S)
        Undiscounted forward state distributions :math:`d_0 = \mu`,
        :math:`d_{t+1} = d_t P_{\pi_t}`; each row sums to 1.
    J : float
        :math:`\mu^\top V_0 = \sum_t \gamma^t d_t^\top r_{\pi_t}`.
    """

    V: np.ndarray
    Q: np.ndarray
    d: np.ndarray
    J: float


def _finite_horizon_backward(mdp, pi, horizon):
    S, A = mdp.shape
    V = np.zeros((horizon + 1, S), dtype=np.result_type(pi, float))
    Q = np.empty((horizon, S, A), dtype=V.dtype)
    for t in range(horizon - 1, -1, -1):
        Q[t] = mdp.R + mdp.gamma * mdp.expected_next(V[t + 1])
        pi_t = pi if pi.ndim == 2 else pi[t]
        V[t] = np.einsum("sa,sa->s", pi_t, Q[t])
    return V, Q


def finite_horizon_values(mdp, pi, horizon, *, mu=None):
    r"""Exact finite-horizon evaluation of a stationary or time-varying policy, any gamma in [0, 1].

    Decision steps are t = 0..H-1; the value counts the rewards of those H steps:

    .. math::
        V_H = 0,\quad Q_t = r + \gamma P V_{t+1},\quad V_t(s) = \sum_a \pi_t(a|s) Q_t(s,a),

        d_0 = \mu,\quad d_{t+1}^\top = d_t^\top P_{\pi_t},\quad
        J = \mu^\top V_0 = \sum_{t=0}^{H-1}\gamma^t d_t^\top r_{\pi_t}.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (horizon, S, A)
    horizon : int >= 0
    mu : array_like, shape (S,), optional
        Start distribution for ``d`` and ``J``; default ``mdp.mu``.

    Returns
    -------
    FiniteHorizonEvaluation

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, finite_horizon_values
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), R=[1.0], gamma=1.0)
    >>> ev = finite_horizon_values(mdp, [[1.0]], horizon=3)
    >>> ev.V[:, 0], ev.J                                    # 3 rewards to go at t = 0, none at t = 3
    (array([3., 2., 1., 0.]), 3.0)
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    V, Q = _finite_horizon_backward(mdp, pi, horizon)
    d, _ = _kernels.forward_distributions(mdp, pi, horizon, mu)
    return FiniteHorizonEvaluation(V=V, Q=Q, d=d, J=float(np.real(mu @ V[0])))


def state_distributions(mdp, pi, horizon, *, p0=None):
    r"""Undiscounted state distributions :math:`d_t`, t = 0..horizon-1, shape (horizon, S).

    :math:`d_0 = p_0` (default ``mdp.mu``) and
    :math:`d_{t+1}(s') = \sum_{s,a} d_t(s)\pi_t(a|s)P(s'|s,a)`; each row sums to 1.
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True)
    p0 = mdp.mu if p0 is None else _v.check_distribution(p0, "p0", mdp.n_states)
    return _kernels.forward_distributions(mdp, pi, horizon, p0)[0]
