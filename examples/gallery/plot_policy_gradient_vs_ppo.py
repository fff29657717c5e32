"""
Exact policy gradient vs exact PPO-clip
=======================================

Both optimisers run on the exact MDP, with no sampling: softmax policy-gradient ascent steps along the
exact gradient dJ/dtheta(s, a) = d(s) pi(a|s) A(s, a) / (1 - gamma), and PPO-clip runs 10 epochs of exact
gradient ascent on the clipped surrogate per iteration. Both start from the uniform policy (theta = 0) and
are drawn against J*, the optimum from policy iteration. A PPO iteration does ten gradient steps, so the
x axes count different work: compare the shapes, not the speeds.
"""

import matplotlib.pyplot as plt
import numpy as np

import tabular_rl as trl
from tabular_rl import plot
from tabular_rl.gridworld import gridworld

world = gridworld(["S...", ".#.H", "...G"], slip=0.1, gamma=0.9, rewards={"G": 1.0, "H": -1.0}, step_reward=-0.01)
mdp = world.mdp
J_star = float(mdp.mu @ trl.policy_iteration(mdp).V)

pg = trl.policy_gradient_ascent(mdp, n_iterations=300, step_size=1.0)
npg = trl.natural_policy_gradient_ascent(mdp, step_size=0.5, n_iterations=30)
ppo = trl.ppo_clip_exact(mdp, np.zeros(mdp.shape), n_iterations=30, n_epochs=10, learning_rate=1.0, epsilon=0.2)
print(f"J* = {J_star:.4f}; policy gradient after 300 steps {pg.J[-1]:.4f}, NPG after 30 {npg.J[-1]:.4f}, "
      f"PPO-clip after 30 iterations {ppo.J:.4f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
plot.learning_curve(pg, J_star, left, label="softmax policy gradient (step 1)")
left.set_title("policy gradient: one exact gradient step per iteration")
plot.learning_curve(ppo, J_star, right, label="PPO-clip (eps 0.2, 10 epochs)")
plot.learning_curve(npg, None, right, label="natural policy gradient (step 0.5)")
right.set_title("PPO-clip and NPG")
