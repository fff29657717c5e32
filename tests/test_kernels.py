"""The fast paths of tabular_rl._kernels equal the simple formulations.

Every fast path (dense or sparse MDP, stationary or time-varying policy, one or
two threads, small-MDP or large-MDP path, the compiled-kernel or the public
fallback) is held to the plain recursion written out in this file, to 1e-12.
No test asserts a time: speed is measured in benchmarks/.
"""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from tabular_rl import _kernels
from tabular_rl import strategies as trs
from tabular_rl.gridworld import open_grid

RTOL = 1e-12


def _policy(rng, shape):
    pi = rng.random(shape) + 1e-3
    return pi / pi.sum(axis=-1, keepdims=True)


def plain_forward(mdp, pi, horizon, p0):
    """d_{t+1} = sum_{s,a} d_t(s) pi_t(a|s) P(s'|s,a), written the slow obvious way."""
    P = mdp.todense()
    d = np.array(p0, dtype=np.result_type(pi, float))
    out = []
    for t in range(horizon):
        out.append(d)
        pi_t = pi if pi.ndim == 2 else pi[t]
        d = np.einsum("s,sa,sat->t", d, pi_t, P)
    return np.array(out).reshape(horizon, mdp.n_states)


def plain_log_expected_exp(mdp, logz):
    with np.errstate(divide="ignore"):
        return logsumexp(np.log(mdp.todense()) + logz[None, None, :], axis=2)


def plain_soft_max(Q):
    V = logsumexp(Q, axis=-1)
    with np.errstate(invalid="ignore"):
        pi = np.exp(Q - V[..., None])
    dead = ~np.isfinite(V)
    pi[dead] = 1.0 / Q.shape[-1]
    return V, pi


@st.composite
def mdp_and_policy(draw, time_varying):
    mdp = draw(trs.mdps())
    S, A = mdp.shape
    H = draw(st.integers(1, 6))
    shape = (H, S, A) if time_varying else (S, A)
    pi = np.stack([draw(trs.policies(S, A)) for _ in range(H)]) if time_varying else draw(trs.policies(S, A))
    assert pi.shape == shape
    p0 = draw(trs.distributions(S))
    return mdp, pi, H, p0


# ----------------------------------------------------------------------------- forward pass
@pytest.mark.parametrize("time_varying", [False, True])
@given(data=st.data())
@settings(max_examples=40)
def test_forward_every_path_equals_plain_recursion(time_varying, data):
    """Catches a path that drops a term, mixes up P vs P^T, or mishandles the thread split."""
    mdp, pi, H, p0 = data.draw(mdp_and_policy(time_varying))
    ref = plain_forward(mdp, pi, H, p0)
    for threads in (1, 2):
        for small in (True, False):
            out, total = _kernels.forward_distributions(mdp, pi, H, p0, threads=threads, small=small)
            np.testing.assert_allclose(out, ref, rtol=RTOL, atol=RTOL)
            np.testing.assert_allclose(total, ref.sum(axis=0), rtol=RTOL, atol=H * RTOL)
            _, total_only = _kernels.forward_distributions(mdp, pi, H, p0, store=False, threads=threads, small=small)
            np.testing.assert_allclose(total_only, total, rtol=RTOL, atol=H * RTOL)


@pytest.mark.parametrize("time_varying", [False, True])
def test_forward_large_path_threads_agree_on_a_gridworld(time_varying):
    """A 40x40 grid is above SMALL_MDP_STATES: the threaded split (2 blocks of states whose partial
    outputs are added) and the single-thread product must both equal the plain sparse product."""
    mdp = open_grid(40, slip=0.2, gamma=0.9)
    S, A = mdp.shape
    assert S > _kernels.SMALL_MDP_STATES
    H = 7
    rng = np.random.default_rng(1)
    pi = _policy(rng, (H, S, A) if time_varying else (S, A))
    p0 = _policy(rng, (S,))
    d = p0.copy()
    ref = []
    for t in range(H):
        ref.append(d)
        d = mdp.push_forward(d[:, None] * (pi[t] if time_varying else pi))
    ref = np.array(ref)
    for threads in (1, 2, 3):
        out, total = _kernels.forward_distributions(mdp, pi, H, p0, threads=threads)
        np.testing.assert_allclose(out, ref, rtol=RTOL, atol=1e-15)
        np.testing.assert_allclose(total, ref.sum(axis=0), rtol=RTOL, atol=1e-15)
    # and the small path (dense P_pi) forced on the same MDP agrees too
    if not time_varying:
        out, _ = _kernels.forward_distributions(mdp, pi, H, p0, small=True)
        np.testing.assert_allclose(out, ref, rtol=RTOL, atol=1e-15)


