r"""Monotonic improvement theory, exactly: the performance difference lemma [KL02]_ and
the relative policy performance bounds of TRPO [TRPO]_, CPO [CPO]_ and CPI [KL02]_.

Every function here compares a new policy :math:`\pi'` (``pi_new``) with an old
one :math:`\pi` (``pi_old``) and takes them **in that order**,
``f(mdp, pi_new, pi_old)``, following the statement "J(pi') - J(pi) >= ...".
(``tabular_rl.ppo.surrogate_objective`` takes ``(mdp, pi_old, pi_new)``: its
order is pinned by the PPO API.)

Conventions (docs/guide/bounds.md#conventions):

* values are unnormalised, :math:`J(\pi) = \mu^\top V^\pi`;
* :math:`d^\pi` is the **normalised** discounted visitation (sums to 1), so every
  expectation over it carries an explicit :math:`1/(1-\gamma)`;
* the surrogate is :math:`L_\pi(\pi') = \frac{1}{1-\gamma}\sum_s d^\pi(s)\sum_a\pi'(a|s)A^\pi(s,a)`,
  without :math:`J(\pi)` (TRPO's :math:`L^{TRPO}_\pi(\pi') = J(\pi) + L_\pi(\pi')`);
* every bound is returned as a bound on the **difference** :math:`J(\pi') - J(\pi)`;
  add the result's ``J_old`` for a bound on :math:`J(\pi')` itself;
* :math:`D_{TV}(p, q) = \tfrac12\sum_a|p_a - q_a|`, :math:`KL(p\|q) = \sum_a p_a\log(p_a/q_a)`;
* gamma = 1 (an MDP with terminal states, proper policies): :func:`performance_difference` and
  :func:`surrogate_remainder` hold with :math:`d/(1-\gamma)` replaced by the expected visits
  before termination (the lemma's proof telescopes along each episode); every bound has a
  factor :math:`1/(1-\gamma)^2` or :math:`1/(1-\gamma)` and raises ``ValueError``.

Each call makes one exact evaluation (one LU factorisation) of the old policy,
and a second (of the new policy) only where the quantity needs the new
policy's visitation (:func:`performance_difference`, :func:`surrogate_remainder`,
:func:`visitation_difference_bound`).

References
----------
.. [KL02] S. Kakade and J. Langford, "Approximately optimal approximate
   reinforcement learning", ICML 2002, Lemma 6.1 and Corollary 4.2.
.. [TRPO] J. Schulman, S. Levine, P. Moritz, M. Jordan, P. Abbeel, "Trust
   region policy optimization", ICML 2015, eq. (1)-(6), Theorem 1, eq. (9), Algorithm 1.
.. [CPO] J. Achiam, D. Held, A. Tamar, P. Abbeel, "Constrained policy
   optimization", ICML 2017, Theorem 1, Corollaries 1 and 3, Lemma 3, Proposition 1.
"""

import dataclasses

import numpy as np

from . import _validation as _v
from .evaluation import _evaluate, _normalise_visitation, _Resolvent, _visitation_unnormalized

__all__ = [
    "CPIBound",
    "KLPerformanceBounds",
    "PerformanceBounds",
    "TRPOBounds",
    "TrustRegionBound",
    "VisitationDifference",
    "cpi_mixture_bound",
    "kl_performance_bounds",
    "minorize_maximize_objective",
    "performance_bounds",
    "performance_difference",
    "surrogate_remainder",
    "trpo_bounds",
    "trust_region_lower_bound",
    "visitation_difference_bound",
]


# --------------------------------------------------------------------------------------------
# shared private helpers (also used by tabular_rl.ppo)


def _check_pair(mdp, pi_new, pi_old, what, names=("pi_new", "pi_old"), *, episodic=False):
    _v.check_infinite_horizon(mdp, what, episodic=episodic)
    pi_new = _v.check_policy(pi_new, mdp, names[0])
    pi_old = _v.check_policy(pi_old, mdp, names[1])
    return pi_new, pi_old


@dataclasses.dataclass(frozen=True)
class _OldEvaluation:
    """V, advantages, visitation and J of the old policy from one factorisation."""

    V: np.ndarray
    Q: np.ndarray
    adv: np.ndarray
    d: np.ndarray
    eta: np.ndarray
    J: float


def _evaluate_old(mdp, pi_old, what="this quantity"):
    """d is normalised (sums to 1); eta is unnormalised (d / (1 - gamma), or expected visits per
    episode at gamma == 1): the weight of every formula written with d / (1 - gamma)."""
    V, Q, eta = _evaluate(mdp, pi_old, what=what, name="pi_old")
    d = _normalise_visitation(mdp, eta, what)
    return _OldEvaluation(V=V, Q=Q, adv=Q - V[:, None], d=d, eta=eta, J=float(mdp.mu @ V))


