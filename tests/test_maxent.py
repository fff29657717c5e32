"""Tests for tabular_rl.maxent (Ziebart et al. 2008), docs/guide/maxent.md.

Ground truth is exhaustive enumeration of action sequences (tabular_rl.sampling.enumerate_trajectories
with a uniform policy enumerates every action sequence and successor, with probability A^-H prod P).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import logsumexp

from tabular_rl import TabularMDP, Trajectories, enumerate_trajectories, rollout, uniform
from tabular_rl import strategies as trs
from tabular_rl.maxent import (
    IRLResult,
    maxent_backward_pass,
    maxent_backward_pass_stationary,
    maxent_forward_pass,
    maxent_forward_pass_per_step,
    maxent_irl,
    maxent_log_likelihood_gradient,
    maxent_log_likelihood_objective,
    maxent_log_partition,
    maxent_partition,
    maxent_path_marginals,
)
from helpers import concavity_modulus, count_minimize_calls

FLOATS = dict(allow_nan=False, allow_infinity=False, width=64)


def rewards_for(S, lo=-1.0, hi=1.0):
    return hnp.arrays(np.float64, (S,), elements=st.floats(lo, hi, **FLOATS))


def paths_from(mdp, s0, H):
    """Every (action sequence, successor sequence) from s0 with its weight prod_t P(s_{t+1}|s_t,a_t)."""
    S, A = mdp.shape
    tr, p = enumerate_trajectories(mdp, uniform(S, A), H, mu=np.eye(S)[s0])
    return tr, p * float(A) ** H


def path_return(r, tr, H):
    return r[tr.states[:, :H]].sum(axis=1)


def as_sparse(mdp):
    S, A = mdp.shape
    return TabularMDP(sp.csr_matrix(mdp.todense().reshape(S * A, S)), mdp.R, mdp.gamma, mu=mdp.mu)


def chain(S=4, A=2, seed=0, deterministic=False, sparse=False):
    rng = np.random.default_rng(seed)
    if deterministic:
        P = np.zeros((S, A, S))
        P[np.arange(S)[:, None], np.arange(A)[None, :], rng.integers(0, S, (S, A))] = 1.0
    else:
        P = rng.dirichlet(np.ones(S), size=(S, A))
    mdp = TabularMDP(P, np.zeros(S), 1.0, mu=rng.dirichlet(np.ones(S)))
    return as_sparse(mdp) if sparse else mdp


# ---------------------------------------------------------------- backward pass
@settings(max_examples=40)
@given(trs.mdps(max_states=4, max_actions=3, deterministic=True), st.integers(0, 4), st.data())
def test_backward_pass_gives_exact_path_distribution_on_deterministic_mdps(mdp, H, data):
    """prod_t pi_t(a_t|s_t) = exp(sum_{t<H} r(s_t)) / Z(s0) for every action sequence: catches a stationary
    policy used at every step, rewarding s_H instead of s_0, or a hard max in place of log-sum-exp."""
    S, A = mdp.shape
    r = data.draw(rewards_for(S, -2.0, 2.0))
    pi = maxent_backward_pass(mdp, r, H)
    log_Z = maxent_log_partition(mdp, r, H)
    assert pi.shape == (H, S, A) and log_Z.shape == (H + 1, S)
    for s0 in range(S):
        tr, _ = paths_from(mdp, s0, H)
        model = np.ones(tr.n_episodes)
        for t in range(H):
            model *= pi[t, tr.states[:, t], tr.actions[:, t]]
        exact = np.exp(path_return(r, tr, H) - log_Z[0, s0])
        np.testing.assert_allclose(model, exact, rtol=1e-12, atol=1e-14)
        assert abs(model.sum() - 1.0) < 1e-12


@settings(max_examples=40)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(0, 4), st.data())
def test_log_partition_is_logsumexp_over_enumerated_paths(mdp, H, data):
    """log Z(s0) = log sum_paths prod P exp(R): the eq. (4) normaliser (eq. (2) when deterministic), dense and
    sparse; catches a missing successor weighting or an off-by-one horizon."""
    r = data.draw(rewards_for(mdp.n_states, -3.0, 3.0))
    log_Z = maxent_log_partition(mdp, r, H)
    for s0 in range(mdp.n_states):
        tr, w = paths_from(mdp, s0, H)
        expected = logsumexp(path_return(r, tr, H), b=w)
        assert abs(log_Z[0, s0] - expected) <= 1e-12 * (1 + abs(expected))


def test_backward_pass_golden_two_state_chain():
    """Golden value: action a moves to state a; from 0 with H = 2, Z = 2 + 2e, so P(a_0 = 1) = e/(1+e)."""
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    mdp = TabularMDP(P, np.zeros(2), 1.0)
    part = maxent_partition(mdp, [0.0, 1.0], 2)
    np.testing.assert_allclose(np.exp(part.log_Z[0]), [2 + 2 * np.e, 2 * np.e + 2 * np.e**2], rtol=1e-14)
    np.testing.assert_allclose(part.policy[0, 0, 1], np.e / (1 + np.e), rtol=1e-14)
    np.testing.assert_allclose(part.policy[1], 0.5)


@pytest.mark.parametrize("sparse", [False, True])
def test_stationary_variant_is_algorithm_1_as_printed(sparse):
    """maxent_backward_pass_stationary equals a literal linear-space transcription of Algorithm 1 steps 1-3
    (catches an extra/missing iteration or a reward on the successor instead of s_i)."""
    mdp = chain(5, 3, seed=3, sparse=sparse)
    P = mdp.todense()
    r = np.random.default_rng(1).normal(size=5)
    N = 6
    Z_s = np.ones(5)                               # step 1
    for _ in range(N):                             # step 2
        Z_a = np.einsum("sak,k->sa", P, Z_s) * np.exp(r)[:, None]
        Z_s = Z_a.sum(axis=1)
    slide = Z_a / Z_s[:, None]                     # step 3
    ours = maxent_backward_pass_stationary(mdp, r, N)
    np.testing.assert_allclose(ours, slide, rtol=1e-12)
    np.testing.assert_allclose(ours, maxent_backward_pass(mdp, r, N)[0], rtol=0, atol=0)


def test_stationary_policy_does_not_give_the_finite_horizon_path_distribution():
    """docs/guide/maxent.md#stationary-versus-time-indexed-policy:
    using Algorithm 1's single P(a|s) at every step is not exp(R)/Z (deterministic, H = 3);
    guards against the library silently switching to the stationary policy."""
    mdp = chain(3, 2, seed=5, deterministic=True)
    r = np.array([1.0, -1.0, 0.5])
    H = 3
    stat = maxent_backward_pass_stationary(mdp, r, H)
    log_Z = maxent_log_partition(mdp, r, H)
    tr, _ = paths_from(mdp, 0, H)
    model = np.prod([stat[tr.states[:, t], tr.actions[:, t]] for t in range(H)], axis=0)
    exact = np.exp(path_return(r, tr, H) - log_Z[0, 0])
    assert np.max(np.abs(model - exact)) > 1e-3


# ------------------------------------------------------------------ terminals
def goal_chain():
    """Deterministic 4-state line 0-1-2-3 with actions left/right/stay; state 3 (the goal) absorbing."""
    S, A = 4, 3
    P = np.zeros((S, A, S))
    for s in range(S):
        for a, nxt in enumerate((max(s - 1, 0), min(s + 1, S - 1), s)):
            P[s, a, nxt if s != 3 else 3] = 1.0
    return TabularMDP(P, np.zeros(S), 1.0, mu=[1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("sparse", [False, True])
def test_goal_directed_model_is_the_path_distribution_conditioned_on_reaching_the_goal(sparse):
    """terminal_states: P(actions|s0) = exp(R) 1[s_H in G] / Z(s0), log Z is the log-sum over goal paths, and
    states that cannot reach the goal get uniform action probabilities (catches Z = 1 left at non-goal states)."""
    mdp = goal_chain()
    mdp = as_sparse(mdp) if sparse else mdp
    r = np.array([-0.3, 0.2, -0.1, 0.0])
    H = 4
    part = maxent_partition(mdp, r, H, terminal_states=[3])
    tr, _ = paths_from(mdp, 0, H)
    R = path_return(r, tr, H)
    at_goal = tr.states[:, H] == 3
    assert abs(part.log_Z[0, 0] - logsumexp(R[at_goal])) < 1e-12
    model = np.prod([part.policy[t, tr.states[:, t], tr.actions[:, t]] for t in range(H)], axis=0)
    np.testing.assert_allclose(model, np.where(at_goal, np.exp(R - part.log_Z[0, 0]), 0.0), atol=1e-14)
    # one step before the end, state 0 cannot reach 3: Z = 0 and a uniform policy
    assert part.log_Z[H - 1, 0] == -np.inf
    np.testing.assert_allclose(part.policy[H - 1, 0], 1.0 / 3)
    # the forward pass of the model keeps mass on reachable-to-goal states and ends at the goal
    D = maxent_forward_pass_per_step(mdp, part.policy, H)
    np.testing.assert_allclose(D.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(maxent_path_marginals(mdp, r, H, terminal_states=[3]), D, atol=1e-14)
    # a boolean mask is the same set; the fused kernel behind maxent_backward_pass agrees with the
    # step-by-step partition to round-off
    mask = np.array([False, False, False, True])
    fused = maxent_backward_pass(mdp, r, H, terminal_states=mask)
    np.testing.assert_array_equal(fused, maxent_backward_pass(mdp, r, H, terminal_states=[3]))
    np.testing.assert_allclose(fused, part.policy, rtol=0, atol=1e-14)


# -------------------------------------------------------------- forward pass
@settings(max_examples=40)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(0, 4), st.data())
def test_forward_pass_matches_enumeration_matrix_powers_and_sparse(mdp, H, data):
    """D_t against exact trajectory enumeration and products of P_pi_t; each D_t sums to 1 (mass conservation);
    sparse equals dense to 1e-12 (catches the paper's index erratum, a wrong start step, or layout bugs)."""
    S, A = mdp.shape
    pi = np.stack([data.draw(trs.policies(S, A)) for _ in range(H)]) if H else np.empty((0, S, A))
    D = maxent_forward_pass_per_step(mdp, pi, H)
    assert D.shape == (H, S)
    np.testing.assert_allclose(D.sum(axis=1), 1.0, atol=1e-12)
    tr, p = enumerate_trajectories(mdp, pi, H)
    for t in range(H):
        np.testing.assert_allclose(D[t], np.bincount(tr.states[:, t], weights=p, minlength=S), atol=1e-12)
    P = mdp.todense()
    d = np.array(mdp.mu)
    for t in range(H):
        np.testing.assert_allclose(D[t], d, atol=1e-12)
        d = d @ np.einsum("sa,sak->sk", pi[t], P)
    other = as_sparse(mdp) if not mdp.is_sparse else TabularMDP(P, mdp.R, mdp.gamma, mu=mdp.mu)
    np.testing.assert_allclose(maxent_forward_pass_per_step(other, pi, H), D, rtol=0, atol=1e-12)
    np.testing.assert_allclose(maxent_forward_pass(mdp, pi, H), D.sum(axis=0), atol=1e-12)


@given(trs.mdps(max_states=5, max_actions=3), st.integers(1, 6), st.data())
def test_stationary_policy_forward_pass_equals_repeated_policy(mdp, H, data):
    """A stationary (S, A) policy is the same as that policy repeated H times; D sums to H."""
    pi = data.draw(trs.policies(*mdp.shape))
    D = maxent_forward_pass(mdp, pi, H)
    np.testing.assert_allclose(D, maxent_forward_pass(mdp, np.broadcast_to(pi, (H,) + pi.shape), H), atol=1e-12)
    assert abs(D.sum() - H) < 1e-11 * H


def test_printed_forward_indices_break_mass_conservation_regression():
    """Regression for the Algorithm 1 step 5 erratum: the printed D_{s_i,t+1} = sum_a sum_k D_{s_k,t} P(a|s_i)
    P(s_k|a,s_i) does not conserve mass on a seeded instance, while the library's corrected pass does."""
    mdp = chain(4, 2, seed=11)
    P = mdp.todense()
    pi = maxent_backward_pass_stationary(mdp, np.array([0.5, -0.5, 1.0, 0.0]), 5)
    d = np.array(mdp.mu)
    printed = [d]
    for _ in range(4):
        d = np.einsum("ia,iak,k->i", pi, P, d)     # the printed indices: a backward step
        printed.append(d)
    assert max(abs(x.sum() - 1.0) for x in printed) > 1e-2
    np.testing.assert_allclose(maxent_forward_pass_per_step(mdp, pi, 5).sum(axis=1), 1.0, atol=1e-14)


# ------------------------------------------------- eq. (4) and Algorithm 1's D
def eq4_marginals(mdp, r, H, p0):
    """E_{eq.(4)}[1{s_t = s}] by enumeration: P(path|s0) proportional to exp(R) prod P."""
    S = mdp.n_states
    D = np.zeros((H, S))
    for s0 in np.flatnonzero(p0):
        tr, w = paths_from(mdp, s0, H)
        w = w * np.exp(path_return(r, tr, H))
        w = p0[s0] * w / w.sum()
        for t in range(H):
            D[t] += np.bincount(tr.states[:, t], weights=w, minlength=S)
    return D


@settings(max_examples=30)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(1, 4), st.data())
def test_path_marginals_are_the_eq4_expectation(mdp, H, data):
    """maxent_path_marginals = state marginals of eq. (4) by enumeration (stochastic included); catches using
    the true dynamics in the forward pass, which is not the gradient of the eq. (4) likelihood."""
    r = data.draw(rewards_for(mdp.n_states, -2.0, 2.0))
    D = maxent_path_marginals(mdp, r, H)
    np.testing.assert_allclose(D, eq4_marginals(mdp, r, H, np.asarray(mdp.mu)), atol=1e-12)


