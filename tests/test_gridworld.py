"""Tests for tabular_rl.gridworld: the vectorised builders against a loop-by-loop reference,
the conventions (slip, walls, terminals, teleports, jumps, start), features, rendering and
input validation."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from tabular_rl import bellman_residual, policy_evaluation, policy_iteration, uniform
from tabular_rl.gridworld import (
    ACTION_NAMES,
    GridWorld,
    cliff_walking,
    frozen_lake,
    gridworld,
    open_grid,
    russell_norvig_4x3,
    sutton_barto_5x5,
)

DELTAS = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}
PERPENDICULAR = {0: (1, 3), 1: (0, 2), 2: (1, 3), 3: (0, 2)}


def reference_grid(layout, *, slip, rewards, terminal, step_reward, bump_reward, teleports, jumps,
                   stay_action):
    """The gridworld semantics written cell by cell with Python loops (the oracle)."""
    n_rows, n_cols = len(layout), len(layout[0])
    cells = [(r, c) for r in range(n_rows) for c in range(n_cols) if layout[r][c] != "#"]
    index = {cell: i for i, cell in enumerate(cells)}

    def unique(ch):
        (cell,) = [cell for cell in cells if layout[cell[0]][cell[1]] == ch]
        return index[cell]

    S, A = len(cells), 5 if stay_action else 4
    P, R = np.zeros((S, A, S)), np.zeros((S, A))
    for (r, c), s in index.items():
        ch = layout[r][c]
        for a in range(A):
            if ch in terminal:
                P[s, a, s] = 1.0
            elif ch in jumps:
                target, reward = jumps[ch]
                P[s, a, unique(target)] = 1.0
                R[s, a] = reward
            elif a == 4:
                P[s, a, s] = 1.0
                R[s, a] = step_reward
            else:
                for d, p in ((a, 1 - slip), (PERPENDICULAR[a][0], slip / 2), (PERPENDICULAR[a][1], slip / 2)):
                    r2, c2 = r + DELTAS[d][0], c + DELTAS[d][1]
                    if not (0 <= r2 < n_rows and 0 <= c2 < n_cols) or layout[r2][c2] == "#":
                        P[s, a, s] += p
                        R[s, a] += p * (step_reward + bump_reward)
                    else:
                        ch2 = layout[r2][c2]
                        land = unique(teleports[ch2]) if ch2 in teleports else index[(r2, c2)]
                        P[s, a, land] += p
                        R[s, a] += p * (step_reward + rewards.get(ch2, 0.0))
    return P, R


@st.composite
def maps(draw):
    n_rows = draw(st.integers(1, 4))
    n_cols = draw(st.integers(1, 5))
    rows = [
        "".join(draw(st.lists(st.sampled_from(".#GHSC"), min_size=n_cols, max_size=n_cols)))
        for _ in range(n_rows)
    ]
    if all(ch == "#" for row in rows for ch in row):
        rows[0] = "." + rows[0][1:]
    return rows


@settings(max_examples=40)
@given(
    layout=maps(),
    slip=st.sampled_from([0.0, 0.2, 2 / 3, 1.0]),
    terminal=st.sampled_from(["", "G", "GH"]),
    stay_action=st.booleans(),
    sparse=st.booleans(),
    use_teleport=st.booleans(),
)
def test_gridworld_matches_loop_reference(layout, slip, terminal, stay_action, sparse, use_teleport):
    """Catches mixed-up directions, perpendicular vs backward slip, walls/border not blocking,
    a lost or doubled duplicate entry, a reward paid on leaving instead of entering, a wrong
    state numbering, and teleports/terminals applied in the wrong order."""
    n_s = sum(row.count("S") for row in layout)
    teleports = {"C": "S"} if (use_teleport and n_s == 1) else {}
    rewards = {"G": 1.0, "H": -0.5, "C": -3.0, ".": 0.25}
    kw = dict(slip=slip, rewards=rewards, terminal=terminal, step_reward=-0.1, bump_reward=-0.7,
              teleports=teleports, jumps={}, stay_action=stay_action)
    world = gridworld(layout, gamma=0.9, sparse=sparse, **kw)
    P_ref, R_ref = reference_grid(layout, **kw)
    assert world.mdp.is_sparse == sparse
    np.testing.assert_allclose(world.mdp.todense(), P_ref, atol=1e-15)
    np.testing.assert_allclose(world.mdp.R, R_ref, atol=1e-15)


def test_jumps_match_loop_reference():
    """Sutton & Barto's A -> A' jumps: every action, no slip, the jump reward only."""
    layout = (".A.B.", ".....", "...b.", ".....", ".a...")
    kw = dict(slip=0.2, rewards={}, terminal="", step_reward=0.0, bump_reward=-1.0,
              teleports={}, jumps={"A": ("a", 10.0), "B": ("b", 5.0)}, stay_action=True)
    world = gridworld(layout, gamma=0.9, **kw)
    P_ref, R_ref = reference_grid(layout, **kw)
    np.testing.assert_allclose(world.mdp.todense(), P_ref, atol=1e-15)
    np.testing.assert_allclose(world.mdp.R, R_ref, atol=1e-15)


@settings(max_examples=30)
@given(n_rows=st.integers(1, 6), n_cols=st.integers(1, 6), slip=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
       stay_action=st.booleans())
def test_open_grid_matches_reference_and_dense(n_rows, n_cols, slip, stay_action):
    """open_grid is the empty map with the goal-corner state reward; sparse == dense; catches a
    row/column transposition on non-square grids."""
    mdp = open_grid(n_rows, n_cols, slip=slip, gamma=0.9, stay_action=stay_action)
    dense = open_grid(n_rows, n_cols, slip=slip, gamma=0.9, stay_action=stay_action, sparse=False)
    P_ref, _ = reference_grid(["." * n_cols] * n_rows, slip=slip, rewards={}, terminal="", step_reward=0.0,
                              bump_reward=0.0, teleports={}, jumps={}, stay_action=stay_action)
    assert mdp.is_sparse and not dense.is_sparse
    np.testing.assert_allclose(mdp.todense(), P_ref, atol=1e-15)
    np.testing.assert_array_equal(dense.todense(), mdp.todense())
    R = np.zeros((n_rows * n_cols, 5 if stay_action else 4))
    R[-1] = 1.0
    np.testing.assert_array_equal(mdp.R, R)
    assert mdp.mu[0] == 1.0


def test_open_grid_large_is_sparse_with_at_most_three_successors():
    """A 300 x 200 grid (60,000 states) stays sparse: at most 3 stored successors per (s, a)."""
    mdp = open_grid(300, 200, slip=0.1, gamma=0.99)
    assert mdp.is_sparse and mdp.shape == (60_000, 4)
    assert mdp.nnz <= 3 * 60_000 * 4
    assert np.max(np.diff(mdp.P.indptr)) == 3
    pi = uniform(*mdp.shape)
    V = policy_evaluation(mdp, pi)
    assert np.max(np.abs(bellman_residual(mdp, pi, V))) < 1e-10 * 2 * 100


def test_slip_goes_perpendicular_never_backwards():
    """From the centre of a 3x3 grid, 'right' goes right w.p. 1 - slip, up/down slip/2 each, never left."""
    world = gridworld(["...", "...", "..."], slip=0.3, rewards={}, terminal="")
    centre, P = world.state(1, 1), world.mdp.todense()
    row = P[centre, ACTION_NAMES.index("right")]
    assert row[world.state(1, 2)] == pytest.approx(0.7)
    assert row[world.state(0, 1)] == pytest.approx(0.15)
    assert row[world.state(2, 1)] == pytest.approx(0.15)
    assert row[world.state(1, 0)] == 0.0


def test_walls_are_not_states_and_block_moves():
    """Walls get no state index; a move into one stays and pays step + bump."""
    world = gridworld(["S#G"], rewards={"G": 1.0}, step_reward=-0.1, bump_reward=-1.0)
    assert world.n_states == 2
    assert world.state_of_cell.tolist() == [[0, -1, 1]]
    s = world.state(0, 0)
    right = ACTION_NAMES.index("right")
    assert world.mdp.todense()[s, right, s] == 1.0
    assert world.mdp.R[s, right] == pytest.approx(-1.1)


def test_terminals_absorb_with_zero_reward_and_entering_pays():
    """Reaching G pays its reward on entry; G then loops on itself with reward 0, so V(G) = 0."""
    world = gridworld(["SG"], gamma=0.9, rewards={"G": 1.0}, terminal="G", step_reward=-0.1)
    g, s = world.state(0, 1), world.state(0, 0)
    P = world.mdp.todense()
    assert np.all(P[g, :, g] == 1.0) and np.all(world.mdp.R[g] == 0.0)
    assert world.mdp.R[s, ACTION_NAMES.index("right")] == pytest.approx(0.9)
    assert policy_iteration(world.mdp).V.tolist() == pytest.approx([0.9, 0.0])


def test_teleport_pays_entered_cell_and_lands_at_target():
    """Cliff walking: stepping into the cliff pays -100 in total and lands at the start."""
    world = cliff_walking()
    start = world.state(3, 0)
    down = ACTION_NAMES.index("down")
    above_cliff = world.state(2, 5)
    assert world.mdp.todense()[above_cliff, down, start] == 1.0
    assert world.mdp.R[above_cliff, down] == -100.0
    assert world.mdp.R[above_cliff, ACTION_NAMES.index("left")] == -1.0


def test_start_distribution_conventions():
    """mu is uniform over 'S' cells; without one, uniform over non-terminal states."""
    world = gridworld(["S.S", "..G"])
    np.testing.assert_array_equal(world.mdp.mu, [0.5, 0, 0.5, 0, 0, 0])
    world = gridworld([".H", ".G"])
    np.testing.assert_array_equal(world.mdp.mu, [0.5, 0, 0.5, 0])
    world = gridworld(["G"])
    np.testing.assert_array_equal(world.mdp.mu, [1.0])


def test_stay_action_never_slips_and_pays_step_reward():
    world = gridworld(["S.G"], slip=0.5, step_reward=-0.2, stay_action=True)
    assert world.action_names == ACTION_NAMES and world.mdp.n_actions == 5
    P = world.mdp.todense()
    for s in range(2):
        assert P[s, 4, s] == 1.0 and world.mdp.R[s, 4] == pytest.approx(-0.2)


def test_features():
    """One column per cell type in sorted order, one 1 per row; one-hot is the identity."""
    world = gridworld(["S.#", "HG."])
    assert world.cell_types == (".", "G", "H", "S")
    phi = world.cell_type_features()
    np.testing.assert_array_equal(phi.sum(axis=1), 1.0)
    assert phi.shape == (5, 4)
    np.testing.assert_array_equal(phi[world.state(1, 0)], [0, 0, 1, 0])
    np.testing.assert_array_equal(world.onehot_features(), np.eye(5))
    assert world.cell_type(world.state(1, 1)) == "G"
    assert world.cell_of_state.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]]


def test_rendering_exact_strings():
    """Exact text grids: map, values (right-aligned, walls as #), policy (terminals keep their
    character, stay is 'o'), visitation."""
    world = gridworld(["S.#", "HG."], stay_action=True)
    assert world.render_map() == "S.#\nHG."
    V = np.array([1.5, -2.25, 0.0, 10.0, 3.0])
    assert world.render_values(V) == " 1.50 -2.25     #\n 0.00 10.00  3.00"
    assert world.render_values(V, fmt="{:.0f}") == " 2 -2  #\n 0 10  3"
    V[0] = -1e-17  # round-off below zero prints as 0.00, not -0.00
    assert world.render_values(V).split("\n")[0] == " 0.00 -2.25     #"
    pi = np.eye(5)[[2, 4, 0, 0, 3]]
    assert world.render_policy(pi) == ">o#\nHG^"
    assert world.render_visitation(np.full(5, 0.2)) == "0.200 0.200     #\n0.200 0.200 0.200"


def test_dense_and_sparse_builtins_agree():
    """Every built-in map gives the same values dense and sparse (to 1e-12)."""
    builders = [
        lambda **k: frozen_lake("4x4", **k),
        lambda **k: frozen_lake("8x8", **k),
        lambda **k: cliff_walking(**k),
        lambda **k: russell_norvig_4x3(gamma=0.95, **k),
        lambda **k: sutton_barto_5x5(**k),
    ]
    for build in builders:
        sparse, dense = build(sparse=True), build(sparse=False)
        assert sparse.mdp.is_sparse and not dense.mdp.is_sparse
        pi = uniform(*sparse.mdp.shape)
        np.testing.assert_allclose(policy_evaluation(sparse.mdp, pi), policy_evaluation(dense.mdp, pi),
                                   atol=1e-12 * 100 * 100, rtol=0)


def test_gridworld_is_frozen_dataclass():
    world = gridworld(["S.G"])
    assert isinstance(world, GridWorld)
    with pytest.raises(AttributeError):
        world.mdp = None
    with pytest.raises(ValueError, match="read-only"):
        world.state_of_cell[0, 0] = 5


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(layout=["S.", "..."]), ValueError, r"same positive length; row 0 has 2 characters, row 1 has 3"),
        (dict(layout=["##", "##"]), ValueError, r"at least one non-wall cell"),
        (dict(layout=[]), TypeError, r"layout must be a non-empty string"),
        (dict(layout=5), TypeError, r"layout must be a string or a sequence of strings, got int"),
        (dict(layout=["S.G"], slip=1.5), ValueError, r"slip == 1.5, must be in \[0, 1\]"),
        (dict(layout=["S.G"], gamma=-0.1), ValueError, r"gamma == -0.1"),
        (dict(layout=["S.G"], step_reward=np.nan), ValueError, r"step_reward must be finite"),
        (dict(layout=["S.G"], bump_reward="x"), TypeError, r"bump_reward must be a real number"),
        (dict(layout=["S.G"], terminal="#G"), ValueError, r"terminal must be a string of cell types"),
        (dict(layout=["S.G"], start="SS"), ValueError, r"start must be a single map character"),
        (dict(layout=["S.G"], rewards={"GG": 1.0}), ValueError, r"rewards key must be a single map character"),
        (dict(layout=["S.G"], rewards={"G": "a"}), TypeError, r"rewards\['G'\] must be a real number"),
        (dict(layout=["S.G"], rewards=np.zeros((2, 3))), ValueError,
         r"rewards must have shape \(1, 3\) \(one reward per cell\) or be a dict, got \(2, 3\)"),
        (dict(layout=["S.G"], rewards=np.array([[0.0, np.inf, 0.0]])), ValueError, r"rewards must be finite"),
        (dict(layout=["SC.S"], teleports={"C": "S"}), ValueError,
         r"teleports\['C'\] must name a cell type that occurs exactly once in layout, got 'S' which occurs 2"),
        (dict(layout=["SC."], teleports={"C": "#"}), ValueError, r"teleports\['C'\] must be a single map character"),
        (dict(layout=["Aa."], jumps={"A": "a"}), ValueError, r"jumps\['A'\] must be a pair \(target_type, reward\)"),
        (dict(layout=["Aa."], jumps={"A": ("b", 1.0)}), ValueError,
         r"jumps\['A'\] target must name a cell type that occurs exactly once in layout, got 'b' which occurs 0"),
        (dict(layout=["Aa."], jumps={"A": ("a", None)}), TypeError, r"jumps\['A'\] reward must be a real number"),
    ],
)
def test_gridworld_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gridworld(**kwargs)


def test_builder_and_method_validation():
    world = gridworld(["S#G"])
    with pytest.raises(ValueError, match=r"cell \(row, col\) == \(0, 1\) is a wall, not a state"):
        world.state(0, 1)
    with pytest.raises(ValueError, match=r"col == 3, must be <= 2"):
        world.state(0, 3)
    with pytest.raises(ValueError, match=r"s == 2, must be <= 1"):
        world.cell_type(2)
    with pytest.raises(ValueError, match=r"V must have shape \(2,\) \(one value per state\), got \(3,\)"):
        world.render_values([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"V must be finite"):
        world.render_values([0.0, np.nan])
    with pytest.raises(ValueError, match=r"d must be non-negative"):
        world.render_visitation([0.5, -0.5])
    with pytest.raises(ValueError, match=r"pi must have shape \(2, 4\) to match the MDP"):
        world.render_policy(np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match=r"map_name must be one of \['4x4', '8x8'\], got '5x5'"):
        frozen_lake("5x5")
    with pytest.raises(ValueError, match=r"n_rows == 0, must be >= 1"):
        open_grid(0)
    with pytest.raises(TypeError, match=r"n_cols must be an integer"):
        open_grid(3, 2.5)
    with pytest.raises(ValueError, match=r"slip == -0.1, must be in \[0, 1\]"):
        open_grid(3, slip=-0.1)
    with pytest.raises(ValueError, match=r"goal_reward must be finite"):
        open_grid(3, goal_reward=np.inf)


def test_layout_string_form_equals_list_form():
    a = gridworld("\nS.#\n.HG\n")
    b = gridworld(["S.#", ".HG"])
    assert a.layout == b.layout
    np.testing.assert_array_equal(a.mdp.todense(), b.mdp.todense())
    assert sp.issparse(a.mdp.P)
