"""Tests for tabular_rl.mdp: validation (every message), reward reduction, the two
primitives in both layouts, read-only arrays, and that a sparse MDP is never densified."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import (
    TabularMDP,
    discounted_visitation,
    evaluate,
    finite_horizon_values,
    policy_evaluation,
    state_distributions,
    uniform,
)
from tabular_rl import strategies as trs
from helpers import twin



def flat(P):
    S, A, _ = P.shape
    return sp.csr_matrix(P.reshape(S * A, S))


P2 = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.0, 1.0], [0.25, 0.75]]])  # S = 2, A = 2


# ----------------------------------------------------------------- primitives


@given(trs.mdps(), st.data())
def test_primitives_match_einsum_in_both_layouts(mdp, data):
    """expected_next (vector and matrix V), push_forward, transition_matrix and
    reward_vector equal their einsum definitions on the dense array, in both layouts
    (catches P V computed as V P, or row s*A + a read as a*S + s)."""
    S, A = mdp.shape
    P = mdp.todense()
    V = data.draw(hnp.arrays(np.float64, (S,), elements=st.floats(-10, 10)))
    VK = data.draw(hnp.arrays(np.float64, (S, 2), elements=st.floats(-10, 10)))
    x = data.draw(hnp.arrays(np.float64, (S, A), elements=st.floats(0, 1)))
    pi = data.draw(trs.policies(S, A))
    for m in (mdp, twin(mdp)):
        np.testing.assert_allclose(m.expected_next(V), np.einsum("sat,t->sa", P, V), rtol=0, atol=1e-12)
        np.testing.assert_allclose(m.expected_next(VK), np.einsum("sat,tk->sak", P, VK), rtol=0, atol=1e-12)
        np.testing.assert_allclose(m.push_forward(x), np.einsum("sa,sat->t", x, P), rtol=0, atol=1e-12)
        P_pi = m.transition_matrix(pi)
        assert sp.issparse(P_pi) == m.is_sparse
        P_pi = P_pi.toarray() if sp.issparse(P_pi) else P_pi
        np.testing.assert_allclose(P_pi, np.einsum("sa,sat->st", pi, P), rtol=0, atol=1e-14)
        np.testing.assert_allclose(P_pi.sum(axis=1), 1.0, rtol=0, atol=1e-14)
        np.testing.assert_allclose(m.reward_vector(pi), np.einsum("sa,sa->s", pi, mdp.R), rtol=0, atol=1e-14)


@given(trs.mdps())
def test_transition_rows_sum_to_one_and_attributes_are_consistent(mdp):
    """After construction every row sums to 1 to round-off, shape/nnz/n_states agree, and
    the layout is the one given (catches a sparse P silently stored dense)."""
    S, A = mdp.shape
    assert (mdp.n_states, mdp.n_actions) == (S, A)
    assert mdp.R.shape == (S, A) and mdp.mu.shape == (S,)
    np.testing.assert_allclose(mdp.todense().sum(axis=2), 1.0, rtol=0, atol=1e-14)
    if mdp.is_sparse:
        assert sp.issparse(mdp.P) and mdp.P.shape == (S * A, S) and mdp.nnz == mdp.P.nnz
        assert np.all(mdp.P.data > 0)  # explicit zeros removed
    else:
        assert isinstance(mdp.P, np.ndarray) and mdp.P.shape == (S, A, S) and mdp.nnz == S * A * S
    assert "TabularMDP(n_states=" in repr(mdp)


# ---------------------------------------------------------------- rewards


@given(trs.mdps(reward_shape="state_action"), st.data())
def test_reward_shapes_reduce_to_expected_reward(mdp, data):
    """R given as (S,), (S, A), (S, A, S) dense, or sparse (S*A, S) with sparse P all give
    r(s, a) = sum_s2 P(s2|s,a) R(s,a,s2), in both layouts (catches R(s,a,s2) summed
    without the P weights, or indexed by the wrong axis)."""
    S, A = mdp.shape
    P = mdp.todense()
    R3 = data.draw(hnp.arrays(np.float64, (S, A, S), elements=st.floats(-1, 1)))
    Rs = data.draw(hnp.arrays(np.float64, (S,), elements=st.floats(-1, 1)))
    expect3 = np.einsum("sat,sat->sa", P, R3)
    for m in (mdp, twin(mdp)):
        np.testing.assert_allclose(TabularMDP(m.P, R3, m.gamma).R, expect3, rtol=0, atol=1e-14)
        np.testing.assert_allclose(TabularMDP(m.P, Rs, m.gamma).R, np.repeat(Rs[:, None], A, axis=1), rtol=0, atol=0)
        np.testing.assert_allclose(m.with_(R=R3).R, expect3, rtol=0, atol=1e-14)
    sparse = mdp if mdp.is_sparse else twin(mdp)
    R_sp = sp.csr_matrix(R3.reshape(S * A, S))
    np.testing.assert_allclose(TabularMDP(sparse.P, R_sp, mdp.gamma).R, expect3, rtol=0, atol=1e-14)
    np.testing.assert_allclose(TabularMDP(sparse.P, sp.coo_array(R_sp), mdp.gamma).R, expect3, rtol=0, atol=1e-14)


def test_with_replaces_fields_and_shares_transitions():
    """with_ replaces R, gamma, mu (validated) and leaves the original untouched."""
    mdp = TabularMDP(P2, R=[0.0, 1.0], gamma=0.5)
    new = mdp.with_(R=[[1.0, 2.0], [3.0, 4.0]], gamma=0.7, mu=[1.0, 0.0])
    assert new.P is mdp.P and new.gamma == 0.7
    np.testing.assert_array_equal(new.mu, [1.0, 0.0])
    np.testing.assert_array_equal(mdp.R, [[0.0, 0.0], [1.0, 1.0]])
    assert mdp.gamma == 0.5
    with pytest.raises(ValueError, match=r"gamma == 2, must be in \[0, 1\]"):
        mdp.with_(gamma=2.0)
    with pytest.raises(ValueError, match=r"mu sums to 2.0"):
        mdp.with_(mu=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"R must have shape \(2,\), \(2, 2\) or \(2, 2, 2\)"):
        mdp.with_(R=[1.0])


def test_default_mu_is_uniform():
    np.testing.assert_array_equal(TabularMDP(P2, R=[0.0, 1.0], gamma=0.5).mu, [0.5, 0.5])


# ------------------------------------------------------- input formats, tolerance


def test_sparse_formats_duplicates_and_explicit_zeros():
    """Any scipy.sparse format is accepted (coo, csc, csr_array, lil); duplicate entries are
    added; explicit zeros dropped (catches duplicates overwritten instead of summed)."""
    ref = TabularMDP(P2, R=[0.0, 1.0], gamma=0.5)
    rows = [0, 0, 0, 1, 2, 3, 3, 3]
    cols = [0, 1, 1, 0, 1, 0, 1, 1]
    vals = [0.5, 0.25, 0.25, 1.0, 1.0, 0.25, 0.5, 0.25]  # (0, 1) and (3, 1) split into duplicates
    coo = sp.coo_matrix((vals, (rows, cols)), shape=(4, 2))
    # CSR with an explicit stored zero at row 1 (P[0, 1, 1] = 0).
    with_zero = sp.csr_matrix(
        (np.array([0.5, 0.5, 1.0, 0.0, 1.0, 0.25, 0.75]), np.array([0, 1, 0, 1, 1, 0, 1]), np.array([0, 2, 4, 5, 7])),
        shape=(4, 2),
    )
    assert with_zero.nnz == 7
    for P in (coo, coo.tocsc(), sp.csr_array(coo), sp.lil_matrix(coo), with_zero):
        mdp = TabularMDP(P, R=[0.0, 1.0], gamma=0.5)
        assert mdp.is_sparse and sp.isspmatrix_csr(mdp.P)
        np.testing.assert_array_equal(mdp.todense(), ref.P)
        assert mdp.nnz == 6


@pytest.mark.parametrize("sparse", [False, True])
def test_rows_within_tolerance_are_renormalised_and_outside_rejected(sparse):
    """Rows off by 5e-9 are accepted and renormalised exactly; off by 1e-7 rejected with
    the (s, a) index and the sum (catches silent renormalisation of a bad model)."""
    P = P2 * (1 + 5e-9)
    mdp = TabularMDP(flat(P) if sparse else P, R=[0.0, 1.0], gamma=0.5)
    np.testing.assert_allclose(mdp.todense().sum(axis=2), 1.0, rtol=0, atol=2e-16)
    bad = P2.copy()
    bad[1, 1] *= 1 + 1e-7
    msg = r"P\[1, 1, :\] \(sparse row 3\) sums to 1.0000001" if sparse else r"P\[1, 1, :\] sums to 1.0000001"
    with pytest.raises(ValueError, match=msg):
        TabularMDP(flat(bad) if sparse else bad, R=[0.0, 1.0], gamma=0.5)


def test_input_arrays_are_copied_not_aliased():
    """Changing the caller's P, R or mu after construction does not change the MDP, and
    the caller's arrays stay writeable (catches storing a view of the input)."""
    P = P2.copy()
    R = np.array([[0.0, 1.0], [2.0, 3.0]])
    mu = np.array([0.25, 0.75])
    mdp = TabularMDP(P, R, 0.5, mu=mu)
    P[0, 0] = [0.0, 1.0]
    R[0, 0] = 9.0
    mu[:] = [1.0, 0.0]
    np.testing.assert_array_equal(mdp.P, P2)
    assert mdp.R[0, 0] == 0.0 and mdp.mu[0] == 0.25
    Ps = flat(P2)
    mdp = TabularMDP(Ps, R, 0.5)
    Ps.data[:] = 0.5
    np.testing.assert_array_equal(mdp.todense(), P2)


