"""Tests for tabular_rl.policies: softmax family, greedy, epsilon-greedy, KL, TV, entropy."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import entropy, epsilon_greedy, greedy, kl_divergence, log_softmax, softmax, total_variation, uniform
from tabular_rl import strategies as trs

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


@given(shapes.flatmap(trs.logits), st.floats(-1e6, 1e6))
def test_softmax_is_a_distribution_and_shift_invariant(theta, c):
    """Rows sum to 1, entries in [0, 1], softmax(theta + c) = softmax(theta), and
    exp(log_softmax) = softmax (catches a missing max-shift or a sum over the wrong axis)."""
    pi = softmax(theta)
    assert pi.shape == theta.shape
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    assert np.all((pi >= 0) & (pi <= 1))
    np.testing.assert_allclose(softmax(theta + c), pi, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.exp(log_softmax(theta)), pi, rtol=0, atol=1e-14)
    np.testing.assert_allclose(log_softmax(theta), theta - np.log(np.sum(np.exp(theta), axis=-1, keepdims=True)),
                               rtol=0, atol=1e-12)


def test_softmax_is_stable_at_reward_scale_1e6():
    """Logits of 1e6 give finite, exact results without overflow warnings (catches
    exp(theta) taken before the shift)."""
    theta = np.array([[1e6, 0.0, -1e6], [1e6, 1e6, 1e6]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pi = softmax(theta)
        lp = log_softmax(theta)
    np.testing.assert_array_equal(pi[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(pi[1], 1 / 3, rtol=1e-15)
    np.testing.assert_array_equal(lp[0], [0.0, -1e6, -2e6])


@given(trs.logits((3, 4)), trs.logits((3, 4)))
def test_softmax_complex_step_derivative_matches_jacobian(theta, direction):
    """Complex-step directional derivative of softmax equals the analytic
    pi * (v - <pi, v>) (catches a max-shift that uses the complex part)."""
    h = 1e-30
    pi = softmax(theta)
    d_cs = softmax(theta + 1j * h * direction).imag / h
    d_an = pi * (direction - np.sum(pi * direction, axis=-1, keepdims=True))
    np.testing.assert_allclose(d_cs, d_an, rtol=0, atol=1e-13)


@given(st.integers(1, 6), st.integers(1, 5))
def test_uniform(S, A):
    pi = uniform(S, A)
    assert pi.shape == (S, A)
    np.testing.assert_allclose(pi, 1.0 / A)


@given(hnp.arrays(np.float64, (4, 3), elements=st.integers(-2, 2).map(float)), st.floats(0, 1))
def test_greedy_ties_lowest_index_and_epsilon_greedy_mixture(Q, eps):
    """greedy is one-hot on the lowest maximiser; epsilon_greedy = (1-eps) greedy + eps/A
    (catches ties going to the last index, or eps/(A-1) on the others)."""
    g = greedy(Q)
    np.testing.assert_array_equal(g.sum(axis=-1), 1.0)
    first = np.array([np.flatnonzero(row == row.max())[0] for row in Q])
    np.testing.assert_array_equal(np.argmax(g, axis=1), first)
    np.testing.assert_allclose(epsilon_greedy(Q, eps), (1 - eps) * g + eps / 3, rtol=0, atol=1e-15)
    np.testing.assert_allclose(epsilon_greedy(Q, eps).sum(axis=-1), 1.0, rtol=0, atol=1e-15)


def test_greedy_on_time_varying_q():
    """greedy acts on the last axis of (H, S, A) arrays (finite-horizon DP uses it)."""
    Q = np.array([[[0.0, 1.0]], [[2.0, 1.0]]])
    np.testing.assert_array_equal(greedy(Q), [[[0, 1]], [[1, 0]]])


@given(st.integers(1, 5).flatmap(lambda A: st.tuples(trs.distributions(A), trs.distributions(A))))
def test_divergences_nonnegative_symmetry_and_pinsker(pq):
    """KL >= 0 with KL(p||p) = 0, TV symmetric in [0, 1], TV <= sqrt(KL/2) in both directions
    (Pinsker; catches log(q/p) in place of log(p/q), or TV without the 1/2)."""
    p, q = pq
    kl_pq, kl_qp = kl_divergence(p, q), kl_divergence(q, p)
    tv = total_variation(p, q)
    assert kl_pq >= 0 and kl_qp >= 0  # round-off below 0 is returned as 0 (else sqrt below is NaN)
    assert abs(kl_divergence(p, p)) <= 1e-15
    assert tv == pytest.approx(total_variation(q, p), abs=1e-15)
    assert -1e-15 <= tv <= 1 + 1e-15
    assert tv == pytest.approx(0.5 * np.sum(np.abs(p - q)), abs=1e-15)
    for label, kl in (("pq", kl_pq), ("qp", kl_qp)):
        if np.isfinite(kl) and kl > 0:
            target(float(tv / np.sqrt(kl / 2)), label=label)
        assert tv <= np.sqrt(kl / 2) + 1e-12


def test_kl_direction_and_support_golden():
    """KL(p||q) uses p as the weighting distribution: KL([1,0]||[.5,.5]) = log 2 while
    KL([.5,.5]||[1,0]) = inf (catches the arguments swapped)."""
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2), abs=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    np.testing.assert_allclose(kl_divergence([[0.5, 0.5], [0.9, 0.1]], [[0.5, 0.5], [0.5, 0.5]]),
                               [0.0, 0.9 * np.log(1.8) + 0.1 * np.log(0.2)], rtol=1e-14)


@given(st.integers(1, 6).flatmap(lambda A: trs.distributions(A)))
def test_entropy_between_zero_and_log_a(p):
    """0 <= H(p) <= log A, maximal at uniform, 0 at one-hot, and H(p) = -sum p log p with
    0 log 0 = 0 (catches NaN from 0 log 0)."""
    A = p.shape[0]
    h = entropy(p)
    assert -1e-15 <= h <= np.log(A) + 1e-12
    nz = p > 0
    assert h == pytest.approx(-np.sum(p[nz] * np.log(p[nz])), abs=1e-14)
    assert entropy(np.full(A, 1 / A)) == pytest.approx(np.log(A), abs=1e-14)
    assert entropy(np.eye(A)[0]) == 0.0


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: softmax(1.0), ValueError, r"theta must have at least 1 dimension \(actions last\), got shape \(\)"),
        (lambda: softmax(np.ones((2, 0))), ValueError, r"theta must have at least one action on its last axis, got shape \(2, 0\)"),
        (lambda: log_softmax([0.0, np.nan]), ValueError, r"theta must be finite, got nan at index \(1,\)"),
        (lambda: log_softmax([["a"]]), TypeError, r"theta must be a numeric array, got dtype <U1"),
        (lambda: softmax(sp.csr_matrix(np.ones((2, 2)))), TypeError, r"theta must be a dense array-like, got a scipy.sparse"),
        (lambda: greedy([[0.0, np.inf]]), ValueError, r"Q must be finite, got inf at index \(0, 1\)"),
        (lambda: epsilon_greedy([[0.0, 1.0]], 1.5), ValueError, r"epsilon == 1.5, must be in \[0, 1\]"),
        (lambda: epsilon_greedy([[0.0, 1.0]], None), TypeError, r"epsilon must be a real number, got NoneType None"),
        (lambda: uniform(0, 2), ValueError, r"n_states == 0, must be >= 1"),
        (lambda: uniform(2, 2.5), TypeError, r"n_actions must be an integer, got float 2.5"),
        (lambda: kl_divergence([0.5, 0.5], [1.0]), ValueError, r"p and q must have the same shape \(\.\.\., A\), got \(2,\) and \(1,\)"),
        (lambda: kl_divergence(0.5, 0.5), ValueError, r"p and q must have the same shape \(\.\.\., A\), got \(\) and \(\)"),
        (lambda: kl_divergence([0.5, 0.6], [0.5, 0.5]), ValueError, r"p sums to 1.1; each distribution row must sum to 1"),
        (lambda: total_variation([0.5, 0.5], [[1.5, -0.5]]), ValueError, r"p and q must have the same shape"),
        (lambda: total_variation([0.5, 0.5], [1.5, -0.5]), ValueError, r"q must be non-negative, got -0.5 at index \(1,\)"),
        (lambda: total_variation([np.nan, 0.5], [0.5, 0.5]), ValueError, r"p must be finite, got nan at index \(0,\)"),
        (lambda: entropy([[0.5, 0.5], [0.5, 0.0]]), ValueError, r"pi\[1, :\] sums to 0.5"),
    ],
)
def test_policy_validation_messages(call, exc, match):
    """Each bad argument names itself and what was found (catches KL of unnormalised rows
    returned as a number)."""
    with pytest.raises(exc, match=match):
        call()


def test_kl_of_rows_equal_up_to_round_off_is_zero_not_negative():
    """Rows one ulp apart give a raw sum of -5.5e-17; KL is returned as 0, so Pinsker's
    sqrt(KL / 2) is 0, not NaN (catches the missing clip, found by a hypothesis seed)."""
    p = np.array([0.7125686563125986, 0.28743134368740136])
    q = np.array([0.7125686563125987, 0.2874313436874013])
    assert np.sum(p * (np.log(p) - np.log(q))) < 0  # the raw formula goes negative here
    assert kl_divergence(p, q) == 0.0
    assert np.sqrt(kl_divergence(p, q) / 2) == 0.0
