"""
Behaviour cloning vs DAgger: the compounding error
==================================================

Ross & Bagnell (2010): a learner that errs with probability epsilon on the expert's states can lose up to
epsilon T^2 over T steps, because one mistake takes it to states the expert never showed it; DAgger trains
on the learner's own states and loses at most epsilon T. The library's "recoverable drift" MDP attains both:
the behaviour-cloned learner errs only on the expert's track and never recovers, the DAgger learner
recovers. Costs are evaluated exactly with ``finite_horizon_values`` (costs are negative rewards).
"""

import numpy as np

import tabular_rl as trl
from tabular_rl import plot

eps = 1e-3
drift = trl.drift_mdp()
horizons = np.array([5, 10, 20, 40, 80, 160])
bc = np.array([-trl.finite_horizon_values(drift, trl.drift_bc_learner(eps), T).J for T in horizons])
dagger = np.array([-trl.finite_horizon_values(drift, trl.drift_dagger_learner(eps), T).J for T in horizons])
for T, b, d in zip(horizons, bc, dagger):
    print(f"T = {T:>3d}: BC {b:.5f} (bound {eps * T * T:.3f}), DAgger {d:.5f} (bound {eps * T:.3f})")
assert np.allclose(bc, [trl.drift_bc_cost(T, eps) for T in horizons])

# %%
ax = plot.compounding_error(horizons, bc, dagger, epsilon=eps)
ax.set_title(f"cost gap over the expert, epsilon = {eps:g}")
