"""Tests for tabular_rl.converters: pymdptoolbox, irl-maxent and Gymnasium layouts give the same
MDP (and the same values) as the native one; from_gymnasium on the real toy-text environments."""

import subprocess
import sys
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from tabular_rl import TabularMDP, policy_evaluation, policy_iteration, q_values, uniform
from tabular_rl import strategies as trs
from tabular_rl.converters import from_gymnasium, from_irl_maxent, from_pymdptoolbox
from tabular_rl.gridworld import cliff_walking, frozen_lake


def tol(mdp):
    """Single-solve tolerance of docs/guide/numerics.md#tolerances: 1e-10 (1 + R) H_eff."""
    return 1e-10 * (1 + np.max(np.abs(mdp.R))) / (1 - mdp.gamma)


# ---------------------------------------------------------------- pymdptoolbox
@settings(max_examples=40)
@given(mdp=trs.mdps(sparse=False, reward_shape="state_action"),
       layout=st.sampled_from(["array", "dense_list", "sparse_list"]), data=st.data())
def test_pymdptoolbox_round_trip_gives_native_values(mdp, layout, data):
    """P[a][s, s2] -> P[s, a, s2]: catches a transposed (s, a) interleave in the sparse stacking
    and a swapped s/s2; a transition reward R[a][s, s2] is reduced with P's probabilities."""
    S, A = mdp.shape
    P = mdp.todense()
    P_tb = np.transpose(P, (1, 0, 2))
    R3 = np.arange(S * A * S, dtype=float).reshape(A, S, S) / (S * A * S)
    if layout == "array":
        P_arg, R3_arg = P_tb, R3
    elif layout == "dense_list":
        P_arg, R3_arg = [P_tb[a] for a in range(A)], [R3[a] for a in range(A)]
    else:
        P_arg, R3_arg = [sp.csr_matrix(P_tb[a]) for a in range(A)], [sp.csr_matrix(R3[a]) for a in range(A)]
    converted = from_pymdptoolbox(P_arg, mdp.R, mdp.gamma, mu=mdp.mu)
    assert converted.is_sparse == (layout == "sparse_list")
    np.testing.assert_allclose(converted.todense(), P, atol=1e-15)
    np.testing.assert_array_equal(converted.R, mdp.R)
    pi = data.draw(trs.policies(S, A))
    np.testing.assert_allclose(policy_evaluation(converted, pi), policy_evaluation(mdp, pi), atol=tol(mdp), rtol=0)
    with_R3 = from_pymdptoolbox(P_arg, R3_arg, mdp.gamma)
    native_R3 = TabularMDP(P, np.transpose(R3, (1, 0, 2)), mdp.gamma)
    np.testing.assert_allclose(with_R3.R, native_R3.R, atol=1e-15)
    state_reward = from_pymdptoolbox(P_arg, np.arange(S, dtype=float), mdp.gamma)
    np.testing.assert_array_equal(state_reward.R, np.repeat(np.arange(S, dtype=float)[:, None], A, axis=1))


def test_pymdptoolbox_mixed_list_and_dense_R_with_sparse_P():
    """A list mixing dense and sparse blocks gives a sparse MDP; a dense (A, S, S) R works with it,
    and a sparse R list works with a dense P."""
    P0 = np.array([[0.5, 0.5], [0.0, 1.0]])
    P1 = np.array([[1.0, 0.0], [1.0, 0.0]])
    R3 = np.array([[[1.0, 3.0], [0.0, 2.0]], [[4.0, 0.0], [5.0, 0.0]]])
    mdp = from_pymdptoolbox([P0, sp.csr_matrix(P1)], R3, 0.5)
    assert mdp.is_sparse
    np.testing.assert_allclose(mdp.R, [[2.0, 4.0], [2.0, 5.0]])
    dense = from_pymdptoolbox(np.stack([P0, P1]), [sp.csr_matrix(R3[0]), R3[1]], 0.5)
    np.testing.assert_allclose(dense.R, mdp.R)