def test_forward_without_compiled_kernels_uses_the_public_fallback(monkeypatch):
    """If scipy's private _sparsetools were gone, the kernels must still give the same answer."""
    mdp = open_grid(20, slip=0.3, gamma=0.9)
    S, A = mdp.shape
    rng = np.random.default_rng(2)
    pi, p0 = _policy(rng, (4, S, A)), _policy(rng, (S,))
    fast, _ = _kernels.forward_distributions(mdp, pi, 4, p0, small=False)
    lee_fast = _kernels.log_expected_exp(mdp, rng.standard_normal(S))
    monkeypatch.setattr(_kernels, "_sparsetools", None)
    slow, _ = _kernels.forward_distributions(mdp, pi, 4, p0, small=False)
    np.testing.assert_allclose(slow, fast, rtol=RTOL, atol=1e-15)
    for stationary in (pi[0],):
        a, _ = _kernels.forward_distributions(mdp, stationary, 4, p0, small=False)
        np.testing.assert_allclose(a, plain_forward(mdp, stationary, 4, p0), rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(
        _kernels.log_expected_exp(mdp, np.zeros(S)), np.zeros((S, A)), atol=1e-15
    )
    assert lee_fast.shape == (S, A)


def test_forward_keeps_complex_step_perturbations():
    """Complex-step differentiation flows through: the imaginary part must not be dropped."""
    mdp = open_grid(3, slip=0.2, gamma=0.9)
    S, A = mdp.shape
    rng = np.random.default_rng(3)
    pi = _policy(rng, (S, A)).astype(complex)
    pi[0, 0] += 1e-20j
    p0 = np.full(S, 1.0 / S)
    for small in (True, False):
        out, _ = _kernels.forward_distributions(mdp, pi, 5, p0, small=small)
        ref = plain_forward(mdp, pi, 5, p0)
        np.testing.assert_allclose(out, ref, rtol=RTOL, atol=1e-30)
        assert np.any(out.imag != 0)


def test_forward_horizon_zero_and_one():
    """Off-by-one guard: horizon 0 gives nothing, horizon 1 gives d_0 = p0 only."""
    mdp = open_grid(2, slip=0.1, gamma=0.9)
    p0 = np.array([0.1, 0.2, 0.3, 0.4])
    pi = np.full((4, 4), 0.25)
    out, total = _kernels.forward_distributions(mdp, pi, 0, p0)
    assert out.shape == (0, 4) and np.all(total == 0)
    out, total = _kernels.forward_distributions(mdp, pi, 1, p0)
    np.testing.assert_array_equal(out, p0[None])
    np.testing.assert_array_equal(total, p0)


ACTION_COUNTS = [1, 2, 3, 4, 5, 6, 16, 17, 18]   # every row-sum form: one column, complex pairs
# (even), real columns (odd), NumPy's reduction (above _COLUMN_MAX_ACTIONS = 16)


def _plain_rows_are_probabilities(arr):
    rows = arr.reshape(-1, arr.shape[-1])
    n = rows.shape[1]
    if rows.size == 0:
        return False
    with np.errstate(invalid="ignore"):
        sums = rows.sum(axis=1)
        return bool(np.all(np.isfinite(rows)) and rows.min() >= 0
                    and np.all(np.abs(sums - 1.0) <= 4 * n * np.finfo(float).eps))


BAD_ROW_KINDS = ["valid", "nan", "inf", "-inf", "negative", "tiny negative", "sum high", "sum low", "zero row"]


@given(data=st.data())
@settings(max_examples=150)
def test_row_check_equals_its_definition(data):
    """rows_are_probabilities (the fast path of every policy check) against its definition: finite,
    non-negative, each row summing to 1 within 4 n eps. Catches a row-sum form that adds the wrong
    columns (complex pairs, real columns, the reduction), a block or thread boundary that skips rows
    (one bad entry anywhere, blocks of 1 to 4 rows), and a bad value that slips through. The sums are
    off by 100 n eps or not at all, far from the tolerance either way, so the verdict is unambiguous."""
    n = data.draw(st.sampled_from(ACTION_COUNTS))
    m = data.draw(st.integers(1, 40))
    lead = data.draw(st.sampled_from([(), (2,)]))
    arr = np.stack([data.draw(trs.policies(m, n)) for _ in range(int(np.prod(lead)))]).reshape(lead + (m, n))
    kind = data.draw(st.sampled_from(BAD_ROW_KINDS))
    flat = arr.reshape(-1, n)
    i = data.draw(st.integers(0, flat.shape[0] - 1))
    j = data.draw(st.integers(0, n - 1))
    off = 100 * n * np.finfo(float).eps
    if kind in ("nan", "inf", "-inf"):
        flat[i, j] = float(kind)
    elif kind == "negative":
        flat[i, j] = -0.5
    elif kind == "tiny negative":
        flat[i, j] = -1e-300
    elif kind == "sum high":
        flat[i, j] += off
    elif kind == "sum low":
        flat[i] *= 1.0 - off
    elif kind == "zero row":
        flat[i] = 0.0
    expected = _plain_rows_are_probabilities(arr)
    assert expected == (kind == "valid"), f"the test's own {kind!r} case is {'valid' if expected else 'invalid'}"
    saved = _kernels._CHECK_BLOCK_BYTES
    _kernels._CHECK_BLOCK_BYTES = 8 * n * data.draw(st.integers(1, 4))
    try:
        for threads in (1, 2):
            assert _kernels.rows_are_probabilities(arr, threads=threads) == expected, (kind, threads)
    finally:
        _kernels._CHECK_BLOCK_BYTES = saved
    assert _kernels.rows_are_probabilities(arr) == expected


def test_policy_check_in_threads_names_the_first_bad_row():
    """A policy of 2^20 entries or more is checked in two threads: a bad entry in either half, or in
    the last row, must still fail the fast path, and check_policy's slow path then names the first
    bad entry exactly as for a small policy; rows off by more than round-off but within tolerance
    come back renormalised, and a valid policy comes back without a copy."""
    from tabular_rl import _validation as _v

    H, S, A = 2, 131_072, 4
    assert H * S * A >= _kernels._PARALLEL_CHECK_MIN_ENTRIES
    pi = np.full((H, S, A), 0.25)
    out = _v.check_policy(pi, (S, A), "pi", horizon=H, time_varying=True)
    assert np.shares_memory(out, pi) and not out.flags.writeable
    for index in [(0, 5, 1), (1, 0, 0), (1, S - 1, 3)]:
        bad = pi.copy()
        bad[index] = -0.1
        with pytest.raises(ValueError, match=re.escape(f"pi must be non-negative, got -0.1 at index {index}")):
            _v.check_policy(bad, (S, A), "pi", horizon=H, time_varying=True)
        bad[index] = np.nan
        with pytest.raises(ValueError, match="pi must be finite"):
            _v.check_policy(bad, (S, A), "pi", horizon=H, time_varying=True)
    close = pi.copy()
    close[1, S - 1] *= 1 + 1e-12
    out = _v.check_policy(close, (S, A), "pi", horizon=H, time_varying=True)
    assert not np.shares_memory(out, close)
    np.testing.assert_array_equal(out[1, S - 1], close[1, S - 1] / close[1, S - 1].sum())


def test_run_waits_for_every_job_before_raising():
    """A job that raises (the first, run in the calling thread) must not leave another still running
    when _run re-raises: its caller would go on while that thread writes into shared buffers."""
    import time

    finished = []

    def fails():
        raise ValueError("first job")

    def slow():
        time.sleep(0.2)
        finished.append(True)

    with pytest.raises(ValueError, match="first job"):
        _kernels._run([fails, slow])
    assert finished == [True]


# ----------------------------------------------------------------------------- backups
@st.composite
def mdp_and_logz(draw):
    mdp = draw(trs.mdps())
    S = mdp.n_states
    scale = draw(st.sampled_from([1.0, 50.0, 1e3, 1e6]))
    z = draw(trs.logits((S,), bound=1.0)) * scale
    if draw(st.booleans()):
        mask = draw(st.lists(st.booleans(), min_size=S, max_size=S))
        z = np.where(mask, -np.inf, z)
    return mdp, z, scale


@given(mdp_and_logz())
@settings(max_examples=60)
def test_log_expected_exp_equals_logsumexp_of_log_P(case):
    """Catches the global shift underflowing (scale 1e6), -inf successors giving nan, or a row
    with every successor at -inf not returning -inf."""
    mdp, z, scale = case
    got = _kernels.log_expected_exp(mdp, z)
    ref = plain_log_expected_exp(mdp, z)
    assert not np.any(np.isnan(got))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=RTOL, atol=RTOL * (1 + scale))
    for threads in (1, 2):
        again = _kernels.log_expected_exp(mdp, z, threads=threads)
        np.testing.assert_allclose(again[fin], ref[fin], rtol=RTOL, atol=RTOL * (1 + scale))


