r"""PPO at both levels: the sample objectives a student writes, their exact
expectations on a known MDP, and the update loops built on each.

Sample level (Schulman et al. 2017): with ratios :math:`r_t = \pi_\theta(a_t|s_t)/\pi_{old}(a_t|s_t)`
and advantage estimates :math:`\hat A_t`,

* :func:`ppo_clip_objective`: :math:`\hat E_t[\min(r_t\hat A_t, \mathrm{clip}(r_t, 1-\epsilon, 1+\epsilon)\hat A_t)]` (eq. 7);
* :func:`ppo_kl_penalty_objective`: :math:`\hat E_t[r_t\hat A_t - \beta KL[\pi_{old}(\cdot|s_t), \pi_\theta(\cdot|s_t)]]` (eq. 8);
* :func:`adapt_kl_coefficient`: the adaptive-beta rule of section 4.

Exact level, with the old policy's **normalised** discounted visitation :math:`d_{old}`
and exact advantage :math:`A_{old}` (the factor :math:`1/(1-\gamma)` turns the
expectation into the scale of J):

* :func:`surrogate_objective`: :math:`L = \frac{1}{1-\gamma}\sum_s d_{old}(s)\sum_a\pi_{new}(a|s)A_{old}(s,a)`;
* :func:`clipped_surrogate_objective`: :math:`\frac{1}{1-\gamma}\sum_s d_{old}(s)\sum_a\pi_{old}(a|s)\min(rA_{old}, \mathrm{clip}(r)A_{old})`;
* :func:`kl_penalized_surrogate_objective`: :math:`L - \beta\,E_{s\sim d_{old}}KL(\pi_{old}\|\pi_{new})[s]`;
* their gradients in the new policy's softmax logits.

Conventions: KL is **old first**, KL(pi_old || pi_new), as in the PPO paper (the lecture's
slide writes :math:`\bar D_{KL}(\theta\|\theta_k)`, new first; CPO's bounds hold in either
direction, the penalty here follows the paper). Clipping removes the gradient only on the
side where the change would **improve** the objective (A > 0 and r > 1 + eps, or A < 0 and
r < 1 - eps); on the worsening side the objective still pushes back.

Loops: :func:`ppo_clip_exact` and :func:`ppo_kl_exact` ascend the exact objectives;
:func:`sampled_ppo_clip` runs the same update from rollouts (``tabular_rl.sampling.rollout``)
and GAE (``tabular_rl.advantage_estimation.gae``), and reports the same exact diagnostics so the two can
be compared. Every loop records, for each step, CPO's Corollary 1 bounds
(:func:`tabular_rl.bounds.performance_bounds`), which the realised improvement must satisfy.

References
----------
.. [PPO] J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal policy
   optimization algorithms", arXiv:1707.06347, 2017, eq. (6)-(8) and section 4.
.. [CPO] J. Achiam, D. Held, A. Tamar, P. Abbeel, "Constrained policy optimization",
   ICML 2017, Corollary 1.
"""

import dataclasses
import numbers

import numpy as np
import scipy.sparse as sp

from . import _validation as _v
from . import bounds as _b
from ._kernels import forward_distributions
from .evaluation import _sparse_lu
from .policies import softmax
from .sampling import check_trajectories, rollout

