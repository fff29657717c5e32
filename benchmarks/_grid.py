"""The slippery gridworld every benchmark runs on.

``tabular_rl.gridworld.open_grid``: an n x n open grid, four actions, the
intended move with probability ``1 - slip`` and each perpendicular side with
``slip / 2`` (at most 3 successors per (s, a)), moves off the grid stay put;
transitions are a CSR matrix of shape (S*A, S).
"""

from tabular_rl.gridworld import open_grid

SLIP = 0.2
GAMMA = 0.99


def slippery_grid(n, *, slip=SLIP, gamma=GAMMA, sparse=True):
    """The n x n slippery open gridworld (sparse by default; ``sparse=False`` for small n only)."""
    return open_grid(n, slip=slip, gamma=gamma, sparse=sparse)
