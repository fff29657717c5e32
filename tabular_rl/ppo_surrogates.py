r"""PPO's exact surrogates: expectations over the old policy's discounted visitation on a known
MDP, of two policies (old first, as in the PPO API), and their gradients in the new policy's logits.

With the old policy's **normalised** discounted visitation :math:`d_{old}` and exact advantage
:math:`A_{old}` (the factor :math:`1/(1-\gamma)` puts the expectation on the scale of J):

* :func:`surrogate_objective`, :func:`surrogate_gradient`:
  :math:`L = \frac{1}{1-\gamma}\sum_s d_{old}(s)\sum_a\pi_{new}(a|s)A_{old}(s,a)`;
* :func:`clipped_surrogate_objective`, :func:`clipped_surrogate_gradient`: the clipped version;
* :func:`expected_kl_divergence`: :math:`E_{s\sim d_{old}}KL(\pi_{old}\|\pi_{new})[s]`;
* :func:`kl_penalized_surrogate_objective`, :func:`kl_penalized_surrogate_gradient`:
  :math:`L - \beta\,E_{s\sim d_{old}}KL(\pi_{old}\|\pi_{new})[s]`;
* :func:`sampled_clipped_surrogate_objective`: the clipped surrogate estimated from rollouts of
  the old policy (an unbiased estimate of the finite-horizon clipped surrogate).

The sample-level losses are in :mod:`tabular_rl.ppo_losses`, the update loops in
:mod:`tabular_rl.ppo_loops`; all are importable from :mod:`tabular_rl.ppo`. The formulas and
conventions are in docs/guide/ppo.md.
"""

import numpy as np

from . import _validation as _v
from . import bounds as _b
from ._kernels import forward_distributions
from .policies import softmax
from .ppo_losses import _check_epsilon, _clip_active, _clip_terms
from .sampling import check_trajectories

__all__ = [
    "clipped_surrogate_gradient",
    "clipped_surrogate_objective",
    "expected_kl_divergence",
    "kl_penalized_surrogate_gradient",
    "kl_penalized_surrogate_objective",
    "sampled_clipped_surrogate_objective",
    "surrogate_gradient",
    "surrogate_objective",
]


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
# sample estimate of the clipped surrogate


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
