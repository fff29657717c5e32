"""Tests for tabular_rl.control: the Bellman operators, policy iteration, value iteration
and optimal finite-horizon DP (docs/guide/control.md), on dense and sparse MDPs.

Ground-truth V* is policy iteration (exact up to a linear solve), checked here against
the Bellman optimality equation written out on the dense (S, A, S) array.
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import (
    TabularMDP,
    finite_horizon_optimal,
    finite_horizon_values,
    greedy,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from tabular_rl import strategies as trs
from tabular_rl.control import ControlResult, FiniteHorizonControl
from helpers import scale, tol1, tol2, twin


# ----------------------------------------------------------------------------- helpers


def T(mdp, V):
    """Bellman optimality operator on the dense array (test-side oracle)."""
    return np.max(mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.todense(), V), axis=1)


def T_pi(mdp, pi, V):
    return np.einsum("sa,sa->s", pi, mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.todense(), V))


def values(n, bound=1e3):
    return hnp.arrays(np.float64, (n,), elements=st.floats(-bound, bound))


def quietly(func, *args, **kwargs):
    """Call with the iteration-cap RuntimeWarning silenced (tests that stop early on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


# ------------------------------------------------------------ Bellman operators


@given(trs.mdps(), st.data())
def test_bellman_operators_are_gamma_contractions(mdp, data):
    """||TV - TV'|| <= g ||V - V'|| and the same for T^pi, for V, V' up to 1e3 (catches a
    backup with a missing or doubled gamma)."""
    S, A = mdp.shape
    V1, V2 = data.draw(values(S)), data.draw(values(S))
    pi = data.draw(trs.policies(S, A))
    dist = np.max(np.abs(V1 - V2))
    lhs = np.max(np.abs(T(mdp, V1) - T(mdp, V2)))
    lhs_pi = np.max(np.abs(T_pi(mdp, pi, V1) - T_pi(mdp, pi, V2)))
    if dist > 0:
        target(float(lhs / dist))
    slack = 1e-12 * (1 + np.max(np.abs(V1)) + np.max(np.abs(V2)) + np.max(np.abs(mdp.R)))
    assert lhs <= mdp.gamma * dist + slack
    assert lhs_pi <= mdp.gamma * dist + slack


@given(trs.mdps(), st.data())
def test_bellman_operator_is_monotone_and_shifts_by_gamma_c(mdp, data):
    """V <= V' => TV <= TV', and T(V + c) = TV + g c (catches a min in place of max, or a
    P whose rows do not sum to 1)."""
    S = mdp.n_states
    V = data.draw(values(S))
    bump = data.draw(hnp.arrays(np.float64, (S,), elements=st.floats(0, 1e3)))
    c = data.draw(st.floats(-1e3, 1e3))
    slack = 1e-12 * (1 + 2e3 + np.max(np.abs(mdp.R)))
    assert np.all(T(mdp, V) <= T(mdp, V + bump) + slack)
    np.testing.assert_allclose(T(mdp, V + c), T(mdp, V) + mdp.gamma * c, rtol=0, atol=10 * slack)


# ------------------------------------------------------------- policy iteration


@given(trs.mdps())
def test_policy_iteration_solves_the_bellman_optimality_equation(mdp):
    """PI's V is exactly V^pi of its one-hot policy, TV* = V*, Q* = r + g P V*, the policy
    is greedy in Q*, iterations <= A^S, converged and error_bound 0 (catches PI that stops
    one improvement early, or returns the previous policy's values)."""
    res = policy_iteration(mdp)
    assert isinstance(res, ControlResult)
    S, A = mdp.shape
    assert res.converged and res.error_bound == 0.0
    assert 1 <= res.n_iterations <= A**S
    np.testing.assert_array_equal(res.policy.sum(axis=1), 1.0)
    assert set(np.unique(res.policy)) <= {0.0, 1.0}
    np.testing.assert_allclose(res.V, policy_evaluation(mdp, res.policy), rtol=0, atol=tol1(mdp))
    np.testing.assert_allclose(T(mdp, res.V), res.V, rtol=0, atol=tol1(mdp))
    P = mdp.todense()
    np.testing.assert_allclose(res.Q, mdp.R + mdp.gamma * np.einsum("sat,t->sa", P, res.V), rtol=0, atol=tol1(mdp))
    chosen = res.Q[np.arange(S), np.argmax(res.policy, axis=1)]
    np.testing.assert_allclose(chosen, res.Q.max(axis=1), rtol=0, atol=tol1(mdp))


@given(trs.mdps(), st.data())
def test_optimal_value_dominates_every_policy(mdp, data):
    """V* >= V^pi componentwise for random stochastic and deterministic pi (catches PI
    returning a locally but not globally stable policy)."""
    pi = data.draw(trs.policies(*mdp.shape))
    gap = policy_iteration(mdp).V - policy_evaluation(mdp, pi)
    target(float(-np.min(gap)))
    assert np.all(gap >= -tol2(mdp))


@settings(max_examples=40)
@given(trs.mdps(), st.data())
def test_policy_iteration_values_are_monotone_per_iteration(mdp, data):
    """V^{pi_{k+1}} >= V^{pi_k} componentwise, with a strict gain somewhere until stable
    (catches switching actions on ties, which can cycle). pi_k is read off by capping
    max_iter at k."""
    pi0 = data.draw(trs.deterministic_policies(*mdp.shape))
    n = policy_iteration(mdp, pi0=pi0).n_iterations
    prev = None
    for k in range(1, n + 1):
        res = quietly(policy_iteration, mdp, pi0=pi0, max_iter=k)
        assert res.converged == (k == n)
        if prev is not None:
            assert np.all(res.V >= prev - tol2(mdp))
            assert np.max(res.V - prev) > 0
        prev = res.V


@given(trs.mdps(), st.data())
def test_policy_iteration_start_does_not_change_the_optimum(mdp, data):
    """Any pi0 reaches the same V* (catches pi0 ignored after the first step, or V* that
    depends on the starting policy)."""
    pi0 = data.draw(trs.policies(*mdp.shape))
    np.testing.assert_allclose(policy_iteration(mdp, pi0=pi0).V, policy_iteration(mdp).V, rtol=0, atol=tol2(mdp))


def test_policy_iteration_does_not_switch_on_ties():
    """With two equally good actions PI keeps the current one (pi0 picks action 1, which
    ties with action 0): it converges after one evaluation (catches argmax-based switching
    to the lowest index on ties, which can cycle)."""
    P = np.ones((1, 2, 1))
    mdp = TabularMDP(P, R=[[1.0, 1.0]], gamma=0.9)
    res = policy_iteration(mdp, pi0=[[0.0, 1.0]])
    np.testing.assert_array_equal(res.policy, [[0.0, 1.0]])
    assert res.n_iterations == 1


# -------------------------------------------------------------- value iteration


@given(trs.mdps(), st.sampled_from([1e-2, 1e-6, 1e-10]))
def test_value_iteration_agrees_with_policy_iteration_within_its_bound(mdp, tol):
    """||V_VI - V*|| <= error_bound < tol/2 and the greedy policy is tol-optimal
    (Puterman 6.3.1; catches a stopping rule without the (1-g)/(2g) factor)."""
    res = value_iteration(mdp, tol=tol)
    Vstar = policy_iteration(mdp).V
    assert res.converged
    assert res.error_bound < tol / 2 or mdp.gamma == 0
    err = np.max(np.abs(res.V - Vstar))
    target(float(err / (res.error_bound + 1e-300)))
    assert err <= res.error_bound + tol1(mdp)
    loss = np.max(Vstar - policy_evaluation(mdp, res.policy))
    assert loss <= tol + tol2(mdp)
    np.testing.assert_array_equal(res.policy, greedy(res.Q))


@settings(max_examples=40)
@given(trs.mdps(), st.integers(1, 30), st.data())
def test_value_iteration_error_bounds_hold_at_every_step(mdp, k, data):
    """Stopped after k steps from a random V0: ||V_k - V*|| <= g^k ||V0 - V*|| and
    ||V_k - V*|| <= g/(1-g) ||V_k - V_{k-1}|| = error_bound (catches an error_bound
    computed from the wrong difference)."""
    V0 = data.draw(values(mdp.n_states, bound=10.0))
    Vstar = policy_iteration(mdp).V
    res = quietly(value_iteration, mdp, tol=1e-300 if mdp.gamma > 0 else 1.0, max_iter=k, V0=V0)
    err = np.max(np.abs(res.V - Vstar))
    steps = res.n_iterations
    t = tol1(mdp) * (1 + np.max(np.abs(V0)))
    target(float(err / (mdp.gamma**steps * np.max(np.abs(V0 - Vstar)) + 1e-300)))
    assert err <= mdp.gamma**steps * np.max(np.abs(V0 - Vstar)) + t
    assert err <= res.error_bound + t


@given(trs.mdps(), st.data())
def test_greedy_policy_loss_bound(mdp, data):
    """pi = greedy(r + g P V) satisfies ||V* - V^pi|| <= 2g/(1-g) ||V - V*|| (Singh & Yee
    1994; catches greedy ties broken towards a worse action)."""
    V = data.draw(values(mdp.n_states, bound=10.0))
    Vstar = policy_iteration(mdp).V
    pi = greedy(mdp.R + mdp.gamma * mdp.expected_next(V))
    lhs = np.max(Vstar - policy_evaluation(mdp, pi))
    rhs = 2 * mdp.gamma / (1 - mdp.gamma) * np.max(np.abs(V - Vstar))
    if rhs > 0:
        target(float(lhs / rhs))
    assert lhs <= rhs + tol2(mdp) * (1 + np.max(np.abs(V)))


def test_value_iteration_gamma_zero_is_one_step():
    """With gamma = 0, V* = max_a r after one sweep and the bound is 0 (catches a
    division by gamma in the stopping threshold)."""
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), R=[[0.0, 1.0], [3.0, 2.0]], gamma=0.0)
    res = value_iteration(mdp)
    np.testing.assert_array_equal(res.V, [1.0, 3.0])
    assert res.n_iterations == 1 and res.error_bound == 0.0 and res.converged