__all__ = [
    "PPOHistory",
    "PPOResult",
    "SampledPPOResult",
    "adapt_kl_coefficient",
    "clipped_surrogate_gradient",
    "clipped_surrogate_objective",
    "expected_kl_divergence",
    "kl_penalized_surrogate_gradient",
    "kl_penalized_surrogate_objective",
    "ppo_clip_exact",
    "ppo_clip_gradient",
    "ppo_clip_objective",
    "ppo_kl_exact",
    "ppo_kl_penalty_objective",
    "sampled_clipped_surrogate_objective",
    "sampled_ppo_clip",
    "surrogate_gradient",
    "surrogate_objective",
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


# --------------------------------------------------------------------------------------------
# exact level


def _old_new(mdp, pi_old, pi_new, what, *, episodic=True):
    pi_new, pi_old = _b._check_pair(mdp, pi_new, pi_old, what, episodic=episodic)
    return pi_old, pi_new


def _check_theta(theta, mdp, name="theta_new"):
    theta = _v.as_float_array(theta, name)
    _v.check_shape(theta, mdp.shape, name, what="to match the MDP")
    _v.check_finite(theta, name)
    return theta


def _weights(mdp, pi_old, eta_old, horizon):
    r"""State weights w(s): eta_old(s) (= d_old(s)/(1-gamma), or the expected visits per episode at
    gamma == 1), or sum_{t<H} gamma^t Pr_old(s_t = s) for a horizon H."""
    if horizon is None:
        return eta_old
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    dists, _ = forward_distributions(mdp, pi_old, horizon, np.asarray(mdp.mu, dtype=float))
    return (mdp.gamma ** np.arange(horizon)) @ dists if horizon else np.zeros(mdp.n_states)


def _ratios(pi_new, pi_old):
    """pi_new / pi_old where pi_old > 0, and 1 where pi_old = 0 (those terms carry weight 0)."""
    return np.divide(pi_new, pi_old, out=np.ones_like(pi_new), where=pi_old > 0)


def _softmax_backward(pi, g):
    r"""Chain rule through the row softmax: d/dtheta_{s,b} = pi(b|s)(g(s,b) - sum_a pi(a|s) g(s,a))."""
    return pi * (g - np.sum(pi * g, axis=1, keepdims=True))


def _clip_grad_pi(pi_old, pi_new, adv, epsilon):
    """d/dpi_new(a|s) of sum_a pi_old(a|s) l(pi_new/pi_old, A): 0 on clipped or unsampled pairs, A elsewhere."""
    r = _ratios(pi_new, pi_old)
    return np.where(_clip_active(r, adv, epsilon) | (pi_old == 0), 0.0, adv)


def surrogate_objective(mdp, pi_old, pi_new):
    r"""The exact surrogate :math:`L_{\pi_{old}}(\pi_{new})`, zero at :math:`\pi_{new} = \pi_{old}`.

    .. math::
        L_{\pi_{old}}(\pi_{new}) = \frac{1}{1-\gamma}E_{s\sim d_{old},\,a\sim\pi_{old}}
        \Big[\frac{\pi_{new}(a|s)}{\pi_{old}(a|s)}A_{old}(s,a)\Big]
        = \frac{1}{1-\gamma}\sum_s d_{old}(s)\sum_a\pi_{new}(a|s)A_{old}(s,a)

    with :math:`d_{old}` normalised (sums to 1). It is the performance difference lemma
    (:func:`tabular_rl.bounds.performance_difference`) with the new policy's visitation
    replaced by the old one's, so :math:`J(\pi_{old}) + L` agrees with :math:`J(\pi_{new})` in
    value and gradient at :math:`\pi_{new} = \pi_{old}`. TRPO's :math:`L^{TRPO}` adds
    :math:`J(\pi_{old})`. The lecture's "Monotonic Improvement Theory" slide writes
    :math:`s\sim d^{\pi'}` in this definition; the surrogate uses the **old** policy's
    visitation (:math:`d^{\pi}`), which is the point of it (no data from :math:`\pi'` needed).
    Note the argument order (old first) differs from ``tabular_rl.bounds`` (new first).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_old, pi_new : array_like, shape (S, A)

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2015), eq. (3)-(4); Achiam et al. (2017), Corollary 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import surrogate_objective
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> surrogate_objective(mdp, [[0.5, 0.5]], [[0.5, 0.5]]), surrogate_objective(mdp, [[0.5, 0.5]], [[1.0, 0.0]])
    (0.0, 1.0)
    """
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "surrogate_objective")
    old = _b._evaluate_old(mdp, pi_old, "surrogate_objective")
    return _b._surrogate(old.eta, old.adv, pi_new)