@given(trs.mdps(max_states=5, max_actions=3, deterministic=True), st.integers(1, 6), st.data())
def test_algorithm_1_forward_pass_is_exact_on_deterministic_mdps(mdp, H, data):
    """Deterministic dynamics: Algorithm 1 (corrected, time-indexed) = the model's exact marginals."""
    r = data.draw(rewards_for(mdp.n_states, -2.0, 2.0))
    D_alg = maxent_forward_pass_per_step(mdp, maxent_backward_pass(mdp, r, H), H)
    np.testing.assert_allclose(maxent_path_marginals(mdp, r, H), D_alg, atol=1e-12)


def test_algorithm_1_visitation_differs_from_eq4_on_a_stochastic_mdp():
    """Negative test (docs/guide/maxent.md#stochastic-dynamics):
    with stochastic dynamics, Algorithm 1's D (true-dynamics forward pass of
    the backward-pass policy) gives feature counts different from E_{eq.(4)}[f] on a seeded instance."""
    mdp = chain(3, 2, seed=7)
    r = np.array([2.0, -1.0, 0.5])
    H = 4
    phi = np.eye(3)
    D_alg = maxent_forward_pass(mdp, maxent_backward_pass(mdp, r, H), H)
    D_eq4 = eq4_marginals(mdp, r, H, np.asarray(mdp.mu)).sum(axis=0)
    assert np.max(np.abs(D_alg @ phi - D_eq4 @ phi)) > 1e-2
    np.testing.assert_allclose(maxent_path_marginals(mdp, r, H).sum(axis=0), D_eq4, atol=1e-12)