def _visitation_eta(mdp, pi, what="this quantity", name="pi_new"):
    """Unnormalised visitation of an already-validated policy (one factorisation)."""
    return _visitation_unnormalized(mdp, _Resolvent(mdp, pi, what, name), mdp.mu)


def _visitation(mdp, pi, what="this quantity", name="pi_new"):
    """Normalised visitation of an already-validated policy (sums to 1; per episode at gamma == 1)."""
    return _normalise_visitation(mdp, _visitation_eta(mdp, pi, what, name), what)


def _tv_rows(p, q):
    return 0.5 * np.sum(np.abs(p - q), axis=-1)


def _kl_rows(p, q):
    """KL(p || q) per row for validated rows; +inf where q = 0 < p; round-off below 0 clipped to 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return np.maximum(np.sum(terms, axis=-1), 0.0)


def _scaled(coef, x):
    """coef * x, with 0 * inf read as 0 (a zero coefficient switches the term off)."""
    return 0.0 if coef == 0.0 else float(coef * x)


def _surrogate(eta, adv_old, pi_new):
    """sum_s eta(s) sum_a pi_new(a|s) A_old(s, a), with eta the unnormalised visitation."""
    return float(eta @ np.sum(pi_new * adv_old, axis=1))


def _new_policy_epsilon(pi_new, delta):
    r"""CPO's :math:`\epsilon = \max_s |E_{a\sim\pi'}[\delta(s, a)]|` (the new policy's actions)."""
    return float(np.max(np.abs(np.sum(pi_new * delta, axis=1))))


def _cpo_parts(gamma, d_old, delta, pi_new, pi_old):
    """Surrogate, epsilon, E_d[TV] and the penalty of CPO Theorem 1 for a given delta-bar(s, a)."""
    surrogate = float(d_old @ np.sum((pi_new - pi_old) * delta, axis=1)) / (1.0 - gamma)
    epsilon = _new_policy_epsilon(pi_new, delta)
    expected_tv = float(d_old @ _tv_rows(pi_new, pi_old))
    penalty = _scaled(2.0 * gamma * epsilon / (1.0 - gamma) ** 2, expected_tv)
    return surrogate, epsilon, expected_tv, penalty


# --------------------------------------------------------------------------------------------
# performance difference lemma


def performance_difference(mdp, pi_new, pi_old):
    r"""The performance difference lemma: :math:`J(\pi') - J(\pi)` from the old advantage.

    .. math::
        J(\pi') - J(\pi) = \frac{1}{1-\gamma}\,
        E_{s\sim d^{\pi'}_\mu,\ a\sim\pi'}\big[A^{\pi}(s,a)\big]
        = \frac{1}{1-\gamma}\sum_s d^{\pi'}(s)\sum_a \pi'(a|s)\,A^\pi(s,a)

    The visitation is the **new** policy's (normalised, sums to 1), the advantage
    the **old** policy's (unnormalised values). Swapping :math:`d^{\pi'}` for
    :math:`d^\pi` gives the surrogate (:func:`tabular_rl.ppo.surrogate_objective`),
    which is exact only to first order (:func:`surrogate_remainder`).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then both policies must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_new, pi_old : array_like, shape (S, A)
        :math:`\pi'` and :math:`\pi`.

    Returns
    -------
    float

    References
    ----------
    Kakade and Langford (2002), Lemma 6.1; TRPO eq. (1)-(2); CPO eq. (1).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, expected_return
    >>> from tabular_rl.bounds import performance_difference
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> performance_difference(mdp, [[1.0, 0.0]], [[0.5, 0.5]])   # 2 - 1
    1.0
    """
    what = "performance_difference"
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, what, episodic=True)
    old = _evaluate_old(mdp, pi_old, what)
    return _surrogate(_visitation_eta(mdp, pi_new, what), old.adv, pi_new)


def surrogate_remainder(mdp, pi_new, pi_old):
    r"""The exact error of the surrogate, :math:`J(\pi') - J(\pi) - L_\pi(\pi')`.

    .. math::
        J(\pi') - J(\pi) - L_\pi(\pi') = \frac{1}{1-\gamma}\sum_s
        \big(d^{\pi'}(s) - d^{\pi}(s)\big)\sum_a \pi'(a|s)\,A^\pi(s,a)

    computed from the right-hand side (two factorisations: the old policy's
    evaluation and the new policy's visitation). It is second order in
    :math:`\pi' - \pi`; CPO's bounds control it through Lemma 3
    (:func:`visitation_difference_bound`) and Hoelder's inequality.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then both policies must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_new, pi_old : array_like, shape (S, A)

    Returns
    -------
    float

    References
    ----------
    CPO, proof of Theorem 1 (Appendix 10.1.1); docs/guide/bounds.md#exact-remainder-of-the-surrogate.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import surrogate_remainder
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> surrogate_remainder(mdp, [[1.0, 0.0]], [[0.5, 0.5]])      # one state: d' = d
    0.0
    """
    what = "surrogate_remainder"
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, what, episodic=True)
    old = _evaluate_old(mdp, pi_old, what)
    return _surrogate(_visitation_eta(mdp, pi_new, what) - old.eta, old.adv, pi_new)


# --------------------------------------------------------------------------------------------
# CPO bounds


@dataclasses.dataclass(frozen=True, eq=False)
class PerformanceBounds:
    r"""Two-sided bound on :math:`J(\pi') - J(\pi)` (CPO Theorem 1 / Corollary 1).

    Attributes
    ----------
    lower, upper : float
        :math:`D^-` and :math:`D^+`: ``surrogate -/+ penalty``.
    surrogate : float
        :math:`L_{\pi,f}(\pi')/(1-\gamma)`; for f = V^pi this is the surrogate
        :math:`L_\pi(\pi')`.
    epsilon : float
        :math:`\epsilon_f^{\pi'} = \max_s|E_{a\sim\pi'}[\bar\delta_f(s,a)]|` (new policy's actions).
    expected_tv : float
        :math:`E_{s\sim d^\pi}[D_{TV}(\pi'\|\pi)[s]]` under the old, normalised visitation.
    penalty : float
        :math:`2\gamma\epsilon/(1-\gamma)^2 \cdot` ``expected_tv``.
    J_old : float
        :math:`J(\pi)`, to turn the bounds into bounds on :math:`J(\pi')`.

    Examples
    --------
    :func:`performance_bounds` returns one. One state, two actions paying 1 and 0,
    gamma = 0.5; the old policy is uniform (J = 1, advantages +-0.5), the new one always
    takes action 0 (J = 2). With one state the surrogate 2 * 0.5 = 1 is exact; the
    penalty is 2 * 0.5 * 0.5 / 0.5**2 * TV 0.5 = 1.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)   # V of uniform = 0.5 / 0.5 = 1
    >>> from tabular_rl.bounds import performance_bounds
    >>> b = performance_bounds(mdp, [[1.0, 0.0]], [[0.5, 0.5]])
    >>> b.lower, b.surrogate, b.upper                       # J(new) - J(old) = 1 lies inside
    (0.0, 1.0, 2.0)
    >>> b.epsilon, b.expected_tv, b.penalty, b.J_old
    (0.5, 0.5, 1.0, 1.0)
    """

    lower: float
    upper: float
    surrogate: float
    epsilon: float
    expected_tv: float
    penalty: float
    J_old: float


def performance_bounds(mdp, pi_new, pi_old, *, f=None):
    r"""CPO's relative policy performance bounds on :math:`J(\pi') - J(\pi)`.

    With ``f=None`` (:math:`f = V^\pi`), Corollary 1 and its upper twin:

    .. math::
        L_\pi(\pi') - \frac{2\gamma\epsilon^{\pi'}}{(1-\gamma)^2}E_{s\sim d^\pi}[D_{TV}(\pi'\|\pi)[s]]
        \le J(\pi') - J(\pi) \le
        L_\pi(\pi') + \frac{2\gamma\epsilon^{\pi'}}{(1-\gamma)^2}E_{s\sim d^\pi}[D_{TV}(\pi'\|\pi)[s]],

        \epsilon^{\pi'} = \max_s\big|E_{a\sim\pi'}[A^\pi(s,a)]\big|,\qquad
        L_\pi(\pi') = \frac{1}{1-\gamma}\sum_s d^\pi(s)\sum_a\pi'(a|s)A^\pi(s,a).

    With any ``f`` of shape (S,), Theorem 1 in general:
    :math:`\bar\delta_f(s,a) = r(s,a) + \gamma\sum_{s'}P(s'|s,a)f(s') - f(s)`,
    :math:`\epsilon_f^{\pi'} = \max_s|\sum_a\pi'(a|s)\bar\delta_f(s,a)|`,
    :math:`L_{\pi,f}(\pi') = \sum_s d^\pi(s)\sum_a(\pi'(a|s) - \pi(a|s))\bar\delta_f(s,a)`
    and :math:`D^\pm = L_{\pi,f}/(1-\gamma) \pm 2\gamma\epsilon_f^{\pi'}E_{d^\pi}[D_{TV}]/(1-\gamma)^2`.
    The paper's :math:`\delta_f` uses R(s, a, s'); only its expectation over s' enters,
    so the MDP's expected reward r(s, a) gives the same bound. The paper writes
    :math:`L_{\pi,f}` with the importance ratio :math:`\pi'/\pi` under :math:`a\sim\pi`;
    the sum over actions used here is the same where :math:`\pi > 0` and is what the
    proof bounds when :math:`\pi` has zeros.

    :math:`d^\pi` is the old policy's **normalised** visitation, and epsilon is taken
    under the **new** policy's action distribution; the penalty is linear in the
    expected TV (not squared, unlike TRPO). One evaluation of the old policy; the
    new policy is never evaluated.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_new, pi_old : array_like, shape (S, A)
    f : array_like, shape (S,), optional
        Any finite function of the state; default :math:`V^{\pi}` (Corollary 1).

    Returns
    -------
    PerformanceBounds

    References
    ----------
    Achiam, Held, Tamar, Abbeel (2017), Theorem 1 and Corollary 1 (the upper
    bound is Theorem 1's :math:`D^+` with f = V^pi).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import performance_bounds
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])
    >>> b = performance_bounds(mdp, [[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]])
    >>> round(b.lower, 4), round(b.surrogate, 4), round(b.upper, 4)   # J(new) - J(old) = 2/9
    (0.1067, 0.2667, 0.4267)
    """
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, "performance_bounds")
    old = _evaluate_old(mdp, pi_old)
    if f is None:
        delta = old.adv
    else:
        f = _v.check_finite(_v.check_shape(_v.as_float_array(f, "f"), (mdp.n_states,), "f"), "f")
        delta = mdp.R + mdp.gamma * mdp.expected_next(f) - f[:, None]
    surrogate, epsilon, expected_tv, penalty = _cpo_parts(mdp.gamma, old.d, delta, pi_new, pi_old)
    return PerformanceBounds(
        lower=surrogate - penalty,
        upper=surrogate + penalty,
        surrogate=surrogate,
        epsilon=epsilon,
        expected_tv=expected_tv,
        penalty=penalty,
        J_old=old.J,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class KLPerformanceBounds:
    r"""CPO Corollary 3: the KL form of the two-sided bound on :math:`J(\pi') - J(\pi)`.

    Attributes
    ----------
    lower, upper : float
        ``surrogate -/+ penalty``.
    surrogate : float
        :math:`L_\pi(\pi')`.
    epsilon : float
        :math:`\max_s|E_{a\sim\pi'}A^\pi(s,a)|`.
    expected_kl : float
        :math:`E_{s\sim d^\pi}[KL]` in the requested direction (may be ``inf``).
    penalty : float
        :math:`\sqrt2\gamma\epsilon/(1-\gamma)^2\sqrt{\text{expected\_kl}}`.
    kl_direction : str
        ``"new_old"`` for KL(pi' || pi) (CPO's statement) or ``"old_new"``.
    J_old : float

    Examples
    --------
    :func:`kl_performance_bounds` returns one. The MDP and policies of
    :class:`PerformanceBounds`: KL(new || uniform) = log 2, so the penalty is
    sqrt(2) * 0.5 * 0.5 / 0.5**2 * sqrt(log 2) = sqrt(2 log 2). The other direction is
    infinite: the new policy never takes action 1, which the old one does.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)   # V of uniform = 0.5 / 0.5 = 1
    >>> from tabular_rl.bounds import kl_performance_bounds
    >>> b = kl_performance_bounds(mdp, [[1.0, 0.0]], [[0.5, 0.5]])
    >>> round(b.expected_kl, 4), round(b.penalty, 4), round(b.lower, 4)   # log 2; 1 - 1.1774
    (0.6931, 1.1774, -0.1774)
    >>> b = kl_performance_bounds(mdp, [[1.0, 0.0]], [[0.5, 0.5]], kl_direction="old_new")
    >>> b.kl_direction, b.expected_kl, b.lower
    ('old_new', inf, -inf)
    """

    lower: float
    upper: float
    surrogate: float
    epsilon: float
    expected_kl: float
    penalty: float
    kl_direction: str
    J_old: float


_KL_DIRECTIONS = ("new_old", "old_new")


def _check_direction(kl_direction):
    if kl_direction not in _KL_DIRECTIONS:
        raise ValueError(f"kl_direction must be one of {_KL_DIRECTIONS}, got {kl_direction!r}")
    return kl_direction


def kl_performance_bounds(mdp, pi_new, pi_old, *, kl_direction="new_old"):
    r"""CPO Corollary 3: the bounds of :func:`performance_bounds` with KL in place of TV.

    .. math::
        \Big|J(\pi') - J(\pi) - L_\pi(\pi')\Big| \le
        \frac{\sqrt2\,\gamma\,\epsilon^{\pi'}}{(1-\gamma)^2}\sqrt{E_{s\sim d^\pi}\big[KL(\pi'\|\pi)[s]\big]}

    from Pinsker (:math:`D_{TV}\le\sqrt{KL/2}`) and Jensen. Because TV is
    symmetric, either KL direction gives a valid bound: ``kl_direction="new_old"``
    uses KL(pi' || pi) as CPO states it, ``"old_new"`` uses KL(pi || pi') (PPO's
    and TRPO's order). This is the lecture's relative policy performance bound
    (the slide's eq. (6), with C the constant above).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_new, pi_old : array_like, shape (S, A)
    kl_direction : {"new_old", "old_new"}

    Returns
    -------
    KLPerformanceBounds

    References
    ----------
    Achiam et al. (2017), Corollary 3.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import kl_performance_bounds, performance_bounds
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])
    >>> new, old = [[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]
    >>> bool(kl_performance_bounds(mdp, new, old).lower <= performance_bounds(mdp, new, old).lower)
    True
    """
    kl_direction = _check_direction(kl_direction)
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, "kl_performance_bounds")
    old = _evaluate_old(mdp, pi_old)
    gamma = mdp.gamma
    surrogate = _surrogate(old.eta, old.adv, pi_new)
    epsilon = _new_policy_epsilon(pi_new, old.adv)
    kl = _kl_rows(pi_new, pi_old) if kl_direction == "new_old" else _kl_rows(pi_old, pi_new)
    expected_kl = _expectation(old.d, kl)
    penalty = _scaled(np.sqrt(2.0) * gamma * epsilon / (1.0 - gamma) ** 2, np.sqrt(expected_kl))
    return KLPerformanceBounds(
        lower=surrogate - penalty,
        upper=surrogate + penalty,
        surrogate=surrogate,
        epsilon=epsilon,
        expected_kl=expected_kl,
        penalty=penalty,
        kl_direction=kl_direction,
        J_old=old.J,
    )


def _expectation(d, x):
    """sum_s d(s) x(s), with 0 * inf read as 0 (states never visited do not count)."""
    mask = d > 0
    return float(np.sum(d[mask] * x[mask]))


@dataclasses.dataclass(frozen=True, eq=False)
class VisitationDifference:
    r"""CPO Lemma 3: :math:`\|d^{\pi'} - d^\pi\|_1 \le \frac{2\gamma}{1-\gamma}E_{s\sim d^\pi}[D_{TV}(\pi'\|\pi)[s]]`.

    Attributes
    ----------
    difference : ndarray, shape (S,)
        :math:`d^{\pi'} - d^\pi` (normalised visitations).
    l1 : float
        Its 1-norm.
    bound : float
        The right-hand side.

    Examples
    --------
    :func:`visitation_difference_bound` returns one. From state 0, action 0 stays and
    action 1 moves to the absorbing state 1; gamma = 0.5, start in state 0. Staying has
    d = (1, 0); leaving at once has d = (0.5, 0.5). The policies differ in state 0 only
    (TV 1, all of the old visitation), so the bound is 2 * 0.5 / 0.5 * 1 = 2.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import visitation_difference_bound
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])
    >>> v = visitation_difference_bound(mdp, [[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
    >>> v.difference, v.l1, v.bound
    (array([-0.5,  0.5]), 1.0, 2.0)
    """

    difference: np.ndarray
    l1: float
    bound: float


def visitation_difference_bound(mdp, pi_new, pi_old):
    r"""CPO Lemma 3, the visitation difference and its bound.

    .. math::
        \|d^{\pi'} - d^\pi\|_1 \le \frac{2\gamma}{1-\gamma}\,E_{s\sim d^\pi}\big[D_{TV}(\pi'\|\pi)[s]\big]

    with normalised visitations. The difference itself satisfies the row-vector
    identity :math:`d^{\pi'\top} - d^{\pi\top} = \gamma\,d^{\pi\top}(P_{\pi'} - P_\pi)(I-\gamma P_{\pi'})^{-1}`
    (CPO eq. (21), printed there in column convention). Two factorisations.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_new, pi_old : array_like, shape (S, A)

    Returns
    -------
    VisitationDifference

    References
    ----------
    Achiam et al. (2017), Lemma 3 and eq. (21).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import visitation_difference_bound
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])
    >>> v = visitation_difference_bound(mdp, [[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
    >>> v.l1, v.bound                                            # tight here
    (1.0, 2.0)
    """
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, "visitation_difference_bound")
    d_old = _visitation(mdp, pi_old)
    d_new = _visitation(mdp, pi_new)
    diff = d_new - d_old
    bound = 2.0 * mdp.gamma / (1.0 - mdp.gamma) * float(d_old @ _tv_rows(pi_new, pi_old))
    return VisitationDifference(difference=diff, l1=float(np.sum(np.abs(diff))), bound=bound)


# --------------------------------------------------------------------------------------------
# TRPO and CPI


@dataclasses.dataclass(frozen=True, eq=False)
class TRPOBounds:
    r"""TRPO Theorem 1 and eq. (9), as bounds on :math:`J(\pi') - J(\pi)`.

    Attributes
    ----------
    lower : float
        ``surrogate - C * alpha**2`` (Theorem 1).
    upper : float
        ``surrogate + C * alpha**2``: the two-sided reading of Theorem 1's coupling
        proof (not a stated theorem).
    lower_kl : float
        ``surrogate - C * max_kl`` (eq. (9)).
    surrogate : float
        :math:`L_\pi(\pi')`; TRPO's :math:`L^{TRPO}_\pi(\pi')` is ``J_old + surrogate``.
    epsilon : float
        :math:`\max_{s,a}|A^\pi(s,a)|` (all state-action pairs, not an expectation).
    alpha : float
        :math:`D_{TV}^{\max}(\pi,\pi') = \max_s D_{TV}` (with the 1/2).
    max_kl : float
        :math:`D_{KL}^{\max}(\pi,\pi') = \max_s KL(\pi(\cdot|s)\|\pi'(\cdot|s))`, **old first**.
    C : float
        :math:`4\epsilon\gamma/(1-\gamma)^2`.
    J_old : float

    Examples
    --------
    :func:`trpo_bounds` returns one. One state, two actions paying 1 and 0, gamma = 0.5;
    from the uniform policy (J = 1, advantages +-0.5) to (0.75, 0.25), J = 1.5. Then
    C = 4 * 0.5 * 0.5 / 0.5**2 = 4, alpha = TV = 0.25 and the surrogate
    2 * (0.75 - 0.25) * 0.5 = 0.5 (exact with one state), so lower = 0.5 - 4 * 0.25**2.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)   # V of uniform = 0.5 / 0.5 = 1
    >>> from tabular_rl.bounds import trpo_bounds
    >>> b = trpo_bounds(mdp, [[0.75, 0.25]], [[0.5, 0.5]])
    >>> b.C, b.alpha, b.surrogate
    (4.0, 0.25, 0.5)
    >>> b.lower, b.upper                                    # J(new) - J(old) = 0.5
    (0.25, 0.75)
    >>> round(b.max_kl, 4), round(b.lower_kl, 4)            # KL(old || new) = 0.5 log(4/3)
    (0.1438, -0.0754)
    """

    lower: float
    upper: float
    lower_kl: float
    surrogate: float
    epsilon: float
    alpha: float
    max_kl: float
    C: float
    J_old: float


def trpo_bounds(mdp, pi_new, pi_old):
    r"""TRPO's Theorem 1 and its KL form (eq. (9)), on :math:`J(\pi') - J(\pi)`.

    .. math::
        J(\pi') - J(\pi) \ge L_\pi(\pi') - C\alpha^2 \ge L_\pi(\pi') - C\,D_{KL}^{\max}(\pi, \pi'),
        \qquad C = \frac{4\epsilon\gamma}{(1-\gamma)^2},

    with :math:`\epsilon = \max_{s,a}|A^\pi(s,a)|`,
    :math:`\alpha = \max_s D_{TV}(\pi(\cdot|s), \pi'(\cdot|s))` (the 1/2 included) and
    :math:`D_{KL}^{\max}(\pi,\pi') = \max_s KL(\pi\|\pi')` (**old policy first**; the second
    inequality is :math:`D_{TV}^2\le D_{KL}`). TRPO states these for
    :math:`\eta(\pi') = J(\pi')` and :math:`L^{TRPO}_\pi = J(\pi) + L_\pi` with the unnormalised
    visitation :math:`\rho_\pi`; subtracting :math:`J(\pi)` gives the form here, and
    :math:`\sum_s\rho_\pi(s)\ldots = \frac{1}{1-\gamma}\sum_s d^\pi(s)\ldots`. The coupling
    proof bounds :math:`|J(\pi') - J(\pi) - L_\pi(\pi')|`, which ``upper`` reports; the paper
    states only the lower side. The penalty is quadratic in alpha but scales with the
    worst-case advantage, so it is usually far looser than CPO's
    (:func:`performance_bounds`). One evaluation of the old policy.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_new, pi_old : array_like, shape (S, A)

    Returns
    -------
    TRPOBounds

    References
    ----------
    Schulman, Levine, Moritz, Jordan, Abbeel (2015), Theorem 1 and eq. (9).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import trpo_bounds
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])
    >>> b = trpo_bounds(mdp, [[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]])
    >>> round(b.alpha, 12), round(b.lower, 4), round(b.lower_kl, 4)  # J(new) - J(old) = 2/9
    (0.3, 0.0267, -0.3284)
    """
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, "trpo_bounds")
    old = _evaluate_old(mdp, pi_old)
    gamma = mdp.gamma
    surrogate = _surrogate(old.eta, old.adv, pi_new)
    epsilon = float(np.max(np.abs(old.adv)))
    alpha = float(np.max(_tv_rows(pi_old, pi_new)))
    max_kl = float(np.max(_kl_rows(pi_old, pi_new)))
    C = 4.0 * epsilon * gamma / (1.0 - gamma) ** 2
    penalty = _scaled(C, alpha**2)
    return TRPOBounds(
        lower=surrogate - penalty,
        upper=surrogate + penalty,
        lower_kl=surrogate - _scaled(C, max_kl),
        surrogate=surrogate,
        epsilon=epsilon,
        alpha=alpha,
        max_kl=max_kl,
        C=C,
        J_old=old.J,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class CPIBound:
    r"""The conservative policy iteration bound for a mixture policy.

    Attributes
    ----------
    lower : float
        ``surrogate - penalty``, a lower bound on :math:`J(\pi_{new}) - J(\pi)`.
    surrogate : float
        :math:`L_\pi(\pi_{new}) = \alpha L_\pi(\pi')`.
    epsilon : float
        :math:`\max_s|E_{a\sim\pi'}A^\pi(s,a)|`.
    penalty : float
        :math:`2\epsilon\gamma\alpha^2/(1-\gamma)^2`.
    pi_new : ndarray, shape (S, A)
        The mixture :math:`(1-\alpha)\pi + \alpha\pi'`.
    J_old : float

    Examples
    --------
    :func:`cpi_mixture_bound` returns one. One state, two actions paying 1 and 0,
    gamma = 0.5, the uniform policy (J = 1) mixed with weight 0.25 into "always action 0":
    the mixture (0.625, 0.375) has J = 0.625 / 0.5 = 1.25. The penalty is
    2 * 0.5 * 0.5 * 0.25**2 / 0.5**2 = 0.125.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)   # V of uniform = 0.5 / 0.5 = 1
    >>> from tabular_rl.bounds import cpi_mixture_bound
    >>> b = cpi_mixture_bound(mdp, [[1.0, 0.0]], [[0.5, 0.5]], 0.25)
    >>> b.pi_new
    array([[0.625, 0.375]])
    >>> b.surrogate, b.penalty, b.lower                     # J(new) - J(old) = 0.25 >= 0.125
    (0.25, 0.125, 0.125)
    """

    lower: float
    surrogate: float
    epsilon: float
    penalty: float
    pi_new: np.ndarray
    J_old: float


def cpi_mixture_bound(mdp, pi_prime, pi_old, alpha):
    r"""Kakade and Langford's conservative policy iteration bound, as in TRPO eq. (6).

    For the per-state mixture :math:`\pi_{new} = (1-\alpha)\pi + \alpha\pi'`,

    .. math::
        J(\pi_{new}) - J(\pi) \ge L_\pi(\pi_{new}) - \frac{2\epsilon\gamma}{(1-\gamma)^2}\alpha^2,
        \qquad \epsilon = \max_s\big|E_{a\sim\pi'}[A^\pi(s,a)]\big|.

    Kakade and Langford normalise values by (1 - gamma); this is TRPO's restatement
    with unnormalised values.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_prime, pi_old : array_like, shape (S, A)
        The policy mixed in, :math:`\pi'`, and the current policy :math:`\pi`.
    alpha : float in [0, 1]
        Mixture weight.

    Returns
    -------
    CPIBound

    References
    ----------
    Kakade and Langford (2002), Corollary 4.2; Schulman et al. (2015), eq. (6).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import cpi_mixture_bound
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> b = cpi_mixture_bound(mdp, [[1.0, 0.0]], [[0.5, 0.5]], 0.5)
    >>> b.pi_new, b.surrogate, b.penalty                           # J gains 0.5
    (array([[0.75, 0.25]]), 0.5, 0.5)
    """
    pi_prime, pi_old = _check_pair(mdp, pi_prime, pi_old, "cpi_mixture_bound", ("pi_prime", "pi_old"))
    alpha = _v.check_probability(alpha, "alpha")
    old = _evaluate_old(mdp, pi_old)
    gamma = mdp.gamma
    pi_new = (1.0 - alpha) * pi_old + alpha * pi_prime
    surrogate = _surrogate(old.eta, old.adv, pi_new)
    epsilon = _new_policy_epsilon(pi_prime, old.adv)
    penalty = 2.0 * epsilon * gamma * alpha**2 / (1.0 - gamma) ** 2
    return CPIBound(lower=surrogate - penalty, surrogate=surrogate, epsilon=epsilon, penalty=penalty,
                    pi_new=pi_new, J_old=old.J)


# --------------------------------------------------------------------------------------------
# the trust-region guarantee and the MM step


@dataclasses.dataclass(frozen=True, eq=False)
class TrustRegionBound:
    r"""CPO Proposition 1's worst-case guarantee for a trust-region step.

    Attributes
    ----------
    lower : float
        :math:`-\sqrt{2\delta}\,\gamma\,\epsilon^{\pi'}/(1-\gamma)^2`.
    delta : float
        :math:`E_{s\sim d^\pi}[KL(\pi'\|\pi)[s]]` (new first, as in the proposition).
    epsilon : float
        :math:`\max_s|E_{a\sim\pi'}A^\pi(s,a)|`.
    surrogate : float
        :math:`L_\pi(\pi')`.
    applies : bool
        ``surrogate >= 0``: the premise under which ``lower`` bounds :math:`J(\pi') - J(\pi)`
        (an argmax over a set that contains :math:`\pi` always satisfies it).
    J_old : float

    Examples
    --------
    :func:`trust_region_lower_bound` returns one. One state, two actions paying 1 and 0,
    gamma = 0.5, a step from uniform to (0.75, 0.25): the surrogate is 0.5 >= 0, so the
    bound applies; epsilon = :math:`|0.75 \cdot 0.5 - 0.25 \cdot 0.5|` = 0.25 and
    delta = 0.75 log 1.5 + 0.25 log 0.5.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)   # V of uniform = 0.5 / 0.5 = 1
    >>> from tabular_rl.bounds import trust_region_lower_bound
    >>> b = trust_region_lower_bound(mdp, [[0.75, 0.25]], [[0.5, 0.5]])
    >>> b.applies, b.surrogate, b.epsilon
    (True, 0.5, 0.25)
    >>> round(b.delta, 4), round(b.lower, 4)                # -sqrt(2 delta) * 0.5 * 0.25 / 0.5**2
    (0.1308, -0.2557)
    """

    lower: float
    delta: float
    epsilon: float
    surrogate: float
    applies: bool
    J_old: float


def trust_region_lower_bound(mdp, pi_new, pi_old):
    r"""CPO Proposition 1: how much a trust-region step can lose at worst.

    If :math:`\pi'` maximises :math:`L_\pi` over a set containing :math:`\pi` subject to
    :math:`E_{s\sim d^\pi}KL(\pi'\|\pi)[s]\le\delta`, then :math:`L_\pi(\pi')\ge 0` and

    .. math:: J(\pi') - J(\pi) \ge -\frac{\sqrt{2\delta}\,\gamma\,\epsilon^{\pi'}}{(1-\gamma)^2}.

    The inequality needs only :math:`L_\pi(\pi')\ge0` (it then follows from Corollary 3),
    which ``applies`` reports; here :math:`\delta` is the step's own expected KL
    (new policy first). This is Proposition 1, not a corollary.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_new, pi_old : array_like, shape (S, A)

    Returns
    -------
    TrustRegionBound

    References
    ----------
    Achiam et al. (2017), Proposition 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import trust_region_lower_bound
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> b = trust_region_lower_bound(mdp, [[0.6, 0.4]], [[0.5, 0.5]])
    >>> b.applies, bool(b.lower <= 0.0)
    (True, True)
    """
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, "trust_region_lower_bound")
    old = _evaluate_old(mdp, pi_old)
    gamma = mdp.gamma
    surrogate = _surrogate(old.eta, old.adv, pi_new)
    epsilon = _new_policy_epsilon(pi_new, old.adv)
    delta = _expectation(old.d, _kl_rows(pi_new, pi_old))
    lower = -_scaled(gamma * epsilon / (1.0 - gamma) ** 2, np.sqrt(2.0 * delta))
    return TrustRegionBound(lower=lower, delta=delta, epsilon=epsilon, surrogate=surrogate,
                            applies=bool(surrogate >= 0.0), J_old=old.J)


def minorize_maximize_objective(mdp, pi_new, pi_old):
    r"""The minorizer :math:`M_i(\pi')` of TRPO's Algorithm 1 (the lecture's MM step).

    .. math::
        M_i(\pi') = J(\pi_i) + L_{\pi_i}(\pi') - C\,D_{KL}^{\max}(\pi_i, \pi'),\qquad
        C = \frac{4\gamma\max_{s,a}|A^{\pi_i}(s,a)|}{(1-\gamma)^2}

    with ``pi_old`` :math:`= \pi_i` and the KL **old first**. It minorizes the objective,
    :math:`J(\pi')\ge M_i(\pi')`, with equality at :math:`\pi' = \pi_i`, so any
    :math:`\pi'` with :math:`M_i(\pi')\ge M_i(\pi_i)` satisfies :math:`J(\pi')\ge J(\pi_i)`:
    maximising :math:`M_i` improves monotonically. The lecture runs the same argument
    with CPO's :math:`L - C\sqrt{E\,KL}` (``kl_performance_bounds(...).lower + J_old``).
    One evaluation of the old policy. ``-inf`` if :math:`\pi'` drops an action
    :math:`\pi_i` takes (infinite KL) while C > 0.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    pi_new, pi_old : array_like, shape (S, A)
        The candidate :math:`\pi'` and the current iterate :math:`\pi_i`.

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2015), eq. (9)-(10) and Algorithm 1; lecture 7, "Monotonic
    Improvement Theory".

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.bounds import minorize_maximize_objective
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> minorize_maximize_objective(mdp, [[0.5, 0.5]], [[0.5, 0.5]])   # = J(pi_i)
    1.0
    """
    pi_new, pi_old = _check_pair(mdp, pi_new, pi_old, "minorize_maximize_objective")
    old = _evaluate_old(mdp, pi_old)
    gamma = mdp.gamma
    C = 4.0 * gamma * float(np.max(np.abs(old.adv))) / (1.0 - gamma) ** 2
    max_kl = float(np.max(_kl_rows(pi_old, pi_new)))
    return old.J + _surrogate(old.eta, old.adv, pi_new) - _scaled(C, max_kl)
