"""Episodic tasks at gamma = 1: terminal states in the model, exact evaluation of proper policies,
visitation before termination, control, and the functions downstream.

Golden values: Sutton & Barto (2018) Example 4.1 (the 4x4 gridworld) and Example 4.3 (the gambler's
problem), cliff walking (Example 6.6) at gamma = 1. AIMA's 4x3 world and FrozenLake are in
test_textbook.py.

Tolerances follow from the computation: an LU solve of (I - P_TT) x = b has a relative error of at
most about kappa_inf(I - P_TT) * u (u = 2**-53, times a small growth factor), and
kappa_inf(I - P_TT) <= 2 L_max, with L_max = ||(I - P_TT)^-1||_inf the longest expected episode.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings, target
from hypothesis import strategies as st

import tabular_rl as trl
from tabular_rl import TabularMDP
from tabular_rl import strategies as trs
from tabular_rl.bounds import performance_difference, trpo_bounds
from tabular_rl.converters import from_gymnasium
from tabular_rl.features import feature_expectations
from tabular_rl.gridworld import cliff_walking, frozen_lake, gridworld, russell_norvig_4x3

from helpers import twin

U = np.finfo(float).eps / 2  # unit round-off
GROWTH = 16  # allowance for LU's growth and the few extra operations around a solve (S <= 6 here)


# ------------------------------------------------------------------------------ helpers


def expected_lengths(mdp, pi):
    """L(s) = expected number of decisions before termination, by numpy's dense solve (test-only oracle)."""
    T = np.flatnonzero(~mdp.terminal)
    P = mdp.transition_matrix(pi)
    P = P.toarray() if sp.issparse(P) else P
    L = np.zeros(mdp.n_states)
    L[T] = np.linalg.solve(np.eye(T.size) - P[np.ix_(T, T)], np.ones(T.size))
    return L


def solve_tol(mdp, pi, scale):
    """Round-off allowance of one gamma = 1 solve whose result has size ``scale``: GROWTH * kappa * u * scale."""
    kappa = 2.0 * max(1.0, float(np.max(expected_lengths(mdp, pi))))
    return GROWTH * kappa * U * (1.0 + scale)


def episodic_case(**kw):
    """(mdp, proper pi) pairs."""
    return trs.episodic_mdps(**kw).flatmap(lambda m: trs.proper_policies(m).map(lambda p: (m, p)))


def sb_gridworld(sparse=False):
    """Sutton & Barto Example 4.1: 4x4, terminals at the corners 0 and 15, reward -1 per step,
    moves off the grid leave the state unchanged. Actions: up, down, right, left."""
    S, A = 16, 4
    P = np.zeros((S, A, S))
    moves = [(-1, 0), (1, 0), (0, 1), (0, -1)]
    for s in range(S):
        r, c = divmod(s, 4)
        for a, (dr, dc) in enumerate(moves):
            r2, c2 = r + dr, c + dc
            s2 = r2 * 4 + c2 if 0 <= r2 < 4 and 0 <= c2 < 4 else s
            P[s, a, s2] = 1.0
    P_arg = sp.csr_matrix(P.reshape(S * A, S)) if sparse else P
    return TabularMDP(P_arg, R=np.full(S, -1.0), gamma=1.0, terminal=[0, 15])


def gambler(p_h=0.4, goal=100, sparse=False):
    """Sutton & Barto Example 4.3: capital s in 0..goal (0 and goal terminal), stake a in 1..min(s, goal - s),
    reward +1 on reaching the goal. Action k (0-based) stakes k + 1, capped at min(s, goal - s): the capped
    duplicates change no value."""
    S, A = goal + 1, goal // 2
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s in range(1, goal):
        for k in range(A):
            stake = min(k + 1, s, goal - s)
            P[s, k, s + stake] += p_h
            P[s, k, s - stake] += 1 - p_h
            R[s, k] = p_h if s + stake == goal else 0.0
    P[0, :, 0] = P[goal, :, goal] = 1.0
    P_arg = sp.csr_matrix(P.reshape(S * A, S)) if sparse else P
    return TabularMDP(P_arg, R, gamma=1.0, terminal=[0, goal])


# ------------------------------------------------------------------------------ the terminal mask


