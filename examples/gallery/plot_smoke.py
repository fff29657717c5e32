"""
Optimal values on FrozenLake
============================

The optimal state values of Gymnasium's slippery 4x4 FrozenLake, computed exactly by policy
iteration, as a bar chart.
"""

import matplotlib.pyplot as plt

import tabular_rl as trl

world = trl.frozen_lake("4x4", gamma=0.99)
opt = trl.policy_iteration(world.mdp)

fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(range(len(opt.V)), opt.V)
ax.set_xlabel("state")
ax.set_ylabel("V*(s)")
ax.set_title("FrozenLake 4x4, gamma = 0.99")
plt.show()