# ------------------------------------------------------------------ read-only


@pytest.mark.parametrize("sparse", [False, True])
def test_mdp_arrays_are_read_only(sparse):
    """mdp.R, mdp.mu, dense mdp.P and the stored sparse data cannot be written (catches a
    caller corrupting the validated model through an attribute)."""
    mdp = TabularMDP(flat(P2) if sparse else P2, R=[0.0, 1.0], gamma=0.5)
    with pytest.raises(ValueError, match="read-only"):
        mdp.R[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        mdp.mu[0] = 1.0
    if sparse:
        with pytest.raises(ValueError, match="read-only"):
            mdp.P.data[0] = 1.0
    else:
        with pytest.raises(ValueError, match="read-only"):
            mdp.P[0, 0, 0] = 1.0
    assert mdp.todense().flags.writeable  # a fresh copy


# ------------------------------------------------------------ validation errors


def _P_with(idx, value):
    P = P2.copy()
    P[idx] = value
    return P


def _sparse_with(row, col, value):
    P = P2.reshape(4, 2).copy()
    P[row, col] = value
    return sp.csr_matrix(P)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        # gamma
        (dict(gamma=1.5), ValueError, r"gamma == 1.5, must be in \[0, 1\]"),
        (dict(gamma=-0.1), ValueError, r"gamma == -0.1, must be in \[0, 1\]"),
        (dict(gamma=np.nan), ValueError, r"gamma must be finite, got nan"),
        (dict(gamma="0.9"), TypeError, r"gamma must be a real number, got str '0.9'"),
        (dict(gamma=True), TypeError, r"gamma must be a real number, got bool True"),
        (dict(gamma=np.array([0.9])), TypeError, r"gamma must be a real number, got ndarray"),
        # dense P
        (dict(P=[[["a", "b"]]]), TypeError, r"P must be a numeric array, got dtype <U1"),
        (dict(P=P2.astype(complex)), TypeError, r"P must be real, got dtype complex128"),
        (dict(P=P2[0]), ValueError, r"P must have shape \(S, A, S\) with S, A >= 1 \(dense\) or be a scipy.sparse \(S\*A, S\) matrix, got shape \(2, 2\)"),
        (dict(P=np.ones((2, 2, 3)) / 3), ValueError, r"P must have shape \(S, A, S\) .*got shape \(2, 2, 3\)"),
        (dict(P=np.ones((2, 0, 2))), ValueError, r"P must have shape \(S, A, S\) with S, A >= 1 .*got shape \(2, 0, 2\)"),
        (dict(P=_P_with((1, 0, 1), np.nan)), ValueError, r"P must be finite, got nan at index \(1, 0, 1\)"),
        (dict(P=_P_with((0, 1, 0), np.inf)), ValueError, r"P must be finite, got inf at index \(0, 1, 0\)"),
        (dict(P=_P_with((1, 1), [1.5, -0.5])), ValueError, r"P must be non-negative, got -0.5 at index \(1, 1, 1\)"),
        (dict(P=_P_with((1, 0), [0.2, 0.3])), ValueError, r"P\[1, 0, :\] sums to 0.5; each transition row must sum to 1 \(tolerance 1e-08\)"),
        # sparse P
        # SciPy >= 1.13 has 1-D sparse arrays; older SciPy makes this a (1, 3) matrix, which fails the row count.
        (dict(P=sp.coo_array(np.ones(3))), ValueError,
         r"sparse P must be 2-dimensional with shape \(S\*A, S\), got shape \(3,\)"
         if sp.coo_array(np.ones(3)).ndim == 1 else r"got shape \(1, 3\) \(1 rows is not a positive multiple of 3 states\)"),
        (dict(P=sp.csr_matrix(np.ones((5, 2)) / 2)), ValueError,
         r"sparse P must have shape \(S\*A, S\) with S, A >= 1, got shape \(5, 2\) \(5 rows is not a positive multiple of 2 states\)"),
        (dict(P=sp.csr_matrix((0, 2))), ValueError, r"0 rows is not a positive multiple of 2 states"),
        (dict(P=sp.csr_matrix(P2.reshape(4, 2).astype(complex))), TypeError, r"sparse P must have a real dtype, got complex128"),
        (dict(P=sp.csr_matrix(P2.reshape(4, 2) > 0)), TypeError, r"sparse P must have a real dtype, got bool"),
        (dict(P=_sparse_with(2, 0, np.nan)), ValueError, r"P must be finite, got nan at P\[1, 0, 0\] \(row 2\)"),
        (dict(P=_sparse_with(3, 1, -0.25)), ValueError, r"P must be non-negative, got -0.25 at P\[1, 1, 1\] \(row 3\)"),
        (dict(P=_sparse_with(1, 0, 0.5)), ValueError,
         r"P\[0, 1, :\] \(sparse row 1\) sums to 0.5; each transition row must sum to 1 \(tolerance 1e-08\)"),
        (dict(P=sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0]]))), ValueError, r"P\[1, 0, :\] \(sparse row 1\) sums to 0.0"),
        # R
        (dict(R=[0.0, 1.0, 2.0]), ValueError,
         r"R must have shape \(2,\), \(2, 2\) or \(2, 2, 2\) for an MDP with 2 states and 2 actions, got \(3,\)"),
        (dict(R=np.zeros((2, 2)).T[None]), ValueError, r"R must have shape .*got \(1, 2, 2\)"),
        (dict(R=[["x", "y"], ["z", "w"]]), TypeError, r"R must be a numeric array, got dtype <U1"),
        (dict(R=np.zeros(2, dtype=complex)), TypeError, r"R must be real, got dtype complex128"),
        (dict(R=[0.0, np.nan]), ValueError, r"R must be finite, got nan at index \(1,\)"),
        (dict(R=[[0.0, 1.0], [np.inf, 0.0]]), ValueError, r"R must be finite, got inf at index \(1, 0\)"),
        (dict(R=np.where(np.arange(8).reshape(2, 2, 2) == 5, -np.inf, 0.0)), ValueError, r"R must be finite, got -inf at index \(1, 0, 1\)"),
        (dict(R=sp.csr_matrix(np.ones((4, 2)))), TypeError, r"R may be scipy.sparse only when P is sparse"),
        (dict(P=flat(P2), R=sp.csr_matrix(np.ones((2, 2)))), ValueError, r"sparse R must have shape \(4, 2\) like sparse P, got \(2, 2\)"),
        (dict(P=flat(P2), R=sp.csr_matrix(np.array([[0, np.nan], [0, 0], [0, 0], [0, 0]]))), ValueError,
         r"R must be finite, got a non-finite entry in sparse R"),
        (dict(P=flat(P2), R=[0.0]), ValueError, r"R must have shape \(2,\), \(2, 2\) or \(2, 2, 2\)"),
        # mu
        (dict(mu=[0.5, 0.25]), ValueError, r"mu sums to 0.75; each distribution row must sum to 1 \(tolerance 1e-08\)"),
        (dict(mu=[1.0]), ValueError, r"mu must have shape \(2,\), got \(1,\)"),
        (dict(mu=[[0.5, 0.5]]), ValueError, r"mu must be 1-dimensional, got shape \(1, 2\)"),
        (dict(mu=[1.5, -0.5]), ValueError, r"mu must be non-negative, got -0.5 at index \(1,\)"),
        (dict(mu=[np.nan, 1.0]), ValueError, r"mu must be finite, got nan at index \(0,\)"),
        (dict(mu=sp.csr_matrix([[0.5, 0.5]])), TypeError, r"mu must be a dense array-like, got a scipy.sparse csr_matrix"),
        (dict(mu=["a", "b"]), TypeError, r"mu must be a numeric array, got dtype <U1"),
    ],
)
def test_mdp_validation_messages(kwargs, exc, match):
    """Every construction error names the argument, the expected shape/range and what was
    found, with the (s, a) index and sum for a bad row (catches a bare numpy error, or a
    bad row reported without its index)."""
    args = dict(P=P2, R=[0.0, 1.0], gamma=0.9, mu=None)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        TabularMDP(args["P"], args["R"], args["gamma"], mu=args["mu"])