@pytest.mark.parametrize("sparse", [False, True])
def test_terminal_rows_become_zero_reward_self_loops(sparse):
    """A terminal state's rows of P and R are replaced by a zero-reward self-loop, the caller's arrays are
    untouched and a sparse P stays sparse (catches a terminal that still leaks probability or pays reward,
    an in-place edit of the user's array, or a densified matrix)."""
    P = np.array([[[0.5, 0.5, 0.0]], [[0.2, 0.3, 0.5]], [[0.0, 0.0, 1.0]]])
    R = np.array([[-1.0], [7.0], [0.0]])
    P_in = sp.csr_matrix(P.reshape(3, 3)) if sparse else P.copy()
    mdp = TabularMDP(P_in, R, gamma=1.0, terminal=[1])
    dense = mdp.todense()
    np.testing.assert_array_equal(dense[1, 0], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(dense[0], P[0])
    np.testing.assert_array_equal(mdp.R[:, 0], [-1.0, 0.0, 0.0])
    np.testing.assert_array_equal(mdp.terminal, [False, True, True])  # state 2 is absorbing with zero reward
    assert sp.issparse(mdp.P) == sparse
    if sparse:
        assert mdp.nnz == 2 + 1 + 1
        np.testing.assert_array_equal(P_in.toarray(), P.reshape(3, 3))
    else:
        np.testing.assert_array_equal(P_in, P)
    np.testing.assert_array_equal(R, [[-1.0], [7.0], [0.0]])
    with pytest.raises(ValueError):
        mdp.terminal[0] = True


def test_absorbing_states_count_as_terminal_only_with_zero_reward():
    """Absorbing + zero reward under every action -> terminal; absorbing with a reward, or zero reward with a
    way out, is not (catches a detection that ignores R or one action). with_(R=...) keeps the marked
    states and zeroes R on them, and re-detects the others from the new R."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 0] = 1.0  # state 0: can leave
    P[1, :, 1] = 1.0  # absorbing
    P[2, :, 2] = 1.0  # absorbing
    mdp = TabularMDP(P, R=[[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]], gamma=1.0)
    np.testing.assert_array_equal(mdp.terminal, [False, True, False])
    mdp = TabularMDP(P, R=[[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]], gamma=1.0, terminal=np.array([False, False, True]))
    np.testing.assert_array_equal(mdp.terminal, [False, True, True])
    np.testing.assert_array_equal(mdp.R[2], [0.0, 0.0])
    new = mdp.with_(R=[[5.0, 5.0], [3.0, 3.0], [4.0, 4.0]])
    np.testing.assert_array_equal(new.terminal, [False, False, True])
    np.testing.assert_array_equal(new.R, [[5.0, 5.0], [3.0, 3.0], [0.0, 0.0]])


def test_terminal_given_as_indices_or_mask_is_the_same_mdp():
    """Indices (with duplicates), a set and a mask give the same MDP (catches a mask read as indices)."""
    P = np.full((3, 1, 3), 1 / 3)
    a = TabularMDP(P, [-1.0, -1.0, -1.0], 1.0, terminal=[2, 2])
    b = TabularMDP(P, [-1.0, -1.0, -1.0], 1.0, terminal=np.array([False, False, True]))
    c = TabularMDP(P, [-1.0, -1.0, -1.0], 1.0, terminal={2})
    for m in (b, c):
        np.testing.assert_array_equal(m.terminal, a.terminal)
        np.testing.assert_array_equal(m.todense(), a.todense())
    np.testing.assert_array_equal(TabularMDP(P, [-1.0] * 3, 1.0, terminal=[]).terminal, [False] * 3)


@pytest.mark.parametrize(
    "terminal, exc, match",
    [
        (np.array([True, False]), ValueError, r"terminal must have shape \(3,\) \(a boolean mask over states\), got \(2,\)"),
        ([0, 3], ValueError, r"terminal holds state 3, must lie in \[0, 2\] for an MDP with 3 states"),
        ([-1], ValueError, r"terminal holds state -1, must lie in \[0, 2\]"),
        ([0.5], TypeError, r"terminal must be a boolean mask of shape \(3,\) or a 1-d sequence of integer state indices, got list with dtype float64"),
        ([[0, 1]], ValueError, r"terminal must be a 1-d sequence of state indices in \[0, 2\], got shape \(1, 2\)"),
        (sp.csr_matrix(np.ones((1, 3))), TypeError, r"terminal must be a boolean mask of shape \(3,\) or a sequence of state indices, got a scipy.sparse"),
    ],
)
def test_terminal_errors_name_the_argument(terminal, exc, match):
    """Each bad terminal argument raises with its name, the expected form and what was found."""
    with pytest.raises(exc, match=match):
        TabularMDP(np.full((3, 1, 3), 1 / 3), [0.0, 0.0, 0.0], 1.0, terminal=terminal)


def test_builders_and_converters_mark_their_terminal_states():
    """Gridworld terminal cells, FrozenLake's G and H, cliff walking's goal, AIMA's +1/-1 and from_gymnasium's
    added state are in mdp.terminal; GridWorld.terminal is that mask (catches a builder that forgets it, so
    gamma = 1 evaluation would raise)."""
    import gymnasium as gym

    for world, types in ((frozen_lake("4x4"), "GH"), (cliff_walking(), "G"), (russell_norvig_4x3(), "+-"),
                         (gridworld(["S.G", "..H"], terminal="GH"), "GH")):
        expect = np.array([world.cell_type(s) in types for s in range(world.n_states)])
        np.testing.assert_array_equal(world.terminal, expect)
        np.testing.assert_array_equal(world.mdp.terminal, expect)
    mdp = from_gymnasium(gym.make("CliffWalking-v1"), 1.0)
    np.testing.assert_array_equal(np.flatnonzero(mdp.terminal), [mdp.n_states - 1])


# ------------------------------------------------------------------------------ golden values


SB_41 = np.array([
    [0, -14, -20, -22],
    [-14, -18, -20, -20],
    [-20, -20, -18, -14],
    [-22, -20, -14, 0],
], dtype=float)


@pytest.mark.parametrize("sparse", [False, True])
def test_sutton_barto_example_4_1_random_policy_values_exactly(sparse):
    """Figure 4.1's v_pi of the equiprobable random policy, -14, -18, -20, -22, to 1e-10 (the book's values are
    integers; the solve's error bound is kappa * u * 22 ~ 1e-13). Catches a solve on the full (singular) system,
    a terminal value that is not 0, or visits counted on terminal states."""
    mdp = sb_gridworld(sparse)
    pi = trl.uniform(16, 4)
    V = trl.policy_evaluation(mdp, pi)
    np.testing.assert_allclose(V.reshape(4, 4), SB_41, atol=1e-10, rtol=0)
    ev = trl.evaluate(mdp, pi)
    np.testing.assert_allclose(ev.V, V, atol=1e-12, rtol=0)
    assert ev.J == pytest.approx(SB_41.mean(), abs=1e-10)  # mu uniform over all 16 cells


@pytest.mark.parametrize("sparse", [False, True])
def test_sutton_barto_example_4_1_optimal_values_are_minus_distance_to_a_corner(sparse):
    """v* = -(steps to the nearest terminal corner), by policy iteration and value iteration (certified)."""
    mdp = sb_gridworld(sparse)
    r, c = np.divmod(np.arange(16), 4)
    vstar = -np.minimum(r + c, (3 - r) + (3 - c)).astype(float)
    pi_res = trl.policy_iteration(mdp)
    np.testing.assert_allclose(pi_res.V, vstar, atol=1e-12, rtol=0)
    vi = trl.value_iteration(mdp)
    assert vi.converged and vi.error_bound <= 1e-10
    np.testing.assert_allclose(vi.V, vstar, atol=vi.error_bound + 1e-12, rtol=0)
    np.testing.assert_allclose(trl.policy_evaluation(mdp, vi.policy), vstar, atol=1e-12, rtol=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_gamblers_problem_optimal_values_and_bold_play(sparse):
    """Example 4.3 with p_h = 0.4: v*(25) = 0.16, v*(50) = 0.4, v*(75) = 0.64 (0.4^2, 0.4, 0.4 + 0.6 * 0.4) by
    policy and value iteration, and bold play (stake min(s, 100 - s)) attains v* everywhere (Dubins & Savage).
    Values lie in [0, 1], so the round-off allowance is kappa * u with kappa <= 2 L_max (L_max < 100 steps)."""
    mdp = gambler(sparse=sparse)
    res = trl.policy_iteration(mdp)
    for s, v in ((25, 0.16), (50, 0.4), (75, 0.64)):
        assert res.V[s] == pytest.approx(v, abs=1e-12)
    bold = np.zeros(mdp.shape)
    for s in range(101):
        bold[s, max(min(s, 100 - s), 1) - 1] = 1.0
    V_bold = trl.policy_evaluation(mdp, bold)
    tol = solve_tol(mdp, bold, 1.0)
    np.testing.assert_allclose(V_bold, res.V, atol=tol, rtol=0)
    vi = trl.value_iteration(mdp)
    assert vi.converged
    np.testing.assert_allclose(vi.V, res.V, atol=vi.error_bound + tol, rtol=0)
    assert vi.V[50] == pytest.approx(0.4, abs=vi.error_bound + tol)


@pytest.mark.parametrize("sparse", [False, True])
def test_cliff_walking_at_gamma_one(sparse):
    """Optimal return -13 from the start (13 steps along the cliff); the random policy's value at the start,
    about -65375.13, by the library's LU on the transient block and by numpy.linalg.solve of the fundamental
    system written here, within kappa_inf * u * |V| (kappa_inf ~ 1.3e4)."""
    world = cliff_walking(gamma=1.0, sparse=sparse)
    mdp, start = world.mdp, world.state(3, 0)
    assert trl.policy_iteration(mdp).V[start] == pytest.approx(-13.0, abs=1e-12)
    vi = trl.value_iteration(mdp)
    assert vi.converged and abs(vi.V[start] + 13.0) <= vi.error_bound + 1e-12
    pi = trl.uniform(*mdp.shape)
    V = trl.policy_evaluation(mdp, pi)
    dense = mdp.todense()
    T = np.flatnonzero(~mdp.terminal)
    P_TT = np.einsum("sa,sat->st", pi, dense)[np.ix_(T, T)]
    M = np.eye(T.size) - P_TT
    V_T = np.linalg.solve(M, mdp.reward_vector(pi)[T])
    kappa = np.linalg.norm(M, np.inf) * np.max(np.linalg.solve(M, np.ones(T.size)))  # ||M|| ||M^-1||, M^-1 >= 0
    np.testing.assert_allclose(V[T], V_T, atol=GROWTH * kappa * U * np.max(np.abs(V_T)), rtol=0)
    assert V[start] == pytest.approx(-65375.13, abs=0.005)


# ------------------------------------------------------------------------------ properties


@settings(max_examples=60, deadline=None)
@given(episodic_case(), st.floats(0.5, 1 - 1e-6))
def test_gamma_one_values_are_the_limit_of_discounted_values(case, gamma):
    """|V_gamma - V_1| <= R (1 - gamma) E[sum_{t<T} t] = R (1 - gamma) (N L - L), since 1 - gamma^t <= t (1 - gamma);
    N L - L is computed here with numpy (N the fundamental matrix, L = N 1). Catches a gamma = 1 value that is
    not the undiscounted episode return (e.g. terminal reward counted, or a solve on the wrong block)."""
    mdp, pi = case
    V1 = trl.policy_evaluation(mdp, pi)
    Vg = trl.policy_evaluation(mdp.with_(gamma=gamma), pi)
    T = np.flatnonzero(~mdp.terminal)
    P = mdp.transition_matrix(pi)
    P = P.toarray() if sp.issparse(P) else P
    M = np.eye(T.size) - P[np.ix_(T, T)]
    L = np.linalg.solve(M, np.ones(T.size))
    second = np.zeros(mdp.n_states)
    second[T] = np.linalg.solve(M, L) - L
    R = float(np.max(np.abs(mdp.R)))
    roundoff = solve_tol(mdp, pi, R * np.max(L)) * (1 + 2 / (1 - gamma))
    bound = R * (1 - gamma) * second + roundoff
    target(float(np.max(np.abs(Vg - V1) / bound)), label="|V_gamma - V_1| / bound, must be <= 1")
    assert np.all(np.abs(Vg - V1) <= bound)


@settings(max_examples=60, deadline=None)
@given(episodic_case(), st.integers(1, 60))
def test_finite_horizon_values_converge_at_the_rate_of_the_spectral_radius(case, H):
    """V - V_H = P_TT^H V, so |V - V_H| <= ||P_TT^H||_inf ||V||. With P_d = P_TT + d 11^T (d = 1e-3, positive) and
    its Perron pair (rho_d, v > 0): P_TT^H 1 <= P_d^H 1 <= rho_d^H (max v / min v) 1. Catches a gamma = 1 value
    that is not the limit of the H-step values (an off-by-one in the horizon would not converge to it)."""
    mdp, pi = case
    V = trl.policy_evaluation(mdp, pi)
    V_H = trl.finite_horizon_values(mdp, pi, H).V[0]
    T = np.flatnonzero(~mdp.terminal)
    P = mdp.transition_matrix(pi)
    P = P.toarray() if sp.issparse(P) else P
    P_d = P[np.ix_(T, T)] + 1e-3
    w, vecs = np.linalg.eig(P_d)
    k = int(np.argmax(w.real))
    rho, v = float(w[k].real), np.abs(vecs[:, k].real)
    C = float(np.max(v) / np.min(v))
    R = float(np.max(np.abs(mdp.R)))
    roundoff = solve_tol(mdp, pi, R * np.max(expected_lengths(mdp, pi))) + 4 * H * U * (1 + R) * (1 + np.max(np.abs(V)))
    bound = C * rho**H * np.max(np.abs(V)) + roundoff
    target(float(np.max(np.abs(V - V_H)) / bound), label="|V - V_H| / bound, must be <= 1")
    assert np.max(np.abs(V - V_H)) <= bound


@settings(max_examples=60, deadline=None)
@given(episodic_case())
def test_dense_and_sparse_agree_at_gamma_one(case):
    """The same numbers in both layouts, to the solve's own error bound (kappa * u relative, 1e-12-ish on
    short episodes). Catches a sparse slice of the wrong block or a dense path that differs."""
    mdp, pi = case
    other = twin(mdp)
    np.testing.assert_array_equal(other.terminal, mdp.terminal)
    a, b = trl.evaluate(mdp, pi), trl.evaluate(other, pi)
    tol = solve_tol(mdp, pi, float(np.max(np.abs(a.V))))
    np.testing.assert_allclose(a.V, b.V, atol=2 * tol, rtol=0)
    # the single-purpose functions give evaluate's numbers (one factorisation path for all)
    np.testing.assert_array_equal(trl.policy_evaluation(mdp, pi), a.V)
    np.testing.assert_array_equal(trl.q_values(mdp, pi), a.Q)
    np.testing.assert_array_equal(trl.advantages(mdp, pi), a.adv)
    assert trl.expected_return(mdp, pi) == a.J
    assert np.all(a.V[mdp.terminal] == 0) and np.all(a.Q[mdp.terminal] == 0)
    eta_a = trl.discounted_visitation_unnormalized(mdp, pi)
    eta_b = trl.discounted_visitation_unnormalized(other, pi)
    np.testing.assert_allclose(eta_a, eta_b, atol=2 * solve_tol(mdp, pi, float(np.max(eta_a))), rtol=0)


@settings(max_examples=60, deadline=None)
@given(episodic_case())
def test_visitation_before_termination_identities(case):
    """eta = expected visits before termination: eta = mu_T + eta P_TT (flow), 0 on terminals, sum = expected
    episode length mu.L, J = sum eta r_pi, d = eta / sum eta sums to 1 and the occupancy is d pi. Catches a
    visitation that counts terminal states or is normalised by 1 - gamma = 0."""
    mdp, pi = case
    eta = trl.discounted_visitation_unnormalized(mdp, pi)
    L = expected_lengths(mdp, pi)
    tol = solve_tol(mdp, pi, float(np.max(L)))
    assert np.all(eta[mdp.terminal] == 0)
    P = mdp.transition_matrix(pi)
    flow = mdp.mu + (P.T @ eta)
    np.testing.assert_allclose(eta[~mdp.terminal], flow[~mdp.terminal], atol=2 * tol, rtol=0)
    assert eta.sum() == pytest.approx(mdp.mu @ L, abs=2 * tol * mdp.n_states)
    R = float(np.max(np.abs(mdp.R)))
    J = trl.expected_return(mdp, pi)
    assert eta @ mdp.reward_vector(pi) == pytest.approx(J, abs=2 * tol * (1 + R) * mdp.n_states)
    d = trl.discounted_visitation(mdp, pi)
    assert d.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(d * eta.sum(), eta, atol=tol, rtol=0)
    np.testing.assert_allclose(trl.occupancy_measure(mdp, pi), d[:, None] * pi, atol=1e-15, rtol=0)


@settings(max_examples=40, deadline=None)
@given(trs.episodic_mdps(all_proper=True, max_states=5, max_actions=3))
def test_policy_and_value_iteration_agree_and_dominate_at_gamma_one(mdp):
    """With every policy proper (Bertsekas & Tsitsiklis' assumptions hold), PI's V* solves Bellman's optimality
    equation, VI's certified iterate is within its error_bound of it, and V* >= V_pi of random proper policies.
    Catches a PI that stops early or a VI bound that is not a bound."""
    pi_res = trl.policy_iteration(mdp)
    L = expected_lengths(mdp, pi_res.policy)
    R = float(np.max(np.abs(mdp.R)))
    tol = solve_tol(mdp, pi_res.policy, R * np.max(L))
    Q = mdp.R + mdp.expected_next(pi_res.V)
    np.testing.assert_allclose(Q.max(axis=1), pi_res.V, atol=2 * tol + 1e-12 * (1 + np.max(np.abs(Q))), rtol=0)
    vi = trl.value_iteration(mdp)
    assert vi.converged
    assert np.max(np.abs(vi.V - pi_res.V)) <= vi.error_bound + 2 * tol
    uniform = trl.uniform(*mdp.shape)
    assert np.all(trl.policy_evaluation(mdp, uniform) <= pi_res.V + 2 * solve_tol(mdp, uniform, R * np.max(expected_lengths(mdp, uniform))) + tol)


@settings(max_examples=40, deadline=None)
@given(trs.episodic_mdps(max_states=4, max_actions=3), st.data())
def test_episodic_policy_gradient_is_the_derivative_of_the_return(mdp, data):
    """dJ/dtheta = eta pi A (policy gradient theorem with visit counts, Sutton & Barto 13.2), checked against the
    complex-step derivative of softmax_objective (error ~ h^2 + u). Catches a leftover 1/(1 - gamma)."""
    S, A = mdp.shape
    theta = data.draw(trs.logits((S, A), bound=3.0))
    g = trl.policy_gradient(mdp, theta)
    h = 1e-20
    fd = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            t = theta.astype(complex)
            t[s, a] += 1j * h
            fd[s, a] = np.imag(trl.softmax_objective(mdp, t)) / h
    pi = trl.softmax(theta)
    R = float(np.max(np.abs(mdp.R)))
    scale = R * float(np.max(expected_lengths(mdp, pi))) ** 2
    np.testing.assert_allclose(g, fd, atol=solve_tol(mdp, pi, scale), rtol=0)


@settings(max_examples=40, deadline=None)
@given(episodic_case(max_states=5), st.data())
def test_performance_difference_and_feature_expectations_at_gamma_one(case, data):
    """PDL: J(pi') - J(pi) = sum_s eta'(s) sum_a pi'(a|s) A_pi(s, a), no 1/(1 - gamma); feature expectations are the
    expected feature sums over an episode: with phi = r, they give J. Catches d/(1 - gamma) left in either."""
    mdp, pi = case
    pi2 = data.draw(trs.proper_policies(mdp))
    J1, J2 = trl.expected_return(mdp, pi), trl.expected_return(mdp, pi2)
    R = float(np.max(np.abs(mdp.R)))
    tol = solve_tol(mdp, pi, R * np.max(expected_lengths(mdp, pi))) + solve_tol(mdp, pi2, R * np.max(expected_lengths(mdp, pi2)))
    assert performance_difference(mdp, pi2, pi) == pytest.approx(J2 - J1, abs=4 * tol * mdp.n_states)
    phi = mdp.R[:, :, None]
    assert feature_expectations(mdp, pi, phi)[0] == pytest.approx(J1, abs=2 * tol * mdp.n_states)
    assert trl.surrogate_objective(mdp, pi, pi) == pytest.approx(0.0, abs=2 * tol * mdp.n_states)


@settings(max_examples=40, deadline=None)
@given(trs.episodic_mdps(trap=True, min_actions=2, max_states=5, reward_range=(0.0, 0.0)).flatmap(
    lambda m: trs.improper_policies(m).map(lambda p: (m, p))))
def test_improper_policies_raise_even_with_zero_reward(case):
    """A policy that never terminates from some state raises, naming gamma and the states, even when every
    reward is 0 (its 'value' 0 would look finite): catches properness decided from values or a tolerance."""
    mdp, pi = case
    for func in (trl.policy_evaluation, trl.evaluate, trl.q_values, trl.discounted_visitation):
        with pytest.raises(ValueError, match=r"with gamma == 1 needs a proper policy .* never reach a terminal state "
                                             r"under pi \(first: \[\d"):
            func(mdp, pi)


@settings(max_examples=40, deadline=None)
@given(trs.mdps(gamma=1.0), st.data())
def test_gamma_one_without_terminal_states_still_raises(mdp, data):
    """No terminal state: every infinite-horizon function keeps its gamma < 1 error."""
    assume(not mdp.terminal.any())
    pi = data.draw(trs.policies(*mdp.shape))
    with pytest.raises(ValueError, match=r"needs gamma < 1, got gamma == 1; .* mark its terminal states"):
        trl.policy_evaluation(mdp, pi)


# ------------------------------------------------------------------------------ messages


def corridor(**kw):
    """0 -> 1 -> 2 (terminal), reward -1 per step; action 1 of state 1 loops on itself."""
    P = np.zeros((3, 2, 3))
    P[0, :, 1] = 1.0
    P[1, 0, 2] = P[1, 1, 1] = 1.0
    P[2, :, 2] = 1.0
    return TabularMDP(P, R=[-1.0, -1.0, 0.0], gamma=1.0, terminal=[2], **kw)


def test_improper_policy_message_names_states_count_and_zero_reward():
    """The message names the function, gamma, how many states and which, and the zero-reward case."""
    mdp = corridor()
    loop = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"policy_evaluation with gamma == 1 needs a proper policy \(one that reaches "
                                         r"a terminal state with probability 1 from every state\), but 2 states never "
                                         r"reach a terminal state under pi \(first: \[0, 1\]\).*even where those states "
                                         r"earn zero reward"):
        trl.policy_evaluation(mdp, loop)


def test_improper_message_lists_the_first_five_states():
    """Many stuck states: the first five and an ellipsis, with the count."""
    S = 8
    P = np.zeros((S, 1, S))
    for s in range(S - 1):
        P[s, 0, s] = 1.0
    P[S - 1, 0, S - 1] = 1.0
    mdp = TabularMDP(P, R=[-1.0] * (S - 1) + [0.0], gamma=1.0, terminal=[S - 1])
    with pytest.raises(ValueError, match=r"7 states never reach a terminal state under pi \(first: \[0, 1, 2, 3, 4, \.\.\.\]\)"):
        trl.evaluate(mdp, np.ones((S, 1)))


def test_visitation_needs_mass_on_a_transient_state():
    """mu only on terminal states: the expected episode length is 0 and d is undefined."""
    mdp = corridor(mu=[0.0, 0.0, 1.0])
    pi = np.array([[1.0, 0.0]] * 3)
    with pytest.raises(ValueError, match=r"discounted_visitation with gamma == 1 is normalised by the expected episode "
                                         r"length, which is 0: mu puts all its mass on terminal states"):
        trl.discounted_visitation(mdp, pi)
    np.testing.assert_array_equal(trl.discounted_visitation_unnormalized(mdp, pi), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(trl.discounted_visitation(mdp, pi, mu=[1.0, 0.0, 0.0]), [0.5, 0.5, 0.0])


def test_policy_iteration_names_states_without_a_proper_policy():
    """A state that cannot reach the terminal set under any action: PI raises, naming it (catches a start
    policy that is silently improper)."""
    P = np.zeros((3, 1, 3))
    P[0, 0, 2] = P[1, 0, 1] = P[2, 0, 2] = 1.0
    mdp = TabularMDP(P, R=[-1.0, -1.0, 0.0], gamma=1.0, terminal=[2])
    with pytest.raises(ValueError, match=r"policy_iteration with gamma == 1 needs a proper policy, but from 1 state no "
                                         r"policy reaches a terminal state \(first: \[1\]\)"):
        trl.policy_iteration(mdp)


def test_policy_iteration_rejects_an_improper_pi0():
    """A user pi0 that loops forever raises, naming pi0."""
    with pytest.raises(ValueError, match=r"never reach a terminal state under pi0"):
        trl.policy_iteration(corridor(), pi0=[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def test_policy_iteration_detects_an_improvement_to_an_improper_policy():
    """Bertsekas & Tsitsiklis' assumption (b) fails: the cycle 0 <-> 1 pays +1 per step, so switching into it is a
    strict improvement that makes the policy improper; PI must raise and say why, not return garbage."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 2] = P[1, 0, 2] = 1.0  # action 0: end (reward -3)
    P[0, 1, 1] = P[1, 1, 0] = 1.0  # action 1: cross to the other state (reward +1)
    P[2, :, 2] = 1.0
    mdp = TabularMDP(P, R=[[-3.0, 1.0], [-3.0, 1.0], [0.0, 0.0]], gamma=1.0, terminal=[2])
    with pytest.raises(ValueError, match=r"the improvement step 1 produced an improper policy \(2 states never reach a "
                                         r"terminal state, first: \[0, 1\]\).*assumptions of Bertsekas & Tsitsiklis"):
        trl.policy_iteration(mdp)


def test_value_iteration_warns_when_it_cannot_certify():
    """At max_iter without a certificate: a RuntimeWarning naming max_iter and tol, converged False, bound inf."""
    with pytest.warns(RuntimeWarning, match=r"value_iteration \(gamma == 1\) reached max_iter=1 without certifying its "
                                            r"greedy policy .*tol=1e-10"):
        res = trl.value_iteration(gambler(goal=10), max_iter=1)
    assert not res.converged and res.error_bound == np.inf


def test_value_iteration_error_bound_is_a_true_bound():
    """The certified error_bound bounds |V - V*| with V* from policy iteration (the gambler's V converges slowly,
    so a contraction-style bound from ||V_k+1 - V_k|| would be too small)."""
    mdp = gambler(goal=20)
    vi = trl.value_iteration(mdp, tol=1e-6)
    vstar = trl.policy_iteration(mdp).V
    assert vi.converged
    assert np.max(np.abs(vi.V - vstar)) <= vi.error_bound + solve_tol(mdp, vi.policy, 1.0)


def test_functions_not_defined_at_gamma_one_say_so_on_episodic_mdps():
    """Bounds with 1/(1 - gamma) raise on an episodic MDP too, saying that they are not defined for episodic tasks."""
    mdp = corridor()
    pi = np.array([[1.0, 0.0]] * 3)
    with pytest.raises(ValueError, match=r"trpo_bounds is an infinite-horizon quantity and needs gamma < 1, got gamma "
                                         r"== 1; it is not defined for episodic \(gamma = 1\) tasks"):
        trpo_bounds(mdp, pi, pi)
    with pytest.raises(ValueError, match=r"natural_policy_gradient is an infinite-horizon quantity"):
        trl.natural_policy_gradient(mdp, np.zeros(mdp.shape))


def test_strategy_errors():
    """The episodic strategies say what MDP they need (catches a strategy that silently draws an MDP or policy
    that does not have the property its name promises)."""
    def draw_one(strategy):
        @settings(max_examples=1, database=None)
        @given(strategy)
        def run(_):
            pass

        run()

    with pytest.raises(ValueError, match=r"episodic_mdps\(trap=True\) needs max_actions >= 2, got 1"):
        draw_one(trs.episodic_mdps(trap=True, max_actions=1))
    with pytest.raises(ValueError, match=r"improper_policies needs an MDP with a transient self-loop action"):
        trs.improper_policies(TabularMDP(np.array([[[0.0, 1.0]], [[0.0, 1.0]]]), [-1.0, 0.0], 1.0, terminal=[1]))
    P = np.zeros((3, 1, 3))
    P[0, 0, 2] = P[1, 0, 1] = P[2, 0, 2] = 1.0
    with pytest.raises(ValueError, match=r"proper_policies needs an MDP from whose every state some policy reaches"):
        draw_one(trs.proper_policies(TabularMDP(P, [-1.0, -1.0, 0.0], 1.0, terminal=[2]), deterministic=True))


def test_no_warning_on_well_conditioned_episodic_solves():
    """The refinement's residual check at gamma = 1 does not warn on the textbook examples (its tolerance is
    relative to |b| + |x|, not to 1/(1 - gamma) = inf)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trl.policy_evaluation(cliff_walking(gamma=1.0).mdp, trl.uniform(48, 4))
        trl.policy_evaluation(sb_gridworld(True), trl.uniform(16, 4))
