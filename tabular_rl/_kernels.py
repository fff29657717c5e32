r"""Inner loops shared by the finite-horizon, MaxEnt and MCE code: the forward
state-distribution recursion and the log-space soft backups.

These are the hot paths that benchmarks/ profiles. Each works on dense and
sparse transitions alike through the MDP's (S*A, S) matrix, never builds a
dense (S, A, S) temporary from a sparse MDP, and is exact (no truncation): the
fast paths below agree with the plain formulations to round-off (the tests in
tests/test_kernels.py hold them to 1e-12).

How they are fast (pure NumPy/SciPy; measurements in benchmarks/ and the
README's "Performance" section):

* Sparse products call SciPy's compiled CSR/CSC kernels
  (``scipy.sparse._sparsetools.csr_matvec`` / ``csc_matvec``) on the matrix's
  own arrays with preallocated outputs, skipping the wrapper's per-call
  allocations and copies; a row range of a CSR matrix is passed as a view of
  its ``indptr`` (no copy). If that private module is missing or refuses the
  arrays, the public ``@`` product is used instead.
* Those kernels release the GIL, so above :data:`PARALLEL_MIN_NNZ` stored
  transitions the rows are split (balanced by nonzeros) across
  :data:`N_THREADS` threads.
* Stationary policy: the (S, S) matrix :math:`P_\pi^\top` is formed once per
  call (about 3 nonzeros per state on a gridworld instead of 12 per state for
  P), so each step reads a quarter of the bytes of the general bound.
* Time-varying policy: each thread weights its own block of states,
  :math:`x(s,a) = d_t(s)\pi_t(a|s)`, into a reused buffer and scatters it
  through its block of P (a CSC product with P's CSR arrays), so nothing of size
  S*A is written or re-read beyond that one buffer.
* Policy checks (:func:`rows_are_probabilities`, the fast path of every policy
  validation) read the policy once, block by block, in two threads for large
  policies, and call no BLAS: OpenBLAS's threads keep spinning after a call and
  slow down the pass that follows.
* Backups: :math:`\log\sum_{s'}P(s'|s,a)e^{z(s')}` is one sparse product with
  :math:`e^{z - \max z}` (S exponentials instead of one per nonzero); only the
  (s, a) whose sum falls below :data:`_LOG_TINY` (their successors all lie far
  below the maximum, or are ``-inf``) are recomputed with their own maximum, so
  the result stays exact at any scale. Reductions over actions run column by
  column on the (S, A) array (a length-A last-axis reduction is 5-15 times
  slower in NumPy).
* Small MDPs (S <= :data:`SMALL_MDP_STATES`): the per-step Python overhead
  dominates, so the stationary forward pass uses a dense (S, S) :math:`P_\pi`
  (formed from the sparse one; at that size it is at most 320 kB).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

try:  # SciPy's compiled sparse kernels; private, so everything has a public fallback.
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover
    _sparsetools = None

__all__ = [
    "forward_distributions",
    "log_expected_exp",
    "log_partition_backup",
    "maxent_backward",
    "mce_backward",
    "soft_bellman_backup",
    "soft_max_actions",
]

#: Largest number of states for which the stationary forward pass uses a dense
#: (S, S) P_pi. Measured by ``python benchmarks/run.py --crossover`` on a quiet
#: machine (AMD EPYC, 2 cores; slippery open gridworld): per step, dense 0.25 ms vs
#: sparse 0.47 ms at S = 100, 0.46 vs 0.49 ms at S = 196, 0.71 vs 0.50 ms at S = 256.
SMALL_MDP_STATES = 200

#: Threads used to split sparse products (SciPy's kernels release the GIL).
N_THREADS = max(1, min(2, os.cpu_count() or 1))

#: Fewest stored transitions for which a product is split across threads
#: (below it the thread hand-off, ~30-60 microseconds, costs more than it saves).
PARALLEL_MIN_NNZ = 200_000

#: The same threshold for the time-varying forward step, which does more work per
#: stored transition (the policy weighting). Measured on a quiet 2-core AMD EPYC
#: (open gridworld, ms per step, 1 vs 2 threads): 0.139 vs 0.151 at nnz 110,584,
#: 0.189 vs 0.177 at 150,520, 0.248 vs 0.209 at 196,600; for the stationary product
#: (nnz of P_pi) 0.170 vs 0.191 at 173,052 and 0.252 vs 0.248 at 262,140.
PARALLEL_MIN_NNZ_TIME_VARYING = 130_000

#: A shifted sum below exp(-460) ~ 1e-200 is recomputed with its own maximum:
#: above it, terms lost to underflow (< 1e-307 each) are below round-off.
_LOG_TINY = 1e-200

#: Column-by-column reductions over actions are used up to this many actions.
_UNROLL_MAX_ACTIONS = 16

_pool = None
_pool_lock = threading.Lock()


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=N_THREADS, thread_name_prefix="tabular_rl")
        return _pool


def _n_threads(threads, nnz, min_nnz=None):
    if threads is None:
        return N_THREADS if nnz >= (PARALLEL_MIN_NNZ if min_nnz is None else min_nnz) else 1
    return max(1, int(threads))


def _run(jobs):
    """Run zero-argument callables, in threads if there are several.

    Every job has finished when this returns or raises (the first exception is re-raised):
    a job that fails never leaves another still writing into buffers its caller has given
    up on, or still running when the caller starts its next pass.
    """
    if len(jobs) == 1:
        jobs[0]()
        return
    futures = [_executor().submit(job) for job in jobs[1:]]
    error = None
    try:
        jobs[0]()
    except BaseException as exc:  # re-raised below, once the other jobs are done
        error = exc
    for f in futures:
        try:
            f.result()
        except BaseException as exc:
            error = exc if error is None else error
    if error is not None:
        raise error


def _split_rows(indptr, n_parts, group=1):
    """Boundaries (in units of ``group`` rows) splitting a CSR matrix into parts of
    about equal numbers of nonzeros."""
    n_groups = (len(indptr) - 1) // group
    if n_parts <= 1 or n_groups < 2 * n_parts:
        return [0, n_groups]
    targets = np.linspace(0, indptr[-1], n_parts + 1)[1:-1]
    cuts = np.searchsorted(indptr[::group], targets)
    return [0] + [int(c) for c in cuts] + [n_groups]


def _fast_ok(*arrays):
    """Whether the compiled kernels can take these arrays without a copy."""
    if _sparsetools is None:
        return False
    return all(a.dtype == np.float64 and a.flags.c_contiguous for a in arrays)


class _CSRProduct:
    """``y = M @ x`` for a fixed CSR matrix M, into a preallocated ``y``, rows split across threads."""

    def __init__(self, M, threads=None):
        self.M = M
        self.shape = M.shape
        self.n_threads = _n_threads(threads, M.nnz)
        self.bounds = _split_rows(M.indptr, self.n_threads)
        self.fast = _fast_ok(M.data) and M.indices.dtype == M.indptr.dtype
        self._group_bounds = {}

    def group_bounds(self, group):
        """Thread boundaries in units of ``group`` rows (states, for ``group = A``), computed once:
        the split searches the whole indptr, as much work as a step's elementwise part."""
        if group not in self._group_bounds:
            self._group_bounds[group] = _split_rows(self.M.indptr, self.n_threads, group=group)
        return self._group_bounds[group]

    def __call__(self, x, out):
        M = self.M
        if not (self.fast and _fast_ok(x, out)):
            out[...] = M @ x
            return out
        n_col = self.shape[1]

        def part(lo, hi):
            def job():
                y = out[lo:hi]
                y.fill(0.0)  # the kernel accumulates into y
                _sparsetools.csr_matvec(hi - lo, n_col, M.indptr[lo:], M.indices, M.data, x, y)

            return job

        b = self.bounds
        _run([part(b[i], b[i + 1]) for i in range(len(b) - 1)])
        return out


