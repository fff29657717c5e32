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

Examples
--------
``ACTION_NAMES`` names the action indices; a world without ``stay_action`` uses the first four.

>>> from tabular_rl.gridworld import ACTION_NAMES, gridworld
>>> ACTION_NAMES
('left', 'down', 'right', 'up', 'stay')
>>> ACTION_NAMES.index("up"), gridworld(["S.G"]).action_names == ACTION_NAMES[:4]
(3, True)
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
    seconds, a 3163 x 3163 one (ten million) about 20 s with a peak of 5.7 GB.

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


# ------------------------------------------------------------ ASCII gridworld
@dataclasses.dataclass(frozen=True, eq=False)
class GridWorld:
    r"""A gridworld: its map, its ``TabularMDP``, the state <-> cell mapping, features and renderers.

    Built by :func:`gridworld` and the built-in maps (:func:`frozen_lake`,
    :func:`cliff_walking`, :func:`russell_norvig_4x3`, :func:`sutton_barto_5x5`).

    Attributes
    ----------
    layout : tuple of str
        The map, one string per row; ``'#'`` is a wall, every other character a
        cell type.
    mdp : TabularMDP
    state_of_cell : ndarray of int, shape (n_rows, n_cols), read-only
        The state of each cell, -1 for walls.
    cell_of_state : ndarray of int, shape (S, 2), read-only
        ``(row, col)`` of each state.
    terminal_types : str
        The cell types that are terminal (absorbing with zero reward).
    action_names : tuple of str
        ``("left", "down", "right", "up")`` plus ``"stay"`` if present.

    Examples
    --------
    A corridor of three cells, start S, goal G (entering it pays 1 and ends the
    episode), gamma = 0.5: the cell next to G is worth 1, the start 0.5 * 1.

    >>> from tabular_rl import policy_iteration
    >>> from tabular_rl.gridworld import gridworld
    >>> world = gridworld(["S.G"], gamma=0.5)
    >>> world.n_states, world.mdp.shape, world.state(0, 2), world.cell_type(2)
    (3, (3, 4), 2, 'G')
    >>> world.cell_of_state.tolist()                        # (row, col) of each state
    [[0, 0], [0, 1], [0, 2]]
    >>> res = policy_iteration(world.mdp)
    >>> print(world.render_values(res.V))
    0.50 1.00 0.00
    >>> print(world.render_policy(res.policy))              # "right" twice; G is terminal
    >>G
    """

    layout: tuple
    mdp: TabularMDP
    state_of_cell: np.ndarray
    cell_of_state: np.ndarray
    terminal_types: str
    action_names: tuple

    @property
    def terminal(self):
        """The terminal mask ``mdp.terminal``, bool of shape (S,), read-only.

        >>> from tabular_rl.gridworld import gridworld
        >>> gridworld(["S.G"], terminal="G").terminal
        array([False, False,  True])
        """
        return self.mdp.terminal

    @property
    def n_rows(self):
        return len(self.layout)

    @property
    def n_cols(self):
        return len(self.layout[0])

    @property
    def n_states(self):
        return self.mdp.n_states

    @property
    def cell_types(self):
        """The distinct non-wall characters of the map, sorted: the columns of :meth:`cell_type_features`."""
        return tuple(sorted({ch for row in self.layout for ch in row if ch != "#"}))

    def state(self, row, col):
        """The state index of cell ``(row, col)`` (``ValueError`` for a wall or a cell off the map)."""
        row = _v.check_int(row, "row", min_value=0, max_value=self.n_rows - 1)
        col = _v.check_int(col, "col", min_value=0, max_value=self.n_cols - 1)
        s = int(self.state_of_cell[row, col])
        if s < 0:
            raise ValueError(f"cell (row, col) == ({row}, {col}) is a wall, not a state")
        return s

    def cell_type(self, s):
        """The map character of state ``s``."""
        s = _v.check_int(s, "s", min_value=0, max_value=self.n_states - 1)
        r, c = self.cell_of_state[s]
        return self.layout[r][c]

    # ------------------------------------------------------------- features
    def onehot_features(self):
        """One-hot state features, ``np.eye(S)`` of shape (S, S) (dense: for small maps)."""
        return np.eye(self.n_states)

    def cell_type_features(self):
        r"""Cell-type indicator features, shape (S, K), K = ``len(self.cell_types)``.

        :math:`\phi(s)_k = [\text{type}(s) = \text{cell\_types}[k]]`; each row has one 1.
        """
        types = np.array(self.cell_types)
        chars = np.array([self.layout[r][c] for r, c in self.cell_of_state])
        return (chars[:, None] == types[None, :]).astype(np.float64)

    # ------------------------------------------------------------ rendering
    def _state_vector(self, x, name):
        x = _v.as_float_array(x, name)
        _v.check_shape(x, (self.n_states,), name, what="(one value per state)")
        _v.check_finite(x, name)
        return x

    def _grid_of_strings(self, texts, wall="#"):
        width = max((len(t) for t in texts), default=1)
        lines = []
        for r in range(self.n_rows):
            cells = []
            for c in range(self.n_cols):
                s = self.state_of_cell[r, c]
                cells.append((wall if s < 0 else texts[s]).rjust(width))
            lines.append(" ".join(cells))
        return "\n".join(lines)

    @staticmethod
    def _format(fmt, x):
        text = fmt.format(x)
        try:
            if text.strip().startswith("-") and float(text) == 0.0:  # round-off: print 0.00, not -0.00
                return fmt.format(0.0)
        except ValueError:
            pass
        return text

    def render_map(self):
        """The map as a string, one line per row."""
        return "\n".join(self.layout)

    def render_values(self, V, *, fmt="{:.2f}"):
        """A value per state as a text grid; walls print as ``#``; columns right-aligned.

        Parameters
        ----------
        V : array_like, shape (S,)
        fmt : str
            Format of one number; a value that rounds to zero prints unsigned.
        """
        V = self._state_vector(V, "V")
        return self._grid_of_strings([self._format(fmt, v) for v in V])

    def render_visitation(self, d, *, fmt="{:.3f}"):
        """A visitation (or any non-negative state weight) per state as a text grid, like :meth:`render_values`."""
        d = self._state_vector(d, "d")
        _v.check_nonnegative(d, "d")
        return self._grid_of_strings([self._format(fmt, v) for v in d])

    def render_policy(self, pi):
        """The most likely action of each state as an arrow (``< v > ^``, ``o`` for stay).

        Terminal cells print their map character, walls ``#``; ties go to the
        lowest action index. One character per cell, so the grid lines up with
        :meth:`render_map`.
        """
        pi = _v.check_policy(pi, self.mdp)
        best = np.argmax(pi, axis=1)
        lines = []
        for r in range(self.n_rows):
            row = []
            for c in range(self.n_cols):
                s = self.state_of_cell[r, c]
                ch = self.layout[r][c]
                row.append(ch if (s < 0 or ch in self.terminal_types) else _ARROWS[best[s]])
            lines.append("".join(row))
        return "\n".join(lines)


