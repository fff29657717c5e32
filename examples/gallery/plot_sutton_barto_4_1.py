"""
Sutton & Barto, Example 4.1: the 4x4 gridworld at gamma = 1
===========================================================

The two shaded corners are terminal, every step costs 1 and the task is undiscounted (gamma = 1). The
equiprobable random policy ends with probability 1 (it is *proper*), so its values are one linear solve
on the transient states: the book's -14, -18, -20 and -22 (Figure 4.1, last row). Policy iteration then
finds the optimal values, minus the number of steps to the nearest corner, and the optimal actions; the
arrows show every action that attains the optimum, as the book's figure does.

Run as ``python examples/gallery/plot_sutton_barto_4_1.py --save docs/_static/sutton_barto_4_1.png`` to
write the figure to a PNG (it regenerates the picture in the README).
"""

import os
import sys

import matplotlib.pyplot as plt
import numpy as np

import tabular_rl as trl
from tabular_rl import plot
from tabular_rl.gridworld import gridworld

# %%
# The world: ``T`` cells are terminal (absorbing, zero reward); each step from another cell pays -1.
world = gridworld(["T...", "....", "....", "...T"], gamma=1.0, rewards={}, terminal="T", step_reward=-1.0)
mdp = world.mdp

V_random = trl.policy_evaluation(mdp, trl.uniform(*mdp.shape))
print(world.render_values(V_random, fmt="{:.0f}"))

# %%
# Policy iteration from the (proper) uniform policy; every action within round-off of the best one.
opt = trl.policy_iteration(mdp)
best = opt.Q >= opt.Q.max(axis=1, keepdims=True) - 1e-9
optimal_actions = best / best.sum(axis=1, keepdims=True)
print(world.render_values(opt.V, fmt="{:.0f}"))

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(11.0, 3.4), layout="constrained")
plot.values(world, V_random, left, fmt=".0f").set_title("random policy: $V^\\pi$")
plot.values(world, opt.V, middle, fmt=".0f").set_title("optimal values $V^*$")
plot.policy(world, optimal_actions, right).set_title("optimal actions")

if "--save" in sys.argv:
    path = sys.argv[sys.argv.index("--save") + 1]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=80)
    print("wrote", path)
