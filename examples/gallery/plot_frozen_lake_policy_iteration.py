"""
FrozenLake: policy iteration
============================

Gymnasium's slippery FrozenLake 4x4 (``S`` start, ``F`` frozen, ``H`` hole, ``G`` goal; a move goes
where intended or to either side with probability 1/3 each), gamma = 0.99. Policy iteration solves it
exactly: each step evaluates the policy with one LU solve and improves it greedily, stopping when no
action improves. The values are the (discounted) probabilities of reaching the goal; the optimal policy
famously walks *away* from the holes, relying on the slip to move it sideways.
"""

import matplotlib.pyplot as plt

import tabular_rl as trl
from tabular_rl import plot

world = trl.frozen_lake("4x4", gamma=0.99)
opt = trl.policy_iteration(world.mdp)
print(world.render_map(), "", world.render_policy(opt.policy), sep="\n")
print(f"policy iteration: {opt.n_iterations} improvement steps, J* = {float(world.mdp.mu @ opt.V):.4f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.8), layout="constrained")
plot.values(world, opt.V, left).set_title("optimal values $V^*$")
plot.policy(world, opt.policy, right).set_title("optimal policy")
