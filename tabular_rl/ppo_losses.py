r"""PPO's sample-level losses, the objectives a student writes over a batch of samples
(Schulman et al. 2017, eq. (7)-(8) and section 4).

With ratios :math:`r_t = \pi_\theta(a_t|s_t)/\pi_{old}(a_t|s_t)` and advantage estimates :math:`\hat A_t`:

* :func:`ppo_clip_objective` and :func:`ppo_clip_gradient`: the clipped objective (eq. 7) and its
  derivative in the ratios;
* :func:`ppo_kl_penalty_objective`: the KL-penalised objective (eq. 8);
* :func:`adapt_kl_coefficient`: the adaptive-beta rule of section 4.

Their exact expectations on a known MDP are in :mod:`tabular_rl.ppo_surrogates`, the update loops
in :mod:`tabular_rl.ppo_loops`; all are importable from :mod:`tabular_rl.ppo`. The formulas and
conventions are in docs/guide/ppo.md.
"""

import numbers

import numpy as np

from . import _validation as _v

__all__ = [
    "adapt_kl_coefficient",
    "ppo_clip_gradient",
    "ppo_clip_objective",
    "ppo_kl_penalty_objective",
]


# --------------------------------------------------------------------------------------------
# sample level


def _check_epsilon(epsilon):
    return _v.check_real(epsilon, "epsilon", low=0.0, high=1.0, high_open=True)


def _check_samples(ratios, advantages):
    r = _v.as_float_array(ratios, "ratios")
    adv = _v.as_float_array(advantages, "advantages")
    if adv.shape != r.shape:
        raise ValueError(f"advantages must have the same shape as ratios {r.shape}, got {adv.shape}")
    if r.size == 0:
        raise ValueError(f"ratios must hold at least one sample, got shape {r.shape}")
    _v.check_finite(r, "ratios")
    _v.check_nonnegative(r, "ratios")
    _v.check_finite(adv, "advantages")
    return r, adv


def _clip_terms(r, adv, epsilon):
    return np.minimum(r * adv, np.clip(r, 1.0 - epsilon, 1.0 + epsilon) * adv)


def _clip_active(r, adv, epsilon):
    """Where the clip is active and the gradient in r is zero (strict inequalities)."""
    return ((adv > 0) & (r > 1.0 + epsilon)) | ((adv < 0) & (r < 1.0 - epsilon))


def ppo_clip_objective(ratios, advantages, epsilon):
    r"""PPO's clipped surrogate objective on samples (to maximise).

    .. math::
        L^{CLIP} = \frac1n\sum_{i=1}^n \min\big(r_i\hat A_i,\ \mathrm{clip}(r_i, 1-\epsilon, 1+\epsilon)\hat A_i\big)

    Pointwise :math:`\ell(r, A) = \min(rA, \mathrm{clip}(r)A) \le rA` (a pessimistic bound on
    the unclipped :math:`L^{CPI}`); :math:`\ell(1, A) = A`; equivalently
    :math:`\ell = \min(rA, g(\epsilon, A))` with :math:`g = (1+\epsilon)A` for A >= 0 and
    :math:`(1-\epsilon)A` for A < 0 (Spinning Up's form). The mean runs over every entry,
    whatever the shape (e.g. (N, T) for N segments of T steps).

    Parameters
    ----------
    ratios : array_like
        :math:`r_i = \pi_\theta(a_i|s_i)/\pi_{old}(a_i|s_i) \ge 0`.
    advantages : array_like, same shape
        :math:`\hat A_i`, any sign.
    epsilon : float in [0, 1)
        Clip range (0.2 in the paper's MuJoCo runs).

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2017), eq. (7).

    Examples
    --------
    >>> from tabular_rl.ppo import ppo_clip_objective
    >>> ppo_clip_objective([1.5, 0.5, 1.5], [1.0, -1.0, -1.0], 0.2)   # (1.2 - 0.8 - 1.5) / 3
    -0.3666666666666667
    """
    r, adv = _check_samples(ratios, advantages)
    epsilon = _check_epsilon(epsilon)
    return float(np.mean(_clip_terms(r, adv, epsilon)))