@pytest.mark.parametrize("sparse", [False, True])
def test_primitive_policy_arguments_are_validated(sparse):
    """transition_matrix and reward_vector validate their policy (catches a transposed
    (A, S) policy broadcast silently when S == A)."""
    mdp = TabularMDP(flat(P2) if sparse else P2, R=[0.0, 1.0], gamma=0.5)
    with pytest.raises(ValueError, match=r"pi\[0, :\] sums to 2.0"):
        mdp.transition_matrix(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"pi must have shape \(2, 2\) to match the MDP, got \(2, 2, 1\)"):
        mdp.reward_vector(np.ones((2, 2, 1)))


# --------------------------------------------------- sparse is never densified


def _grid_csr(n, slip=0.1):
    """An n x n 4-action gridworld as CSR (S*A, S): the intended move with prob 1 - slip,
    stay with prob slip; moves off the grid stay. Built without any dense S x S array."""
    S, A = n * n, 4
    s = np.arange(S)
    i, j = np.divmod(s, n)
    targets = [
        np.where(i > 0, s - n, s),
        np.where(i < n - 1, s + n, s),
        np.where(j > 0, s - 1, s),
        np.where(j < n - 1, s + 1, s),
    ]
    rows = np.concatenate([s * A + a for a in range(A)] * 2)
    cols = np.concatenate(targets + [s] * A)
    vals = np.concatenate([np.full(S, 1 - slip)] * A + [np.full(S, slip)] * A)
    return sp.coo_matrix((vals, (rows, cols)), shape=(S * A, S)).tocsr()