# ----------------------------------------------------------- optimal finite horizon


def _all_deterministic_nonstationary(S, A, H):
    eye = np.eye(A)
    for choice in itertools.product(range(A), repeat=S * H):
        yield eye[np.array(choice).reshape(H, S)] if H else np.empty((0, S, A))


@settings(max_examples=30)
@given(trs.mdps(max_states=3, max_actions=2, gamma=trs.gammas(max_value=1.0)), st.integers(0, 3))
def test_finite_horizon_dp_equals_brute_force_over_deterministic_policies(mdp, H):
    """V*_0 = max over all A^(S H) deterministic non-stationary policies of V_0^pi, for every
    start state at once, and the DP policy attains it (catches a stationary policy used for
    a finite horizon, or Q_t built from V_t)."""
    res = finite_horizon_optimal(mdp, H)
    assert isinstance(res, FiniteHorizonControl)
    S, A = mdp.shape
    best = np.full(S, -np.inf)
    for pi in _all_deterministic_nonstationary(S, A, H):
        best = np.maximum(best, finite_horizon_values(mdp, pi, H).V[0])
    t = 1e-12 * (1 + np.max(np.abs(mdp.R))) * max(H, 1)
    np.testing.assert_allclose(res.V[0], best, rtol=0, atol=t)
    achieved = finite_horizon_values(mdp, res.policy, H)
    np.testing.assert_allclose(achieved.V, res.V, rtol=0, atol=t)
    np.testing.assert_allclose(achieved.Q, res.Q, rtol=0, atol=t)
    assert abs(res.J - mdp.mu @ res.V[0]) <= t
    assert res.policy.shape == (H, S, A)