# ---------------------------------------------------------------- large scale
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("scale", [1e3, 1e6])
def test_large_rewards_and_long_horizon_are_finite_and_normalised(sparse, scale):
    """Reward magnitude 1e3 / 1e6 at horizon 1000: log Z finite, every pi_t normalised, D_t sums to 1, the
    log-likelihood gradient finite (catches linear-space Z, which overflows at reward ~ 710)."""
    mdp = chain(6, 3, seed=2, sparse=sparse)
    r = scale * np.array([1.0, -1.0, 0.3, 0.0, -0.7, 0.9])
    H = 1000
    part = maxent_partition(mdp, r, H)
    assert np.all(np.isfinite(part.log_Z)) and np.all(np.isfinite(part.policy))
    np.testing.assert_allclose(part.policy.sum(axis=2), 1.0, atol=1e-12)
    D = maxent_forward_pass_per_step(mdp, part.policy, H)
    np.testing.assert_allclose(D.sum(axis=1), 1.0, atol=1e-9)
    M = maxent_path_marginals(mdp, r, H)
    np.testing.assert_allclose(M.sum(axis=1), 1.0, atol=1e-9)
    g = maxent_log_likelihood_gradient(mdp, np.eye(6), np.full(6, H / 6), H, r)
    assert np.all(np.isfinite(g))
    # terminal set at this scale too
    term = maxent_partition(mdp, r, H, terminal_states=[2])
    assert np.all(np.isfinite(term.log_Z[: H - 1])) and np.all(np.isfinite(term.policy))


