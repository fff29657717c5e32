"""Robustness of the whole public API: inputs are never modified, bad input never crashes.

One table, ``ENTRIES``, lists every public callable of the package (``tabular_rl.__all__``,
the public submodules' extras, the plots of the optional ``tabular_rl.plot``, and the public methods of ``TabularMDP`` and ``GridWorld`` that
take arrays), each with a builder of valid keyword arguments on a fixed small MDP and the names
of its array arguments. Two properties run over the table:

* immutability: after a call, valid or failing, every ndarray the caller passed (and the MDP's
  own ``P``, ``R``, ``mu``) is bitwise what it was;
* fuzz: one array argument replaced by a bad value (NaN, inf, negative, object/complex/bool
  dtype, empty, 0-d, huge, wrong shape, non-contiguous, read-only, ragged list, None, a string)
  either gives a finite result or raises ValueError/TypeError whose message names the argument.
"""

import dataclasses
import inspect
import re
import warnings
from typing import Callable, NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import tabular_rl as trl
from tabular_rl import gridworld as gw_module
from tabular_rl import plot as plot_module
from tabular_rl import strategies as trl_strategies

S, A, K, H, N = 3, 2, 2, 3, 4
GAMMA = 0.9


def _base_mdp():
    P = np.array(
        [
            [[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]],
            [[0.3, 0.3, 0.4], [0.1, 0.0, 0.9]],
            [[0.2, 0.6, 0.2], [1.0, 0.0, 0.0]],
        ]
    )
    R = np.array([[1.0, -0.5], [0.25, 2.0], [-1.0, 0.5]])
    mu = np.array([0.5, 0.3, 0.2])
    return P, R, mu


def _mdp(layout):
    P, R, mu = _base_mdp()
    if layout == "sparse":
        P = sp.csr_matrix(P.reshape(S * A, S))
    return trl.TabularMDP(P, R, GAMMA, mu=mu)


MDPS = {"dense": _mdp("dense"), "sparse": _mdp("sparse")}


# ------------------------------------------------------------------ valid arguments
# Every builder returns fresh, writeable, C-contiguous float64 arrays (so an in-place write
# would really land in the caller's array), and distributions are normalised only to within
# 1e-10, so a renormalisation done in place would show.


def _rough(p):
    """A distribution (last axis) whose rows sum to 1 + 1e-10: valid, but renormalised by the library."""
    return np.ascontiguousarray(p, dtype=np.float64) * (1.0 + 1e-10)


def pi_a():
    return _rough([[0.6, 0.4], [0.25, 0.75], [0.5, 0.5]])


def pi_b():
    return _rough([[0.3, 0.7], [0.8, 0.2], [0.1, 0.9]])


def pi_det():
    return np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def theta():
    return np.array([[0.2, -0.3], [1.0, 0.5], [-0.4, 0.1]])


def features():
    return np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


def mu_vec():
    return _rough([0.2, 0.5, 0.3])


def V_vec():
    return np.array([1.0, -2.0, 0.5])


def _trajectories(mdp, pi=None, n=N, horizon=H):
    return trl.rollout(mdp, pi_a() if pi is None else pi, n, horizon, rng=np.random.default_rng(0))


def rewards_nt():
    return np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0]])


def values_nt1():
    return np.array([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.0, 0.5]])


def terminated_nt():
    return np.array([[False, False, True], [False, False, False]])


class Entry(NamedTuple):
    name: str
    fn: Callable
    build: Callable  # mdp -> dict of keyword arguments
    arrays: tuple  # names of the keyword arguments that are arrays (fuzzed)
    uses_mdp: bool = True
    # Result paths where -inf is a legitimate value (with the reason): {path: reason}.
    nonfinite_ok: dict = {}


def E(name, fn, build, arrays=(), uses_mdp=True, nonfinite_ok=None):
    return Entry(name, fn, build, tuple(arrays), uses_mdp, nonfinite_ok or {})


def _method(cls_attr):
    """Call ``obj.<cls_attr>(**kw)`` where ``obj`` is the keyword ``self``."""

    def call(self, **kw):
        return getattr(self, cls_attr)(**kw)

    return call


#: With terminal states, log Z_t(s) = -inf where no path of the remaining length ends in one.
LOG_Z_OK = {
    "result": "log Z is -inf at steps from which no terminal state can be reached",
    "result.log_Z": "log Z is -inf at steps from which no terminal state can be reached",
    "result.log_Z_action": "log Z is -inf at steps from which no terminal state can be reached",
}

GRID = gw_module.gridworld(["S.", ".G"], gamma=0.9)


def _plotted(fn):
    """Call a ``tabular_rl.plot`` function on the Agg backend, close its figure, return None: what is
    checked is the validation and the caller's arrays; the artists are checked in test_plot.py."""

    def call(**kw):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = fn(**kw)
        for ax in out if isinstance(out, tuple) else (out,):
            plt.close(ax.figure)
        return None

    call.__name__ = fn.__name__
    return call