def _check_layout(layout):
    if isinstance(layout, str):
        rows = layout.strip("\n").split("\n")
    else:
        try:
            rows = list(layout)
        except TypeError:
            raise TypeError(f"layout must be a string or a sequence of strings, got {type(layout).__name__}") from None
    if not rows or not all(isinstance(r, str) for r in rows):
        raise TypeError("layout must be a non-empty string or a non-empty sequence of strings (one per row)")
    n_cols = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != n_cols or n_cols == 0:
            raise ValueError(
                f"layout rows must all have the same positive length; row 0 has {n_cols} characters, "
                f"row {i} has {len(r)}"
            )
    grid = np.array([list(r) for r in rows])
    if np.all(grid == "#"):
        raise ValueError("layout must contain at least one non-wall cell, got only '#'")
    return tuple(rows), grid


def _unique_cell_state(grid, ch, state_of_cell, name):
    hits = np.flatnonzero(grid.ravel() == ch)
    if hits.size != 1:
        raise ValueError(
            f"{name} must name a cell type that occurs exactly once in layout, got {ch!r} which occurs "
            f"{hits.size} times"
        )
    return int(state_of_cell[hits[0]])


def _check_char(ch, name):
    if not isinstance(ch, str) or len(ch) != 1 or ch == "#":
        raise ValueError(f"{name} must be a single map character other than '#', got {ch!r}")
    return ch


