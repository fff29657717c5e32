r"""Feature expectations (Abbeel & Ng 2004) and the feature-matching toolkit.

Convention: features are state features ``phi`` of shape (S, K) or
state-action features of shape (S, A, K). Discounted feature expectations are
**unnormalised**: :math:`\mu(\pi) = E[\sum_{t\ge0}\gamma^t\phi(s_t, a_t)]`, which lies in
:math:`[0, 1/(1-\gamma)]^K` for features in [0, 1].
"""

import numpy as np

from . import _validation as _v
from .evaluation import discounted_visitation

__all__ = ["check_features", "feature_expectations"]


def check_features(phi, mdp, name="phi"):
    """Validate features: shape (S, K) or (S, A, K), finite. Returns (S, A, K) float array."""
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

    One transposed LU solve for the normalised visitation :math:`d^\pi_\mu`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
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
    """
    pi = _v.check_policy(pi, mdp)
    phi = check_features(features, mdp, "features")
    d = discounted_visitation(mdp, pi)
    return np.einsum("s,sa,sak->k", d, pi, phi) / (1.0 - mdp.gamma)