ENTRIES = [
    # ----------------------------------------------------------- mdp, sampling
    E("TabularMDP", trl.TabularMDP,
      lambda m: dict(P=sp.csr_matrix(m.todense().reshape(S * A, S)) if m.is_sparse else m.todense() * (1 + 1e-10),
                     R=np.array(m.R), gamma=GAMMA, mu=mu_vec()),
      ["P", "R", "mu"]),
    E("TabularMDP.transition_matrix", _method("transition_matrix"), lambda m: dict(self=m, pi=pi_a()), ["pi"]),
    E("TabularMDP.reward_vector", _method("reward_vector"), lambda m: dict(self=m, pi=pi_a()), ["pi"]),
    E("TabularMDP.with_", _method("with_"), lambda m: dict(self=m, R=np.array(m.R), mu=mu_vec()), ["R", "mu"]),
    E("Trajectories", trl.Trajectories,
      lambda m: dict(states=np.array([[0, 1, 2], [2, 2, 1]]), actions=np.array([[0, 1], [1, 1]]),
                     rewards=np.array([[1.0, 0.5], [-1.0, 0.0]])),
      ["states", "actions", "rewards"], uses_mdp=False),
    E("rollout", trl.rollout,
      lambda m: dict(mdp=m, pi=pi_a(), n_episodes=3, horizon=3, rng=np.random.default_rng(0), mu=mu_vec()),
      ["pi", "mu"]),
    E("enumerate_trajectories", trl.enumerate_trajectories,
      lambda m: dict(mdp=m, pi=pi_a(), horizon=2, mu=mu_vec()), ["pi", "mu"]),
    E("discounted_returns", trl.discounted_returns,
      lambda m: dict(trajectories=_trajectories(m), gamma=GAMMA), ["trajectories"]),
    # ----------------------------------------------------------- evaluation
    *[E(f.__name__, f, lambda m: dict(mdp=m, pi=pi_a()), ["pi"])
      for f in (trl.advantages, trl.evaluate, trl.expected_return, trl.occupancy_measure, trl.policy_evaluation,
                trl.q_values, trl.direct_policy_gradient)],
    E("bellman_residual", trl.bellman_residual, lambda m: dict(mdp=m, pi=pi_a(), V=V_vec()), ["pi", "V"]),
    *[E(f.__name__, f, lambda m: dict(mdp=m, pi=pi_a(), mu=mu_vec()), ["pi", "mu"])
      for f in (trl.discounted_visitation, trl.discounted_visitation_unnormalized)],
    E("finite_horizon_values", trl.finite_horizon_values,
      lambda m: dict(mdp=m, pi=pi_a(), horizon=H, mu=mu_vec()), ["pi", "mu"]),
    E("state_distributions", trl.state_distributions,
      lambda m: dict(mdp=m, pi=pi_a(), horizon=H, mu=mu_vec()), ["pi", "mu"]),
    # ----------------------------------------------------------- control
    E("value_iteration", trl.value_iteration, lambda m: dict(mdp=m, V0=V_vec()), ["V0"]),
    E("policy_iteration", trl.policy_iteration, lambda m: dict(mdp=m, pi0=pi_a()), ["pi0"]),
    E("finite_horizon_optimal", trl.finite_horizon_optimal, lambda m: dict(mdp=m, horizon=H)),
    # ----------------------------------------------------------- policies
    *[E(f.__name__, f, lambda m: dict(theta=theta()), ["theta"], uses_mdp=False)
      for f in (trl.softmax, trl.log_softmax)],
    E("entropy", trl.entropy, lambda m: dict(pi=pi_a()), ["pi"], uses_mdp=False),
    E("greedy", trl.greedy, lambda m: dict(Q=theta()), ["Q"], uses_mdp=False),
    E("epsilon_greedy", trl.epsilon_greedy, lambda m: dict(Q=theta(), epsilon=0.1), ["Q"], uses_mdp=False),
    *[E(f.__name__, f, lambda m: dict(p=pi_a(), q=pi_b()), ["p", "q"], uses_mdp=False)
      for f in (trl.kl_divergence, trl.total_variation)],
    E("uniform", trl.uniform, lambda m: dict(n_states=S, n_actions=A), uses_mdp=False),
    # ----------------------------------------------------------- advantage estimation
    *[E(f.__name__, f, lambda m: dict(rewards=rewards_nt(), values=values_nt1(), gamma=GAMMA, lambda_=0.8,
                                       terminated=terminated_nt()),
        ["rewards", "values", "terminated"], uses_mdp=False)
      for f in (trl.gae, trl.lambda_returns)],
    *[E(f.__name__, f, lambda m: dict(rewards=rewards_nt(), values=values_nt1(), gamma=GAMMA, n=2,
                                       terminated=terminated_nt()),
        ["rewards", "values", "terminated"], uses_mdp=False)
      for f in (trl.n_step_advantages, trl.n_step_returns)],
    E("td_errors", trl.td_errors,
      lambda m: dict(rewards=rewards_nt(), values=values_nt1(), gamma=GAMMA, terminated=terminated_nt()),
      ["rewards", "values", "terminated"], uses_mdp=False),
    # ----------------------------------------------------------- bounds
    *[E(f.__name__, f, lambda m: dict(mdp=m, pi_new=pi_b(), pi_old=pi_a()), ["pi_new", "pi_old"])
      for f in (trl.kl_performance_bounds, trl.minorize_maximize_objective, trl.performance_difference,
                trl.surrogate_remainder, trl.trpo_bounds, trl.trust_region_lower_bound,
                trl.visitation_difference_bound)],
    E("performance_bounds", trl.performance_bounds,
      lambda m: dict(mdp=m, pi_new=pi_b(), pi_old=pi_a(), f=V_vec()), ["pi_new", "pi_old", "f"]),
    E("cpi_mixture_bound", trl.cpi_mixture_bound,
      lambda m: dict(mdp=m, pi_prime=pi_b(), pi_old=pi_a(), alpha=0.3), ["pi_prime", "pi_old"]),
    # ----------------------------------------------------------- converters, generators, gridworlds
    E("from_pymdptoolbox", trl.from_pymdptoolbox,
      lambda m: dict(P=np.ascontiguousarray(m.todense().transpose(1, 0, 2)), R=np.array(m.R), gamma=GAMMA,
                     mu=mu_vec()),
      ["P", "R", "mu"]),
    E("from_irl_maxent", trl.from_irl_maxent,
      lambda m: dict(p_transition=np.ascontiguousarray(m.todense().transpose(0, 2, 1)), R=V_vec(),
                     gamma=GAMMA, mu=mu_vec()),
      ["p_transition", "R", "mu"]),
    E("from_gymnasium", trl.from_gymnasium,
      lambda m: dict(env=__import__("gymnasium").make("FrozenLake-v1"), gamma=GAMMA), uses_mdp=False),
    E("deterministic_mdp", trl.deterministic_mdp,
      lambda m: dict(next_state=np.array([[1, 2], [2, 0], [0, 0]]), R=np.array(m.R), gamma=GAMMA, mu=mu_vec()),
      ["next_state", "R", "mu"]),
    E("chain_mdp", trl.chain_mdp, lambda m: dict(n_states=4), uses_mdp=False),
    E("garnet", trl.garnet, lambda m: dict(n_states=4, n_actions=2, branching=2, rng=np.random.default_rng(0)),
      uses_mdp=False),
    E("cliff_walking", trl.cliff_walking, lambda m: dict(), uses_mdp=False),
    E("frozen_lake", trl.frozen_lake, lambda m: dict(), uses_mdp=False),
    E("open_grid", trl.open_grid, lambda m: dict(n_rows=2), uses_mdp=False),
    E("russell_norvig_4x3", trl.russell_norvig_4x3, lambda m: dict(), uses_mdp=False),
    E("sutton_barto_5x5", trl.sutton_barto_5x5, lambda m: dict(), uses_mdp=False),
    E("gridworld.gridworld", gw_module.gridworld, lambda m: dict(layout=["S.", ".G"]), uses_mdp=False),
    E("GridWorld.render_values", _method("render_values"),
      lambda m: dict(self=GRID, V=np.arange(4.0)), ["V"], uses_mdp=False),
    E("GridWorld.render_visitation", _method("render_visitation"),
      lambda m: dict(self=GRID, d=np.full(4, 0.25)), ["d"], uses_mdp=False),
    E("GridWorld.render_policy", _method("render_policy"),
      lambda m: dict(self=GRID, pi=np.full((4, GRID.mdp.n_actions), 1.0 / GRID.mdp.n_actions)), ["pi"],
      uses_mdp=False),
    # ----------------------------------------------------------- features, apprenticeship
    E("feature_expectations", trl.feature_expectations,
      lambda m: dict(mdp=m, pi=pi_a(), features=features()), ["pi", "features"]),
    E("finite_horizon_feature_expectations", trl.finite_horizon_feature_expectations,
      lambda m: dict(mdp=m, pi=pi_a(), features=features(), horizon=H, mu=mu_vec()), ["pi", "features", "mu"]),
    *[E(f.__name__, f, lambda m: dict(mdp=m, trajectories=_trajectories(m), features=features()),
        ["trajectories", "features"])
      for f in (trl.empirical_feature_expectations, trl.trajectory_feature_counts)],
    E("mixture_feature_expectations", trl.mixture_feature_expectations,
      lambda m: dict(mdp=m, policies=np.stack([pi_a(), pi_b()]), weights=_rough([0.4, 0.6]), features=features()),
      ["policies", "weights", "features"]),
    E("occupancy_mixture_policy", trl.occupancy_mixture_policy,
      lambda m: dict(mdp=m, policies=np.stack([pi_a(), pi_b()]), weights=_rough([0.4, 0.6])),
      ["policies", "weights"]),
    E("closest_mixture", trl.closest_mixture,
      lambda m: dict(feature_expectations=np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.3]]),
                     mu_expert=np.array([0.5, 0.4])),
      ["feature_expectations", "mu_expert"], uses_mdp=False),
    E("hoelder_value_gap_bound", trl.hoelder_value_gap_bound,
      lambda m: dict(mu=np.array([0.5, 0.4]), mu_expert=np.array([0.3, 0.6])), ["mu", "mu_expert"],
      uses_mdp=False),
    *[E(f.__name__, f, lambda m: dict(mdp=m, features=features(),
                                       mu_expert=trl.feature_expectations(m, pi_b(), features()), epsilon=0.5,
                                       max_iter=4, pi0=pi_a()),
        ["features", "mu_expert", "pi0"])
      for f in (trl.max_margin_method, trl.projection_method)],
    # ----------------------------------------------------------- imitation
    E("behavior_cloning", trl.behavior_cloning, lambda m: dict(mdp=m, trajectories=_trajectories(m)),
      ["trajectories"]),
    E("behavior_cloning_objective", trl.behavior_cloning_objective,
      lambda m: dict(mdp=m, pi=pi_a(), trajectories=_trajectories(m)), ["pi", "trajectories"]),
    E("state_action_counts", trl.state_action_counts, lambda m: dict(mdp=m, trajectories=_trajectories(m)),
      ["trajectories"]),
    *[E(f.__name__, f, lambda m: dict(mdp=m, learner=pi_a(), expert=pi_det(), horizon=H), ["learner", "expert"])
      for f in (trl.expert_distribution_error, trl.learner_distribution_error)],
    E("expert_q_gap", trl.expert_q_gap, lambda m: dict(mdp=m, expert=pi_det(), horizon=H), ["expert"]),
    E("dagger", trl.dagger,
      lambda m: dict(mdp=m, expert=pi_det(), horizon=3, n_iterations=2, n_episodes=2,
                     rng=np.random.default_rng(0), beta=np.array([0.5, 0.25]), pi_hat0=pi_a()),
      ["expert", "beta", "pi_hat0"]),
    E("behavior_cloning_bound", trl.behavior_cloning_bound, lambda m: dict(horizon=H, epsilon=0.1),
      uses_mdp=False),
    E("learner_distribution_bound", trl.learner_distribution_bound, lambda m: dict(horizon=H, epsilon=0.1, u=0.5),
      uses_mdp=False),
    *[E(f.__name__, f, lambda m: dict(horizon=H, epsilon=0.1), uses_mdp=False)
      for f in (trl.drift_bc_cost, trl.drift_dagger_cost)],
    *[E(f.__name__, f, lambda m: dict(epsilon=0.1), uses_mdp=False)
      for f in (trl.drift_bc_learner, trl.drift_dagger_learner)],
    E("drift_expert", trl.drift_expert, lambda m: dict(), uses_mdp=False),
    E("drift_mdp", trl.drift_mdp, lambda m: dict(), uses_mdp=False),
    # ----------------------------------------------------------- importance sampling
    *[E(f.__name__, f, lambda m: dict(trajectories=_trajectories(m), target=pi_b(), behavior=pi_a(), gamma=GAMMA),
        ["trajectories", "target", "behavior"], uses_mdp=True)
      for f in (trl.ordinary_importance_sampling, trl.ordinary_importance_sampling_samples,
                trl.per_decision_importance_sampling, trl.per_decision_importance_sampling_samples,
                trl.weighted_importance_sampling)],
    *[E(f.__name__, f, lambda m: dict(trajectories=_trajectories(m), target=pi_b(), behavior=pi_a()),
        ["trajectories", "target", "behavior"])
      for f in (trl.cumulative_ratios, trl.per_step_ratios, trl.trajectory_weights)],
    # ----------------------------------------------------------- MaxEnt IRL
    *[E(f.__name__, f, lambda m: dict(mdp=m, state_rewards=V_vec(), horizon=H,
                                       terminal_states=np.array([False, False, True])),
        ["state_rewards", "terminal_states"], nonfinite_ok=LOG_Z_OK)
      for f in (trl.maxent_backward_pass, trl.maxent_log_partition, trl.maxent_partition)],
    E("maxent_backward_pass_stationary", trl.maxent_backward_pass_stationary,
      lambda m: dict(mdp=m, state_rewards=V_vec(), n_iterations=H, terminal_states=np.array([False, False, True])),
      ["state_rewards", "terminal_states"], nonfinite_ok=LOG_Z_OK),
    E("maxent_path_marginals", trl.maxent_path_marginals,
      lambda m: dict(mdp=m, state_rewards=V_vec(), horizon=H, terminal_states=np.array([False, False, True]),
                     mu=mu_vec()),
      ["state_rewards", "terminal_states", "mu"]),
    *[E(f.__name__, f, lambda m: dict(mdp=m, pi=pi_a(), horizon=H, mu=mu_vec()), ["pi", "mu"])
      for f in (trl.maxent_forward_pass, trl.maxent_forward_pass_per_step)],
    *[E(f.__name__, f, lambda m: dict(mdp=m, features=features(), demonstrations=_trajectories(m), horizon=H,
                                       weights=np.array([0.3, -0.2])),
        ["features", "demonstrations", "weights"])
      for f in (trl.maxent_log_likelihood_gradient, trl.maxent_log_likelihood_objective)],
    E("maxent_irl", trl.maxent_irl,
      lambda m: dict(mdp=m, features=features(), demonstrations=_trajectories(m), horizon=H,
                     weights0=np.array([0.1, 0.0]), max_iter=3),
      ["features", "demonstrations", "weights0"]),
    E("maxent_irl[feature counts]", trl.maxent_irl,
      lambda m: dict(mdp=m, features=features(), demonstrations=np.array([1.5, 1.0]), horizon=H, mu=mu_vec(),
                     max_iter=3),
      ["demonstrations", "mu"]),
    # ----------------------------------------------------------- MCE IRL, soft values
    *[E(f.__name__, f, lambda m: dict(mdp=m, R=theta()), ["R"])
      for f in (trl.soft_values, trl.mce_policy)],
    E("entropy_regularized_values", trl.entropy_regularized_values,
      lambda m: dict(mdp=m, pi=pi_a(), R=theta()), ["pi", "R"]),
    *[E(f.__name__, f, lambda m: dict(mdp=m, features=features(), demonstrations=_trajectories(m),
                                       weights=np.array([0.3, -0.2])),
        ["features", "demonstrations", "weights"])
      for f in (trl.mce_log_likelihood_gradient, trl.mce_log_likelihood_objective)],
    E("mce_irl", trl.mce_irl,
      lambda m: dict(mdp=m, features=features(), demonstrations=_trajectories(m), weights0=np.array([0.1, 0.0]),
                     max_iter=3),
      ["features", "demonstrations", "weights0"]),
    E("mce_irl[feature counts]", trl.mce_irl,
      lambda m: dict(mdp=m, features=features(), demonstrations=np.array([1.5, 1.0]), horizon=H, mu=mu_vec(),
                     max_iter=3),
      ["demonstrations", "mu"]),
    # ----------------------------------------------------------- policy gradients
    *[E(f.__name__, f, lambda m: dict(mdp=m, theta=theta()), ["theta"])
      for f in (trl.fisher_information, trl.natural_policy_gradient, trl.policy_gradient, trl.softmax_objective)],
    *[E(f.__name__, f, lambda m: dict(mdp=m, theta=theta(), reg=0.1), ["theta"])
      for f in (trl.log_barrier_gradient, trl.log_barrier_objective)],
    E("npg_log_normalizers", trl.npg_log_normalizers, lambda m: dict(mdp=m, theta=theta(), step_size=0.5),
      ["theta"]),
    E("finite_horizon_policy_gradient", trl.finite_horizon_policy_gradient,
      lambda m: dict(mdp=m, theta=theta(), horizon=H), ["theta"]),
    E("policy_gradient_ascent", trl.policy_gradient_ascent,
      lambda m: dict(mdp=m, n_iterations=2, theta0=theta()), ["theta0"]),
    E("natural_policy_gradient_ascent", trl.natural_policy_gradient_ascent,
      lambda m: dict(mdp=m, step_size=0.5, n_iterations=2, theta0=theta()), ["theta0"]),
    *[E(f.__name__, f, lambda m: dict(trajectories=_trajectories(m), theta=theta(), gamma=GAMMA,
                                       baseline=V_vec()),
        ["trajectories", "theta", "baseline"])
      for f in (trl.reinforce_gradient, trl.reinforce_gradient_samples)],
    # ----------------------------------------------------------- PPO
    *[E(f.__name__, f, lambda m: dict(ratios=np.array([0.5, 1.0, 1.5]), advantages=np.array([1.0, -2.0, 0.5]),
                                       epsilon=0.2),
        ["ratios", "advantages"], uses_mdp=False)
      for f in (trl.ppo_clip_gradient, trl.ppo_clip_objective)],
    E("ppo_kl_penalty_objective", trl.ppo_kl_penalty_objective,
      lambda m: dict(ratios=np.array([0.5, 1.0, 1.5]), advantages=np.array([1.0, -2.0, 0.5]),
                     kl=np.array([0.1, 0.0, 0.2]), beta=0.5),
      ["ratios", "advantages", "kl"], uses_mdp=False),
    E("adapt_kl_coefficient", trl.adapt_kl_coefficient, lambda m: dict(beta=1.0, kl=0.02, kl_target=0.01),
      uses_mdp=False),
    E("clipped_surrogate_gradient", trl.clipped_surrogate_gradient,
      lambda m: dict(mdp=m, pi_old=pi_a(), theta_new=theta(), epsilon=0.2), ["pi_old", "theta_new"]),
    E("clipped_surrogate_objective", trl.clipped_surrogate_objective,
      lambda m: dict(mdp=m, pi_old=pi_a(), pi_new=pi_b(), epsilon=0.2), ["pi_old", "pi_new"]),
    E("kl_penalized_surrogate_gradient", trl.kl_penalized_surrogate_gradient,
      lambda m: dict(mdp=m, pi_old=pi_a(), theta_new=theta(), beta=0.5), ["pi_old", "theta_new"]),
    E("kl_penalized_surrogate_objective", trl.kl_penalized_surrogate_objective,
      lambda m: dict(mdp=m, pi_old=pi_a(), pi_new=pi_b(), beta=0.5), ["pi_old", "pi_new"]),
    E("surrogate_gradient", trl.surrogate_gradient, lambda m: dict(mdp=m, pi_old=pi_a(), theta_new=theta()),
      ["pi_old", "theta_new"]),
    *[E(f.__name__, f, lambda m: dict(mdp=m, pi_old=pi_a(), pi_new=pi_b()), ["pi_old", "pi_new"])
      for f in (trl.surrogate_objective, trl.expected_kl_divergence)],
    E("ppo_clip_exact", trl.ppo_clip_exact, lambda m: dict(mdp=m, theta0=theta(), n_iterations=2, n_epochs=2),
      ["theta0"]),
    E("ppo_kl_exact", trl.ppo_kl_exact, lambda m: dict(mdp=m, theta0=theta(), n_iterations=2, n_epochs=2),
      ["theta0"]),
    E("sampled_clipped_surrogate_objective", trl.sampled_clipped_surrogate_objective,
      lambda m: dict(mdp=m, trajectories=_trajectories(m), pi_old=pi_a(), pi_new=pi_b(),
                     advantages=np.linspace(-1.0, 1.0, N * H).reshape(N, H), epsilon=0.2),
      ["trajectories", "pi_old", "pi_new", "advantages"]),
    # ----------------------------------------------------------- plots (optional: matplotlib)
    E("plot.values", _plotted(plot_module.values), lambda m: dict(world=GRID, V=np.arange(4.0)), ["V"],
      uses_mdp=False),
    E("plot.policy", _plotted(plot_module.policy),
      lambda m: dict(world=GRID, pi=_rough(np.full((4, GRID.mdp.n_actions), 1.0 / GRID.mdp.n_actions))), ["pi"],
      uses_mdp=False),
    E("plot.visitation", _plotted(plot_module.visitation), lambda m: dict(world=GRID, d=np.full(4, 0.25)), ["d"],
      uses_mdp=False),
    E("plot.visitation_comparison", _plotted(plot_module.visitation_comparison),
      lambda m: dict(world=GRID, d_expert=np.full(4, 0.25), d_learner=np.array([0.1, 0.2, 0.3, 0.4])),
      ["d_expert", "d_learner"], uses_mdp=False),
    E("plot.learning_curve", _plotted(plot_module.learning_curve),
      lambda m: dict(history=np.array([0.1, 0.5, 0.9]), optimum=1.0), ["history"], uses_mdp=False),
    E("plot.compounding_error", _plotted(plot_module.compounding_error),
      lambda m: dict(horizons=np.array([1.0, 2.0, 4.0]), bc_errors=np.array([0.1, 0.4, 1.6]),
                     dagger_errors=np.array([0.1, 0.2, 0.4]), epsilon=0.1),
      ["horizons", "bc_errors", "dagger_errors"], uses_mdp=False),
    E("sampled_ppo_clip", trl.sampled_ppo_clip,
      lambda m: dict(mdp=m, theta0=theta(), rng=np.random.default_rng(0), n_iterations=2, n_episodes=3, horizon=3,
                     n_epochs=2),
      ["theta0"]),
]

