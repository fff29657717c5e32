"""Inputs that cannot be misread: other libraries' layouts, ragged lists, low-precision
floats and complex numbers each get an answer or a message that says what to do."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import tabular_rl as trl
from tabular_rl import TabularMDP
from tabular_rl.converters import from_irl_maxent, from_pymdptoolbox

# ------------------------------------------------------------ action-first layouts


@given(st.integers(1, 4), st.integers(1, 4))
def test_action_first_array_is_refused_with_the_converter_named(S, A):
    """An (A, S, S) array with A != S is refused, naming from_pymdptoolbox and the
    transpose; catches a shape check that accepts it or a hint that names the wrong layout."""
    if A == S:
        return  # indistinguishable from (S, A, S): documented, see the next test
    P = np.full((A, S, S), 1.0 / S)
    with pytest.raises(ValueError, match=(
        rf"got shape \({A}, {S}, {S}\); the shape fits the action-first layout \(A, S, S\) = "
        rf"\({A}, {S}, {S}\) of pymdptoolbox .*from_pymdptoolbox\(P, R, gamma\) or pass "
        r"numpy.transpose\(P, \(1, 0, 2\)\)")):
        TabularMDP(P, np.zeros(S), 0.9)
    # The converter named in the message reads it correctly.
    mdp = from_pymdptoolbox(P, np.zeros(S), 0.9)
    assert mdp.shape == (S, A)


def test_action_first_square_array_is_read_state_first_and_the_converter_fixes_it():
    """With A == S the shapes coincide: TabularMDP reads P[s, a, s2] (as documented), which
    is a different MDP from the same numbers read P[a][s, s2]; from_pymdptoolbox gives the
    latter. Catches a converter that does not transpose."""
    rng = np.random.default_rng(0)
    P = rng.random((2, 2, 2))
    P /= P.sum(axis=2, keepdims=True)
    state_first = TabularMDP(P, np.zeros(2), 0.9)
    action_first = from_pymdptoolbox(P, np.zeros(2), 0.9)
    np.testing.assert_allclose(action_first.P, np.transpose(P, (1, 0, 2)), rtol=4e-16)
    assert not np.allclose(state_first.P, action_first.P)
    assert "cannot be told apart" in TabularMDP.__doc__


def test_irl_maxent_layout_is_refused_with_its_converter_named():
    """An (S, S, A) array (irl-maxent's p[s, s2, a]) with A != S is refused naming
    from_irl_maxent; catches a hint that always names pymdptoolbox."""
    p = np.full((3, 3, 2), 1.0 / 3)
    with pytest.raises(ValueError, match=r"got shape \(3, 3, 2\); the shape fits irl-maxent's layout "
                                         r"\(S, S, A\) = \(3, 3, 2\): use tabular_rl.converters.from_irl_maxent"):
        TabularMDP(p, np.zeros(3), 0.9)
    assert from_irl_maxent(p, np.zeros(3), 0.9).shape == (3, 2)


# ------------------------------------------------------------------- ragged lists


@pytest.mark.parametrize(
    "P, where, got, want",
    [
        ([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0]]], r"P\[1\]", "length 1", "length 2"),
        ([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0]]], r"P\[1\]\[1\]", "length 1", "length 2"),
        ([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], 1.0]], r"P\[1\]\[1\]", "a scalar", "length 2"),
    ],
)
def test_ragged_nested_list_names_the_first_index_where_lengths_differ(P, where, got, want):
    """A ragged P gets 'ragged' and the first index whose length differs from its first
    sibling's, at any depth; catches the old 'P must be array-like, got list' and an index
    search that stops at the top level."""
    with pytest.raises(ValueError, match=rf"P is a ragged nested sequence: {where} has {got} where its "
                                         rf"first sibling has {want}"):
        TabularMDP(P, [0.0, 0.0], 0.9)


def test_ragged_policy_and_distribution_are_named():
    """The same message for every array argument (it lives in the shared validation)."""
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), [0.0, 1.0], 0.9)
    with pytest.raises(ValueError, match=r"pi is a ragged nested sequence: pi\[1\] has length 1"):
        trl.policy_evaluation(mdp, [[0.5, 0.5], [1.0]])
    with pytest.raises(ValueError, match=r"mu is a ragged nested sequence: mu\[1\] has length 2 where its "
                                         r"first sibling has a scalar"):
        mdp.with_(mu=[1.0, [0.0, 0.0]])


# ------------------------------------------------------------ low-precision input


@given(st.integers(1, 40), st.integers(1, 3), st.integers(0, 2**32 - 1), st.booleans())
def test_float32_rows_within_their_round_off_are_accepted_and_renormalised(S, A, seed, sparse):
    """Probabilities rounded to float32 sum to 1 only within float32 round-off (up to
    n eps_32 for a row of n entries, far above the float64 tolerance 1e-8); they are
    accepted, converted to float64 and renormalised exactly. Catches a check that
    applies 1e-8 to float32 input (the old behaviour) or renormalises in float32."""
    rng = np.random.default_rng(seed)
    P64 = rng.random((S, A, S)) ** 4
    P64 /= P64.sum(axis=2, keepdims=True)
    P32 = P64.astype(np.float32)
    given = sp.csr_matrix(P32.reshape(S * A, S)) if sparse else P32
    mdp = TabularMDP(given, np.zeros(S), 0.9)
    P = mdp.todense()
    assert P.dtype == np.float64
    np.testing.assert_allclose(P.sum(axis=2), 1.0, rtol=0, atol=4 * S * np.finfo(float).eps)
    np.testing.assert_allclose(P, P64, rtol=S * np.finfo(np.float32).eps, atol=0)
    pi32 = np.full((S, A), 1.0 / A, dtype=np.float32)
    np.testing.assert_allclose(trl.policy_evaluation(mdp, pi32), 0.0)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_rows_beyond_their_round_off_name_the_dtype(sparse):
    """A float32 row that is off by more than float32 round-off is refused, and the message
    names the dtype and the tolerance used; a float64 row off by 1e-7 keeps the 1e-8 rule
    (catches a tolerance widened for every dtype)."""
    P = np.full((3, 1, 3), 0.33, dtype=np.float32)
    given = sp.csr_matrix(P.reshape(3, 3)) if sparse else P
    with pytest.raises(ValueError, match=r"sums to 0.99000\d*; each transition row must sum to 1 "
                                         r"\(tolerance 3.57628e-07 for float32 input\)"):
        TabularMDP(given, np.zeros(3), 0.9)
    P64 = np.full((3, 1, 3), 1.0 / 3)
    P64[2, 0, 1] += 1e-7
    with pytest.raises(ValueError, match=r"P\[2, 0, :\] sums to 1\.00000\d*; each transition row must sum to 1 "
                                         r"\(tolerance 1e-08\)$"):
        TabularMDP(P64, np.zeros(3), 0.9)
    with pytest.raises(ValueError, match=r"pi\[1, :\] sums to 0.5; each policy row must sum to 1 "
                                         r"\(tolerance 1.19209e-07 for float32 input\)"):
        trl.policy_evaluation(TabularMDP(np.full((2, 1, 2), 0.5), np.zeros(2), 0.9),
                              np.array([[1.0], [0.5]], dtype=np.float32))


# ---------------------------------------------------------------------- complex input


def _mdp():
    return TabularMDP(np.full((2, 2, 2), 0.5), [0.0, 1.0], 0.9)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: TabularMDP(np.full((2, 2, 2), 0.5), [0.0, 1.0], 0.9, mu=np.array([0.5, 0.5 + 1e-3j])), "mu"),
        (lambda: trl.policy_evaluation(_mdp(), np.full((2, 2), 0.5 + 0j)), "pi"),
        (lambda: trl.discounted_visitation(_mdp(), np.full((2, 2), 0.5), mu=np.array([0.5, 0.5 + 0j])), "mu"),
        (lambda: trl.policy_gradient(_mdp(), np.zeros((2, 2), complex)), "theta"),
        (lambda: trl.gae(np.array([1.0 + 1j, 0.0]), [0.0, 0.0, 0.0], 0.9, 0.9), "rewards"),
        (lambda: trl.gae([1.0, 0.0], np.array([0.0, 0.0, 1j]), 0.9, 0.9), "values"),
        (lambda: trl.ppo_clip_objective(np.array([1.0 + 1j]), [1.0], 0.2), "ratios"),
        (lambda: trl.ppo_clip_objective([1.0], np.array([1.0 + 0j]), 0.2), "advantages"),
        (lambda: trl.kl_divergence(np.array([0.5 + 1j, 0.5]), [0.5, 0.5]), "p"),
        (lambda: trl.greedy(np.zeros((2, 2), complex)), "Q"),
    ],
)
def test_complex_input_raises_type_error_naming_the_argument(call, name):
    """Complex arrays are refused with a TypeError naming the argument; catches NumPy's
    silent cast (only a ComplexWarning) that drops the imaginary part."""
    with pytest.raises(TypeError, match=rf"^{name} must be real, got dtype complex128 \(the imaginary part "
                                        r"would be dropped"):
        call()


def test_complex_step_functions_still_pass_complex_through():
    """softmax, softmax_objective, log_barrier_objective and finite_horizon_values are
    analytic in their argument and documented to pass complex-step perturbations through:
    the imaginary part of f(x + ih e) / h is the derivative (catches a blanket complex ban)."""
    mdp = _mdp()
    h = 1e-30
    theta = np.zeros((2, 2), complex)
    theta[1, 1] += 1j * h
    assert abs(trl.softmax(theta)[1, 1].imag / h - 0.25) < 1e-15
    d = trl.softmax_objective(mdp, theta).imag / h
    assert d == pytest.approx(trl.policy_gradient(mdp, np.zeros((2, 2)))[1, 1], rel=1e-12)
    assert np.iscomplexobj(trl.log_barrier_objective(mdp, theta, 0.1))
    ev = trl.finite_horizon_values(mdp, trl.softmax(theta), 3)
    assert np.iscomplexobj(ev.V)