# ------------------------------------------------------------ log-likelihood
def fd_gradient(f, w, h=1e-6):
    g = np.zeros_like(w)
    for k in range(w.size):
        e = np.zeros_like(w)
        e[k] = h
        g[k] = (f(w + e) - f(w - e)) / (2 * h)
    return g


@settings(max_examples=30)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(1, 5), st.integers(1, 3), st.data())
def test_log_likelihood_gradient_matches_central_differences(mdp, H, K, data):
    """grad L = f_tilde - sum_t sum_s D_t(s) f(s) against central differences (dense, sparse, stochastic and
    deterministic); catches counting H+1 states in the forward pass but H rewards in the backward pass."""
    S = mdp.n_states
    phi = data.draw(hnp.arrays(np.float64, (S, K), elements=st.floats(-1, 1, **FLOATS)))
    w = data.draw(hnp.arrays(np.float64, (K,), elements=st.floats(-2, 2, **FLOATS)))
    f_tilde = data.draw(hnp.arrays(np.float64, (K,), elements=st.floats(-H, H, **FLOATS)))
    L = lambda v: maxent_log_likelihood_objective(mdp, phi, f_tilde, H, v)
    g = maxent_log_likelihood_gradient(mdp, phi, f_tilde, H, w)
    R = 2.0 * K
    np.testing.assert_allclose(g, fd_gradient(L, w), atol=1e-6 * (1 + R) * H**3)


def test_log_likelihood_from_trajectories_uses_steps_0_to_H_minus_1_and_empirical_starts():
    """Trajectories: f_tilde sums f(s_t) for t < H (not s_H) and the start distribution is the empirical one;
    L equals the mean exact log-probability of the demonstrated action sequences (deterministic MDP)."""
    mdp = chain(4, 2, seed=4, deterministic=True)
    rng = np.random.default_rng(0)
    demos = rollout(mdp, uniform(4, 2), 7, 3, rng=rng)
    phi = rng.normal(size=(4, 2))
    w = np.array([0.7, -0.4])
    r = phi @ w
    L = maxent_log_likelihood_objective(mdp, phi, demos, 3, w)
    log_Z = maxent_log_partition(mdp, r, 3)[0]
    per_demo = r[demos.states[:, :3]].sum(axis=1) - log_Z[demos.states[:, 0]]
    assert abs(L - per_demo.mean()) < 1e-12
    pi = maxent_backward_pass(mdp, r, 3)
    logp = sum(np.log(pi[t, demos.states[:, t], demos.actions[:, t]]) for t in range(3))
    assert abs(L - logp.mean()) < 1e-12


@settings(max_examples=30)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(1, 5), st.data())
def test_gradient_is_zero_at_the_models_own_expected_counts(mdp, H, data):
    """f_tilde := E_{theta0}[f] makes grad L(theta0) = 0 (catches mismatched time indices between the passes)."""
    S = mdp.n_states
    phi = data.draw(hnp.arrays(np.float64, (S, 2), elements=st.floats(-1, 1, **FLOATS)))
    w0 = data.draw(hnp.arrays(np.float64, (2,), elements=st.floats(-2, 2, **FLOATS)))
    f_tilde = maxent_path_marginals(mdp, phi @ w0, H).sum(axis=0) @ phi
    g = maxent_log_likelihood_gradient(mdp, phi, f_tilde, H, w0)
    np.testing.assert_allclose(g, 0.0, atol=1e-12 * H * (1 + H))