def test_pymdptoolbox_validation():
    P = np.stack([np.eye(2), np.eye(2)])
    with pytest.raises(ValueError, match=r"P given as one scipy.sparse matrix must have shape \(A\*S, S\) with rows "
                                         r"ordered action-major \(row a\*S \+ s\), got shape \(3, 2\)"):
        from_pymdptoolbox(sp.csr_matrix(np.ones((3, 2)) / 2), [0.0, 0.0], 0.9)
    with pytest.raises(TypeError, match=r"P must be an \(A, S, S\) array or a sequence of A \(S, S\) matrices, got int"):
        from_pymdptoolbox(3, [0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"P must have shape \(A, S, S\) \(pymdptoolbox layout\), got shape \(2, 2\)"):
        from_pymdptoolbox(np.eye(2), [0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"P must hold at least one action"):
        from_pymdptoolbox([], [0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"P\[1\] must have shape \(S, S\) = \(2, 2\) like P\[0\]"):
        from_pymdptoolbox([np.eye(2), np.eye(3)], [0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"P\[0\] must have shape \(S, S\) = \(2, 2\) like P\[0\].*got \(2, 3\)"):
        from_pymdptoolbox(np.ones((2, 2, 3)) / 3, [0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"R must have shape \(S,\) = \(2,\), \(S, A\) = \(2, 2\) or \(A, S, S\) = \(2, 2, 2\) \(pymdptoolbox layout\), got \(3,\)"):
        from_pymdptoolbox(P, [0.0, 0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"R given as a sequence must hold A = 2 matrices of shape \(2, 2\), got shapes \[\(2, 2\)\]"):
        from_pymdptoolbox(P, [np.eye(2)], 0.9)
    with pytest.raises(ValueError, match=r"P\[0\]\[1, :\] sums to 0.6; each row P\[a\]\[s, :\] \(pymdptoolbox layout\) must sum to 1"):
        from_pymdptoolbox(np.stack([[[1.0, 0.0], [0.3, 0.3]], np.eye(2)]), [0.0, 0.0], 0.9)


# ------------------------------------------------------------------ irl-maxent
@settings(max_examples=40)
@given(mdp=trs.mdps(sparse=False, reward_shape="state"), data=st.data())
def test_irl_maxent_round_trip_gives_native_values(mdp, data):
    """p[s_from, s_to, a] -> P[s, a, s2]: catches the (0, 2, 1) transpose done as (2, 0, 1)."""
    S, A = mdp.shape
    p = np.transpose(mdp.todense(), (0, 2, 1))
    converted = from_irl_maxent(p, mdp.R[:, 0], mdp.gamma, mu=mdp.mu)
    np.testing.assert_allclose(converted.todense(), mdp.todense(), atol=1e-15)
    pi = data.draw(trs.policies(S, A))
    np.testing.assert_allclose(policy_evaluation(converted, pi), policy_evaluation(mdp, pi), atol=tol(mdp), rtol=0)


def test_irl_maxent_validation():
    with pytest.raises(ValueError, match=r"p_transition must have shape \(S, S, A\) \(irl-maxent layout p\[s_from, s_to, a\]\), got \(2, 3, 2\)"):
        from_irl_maxent(np.ones((2, 3, 2)), [0.0, 0.0], 0.9)
    with pytest.raises(ValueError, match=r"R must have shape \(S,\) = \(2,\) or \(S, A\) = \(2, 1\), got \(3,\)"):
        from_irl_maxent(np.ones((2, 2, 1)) / 2, [0.0, 0.0, 0.0], 0.9)
    with pytest.raises(TypeError, match=r"p_transition must be a numeric array"):
        from_irl_maxent([["a"]], [0.0], 0.9)


# ------------------------------------------------------------------- gymnasium
def _env_id(base, versions):
    for v in versions:
        if f"{base}-{v}" in gym.envs.registry:
            return f"{base}-{v}"
    raise LookupError(f"none of {base}-{versions} is registered")  # pragma: no cover


CLIFF = _env_id("CliffWalking", ["v1", "v0"])
TAXI = _env_id("Taxi", ["v3", "v4"])
GYM_CASES = [
    ("FrozenLake-v1", dict(map_name="4x4", is_slippery=True)),
    ("FrozenLake-v1", dict(map_name="4x4", is_slippery=False)),
    ("FrozenLake-v1", dict(map_name="8x8", is_slippery=True)),
    ("FrozenLake-v1", dict(map_name="8x8", is_slippery=False)),
    (CLIFF, dict()),
    (CLIFF, dict(is_slippery=True)),
    (TAXI, dict()),
]


@pytest.mark.parametrize("env_id, kwargs", GYM_CASES)
def test_gymnasium_structure(env_id, kwargs):
    """S + 1 states with the absorbing zero-reward state last, every terminated transition's mass
    moved to it, rewards probability-weighted, mu from initial_state_distrib."""
    env = gym.make(env_id, **kwargs)
    model = env.unwrapped.P
    S, A = len(model), env.action_space.n
    mdp = from_gymnasium(env, 0.9)
    assert mdp.shape == (S + 1, A) and mdp.is_sparse
    P = mdp.todense()
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-12)
    np.testing.assert_array_equal(P[S, :, S], 1.0)
    np.testing.assert_array_equal(mdp.R[S], 0.0)
    np.testing.assert_allclose(mdp.mu, np.append(env.unwrapped.initial_state_distrib, 0.0))
    for s in range(S):
        for a in range(A):
            expected = np.zeros(S + 1)
            r = 0.0
            for prob, nxt, reward, terminated in model[s][a]:
                expected[S if terminated else nxt] += prob
                r += prob * reward
            np.testing.assert_allclose(P[s, a], expected, atol=1e-15)
            assert mdp.R[s, a] == pytest.approx(r, abs=1e-12)
    dense = from_gymnasium(env, 0.9, sparse=False)
    assert not dense.is_sparse
    np.testing.assert_array_equal(dense.todense(), P)


def test_gymnasium_duplicate_next_states_are_added():
    """FrozenLake lists the top-left corner twice for 'left' from state 0: 1/3 + 1/3 = 2/3."""
    mdp = from_gymnasium(gym.make("FrozenLake-v1", is_slippery=True), 0.9)
    P = mdp.todense()
    assert P[0, 0, 0] == pytest.approx(2 / 3, abs=1e-15)
    assert P[0, 0, 4] == pytest.approx(1 / 3, abs=1e-15)


@pytest.mark.parametrize("map_name", ["4x4", "8x8"])
@pytest.mark.parametrize("slippery", [True, False])
def test_builtin_frozen_lake_equals_gymnasium(map_name, slippery):
    """Our FrozenLake (holes/goal absorbing) and the converted Gymnasium one (an extra absorbing
    state) have the same transitions once the terminal cells are merged, the same rewards and the
    same Q on every cell, for the uniform and the optimal policy."""
    env = gym.make("FrozenLake-v1", map_name=map_name, is_slippery=slippery)
    conv = from_gymnasium(env, 0.95)
    world = frozen_lake(map_name, is_slippery=slippery, gamma=0.95)
    S = world.n_states
    terminal = np.array([world.cell_type(s) in "GH" for s in range(S)])
    mine, theirs = world.mdp.todense(), conv.todense()
    live = ~terminal
    np.testing.assert_allclose(mine[live][:, :, live], theirs[:S][live][:, :, :S][:, :, live], atol=1e-15)
    np.testing.assert_allclose(mine[live][:, :, terminal].sum(axis=2), theirs[:S][live][:, :, S], atol=1e-15)
    np.testing.assert_allclose(world.mdp.R[live], conv.R[:S][live], atol=1e-15)
    np.testing.assert_array_equal(world.mdp.mu, conv.mu[:S])
    for pi_mine in (uniform(S, 4), policy_iteration(world.mdp).policy):
        pi_conv = np.vstack([pi_mine, np.full((1, 4), 0.25)])
        np.testing.assert_allclose(q_values(world.mdp, pi_mine), q_values(conv, pi_conv)[:S],
                                   atol=tol(conv), rtol=0)


@pytest.mark.parametrize("slippery", [False, True])
def test_builtin_cliff_walking_equals_gymnasium(slippery):
    """Same cliff, teleport and -1/-100 rewards; Gymnasium orders actions up, right, down, left."""
    env = gym.make(CLIFF, is_slippery=True) if slippery else gym.make(CLIFF)
    conv = from_gymnasium(env, 0.9)
    world = cliff_walking(slip=2 / 3 if slippery else 0.0, gamma=0.9)
    to_gym = [3, 2, 1, 0]  # our left, down, right, up in Gymnasium's order
    goal = world.state(3, 11)
    S = world.n_states
    mine = world.mdp.todense()[:, to_gym, :]
    theirs = conv.todense()
    # the cliff cells are never occupied (entering one lands at the start); Gymnasium treats a
    # bump *from* a cliff cell as entering the cliff, we as staying: compare the reachable cells
    live = np.array([world.cell_type(s) not in "GC" for s in range(S)])
    np.testing.assert_allclose(mine[live][:, :, live], theirs[:S][live][:, :, :S][:, :, live], atol=1e-15)
    np.testing.assert_allclose(mine[live][:, :, goal], theirs[:S][live][:, :, S], atol=1e-15)
    np.testing.assert_allclose(world.mdp.R[:, to_gym][live], conv.R[:S][live], atol=1e-12)
    V_mine = policy_iteration(world.mdp).V
    V_conv = policy_iteration(conv).V
    np.testing.assert_allclose(V_mine[live], V_conv[:S][live], atol=tol(conv), rtol=0)


def _replay(env, policy, s0, gamma, max_steps):
    """Discounted return of one episode in the real environment, starting from s0."""
    env.reset(seed=0)
    env.unwrapped.s = s0
    total, discount, s = 0.0, 1.0, s0
    for _ in range(max_steps):
        s, reward, terminated, _, _ = env.unwrapped.step(int(policy[s]))
        total += discount * reward
        discount *= gamma
        if terminated:
            break
    return total


@pytest.mark.parametrize("env_id, kwargs", [
    (TAXI, {}), (CLIFF, {}), ("FrozenLake-v1", dict(is_slippery=False, map_name="8x8")),
])
def test_deterministic_envs_values_equal_replayed_returns(env_id, kwargs):
    """In a deterministic environment V(s0) of the optimal deterministic policy is the discounted
    return of one replay in the real environment (500 steps: truncation < 1e-20)."""
    env = gym.make(env_id, **kwargs)
    gamma = 0.9
    mdp = from_gymnasium(env, gamma)
    result = policy_iteration(mdp)
    actions = np.argmax(result.policy, axis=1)
    starts = np.flatnonzero(mdp.mu > 0)[:25]
    for s0 in starts:
        assert _replay(env, actions, s0, gamma, 500) == pytest.approx(result.V[s0], abs=tol(mdp))


def test_slippery_frozen_lake_value_matches_monte_carlo_in_real_env():
    """The converted V of the optimal policy lies within 5 standard errors (plus the truncation
    bound gamma^H / (1 - gamma)) of 3000 episodes in the real, seeded environment."""
    env = gym.make("FrozenLake-v1", is_slippery=True)
    gamma, H, n = 0.9, 150, 3000
    mdp = from_gymnasium(env, gamma)
    result = policy_iteration(mdp)
    actions = np.argmax(result.policy, axis=1)
    env.reset(seed=123)
    returns = np.empty(n)
    for i in range(n):
        s, _ = env.reset()
        total, discount = 0.0, 1.0
        for _ in range(H):
            s, reward, terminated, _, _ = env.unwrapped.step(int(actions[s]))
            total += discount * reward
            discount *= gamma
            if terminated:
                break
        returns[i] = total
    bound = 5 * returns.std(ddof=1) / np.sqrt(n) + gamma**H / (1 - gamma)
    assert abs(returns.mean() - result.V[0]) < bound


def test_duck_typed_env_without_initial_distribution():
    """Without initial_state_distrib, mu is uniform over the original states, 0 on the absorbing one;
    an object without `unwrapped` is read directly."""
    env = SimpleNamespace(P=[[[(1.0, 1, 1.0, False)]], [[(1.0, 0, 0.0, True)]]])
    mdp = from_gymnasium(env, 0.5)
    np.testing.assert_array_equal(mdp.mu, [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(mdp.todense()[:, 0, :], [[0, 1, 0], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_allclose(policy_evaluation(mdp, np.ones((3, 1))), [1.0, 0.0, 0.0])


def test_importing_tabular_rl_does_not_import_gymnasium():
    code = ("import sys, tabular_rl, tabular_rl.converters, tabular_rl.gridworld, tabular_rl.generators; "
            "assert 'gymnasium' not in sys.modules, 'gymnasium imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "model, exc, match",
    [
        (None, TypeError, r"env must be a Gymnasium toy-text environment .* without attribute P"),
        (5, TypeError, r"env.unwrapped.P must be a mapping or sequence over states, got int"),
        ({}, ValueError, r"env.unwrapped.P must describe at least one state"),
        ({1: {0: []}}, ValueError, r"env.unwrapped.P must have the states 0..0 as keys, state 0 is missing"),
        ({0: {}}, ValueError, r"env.unwrapped.P\[0\] must have at least one action"),
        ({0: {0: [(1.0, 0, 0.0, False)]}, 1: {0: [(1.0, 0, 0.0, False)], 1: []}}, ValueError,
         r"env.unwrapped.P\[1\] has 2 actions; every state must have the same number as P\[0\], 1"),
        ({0: {0: [(1.0, 0, 0.0)]}}, TypeError,
         r"env.unwrapped.P\[0\]\[0\] must list \(prob, next_state, reward, terminated\) tuples"),
        ({0: {0: [(1.5, 0, 0.0, False)]}}, ValueError,
         r"env.unwrapped.P\[0\]\[0\] probability == 1.5, must be in \[0, 1\]"),
        ({0: {0: [(1.0, 1, 0.0, False)]}}, ValueError, r"env.unwrapped.P\[0\]\[0\] next_state must be in \[0, 1\), got 1"),
        ({0: {0: [(1.0, 0.0, 0.0, False)]}}, TypeError, r"env.unwrapped.P\[0\]\[0\] next_state must be an integer"),
        ({0: {0: [(1.0, 0, np.nan, False)]}}, ValueError, r"env.unwrapped.P\[0\]\[0\] reward must be finite"),
        ({0: {0: [(0.5, 0, 0.0, False)]}}, ValueError, r"P\[0, 0, :\] \(sparse row 0\) sums to 0.5"),
    ],
)
def test_gymnasium_validation(model, exc, match):
    env = SimpleNamespace() if model is None else SimpleNamespace(P=model)
    with pytest.raises(exc, match=match):
        from_gymnasium(env, 0.9)


def test_gymnasium_initial_distribution_validation():
    env = SimpleNamespace(P={0: {0: [(1.0, 0, 0.0, False)]}}, initial_state_distrib=np.ones(2) / 2)
    with pytest.raises(ValueError, match=r"env.unwrapped.initial_state_distrib must have shape \(1,\) \(one entry per state\), got \(2,\)"):
        from_gymnasium(env, 0.9)


def test_pymdptoolbox_one_sparse_matrix_with_action_major_rows():
    """One sparse (A*S, S) matrix with rows a*S + s (the A blocks stacked, as
    scipy.sparse.vstack gives them) is the same MDP as the list of blocks and as the
    dense (A, S, S) array: catches a converter that reads the stacked rows state-major
    (row s*A + a), which also sums to 1 row by row and so passes every other check."""
    rng = np.random.default_rng(3)
    S, A = 3, 2
    P = rng.random((A, S, S))
    P /= P.sum(axis=2, keepdims=True)
    R = rng.standard_normal((S, A))
    stacked = sp.vstack([sp.csr_matrix(P[a]) for a in range(A)], format="csr")
    one = from_pymdptoolbox(stacked, R, 0.9)
    listed = from_pymdptoolbox([sp.csr_matrix(P[a]) for a in range(A)], R, 0.9)
    dense = from_pymdptoolbox(P, R, 0.9)
    assert one.is_sparse
    # Equal up to the exact renormalisation, whose row sums are added in a different
    # order in the two layouts: a relative error of at most S ulp.
    ulp = S * np.finfo(float).eps
    np.testing.assert_allclose(one.todense(), dense.P, rtol=ulp, atol=0)
    np.testing.assert_array_equal(one.todense(), listed.todense())
    # The same matrix read state-major is a different MDP.
    naive = TabularMDP(stacked, R, 0.9)
    assert not np.array_equal(naive.todense(), dense.P)
