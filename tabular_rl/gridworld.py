r"""Gridworlds: ASCII maps and open grids as ``TabularMDP``, state features, text rendering.

Conventions shared by every builder in this module
--------------------------------------------------

* **Cells and states.** A map has ``n_rows x n_cols`` cells, row 0 at the top.
  Every cell that is not a wall (``'#'``) is a state; states are numbered in
  row-major order over the non-wall cells (so a map without walls numbers cell
  ``(row, col)`` as ``row * n_cols + col``, as Gymnasium's toy-text
  environments do).
* **Actions.** ``0 = left, 1 = down, 2 = right, 3 = up`` (Gymnasium's
  FrozenLake order), and optionally ``4 = stay``.
* **Slip.** A move goes in its intended direction with probability
  ``1 - slip`` and in each of the two perpendicular directions with probability
  ``slip / 2`` (never backwards). FrozenLake's ``is_slippery`` is ``slip = 2/3``;
  Russell & Norvig's 0.8/0.1/0.1 is ``slip = 0.2``. ``stay`` never slips.
* **Walls and the border.** A move into a wall or off the grid leaves the agent
  where it is.
"""

import dataclasses

import numpy as np
import scipy.sparse as sp

from . import _validation as _v
from .mdp import TabularMDP

__all__ = [
    "ACTION_NAMES",
    "GridWorld",
    "cliff_walking",
    "frozen_lake",
    "gridworld",
    "open_grid",
    "russell_norvig_4x3",
    "sutton_barto_5x5",
]

#: Action names, in index order (the fifth only with ``stay_action=True``).
ACTION_NAMES = ("left", "down", "right", "up", "stay")
_DELTAS = np.array([(0, -1), (1, 0), (0, 1), (-1, 0)], dtype=np.int64)
_ARROWS = ("<", "v", ">", "^", "o")


# ----------------------------------------------------------------------- core
def _neighbours(free):
    """For each state and each of the 4 moves: the next state and whether the move bumped.

    ``free`` is an (n_rows, n_cols) bool array of non-wall cells. Returns
    ``(state_of_cell, cells, nxt, bumped)`` with ``nxt``, ``bumped`` of shape (S, 4).
    """
    n_rows, n_cols = free.shape
    cells = np.flatnonzero(free.ravel())
    S = cells.size
    state_of_cell = np.full(free.size, -1, dtype=np.int64)
    state_of_cell[cells] = np.arange(S)
    rows, cols = np.divmod(cells, n_cols)
    nxt = np.empty((S, 4), dtype=np.int64)
    bumped = np.empty((S, 4), dtype=bool)
    own = np.arange(S)
    for d, (dr, dc) in enumerate(_DELTAS):
        r2, c2 = rows + dr, cols + dc
        inside = (r2 >= 0) & (r2 < n_rows) & (c2 >= 0) & (c2 < n_cols)
        target = np.where(inside, r2 * n_cols + c2, 0)
        t_state = np.where(inside, state_of_cell[target], -1)
        bump = t_state < 0
        nxt[:, d] = np.where(bump, own, t_state)
        bumped[:, d] = bump
    return state_of_cell, cells, nxt, bumped


def _outcome_probs(slip):
    if slip == 0.0:
        return np.array([1.0])
    return np.array([1.0 - slip, 0.5 * slip, 0.5 * slip])