@settings(max_examples=25)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(1, 4), st.data())
def test_log_likelihood_is_concave_along_random_directions(mdp, H, data):
    """Second differences of L along random directions are <= round-off (Hessian = -Cov(f_zeta))."""
    S = mdp.n_states
    phi = data.draw(hnp.arrays(np.float64, (S, 2), elements=st.floats(-1, 1, **FLOATS)))
    w = data.draw(hnp.arrays(np.float64, (2,), elements=st.floats(-2, 2, **FLOATS)))
    u = data.draw(hnp.arrays(np.float64, (2,), elements=st.floats(-1, 1, **FLOATS)))
    L = lambda v: maxent_log_likelihood_objective(mdp, phi, np.zeros(2), H, v)
    h = 1e-3
    second = (L(w + h * u) - 2 * L(w) + L(w - h * u)) / h**2
    target(float(second), label="second difference (<= 0)")
    assert second <= 1e-12 * (1 + H) ** 2 / h**2    # round-off of L ~ 1e-16 (1 + H), amplified by 1/h^2


# ----------------------------------------------------------------------- IRL
@pytest.mark.parametrize("method", ["gradient", "lbfgs"])
@settings(max_examples=15)
@given(mdp=trs.mdps(max_states=4, max_actions=3), H=st.integers(1, 4), data=st.data())
def test_irl_from_exact_expert_counts_recovers_feature_matching(method, mdp, H, data):
    """From the exact counts of a reward theta0 the ascent reaches ||f_tilde - E_theta[f]|| <= 1e-6 with a
    non-decreasing log-likelihood (catches a sign error or a step rule that can go downhill), with either
    optimiser."""
    S = mdp.n_states
    phi = data.draw(hnp.arrays(np.float64, (S, 2), elements=st.floats(0, 1, **FLOATS)))
    w0 = data.draw(hnp.arrays(np.float64, (2,), elements=st.floats(-2, 2, **FLOATS)))
    f_tilde = maxent_path_marginals(mdp, phi @ w0, H).sum(axis=0) @ phi
    res = maxent_irl(mdp, phi, f_tilde, H, mu=mdp.mu, tol=1e-9, max_iter=2000, method=method)
    assert isinstance(res, IRLResult) and res.converged
    model = maxent_path_marginals(mdp, res.reward, H).sum(axis=0) @ phi
    assert np.max(np.abs(model - f_tilde)) <= 1e-6
    assert np.all(np.diff(res.log_likelihood) >= -1e-12 * (1 + np.abs(res.log_likelihood[1:])))
    assert res.log_likelihood.shape == res.grad_norm.shape == (res.n_iterations + 1,)
    np.testing.assert_allclose(res.reward, phi @ res.weights)


@pytest.mark.parametrize("method", ["gradient", "lbfgs"])
def test_irl_recovers_theta0_when_feature_covariance_is_nonsingular(method):
    """Indicator features on a stochastic MDP (Cov(f) nonsingular after fixing one weight): the optimum is
    unique and equals theta0 up to the constant that never changes the path distribution (L-BFGS must find
    the same optimum as gradient ascent)."""
    mdp = chain(4, 3, seed=9)
    phi = np.eye(4)[:, 1:]                           # drop one indicator: identifiable
    w0 = np.array([0.8, -0.6, 0.3])
    H = 4
    f_tilde = maxent_path_marginals(mdp, phi @ w0, H).sum(axis=0) @ phi
    res = maxent_irl(mdp, phi, f_tilde, H, tol=1e-11, max_iter=5000, method=method)
    np.testing.assert_allclose(res.weights, w0, atol=1e-7)


def test_irl_from_trajectories_and_its_policy():
    """End to end from sampled demonstrations on a goal-directed model: converges, and the returned policy is
    the backward pass at the learned reward."""
    mdp = goal_chain()
    H = 4
    true_pi = maxent_backward_pass(mdp, np.array([-1.0, -0.5, -0.2, 0.0]), H, terminal_states=[3])
    demos = rollout(mdp, true_pi, 200, H, rng=np.random.default_rng(3), mu=[1.0, 0, 0, 0])
    phi = np.eye(4)[:, :3]
    res = maxent_irl(mdp, phi, demos, H, terminal_states=[3], tol=1e-9)
    assert res.converged
    np.testing.assert_allclose(res.policy, maxent_backward_pass(mdp, res.reward, H, terminal_states=[3]))
    f_tilde = phi[demos.states[:, :H]].sum(axis=1).mean(axis=0)
    D = maxent_forward_pass(mdp, res.policy, H, mu=[1.0, 0, 0, 0])
    np.testing.assert_allclose(D @ phi, f_tilde, atol=1e-8)


def test_irl_warns_naming_max_iter_when_it_stops_short():
    """Infeasible counts (more visits than steps) cannot be matched: RuntimeWarning naming max_iter."""
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    mdp = TabularMDP(P, np.zeros(2), 1.0, mu=[1.0, 0.0])
    with pytest.warns(RuntimeWarning, match="max_iter=5"):
        res = maxent_irl(mdp, [[0.0], [1.0]], [1.5], 2, max_iter=5)
    assert not res.converged and res.n_iterations == 5


