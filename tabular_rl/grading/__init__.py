r"""Grade a student's function against the library's exact answer, explain the failure, name the known bug.

>>> import tabular_rl as trl
>>> from tabular_rl import grading
>>> def student_gae(rewards, values, gamma, lambda_, terminated):     # the lecture slide's (1 - gamma)
...     return grading.concepts()["gae"].mistakes[0].fn(dict(
...         rewards=rewards, values=values, gamma=gamma, lambda_=lambda_, terminated=terminated))
>>> grade = grading.check("gae", student_gae, max_examples=20)
>>> grade.passed, grade.diagnosis.name
(False, 'one_minus_gamma_normalizer')
>>> print(grade.report)                                              # doctest: +ELLIPSIS
gae: FAILED (fn(rewards, values, gamma, lambda_, terminated) -> advantages)
  your function returned a wrong answer
  at index (0,): expected -1.0, got -2.0: error 1 > allowed 0.00013 (1 of 2 entries outside the tolerance)
  smallest input found (after ... examples, seed 0):
    rewards = array([0., 0.])
    values = array([1., 1., 1.])
    gamma = 0.0
    lambda_ = 1.0
    terminated = array([False, False])
  expected (tabular_rl.gae(rewards, values, gamma, lambda_, terminated=terminated)):
    array([-1., -1.])
  got:
    array([-2., -1.])
  identity: recursion A_t = delta_t + gamma lambda (1 - terminated_t) A_t+1 with A_T = 0: your advantages' ...
  tolerance: samples, |got - expected| <= 1e-05 * scale + 1e-05 * |expected| with scale = ...
  diagnosis: one_minus_gamma_normalizer: the k-step estimators averaged with weights (1 - gamma) ...
  conventions: rewards (T,) r_t for t = 0..T-1; ...

:func:`check` drives hypothesis over the concept's inputs (derandomised by ``seed``: the same seed gives
the same :class:`Grade`), calls the student's function on plain NumPy arrays, compares with the library
under the concept's published tolerance, shrinks a failure to a small counterexample, and tries the
catalogue of known mistakes on it. A function that raises, hangs past the per-call time limit
(``timeout=``, 10 s by default; it runs in a daemon thread, and a call past the limit is abandoned and
keeps running until the process exits) or returns the wrong shape or dtype, NaN or ``None`` gets a
failed Grade whose report says so: the grader never raises on student code and prints nothing.
:func:`write_gradescope` writes Gradescope's results.json; :func:`print_report` prints text.

>>> from tabular_rl.grading import DEFAULT_TIMEOUT, GRADESCOPE_VISIBILITY
>>> DEFAULT_TIMEOUT                        # seconds per call of the student's function: check(timeout=)
10.0
>>> GRADESCOPE_VISIBILITY                  # the values of write_gradescope(visibility=)
('hidden', 'after_due_date', 'after_published', 'visible')

Installing: this module (and :mod:`tabular_rl.strategies`) needs hypothesis, the ``test`` extra
(``pip install -e '.[test]'`` in a clone, ``pip install 'tabular-rl-exact[test]'`` otherwise);
``import tabular_rl`` does not import it, and importing this module without hypothesis raises an
``ImportError`` that says so.

Concepts
--------
Students' functions take plain arrays: ``P`` dense (S, A, S) with ``P[s, a, s2]`` = P(s2|s, a), ``R``
the expected reward (S, A), ``pi`` (S, A) rows on the simplex, ``gamma`` a float; arguments are passed
positionally in the order shown. ``concepts()[name].describe()`` prints each one in full.

================================  ==========================================================  =============
concept                           signature                                                   tolerance
================================  ==========================================================  =============
policy_evaluation                 fn(P, R, gamma, pi) -> V                                    values
q_values                          fn(P, R, gamma, pi) -> Q                                    values
value_iteration                   fn(P, R, gamma) -> V_star                                   values
policy_iteration                  fn(P, R, gamma) -> pi  ((S,) actions or (S, A); optimal     values
                                  with ties allowed: any action within tolerance of max Q*)
discounted_visitation             fn(P, gamma, pi, mu) -> d  (normalised, sums to 1)          distributions
gae                               fn(rewards, values, gamma, ``lambda_``, terminated) ->      samples
                                  advantages  ((T,), values (T+1,), terminated (T,) bool)
ppo_clip_objective                fn(ratios, advantages, epsilon) -> float  (the mean, to     samples
                                  maximise)
policy_gradient                   fn(P, R, gamma, mu, theta) -> grad  (softmax logits,        gradients
                                  (S, A))
maxent_backward_pass              fn(P, state_rewards, horizon) -> policy  (H, S, A)          distributions
maxent_forward_pass               fn(P, pi, horizon, mu) -> D  (pi (S, A) or                  counts
                                  (H, S, A); D (S,) sums to H)
importance_sampling               fn(states, actions, rewards, target, behavior, gamma) ->    samples
                                  estimate  (ordinary IS of the finite-horizon return)
per_decision_importance_sampling  fn(states, actions, rewards, target, behavior, gamma) ->    samples
                                  estimate  (per-decision IS)
episodic_policy_evaluation        fn(P, R, terminal, pi) -> V  (gamma = 1, terminal (S,)      episodic_values
                                  bool, pi proper)
episodic_value_iteration          fn(P, R, terminal) -> V_star  (gamma = 1)                   episodic_values
================================  ==========================================================  =============

The importance-sampling concepts are graded on the estimate of the given episodes (an exact function of
them: no sampling noise enters the grade; the episodes are drawn from the behavior policy's support), and
a failing report also checks the student's estimator for unbiasedness exactly, over every episode the
behavior policy can produce (enumerated with their probabilities). The episodic concepts pass ``P`` and
``R`` with the terminal states already absorbing with zero reward (as ``TabularMDP(..., terminal=...)``
stores them) and the terminal mask; their policies are proper (for value iteration every policy is, so
that V* is finite and value iteration converges).

Known mistakes
--------------
Each concept carries a catalogue (``concepts()[name].mistakes``), each mistake an implementation with a
name and a one-line explanation; on a failure each is run on the counterexample, and the first whose output
matches the student's (within the tolerance) while the correct answer does not is the ``diagnosis``:

* policy_evaluation: ``reward_discounted`` (gamma applied to the reward), ``fixed_sweeps`` (stopped after
  k sweeps; k named), ``uniform_policy``;
* q_values: ``reward_discounted``, ``next_value_undiscounted``, ``optimal_backup`` (V* in place of V^pi);
* value_iteration: ``fixed_sweeps`` (k named), ``reward_discounted``, ``action_average``;
* policy_iteration: ``myopic`` (argmax r), ``single_improvement``, ``minimizes``;
* discounted_visitation: ``unnormalized`` (off by 1/(1 - gamma)), ``not_transposed``, ``one_step_late``;
* gae: ``one_minus_gamma_normalizer``, ``bootstrap_through_terminations``, ``ppo_paper_exponent``
  (T - t + 1), ``terminated_shifted`` (CleanRL's dones[t + 1]), ``no_bootstrap_at_end``;
* ppo_clip_objective: ``clip_advantage``, ``max_instead_of_min``, ``unclipped``, ``sum_instead_of_mean``,
  ``negated_loss``;
* policy_gradient: ``q_in_place_of_advantage``, ``missing_one_over_one_minus_gamma``,
  ``direct_parametrization``, ``start_distribution``;
* maxent_backward_pass: ``hard_max`` (value iteration), ``stationary``, ``expected_log_backup``,
  ``successor_reward``;
* maxent_forward_pass: ``printed_indices`` (the paper's index erratum), ``h_plus_one``, ``stationary``;
* importance_sampling: ``per_decision``, ``weighted``, ``inverted_ratio``, ``undiscounted``;
  per_decision_importance_sampling: ``full_trajectory_ratio``, ``previous_ratios``, ``weighted``;
* episodic_policy_evaluation: ``fixed_sweeps`` (k named), ``discounted`` (gamma < 1 named),
  ``uniform_policy``; episodic_value_iteration: ``fixed_sweeps``, ``discounted``, ``action_average``.

Tolerances
----------
``|got - expected| <= atol * scale + rtol * |expected|`` entrywise, with ``TOLERANCES[name]`` giving
``rtol``, ``atol``, the ``scale`` and the reason. The library's own tests hold its identities to
``exact_solve`` (1e-10 (1 + max|R|) / (1 - gamma): one LU solve) and ``two_solves``
(1e-9 (1 + max|R|) / (1 - gamma)^2); students are graded with more slack, because their iterative
methods stop at a tolerance: ``values`` (rtol 1e-6, atol 1e-6 (1 + max|R|) / (1 - gamma)) passes a value
iteration stopped at ||V_k+1 - V_k|| < 1e-6 at every gamma <= 0.99, ``episodic_values`` puts the expected
number of steps to termination in the place of 1 / (1 - gamma), and ``samples`` (1e-5) passes float32
code. Every catalogued mistake is off by far more. ``check(..., rtol=, atol=)`` overrides them (``atol``
in units of the concept's scale).

>>> from tabular_rl.grading import TOLERANCES
>>> t = TOLERANCES["values"]               # at gamma = 0.9 and max|R| = 1: atol 1e-6 * 2 / 0.1 = 2e-5
>>> t.rtol, t.atol, t.scale
(1e-06, 1e-06, '(1 + max|R|) / (1 - gamma)')
>>> sorted(TOLERANCES)
['counts', 'distributions', 'episodic_values', 'exact_solve', 'gradients', 'samples', 'two_solves', 'values']

Other signatures
----------------
Grade a function with another signature through a one-line adapter::

    check("gae", lambda r, v, g, lam, term: student.gae(r, v, term, gamma=g, lam=lam))       # lam, order
    check("gae", lambda r, v, g, lam, term:          # CleanRL: values (T,), next_value, dones[t + 1] and
          student.gae(r, v[:-1], np.append(False, term[:-1]), v[-1], term[-1], g, lam))  # next_done
    check("ppo_clip_objective", lambda ratios, adv, eps:                 # a loss to minimise, log-probs
          -student.ppo_loss(np.log(ratios), np.zeros_like(ratios), adv, eps))
    check("policy_evaluation", lambda P, R, gamma, pi:                   # pymdptoolbox's (A, S, S) layout
          student.evaluate(P.transpose(1, 0, 2), R, gamma, pi))
    check("q_values", lambda *args: student.q(*map(torch.as_tensor, args)).numpy())          # PyTorch

(CleanRL's ``dones[t]`` says that s_t starts a new episode, so ``dones[t + 1]`` is ``terminated[t]`` and
``next_done`` is ``terminated[T - 1]``; ``np.log(0)`` of a zero ratio is ``-inf``, whose ``exp`` is 0 again.)
"""

try:
    import hypothesis  # noqa: F401  (the test extra; not a runtime dependency of tabular_rl)
except ImportError as _exc:
    raise ImportError(
        "tabular_rl.grading needs hypothesis: pip install -e '.[test]' (or pip install 'tabular-rl-exact[test]')"
    ) from _exc

from ._check import DEFAULT_TIMEOUT, Grade, check
from ._concepts import TOLERANCES, Concept, Mistake, Tolerance, Variants, concepts, get_concept
from ._reporters import GRADESCOPE_VISIBILITY, print_report, write_gradescope

__all__ = [
    "Concept",
    "DEFAULT_TIMEOUT",
    "GRADESCOPE_VISIBILITY",
    "Grade",
    "Mistake",
    "TOLERANCES",
    "Tolerance",
    "Variants",
    "check",
    "concepts",
    "get_concept",
    "print_report",
    "write_gradescope",
]