def _assemble(nxt, move_reward, slip, stay_action, *, stay_reward=None, fixed_next=None,
              fixed_reward=None, sparse=True):
    """Transitions (CSR (S*A, S) or dense (S, A, S)) and expected rewards (S, A).

    ``nxt``/``move_reward`` (S, 4): where a move in direction d from s lands and what
    it pays. ``fixed_next``/``fixed_reward`` (S,): states whose every action goes
    deterministically to ``fixed_next[s] >= 0`` paying ``fixed_reward[s]``
    (absorbing terminals, jumps). Each (s, a) row gets the same K entries (K = 1
    without slip, 3 with); rows that do not slip repeat their target, and the
    duplicates are summed when the MDP is built.
    """
    S = nxt.shape[0]
    A = 5 if stay_action else 4
    probs = _outcome_probs(slip)
    K = probs.size
    moves = np.arange(4)
    dirs = np.stack([moves, (moves - 1) % 4, (moves + 1) % 4], axis=1)[:, :K]  # (4, K)
    cols = np.empty((S, A, K), dtype=np.int64)
    cols[:, :4, :] = nxt[:, dirs]
    R = np.empty((S, A))
    R[:, :4] = move_reward[:, dirs] @ probs
    if stay_action:
        cols[:, 4, :] = np.arange(S)[:, None]
        R[:, 4] = 0.0 if stay_reward is None else stay_reward
    if fixed_next is not None:
        fixed = fixed_next >= 0
        cols[fixed] = fixed_next[fixed][:, None, None]
        R[fixed] = fixed_reward[fixed][:, None]
    if sparse:
        if S * A * K < np.iinfo(np.int32).max:
            cols = cols.astype(np.int32)
        data = np.tile(probs, S * A)
        indptr = np.arange(0, S * A * K + 1, K, dtype=cols.dtype)
        P = sp.csr_matrix((data, cols.ravel(), indptr), shape=(S * A, S))
    else:
        P = np.zeros((S, A, S))
        s_idx = np.broadcast_to(np.arange(S)[:, None, None], cols.shape)
        a_idx = np.broadcast_to(np.arange(A)[None, :, None], cols.shape)
        np.add.at(P, (s_idx, a_idx, cols), np.broadcast_to(probs, cols.shape))
    return P, R


# ------------------------------------------------------------------ open grid
def open_grid(n_rows, n_cols=None, *, slip=0.1, gamma=0.99, stay_action=False, goal_reward=1.0,
              sparse=True):
    r"""An open ``n_rows x n_cols`` gridworld (no walls), built directly in sparse form.

    The fast builder for large grids: the (S*A, S) CSR transition matrix is
    assembled with vectorised NumPy from the 4 neighbours of every cell, never a
    dense S x S array; a 1024 x 1024 grid (about a million states) takes a few
    seconds.

    Dynamics follow the module conventions: actions left, down, right, up (and
    ``stay`` if ``stay_action``); a move goes as intended with probability
    ``1 - slip`` and to each perpendicular side with probability ``slip / 2``;
    moves off the grid stay in place. The task is continuing (no terminal):

    .. math::

        r(s, a) = \text{goal\_reward} \cdot [s = (n_\text{rows}-1, n_\text{cols}-1)],
        \qquad \mu = \delta_{(0, 0)},

    a state reward paid at every step spent in the bottom-right corner,
    whatever the action; the start is the top-left corner.

    Parameters
    ----------
    n_rows : int
        Number of rows, >= 1.
    n_cols : int, optional
        Number of columns, >= 1; default ``n_rows``.
    slip : float
        Slip probability in [0, 1].
    gamma : float
        Discount in [0, 1].
    stay_action : bool
        Add a fifth action that stays in place (it never slips).
    goal_reward : float
        Reward per step in the goal corner.
    sparse : bool
        Sparse CSR transitions (default) or dense (S, A, S) ones (small grids only).

    Returns
    -------
    TabularMDP
        With ``S = n_rows * n_cols`` states numbered ``row * n_cols + col``.

    See Also
    --------
    gridworld : maps with walls, terminals, per-cell rewards, rendering.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import policy_evaluation, uniform
    >>> from tabular_rl.gridworld import open_grid
    >>> mdp = open_grid(3, 4, slip=0.2, gamma=0.9)
    >>> mdp  # doctest: +ELLIPSIS
    TabularMDP(n_states=12, n_actions=4, gamma=0.9, sparse, nnz=...)
    >>> V = policy_evaluation(mdp, uniform(12, 4))
    >>> int(np.argmax(V))  # the goal corner (2, 3)
    11
    """
    n_rows = _v.check_int(n_rows, "n_rows", min_value=1)
    n_cols = n_rows if n_cols is None else _v.check_int(n_cols, "n_cols", min_value=1)
    slip = _v.check_probability(slip, "slip")
    goal_reward = _v.check_real(goal_reward, "goal_reward")
    free = np.ones((n_rows, n_cols), dtype=bool)
    _, _, nxt, _ = _neighbours(free)
    S = n_rows * n_cols
    P, R = _assemble(nxt, np.zeros((S, 4)), slip, bool(stay_action), sparse=bool(sparse))
    R[S - 1, :] = goal_reward
    mu = np.zeros(S)
    mu[0] = 1.0
    return TabularMDP(P, R, gamma, mu=mu)