#: Public names that are not callables taking input (result containers).
RESULT_TYPES = {
    "ApprenticeshipResult", "ClosestMixture", "ControlResult", "CPIBound", "DAggerResult", "EvaluationCertificate",
    "FiniteHorizonControl",
    "FiniteHorizonEvaluation", "GridWorld", "IRLResult", "KLPerformanceBounds", "MaxEntPartition",
    "PerformanceBounds", "PolicyEvaluation", "PolicyOptimizationHistory", "PPOHistory", "PPOResult",
    "SampledPPOResult", "SoftValues", "TRPOBounds", "TrustRegionBound", "VisitationDifference",
}

#: Entries the fuzz leaves out, and why: none of them takes an array argument.
FUZZ_EXCLUDED = {
    "finite_horizon_optimal": "takes only the (already validated) MDP and an int horizon",
    "uniform": "takes two ints",
    "from_gymnasium": "takes a gymnasium env object, no array",
    "chain_mdp": "generator: ints and floats only",
    "garnet": "generator: ints, floats and an rng only",
    "cliff_walking": "built-in map: scalars only",
    "frozen_lake": "built-in map: a map name and scalars only",
    "open_grid": "generator: ints and floats only",
    "russell_norvig_4x3": "built-in map: scalars only",
    "sutton_barto_5x5": "built-in map: scalars only",
    "gridworld.gridworld": "takes an ASCII map (strings) and dicts, no array",
    "behavior_cloning_bound": "closed-form bound of scalars",
    "learner_distribution_bound": "closed-form bound of scalars",
    "drift_bc_cost": "closed form of scalars",
    "drift_dagger_cost": "closed form of scalars",
    "drift_bc_learner": "closed form of a scalar",
    "drift_dagger_learner": "closed form of a scalar",
    "drift_expert": "takes nothing",
    "drift_mdp": "takes a bool only",
    "adapt_kl_coefficient": "takes three scalars",
}