@settings(max_examples=30)
@given(trs.mdps(gamma=trs.gammas(max_value=0.9)))
def test_long_finite_horizon_optimum_tends_to_v_star(mdp):
    """With g <= 0.9 and H = 400, V*_0 of the finite-horizon DP equals PI's V* (catches an
    inconsistent discount between finite and infinite horizon)."""
    np.testing.assert_allclose(finite_horizon_optimal(mdp, 400).V[0], policy_iteration(mdp).V, rtol=0,
                               atol=tol2(mdp))


def test_finite_horizon_optimal_golden_non_stationary():
    """From state 0 with H = 2 and gamma 1, reward 1 now (stay) beats reward 1.5 later
    (move), but with H = 3 moving wins: the optimal policy depends on t."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    mdp = TabularMDP(P, R=[[1.0, 0.0], [1.5, 1.5]], gamma=1.0, mu=[1.0, 0.0])
    res = finite_horizon_optimal(mdp, 3)
    np.testing.assert_array_equal(res.V[:, 0], [3.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(res.policy[:, 0], [[1, 0], [1, 0], [1, 0]])
    res = finite_horizon_optimal(mdp, 4)
    assert res.V[0, 0] == 4.5
    np.testing.assert_array_equal(res.policy[0, 0], [0, 1])
    np.testing.assert_array_equal(res.policy[-1, 0], [1, 0])


# ---------------------------------------------------------- dense and sparse agree


@given(trs.mdps(gamma=trs.gammas(max_value=1.0)), st.integers(0, 6))
def test_dense_and_sparse_control_agree(mdp, H):
    """policy_iteration, value_iteration and finite_horizon_optimal give the same numbers
    and policies in both layouts (1e-12, scaled)."""
    other = twin(mdp)
    R, Hf = scale(mdp)
    a, b = finite_horizon_optimal(mdp, H), finite_horizon_optimal(other, H)
    t = 1e-12 * (1 + R) * max(H, 1)
    np.testing.assert_allclose(a.V, b.V, rtol=0, atol=t)
    np.testing.assert_allclose(a.Q, b.Q, rtol=0, atol=t)
    if mdp.gamma < 1:
        # Two LU solves of I - gamma P_pi agree to its condition number (<= 2 H) times eps
        # times |V| (<= R H): 8 eps (1 + R) H^2, which exceeds the 1e-12 (1 + R) H used at
        # moderate gamma only when H > 500 (this strategy can draw gamma = 1 - 1e-16).
        t = 1e-12 * (1 + R) * Hf + 8 * np.finfo(float).eps * (1 + R) * Hf**2
        a, b = policy_iteration(mdp), policy_iteration(other)
        np.testing.assert_allclose(a.V, b.V, rtol=0, atol=t)
        np.testing.assert_allclose(a.Q, b.Q, rtol=0, atol=t)
    if mdp.gamma <= 0.999:
        # Value iteration needs about log(tol (1-gamma) / R) / log(gamma) sweeps: 4e4 at
        # gamma = 0.999, but 1e17 for the gamma = 1 - 1e-16 this strategy can draw, where it
        # stops at its cap with a warning (tested in its own test) and proves nothing here.
        a, b = value_iteration(mdp, tol=1e-8), value_iteration(other, tol=1e-8)
        np.testing.assert_allclose(a.V, b.V, rtol=0, atol=t)
        assert a.n_iterations == b.n_iterations


# --------------------------------------------------------------- gamma, errors, caps


@pytest.mark.parametrize("func", [policy_iteration, value_iteration])
def test_gamma_one_infinite_horizon_control_raises(func):
    """PI and VI raise ValueError naming gamma when gamma == 1 (catches VI looping to
    max_iter on an undiscounted MDP)."""
    mdp = TabularMDP(np.ones((1, 1, 1)), R=[1.0], gamma=1.0)
    with pytest.raises(ValueError, match=rf"{func.__name__} is an infinite-horizon quantity and needs gamma < 1"):
        func(mdp)


def test_gamma_one_finite_horizon_optimal_works():
    """finite_horizon_optimal accepts gamma == 1 and sums H rewards."""
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 2.0]], gamma=1.0)
    assert finite_horizon_optimal(mdp, 5).J == 10.0


@pytest.fixture
def mdp2():
    return TabularMDP(np.full((2, 2, 2), 0.5), R=[[0.0, 1.0], [0.0, 2.0]], gamma=0.9)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda m: policy_iteration(m, max_iter=0), ValueError, r"max_iter == 0, must be >= 1"),
        (lambda m: policy_iteration(m, max_iter=1.5), TypeError, r"max_iter must be an integer, got float 1.5"),
        (lambda m: policy_iteration(m, pi0=np.ones((2, 3)) / 3), ValueError, r"pi0 must have shape \(2, 2\) to match the MDP, got \(2, 3\)"),
        (lambda m: policy_iteration(m, pi0=[[1.0, 0.0], [0.2, 0.2]]), ValueError, r"pi0\[1, :\] sums to 0.4"),
        (lambda m: value_iteration(m, tol=0.0), ValueError, r"tol == 0, must be in \(0, inf\]"),
        (lambda m: value_iteration(m, tol=-1.0), ValueError, r"tol == -1, must be in \(0, inf\]"),
        (lambda m: value_iteration(m, tol=np.nan), ValueError, r"tol must be finite, got nan"),
        (lambda m: value_iteration(m, tol="1e-3"), TypeError, r"tol must be a real number, got str '1e-3'"),
        (lambda m: value_iteration(m, max_iter=-3), ValueError, r"max_iter == -3, must be >= 1"),
        (lambda m: value_iteration(m, V0=[0.0, 0.0, 0.0]), ValueError, r"V0 must have shape \(2,\), got \(3,\)"),
        (lambda m: value_iteration(m, V0=[0.0, np.nan]), ValueError, r"V0 must be finite, got nan at index \(1,\)"),
        (lambda m: value_iteration(m, V0=["a", "b"]), TypeError, r"V0 must be a numeric array"),
        (lambda m: finite_horizon_optimal(m, -2), ValueError, r"horizon == -2, must be >= 0"),
        (lambda m: finite_horizon_optimal(m, None), TypeError, r"horizon must be an integer, got NoneType None"),
    ],
)
def test_control_validation_messages(mdp2, call, exc, match):
    """Every bad option raises with a message naming it and what was found (catches a NaN
    V0 that would run value iteration to its cap)."""
    with pytest.raises(exc, match=match):
        call(mdp2)


def test_iteration_caps_warn_naming_the_setting(mdp2):
    """Stopping at max_iter is reported by a RuntimeWarning naming max_iter (and tol for
    VI), never silently (catches an unconverged iterate passed off as V*)."""
    with pytest.warns(RuntimeWarning, match=r"policy_iteration stopped after max_iter=1 .*increase max_iter"):
        res = policy_iteration(mdp2, max_iter=1)
    assert not res.converged
    with pytest.warns(RuntimeWarning, match=r"value_iteration reached max_iter=2 .*tol=1e-10.*increase max_iter or tol"):
        res = value_iteration(mdp2, max_iter=2)
    assert not res.converged


def test_results_are_fresh_arrays():
    """Control results do not alias the MDP's read-only arrays (gamma == 0 makes Q = R)."""
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 2.0]], gamma=0.0)
    for res in (policy_iteration(mdp), value_iteration(mdp), finite_horizon_optimal(mdp, 2)):
        for arr in (res.V, res.Q, res.policy):
            assert arr.flags.writeable and not np.shares_memory(arr, mdp.R)