# --------------------------------------------------------------------------- policy rows
#: Policies are checked (:func:`rows_are_probabilities`) in blocks of about this many
#: bytes: few enough NumPy calls per entry, small enough that a block's second and third
#: reads come from cache. Measured as above (an (H, S, A) = (100, 262144, 4) policy, two
#: threads): 39-40 ms for 1, 2 and 4 MB blocks against 49 ms for 512 kB.
_CHECK_BLOCK_BYTES = 1 << 21

#: Row sums over at most this many actions are formed column by column (as complex pairs
#: when the count is even); longer rows use NumPy's own reduction, whose per-row overhead
#: is then amortised.
_COLUMN_MAX_ACTIONS = 16

#: Below this many entries (8 MB, four blocks) a policy is checked in one thread. At this
#: size two threads already pay, a little (0.46 against 0.52 ms a check at A = 4, best of
#: 7 x 20 calls); at 2^18 entries the policy is one block and there is nothing to split.
_PARALLEL_CHECK_MIN_ENTRIES = 1 << 20


def _row_sums(rows, out, pairs):
    """Row sums of the C-contiguous float64 (m, n) ``rows`` into ``out[:m]``, in contiguous passes.

    No BLAS: OpenBLAS threads its matrix-vector product above ~9,000 entries and its
    threads then spin for a while after the call, slowing whatever runs next (measured at
    512x512, H = 100: the time-varying forward pass took 306/358 ms, min/median of 15 runs,
    right after a BLAS row check of its policy, against 265/322 ms after this one and
    252/305 ms after another pass; with ``OPENBLAS_NUM_THREADS=1`` the gap closed). For an
    even n the rows are viewed as n/2 complex numbers, so one complex addition adds two
    columns at a time. ``pairs`` is complex scratch of at least m entries. Any order of
    summation is within the ``(n - 1) u sum|p|`` round-off the callers allow.
    """
    m, n = rows.shape
    s = out[:m]
    if n == 1:
        np.copyto(s, rows[:, 0])
    elif n > _COLUMN_MAX_ACTIONS:
        np.add.reduce(rows, axis=1, out=s)
    elif n % 2 == 0:
        c = rows.view(np.complex128)  # c[:, k] = rows[:, 2k] + 1j rows[:, 2k + 1]
        if n == 2:
            z = c[:, 0]
        else:
            z = np.add(c[:, 0], c[:, 1], out=pairs[:m])
            for k in range(2, n // 2):
                z += c[:, k]
        np.add(z.real, z.imag, out=s)
    else:
        np.add(rows[:, 0], rows[:, 1], out=s)
        for k in range(2, n):
            s += rows[:, k]
    return s


def rows_ok(rows, out, pairs):
    """True if every row of the non-empty C-contiguous float64 (m, n) ``rows`` is finite,
    non-negative and sums to 1 within round-off, ``4 n eps``; ``out`` and ``pairs`` are the
    scratch of :func:`_row_sums`.

    NaN and infinity make their row's sum NaN or infinite, and NaN compares false, so they
    fail the sum test; ``min >= 0`` fails on a negative entry and on NaN.
    """
    n = rows.shape[1]
    s = _row_sums(rows, out, pairs)
    roundoff = 4.0 * n * np.finfo(np.float64).eps
    return bool(s.max() <= 1.0 + roundoff and s.min() >= 1.0 - roundoff and rows.min() >= 0.0)


def rows_are_probabilities(arr, threads=None):
    """True if every row (last axis) of the float64 C-contiguous ``arr`` passes :func:`rows_ok`.

    One pass over ``arr``, in blocks of about :data:`_CHECK_BLOCK_BYTES`: each block is read
    from memory once and its second read (the minimum) comes from cache. Above
    :data:`_PARALLEL_CHECK_MIN_ENTRIES` entries the rows are split across :data:`N_THREADS`
    threads (NumPy releases the GIL in each pass); a thread stops at the first failing
    block, or when another thread has found one. An empty ``arr`` is False
    (the caller's slow path reports it).
    """
    n = arr.shape[-1] if arr.ndim else 1
    if arr.size == 0 or n == 0:
        return False
    rows = arr.reshape(-1, n)
    m = rows.shape[0]
    block = max(1, _CHECK_BLOCK_BYTES // (8 * n))
    if threads is None:
        threads = N_THREADS if arr.size >= _PARALLEL_CHECK_MIN_ENTRIES else 1
    n_parts = max(1, min(int(threads), -(-m // block)))
    cuts = [m * i // n_parts for i in range(n_parts + 1)]
    failed = []

    def part(lo, hi):
        def job():
            out = np.empty(min(block, hi - lo))
            pairs = np.empty(min(block, hi - lo), dtype=np.complex128)
            for start in range(lo, hi, block):
                if failed:
                    return
                if not rows_ok(rows[start:min(hi, start + block)], out, pairs):
                    failed.append(start)
                    return

        return job

    _run([part(cuts[i], cuts[i + 1]) for i in range(n_parts)])
    return not failed


# --------------------------------------------------------------------------- forward pass
def forward_distributions(mdp, pi, horizon, p0, *, store=True, threads=None, small=None):
    r"""Run :math:`d_{t+1}(s') = \sum_{s,a} d_t(s)\pi_t(a|s)P(s'|s,a)` from ``d_0 = p0``.

    Parameters
    ----------
    mdp : TabularMDP
    pi : ndarray, shape (S, A) or (horizon, S, A)
        Validated policy (stationary or time-varying).
    horizon : int
        Number of distributions d_0..d_{horizon-1}.
    p0 : ndarray, shape (S,)
    store : bool
        If true return every d_t, shape (horizon, S); else only their sum.
    threads : int, optional
        Threads for the sparse products; default :data:`N_THREADS` when the MDP
        has at least :data:`PARALLEL_MIN_NNZ` stored transitions, else 1.
    small : bool, optional
        Force (True) or forbid (False) the small-MDP path (a dense (S, S)
        :math:`P_\pi` for a stationary policy); default: when
        ``S <= SMALL_MDP_STATES``.

    Returns
    -------
    (ndarray or None, ndarray)
        The per-step distributions (or None) and D = sum_t d_t, shape (S,).

    Notes
    -----
    Every path computes the same sums in a different order; they agree to
    round-off (1e-15 relative on the benchmarks).
    """
    S = mdp.n_states
    dtype = np.result_type(pi, p0, np.float64)
    out = np.empty((horizon, S), dtype=dtype) if store else None
    total = np.zeros(S, dtype=dtype)
    if horizon == 0:
        return out, total
    d = np.array(p0, dtype=dtype)
    if horizon == 1:
        if store:
            out[0] = d
        total += d
        return out, total
    small = S <= SMALL_MDP_STATES if small is None else bool(small)
    if pi.ndim == 2:
        step = _stationary_step(mdp, pi, dtype, small, threads)
    else:
        step = _time_varying_step(mdp, pi, dtype, threads)
    buf = np.empty(S, dtype=dtype)
    for t in range(horizon):
        if store:
            out[t] = d
        total += d
        if t == horizon - 1:
            break
        buf = step(t, d, buf)
        d, buf = buf, d
    return out, total


def _stationary_step(mdp, pi, dtype, small, threads):
    P_pi = mdp._transition_matrix(pi)
    if sp.issparse(P_pi):
        if small:
            # S <= SMALL_MDP_STATES: the (S, S) matrix is at most 320 kB; it is P_pi, not the MDP.
            P_pi = P_pi.toarray()
        else:
            product = _CSRProduct(P_pi.T.tocsr(), threads)

            def step(t, d, y):
                return product(d, y)

            return step
    P_pi = np.ascontiguousarray(P_pi, dtype=dtype)

    def step(t, d, y):
        return np.dot(d, P_pi, out=y)

    return step


def _time_varying_step(mdp, pi, dtype, threads):
    S, A = mdp.n_states, mdp.n_actions
    P = mdp._P_flat
    x = np.empty((S, A), dtype=dtype)
    if not mdp.is_sparse:

        def step(t, d, y):
            np.multiply(d[:, None], pi[t], out=x)
            return np.dot(x.reshape(S * A), P, out=y)

        return step
    if not (_fast_ok(P.data, x, pi[0]) and P.indices.dtype == P.indptr.dtype):
        PT = P.T.tocsr()

        def step(t, d, y):
            y[...] = PT @ (d[:, None] * pi[t]).reshape(S * A)
            return y

        return step
    n_threads = _n_threads(threads, P.nnz, PARALLEL_MIN_NNZ_TIME_VARYING)
    bounds = _split_rows(P.indptr, n_threads, group=A)
    n_parts = len(bounds) - 1
    partial = [None] + [np.empty(S) for _ in range(n_parts - 1)]
    x_flat = x.reshape(S * A)
    if n_parts == 1:  # no thread hand-off: the small-MDP and single-thread path

        def step(t, d, y):
            np.multiply(d[:, None], pi[t], out=x)
            y.fill(0.0)
            _sparsetools.csc_matvec(S, S * A, P.indptr, P.indices, P.data, x_flat, y)
            return y

        return step

    def step(t, d, y):
        pi_t = pi[t]

        def part(i):
            lo, hi = bounds[i], bounds[i + 1]

            def job():
                # x(s, a) = d(s) pi_t(a|s) for this block of states, then y += P[block]^T x[block]
                np.multiply(d[lo:hi, None], pi_t[lo:hi], out=x[lo:hi])
                acc = y if i == 0 else partial[i]
                acc.fill(0.0)
                _sparsetools.csc_matvec(
                    S, (hi - lo) * A, P.indptr[lo * A:], P.indices, P.data, x_flat[lo * A:hi * A], acc
                )

            return job

        _run([part(i) for i in range(n_parts)])
        for i in range(1, n_parts):
            y += partial[i]
        return y

    return step


# --------------------------------------------------------------------------- soft backups
def _reference_log_expected_exp(P, logz):
    """log sum_k P[row, k] exp(logz[k]) for every row of a CSR P, each row with its own maximum."""
    vals = logz[P.indices]
    starts = P.indptr[:-1]
    counts = np.diff(P.indptr)
    out = np.full(P.shape[0], -np.inf)
    nonempty = counts > 0
    if not np.any(nonempty):
        return out
    row_max = np.full(P.shape[0], -np.inf)
    row_max[nonempty] = np.maximum.reduceat(vals, starts[nonempty])
    finite = np.isfinite(row_max)
    shift = np.where(finite, row_max, 0.0)
    with np.errstate(under="ignore", invalid="ignore"):
        w = P.data * np.exp(vals - np.repeat(shift, counts))
    sums = np.zeros(P.shape[0])
    sums[nonempty] = np.add.reduceat(w, starts[nonempty])
    with np.errstate(divide="ignore"):
        out = np.where(finite, shift + np.log(sums), -np.inf)
    return out


def _mdp_product(mdp, threads):
    """The MDP's ``y = P x`` product, built once per (MDP, threads): its row split costs a
    search of the whole indptr, as much as the elementwise work of a step."""
    cache = mdp.__dict__.setdefault("_csr_products", {})
    product = cache.get(threads)
    if product is None:
        product = cache[threads] = _CSRProduct(mdp._P_flat, threads)
    return product


def _needs_reference(top):
    """Whether ``top = max(logz)`` sends a soft backup to the reference path (NaN or +inf in logz).

    One pass over logz gives ``top``; the fast paths shift by it, and ``top == -inf`` means every
    entry is -inf."""
    return bool(np.isnan(top) or top == np.inf)


def _expectation(mdp, w, threads, out=None):
    """y = P w flat (S*A,), into ``out`` (reshaped) when given."""
    S, A = mdp.n_states, mdp.n_actions
    y = np.empty(S * A) if out is None else out.reshape(S * A)
    if mdp.is_sparse:
        _mdp_product(mdp, threads)(w, y)
    else:
        np.dot(mdp._P_flat, w, out=y)
    return y


def _shifted_expectation(mdp, logz, threads, top):
    """``(y, m)`` with y = P exp(logz - m) flat (S*A,), m = ``top`` = max logz (``(None, None)`` if
    logz is all -inf); the caller has routed NaN and +inf to the reference path."""
    if top == -np.inf:
        return None, None
    m = float(top)
    with np.errstate(under="ignore"):
        w = np.exp(logz - m)
    return _expectation(mdp, w, threads), m


def _fix_tiny_rows(mdp, logz, y, lee):
    """Recompute exactly (own maximum per row) the entries of ``lee`` whose shifted sum is tiny."""
    bad = np.flatnonzero(y < _LOG_TINY)
    if bad.size == 0:
        return lee
    if mdp.is_sparse:
        lee[bad] = _reference_log_expected_exp(mdp._P_flat[bad], logz)
    else:
        with np.errstate(divide="ignore"):
            logP = np.log(mdp._P_flat[bad])
        lee[bad] = logsumexp(logP + logz[None, :], axis=1)
    return lee


def log_expected_exp(mdp, logz, *, threads=None):
    r"""Log-space expectation over successors, :math:`\log\sum_{s'} P(s'|s,a)\, e^{z(s')}`.

    Exact and finite for any finite ``logz`` (1e6 included); entries of
    ``logz`` may be ``-inf`` (zero partition function), and a row whose every
    successor is ``-inf`` returns ``-inf``.

    Computed as :math:`m + \log\sum_{s'}P(s'|s,a)e^{z(s') - m}` with the global
    maximum m (one sparse product); every (s, a) whose shifted sum is below
    1e-200 (so underflow could matter) is recomputed with the maximum over its
    own successors.

    Parameters
    ----------
    mdp : TabularMDP
    logz : ndarray, shape (S,)
    threads : int, optional
        Threads for the sparse product (see :func:`forward_distributions`).

    Returns
    -------
    ndarray, shape (S, A)
    """
    S, A = mdp.n_states, mdp.n_actions
    logz = np.asarray(logz, dtype=np.float64)
    top = np.max(logz)
    if _needs_reference(top):
        return _log_expected_exp_reference(mdp, logz)
    y, m = _shifted_expectation(mdp, logz, threads, top)
    if y is None:
        return np.full((S, A), -np.inf)
    with np.errstate(divide="ignore"):
        lee = np.log(y)
    lee += m
    return _fix_tiny_rows(mdp, logz, y, lee).reshape(S, A)


def _log_expected_exp_reference(mdp, logz):
    """The plain formulation of :func:`log_expected_exp` (per-row maxima; dense: logsumexp of log P)."""
    S, A = mdp.n_states, mdp.n_actions
    if mdp.is_sparse:
        return _reference_log_expected_exp(mdp._P_flat, logz).reshape(S, A)
    with np.errstate(divide="ignore"):
        logP = np.log(mdp.P)
    return logsumexp(logP + logz[None, None, :], axis=2)


def soft_max_actions(Q, *, out=None):
    r"""Log-sum-exp over the action axis, :math:`V(s) = \log\sum_a e^{Q(s,a)}`, and the
    policy :math:`\pi(a|s) = e^{Q(s,a) - V(s)}`; rows of all ``-inf`` give V = -inf
    and a uniform policy.

    Parameters
    ----------
    Q : ndarray, shape (..., A)

    out : ndarray, shape (..., A), optional
        Where to write the policy (may be ``Q`` itself); saves an allocation in loops.

    Returns
    -------
    V : ndarray, shape (...)
    pi : ndarray, shape (..., A)
    """
    Q = np.asarray(Q)
    if Q.dtype != np.float64 or Q.ndim < 2 or Q.shape[-1] > _UNROLL_MAX_ACTIONS:
        V, pi = _soft_max_actions_reference(Q)
        if out is not None:
            out[...] = pi
            pi = out
        return V, pi
    A = Q.shape[-1]
    cols = [Q[..., a] for a in range(A)]
    m = cols[0].copy()
    for c in cols[1:]:
        np.maximum(m, c, out=m)
    finite = np.isfinite(m)
    all_finite = bool(np.all(finite))
    shift = m if all_finite else np.where(finite, m, 0.0)
    pi = np.empty(Q.shape) if out is None else out
    with np.errstate(under="ignore", invalid="ignore"):
        np.subtract(Q, shift[..., None], out=pi)
        np.exp(pi, out=pi)
    z = pi[..., 0].copy()
    for a in range(1, A):
        z += pi[..., a]
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 and log 0 on all -inf rows, fixed below
        pi /= z[..., None]
        V = np.log(z)
    V += shift
    if not all_finite:
        V[~finite] = -np.inf
        pi[~finite] = 1.0 / A
    return V, pi


def _soft_max_actions_reference(Q):
    """The plain formulation of :func:`soft_max_actions` (reductions over the last axis)."""
    Q = np.asarray(Q, dtype=np.result_type(Q, np.float64))
    m = np.max(Q, axis=-1, keepdims=True)
    finite = np.isfinite(m)
    shift = np.where(finite, m, 0.0)
    with np.errstate(under="ignore"):
        e = np.exp(Q - shift)
    z = np.sum(e, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        V = np.where(finite, shift + np.log(z), -np.inf)
        pi = np.where(finite, e / z, 1.0 / Q.shape[-1])
    return V[..., 0], pi


def soft_bellman_backup(mdp, V, r, gamma, *, threads=None, out=None):
    r"""One soft (maximum causal entropy) Bellman backup.

    .. math::
        Q(s,a) = r(s,a) + \gamma\sum_{s'}P(s'|s,a)V(s'),\qquad
        V'(s) = \log\sum_a e^{Q(s,a)},\qquad \pi(a|s) = e^{Q(s,a) - V'(s)}.

    ``V`` may hold ``-inf`` (states excluded by a goal set); an (s, a) with a
    ``-inf`` successor then has ``Q = -inf``. With ``gamma == 0``, ``Q = r``.

    Parameters
    ----------
    mdp : TabularMDP
    V : ndarray, shape (S,)
    r : ndarray, shape (S,) or (S, A)
    gamma : float
    threads : int, optional
    out : ndarray, shape (S, A), optional
        Where to write the policy (C-contiguous float64); saves allocations in loops.

    Returns
    -------
    V_new : ndarray, shape (S,)
    pi : ndarray, shape (S, A)
        ``Q`` is ``V_new[:, None] + log(pi)`` where ``pi > 0``, or
        ``r + gamma * mdp.expected_next(V)``.
    """
    Q = _soft_q(mdp, V, r, gamma, threads, out=out)
    return soft_max_actions(Q, out=Q)


def _soft_q(mdp, V, r, gamma, threads=None, out=None):
    S, A = mdp.n_states, mdp.n_actions
    r = np.asarray(r, dtype=np.float64)
    r = r[:, None] if r.ndim == 1 else r
    Q = np.empty(S * A) if out is None else out.reshape(S * A)
    if gamma == 0:
        Q.reshape(S, A)[...] = r
        return Q.reshape(S, A)
    V = np.asarray(V, dtype=np.float64)
    if mdp.is_sparse:
        _mdp_product(mdp, threads)(np.ascontiguousarray(V), Q)
    elif np.all(np.isfinite(V)):
        np.dot(mdp._P_flat, V, out=Q)
    else:  # dense zeros times -inf would be nan: only successors with P > 0 count
        dead = ~np.isfinite(V)
        np.dot(mdp._P_flat, np.where(dead, 0.0, V), out=Q)
        Q[mdp._P_flat[:, dead].sum(axis=1) > 0] = -np.inf
    Q = Q.reshape(S, A)
    Q *= gamma
    Q += r
    return Q


#: States per chunk of the fused MaxEnt backup: its (chunk, A) block of y (512 KB with four
#: actions) is summed, logged and divided while it is still in the core's L2 cache.
BACKUP_CHUNK_STATES = 16_384


def _fused_backup(mdp, w, y2, logz_new, threads):
    """y = P w, ysum = y.sum(axis=1), logz_new = log ysum, y /= ysum, chunk by chunk in each thread.

    The unfused sequence streams the (S, A) block of y from memory five more times (a strided
    pass per action, then the division); here each chunk is produced by the sparse product and
    finished while in cache. Returns the states whose ysum is below ``_LOG_TINY`` (the caller
    redoes them in logs)."""
    P = mdp._P_flat
    S, A = y2.shape
    y = y2.reshape(S * A)
    bounds = _mdp_product(mdp, threads).group_bounds(A)
    bad = [None] * (len(bounds) - 1)
    n_col = P.shape[1]

    def part(i, lo, hi):
        def job():
            found = []
            for c0 in range(lo, hi, BACKUP_CHUNK_STATES):
                c1 = min(c0 + BACKUP_CHUNK_STATES, hi)
                yc = y[c0 * A:c1 * A]
                yc.fill(0.0)  # the kernel accumulates into y
                _sparsetools.csr_matvec((c1 - c0) * A, n_col, P.indptr[c0 * A:], P.indices, P.data, w, yc)
                block = y2[c0:c1]
                ysum = block[:, 0].copy()
                for a in range(1, A):
                    ysum += block[:, a]
                tiny = np.flatnonzero(ysum < _LOG_TINY)
                if tiny.size:
                    found.append(tiny + c0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    np.log(ysum, out=logz_new[c0:c1])
                    block /= ysum[:, None]
            bad[i] = np.concatenate(found) if found else np.empty(0, dtype=np.intp)

        return job

    _run([part(i, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)])
    return np.concatenate(bad)


def log_partition_backup(mdp, logz, r, *, threads=None, out=None):
    r"""One MaxEnt (Ziebart et al. 2008) backward step, in log space.

    .. math::
        \log Z_a(s) = r(s,a) + \log\sum_{s'}P(s'|s,a)Z(s'),\qquad
        \log Z'(s) = \log\sum_a Z_a(s),\qquad \pi(a|s) = Z_a(s)/Z'(s).

    Parameters
    ----------
    mdp : TabularMDP
    logz : ndarray, shape (S,)
        :math:`\log Z` one step later; may hold ``-inf``.
    r : ndarray, shape (S,) or (S, A)
        The reward of the current state (or state-action).
    threads : int, optional
    out : ndarray, shape (S, A), optional
        Where to write the policy (C-contiguous float64); saves allocations in loops.

    Returns
    -------
    logz_new : ndarray, shape (S,)
    pi : ndarray, shape (S, A)
        A state whose every :math:`Z_a` is 0 gets :math:`\log Z' = -\infty` and a uniform policy.
    """
    S, A = mdp.n_states, mdp.n_actions
    logz = np.asarray(logz, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    top = np.max(logz)
    if r.ndim == 1 and not _needs_reference(top):
        pi = np.empty((S, A)) if out is None else out
        if top == -np.inf:
            pi.fill(1.0 / A)
            return np.full(S, -np.inf), pi
        m = float(top)
        with np.errstate(under="ignore"):
            w = np.exp(logz - m)
        if mdp.is_sparse and _mdp_product(mdp, threads).fast and _fast_ok(w, pi):
            logz_new = np.empty(S)
            bad = _fused_backup(mdp, w, pi, logz_new, threads)
        else:
            pi = _expectation(mdp, w, threads, out=pi).reshape(S, A)
            ysum = pi[:, 0].copy()
            for a in range(1, A):
                ysum += pi[:, a]
            bad = np.flatnonzero(ysum < _LOG_TINY)
            with np.errstate(divide="ignore", invalid="ignore"):
                logz_new = np.log(ysum)
                pi /= ysum[:, None]
        # Z'(s) = e^{r(s) + m} ysum(s) and pi = y / ysum: exact wherever ysum >= 1e-200 (an
        # underflowed term of y is then below round-off); other states are redone in logs.
        logz_new += m
        logz_new += r
        if bad.size:
            rows = (bad[:, None] * A + np.arange(A)).ravel()
            P = mdp._P_flat
            if mdp.is_sparse:
                lee = _reference_log_expected_exp(P[rows], logz)
            else:
                with np.errstate(divide="ignore"):
                    lee = logsumexp(np.log(P[rows]) + logz[None, :], axis=1)
            logz_new[bad], pi[bad] = soft_max_actions(lee.reshape(-1, A) + r[bad, None])
        return logz_new, pi
    lee = log_expected_exp(mdp, logz, threads=threads)
    lee += r if r.ndim == 2 else r[:, None]
    return soft_max_actions(lee, out=out)


def _policy_buffer(out, shape):
    """A fresh (H, S, A) array, or ``out`` as given (a ``numpy.memmap`` stays one) if it is a
    writeable C-contiguous float64 array of that shape; else a TypeError/ValueError naming each
    problem."""
    if out is None:
        return np.empty(shape)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray (a numpy.memmap works), got {type(out).__name__}")
    problems = []
    if out.shape != shape:
        problems.append(f"shape {out.shape} (expected {shape})")
    if out.dtype != np.float64:
        problems.append(f"dtype {out.dtype} (expected float64)")
    if not out.flags.c_contiguous:
        problems.append("a non-C-contiguous layout")
    if not out.flags.writeable:
        problems.append("a read-only buffer")
    if problems:
        raise ValueError(f"out must be a writeable C-contiguous float64 array of shape {shape} "
                         "(horizon, S, A); got " + ", ".join(problems))
    return out


def maxent_backward(mdp, r, horizon, log_z_final, *, out=None, threads=None):
    r"""The time-indexed MaxEnt backward pass: local action probabilities for t = 0..horizon-1.

    .. math::
        \log Z_H = \text{log\_z\_final},\quad
        \log Z_{a,t}(s) = r(s,a) + \log\sum_{s'}P(s'|s,a)Z_{t+1}(s'),\quad
        \log Z_t(s) = \log\sum_a Z_{a,t}(s),\quad \pi_t(a|s) = Z_{a,t}(s)/Z_t(s).

    Parameters
    ----------
    mdp : TabularMDP
    r : ndarray, shape (S,) or (S, A)
    horizon : int >= 0
    log_z_final : ndarray, shape (S,)
        0 everywhere for the model over all length-H paths; 0 on a terminal set
        and ``-inf`` elsewhere for the goal-directed model.
    out : ndarray, shape (horizon, S, A), optional
        Where to write the policies (saves one (H, S, A) allocation).
    threads : int, optional

    Returns
    -------
    log_z0 : ndarray, shape (S,)
        :math:`\log Z_0`.
    pi : ndarray, shape (horizon, S, A)
    """
    S, A = mdp.n_states, mdp.n_actions
    pi = _policy_buffer(out, (horizon, S, A))
    logz = np.array(log_z_final, dtype=np.float64)
    for t in range(horizon - 1, -1, -1):
        logz, _ = log_partition_backup(mdp, logz, r, threads=threads, out=pi[t])
    return logz, pi


def maxent_backward_first(mdp, r, horizon, log_z_final, *, threads=None):
    r"""Only :math:`\pi_0` of :func:`maxent_backward`, computed with one (S, A) buffer.

    Each step overwrites the buffer with :math:`\pi_t`, so memory is O(SA) instead of
    O(HSA) (32 GB at ten million states and H = 100, four actions).

    Returns
    -------
    log_z0 : ndarray, shape (S,)
    pi0 : ndarray, shape (S, A)
    """
    buf = np.empty((mdp.n_states, mdp.n_actions))
    logz = np.array(log_z_final, dtype=np.float64)
    for _ in range(horizon):
        logz, _ = log_partition_backup(mdp, logz, r, threads=threads, out=buf)
    return logz, buf


def mce_backward(mdp, r, horizon, gamma, V_final, *, out=None, threads=None):
    r"""The finite-horizon soft Bellman (maximum causal entropy) backward pass.

    .. math::
        V_H = \text{V\_final},\quad Q_t = r + \gamma P V_{t+1},\quad
        V_t = \log\sum_a e^{Q_t},\quad \pi_t = e^{Q_t - V_t},\quad t = H-1, \dots, 0.

    Parameters
    ----------
    mdp : TabularMDP
    r : ndarray, shape (S,) or (S, A)
    horizon : int >= 0
    gamma : float
    V_final : ndarray, shape (S,)
        0 everywhere, or ``-inf`` off a goal set.
    out : ndarray, shape (horizon, S, A), optional
    threads : int, optional

    Returns
    -------
    V0 : ndarray, shape (S,)
    pi : ndarray, shape (horizon, S, A)
    """
    S, A = mdp.n_states, mdp.n_actions
    pi = _policy_buffer(out, (horizon, S, A))
    V = np.array(V_final, dtype=np.float64)
    for t in range(horizon - 1, -1, -1):
        V, _ = soft_bellman_backup(mdp, V, r, gamma, threads=threads, out=pi[t])
    return V, pi