#: Public callables taking input that are not in the table, and why.
NOT_IN_TABLE = {
    # The two primitives every algorithm runs in its inner loop; they take arrays the library
    # built itself, and validating there would cost every call of every algorithm.
    "TabularMDP.expected_next": "unchecked inner-loop primitive (documented as such)",
    "TabularMDP.push_forward": "unchecked inner-loop primitive (documented as such)",
    "GridWorld.state": "takes two ints (row, col), checked by check_int",
    "GridWorld.cell_type": "takes one int, checked by check_int",
    "Trajectories.check_against": "the index check itself, run by every function taking trajectories",
    **{f"strategies.{n}": "a hypothesis strategy: builds inputs, validates none"
       for n in trl_strategies.__all__},
}

FUZZ_ENTRIES = [e for e in ENTRIES if e.name not in FUZZ_EXCLUDED]


def test_table_covers_every_public_callable():
    """Catches a public function added to the package (or a submodule's __all__) but not to this
    table, so it would escape both robustness properties unnoticed."""
    public = set(trl.__all__) | {f"gridworld.{n}" for n in gw_module.__all__ if n not in trl.__all__}
    public |= {f"strategies.{n}" for n in trl_strategies.__all__}
    public |= {f"plot.{n}" for n in plot_module.__all__}
    public -= {"gridworld.ACTION_NAMES"}  # a tuple of strings, not a callable
    # Public methods that take an argument (todense(), render_map() and the like take none).
    for cls in (trl.TabularMDP, trl.GridWorld, trl.Trajectories):
        for n, v in vars(cls).items():
            if callable(v) and not n.startswith("_") and len(inspect.signature(v).parameters) > 1:
                public.add(f"{cls.__name__}.{n}")
    covered = {e.name.split("[")[0] for e in ENTRIES} | RESULT_TYPES | set(NOT_IN_TABLE)
    assert public - covered == set()
    assert set(NOT_IN_TABLE) - public == set(), "stale NOT_IN_TABLE entries"


