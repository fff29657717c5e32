r"""Feature expectations (Abbeel & Ng 2004) and the feature-matching toolkit.

Convention: features are state features ``phi`` of shape (S, K) or
state-action features of shape (S, A, K). Discounted feature expectations are
**unnormalised**: :math:`\mu(\pi) = E[\sum_{t\ge0}\gamma^t\phi(s_t, a_t)]`, which lies in
:math:`[0, 1/(1-\gamma)]^K` for features in [0, 1].
"""

import dataclasses
import warnings

import numpy as np
from scipy.optimize import nnls

from . import _kernels
from . import _validation as _v
from ._deprecation import renamed_keyword
from .sampling import check_trajectories
from .control import policy_iteration
from .evaluation import discounted_visitation, discounted_visitation_unnormalized

__all__ = [
    "ApprenticeshipResult",
    "ClosestMixture",
    "check_features",
    "closest_mixture",
    "empirical_feature_expectations",
    "feature_expectations",
    "finite_horizon_feature_expectations",
    "hoelder_value_gap_bound",
    "max_margin_method",
    "mixture_feature_expectations",
    "occupancy_mixture_policy",
    "projection_method",
    "trajectory_feature_counts",
]


def check_features(phi, mdp, name="phi"):
    """Validate features: shape (S, K) or (S, A, K), finite. Returns (S, A, K) float array.

    State features (S, K) are repeated for every action; anything else raises ``ValueError``
    naming the expected shapes.

    Examples
    --------
    Two states, three actions, one indicator feature per state:

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import check_features
    >>> mdp = TabularMDP(np.full((2, 3, 2), 0.5), R=[0.0, 0.0], gamma=0.5)
    >>> phi = check_features(np.eye(2), mdp)
    >>> phi.shape, phi[1, 2]                                # phi(s=1, a=2) = phi(s=1)
    ((2, 3, 2), array([0., 1.]))
    >>> check_features(np.eye(3), mdp)
    Traceback (most recent call last):
    ...
    ValueError: phi must have shape (2, K) or (2, 3, K), got (3, 3)
    """
    phi = _v.as_float_array(phi, name)
    S, A = mdp.shape
    if phi.ndim == 2 and phi.shape[0] == S:
        phi = np.broadcast_to(phi[:, None, :], (S, A, phi.shape[1]))
    elif not (phi.ndim == 3 and phi.shape[:2] == (S, A)):
        raise ValueError(f"{name} must have shape ({S}, K) or ({S}, {A}, K), got {phi.shape}")
    if phi.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one feature (K >= 1), got shape {phi.shape}")
    _v.check_finite(phi, name)
    return phi


def feature_expectations(mdp, pi, features):
    r"""Discounted, unnormalised feature expectations of a stationary policy.

    .. math:: \mu(\pi) = E\Big[\sum_{t\ge0}\gamma^t\phi(s_t,a_t)\Big]
              = \frac{1}{1-\gamma}\sum_{s,a} d^\pi_\mu(s)\pi(a|s)\phi(s,a)

    One transposed LU solve for the unnormalised visitation :math:`d^\pi_\mu/(1-\gamma)`.

    At gamma == 1 (episodic MDP, proper policy) it is the expected feature sum
    over an episode, :math:`E[\sum_{t<T}\phi(s_t,a_t)]` with T the termination
    step: the expected visits before termination (0 on terminal states, so
    features of terminal states never count) weight :math:`\pi\phi`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then pi must be proper).
    pi : array_like, shape (S, A)
    features : array_like, shape (S, K) or (S, A, K)

    Returns
    -------
    ndarray, shape (K,)

    References
    ----------
    Abbeel, P. and Ng, A. Y. (2004). Apprenticeship learning via inverse
    reinforcement learning. ICML. Eq. (2) (the feature expectations).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import feature_expectations
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), R=[0.0], gamma=0.5)
    >>> feature_expectations(mdp, [[1.0]], [[1.0, 2.0]])     # 1/(1-gamma) * phi
    array([2., 4.])

    gamma = 1: state 0 is left for terminal state 1 with probability 1/2 per step (2 steps expected).

    >>> P = np.array([[[0.5, 0.5]], [[0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[-1.0, 0.0], gamma=1.0, mu=[1.0, 0.0], terminal=[1])
    >>> feature_expectations(mdp, [[1.0], [1.0]], np.eye(2))
    array([2., 0.])
    """
    pi = _v.check_policy(pi, mdp)
    phi = check_features(features, mdp, "features")
    eta = discounted_visitation_unnormalized(mdp, pi)
    return np.einsum("s,sa,sak->k", eta, pi, phi)


# --------------------------------------------------------------------------- finite horizon, empirical