def surrogate_gradient(mdp, pi_old, theta_new):
    r"""Gradient of :func:`surrogate_objective` in the new policy's softmax logits.

    .. math::
        \frac{\partial L}{\partial\theta_{s,b}} = \frac{d_{old}(s)}{1-\gamma}\,\pi_{new}(b|s)
        \Big(A_{old}(s,b) - \sum_a\pi_{new}(a|s)A_{old}(s,a)\Big),\quad \pi_{new} = \mathrm{softmax}(\theta_{new})

    At :math:`\pi_{new} = \pi_{old}` this is the exact policy gradient
    :math:`\nabla_\theta J = d(s)\pi(a|s)A(s,a)/(1-\gamma)` (TRPO eq. (4)).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_old : array_like, shape (S, A)
    theta_new : array_like, shape (S, A)
        Logits of the new policy.

    Returns
    -------
    ndarray, shape (S, A)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import surrogate_gradient
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> surrogate_gradient(mdp, [[0.5, 0.5]], np.zeros((1, 2)))
    array([[ 0.5, -0.5]])
    """
    theta_new = _check_theta(theta_new, mdp)
    pi_new = softmax(theta_new)
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "surrogate_gradient")
    old = _b._evaluate_old(mdp, pi_old, "surrogate_gradient")
    return _softmax_backward(pi_new, old.eta[:, None] * old.adv)


def clipped_surrogate_objective(mdp, pi_old, pi_new, epsilon, *, horizon=None):
    r"""PPO's clipped objective in exact expectation under the old policy.

    .. math::
        L^{CLIP}_{\pi_{old}}(\pi_{new}) = \frac{1}{1-\gamma}\sum_s d_{old}(s)\sum_{a:\,\pi_{old}(a|s)>0}
        \pi_{old}(a|s)\,\min\big(r A_{old}(s,a),\ \mathrm{clip}(r, 1-\epsilon, 1+\epsilon)A_{old}(s,a)\big),
        \qquad r = \frac{\pi_{new}(a|s)}{\pi_{old}(a|s)}

    It is the expectation of the sample objective over :math:`s\sim d_{old}`, :math:`a\sim\pi_{old}`
    (actions the old policy never takes contribute nothing, as they are never sampled), scaled
    by :math:`1/(1-\gamma)` like :func:`surrogate_objective`. When the old policy has full support
    (softmax policies) :math:`L^{CLIP}\le L` with equality, and equal gradient, at
    :math:`\pi_{new} = \pi_{old}`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_old, pi_new : array_like, shape (S, A)
    epsilon : float in [0, 1)
    horizon : int, optional
        If given, replace :math:`d_{old}(s)/(1-\gamma)` by the truncated
        :math:`\sum_{t=0}^{H-1}\gamma^t\Pr_{old}(s_t = s)` (still with the infinite-horizon
        :math:`A_{old}`): the exact expectation of
        :func:`sampled_clipped_surrogate_objective` on rollouts of H steps.

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2017), eq. (7).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import clipped_surrogate_objective
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> clipped_surrogate_objective(mdp, [[0.5, 0.5]], [[1.0, 0.0]], 0.2)   # (0.5 (1.2)(0.5) + 0.5 (0.8)(-0.5)) / 0.5
    0.19999999999999996
    """
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "clipped_surrogate_objective")
    epsilon = _check_epsilon(epsilon)
    old = _b._evaluate_old(mdp, pi_old, "clipped_surrogate_objective")
    w = _weights(mdp, pi_old, old.eta, horizon)
    terms = pi_old * _clip_terms(_ratios(pi_new, pi_old), old.adv, epsilon)
    return float(w @ np.sum(terms, axis=1))