def test_fuzz_exclusions_are_exactly_the_entries_without_arrays():
    """Catches an exclusion that hides a function which does take arrays (it would never be fuzzed)
    and a stale exclusion naming a function that no longer exists."""
    assert set(FUZZ_EXCLUDED) == {e.name for e in ENTRIES if not e.arrays}


# ------------------------------------------------------------------ helpers


def _arrays_in(value, path="arg"):
    """Every ndarray reachable from an argument: itself, list items, dataclass fields, an MDP's P, R, mu."""
    out = []
    if isinstance(value, np.ndarray):
        out.append((path, value))
        if value.dtype == object:
            for i, v in enumerate(value.ravel()):
                out += _arrays_in(v, f"{path}[{i}]")
    elif sp.issparse(value):
        for part in ("data", "indices", "indptr"):
            out.append((f"{path}.{part}", getattr(value, part)))
    elif isinstance(value, trl.TabularMDP):
        for attr in ("P", "R", "mu"):
            out += _arrays_in(getattr(value, attr), f"{path}.{attr}")
    elif isinstance(value, trl.GridWorld):
        out += _arrays_in(value.mdp, f"{path}.mdp")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            out += _arrays_in(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += _arrays_in(v, f"{path}[{i}]")
    return out


def _snapshot(kwargs):
    """(path, the caller's array, a copy of it) for every array reachable from the arguments."""
    snap = []
    for name, value in kwargs.items():
        for path, arr in _arrays_in(value, name):
            snap.append((path, arr, arr.copy()))
    return snap


def _assert_unchanged(snap, context):
    for path, arr, before in snap:
        assert arr.dtype == before.dtype and arr.shape == before.shape, f"{context}: {path} changed dtype/shape"
        if arr.dtype == object:
            same = all(a is b or np.array_equal(a, b) for a, b in zip(arr.ravel(), before.ravel()))
        else:
            # Bitwise: compare the bytes, so -0.0 vs 0.0 and NaN payloads count too.
            same = np.ascontiguousarray(arr).tobytes() == np.ascontiguousarray(before).tobytes()
        assert same, f"{context}: the caller's {path} was modified in place"


def _corrupt(value):
    """A copy of an array argument that no function may accept: NaN (or -1 for ints) in its last entry."""
    if isinstance(value, trl.Trajectories):
        return "not trajectories"
    if sp.issparse(value):
        bad = value.copy()
        bad.data[-1] = np.nan
        return bad
    arr = np.array(value, copy=True)
    if arr.dtype == bool or arr.size == 0:
        return "not an array"
    if np.issubdtype(arr.dtype, np.integer):
        arr.flat[-1] = -1
    else:
        arr = arr.astype(np.float64)
        arr.flat[-1] = np.nan
    return arr


def _call_quiet(entry, kwargs):
    """Call, with the library's own non-convergence notices (documented behaviour) silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LIBRARY_NOTICES, category=RuntimeWarning)
        return entry.fn(**kwargs)


#: The library's own RuntimeWarnings (control, evaluation, features, maxent, mce): non-convergence
#: and accuracy notices that come with a usable result.

LIBRARY_NOTICES = (r"(?s).*(increase max_iter|raise epsilon \(mu_expert|certified duality gap|"
                   r"linear solve residual)")


def _call_strict(entry, kwargs):
    """Call with NumPy floating-point errors raised (FloatingPointError; underflow to 0 is benign)
    and every warning an error, except the library's own deliberate notices (non-convergence,
    unreachable targets), which are documented behaviour, not a crash."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=LIBRARY_NOTICES, category=RuntimeWarning)
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return entry.fn(**kwargs)