def test_large_sparse_mdp_is_never_densified(monkeypatch):
    """A 300 x 300 gridworld (S = 90,000) runs through evaluate, policy_evaluation,
    discounted_visitation, finite_horizon_values and state_distributions with every
    scipy.sparse toarray/todense patched to raise, and mdp.P stays sparse (catches a
    .toarray() in a library code path, which would need 65 GB here)."""
    n = 300
    S = n * n
    R = np.zeros(S)
    R[-1] = 1.0
    mdp = TabularMDP(_grid_csr(n), R, gamma=0.95)

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array, sp.coo_array,
                sp.lil_matrix, sp.dok_matrix, sp.bsr_matrix, sp.dia_matrix):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    with pytest.raises(AssertionError, match="densified"):
        mdp.todense()  # the patch is live

    pi = uniform(S, 4)
    V = policy_evaluation(mdp, pi)
    ev = evaluate(mdp, pi)
    d = discounted_visitation(mdp, pi)
    fh = finite_horizon_values(mdp, pi, 5)
    dist = state_distributions(mdp, pi, 5)
    assert mdp.is_sparse and sp.issparse(mdp.P) and mdp.P.shape == (4 * S, S)
    # The Bellman residual, via the sparse primitive.
    resid = np.einsum("sa,sa->s", pi, mdp.R + mdp.gamma * mdp.expected_next(V)) - V
    assert np.max(np.abs(resid)) < 1e-10
    np.testing.assert_allclose(ev.V, V, rtol=0, atol=1e-12)
    assert abs(d.sum() - 1.0) < 1e-10
    np.testing.assert_allclose(fh.d.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dist, fh.d, rtol=0, atol=0)
    assert V[-1] > V[0] > 0


def test_changing_the_handed_out_sparse_P_cannot_change_the_mdp():
    """Bug caught: mdp.P handed out the MDP's own CSR object, so rebinding its arrays
    (``P.data = ...``, which read-only flags cannot stop) or inserting an entry changed the MDP."""
    import warnings

    import scipy.sparse as sp

    P = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]))
    mdp = TabularMDP(P, [0.0, 1.0], 0.9)
    before = mdp.P.toarray()
    nnz, indices = mdp.nnz, mdp.P.indices.copy()
    handed = mdp.P
    handed.data = np.zeros_like(handed.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SparseEfficiencyWarning for the structural change
        try:
            mdp.P[3, 1] = 0.5
        except ValueError:
            pass  # the shared arrays are read-only
    np.testing.assert_array_equal(mdp.P.toarray(), before)
    assert mdp.nnz == nnz
    np.testing.assert_array_equal(mdp.P.indices, indices)
    np.testing.assert_array_equal(mdp.expected_next(np.array([0.0, 1.0])), [[0.0, 1.0], [0.5, 0.0]])