def test_log_expected_exp_finite_at_scale_1e6_with_neg_inf():
    """Golden case: successors 2e6 apart; the far-below state must not vanish from its own rows."""
    mdp = open_grid(3, slip=0.2, gamma=0.9)
    S, A = mdp.shape
    z = np.zeros(S)
    z[0], z[4], z[8] = 1e6, -1e6, -np.inf
    got = _kernels.log_expected_exp(mdp, z)
    ref = _kernels._log_expected_exp_reference(mdp, z)
    assert np.all(np.isfinite(got))  # every (s, a) on a 3x3 slippery grid has a finite successor
    np.testing.assert_allclose(got, ref, rtol=RTOL)
    # all -inf: every entry is -inf, nothing is nan
    assert np.all(np.isneginf(_kernels.log_expected_exp(mdp, np.full(S, -np.inf))))


@given(Q=trs.logits((5, 3), bound=1.0), scale=st.sampled_from([1.0, 1e3, 1e6]), dead=st.integers(-1, 4),
       neg=st.lists(st.booleans(), min_size=15, max_size=15))
def test_soft_max_actions_equals_logsumexp(Q, scale, dead, neg):
    """Column-by-column reductions equal scipy's logsumexp; an all -inf row gives -inf and uniform."""
    Q = Q * scale
    Q = np.where(np.reshape(neg, Q.shape) & (np.arange(3) > 0), -np.inf, Q)
    if dead >= 0:
        Q[dead] = -np.inf
    V, pi = _kernels.soft_max_actions(Q)
    V_ref, pi_ref = plain_soft_max(Q)
    np.testing.assert_array_equal(np.isneginf(V), np.isneginf(V_ref))
    fin = np.isfinite(V_ref)
    np.testing.assert_allclose(V[fin], V_ref[fin], rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(pi, pi_ref, rtol=1e-12, atol=1e-15 * (1 + scale))
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=1e-14)
    V2, pi2 = _kernels._soft_max_actions_reference(Q)
    np.testing.assert_allclose(V[fin], V2[fin], rtol=RTOL)
    np.testing.assert_allclose(pi, pi2, rtol=1e-12, atol=1e-15 * (1 + scale))


