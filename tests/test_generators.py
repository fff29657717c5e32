"""Tests for tabular_rl.generators: Garnet, chain and deterministic MDPs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabular_rl import bellman_residual, policy_evaluation, policy_iteration, uniform
from tabular_rl.generators import chain_mdp, deterministic_mdp, garnet


@settings(max_examples=30)
@given(S=st.integers(1, 8), A=st.integers(1, 4), data=st.data(), seed=st.integers(0, 2**32 - 1),
       sparse=st.booleans())
def test_garnet_rows_have_exactly_branching_distinct_successors(S, A, data, seed, sparse):
    """Catches repeated successors (a non-uniform subset sampler), rows not on the simplex,
    and rewards outside [0, 1)."""
    b = data.draw(st.integers(1, S))
    mdp = garnet(S, A, b, rng=np.random.default_rng(seed), sparse=sparse)
    P = mdp.todense()
    assert mdp.is_sparse == sparse
    np.testing.assert_array_equal((P > 0).sum(axis=2), b)
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-14)
    assert np.all((mdp.R >= 0) & (mdp.R < 1))
    np.testing.assert_allclose(mdp.mu, 1.0 / S)


def test_garnet_is_reproducible_and_dense_equals_sparse():
    """Same seed, same MDP (dense or sparse); another seed, another MDP: no hidden global state."""
    a = garnet(20, 3, 4, rng=np.random.default_rng(7))
    b = garnet(20, 3, 4, rng=np.random.default_rng(7), sparse=False)
    c = garnet(20, 3, 4, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a.todense(), b.todense())
    np.testing.assert_array_equal(a.R, b.R)
    assert not np.array_equal(a.todense(), c.todense())


def test_garnet_successor_subsets_are_uniform():
    """Floyd's algorithm gives every 2-subset of 4 states probability 1/6 (chi-square-sized check,
    5 standard errors), and the probability split is uniform on the simplex (mean 1/2 for b = 2)."""
    n = 60_000
    mdp = garnet(4, n // 4, 2, rng=np.random.default_rng(3))
    P = mdp.todense().reshape(-1, 4)
    support = P > 0
    codes = support @ (2 ** np.arange(4))
    counts = np.bincount(codes, minlength=16)[[3, 5, 6, 9, 10, 12]]
    se = np.sqrt(n * (1 / 6) * (5 / 6))
    assert np.all(np.abs(counts - n / 6) < 5 * se)
    first = P[np.arange(n), np.argmax(support, axis=1)]
    assert abs(first.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)


def test_garnet_large_sparse_without_dense():
    """65,536 states x 2 actions, branching 3: stored entries exactly S*A*b."""
    mdp = garnet(65_536, 2, 3, rng=np.random.default_rng(0))
    assert mdp.is_sparse and mdp.nnz == 65_536 * 2 * 3


@pytest.mark.parametrize("sparse", [True, False])
def test_chain_values_closed_form(sparse):
    """Without slip V*(s) = gamma^(S-1-s) / (1 - gamma): catches an off-by-one at the ends."""
    g = 0.8
    mdp = chain_mdp(6, gamma=g, sparse=sparse)
    V = policy_iteration(mdp).V
    np.testing.assert_allclose(V, g ** (5 - np.arange(6)) / (1 - g), rtol=1e-12)
    assert mdp.is_sparse == sparse


@settings(max_examples=30)
@given(S=st.integers(1, 7), slip=st.floats(0, 1), sparse=st.booleans())
def test_chain_transitions_match_definition(S, slip, sparse):
    """Right goes right w.p. 1 - slip and left w.p. slip (reflecting ends); left mirrors it."""
    mdp = chain_mdp(S, slip=slip, left_reward=0.5, right_reward=2.0, sparse=sparse)
    P_ref = np.zeros((S, 2, S))
    for s in range(S):
        lo, hi = max(s - 1, 0), min(s + 1, S - 1)
        P_ref[s, 0, lo] += 1 - slip
        P_ref[s, 0, hi] += slip
        P_ref[s, 1, hi] += 1 - slip
        P_ref[s, 1, lo] += slip
    np.testing.assert_allclose(mdp.todense(), P_ref, atol=1e-15)
    R_ref = np.zeros((S, 2))
    R_ref[0] += 0.5
    R_ref[-1] += 2.0
    np.testing.assert_array_equal(mdp.R, R_ref)
    assert mdp.mu[0] == 1.0


@settings(max_examples=30)
@given(data=st.data(), S=st.integers(1, 6), A=st.integers(1, 4), sparse=st.booleans())
def test_deterministic_mdp_is_one_hot_and_evaluates(data, S, A, sparse):
    """P[s, a] is the one-hot of next_state[s, a]; V satisfies the Bellman identity."""
    nxt = np.array(data.draw(st.lists(st.lists(st.integers(0, S - 1), min_size=A, max_size=A),
                                      min_size=S, max_size=S)))
    R = np.arange(S * A, dtype=float).reshape(S, A) / (S * A)
    mdp = deterministic_mdp(nxt, R, 0.9, sparse=sparse)
    np.testing.assert_array_equal(mdp.todense(), np.eye(S)[nxt])
    assert mdp.nnz == (S * A if sparse else S * A * S)
    pi = uniform(S, A)
    V = policy_evaluation(mdp, pi)
    assert np.max(np.abs(bellman_residual(mdp, pi, V))) <= 1e-10 * 2 * 10


def test_generator_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        garnet(3, 2, 1, rng=0)
    with pytest.raises(ValueError, match=r"branching == 4, must be <= 3"):
        garnet(3, 2, 4, rng=rng)
    with pytest.raises(ValueError, match=r"n_states == 0, must be >= 1"):
        garnet(0, 2, 1, rng=rng)
    with pytest.raises(TypeError, match=r"n_actions must be an integer"):
        garnet(3, 2.0, 1, rng=rng)
    with pytest.raises(ValueError, match=r"slip == 2, must be in \[0, 1\]"):
        chain_mdp(3, slip=2.0)
    with pytest.raises(ValueError, match=r"right_reward must be finite"):
        chain_mdp(3, right_reward=np.nan)
    with pytest.raises(ValueError, match=r"next_state entries must be states in \[0, 2\), got next_state\[1, 0\] == 2"):
        deterministic_mdp([[0], [2]], R=[0.0, 0.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"next_state entries must be states in \[0, 2\), got next_state\[0, 0\] == -1"):
        deterministic_mdp([[-1], [0]], R=[0.0, 0.0], gamma=0.9)
    with pytest.raises(TypeError, match=r"next_state must be an integer array of shape \(S, A\), got dtype float64"):
        deterministic_mdp([[0.0], [1.0]], R=[0.0, 0.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"next_state must have shape \(S, A\) with S, A >= 1, got shape \(2,\)"):
        deterministic_mdp([0, 1], R=[0.0, 0.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"R must have shape"):
        deterministic_mdp([[0], [1]], R=[0.0, 0.0, 0.0], gamma=0.9)