ALL_CASES = [
    pytest.param(e, layout, id=f"{e.name}-{layout}")
    for e in ENTRIES
    for layout in (("dense", "sparse") if e.uses_mdp else ("dense",))
]


@pytest.mark.parametrize("entry, layout", ALL_CASES)
def test_inputs_are_never_modified(entry, layout):
    """Catches a function that renormalises, clips, sorts or fills a caller's array in place (e.g.
    ``pi /= pi.sum(-1)`` on the float64 array ``asarray`` handed back without a copy), including
    when the write happens before a later check fails; a result that is (a view of) the caller's
    array, so that writing into the result changes the input; and an attribute of the MDP rebound
    (``mdp.mu = p0``) instead of using ``mdp.with_``."""
    mdp = MDPS[layout]
    attributes = dict(vars(mdp))
    kwargs = entry.build(mdp)
    snap = _snapshot(kwargs)
    snap += _snapshot({"fixture_mdp": mdp})
    result = _call_quiet(entry, kwargs)
    _assert_unchanged(snap, f"{entry.name} (valid call)")
    # Nor may the MDP object be rebound (mdp.mu = p0, mdp.gamma = ...): the same objects, and no new
    # public attribute (private lazy caches of derived data, e.g. the rollout sampler, are fine).
    assert all(vars(mdp)[k] is v for k, v in attributes.items()), f"{entry.name} rebound an MDP attribute"
    assert {k for k in vars(mdp) if not k.startswith("_")} == {k for k in attributes if not k.startswith("_")}
    # A result that shares memory with an input hands the caller a way to modify that input:
    # overwrite every writeable array of the result, and the inputs must still be unchanged.
    first = [(path, arr.copy()) for path, arr in _arrays_in(result, "result")]
    for _, arr in _arrays_in(result, "result"):
        if arr.flags.writeable and arr.dtype != object:
            arr[...] = 7
    _assert_unchanged(snap, f"{entry.name} (after writing into its result)")
    # ... nor the library's own state (a cache handed out as the result): the same call again gives
    # the same result.
    again = _arrays_in(_call_quiet(entry, entry.build(mdp)), "result")
    assert [p for p, _ in again] == [p for p, _ in first]
    for (path, before), (_, after) in zip(first, again):
        assert np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"), (
            f"{entry.name}: {path} differs on a second call after the first result was overwritten"
        )
    # Error path: corrupt one argument at a time (its last entry, so the arguments before it have
    # already been checked and possibly processed when the error is raised).
    for arg in entry.arrays:
        kwargs = entry.build(mdp)
        kwargs[arg] = _corrupt(kwargs[arg])
        snap = _snapshot(kwargs) + _snapshot({"fixture_mdp": mdp})
        try:
            _call_quiet(entry, kwargs)
        except (ValueError, TypeError):
            pass
        _assert_unchanged(snap, f"{entry.name} (with bad {arg})")
        assert all(vars(mdp)[k] is v for k, v in attributes.items()), f"{entry.name} rebound an MDP attribute"