def clipped_surrogate_gradient(mdp, pi_old, theta_new, epsilon):
    r"""Gradient of :func:`clipped_surrogate_objective` in the new policy's softmax logits.

    .. math::
        \frac{\partial L^{CLIP}}{\partial\pi_{new}(a|s)} = \frac{d_{old}(s)}{1-\gamma}\,
        A_{old}(s,a)\,\mathbb 1[\text{not clipped}],\qquad
        \frac{\partial L^{CLIP}}{\partial\theta_{s,b}} = \pi_{new}(b|s)\Big(g(s,b) - \sum_a\pi_{new}(a|s)g(s,a)\Big)

    where "clipped" is A > 0 and r > 1 + eps, or A < 0 and r < 1 - eps (and pairs with
    :math:`\pi_{old}(a|s) = 0` get 0). At the kinks the unclipped side's derivative is used.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_old : array_like, shape (S, A)
    theta_new : array_like, shape (S, A)
    epsilon : float in [0, 1)

    Returns
    -------
    ndarray, shape (S, A)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import clipped_surrogate_gradient
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> clipped_surrogate_gradient(mdp, [[0.5, 0.5]], [[5.0, 0.0]], 0.2)   # both sides clipped
    array([[0., 0.]])
    """
    theta_new = _check_theta(theta_new, mdp)
    pi_new = softmax(theta_new)
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "clipped_surrogate_gradient")
    epsilon = _check_epsilon(epsilon)
    old = _b._evaluate_old(mdp, pi_old, "clipped_surrogate_gradient")
    g = old.eta[:, None] * _clip_grad_pi(pi_old, pi_new, old.adv, epsilon)
    return _softmax_backward(pi_new, g)


def expected_kl_divergence(mdp, pi_old, pi_new):
    r"""Expected KL, **old first**, under the old policy's normalised visitation.

    .. math:: \bar D_{KL} = \sum_s d_{old}(s)\,KL(\pi_{old}(\cdot|s)\|\pi_{new}(\cdot|s))

    PPO's penalty and its adaptive-beta measurement d. ``inf`` if the new policy drops an
    action the old one takes in a visited state.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d is its per-episode normalised visitation.
    pi_old, pi_new : array_like, shape (S, A)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import expected_kl_divergence
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> round(expected_kl_divergence(mdp, [[0.5, 0.5]], [[0.9, 0.1]]), 6)
    0.510826
    """
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "expected_kl_divergence")
    d_old = _b._visitation(mdp, pi_old, "expected_kl_divergence", "pi_old")
    return _b._expectation(d_old, _b._kl_rows(pi_old, pi_new))


def kl_penalized_surrogate_objective(mdp, pi_old, pi_new, beta):
    r"""The exact KL-penalised surrogate of adaptive-KL PPO (to maximise).

    .. math::
        L^{KLPEN} = L_{\pi_{old}}(\pi_{new}) - \beta\sum_s d_{old}(s)\,KL(\pi_{old}(\cdot|s)\|\pi_{new}(\cdot|s))

    with the surrogate of :func:`surrogate_objective` (it carries :math:`1/(1-\gamma)`, the KL
    expectation does not, as on the lecture's slide; beta here is :math:`1/(1-\gamma)` times
    the beta of the per-sample mean in :func:`ppo_kl_penalty_objective`). KL is **old first**
    as in the PPO paper; the slide's :math:`\bar D_{KL}(\theta\|\theta_k)` is new first.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_old, pi_new : array_like, shape (S, A)
    beta : float >= 0

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2017), eq. (8).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import kl_penalized_surrogate_objective
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> kl_penalized_surrogate_objective(mdp, [[0.5, 0.5]], [[0.5, 0.5]], 3.0)
    0.0
    """
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "kl_penalized_surrogate_objective")
    beta = _v.check_real(beta, "beta", low=0.0)
    old = _b._evaluate_old(mdp, pi_old, "kl_penalized_surrogate_objective")
    kl = _b._expectation(old.d, _b._kl_rows(pi_old, pi_new))
    return _b._surrogate(old.eta, old.adv, pi_new) - _b._scaled(beta, kl)


def kl_penalized_surrogate_gradient(mdp, pi_old, theta_new, beta):
    r"""Gradient of :func:`kl_penalized_surrogate_objective` in the new policy's logits.

    .. math::
        \nabla_{\theta_{s,\cdot}} = \nabla_{\theta_{s,\cdot}}L - \beta\,d_{old}(s)\,\big(\pi_{new}(\cdot|s) - \pi_{old}(\cdot|s)\big)

    using :math:`\partial KL(p\|\mathrm{softmax}\,\theta)/\partial\theta = \mathrm{softmax}\,\theta - p`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states: then ``pi_old`` must be proper and d/(1 - gamma) becomes the expected visits before termination.
    pi_old : array_like, shape (S, A)
    theta_new : array_like, shape (S, A)
    beta : float >= 0

    Returns
    -------
    ndarray, shape (S, A)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.ppo import kl_penalized_surrogate_gradient
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[0.0, 0.0]], gamma=0.5)
    >>> kl_penalized_surrogate_gradient(mdp, [[0.5, 0.5]], [[np.log(3.0), 0.0]], 1.0)   # pulled back to old
    array([[-0.25,  0.25]])
    """
    theta_new = _check_theta(theta_new, mdp)
    pi_new = softmax(theta_new)
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "kl_penalized_surrogate_gradient")
    beta = _v.check_real(beta, "beta", low=0.0)
    old = _b._evaluate_old(mdp, pi_old, "kl_penalized_surrogate_gradient")
    grad = _softmax_backward(pi_new, old.eta[:, None] * old.adv)
    return grad - beta * old.d[:, None] * (pi_new - pi_old)


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