def gridworld(layout, *, slip=0.0, gamma=0.99, rewards=None, terminal="GH", step_reward=0.0,
              bump_reward=0.0, teleports=None, jumps=None, start="S", stay_action=False, sparse=True):
    r"""A gridworld MDP from an ASCII map.

    Every non-wall character is a cell type; ``'#'`` is a wall. The reward of a
    step is paid **on the transition** (so r(s, a) is an expectation over the
    slip). From a non-terminal, non-jump cell, a move that ends in direction d:

    * into a wall or off the grid: stays, pays ``step_reward + bump_reward``;
    * into cell t: pays ``step_reward + rewards[t]`` (the reward for *entering*
      t) and lands in t, or, if t's type is a key of ``teleports``, in the
      (unique) cell of type ``teleports[type(t)]`` instead;
    * ``stay`` (action 4): stays and pays ``step_reward``.

    Cells whose type is in ``terminal`` are **absorbing with zero reward**: every
    action stays and pays 0. The reward of reaching a terminal is the
    ``rewards`` entry of that cell, paid on entering it, so V(terminal) = 0.
    Cells whose type is a key of ``jumps``, ``{type: (target_type, reward)}``,
    send every action deterministically (no slip, no step reward) to the unique
    cell of ``target_type``, paying ``reward``.

    With these conventions the expected reward of a non-terminal step is

    .. math::

        r(s, a) = \text{step\_reward} + \sum_{d} p(d | a)\,
            \bigl([\text{bump}_d]\,\text{bump\_reward}
            + [\neg\text{bump}_d]\,\text{rewards}[\text{cell}(s) + d]\bigr),

    with :math:`p(a|a) = 1 - \text{slip}` and :math:`\text{slip}/2` for each
    direction perpendicular to a.

    Parameters
    ----------
    layout : str or sequence of str
        The map, one row per line (row 0 at the top); all rows the same length.
    slip : float
        Probability in [0, 1] that a move goes to a perpendicular side instead
        (half each).
    gamma : float
        Discount in [0, 1].
    rewards : dict or array_like, optional
        Reward for entering a cell: a dict ``{cell_type: reward}`` (types not
        listed pay 0) or an array of shape (n_rows, n_cols) with one reward per
        cell. Default ``{"G": 1.0}``.
    terminal : str
        Cell types that are absorbing with zero reward. Default ``"GH"``.
    step_reward : float
        Reward (negative: a cost) of every step taken from a non-terminal cell.
    bump_reward : float
        Extra reward of a move into a wall or off the grid.
    teleports : dict, optional
        ``{entered_type: landing_type}``: entering a cell of the first type
        lands in the unique cell of the second (the cliff of cliff walking).
    jumps : dict, optional
        ``{type: (target_type, reward)}``, see above (Sutton & Barto's A -> A').
    start : str
        The cell type of the start cells: ``mu`` is uniform over them; if there is
        none, uniform over non-terminal states (over all states if every state is
        terminal).
    stay_action : bool
        Add action 4, ``stay``.
    sparse : bool
        Sparse CSR transitions (default) or dense (S, A, S).

    Returns
    -------
    GridWorld

    Raises
    ------
    ValueError
        Ragged or empty map, a teleport/jump target that is not a unique cell,
        rewards of the wrong shape, slip/gamma out of range.

    Examples
    --------
    >>> from tabular_rl import policy_iteration
    >>> from tabular_rl.gridworld import gridworld
    >>> world = gridworld(["S#G", "..."], gamma=0.9, step_reward=-0.1)
    >>> result = policy_iteration(world.mdp)
    >>> print(world.render_policy(result.policy))
    v#G
    >>^
    >>> print(world.render_values(result.V))
    0.39    # 0.00
    0.54 0.71 0.90
    """
    rows, grid = _check_layout(layout)
    slip = _v.check_probability(slip, "slip")
    step_reward = _v.check_real(step_reward, "step_reward")
    bump_reward = _v.check_real(bump_reward, "bump_reward")
    if not isinstance(terminal, str) or "#" in terminal:
        raise ValueError(f"terminal must be a string of cell types (not containing '#'), got {terminal!r}")
    if not isinstance(start, str) or len(start) != 1:
        raise ValueError(f"start must be a single map character, got {start!r}")
    n_rows, n_cols = grid.shape
    free = grid != "#"
    state_of_cell, cells, nxt, bumped = _neighbours(free)
    S = cells.size
    chars = grid.ravel()[cells]

    # reward for entering each cell
    if rewards is None:
        rewards = {"G": 1.0}
    if isinstance(rewards, dict):
        enter = np.zeros(S)
        for key, value in rewards.items():
            _check_char(key, "rewards key")
            enter[chars == key] = _v.check_real(value, f"rewards[{key!r}]")
    else:
        arr = _v.as_float_array(rewards, "rewards")
        _v.check_shape(arr, (n_rows, n_cols), "rewards", what="(one reward per cell) or be a dict")
        _v.check_finite(arr, "rewards")
        enter = arr.ravel()[cells]

    landing = np.arange(S)
    for key, target in (teleports or {}).items():
        _check_char(key, "teleports key")
        _check_char(target, f"teleports[{key!r}]")
        landing[chars == key] = _unique_cell_state(grid, target, state_of_cell, f"teleports[{key!r}]")

    move_reward = step_reward + np.where(bumped, bump_reward, enter[nxt])
    moved_to = np.where(bumped, nxt, landing[nxt])  # a bump stays, even in a teleport cell
    fixed_next = np.full(S, -1, dtype=np.int64)
    fixed_reward = np.zeros(S)
    is_terminal = np.isin(chars, list(terminal)) if terminal else np.zeros(S, dtype=bool)
    fixed_next[is_terminal] = np.flatnonzero(is_terminal)
    for key, value in (jumps or {}).items():
        _check_char(key, "jumps key")
        try:
            target, reward = value
        except (TypeError, ValueError):
            raise ValueError(f"jumps[{key!r}] must be a pair (target_type, reward), got {value!r}") from None
        _check_char(target, f"jumps[{key!r}] target")
        where = chars == key
        fixed_next[where] = _unique_cell_state(grid, target, state_of_cell, f"jumps[{key!r}] target")
        fixed_reward[where] = _v.check_real(reward, f"jumps[{key!r}] reward")

    stay_reward = np.full(S, step_reward)
    P, R = _assemble(moved_to, move_reward, slip, bool(stay_action), stay_reward=stay_reward,
                     fixed_next=fixed_next, fixed_reward=fixed_reward, sparse=bool(sparse))
    mu = (chars == start).astype(np.float64)
    if mu.sum() == 0:
        mu = (~is_terminal).astype(np.float64) if not np.all(is_terminal) else np.ones(S)
    mu /= mu.sum()
    mdp = TabularMDP(P, R, gamma, mu=mu, terminal=is_terminal)
    cell_of_state = np.stack(np.divmod(cells, n_cols), axis=1)
    grid_states = state_of_cell.reshape(n_rows, n_cols)
    for arr in (cell_of_state, grid_states):
        arr.setflags(write=False)
    names = ACTION_NAMES if stay_action else ACTION_NAMES[:4]
    return GridWorld(rows, mdp, grid_states, cell_of_state, terminal, names)