# ------------------------------------------------------------------ fuzz

KINDS = (
    "nan", "inf", "-inf", "negative", "object", "complex", "bool", "int", "empty", "0-d", "huge", "-huge",
    "all huge", "big index", "-1", "wrong shape", "extra axis", "transposed", "non-contiguous", "read-only",
    "ragged", "None", "string", "list", "float32",
)


def _bad_value(kind, orig, index, negative=-1.0):
    """The bad value of ``kind`` built from the valid argument ``orig``; ``index`` picks an entry."""
    if isinstance(orig, trl.Trajectories):
        orig = orig.rewards
    if sp.issparse(orig):
        # A sparse P: the same bad values, given sparse when they still have a numeric 2-D layout.
        bad = _bad_value(kind, orig.toarray(), index, negative)
        if isinstance(bad, np.ndarray) and bad.ndim == 2 and kind not in ("object", "read-only", "non-contiguous"):
            return sp.csr_matrix(bad)
        return bad
    arr = np.array(orig, dtype=np.float64) if np.asarray(orig).dtype != bool else np.array(orig)
    i = index % max(arr.size, 1)

    def with_entry(x):
        out = arr.astype(np.float64)
        out.flat[i] = x
        return out

    def with_int_entry(x):
        """An integer copy (index arrays stay integer) with entry ``i`` set to ``x``."""
        out = np.array(orig).astype(np.int64) if np.asarray(orig).dtype.kind in "iub" else arr.copy()
        out.flat[i] = x
        return out

    if kind == "nan":
        return with_entry(np.nan)
    if kind == "inf":
        return with_entry(np.inf)
    if kind == "-inf":
        return with_entry(-np.inf)
    if kind == "negative":
        return with_entry(negative)
    if kind == "object":
        return np.array(orig).astype(object)
    if kind == "complex":
        return np.array(orig).astype(np.complex128) + 1j
    if kind == "bool":
        return np.array(orig).astype(bool)
    if kind == "int":
        return np.array(orig).astype(np.int64)
    if kind == "empty":
        return np.empty((0,) * max(arr.ndim, 1))
    if kind == "0-d":
        return np.array(0.5)
    if kind == "huge":
        return with_entry(1e300)
    if kind == "-huge":
        return with_entry(-1e300)
    if kind == "all huge":
        return np.full(arr.shape, 1e300)
    if kind == "big index":
        return with_int_entry(10**6)
    if kind == "-1":
        return with_int_entry(-1)
    if kind == "wrong shape":
        return np.concatenate([arr, arr[..., :1]], axis=-1) if arr.ndim else np.array([0.5, 0.5])
    if kind == "extra axis":
        return arr[None]
    if kind == "transposed":
        return arr.T.copy() if arr.ndim >= 2 else arr[:, None]
    if kind == "non-contiguous":
        # The same values in a strided view: valid data in an unusual layout.
        doubled = np.repeat(np.array(orig), 2, axis=-1) if arr.ndim else np.array(orig)
        return doubled[..., ::2] if arr.ndim else doubled
    if kind == "read-only":
        ro = np.array(orig, copy=True)
        ro.setflags(write=False)
        return ro
    if kind == "ragged":
        return [[0.5, 0.5], [1.0]]
    if kind == "None":
        return None
    if kind == "string":
        return "abc"
    if kind == "list":
        return np.asarray(orig).tolist()
    if kind == "float32":
        return np.array(orig).astype(np.float32)
    raise AssertionError(kind)