def ppo_clip_gradient(ratios, advantages, epsilon):
    r"""Per-sample derivative :math:`\partial\ell/\partial r` of the clipped term.

    .. math::
        \frac{\partial\ell}{\partial r}(r, A) =
        \begin{cases} 0 & A > 0,\ r > 1+\epsilon \ \text{ or }\ A < 0,\ r < 1-\epsilon \\
        A & \text{otherwise} \end{cases}

    The gradient of :func:`ppo_clip_objective` in :math:`r_i` is this divided by n. The
    clip removes the gradient only where moving r further would **improve** the objective;
    for A > 0 with r < 1 - eps, or A < 0 with r > 1 + eps, the gradient is still A. At the
    kinks r = 1 +/- eps the unclipped side's derivative (A) is returned.

    Parameters
    ----------
    ratios, advantages : array_like, same shape
    epsilon : float in [0, 1)

    Returns
    -------
    ndarray, same shape

    References
    ----------
    Schulman et al. (2017), eq. (7) and Figure 1.

    Examples
    --------
    >>> from tabular_rl.ppo import ppo_clip_gradient
    >>> ppo_clip_gradient([1.5, 0.5, 1.5, 0.5], [1.0, 1.0, -1.0, -1.0], 0.2)
    array([ 0.,  1., -1., -0.])
    """
    r, adv = _check_samples(ratios, advantages)
    epsilon = _check_epsilon(epsilon)
    return np.where(_clip_active(r, adv, epsilon), 0.0 * adv, adv)


def ppo_kl_penalty_objective(ratios, advantages, kl, beta):
    r"""PPO's KL-penalised surrogate on samples (to maximise).

    .. math:: L^{KLPEN} = \frac1n\sum_i \big(r_i\hat A_i - \beta\,KL[\pi_{old}(\cdot|s_i), \pi_\theta(\cdot|s_i)]\big)

    Parameters
    ----------
    ratios, advantages : array_like, same shape
    kl : array_like, same shape
        Per-sample :math:`KL(\pi_{old}(\cdot|s_i)\|\pi_\theta(\cdot|s_i))`, **old first**, >= 0.
    beta : float >= 0
        Penalty coefficient.

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2017), eq. (8).

    Examples
    --------
    >>> from tabular_rl.ppo import ppo_kl_penalty_objective
    >>> ppo_kl_penalty_objective([1.5, 0.5], [1.0, -1.0], [0.1, 0.3], 2.0)   # (1.5 - 0.5 - 0.8) / 2
    0.09999999999999998
    """
    r, adv = _check_samples(ratios, advantages)
    kl = _v.as_float_array(kl, "kl")
    if kl.shape != r.shape:
        raise ValueError(f"kl must have the same shape as ratios {r.shape}, got {kl.shape}")
    _v.check_finite(kl, "kl")
    _v.check_nonnegative(kl, "kl")
    beta = _v.check_real(beta, "beta", low=0.0)
    return float(np.mean(r * adv - beta * kl))


def adapt_kl_coefficient(beta, kl, kl_target):
    r"""PPO's adaptive KL coefficient rule (section 4), applied after an update.

    .. math::
        \beta \leftarrow \begin{cases} \beta/2 & d < d_{targ}/1.5 \\ 2\beta & d > 1.5\,d_{targ} \\
        \beta & \text{otherwise} \end{cases}

    with strict inequalities, so d = d_targ/1.5 and d = 1.5 d_targ leave beta unchanged. The
    new beta is used for the **next** update; 1.5 and 2 are the paper's heuristic choices.

    Parameters
    ----------
    beta : float > 0
    kl : float in [0, inf]
        The measured :math:`d = \hat E_t[KL(\pi_{old}\|\pi_\theta)]` (old first); ``inf`` is allowed.
    kl_target : float > 0

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2017), section 4.

    Examples
    --------
    >>> from tabular_rl.ppo import adapt_kl_coefficient
    >>> adapt_kl_coefficient(1.0, 0.001, 0.01), adapt_kl_coefficient(1.0, 0.01, 0.01), adapt_kl_coefficient(1.0, 1.0, 0.01)
    (0.5, 1.0, 2.0)
    """
    beta = _v.check_real(beta, "beta", low=0.0, low_open=True)
    kl_target = _v.check_real(kl_target, "kl_target", low=0.0, low_open=True)
    if isinstance(kl, (bool, np.bool_)) or not isinstance(kl, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"kl must be a real number, got {type(kl).__name__} {kl!r}")
    kl = float(kl)
    if not kl >= 0.0:  # also rejects NaN
        raise ValueError(f"kl == {kl}, must be in [0, inf]")
    if kl < kl_target / 1.5:
        return beta / 2.0
    if kl > kl_target * 1.5:
        return beta * 2.0
    return beta
