"""Tests for tabular_rl.sampling: rollouts against exact expectations (CLT bounds),
reproducibility, exact trajectory enumeration, Trajectories validation.

Monte Carlo checks use a seeded Generator, so each is deterministic under the CI profile. Means
of many episodes use a 5-standard-error bound (a chance failure has probability < 1e-6 per
check); counts that can be small use exact binomial tails instead, where a normal bound is wrong.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import binom
from hypothesis import given, settings
from hypothesis import strategies as st

from tabular_rl import (
    TabularMDP,
    Trajectories,
    discounted_returns,
    enumerate_trajectories,
    expected_return,
    finite_horizon_values,
    rollout,
    uniform,
)
from tabular_rl import strategies as trs
from helpers import twin



@st.composite
def mdp_and_policy(draw, **kwargs):
    mdp = draw(trs.mdps(**kwargs))
    return mdp, draw(trs.policies(mdp.n_states, mdp.n_actions))


@st.composite
def tv_policy(draw, S, A, H):
    return np.stack([draw(trs.policies(S, A)) for _ in range(H)]) if H else np.empty((0, S, A))


# ------------------------------------------------------------ Monte Carlo vs exact


def exact_return_std(mdp, pi, H):
    """Exact standard deviation of G = sum_{t<H} g^t r_t, from the backward recursion of the
    second moment M_t = sum_a pi_t [r^2 + 2 g r P V_{t+1} + g^2 P M_{t+1}].

    The CLT bound uses it rather than the sample SD: a start state of probability 1e-4
    that 4000 episodes never visit gives a sample SD of 0 but shifts the mean."""
    P, R, g = mdp.todense(), mdp.R, mdp.gamma
    V = np.zeros(mdp.n_states)
    M = np.zeros(mdp.n_states)
    for t in reversed(range(H)):
        pt = pi if pi.ndim == 2 else pi[t]
        PV, PM = np.einsum("sat,t->sa", P, V), np.einsum("sat,t->sa", P, M)
        M = np.einsum("sa,sa->s", pt, R**2 + 2 * g * R * PV + g**2 * PM)
        V = np.einsum("sa,sa->s", pt, R + g * PV)
    return float(np.sqrt(max(mdp.mu @ M - (mdp.mu @ V) ** 2, 0.0)))


@settings(max_examples=25)
@given(mdp_and_policy(gamma=trs.gammas(max_value=0.9)), st.integers(0, 2**32 - 1))
def test_monte_carlo_return_within_clt_bound_of_expected_return(case, seed):
    """The mean discounted return of 4000 seeded episodes of H = 80 steps lies within 5
    standard errors of finite_horizon_values J, and within 5 SE + g^H Rmax/(1-g) (the
    truncation bias) of expected_return (catches rewards recorded at s_{t+1}, or gamma^t
    applied from t = 1)."""
    mdp, pi = case
    N, H = 4000, 80
    traj = rollout(mdp, pi, N, H, rng=np.random.default_rng(seed))
    G = discounted_returns(traj, mdp.gamma)
    se = exact_return_std(mdp, pi, H) / np.sqrt(N)
    Rmax = float(np.max(np.abs(mdp.R)))
    J_H = finite_horizon_values(mdp, pi, H).J
    assert abs(G.mean() - J_H) <= 5 * se + 1e-12 * (1 + Rmax) * H
    bias = mdp.gamma**H * Rmax / (1 - mdp.gamma)
    assert abs(G.mean() - expected_return(mdp, pi)) <= 5 * se + bias + 1e-10 * (1 + Rmax) * H


@settings(max_examples=20)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(0, 2**32 - 1), st.data())
def test_first_step_frequencies_match_p0_pi_and_p(mdp, seed, data):
    """Empirical counts of s_0, of a_0 given s_0 and of s_1 given (s_0, a_0) are not in a binomial
    tail of probability below 1e-7 under p0, pi and P, and zero-probability events never occur
    (catches an off-by-one in the inverse-CDF sampler, or row a*S + s read for s*A + a).

    The tails are exact (``scipy.stats.binom``): a pair (s, a) can be drawn only a few times,
    where "5 standard errors" fails on any rare event (one draw of a 1.7% successor is 0.98 from
    its probability, 7.5 standard errors; ``--hypothesis-seed=10017`` found it). With about 1,300
    counts checked per run, a correct sampler fails a run with probability below 3e-4."""
    S, A = mdp.shape
    pi = data.draw(trs.policies(S, A, deterministic=False))
    p0 = data.draw(trs.distributions(S))
    N = 20000
    traj = rollout(mdp, pi, N, 1, rng=np.random.default_rng(seed), mu=p0)
    s0, a0, s1 = traj.states[:, 0], traj.actions[:, 0], traj.states[:, 1]
    P = mdp.todense()

    def check(counts, probs, n):
        if n == 0:
            return
        assert np.all(counts[probs == 0] == 0)
        probs = np.clip(probs, 0.0, 1.0)
        at_most = binom.cdf(counts, n, probs)        # P(X <= k)
        at_least = binom.sf(counts - 1, n, probs)    # P(X >= k)
        assert np.all(at_most >= 1e-7) and np.all(at_least >= 1e-7), (counts, n, probs)

    check(np.bincount(s0, minlength=S), p0, N)
    for s in range(S):
        at_s = s0 == s
        check(np.bincount(a0[at_s], minlength=A), pi[s], at_s.sum())
        for a in range(A):
            sa = at_s & (a0 == a)
            check(np.bincount(s1[sa], minlength=S), P[s, a], sa.sum())


@given(mdp_and_policy(), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_rollout_is_reproducible_and_layout_independent(case, H, seed):
    """The same seed gives identical trajectories, for the dense and the sparse layout of
    one MDP (catches hidden global random state, or a layout-specific sampler)."""
    mdp, pi = case
    a = rollout(mdp, pi, 50, H, rng=np.random.default_rng(seed))
    b = rollout(mdp, pi, 50, H, rng=np.random.default_rng(seed))
    c = rollout(twin(mdp), pi, 50, H, rng=np.random.default_rng(seed))
    for other in (b, c):
        np.testing.assert_array_equal(a.states, other.states)
        np.testing.assert_array_equal(a.actions, other.actions)
        np.testing.assert_array_equal(a.rewards, other.rewards)


@given(mdp_and_policy(), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_rollout_shapes_rewards_and_support(case, H, seed):
    """Shapes (N, H+1), (N, H), (N, H); r_t = r(s_t, a_t); every step has positive
    probability under pi and P (catches r_t read at s_{t+1})."""
    mdp, pi = case
    N = 30
    tr = rollout(mdp, pi, N, H, rng=np.random.default_rng(seed))
    assert tr.states.shape == (N, H + 1) and tr.actions.shape == (N, H) and tr.rewards.shape == (N, H)
    assert tr.n_episodes == N and tr.horizon == H
    tr.check_against(mdp)
    np.testing.assert_array_equal(tr.rewards, mdp.R[tr.states[:, :-1], tr.actions])
    P = mdp.todense()
    assert np.all(mdp.mu[tr.states[:, 0]] > 0)
    assert np.all(pi[tr.states[:, :-1], tr.actions] > 0)
    assert np.all(P[tr.states[:, :-1], tr.actions, tr.states[:, 1:]] > 0)


@given(trs.mdps(), st.integers(1, 5), st.integers(0, 2**32 - 1), st.data())
def test_rollout_follows_a_time_varying_policy(mdp, H, seed, data):
    """With a deterministic (H, S, A) policy, a_t is pi_t's action at s_t for each t
    (catches pi[0] used at every step)."""
    S, A = mdp.shape
    pis = np.stack([data.draw(trs.deterministic_policies(S, A)) for _ in range(H)])
    tr = rollout(mdp, pis, 40, H, rng=np.random.default_rng(seed))
    for t in range(H):
        np.testing.assert_array_equal(tr.actions[:, t], np.argmax(pis[t][tr.states[:, t]], axis=1))


@settings(max_examples=10)
@given(mdp_and_policy(max_states=3, max_actions=2, gamma=trs.gammas(max_value=1.0)), st.integers(1, 3),
       st.integers(0, 2**32 - 1))
def test_time_varying_monte_carlo_matches_finite_horizon_values(case, H, seed):
    """Rollouts of a time-varying policy agree with finite_horizon_values within 5 SE, any
    gamma in [0, 1] (catches the time index of pi ignored by rollout or evaluation)."""
    mdp, pi0 = case
    S, A = mdp.shape
    pis = np.stack([pi0, uniform(S, A), np.eye(A)[np.zeros(S, dtype=int)]])[:H]
    tr = rollout(mdp, pis, 4000, H, rng=np.random.default_rng(seed))
    G = discounted_returns(tr, mdp.gamma)
    se = exact_return_std(mdp, pis, H) / np.sqrt(4000)
    assert abs(G.mean() - finite_horizon_values(mdp, pis, H).J) <= 5 * se + 1e-12


@settings(max_examples=30)
@given(mdp_and_policy(max_states=3, max_actions=2, gamma=trs.gammas(max_value=1.0)), st.integers(0, 4))
def test_exact_return_std_helper_matches_enumeration(case, H):
    """The test-side variance recursion equals the variance over enumerated trajectories
    (so the CLT bounds above use the right standard error)."""
    mdp, pi = case
    tr, p = enumerate_trajectories(mdp, pi, H)
    G = discounted_returns(tr, mdp.gamma)
    var = p @ (G - p @ G) ** 2
    assert abs(exact_return_std(mdp, pi, H) ** 2 - var) <= 1e-10 * (1 + H) ** 2


# ------------------------------------------------------------- exact enumeration


@settings(max_examples=40)
@given(trs.mdps(max_states=3, max_actions=2, gamma=trs.gammas(max_value=1.0)), st.integers(0, 4), st.booleans(),
       st.data())
def test_enumeration_is_an_exact_distribution_over_trajectories(mdp, H, time_varying, data):
    """Probabilities are positive, sum to 1, each equals p0(s_0) prod pi_t(a_t|s_t)
    P(s_{t+1}|s_t,a_t), trajectories are distinct, E[G] = finite_horizon_values J and the
    state marginals are d_t (catches a missing branch or a probability missing pi)."""
    S, A = mdp.shape
    pi = data.draw(tv_policy(S, A, H)) if time_varying else data.draw(trs.policies(S, A))
    tr, p = enumerate_trajectories(mdp, pi, H)
    assert np.all(p > 0) and abs(p.sum() - 1) <= 1e-12
    assert len({tuple(s) + tuple(a) for s, a in zip(tr.states, tr.actions)}) == tr.n_episodes
    P = mdp.todense()
    expect = mdp.mu[tr.states[:, 0]].copy()
    for t in range(H):
        pt = pi if pi.ndim == 2 else pi[t]
        expect *= pt[tr.states[:, t], tr.actions[:, t]] * P[tr.states[:, t], tr.actions[:, t], tr.states[:, t + 1]]
    np.testing.assert_allclose(p, expect, rtol=1e-12, atol=0)
    fh = finite_horizon_values(mdp, pi, H)
    Rmax = float(np.max(np.abs(mdp.R)))
    assert abs(p @ discounted_returns(tr, mdp.gamma) - fh.J) <= 1e-12 * (1 + Rmax) * max(H, 1)
    for t in range(H):
        np.testing.assert_allclose(np.bincount(tr.states[:, t], weights=p, minlength=S), fh.d[t], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(tr.rewards, mdp.R[tr.states[:, :-1], tr.actions])


@settings(max_examples=30)
@given(mdp_and_policy(max_states=3, max_actions=2), st.integers(0, 3), st.data())
def test_enumeration_p0_and_layouts(case, H, data):
    """mu= overrides mdp.mu, and dense and sparse layouts enumerate the same trajectories
    with the same probabilities."""
    mdp, pi = case
    p0 = data.draw(trs.distributions(mdp.n_states))
    tr, p = enumerate_trajectories(mdp, pi, H, mu=p0)
    assert set(tr.states[:, 0]) == set(np.flatnonzero(p0 > 0))
    tr2, p2 = enumerate_trajectories(twin(mdp), pi, H, mu=p0)
    np.testing.assert_array_equal(tr.states, tr2.states)
    np.testing.assert_allclose(p, p2, rtol=1e-14, atol=0)
    assert abs(p @ discounted_returns(tr, mdp.gamma) - finite_horizon_values(mdp, pi, H, mu=p0).J) <= 1e-12 * max(H, 1) * (
        1 + np.max(np.abs(mdp.R)))


def test_enumeration_refuses_more_than_max_trajectories():
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), R=[0.0, 1.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"would build 8 trajectories at step 1, more than max_trajectories=5"):
        enumerate_trajectories(mdp, uniform(2, 2), 3, max_trajectories=5)
    with pytest.raises(ValueError, match=r"max_trajectories == 0, must be >= 1"):
        enumerate_trajectories(mdp, uniform(2, 2), 3, max_trajectories=0)


# ------------------------------------------------------------------- Trajectories


def test_discounted_returns_golden():
    """G = sum_t gamma^t r_t from t = 0 (catches discounting from t = 1)."""
    tr = Trajectories(states=[[0, 0, 0, 0], [0, 0, 0, 0]], actions=[[0, 0, 0]] * 2, rewards=[[1.0, 2.0, 4.0], [0, 0, 1.0]])
    np.testing.assert_allclose(discounted_returns(tr, 0.5), [3.0, 0.25])
    np.testing.assert_allclose(discounted_returns(tr, 0.0), [1.0, 0.0])
    np.testing.assert_allclose(discounted_returns(tr, 1.0), [7.0, 1.0])


def test_trajectories_arrays_are_read_only_copies():
    states = np.array([[0, 1, 1]])
    tr = Trajectories(states=states, actions=[[1, 0]], rewards=[[0.0, 1.0]])
    states[0, 0] = 5
    assert tr.states[0, 0] == 0
    for arr in (tr.states, tr.actions, tr.rewards):
        with pytest.raises(ValueError, match="read-only"):
            arr[0, 0] = 1


@pytest.fixture
def mdp2():
    return TabularMDP(np.full((2, 3, 2), 0.5), R=np.zeros((2, 3)), gamma=0.9)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda m: rollout(m, uniform(2, 3), 5, 2, rng=0), TypeError,
         r"rng must be a numpy.random.Generator \(e.g. numpy.random.default_rng\(0\)\), got int"),
        (lambda m: rollout(m, uniform(2, 3), 5, 2, rng=np.random.RandomState(0)), TypeError, r"rng must be a numpy.random.Generator.*got RandomState"),
        (lambda m: rollout(m, uniform(2, 3), 0, 2, rng=np.random.default_rng(0)), ValueError, r"n_episodes == 0, must be >= 1"),
        (lambda m: rollout(m, uniform(2, 3), 5.0, 2, rng=np.random.default_rng(0)), TypeError, r"n_episodes must be an integer, got float 5.0"),
        (lambda m: rollout(m, uniform(2, 3), 5, -1, rng=np.random.default_rng(0)), ValueError, r"horizon == -1, must be >= 0"),
        (lambda m: rollout(m, uniform(3, 2), 5, 2, rng=np.random.default_rng(0)), ValueError, r"pi must have shape \(2, 3\) to match the MDP, got \(3, 2\)"),
        (lambda m: rollout(m, np.ones((3, 2, 3)) / 3, 5, 2, rng=np.random.default_rng(0)), ValueError,
         r"pi must have shape \(2, 2, 3\) \(a time-varying policy for horizon 2\), got \(3, 2, 3\)"),
        (lambda m: rollout(m, uniform(2, 3), 5, 2, rng=np.random.default_rng(0), mu=[0.5, 0.6]), ValueError, r"mu sums to 1.1"),
        (lambda m: enumerate_trajectories(m, uniform(2, 3), 2, mu=[1.0]), ValueError, r"mu must have shape \(2,\), got \(1,\)"),
        (lambda m: enumerate_trajectories(m, uniform(2, 3), "2"), TypeError, r"horizon must be an integer, got str '2'"),
        (lambda m: enumerate_trajectories(m, -uniform(2, 3), 2), ValueError, r"pi must be non-negative"),
        (lambda m: discounted_returns(Trajectories([[0, 1]], [[0]], [[1.0]]), 1.5), ValueError, r"gamma == 1.5, must be in \[0, 1\]"),
        (lambda m: Trajectories([[0.0, 1.0]], [[0]], [[1.0]]), TypeError, r"states must be an integer array, got dtype float64"),
        (lambda m: Trajectories([[0, 1]], [[True]], [[1.0]]), TypeError, r"actions must be an integer array, got dtype bool"),
        (lambda m: Trajectories([[0, 1]], [[0]], [["a"]]), TypeError, r"rewards must be a numeric array, got dtype <U1"),
        (lambda m: Trajectories([0, 1], [[0]], [[1.0]]), ValueError, r"states must have shape \(N, H\+1\) with H\+1 >= 1, got \(2,\)"),
        (lambda m: Trajectories(np.zeros((1, 0), dtype=int), np.zeros((1, 0), dtype=int), np.zeros((1, 0))), ValueError,
         r"states must have shape \(N, H\+1\) with H\+1 >= 1, got \(1, 0\)"),
        (lambda m: Trajectories([[0, 1, 1]], [[0]], [[1.0]]), ValueError, r"actions must have shape \(1, 2\) \(one fewer column than states\), got \(1, 1\)"),
        (lambda m: Trajectories([[0, 1]], [[0]], [[1.0, 2.0]]), ValueError, r"rewards must have shape \(1, 1\) \(same as actions\), got \(1, 2\)"),
        (lambda m: Trajectories([[0, 1]], [[0]], [[np.nan]]), ValueError, r"rewards must be finite, got nan at index \(0, 0\)"),
        (lambda m: Trajectories([[0, 2]], [[0]], [[1.0]]).check_against(m), ValueError,
         r"trajectories.states must lie in \[0, 1\], got 2 at index \(0, 1\)"),
        (lambda m: Trajectories([[0, -1]], [[0]], [[1.0]]).check_against(m), ValueError,
         r"trajectories.states must lie in \[0, 1\], got -1 at index \(0, 1\)"),
        (lambda m: Trajectories([[0, 1]], [[3]], [[1.0]]).check_against(m, name="expert"), ValueError,
         r"expert.actions must lie in \[0, 2\], got 3 at index \(0, 0\)"),
    ],
)
def test_sampling_validation_messages(mdp2, call, exc, match):
    """Every bad argument names itself and what was found (catches a legacy RandomState or
    an int seed silently accepted, and out-of-range indices that would wrap around)."""
    with pytest.raises(exc, match=match):
        call(mdp2)


def test_large_sparse_rollout_initial_draw():
    """Drawing s_0 for many episodes over many states needs no (N, S) array: 2000 episodes
    on 500,000 states finish and land only on states with p0 > 0 (catches a broadcast
    cumulative sum of p0 per episode, 8 GB here)."""
    S = 500_000
    P = sp.csr_matrix((np.ones(S), np.arange(S), np.arange(S + 1)), shape=(S, S))  # stay put, A = 1
    mu = np.zeros(S)
    mu[[7, S - 1]] = [0.25, 0.75]
    mdp = TabularMDP(P, np.zeros(S), 0.9, mu=mu)
    tr = rollout(mdp, np.ones((S, 1)), 2000, 1, rng=np.random.default_rng(0))
    assert set(np.unique(tr.states[:, 0])) == {7, S - 1}
    np.testing.assert_array_equal(tr.states[:, 1], tr.states[:, 0])