def test_soft_max_actions_other_shapes_use_the_reference():
    """(A,) vectors, (H, S, A) stacks and many actions give the same answer as the reference."""
    rng = np.random.default_rng(4)
    for shape in [(3,), (2, 5, 4), (6, 40)]:
        Q = rng.standard_normal(shape)
        V, pi = _kernels.soft_max_actions(Q)
        V_ref, pi_ref = plain_soft_max(Q)
        np.testing.assert_allclose(V, V_ref, rtol=RTOL)
        np.testing.assert_allclose(pi, pi_ref, rtol=RTOL)


@given(case=mdp_and_logz(), data=st.data())
@settings(max_examples=60)
def test_log_partition_backup_equals_log_space_formula(case, data):
    """The shortcut pi = y / sum_a y (no logs) equals softmax(r + log E exp z), including the
    states redone in logs because their shifted sum underflowed."""
    mdp, z, scale = case
    S, A = mdp.shape
    r = data.draw(st.one_of(trs.logits((S,), bound=3.0), trs.logits((S, A), bound=3.0)))
    logz, pi = _kernels.log_partition_backup(mdp, z, r)
    Qz = plain_log_expected_exp(mdp, z) + (r if r.ndim == 2 else r[:, None])
    V_ref, pi_ref = plain_soft_max(Qz)
    np.testing.assert_array_equal(np.isneginf(logz), np.isneginf(V_ref))
    fin = np.isfinite(V_ref)
    np.testing.assert_allclose(logz[fin], V_ref[fin], rtol=RTOL, atol=RTOL * (1 + scale))
    # the reference's softmax subtracts numbers of size `scale`: it is accurate to ~eps * scale
    np.testing.assert_allclose(pi, pi_ref, rtol=1e-10, atol=1e-14 * (1 + scale))
    np.testing.assert_allclose(pi.sum(axis=1), 1.0, rtol=1e-13)


