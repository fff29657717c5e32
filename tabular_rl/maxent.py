r"""Maximum entropy inverse RL (Ziebart, Maas, Bagnell and Dey, AAAI 2008).

The model: over the paths :math:`\zeta = (s_0, a_0, s_1, \dots, a_{H-1}, s_H)` of a
finite horizon H from a start state :math:`s_0`,

.. math:: P(\zeta\mid\theta, s_0) = \frac{e^{\theta^\top f_\zeta}}{Z_{s_0}(\theta)}
          \prod_{t=0}^{H-1} P(s_{t+1}\mid s_t, a_t),\qquad
          f_\zeta = \sum_{t=0}^{H-1} f(s_t),

eq. (4) of the paper (eq. (2) for deterministic MDPs, where the product is 1).
Conventions fixed here, once, for the whole module:

* **Time steps.** The reward :math:`r(s) = \theta^\top f(s)` is paid by the
  *current* state at each of the H steps t = 0..H-1; the final state
  :math:`s_H` is not rewarded. The backward pass, the forward pass, the
  empirical feature counts :math:`\tilde f` and the log-likelihood all use
  exactly these time indices. Undiscounted, as in the paper (``mdp.gamma`` is
  ignored).
* **Log space.** The partition functions grow like :math:`A^H e^{H r_{\max}}`;
  every backward quantity is kept as a logarithm
  (:math:`\log Z_{a,t}(s) = r(s) + \log\sum_k P(k|s,a)Z_{k,t+1}` through
  :func:`tabular_rl._kernels.log_expected_exp`), so rewards of 1e6 and horizons
  of 1000 give finite, normalised results.
* **Terminal states.** A set of terminal states starts the backward pass from
  :math:`Z_{s,H} = 1` there and 0 (log = -inf) elsewhere (the goal-directed
  model of the paper's Algorithm 1: only paths that are in the set at step H
  count). ``terminal_states=None`` means the states marked terminal when the MDP
  was built (``TabularMDP(..., terminal=...)``; the gridworld builders and
  ``from_gymnasium`` mark theirs), and, if none was marked, :math:`Z_{s,H} = 1`
  everywhere (the model over all length-H paths). States that are terminal only
  because ``P`` and ``R`` make them absorbing with zero reward are not used by
  default: MaxEnt IRL takes its reward separately, and the MDP's ``R`` is often a
  placeholder of zeros. Pass ``terminal_states=np.ones(S, bool)`` for the
  all-paths model on an MDP with marked terminal states. The
  forward pass uses the MDP's own dynamics: make goal states absorbing in the
  MDP if that is the model you want. A state from which no path reaches the set
  in time has :math:`Z = 0`; its local action probabilities are then uniform by
  convention, and it is never visited under the model.
* **The printed Algorithm 1** has three things to be aware of (see
  docs/guide/maxent.md#errata-of-algorithm-1): its forward-pass indices are wrong (step 5 as printed does not
  conserve probability mass: this module uses
  :math:`D_{t+1}(s') = \sum_{s,a} D_t(s)\pi_t(a|s)P(s'|s,a)`); it computes one
  stationary policy where the finite-horizon model needs a time-indexed one
  (both are here: :func:`maxent_backward_pass` and
  :func:`maxent_backward_pass_stationary`); and in stochastic MDPs its forward
  pass with the true dynamics is not the gradient of the eq. (4) likelihood
  (:func:`maxent_path_marginals` is, and is what :func:`maxent_irl` ascends).
  For stochastic dynamics the principled model is maximum causal entropy,
  :mod:`tabular_rl.mce`.

Where the code is: :mod:`tabular_rl.maxent_passes` holds the partition function, the backward
and forward passes and the path marginals; :mod:`tabular_rl.maxent_likelihood` the
log-likelihood, its gradient and the IRL loop. This module re-exports every public name of
both, so ``from tabular_rl.maxent import ...`` keeps working.
"""

from .maxent_likelihood import (
    IRLResult,
    maxent_irl,
    maxent_log_likelihood_gradient,
    maxent_log_likelihood_objective,
)
from .maxent_passes import (
    MaxEntPartition,
    maxent_backward_pass,
    maxent_backward_pass_stationary,
    maxent_forward_pass,
    maxent_forward_pass_per_step,
    maxent_log_partition,
    maxent_partition,
    maxent_path_marginals,
)

__all__ = [
    "IRLResult",
    "MaxEntPartition",
    "maxent_backward_pass",
    "maxent_backward_pass_stationary",
    "maxent_forward_pass",
    "maxent_forward_pass_per_step",
    "maxent_irl",
    "maxent_log_likelihood_gradient",
    "maxent_log_likelihood_objective",
    "maxent_log_partition",
    "maxent_partition",
    "maxent_path_marginals",
]