# ---------------------------------------------------------------- validation
def test_bad_inputs_raise_naming_the_argument():
    """Every error message names the argument, the expectation and what was found."""
    mdp = chain(3, 2, seed=0)
    r = np.zeros(3)
    with pytest.raises(ValueError, match=r"state_rewards must have shape \(3,\)"):
        maxent_backward_pass(mdp, np.zeros(4), 2)
    with pytest.raises(ValueError, match="state_rewards must be finite"):
        maxent_backward_pass(mdp, [0.0, np.nan, 0.0], 2)
    with pytest.raises(TypeError, match="state_rewards must be real"):
        maxent_backward_pass(mdp, np.zeros(3, dtype=complex), 2)
    with pytest.raises(ValueError, match="horizon == -1, must be >= 0"):
        maxent_backward_pass(mdp, r, -1)
    with pytest.raises(ValueError, match="n_iterations == 0, must be >= 1"):
        maxent_backward_pass_stationary(mdp, r, 0)
    with pytest.raises(ValueError, match=r"terminal_states must lie in \[0, 2\], got 5"):
        maxent_backward_pass(mdp, r, 2, terminal_states=[5])
    with pytest.raises(ValueError, match="terminal_states must contain at least one state"):
        maxent_backward_pass(mdp, r, 2, terminal_states=np.zeros(3, dtype=bool))
    with pytest.raises(TypeError, match="terminal_states must be None, a 1-d collection"):
        maxent_backward_pass(mdp, r, 2, terminal_states=[0.5])
    with pytest.raises(ValueError, match=r"terminal_states must have shape \(3,\)"):
        maxent_backward_pass(mdp, r, 2, terminal_states=np.ones(2, dtype=bool))
    with pytest.raises(ValueError, match=r"pi must have shape \(3, 2\)"):
        maxent_forward_pass(mdp, np.full((2, 3), 1 / 3), 2)
    with pytest.raises(ValueError, match=r"pi must have shape \(2, 3, 2\)"):
        maxent_forward_pass(mdp, np.full((4, 3, 2), 0.5), 2)
    with pytest.raises(ValueError, match="mu sums to"):
        maxent_forward_pass(mdp, np.full((3, 2), 0.5), 2, mu=[0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"features must have shape \(3, K\)"):
        maxent_irl(mdp, np.zeros((3, 2, 1)), np.zeros(1), 2)
    with pytest.raises(ValueError, match=r"demonstrations must have shape \(2,\)"):
        maxent_irl(mdp, np.zeros((3, 2)), np.zeros(3), 2)
    with pytest.raises(TypeError, match="demonstrations must be a numeric array"):
        maxent_irl(mdp, np.zeros((3, 2)), "abc", 2)
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        maxent_log_likelihood_objective(mdp, np.zeros((3, 2)), np.zeros(2), 2, np.zeros(3))
    with pytest.raises(ValueError, match=r"weights0 must have shape \(2,\)"):
        maxent_irl(mdp, np.zeros((3, 2)), np.zeros(2), 2, weights0=[1.0])
    with pytest.raises(ValueError, match="tol == 0, must be in"):
        maxent_irl(mdp, np.zeros((3, 2)), np.zeros(2), 2, tol=0.0)
    with pytest.raises(ValueError, match="step_size == -1, must be in"):
        maxent_irl(mdp, np.zeros((3, 2)), np.zeros(2), 2, step_size=-1.0)
    with pytest.raises(ValueError, match="max_iter == 0, must be >= 1"):
        maxent_irl(mdp, np.zeros((3, 2)), np.zeros(2), 2, max_iter=0)
    with pytest.raises(ValueError, match=r"method must be one of \('gradient', 'lbfgs'\), got 'newton'"):
        maxent_irl(mdp, np.zeros((3, 2)), np.zeros(2), 2, method="newton")


def test_bad_demonstrations_raise_naming_the_argument():
    mdp = goal_chain()
    demos = Trajectories(states=[[0, 1, 2]], actions=[[1, 1]], rewards=[[0.0, 0.0]])
    phi = np.eye(4)
    with pytest.raises(ValueError, match="demonstrations must have horizon == horizon == 3"):
        maxent_irl(mdp, phi, demos, 3)
    with pytest.raises(ValueError, match="mu must be None when demonstrations are Trajectories"):
        maxent_irl(mdp, phi, demos, 2, mu=[1.0, 0, 0, 0])
    with pytest.raises(ValueError, match="demonstrations must end in terminal_states.*episode 0 ends in state 2"):
        maxent_irl(mdp, phi, demos, 2, terminal_states=[3])
    with pytest.raises(ValueError, match=r"demonstrations.states must lie in \[0, 3\]"):
        maxent_irl(mdp, phi, Trajectories([[0, 7]], [[0]], [[0.0]]), 1)
    with pytest.raises(ValueError, match="mu puts probability 1 on state 0, from which no path"):
        maxent_path_marginals(mdp, np.zeros(4), 2, terminal_states=[3], mu=[1.0, 0, 0, 0])
    with pytest.raises(ValueError, match="the start distribution puts probability 1 on state 0"):
        maxent_irl(mdp, phi, np.zeros(4), 2, terminal_states=[3], mu=[1.0, 0, 0, 0])


def test_lbfgs_alone_reaches_tol_on_an_ill_conditioned_concave_quadratic():
    """The L-BFGS stage by itself (without the gradient-ascent finish) reaches the optimum of a concave
    quadratic with condition number 1e4 in few iterations, its history non-decreasing (catches a wrapper
    that hands SciPy the wrong sign of the value or of the gradient, which the finish would hide)."""
    from tabular_rl.maxent_likelihood import _lbfgs_ascent

    rng = np.random.default_rng(0)
    Qm, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    Hm = Qm @ np.diag(np.logspace(0, 4, 6)) @ Qm.T
    c = rng.normal(size=6)

    def value_and_grad(w):
        d = w - c
        return -0.5 * d @ Hm @ d, -Hm @ d, None

    w, value, grad, _, values, norms, k = _lbfgs_ascent(value_and_grad, np.zeros(6), tol=1e-8, max_iter=200)
    assert np.linalg.norm(grad) <= 1e-8 and k <= 60
    np.testing.assert_allclose(w, c, atol=1e-10)
    assert np.all(np.diff(values) >= -1e-12 * (1 + np.abs(np.asarray(values[1:]))))
    assert len(values) == len(norms) == k + 1


def test_terminal_states_default_to_the_states_marked_terminal():
    """terminal_states=None uses the states marked with TabularMDP(..., terminal=...) (the paper's goal set), and
    keeps the all-paths model when the MDP marks none, even if P and R make a state absorbing with zero reward
    (MaxEnt's reward is separate; a zero R is often a placeholder). Catches the two concepts drifting apart, or
    a placeholder R silently switching the model."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = P[1, :, 1] = P[2, :, 2] = 1.0
    r = np.array([0.0, 0.5, 1.0])
    marked = TabularMDP(P, R=np.zeros(3), gamma=1.0, terminal=[1])
    np.testing.assert_array_equal(maxent_backward_pass(marked, r, 3),
                                  maxent_backward_pass(marked, r, 3, terminal_states=[1]))
    np.testing.assert_array_equal(maxent_backward_pass(marked, r, 3, terminal_states=np.ones(3, bool)),
                                  maxent_backward_pass(TabularMDP(P, R=np.ones(3), gamma=1.0), r, 3))
    unmarked = TabularMDP(P, R=np.zeros(3), gamma=1.0)
    assert list(unmarked.terminal) == [False, True, True]  # detected, but not marked
    np.testing.assert_array_equal(maxent_log_partition(unmarked, r, 3),
                                  maxent_log_partition(unmarked, r, 3, terminal_states=np.ones(3, bool)))


# ------------------------------------------------- dead ends and states the horizon cannot reach the goal from
@settings(max_examples=40)
@given(trs.mdps(min_states=2, max_states=4, max_actions=3), st.integers(1, 4), st.data())
def test_dead_ends_and_out_of_reach_states_match_enumeration(mdp, H, data):
    """Goal-directed MaxEnt on an MDP with a dead end (an absorbing state outside the goal set) and,
    typically, states from which no path of the remaining horizon reaches the goal: log Z from both the
    plain recursion (maxent_partition) and the fused kernel (maxent_backward_pass's policy) equals the
    log-sum over enumerated goal-reaching paths, -inf exactly where there is none; such states get the
    uniform policy; the path marginals from the live starts equal the enumerated model's and put no mass
    on a state at a step where its Z is 0; a start distribution on a dead state raises naming the first
    one. Catches Z = 1 left at non-goal states, -inf turned into NaN by a max-shift, mass leaking into
    dead ends, and any() replaced by all() in the reachability check.
    Tolerance: enumeration and recursion sum the same at most A^H (H + 1)-term path weights in different
    orders; 1e-12 (1 + H) covers their round-off at rewards in [-1, 1]."""
    S, A = mdp.shape
    P = mdp.todense().copy()
    dead = data.draw(st.integers(0, S - 1), label="dead end")
    P[dead] = np.eye(S)[dead]
    others = [s for s in range(S) if s != dead]
    goal = data.draw(st.lists(st.sampled_from(others), min_size=1, unique=True), label="goal")
    mdp = TabularMDP(P, np.zeros(S), 1.0, mu=np.full(S, 1.0 / S))
    r = data.draw(rewards_for(S))
    tol = 1e-12 * (1 + H)

    part = maxent_partition(mdp, r, H, terminal_states=goal)
    fused = maxent_backward_pass(mdp, r, H, terminal_states=goal)
    np.testing.assert_allclose(fused, part.policy, rtol=0, atol=tol)
    assert np.all(np.isneginf(part.log_Z[:, dead]))
    enum = np.full(S, -np.inf)
    model_paths = []
    for s0 in range(S):
        tr, w = paths_from(mdp, s0, H)
        ok = np.isin(tr.states[:, H], goal) & (w > 0)
        if ok.any():
            enum[s0] = logsumexp(path_return(r, tr, H)[ok] + np.log(w[ok]))
            model_paths.append((s0, tr.states[ok], np.exp(path_return(r, tr, H)[ok] + np.log(w[ok]) - enum[s0])))
    np.testing.assert_array_equal(np.isneginf(part.log_Z[0]), np.isneginf(enum))
    live = np.isfinite(enum)
    np.testing.assert_allclose(part.log_Z[0, live], enum[live], rtol=0, atol=tol)
    for t in range(H):
        out = np.isneginf(part.log_Z[t])
        np.testing.assert_allclose(part.policy[t, out], 1.0 / A, rtol=0, atol=1e-15)
        np.testing.assert_allclose(fused[t, out], 1.0 / A, rtol=0, atol=1e-15)

    if live.any():
        p0 = live / live.sum()
        D = maxent_path_marginals(mdp, r, H, terminal_states=goal, mu=p0)
        D_enum = np.zeros((H, S))
        for s0, states, prob in model_paths:
            for t in range(H):
                np.add.at(D_enum[t], states[:, t], p0[s0] * prob)
        np.testing.assert_allclose(D, D_enum, rtol=0, atol=tol)
        assert np.all(D[np.isneginf(part.log_Z[:H])] == 0.0)
    bad_starts = np.flatnonzero(~live)  # the dead end is always among them
    p_bad = np.full(S, 1.0 / S)
    with pytest.raises(ValueError, match=rf"mu puts probability \S+ on state {bad_starts[0]}, from which no path"):
        maxent_path_marginals(mdp, r, H, terminal_states=goal, mu=p_bad)


def test_irl_method_dispatch_reaches_the_same_optimum_through_the_named_optimiser(monkeypatch):
    """method="lbfgs" runs scipy's L-BFGS-B (exactly one minimize call), method="gradient" never calls it,
    and both stop at the same, known optimum theta0 (indicator features on a stochastic MDP: identifiable).
    Catches a dispatch that ignores method (or inverts the test), which the per-method convergence tests
    cannot see since both optimisers converge. Tolerance: both stop at ||grad L|| <= tol; with lam the
    smallest eigenvalue of -Hessian at theta0 (central differences of the exact gradient, about 0.1 here),
    ||w - theta0|| <= tol / lam near the optimum; we allow twice that for the Hessian's variation."""
    calls = count_minimize_calls(monkeypatch)
    mdp = chain(4, 3, seed=9)
    phi = np.eye(4)[:, 1:]
    w0 = np.array([0.8, -0.6, 0.3])
    H = 4
    f_tilde = maxent_path_marginals(mdp, phi @ w0, H).sum(axis=0) @ phi
    grad = lambda w: maxent_log_likelihood_gradient(mdp, phi, f_tilde, H, w)
    tol = 1e-11
    lam = concavity_modulus(grad, w0)
    assert lam > 1e-3
    for method, expected_calls in (("gradient", []), ("lbfgs", ["L-BFGS-B"])):
        calls.clear()
        res = maxent_irl(mdp, phi, f_tilde, H, tol=tol, max_iter=5000, method=method)
        assert calls == expected_calls, method
        assert res.converged
        assert np.linalg.norm(res.weights - w0) <= 2 * tol / lam, method


# ------------------------------------------------------------------ out= and O(SA) memory
def _grid_rewards(n=6, seed=0):
    from tabular_rl.gridworld import open_grid
    mdp = open_grid(n, slip=0.2, gamma=0.9)
    return mdp, np.random.default_rng(seed).standard_normal(mdp.n_states)


def test_backward_pass_out_memmap_is_filled_and_returned(tmp_path):
    # Catches: out ignored (a fresh array returned), or filled in a different time order.
    mdp, r = _grid_rewards()
    H = 5
    out = np.memmap(tmp_path / "pi.dat", dtype=np.float64, mode="w+", shape=(H,) + mdp.shape)
    got = maxent_backward_pass(mdp, r, H, out=out)
    assert got is out
    np.testing.assert_array_equal(np.asarray(out), maxent_backward_pass(mdp, r, H))
    out.flush()
    on_disk = np.fromfile(tmp_path / "pi.dat").reshape((H,) + mdp.shape)
    np.testing.assert_array_equal(on_disk, maxent_backward_pass(mdp, r, H))


@pytest.mark.parametrize("make, exc, match", [
    (lambda s: np.empty((s[0] + 1,) + s[1:]), ValueError, r"shape \(6, 36, 4\) \(expected \(5, 36, 4\)\)"),
    (lambda s: np.empty(s, dtype=np.float32), ValueError, r"dtype float32 \(expected float64\)"),
    (lambda s: np.empty(s[::-1]).T, ValueError, "non-C-contiguous"),
    (lambda s: np.lib.stride_tricks.as_strided(np.empty(s), writeable=False), ValueError, "read-only"),
    (lambda s: np.empty(s).tolist(), TypeError, "out must be a numpy.ndarray"),
])
def test_backward_pass_bad_out_is_named(make, exc, match):
    # Catches: a wrong out silently replaced by a fresh array, or written through a float32 cast.
    mdp, r = _grid_rewards()
    with pytest.raises(exc, match=match):
        maxent_backward_pass(mdp, r, 5, out=make((5,) + mdp.shape))


def test_stationary_backward_pass_keeps_one_buffer():
    # Catches: the stationary pass computing all H policies and returning the first (H S A doubles:
    # 32 GB at ten million states). Its result is pi_0 of the time-indexed pass, bit for bit.
    import tracemalloc
    mdp, r = _grid_rewards(n=20)
    H = 200
    expected = maxent_backward_pass(mdp, r, H)[0]
    tracemalloc.start()
    try:
        got = maxent_backward_pass_stationary(mdp, r, H)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(got, expected)
    assert peak < H * mdp.n_states * mdp.n_actions * 8 / 10
