"""
MaxEnt IRL recovers a reward from demonstrations
================================================

On a small deterministic gridworld, an expert follows the MaxEnt model of a state reward that is +1 on the
goal ``G``, -1 on the pit ``H`` and 0 elsewhere (features: one indicator per cell type). We sample 2000
demonstrations of 10 steps with ``numpy.random.default_rng(0)``, then run MaxEnt IRL (Ziebart et al. 2008),
gradient ascent on the exact log-likelihood. At the optimum the learner's expected feature counts match the
demonstrations', so its expected state visitation matches the expert's empirical one: the two panels share
one colour scale.
"""

import matplotlib.pyplot as plt
import numpy as np

import tabular_rl as trl
from tabular_rl import plot
from tabular_rl.gridworld import gridworld

world = gridworld(["S...#", ".#..G", "...#H", "#...."], gamma=0.9, rewards={"G": 1.0, "H": -1.0}, terminal="GH")
mdp = world.mdp
phi = world.cell_type_features()
types = world.cell_types
w_true = np.array([{"G": 1.0, "H": -1.0}.get(t, 0.0) for t in types])
horizon = 10

expert = trl.maxent_backward_pass(mdp, phi @ w_true, horizon)
mu = np.full(mdp.n_states, 1.0 / mdp.n_states)
demos = trl.rollout(mdp, expert, n_episodes=2000, horizon=horizon, rng=np.random.default_rng(0), mu=mu)
result = trl.maxent_irl(mdp, phi, demos, horizon)
base = types.index(".")
print("cell types      ", types)
print("true weights    ", np.round(w_true - w_true[base], 3))
print("recovered       ", np.round(result.weights - result.weights[base], 3))

# %%
# Expected visits per cell over the 10 steps: the demonstrations' average against the learner's
# exact forward pass from the demonstrations' start states.
expert_visits = np.bincount(demos.states[:, :horizon].ravel(), minlength=mdp.n_states) / demos.n_episodes
start = np.bincount(demos.states[:, 0], minlength=mdp.n_states) / demos.n_episodes
learner_visits = trl.maxent_forward_pass(mdp, result.policy, horizon, mu=start)
axes = plot.visitation_comparison(world, expert_visits, learner_visits)
axes[0].figure.suptitle("expected visits per cell over 10 steps")

# %%
# The recovered reward, relative to its value on '.' cells (a constant shift changes nothing).
ax = plot.values(world, phi @ (result.weights - result.weights[base]))
ax.set_title("recovered reward")