# ------------------------------------------------------------- built-in maps
_FROZEN_LAKE_MAPS = {
    "4x4": ("SFFF", "FHFH", "FFFH", "HFFG"),
    "8x8": (
        "SFFFFFFF",
        "FFFFFFFF",
        "FFFHFFFF",
        "FFFFFHFF",
        "FFFHFFFF",
        "FHHFFFHF",
        "FHFFHFHF",
        "FFFHFFFG",
    ),
}


def frozen_lake(map_name="4x4", *, is_slippery=True, gamma=0.99, sparse=True):
    r"""FrozenLake 4x4 or 8x8 with Gymnasium's layout and slip.

    ``S`` start, ``F`` frozen, ``H`` hole, ``G`` goal. Slippery: the intended move
    and each perpendicular move with probability 1/3 (``slip = 2/3``), as
    Gymnasium's ``FrozenLake-v1`` with ``is_slippery=True``. Reward 1 for
    entering ``G``, 0 otherwise; ``H`` and ``G`` are absorbing with zero reward.
    Actions and state numbering are Gymnasium's (left, down, right, up;
    ``row * n_cols + col``), so ``V`` here equals ``V`` of
    ``from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma)`` on the 16 (or 64)
    cells (that conversion sends terminating transitions to an extra absorbing
    state instead of the hole or goal cell).

    Parameters
    ----------
    map_name : {"4x4", "8x8"}
    is_slippery : bool
    gamma : float
    sparse : bool

    Returns
    -------
    GridWorld

    Examples
    --------
    >>> from tabular_rl import policy_iteration
    >>> from tabular_rl.gridworld import frozen_lake
    >>> world = frozen_lake("4x4", gamma=0.99)
    >>> print(world.render_map())
    SFFF
    FHFH
    FFFH
    HFFG
    >>> round(float(policy_iteration(world.mdp).V[0]), 3)  # success probability, discounted
    0.542
    """
    if map_name not in _FROZEN_LAKE_MAPS:
        raise ValueError(f"map_name must be one of {sorted(_FROZEN_LAKE_MAPS)}, got {map_name!r}")
    return gridworld(_FROZEN_LAKE_MAPS[map_name], slip=2.0 / 3.0 if is_slippery else 0.0, gamma=gamma,
                     rewards={"G": 1.0}, terminal="GH", sparse=sparse)