@given(case=mdp_and_logz(), chunk=st.integers(1, 4), data=st.data())
@settings(max_examples=60)
def test_fused_backup_is_independent_of_chunks_and_threads(case, chunk, data):
    """Catches a chunk or thread boundary that drops, repeats or shifts rows of the fused MaxEnt
    backup (product, action sum, log and division done chunk by chunk): every split gives the
    one-chunk, one-thread result bit for bit, the underflow-redone states included."""
    mdp, z, _ = case
    S, A = mdp.shape
    r = data.draw(trs.logits((S,), bound=3.0))
    whole = _kernels.log_partition_backup(mdp, z, r, threads=1)
    saved = _kernels.BACKUP_CHUNK_STATES
    _kernels.BACKUP_CHUNK_STATES = chunk
    try:
        mdp.__dict__.pop("_csr_products", None)   # rebuild the row split for 2 threads
        split = _kernels.log_partition_backup(mdp, z, r, threads=2)
    finally:
        _kernels.BACKUP_CHUNK_STATES = saved
    np.testing.assert_array_equal(split[0], whole[0])
    np.testing.assert_array_equal(split[1], whole[1])


@given(case=mdp_and_policy(False), data=st.data())
def test_soft_bellman_backup_equals_definition(case, data):
    """Q = r + gamma P V then logsumexp; gamma = 0 must not turn a -inf V into nan."""
    mdp, _, _, _ = case
    S, A = mdp.shape
    V = data.draw(trs.logits((S,), bound=5.0))
    if data.draw(st.booleans()):
        V[data.draw(st.integers(0, S - 1))] = -np.inf
    gamma = data.draw(trs.gammas())
    r = np.asarray(mdp.R)
    V_new, pi = _kernels.soft_bellman_backup(mdp, V, r, gamma)
    P = mdp.todense()
    with np.errstate(invalid="ignore"):  # only successors with P > 0 count (0 * -inf is not a term)
        PV = np.where(P > 0, P * V[None, None, :], 0.0).sum(axis=2)
    Q = r + (gamma * PV if gamma > 0 else 0.0)
    V_ref, pi_ref = plain_soft_max(Q)
    np.testing.assert_array_equal(np.isneginf(V_new), np.isneginf(V_ref))
    fin = np.isfinite(V_ref)
    np.testing.assert_allclose(V_new[fin], V_ref[fin], rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(pi, pi_ref, rtol=1e-12, atol=1e-15)


def test_time_indexed_backward_passes_equal_step_by_step_loops():
    """maxent_backward / mce_backward store pi_t at the right t (t = H-1 first) and match a loop."""
    mdp = open_grid(6, slip=0.2, gamma=0.9)
    S, A = mdp.shape
    rng = np.random.default_rng(5)
    r = rng.standard_normal(S)
    H = 5
    logz = np.zeros(S)
    V = np.zeros(S)
    pis_z, pis_v = [], []
    for _ in range(H):
        logz, p = plain_soft_max(plain_log_expected_exp(mdp, logz) + r[:, None])
        pis_z.append(p)
        V, q = plain_soft_max(r[:, None] + 0.9 * mdp.expected_next(V))
        pis_v.append(q)
    log_z0, pi = _kernels.maxent_backward(mdp, r, H, np.zeros(S))
    np.testing.assert_allclose(log_z0, logz, rtol=RTOL)
    np.testing.assert_allclose(pi, np.array(pis_z[::-1]), rtol=RTOL, atol=1e-15)
    V0, pi = _kernels.mce_backward(mdp, r, H, 0.9, np.zeros(S))
    np.testing.assert_allclose(V0, V, rtol=RTOL)
    np.testing.assert_allclose(pi, np.array(pis_v[::-1]), rtol=RTOL, atol=1e-15)


def test_backward_passes_finite_at_reward_1e6_horizon_1000():
    """Log space end to end: reward scale 1e6 over 1000 steps, a goal set (-inf elsewhere at t = H)."""
    mdp = open_grid(4, slip=0.2, gamma=0.99)
    S, A = mdp.shape
    r = np.random.default_rng(6).standard_normal(S) * 1e6
    final = np.full(S, -np.inf)
    final[-1] = 0.0
    log_z0, pi = _kernels.maxent_backward(mdp, r, 1000, final)
    assert np.all(np.isfinite(log_z0)) and np.all(np.isfinite(pi))
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=1e-13)
    # (a -inf terminal value would be an expected -inf under slip: the soft backup starts from 0)
    V0, pi = _kernels.mce_backward(mdp, r, 1000, 0.99, np.zeros(S))
    assert np.all(np.isfinite(V0)) and np.all(np.isfinite(pi))
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=1e-13)