def test_policy_iteration_warm_start_on_large_sparse_mdps_reaches_the_same_optimum():
    """Sparse MDPs of at least WARM_START_MIN_STATES states start from the greedy policy of a few
    value-iteration sweeps: the optimum is policy iteration's (same exact V* as from action 0, no
    strictly improving action), in fewer improvement steps. Catches a warm start that stops at the
    VI policy without the exact evaluation, or one that is never used."""
    from tabular_rl.control import WARM_START_MIN_STATES
    from tabular_rl.gridworld import open_grid

    n = int(np.ceil(np.sqrt(WARM_START_MIN_STATES)))
    base = open_grid(n, slip=0.2, gamma=0.95)
    S, A = base.shape
    mdp = base.with_(R=np.random.default_rng(0).random((S, A)))
    warm = policy_iteration(mdp)
    cold = policy_iteration(mdp, pi0=np.eye(A)[np.zeros(S, dtype=int)])
    R, H = scale(mdp)
    np.testing.assert_allclose(warm.V, cold.V, rtol=0, atol=tol2(mdp))
    assert warm.converged and warm.n_iterations < cold.n_iterations
    Q = mdp.R + mdp.gamma * mdp.expected_next(warm.V)
    assert np.max(Q.max(axis=1) - warm.V) <= tol1(mdp)