def _nonfinite(value, path="result", seen=None, allowed=()):
    """The path of the first non-finite float reachable from a result, or None.

    At the paths in ``allowed``, -inf is accepted (NaN and +inf never are).
    """
    seen = set() if seen is None else seen
    if path in allowed and isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return None if not np.any(np.isnan(value) | (value == np.inf)) else path
    if id(value) in seen:
        return None
    seen.add(id(value))
    if isinstance(value, (bool, int, str, bytes, type(None), np.bool_, np.integer)):
        return None
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return None if np.isfinite(value) else path
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            for j, v in enumerate(value.ravel()):
                bad = _nonfinite(v, f"{path}[{j}]", seen, allowed)
                if bad:
                    return bad
            return None
        if np.issubdtype(value.dtype, np.inexact) and not np.all(np.isfinite(value)):
            return path
        return None
    if sp.issparse(value):
        return _nonfinite(value.data, f"{path}.data", seen, allowed)
    if isinstance(value, trl.TabularMDP):
        return (_nonfinite(value.P, f"{path}.P", seen, allowed) or _nonfinite(value.R, f"{path}.R", seen, allowed)
                or _nonfinite(value.mu, f"{path}.mu", seen, allowed))
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            bad = _nonfinite(getattr(value, f.name), f"{path}.{f.name}", seen, allowed)
            if bad:
                return bad
        return None
    if isinstance(value, (list, tuple)):
        for j, v in enumerate(value):
            bad = _nonfinite(v, f"{path}[{j}]", seen, allowed)
            if bad:
                return bad
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            bad = _nonfinite(v, f"{path}[{k!r}]", seen, allowed)
            if bad:
                return bad
        return None
    raise AssertionError(f"{path}: unexpected result type {type(value).__name__}")


def _names(message, name):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def _check_one(entry, arg, kind, kwargs):
    """None if the call behaved (finite result, or a ValueError/TypeError naming ``arg``, and every
    array argument unchanged), else why not."""
    snap = _snapshot(kwargs)
    try:
        result = _call_strict(entry, kwargs)
    except (ValueError, TypeError) as exc:
        if not _names(str(exc), arg):
            return f"{arg}={kind}: {type(exc).__name__} does not name {arg!r}: {exc}"
        result = None
    except Exception as exc:  # the property under test: nothing else may escape
        return f"{arg}={kind}: {type(exc).__name__} escaped: {exc}"
    try:
        _assert_unchanged(snap, f"{arg}={kind}")
    except AssertionError as exc:
        return str(exc)
    bad = _nonfinite(result, allowed=entry.nonfinite_ok)
    return None if bad is None else f"{arg}={kind}: returned a non-finite {bad}"


FUZZ_CASES = [
    pytest.param(e, arg, id=f"{e.name}-{arg}") for e in FUZZ_ENTRIES for arg in e.arrays
]


@pytest.mark.parametrize("entry, arg", FUZZ_CASES)
@example(layout="dense", index=0, negative=-1.0)
@example(layout="sparse", index=5, negative=-1e-6)
@settings(max_examples=2, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.reuse, Phase.generate),  # the report lists every failing kind
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(layout=st.sampled_from(("dense", "sparse")), index=st.integers(0, 10**6),
       negative=st.floats(-1e6, -1e-6))
def test_bad_array_input_gives_finite_result_or_named_error(entry, arg, layout, index, negative):
    """Catches bad input that escapes as IndexError, AttributeError, ZeroDivisionError, LinAlgError, a
    floating-point overflow or a NumPy error that does not name the argument (an unchecked NaN, a
    negative index used as Python negative indexing, an empty array reaching a max, a ragged list, a
    dtype NumPy cannot cast, an in-place write into a read-only array), and NaN or inf passing
    silently into a result, or an array argument modified on the way. Hypothesis picks the MDP
    layout (both are explicit examples), the entry that goes bad and the negative value; every
    kind of bad value is tried in every example."""
    if not entry.uses_mdp:
        layout = "dense"
    failures = []
    for kind in KINDS:
        kwargs = entry.build(MDPS[layout])
        kwargs[arg] = _bad_value(kind, kwargs[arg], index, negative)
        why = _check_one(entry, arg, kind, kwargs)
        if why:
            failures.append(why)
    assert not failures, f"{entry.name} ({layout}):\n" + "\n".join(failures)