def _sample_ratios(pi_new, pi_old, s, a, name="pi_old"):
    p_old = pi_old[s, a]
    bad = p_old <= 0
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} gives probability 0 to the sampled action {int(a[idx])} in state {int(s[idx])} "
            f"(sample index {idx}); the trajectories must be sampled from {name}"
        )
    return pi_new[s, a] / p_old


def sampled_clipped_surrogate_objective(mdp, trajectories, pi_old, pi_new, advantages, epsilon):
    r"""The clipped surrogate estimated from rollouts of the old policy, discount-weighted.

    .. math::
        \hat L^{CLIP} = \frac1N\sum_{i=1}^N\sum_{t=0}^{H-1}\gamma^t
        \min\big(r_{it}\hat A_{it},\ \mathrm{clip}(r_{it}, 1-\epsilon, 1+\epsilon)\hat A_{it}\big),
        \qquad r_{it} = \frac{\pi_{new}(a_{it}|s_{it})}{\pi_{old}(a_{it}|s_{it})}

    equal to ``H * ppo_clip_objective(r, gamma**t * A_hat, epsilon)`` (the clipped term is
    positively homogeneous in A). The :math:`\gamma^t` weights make it the sample version of the
    discounted visitation: with episodes drawn by ``rollout(mdp, pi_old, N, H, rng=...)`` and
    :math:`\hat A_{it} = A_{old}(s_{it}, a_{it})` it is an **unbiased** estimate of
    ``clipped_surrogate_objective(mdp, pi_old, pi_new, epsilon, horizon=H)``, which tends to the
    infinite-horizon objective as :math:`\gamma^H\to0`. With estimated advantages (GAE) it is
    not unbiased even when :math:`E[\hat A|s,a] = A_{old}`, since the clip is not linear in A.
    Most implementations drop :math:`\gamma^t` and average over all samples; that estimates the
    objective under the undiscounted state distribution instead.

    Parameters
    ----------
    mdp : TabularMDP
    trajectories : Trajectories
        N episodes of H steps, sampled from ``pi_old``.
    pi_old, pi_new : array_like, shape (S, A)
    advantages : array_like, shape (N, H)
        :math:`\hat A_{it}`.
    epsilon : float in [0, 1)

    Returns
    -------
    float

    References
    ----------
    Schulman et al. (2017), eq. (7).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.ppo import sampled_clipped_surrogate_objective
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 0.0]])
    >>> sampled_clipped_surrogate_objective(mdp, tr, [[0.5, 0.5]], [[1.0, 0.0]], [[0.5, -0.5]], 0.2)
    0.4
    """
    trajectories = check_trajectories(trajectories, mdp)
    pi_old, pi_new = _old_new(mdp, pi_old, pi_new, "sampled_clipped_surrogate_objective")
    epsilon = _check_epsilon(epsilon)
    adv = _v.as_float_array(advantages, "advantages")
    N, H = trajectories.n_episodes, trajectories.horizon
    _v.check_shape(adv, (N, H), "advantages", what="(one per sampled step)")
    _v.check_finite(adv, "advantages")
    s, a = trajectories.states[:, :-1], trajectories.actions
    r = _sample_ratios(pi_new, pi_old, s, a)
    disc = mdp.gamma ** np.arange(H)
    return float(np.sum(_clip_terms(r, adv * disc, epsilon)) / N)


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