def test_sparse_and_dense_mdps_give_the_same_backups():
    """The same MDP stored dense and sparse: every kernel agrees."""
    mdp = open_grid(5, slip=0.3, gamma=0.9)
    dense = open_grid(5, slip=0.3, gamma=0.9, sparse=False)
    assert mdp.is_sparse and not dense.is_sparse
    S, A = mdp.shape
    rng = np.random.default_rng(7)
    z = rng.standard_normal(S) * 10
    r = rng.standard_normal(S)
    np.testing.assert_allclose(_kernels.log_expected_exp(mdp, z), _kernels.log_expected_exp(dense, z), rtol=RTOL)
    for f in (_kernels.log_partition_backup,):
        a, b = f(mdp, z, r), f(dense, z, r)
        np.testing.assert_allclose(a[0], b[0], rtol=RTOL)
        np.testing.assert_allclose(a[1], b[1], rtol=RTOL)
    a, b = _kernels.soft_bellman_backup(mdp, z, r, 0.9), _kernels.soft_bellman_backup(dense, z, r, 0.9)
    np.testing.assert_allclose(a[0], b[0], rtol=RTOL)
    np.testing.assert_allclose(a[1], b[1], rtol=RTOL)
    pi = _policy(rng, (3, S, A))
    np.testing.assert_allclose(
        _kernels.forward_distributions(mdp, pi, 3, mdp.mu)[0],
        _kernels.forward_distributions(dense, pi, 3, dense.mu)[0], rtol=RTOL, atol=1e-15,
    )
    assert sp.issparse(mdp.P)


def test_backward_out_buffer_is_used_and_checked():
    """out= receives the policies in place; a wrong buffer is refused, never silently copied."""
    mdp = open_grid(3, slip=0.2, gamma=0.9)
    S, A = mdp.shape
    r = np.arange(S, dtype=float) / S
    buf = np.empty((4, S, A))
    _, pi = _kernels.maxent_backward(mdp, r, 4, np.zeros(S), out=buf)
    assert pi is buf
    np.testing.assert_allclose(pi, _kernels.maxent_backward(mdp, r, 4, np.zeros(S))[1], rtol=RTOL)
    with pytest.raises(ValueError, match=r"out must be a writeable C-contiguous float64 array of shape \(4, 9, 4\)"):
        _kernels.mce_backward(mdp, r, 4, 0.9, np.zeros(S), out=np.empty((4, A, S)).transpose(0, 2, 1))