@renamed_keyword("p0", "mu")
def finite_horizon_feature_expectations(mdp, pi, features, horizon, *, mu=None):
    r"""Finite-horizon discounted feature expectations, any gamma in [0, 1].

    .. math:: \mu_H(\pi) = E\Big[\sum_{t=0}^{H-1}\gamma^t\phi(s_t,a_t)\Big]
              = \sum_{t=0}^{H-1}\gamma^t\sum_{s,a} d_t(s)\,\pi_t(a|s)\,\phi(s,a)

    over the H decision steps t = 0..H-1 (the state :math:`s_H` reached after the
    last action is not counted), with :math:`d_0` the start distribution ``mu`` and
    :math:`d_{t+1} = d_t P_{\pi_t}` (undiscounted state distributions; the
    discount is the explicit :math:`\gamma^t`, with :math:`0^0 = 1`). It is the
    expectation of :func:`empirical_feature_expectations` for episodes of length H.

    Parameters
    ----------
    mdp : TabularMDP
        Its ``gamma`` is used; ``gamma == 1`` gives undiscounted feature counts.
    pi : array_like, shape (S, A) or (horizon, S, A)
        Stationary or time-varying policy.
    features : array_like, shape (S, K) or (S, A, K)
    horizon : int >= 0
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. ``p0`` is a deprecated alias (removed in 0.3.0).

    Returns
    -------
    ndarray, shape (K,)

    References
    ----------
    Abbeel, P. and Ng, A. Y. (2004). Apprenticeship learning via inverse
    reinforcement learning. ICML. Eq. (2), truncated at H steps.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import finite_horizon_feature_expectations
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), R=[0.0], gamma=0.5)
    >>> finite_horizon_feature_expectations(mdp, [[1.0]], [[1.0]], horizon=3)   # 1 + 0.5 + 0.25
    array([1.75])
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True)
    phi = check_features(features, mdp, "features")
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    if horizon == 0:
        return np.zeros(phi.shape[-1])
    d, _ = _kernels.forward_distributions(mdp, pi, horizon, mu)
    discount = mdp.gamma ** np.arange(horizon)
    pi_t = np.broadcast_to(pi, (horizon,) + mdp.shape)
    return np.einsum("t,ts,tsa,sak->k", discount, d, pi_t, phi)


def trajectory_feature_counts(mdp, trajectories, features, *, gamma=None):
    r"""Per-episode discounted feature counts, shape (N, K).

    .. math:: \hat\mu(\tau_n) = \sum_{t=0}^{H-1}\gamma^t\phi(s^n_t, a^n_t)

    over the H recorded decision steps (the final state :math:`s_H` is not counted).

    Parameters
    ----------
    mdp : TabularMDP
        Gives S, A and the default ``gamma``.
    trajectories : Trajectories
    features : array_like, shape (S, K) or (S, A, K)
    gamma : float in [0, 1], optional
        Default ``mdp.gamma``; pass 1.0 for undiscounted counts (MaxEnt IRL's).

    Returns
    -------
    ndarray, shape (N, K)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.features import trajectory_feature_counts
    >>> mdp = TabularMDP(np.full((2, 1, 2), 0.5), R=[0.0, 0.0], gamma=0.5)
    >>> tr = Trajectories(states=[[0, 1, 1], [1, 1, 0]], actions=[[0, 0], [0, 0]], rewards=np.zeros((2, 2)))
    >>> trajectory_feature_counts(mdp, tr, np.eye(2))      # phi(s) = one-hot(s)
    array([[1. , 0.5],
           [0. , 1.5]])
    """
    check_trajectories(trajectories, mdp)
    phi = check_features(features, mdp, "features")
    gamma = mdp.gamma if gamma is None else _v.check_gamma(gamma)
    H = trajectories.horizon
    discount = gamma ** np.arange(H)
    per_step = phi[trajectories.states[:, :H], trajectories.actions]  # (N, H, K)
    return np.einsum("t,ntk->nk", discount, per_step)


def empirical_feature_expectations(mdp, trajectories, features, *, gamma=None):
    r"""Empirical discounted feature expectations: the mean over episodes of their feature counts.

    .. math:: \hat\mu = \frac1N\sum_{n=1}^N\sum_{t=0}^{H-1}\gamma^t\phi(s^n_t, a^n_t)

    An unbiased estimate of :func:`finite_horizon_feature_expectations` for the
    policy that generated the episodes (and of :func:`feature_expectations` up
    to the truncation :math:`\gamma^H/(1-\gamma)\max|\phi|`).

    Parameters
    ----------
    mdp : TabularMDP
    trajectories : Trajectories
        N >= 1 episodes of H steps.
    features : array_like, shape (S, K) or (S, A, K)
    gamma : float in [0, 1], optional
        Default ``mdp.gamma``.

    Returns
    -------
    ndarray, shape (K,)

    References
    ----------
    Abbeel, P. and Ng, A. Y. (2004). ICML, Section 3 (the estimate of the
    expert's :math:`\mu_E` from m trajectories).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.features import empirical_feature_expectations
    >>> mdp = TabularMDP(np.full((2, 1, 2), 0.5), R=[0.0, 0.0], gamma=0.5)
    >>> tr = Trajectories(states=[[0, 1, 1], [1, 1, 0]], actions=[[0, 0], [0, 0]], rewards=np.zeros((2, 2)))
    >>> empirical_feature_expectations(mdp, tr, np.eye(2))
    array([0.5, 1. ])
    """
    return trajectory_feature_counts(mdp, trajectories, features, gamma=gamma).mean(axis=0)


# --------------------------------------------------------------------------- mixtures


def _check_policy_stack(policies, mdp, name="policies"):
    arr = _v.as_float_array(policies, name)
    S, A = mdp.shape
    if arr.ndim != 3 or arr.shape[1:] != (S, A) or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, {S}, {A}) with n >= 1 (a stack of policies), got {arr.shape}")
    return np.stack([_v.check_policy(p, mdp, f"{name}[{i}]") for i, p in enumerate(arr)])


def mixture_feature_expectations(mdp, policies, weights, features):
    r"""Feature expectations of the trajectory-level mixture of stationary policies.

    The mixture draws :math:`i\sim\lambda` **once**, at t = 0, and then follows
    :math:`\pi_i` for the whole episode. By linearity of expectation

    .. math:: \mu(\text{mix}) = \sum_i\lambda_i\,\mu(\pi_i).

    This is the mixture Abbeel & Ng (2004, Section 3) return. Its stationary
    equivalent is :func:`occupancy_mixture_policy`; the per-state average
    :math:`\sum_i\lambda_i\pi_i(a|s)` is **not** equivalent (see there).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then the policies must be proper).
    policies : array_like, shape (n, S, A)
    weights : array_like, shape (n,)
        On the simplex.
    features : array_like, shape (S, K) or (S, A, K)

    Returns
    -------
    ndarray, shape (K,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import mixture_feature_expectations
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.5, mu=[1.0, 0.0])
    >>> stay, leave = [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]
    >>> mixture_feature_expectations(mdp, [stay, leave], [0.5, 0.5], np.eye(2))
    array([1.5, 0.5])
    """
    pis = _check_policy_stack(policies, mdp)
    lam = _v.check_distribution(weights, "weights", pis.shape[0])
    _v.check_infinite_horizon(mdp, "mixture_feature_expectations", episodic=True)
    phi = check_features(features, mdp, "features")
    mus = np.stack([feature_expectations(mdp, p, phi) for p in pis])
    return lam @ mus


def occupancy_mixture_policy(mdp, policies, weights):
    r"""The stationary policy whose occupancy is the mixture of the policies' occupancies.

    .. math:: \pi(a|s) = \frac{\sum_i\lambda_i\rho^{\pi_i}(s,a)}{\sum_{i,a'}\lambda_i\rho^{\pi_i}(s,a')}

    with :math:`\rho^{\pi_i}` the normalised occupancy (:func:`~tabular_rl.occupancy_measure`).
    The mixed occupancy satisfies the Bellman flow equations (they are linear),
    so it is the occupancy of this policy, which therefore realises
    :math:`\mu(\pi) = \sum_i\lambda_i\mu(\pi_i)` for every feature map
    (Syed, Bowling & Schapire 2008). At states no policy visits the policy is
    uniform (any choice gives the same occupancy).

    The per-state average :math:`\sum_i\lambda_i\pi_i(a|s)` is **wrong** as a
    mixture: it weights each policy's action by :math:`\lambda_i` at every state,
    whereas the right weight is :math:`\lambda_i d^{\pi_i}(s)/\sum_j\lambda_j d^{\pi_j}(s)`,
    so its feature expectations differ from :math:`\sum_i\lambda_i\mu(\pi_i)`
    (docs/guide/features.md#mixtures-of-policies; mismatches of 0.2 on small MDPs).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``; the occupancies are for ``mdp.mu``.
    policies : array_like, shape (n, S, A)
    weights : array_like, shape (n,)

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Syed, U., Bowling, M. and Schapire, R. E. (2008). Apprenticeship learning
    using linear programming. ICML (occupancy measures as the LP variables).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import occupancy_mixture_policy
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.5, mu=[1.0, 0.0])
    >>> stay, leave = [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]
    >>> occupancy_mixture_policy(mdp, [stay, leave], [0.5, 0.5])   # state 0: 2/3 stay, not 1/2
    array([[0.66666667, 0.33333333],
           [1.        , 0.        ]])
    """
    pis = _check_policy_stack(policies, mdp)
    lam = _v.check_distribution(weights, "weights", pis.shape[0])
    _v.check_infinite_horizon(mdp, "occupancy_mixture_policy")
    rho = sum(l * discounted_visitation(mdp, p)[:, None] * p for l, p in zip(lam, pis) if l > 0)
    mass = rho.sum(axis=1, keepdims=True)
    S, A = mdp.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, rho / np.where(mass > 0, mass, 1.0), 1.0 / A)


# --------------------------------------------------------------------------- the min-norm mixture


@dataclasses.dataclass(frozen=True, eq=False)
class ClosestMixture:
    r"""The convex combination of feature expectations closest to a target.

    Attributes
    ----------
    weights : ndarray, shape (n,)
        :math:`\lambda\in\Delta_n`, non-negative, summing to 1.
    feature_expectations : ndarray, shape (K,)
        :math:`\sum_i\lambda_i\mu^{(i)}`.
    distance : float
        :math:`\|\mu_E - \sum_i\lambda_i\mu^{(i)}\|_2`.
    duality_gap : float
        A certified bound on ``distance`` minus the true minimum over the simplex
        (from the dual point :math:`w = (\mu_E - \bar\mu)/\|\mu_E-\bar\mu\|`); 0 up to round-off.

    Examples
    --------
    :func:`closest_mixture` returns one. The segment from (0, 0) to (2, 0) is closest to
    (0.5, 1) at its point (0.5, 0), a quarter of the way along, at distance 1.

    >>> from tabular_rl import closest_mixture
    >>> res = closest_mixture([[0.0, 0.0], [2.0, 0.0]], [0.5, 1.0])
    >>> res.weights, res.feature_expectations, res.distance
    (array([0.75, 0.25]), array([0.5, 0. ]), 1.0)
    >>> bool(res.duality_gap < 1e-12)
    True
    """

    weights: np.ndarray
    feature_expectations: np.ndarray
    distance: float
    duality_gap: float


def _affine_min_norm(p):
    """Weights (summing to 1) of the min-norm point of the affine hull of the rows of p."""
    if p.shape[0] == 1:
        return np.ones(1)
    D = (p[1:] - p[0]).T
    z, *_ = np.linalg.lstsq(D, -p[0], rcond=None)
    return np.concatenate(([1.0 - z.sum()], z))


def _certificate(p, lam):
    """(x, ||x||, gap): x = p^T lam and a bound ||x|| - min_{hull} ||y|| <= gap."""
    x = lam @ p
    nx = float(np.linalg.norm(x))
    if nx == 0.0:
        return x, 0.0, 0.0
    lower = float(np.min(p @ x)) / nx  # min_j w.p_j <= min_hull ||y|| for w = x/||x||
    return x, nx, min(nx, max(nx - lower, 0.0))  # and min_hull ||y|| >= 0


def _certificate_roundoff(n, K, scale, distance):
    """Round-off level of the duality-gap certificate of ``closest_mixture`` (see there)."""
    if distance <= 0.0:
        return 0.0
    return 10.0 * (n + K) * np.finfo(float).eps * scale**2 / distance


def closest_mixture(feature_expectations, mu_expert):
    r"""Mixture weights :math:`\lambda = \arg\min_{\lambda\in\Delta}\|\mu_E-\sum_i\lambda_i\mu^{(i)}\|_2`.

    The Euclidean projection of :math:`\mu_E` onto the convex hull of the
    :math:`\mu^{(i)}` (Abbeel & Ng 2004, Section 3, the QP after the algorithm).
    By minimax duality its distance is also the value of the max-margin program

    .. math:: \max_{\|w\|_2\le1}\min_i w^\top(\mu_E-\mu^{(i)})
              = \min_{\lambda\in\Delta}\|\mu_E-\textstyle\sum_i\lambda_i\mu^{(i)}\|_2,

    with maximiser :math:`w = (\mu_E-\bar\mu)/\|\mu_E-\bar\mu\|_2`.

    Method: non-negative least squares (``scipy.optimize.nnls``, Lawson-Hanson
    active set) on the columns :math:`\mu^{(i)}` with a heavy sum-to-one row of
    weight :math:`10^4(1+\max|\mu|)`, which finds the support; then an exact
    affine least-squares solve on that support (kept when its weights are
    non-negative and it certifies better). The result carries the certified
    ``duality_gap``: for :math:`x=\bar\mu-\mu_E` and every hull point y,
    :math:`\|y\|\ge\max(0, \min_i(\mu^{(i)}-\mu_E)^\top x/\|x\|)`; a
    ``RuntimeWarning`` is raised if that gap exceeds
    :math:`10^{-9}(1+\max|\mu|)` plus the certificate's own round-off,
    :math:`10(n+K)\epsilon(1+\max|\mu|)^2/\|x\|`.

    Parameters
    ----------
    feature_expectations : array_like, shape (n, K)
        The :math:`\mu^{(i)}`, one per row.
    mu_expert : array_like, shape (K,)

    Returns
    -------
    ClosestMixture

    Examples
    --------
    >>> from tabular_rl.features import closest_mixture
    >>> res = closest_mixture([[0.0, 0.0], [2.0, 0.0]], [0.5, 1.0])
    >>> res.weights, res.distance
    (array([0.75, 0.25]), 1.0)
    """
    mus = _v.as_float_array(feature_expectations, "feature_expectations", ndim=2)
    _v.check_finite(mus, "feature_expectations")
    _v.check_magnitude(mus, "feature_expectations")
    n, K = mus.shape
    if n < 1 or K < 1:
        raise ValueError(f"feature_expectations must have shape (n, K) with n, K >= 1, got {mus.shape}")
    mu_E = _v.check_shape(_v.as_float_array(mu_expert, "mu_expert", ndim=1), (K,), "mu_expert",
                          what="(one entry per feature, K = feature_expectations.shape[1])")
    _v.check_finite(mu_E, "mu_expert")
    _v.check_magnitude(mu_E, "mu_expert")
    p = mus - mu_E
    scale = 1.0 + float(max(np.max(np.abs(mus)), np.max(np.abs(mu_E))))
    heavy = 1e4 * scale
    M = np.vstack([mus.T, np.full((1, n), heavy)])
    b = np.concatenate([mu_E, [heavy]])
    try:
        lam, _ = nnls(M, b, maxiter=50 * (n + K + 1))
    except RuntimeError:  # pragma: no cover - older SciPy raise on the cap
        lam = np.full(n, 1.0 / n)
    lam = np.maximum(lam, 0.0)
    lam = lam / lam.sum() if lam.sum() > 0 else np.full(n, 1.0 / n)
    best = (lam, *_certificate(p, lam))
    support = np.flatnonzero(lam > 0)
    if support.size:
        sub = _affine_min_norm(p[support])
        if np.all(sub >= 0):
            polished = np.zeros(n)
            polished[support] = sub / sub.sum()
            cand = (polished, *_certificate(p, polished))
            if cand[3] <= best[3]:
                best = cand
    lam, x, dist, gap = best
    # The certificate is itself computed in floating point: the weights carry round-off of
    # about (n + K) eps, which moves min_j p_j.x by (n + K) eps scale^2 and the lower bound
    # (divided by ||x||) by that over ||x||. Below that level a gap is round-off, not a
    # sign of an inaccurate projection (near mu_E the certificate loses accuracy, the
    # distance does not).
    allowed = 1e-9 * scale + _certificate_roundoff(n, K, scale, dist)
    if gap > allowed:
        warnings.warn(
            f"closest_mixture: the certified duality gap {gap:.3g} exceeds {allowed:.3g}; the mixture "
            "weights are approximate (near-duplicate or nearly affinely dependent feature expectations); "
            "drop duplicate rows of feature_expectations",
            RuntimeWarning,
            stacklevel=2,
        )
    return ClosestMixture(weights=lam, feature_expectations=lam @ mus, distance=dist, duality_gap=gap)


# --------------------------------------------------------------------------- Hoelder


def hoelder_value_gap_bound(mu, mu_expert, *, p=2.0, weight_norm=1.0):
    r"""Bound on the value gap from a feature-expectation gap, by Hoelder's inequality.

    For a reward :math:`r = w^\top\phi`, :math:`V(\pi) = w^\top\mu(\pi)`, so

    .. math:: |w^\top\mu(\pi) - w^\top\mu_E| \le \|w\|_q\,\|\mu(\pi)-\mu_E\|_p,
              \qquad \tfrac1p+\tfrac1q=1.

    Returns :math:`\text{weight\_norm}\cdot\|\mu(\pi)-\mu_E\|_p`, where
    ``weight_norm`` is (a bound on) :math:`\|w\|_q`. Abbeel & Ng use p = q = 2
    with :math:`\|w^*\|_1\le1\Rightarrow\|w^*\|_2\le1`; the lecture's slide uses
    p = 1 with :math:`\|w\|_\infty\le1`. Note the algorithm constrains
    :math:`\|w\|_2\le1` while the paper's assumption is :math:`\|w^*\|_1\le1`.

    Parameters
    ----------
    mu, mu_expert : array_like, shape (K,)
        Feature expectations of the policy and of the expert (same convention).
    p : float in [1, inf]
        The norm on the feature gap; ``numpy.inf`` allowed.
    weight_norm : float >= 0
        :math:`\|w\|_q` with q = p/(p-1) (q = inf for p = 1, q = 1 for p = inf).

    Returns
    -------
    float

    References
    ----------
    Abbeel, P. and Ng, A. Y. (2004). ICML, Section 3 (the guarantee after eq. (5)).

    Examples
    --------
    >>> from tabular_rl.features import hoelder_value_gap_bound
    >>> hoelder_value_gap_bound([1.0, 2.0], [1.0, 0.0], p=1, weight_norm=0.5)
    1.0
    """
    mu = _v.as_float_array(mu, "mu", ndim=1)
    mu_E = _v.check_shape(_v.as_float_array(mu_expert, "mu_expert", ndim=1), mu.shape, "mu_expert",
                          what="(the shape of mu)")
    _v.check_finite(mu, "mu")
    _v.check_finite(mu_E, "mu_expert")
    if not (isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool)) or not p >= 1:
        raise ValueError(f"p must be a real number in [1, inf], got {p!r}")
    weight_norm = _v.check_real(weight_norm, "weight_norm", low=0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        gap = float(np.linalg.norm(mu - mu_E, ord=float(p)))
    if not np.isfinite(gap):
        # Finite inputs near float64's range: the difference or the sum of squares overflowed; take
        # the norm of the halved difference scaled to max 1 (exact powers of two aside, same value).
        half = mu / 2 - mu_E / 2
        s = float(np.max(np.abs(half)))
        gap = 2 * s * float(np.linalg.norm(half / s, ord=float(p)))
    return float(weight_norm * gap)


# --------------------------------------------------------------------------- apprenticeship learning


@dataclasses.dataclass(frozen=True, eq=False)
class ApprenticeshipResult:
    r"""Result of :func:`projection_method` or :func:`max_margin_method` (Abbeel & Ng 2004).

    With n = ``n_iterations`` (the number of margins computed), policies are
    indexed j = 0..m-1 (m = n or n+1: a policy is solved after every margin above
    ``epsilon``) and margins i = 1..n, stored at index i-1.

    Attributes
    ----------
    method : str
        ``"projection_method"`` or ``"max_margin_method"``.
    policies : ndarray, shape (m, S, A)
        :math:`\pi^{(0)}` (the initial policy) and the exact optimal policies
        :math:`\pi^{(i)}` for the rewards :math:`w^{(i)\top}\phi`.
    feature_expectations : ndarray, shape (m, K)
        :math:`\mu^{(j)} = \mu(\pi^{(j)})`, exact.
    weights : ndarray, shape (n, K)
        :math:`w^{(i)}`. Projection: :math:`\mu_E-\bar\mu^{(i-1)}` (norm ``t``);
        max-margin: the unit-norm maximiser (zero when t = 0).
    margins : ndarray, shape (n,)
        :math:`t^{(i)}`, non-increasing for both methods with exact solves.
    projection_coefficients : ndarray, shape (n-1,) or None
        Projection method: the line coefficient of each update of :math:`\bar\mu`
        (in [0, 1] with exact solves and an achievable :math:`\mu_E`); None for max-margin.
    mu_bar : ndarray, shape (n, K) or None
        Projection method: :math:`\bar\mu^{(i-1)}`, i = 1..n; None for max-margin.
    mu_bar_weights : ndarray, shape (n, m) or None
        Projection method: the convex weights with :math:`\bar\mu^{(i-1)} = \sum_j c_j\mu^{(j)}`.
    mixture_weights : ndarray, shape (m,)
        :math:`\lambda = \arg\min_{\lambda\in\Delta}\|\mu_E-\sum_j\lambda_j\mu^{(j)}\|_2`
        (:func:`closest_mixture`).
    mixture_feature_expectations : ndarray, shape (K,)
        :math:`\sum_j\lambda_j\mu^{(j)}`: realised by the trajectory-level mixture
        or by ``mixture_policy``.
    mixture_policy : ndarray, shape (S, A)
        :func:`occupancy_mixture_policy` of the policies with ``mixture_weights``.
    n_iterations : int
    converged : bool
        Whether the last margin is <= ``epsilon``.

    Examples
    --------
    :func:`projection_method` and :func:`max_margin_method` return one. One state, two
    actions, one indicator feature per action, gamma = 0.5: an expert who always takes
    action 1 has :math:`\mu_E = (0, 1/(1-0.5)) = (0, 2)`. The uniform start has
    :math:`\mu^{(0)} = (1, 1)`, at distance :math:`\sqrt 2`; the best response to
    :math:`w^{(1)} = \mu_E - \mu^{(0)} = (-1, 1)` is the expert's policy, and the
    second margin is 0.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, projection_method
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[0.0, 0.0]], gamma=0.5)
    >>> res = projection_method(mdp, np.eye(2)[None], [0.0, 2.0], epsilon=1e-9)
    >>> res.method, res.converged, res.n_iterations
    ('projection_method', True, 2)
    >>> res.feature_expectations                            # mu(pi0), mu(pi1)
    array([[1., 1.],
           [0., 2.]])
    >>> res.margins.round(6), res.mixture_weights           # sqrt(2), then 0: all weight on pi1
    (array([1.414214, 0.      ]), array([0., 1.]))
    >>> res.mixture_policy
    array([[0., 1.]])
    """

    method: str
    policies: np.ndarray
    feature_expectations: np.ndarray
    weights: np.ndarray
    margins: np.ndarray
    projection_coefficients: object
    mu_bar: object
    mu_bar_weights: object
    mixture_weights: np.ndarray
    mixture_feature_expectations: np.ndarray
    mixture_policy: np.ndarray
    n_iterations: int
    converged: bool


def _apprenticeship_inputs(mdp, features, mu_expert, epsilon, max_iter, pi0, what):
    _v.check_infinite_horizon(mdp, what)
    phi = _v.check_magnitude(check_features(features, mdp, "features"), "features")
    K = phi.shape[-1]
    mu_E = _v.check_shape(_v.as_float_array(mu_expert, "mu_expert", ndim=1), (K,), "mu_expert",
                          what="(one entry per feature, K = features.shape[-1])")
    _v.check_finite(mu_E, "mu_expert")
    _v.check_magnitude(mu_E, "mu_expert")
    epsilon = _v.check_real(epsilon, "epsilon", low=0.0)
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    pi0 = np.full(mdp.shape, 1.0 / mdp.n_actions) if pi0 is None else _v.check_policy(pi0, mdp, "pi0")
    return phi, mu_E, epsilon, max_iter, pi0


def _best_response(mdp, phi, w):
    """Exact optimal policy for the reward w.phi (policy iteration) and its feature expectations."""
    res = policy_iteration(mdp.with_(R=phi @ w))
    return res.policy, feature_expectations(mdp, res.policy, phi)


def _finish(method, mdp, pis, mus, ws, ts, coefs, bars, bar_w, converged, max_iter, epsilon, mu_E, stuck):
    mus = np.array(mus)
    mix = closest_mixture(mus, mu_E)
    if not converged:
        if stuck and coefs is not None:
            # No achievable mu lies beyond the hyperplane through mu_bar normal to w, so t is a lower
            # bound on the distance; mu_bar itself may lie outside the set (lambda > 1 is not clipped).
            msg = (f"{method}: no policy improves on the current mixture along w, so mu_expert is at distance "
                   f"at least {ts[-1]:.3g} from the set of achievable feature expectations (the best mixture "
                   f"found is at {mix.distance:.3g}), above epsilon={epsilon:g}; "
                   "raise epsilon (mu_expert cannot be matched more closely)")
        elif stuck:
            msg = (f"{method}: no policy improves on the current mixture along w, so mu_expert is at distance "
                   f"{ts[-1]:.3g} from the set of achievable feature expectations, above epsilon={epsilon:g}; "
                   "raise epsilon (mu_expert cannot be matched more closely)")
        else:
            msg = (f"{method}: stopped after max_iter={max_iter} iterations with margin t={ts[-1]:.3g} "
                   f"above epsilon={epsilon:g}; increase max_iter or epsilon")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    policy = occupancy_mixture_policy(mdp, np.array(pis), mix.weights)
    m = len(pis)
    if bar_w is not None:
        bar_w = np.array([np.pad(c, (0, m - len(c))) for c in bar_w])
    return ApprenticeshipResult(
        method=method,
        policies=np.array(pis),
        feature_expectations=mus,
        weights=np.array(ws),
        margins=np.array(ts),
        projection_coefficients=None if coefs is None else np.array(coefs),
        mu_bar=None if bars is None else np.array(bars),
        mu_bar_weights=bar_w,
        mixture_weights=mix.weights,
        mixture_feature_expectations=mix.feature_expectations,
        mixture_policy=policy,
        n_iterations=len(ts),
        converged=converged,
    )


def projection_method(mdp, features, mu_expert, *, epsilon=1e-6, max_iter=1000, pi0=None):
    r"""Apprenticeship learning by the projection method (Abbeel & Ng 2004, Section 3.1).

    Starting from :math:`\mu^{(0)}=\mu(\pi^{(0)})`, :math:`\bar\mu^{(0)}=\mu^{(0)}`,
    :math:`w^{(1)}=\mu_E-\mu^{(0)}`; for i >= 2

    .. math::
        \bar\mu^{(i-1)} = \bar\mu^{(i-2)} + \lambda_{i-1}\,(\mu^{(i-1)}-\bar\mu^{(i-2)}),\qquad
        \lambda_{i-1} = \frac{(\mu^{(i-1)}-\bar\mu^{(i-2)})^\top(\mu_E-\bar\mu^{(i-2)})}
                             {\|\mu^{(i-1)}-\bar\mu^{(i-2)}\|_2^2},

        w^{(i)} = \mu_E-\bar\mu^{(i-1)},\qquad t^{(i)} = \|\mu_E-\bar\mu^{(i-1)}\|_2,

    the orthogonal projection of :math:`\mu_E` onto the **line** through
    :math:`\bar\mu^{(i-2)}` and :math:`\mu^{(i-1)}`. Stop when :math:`t^{(i)}\le\epsilon`;
    otherwise :math:`\pi^{(i)}` is the exact optimal policy for the reward
    :math:`w^{(i)\top}\phi` (:func:`~tabular_rl.policy_iteration`) and
    :math:`\mu^{(i)}=\mu(\pi^{(i)})` (:func:`feature_expectations`, unnormalised).

    With exact solves and an achievable :math:`\mu_E`, :math:`\lambda\in[0,1]`, so
    :math:`\bar\mu` stays in the convex hull, t is non-increasing, and (derived in
    docs/guide/features.md#iteration-bound-of-the-projection-method, not the paper's constant) :math:`t^{(n)}\le D/\sqrt n`
    with D the diameter of the feasible set (:math:`\sqrt K/(1-\gamma)` for
    features in [0, 1]). The coefficient is not clipped (the paper does not clip).

    If the best response does not improve along :math:`w^{(i)}`
    (:math:`w^{(i)\top}(\mu^{(i)}-\bar\mu^{(i-1)})\le0`), no achievable feature
    expectation lies beyond the hyperplane through :math:`\bar\mu^{(i-1)}` normal to
    :math:`w^{(i)}`, so :math:`\mu_E` is at distance at least :math:`t^{(i)}` from the
    achievable set: the method stops with a ``RuntimeWarning`` (``mu_expert`` cannot be
    matched within epsilon). For an unachievable :math:`\mu_E` a coefficient can exceed 1,
    so :math:`\bar\mu` can leave the set and :math:`t` is then below the true distance
    (the warning also reports the distance of the best mixture found, an upper bound).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``; its reward is ignored.
    features : array_like, shape (S, K) or (S, A, K)
    mu_expert : array_like, shape (K,)
        The expert's (unnormalised, discounted) feature expectations.
    epsilon : float >= 0
        Stop at :math:`t^{(i)}\le\epsilon`.
    max_iter : int >= 1
        Cap on the number of margins; a ``RuntimeWarning`` names it if reached.
    pi0 : array_like, shape (S, A), optional
        :math:`\pi^{(0)}`; default uniform (the paper picks it at random).

    Returns
    -------
    ApprenticeshipResult

    References
    ----------
    Abbeel, P. and Ng, A. Y. (2004). Apprenticeship learning via inverse
    reinforcement learning. ICML. Section 3.1 (projection method), Theorem 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import feature_expectations, projection_method
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.5, mu=[1.0, 0.0])
    >>> mu_E = feature_expectations(mdp, [[0.0, 1.0], [0.0, 1.0]], np.eye(2))   # expert: go to 1
    >>> res = projection_method(mdp, np.eye(2), mu_E, epsilon=1e-9)
    >>> res.converged, res.margins.round(6)
    (True, array([0.707107, 0.      ]))
    >>> res.mixture_feature_expectations
    array([1., 1.])
    """
    phi, mu_E, epsilon, max_iter, pi0 = _apprenticeship_inputs(
        mdp, features, mu_expert, epsilon, max_iter, pi0, "projection_method")
    pis = [pi0]
    mus = [feature_expectations(mdp, pi0, phi)]
    bar = mus[0].copy()
    bar_c = np.ones(1)
    scale = float(np.max(np.abs(phi))) / (1.0 - mdp.gamma) + float(np.max(np.abs(mu_E)))
    ws, ts, coefs, bars, bar_ws = [], [], [], [], []
    converged = stuck = False
    for i in range(1, max_iter + 1):
        if i >= 2:
            step = mus[i - 1] - bar
            denom = float(step @ step)
            gain = float(step @ (mu_E - bar))
            if denom == 0.0 or gain <= 1e-12 * (1.0 + scale) * ts[-1]:
                stuck = True
                break
            lam = gain / denom
            bar = bar + lam * step
            bar_c = np.concatenate([(1.0 - lam) * bar_c, [lam]])
            coefs.append(lam)
        w = mu_E - bar
        t = float(np.linalg.norm(w))
        ws.append(w)
        ts.append(t)
        bars.append(bar.copy())
        bar_ws.append(bar_c.copy())
        if t <= epsilon:
            converged = True
            break
        if i == max_iter:
            break
        pi, mu = _best_response(mdp, phi, w)
        pis.append(pi)
        mus.append(mu)
    return _finish("projection_method", mdp, pis, mus, ws, ts, coefs, bars, bar_ws, converged,
                   max_iter, epsilon, mu_E, stuck)


def max_margin_method(mdp, features, mu_expert, *, epsilon=1e-6, max_iter=1000, pi0=None):
    r"""Apprenticeship learning by the max-margin method (Abbeel & Ng 2004, Section 3).

    .. math:: t^{(i)} = \max_{\|w\|_2\le1}\min_{j<i} w^\top(\mu_E-\mu^{(j)}),

    solved exactly as a min-norm point: by minimax duality
    :math:`t^{(i)} = \min_{\lambda\in\Delta}\|\mu_E-\sum_{j<i}\lambda_j\mu^{(j)}\|_2`, the
    distance from :math:`\mu_E` to the convex hull of the :math:`\mu^{(j)}`
    (:func:`closest_mixture`), with maximiser
    :math:`w^{(i)} = (\mu_E-\bar\mu)/t^{(i)}`, :math:`\bar\mu` the projection (w = 0 when
    t is at round-off level, :math:`10^{-13}` times the feature scale). Stop when
    :math:`t^{(i)}\le\epsilon`; otherwise :math:`\pi^{(i)}` is the exact optimal policy for
    :math:`w^{(i)\top}\phi` and :math:`\mu^{(i)}=\mu(\pi^{(i)})`.
    t is non-increasing because the hull only grows. The paper's program
    constrains :math:`\|w\|_2\le1` (its assumption is :math:`\|w^*\|_1\le1`).

    If the best response does not improve along :math:`w^{(i)}`
    (:math:`w^{(i)\top}(\mu^{(i)}-\bar\mu)\le0`), :math:`\bar\mu` is the projection of
    :math:`\mu_E` onto the achievable set: the method stops with a ``RuntimeWarning``.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``; its reward is ignored.
    features : array_like, shape (S, K) or (S, A, K)
    mu_expert : array_like, shape (K,)
    epsilon : float >= 0
    max_iter : int >= 1
        Cap on the number of margins; a ``RuntimeWarning`` names it if reached.
    pi0 : array_like, shape (S, A), optional
        Default uniform.

    Returns
    -------
    ApprenticeshipResult
        ``projection_coefficients``, ``mu_bar`` and ``mu_bar_weights`` are None.

    References
    ----------
    Abbeel, P. and Ng, A. Y. (2004). ICML. Section 3, eqs. (10)-(12) (the max-margin step).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.features import feature_expectations, max_margin_method
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.5, mu=[1.0, 0.0])
    >>> mu_E = feature_expectations(mdp, [[0.0, 1.0], [0.0, 1.0]], np.eye(2))
    >>> res = max_margin_method(mdp, np.eye(2), mu_E, epsilon=1e-9)
    >>> res.converged, res.n_iterations, res.mixture_weights
    (True, 2, array([0., 1.]))
    """
    phi, mu_E, epsilon, max_iter, pi0 = _apprenticeship_inputs(
        mdp, features, mu_expert, epsilon, max_iter, pi0, "max_margin_method")
    pis = [pi0]
    mus = [feature_expectations(mdp, pi0, phi)]
    ws, ts = [], []
    converged = stuck = False
    bar = None
    scale = float(np.max(np.abs(phi))) / (1.0 - mdp.gamma) + float(np.max(np.abs(mu_E)))
    for i in range(1, max_iter + 1):
        if i >= 2 and float(ws[-1] @ (mus[-1] - bar)) <= 1e-12 * (1.0 + scale):
            stuck = True
            break
        mix = closest_mixture(np.array(mus), mu_E)
        bar = mix.feature_expectations
        t = mix.distance
        # At round-off distance the direction is noise: report w = 0 (mu_E is matched).
        # w is normalised by its own norm (not by t, computed from lam @ (mus - mu_E),
        # which differs from ||mu_E - lam @ mus|| in the last bits), so ||w|| = 1 to round-off.
        diff = mu_E - bar
        w = diff / np.linalg.norm(diff) if t > 1e-13 * (1.0 + scale) else np.zeros_like(mu_E)
        ws.append(w)
        ts.append(t)
        if t <= epsilon:
            converged = True
            break
        if i == max_iter:
            break
        pi, mu = _best_response(mdp, phi, w)
        pis.append(pi)
        mus.append(mu)
    return _finish("max_margin_method", mdp, pis, mus, ws, ts, None, None, None, converged,
                   max_iter, epsilon, mu_E, stuck)
