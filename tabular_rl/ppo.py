r"""PPO at both levels: the sample objectives a student writes, their exact
expectations on a known MDP, and the update loops built on each.

Sample level (Schulman et al. 2017 [PPO]_): with ratios :math:`r_t = \pi_\theta(a_t|s_t)/\pi_{old}(a_t|s_t)`
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
be compared. Every loop records, for each step, CPO's Corollary 1 bounds [CPO]_
(:func:`tabular_rl.bounds.performance_bounds`), which the realised improvement must satisfy.

Where the code is, one module per layer: :mod:`tabular_rl.ppo_losses` (the sample-level
losses), :mod:`tabular_rl.ppo_surrogates` (the exact surrogates, their gradients and the
sampled clipped surrogate) and :mod:`tabular_rl.ppo_loops` (the update loops and their
results). This module re-exports every public name of the three, so
``from tabular_rl.ppo import ...`` keeps working.

References
----------
.. [PPO] J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal policy
   optimization algorithms", arXiv:1707.06347, 2017, eq. (6)-(8) and section 4.
.. [CPO] J. Achiam, D. Held, A. Tamar, P. Abbeel, "Constrained policy optimization",
   ICML 2017, Corollary 1.
"""

from .ppo_loops import (
    PPOHistory,
    PPOResult,
    SampledPPOResult,
    ppo_clip_exact,
    ppo_kl_exact,
    sampled_ppo_clip,
)
from .ppo_losses import (
    adapt_kl_coefficient,
    ppo_clip_gradient,
    ppo_clip_objective,
    ppo_kl_penalty_objective,
)
from .ppo_surrogates import (
    clipped_surrogate_gradient,
    clipped_surrogate_objective,
    expected_kl_divergence,
    kl_penalized_surrogate_gradient,
    kl_penalized_surrogate_objective,
    sampled_clipped_surrogate_objective,
    surrogate_gradient,
    surrogate_objective,
)

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