def cliff_walking(*, slip=0.0, gamma=0.99, sparse=True):
    r"""Cliff walking (Sutton & Barto 2018, Example 6.6), 4 x 12.

    Start ``S`` bottom left, goal ``G`` bottom right, the cliff ``C`` between
    them. Every step pays -1; stepping into the cliff pays -100 in total
    (``step_reward = -1`` plus ``rewards["C"] = -99``) and sends the agent back
    to ``S``; ``G`` is absorbing with zero reward (reaching it pays the last -1).
    Same numbers and states as Gymnasium's ``CliffWalking`` (whose actions are
    ordered up, right, down, left; ours left, down, right, up).
    ``slip = 2/3`` matches ``is_slippery=True``.

    Examples
    --------
    >>> from tabular_rl import policy_iteration
    >>> from tabular_rl.gridworld import cliff_walking
    >>> world = cliff_walking(gamma=1.0 - 1e-9)
    >>> round(float(policy_iteration(world.mdp).V[world.state(3, 0)]), 6)  # 13 steps along the cliff
    -13.0
    """
    layout = ("............", "............", "............", "SCCCCCCCCCCG")
    return gridworld(layout, slip=slip, gamma=gamma, rewards={"C": -99.0}, terminal="G",
                     step_reward=-1.0, teleports={"C": "S"}, sparse=sparse)


def russell_norvig_4x3(*, gamma=1.0, step_reward=-0.04, slip=0.2, sparse=True):
    r"""Russell & Norvig's 4x3 world (AIMA 3rd ed., Fig. 17.1-17.3).

    Map (row 0 at the top; AIMA's (x, y) = (col + 1, 3 - row))::

        ...+
        .#.-
        S...

    The wall is AIMA's (2, 2); ``+`` is the +1 terminal (4, 3), ``-`` the -1
    terminal (4, 2), ``S`` the start (1, 1). A move goes as intended with
    probability 0.8 and to each side with 0.1 (``slip = 0.2``); bumping stays.

    AIMA pays R(s) = -0.04 in every non-terminal state and R = +-1 in the
    terminals, with U(terminal) = R(terminal). Here the terminal reward is paid
    on entering the terminal, which is then absorbing with zero reward, and the
    -0.04 on every step from a non-terminal state, so on non-terminal states
    V equals AIMA's U, and V(terminal) = 0 where AIMA has U = +-1.

    ``gamma = 1`` (AIMA's) is the default: infinite-horizon functions refuse it;
    use :func:`~tabular_rl.finite_horizon_optimal` with a long horizon (the
    terminals are reached with probability 1 under the optimal policy, so it
    converges to U).

    Examples
    --------
    >>> from tabular_rl import finite_horizon_optimal
    >>> from tabular_rl.gridworld import russell_norvig_4x3
    >>> world = russell_norvig_4x3()
    >>> V = finite_horizon_optimal(world.mdp, 200).V[0]
    >>> print(world.render_values(V, fmt="{:.3f}"))
    0.812 0.868 0.918 0.000
    0.762     # 0.660 0.000
    0.705 0.655 0.611 0.388
    """
    layout = ("...+", ".#.-", "S...")
    return gridworld(layout, slip=slip, gamma=gamma, rewards={"+": 1.0, "-": -1.0}, terminal="+-",
                     step_reward=step_reward, sparse=sparse)


def sutton_barto_5x5(*, gamma=0.9, sparse=True):
    r"""Sutton & Barto's 5x5 gridworld (2018, Example 3.5, Figures 3.2 and 3.5).

    Map (row 0 at the top)::

        .A.B.
        .....
        ...b.
        .....
        .a...

    From ``A`` every action pays +10 and moves to ``a`` (A'); from ``B`` every
    action pays +5 and moves to ``b`` (B'); a move off the grid pays -1 and
    stays; every other move pays 0. No slip, no terminal; ``mu`` uniform.

    Examples
    --------
    >>> from tabular_rl import policy_evaluation, uniform
    >>> from tabular_rl.gridworld import sutton_barto_5x5
    >>> world = sutton_barto_5x5()
    >>> print(world.render_values(policy_evaluation(world.mdp, uniform(25, 4)), fmt="{:.1f}"))
     3.3  8.8  4.4  5.3  1.5
     1.5  3.0  2.3  1.9  0.5
     0.1  0.7  0.7  0.4 -0.4
    -1.0 -0.4 -0.4 -0.6 -1.2
    -1.9 -1.3 -1.2 -1.4 -2.0
    """
    layout = (".A.B.", ".....", "...b.", ".....", ".a...")
    return gridworld(layout, gamma=gamma, rewards={}, terminal="", bump_reward=-1.0,
                     jumps={"A": ("a", 10.0), "B": ("b", 5.0)}, sparse=sparse)