def test_krylov_phase_ends_where_exact_policy_iteration_ends(monkeypatch):
    """Large sparse MDPs improve on BiCGSTAB values first and factorise only to confirm: the result
    is the all-LU run's (same policy, V bit for bit, since both end with the LU evaluation of the
    same policy), with one factorisation instead of one per step. Catches a phase that is skipped
    (more factorisations), or one whose inexact values are returned instead of the exact ones."""
    from tabular_rl import control, evaluation
    from tabular_rl.gridworld import open_grid

    base = open_grid(40, slip=0.2, gamma=0.95)
    S, A = base.shape
    mdp = base.with_(R=np.random.default_rng(3).random((S, A)))
    factorisations = []
    real_lu = evaluation._sparse_lu
    monkeypatch.setattr(evaluation, "_sparse_lu", lambda M: factorisations.append(1) or real_lu(M))
    start = np.eye(A)[np.zeros(S, dtype=int)]       # action 0: several improvement steps to go
    with_phase = policy_iteration(mdp, pi0=start)
    n_with = len(factorisations)
    monkeypatch.setattr(control, "KRYLOV_PHASE_MAX_STEPS", 0)
    exact = policy_iteration(mdp, pi0=start)
    assert n_with == 1 and len(factorisations) - n_with == exact.n_iterations > 2
    np.testing.assert_array_equal(with_phase.policy, exact.policy)
    np.testing.assert_array_equal(with_phase.V, exact.V)
    assert with_phase.converged and with_phase.error_bound == 0.0


@given(trs.logits((7, 4), bound=5.0))
def test_row_max_is_max_over_actions(Q):
    """Golden identity for the warm start's fast row maximum (catches a missed column)."""
    from tabular_rl.control import _row_max

    np.testing.assert_array_equal(_row_max(Q), Q.max(axis=1))
