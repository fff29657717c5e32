"""The finite MDP with a known transition matrix, validated once.

``TabularMDP`` holds transitions either dense, shape (S, A, S), or sparse, as a
CSR matrix of shape (S*A, S) whose row ``s*A + a`` is P(.|s, a).  Both layouts
expose the same two primitives on which every algorithm in the library is
built, so no function ever densifies a sparse matrix:

* ``mdp.expected_next(V)``: ``(P V)(s, a) = sum_s' P(s'|s, a) V(s')``, shape (S, A);
* ``mdp.push_forward(x)``: ``(x P)(s') = sum_{s,a} x(s, a) P(s'|s, a)``, shape (S,).
"""

import numpy as np
import scipy.sparse as sp

from . import _validation as _v

__all__ = ["TabularMDP"]


def _readonly(arr):
    arr = np.array(arr, dtype=np.float64, copy=True)
    arr.setflags(write=False)
    return arr


class TabularMDP:
    r"""A finite, discounted Markov decision process with known dynamics.

    Parameters
    ----------
    P : array_like or scipy.sparse matrix/array
        Transition probabilities. Dense: shape (S, A, S) with ``P[s, a, s2]`` =
        P(s2 | s, a). Sparse: any ``scipy.sparse`` matrix or array of shape
        (S*A, S) whose row ``s*A + a`` is P(. | s, a); it is stored as CSR and
        never densified. Entries must be finite and non-negative and every row
        must sum to 1 within 1e-8 (rows are then renormalised exactly in
        float64); for float32 or float16 input the tolerance is that dtype's
        round-off, n * eps for a row of n entries (1.2e-7 per entry in float32).

        The layout is state-first. An action-first (A, S, S) array (the layout
        of pymdptoolbox and many course handouts) with A != S is rejected with
        a message naming :func:`~tabular_rl.converters.from_pymdptoolbox`; with
        A == S it cannot be told apart from (S, A, S) and is read as such, so
        convert it (``from_pymdptoolbox``, or ``numpy.transpose(P, (1, 0, 2))``).
        Likewise a sparse matrix whose rows are ordered action-major
        (``a*S + s``) has the same shape as the state-major one expected here:
        pass it to ``from_pymdptoolbox``, which takes that order.
    R : array_like or scipy.sparse matrix/array
        Rewards, one of: shape (S,), a state reward r(s) paid for every action;
        shape (S, A), the expected reward r(s, a); shape (S, A, S), a transition
        reward R(s, a, s2), reduced to r(s, a) = sum_s2 P(s2|s, a) R(s, a, s2).
        With sparse ``P`` a sparse (S*A, S) transition reward is accepted too.
    gamma : float
        Discount factor in [0, 1]. ``gamma == 1`` is allowed for finite-horizon
        computations, and for infinite-horizon ones when the MDP has terminal
        states and the policy is proper (reaches a terminal state with
        probability 1 from every state: the stochastic shortest path setting of
        Bertsekas & Tsitsiklis 1991); otherwise they raise ``ValueError``.
    mu : array_like, optional
        Initial-state distribution, shape (S,). Default: uniform.
    terminal : array_like of bool, shape (S,), or sequence of int, optional
        The terminal states, as a boolean mask or as state indices (duplicates
        allowed). A terminal state is **absorbing with zero reward**: whatever
        ``P`` and ``R`` say about its rows is replaced by a self-loop,
        P(s|s, a) = 1, with r(s, a) = 0 for every action (the arrays passed in
        are not modified; a sparse ``P`` stays sparse). States that ``P`` and
        ``R`` already make absorbing with zero reward under every action are
        terminal too, whether listed or not.

    Attributes
    ----------
    n_states, n_actions : int
        S and A.
    gamma : float
    mu : ndarray, shape (S,), read-only
    R : ndarray, shape (S, A), read-only
        The expected reward r(s, a).
    P : ndarray (S, A, S) or scipy.sparse.csr_matrix (S*A, S)
        The transitions in the layout they were given (read-only), with the
        terminal rows replaced by self-loops.
    terminal : ndarray of bool, shape (S,), read-only
        The terminal mask: the states listed in ``terminal`` and every state
        that is absorbing with zero reward under every action.
    is_sparse : bool

    Notes
    -----
    The MDP is validated here, once; every function downstream trusts it.
    Rewards are stored only as the expectation r(s, a): every quantity the
    library computes (values, gradients, sampled returns) depends on the reward
    only through it.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]],
    ...               [[0.0, 1.0], [1.0, 0.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 1.0], gamma=0.9)
    >>> mdp.n_states, mdp.n_actions
    (2, 2)
    >>> mdp.R
    array([[0., 0.],
           [1., 1.]])

    An episodic task: state 1 is terminal, so its rows become a zero-reward
    self-loop whatever ``P`` and ``R`` say, and gamma = 1 is allowed:

    >>> mdp = TabularMDP(P, R=[-1.0, 5.0], gamma=1.0, terminal=[1])
    >>> mdp.terminal
    array([False,  True])
    >>> mdp.R
    array([[-1., -1.],
           [ 0.,  0.]])
    >>> mdp.P[1]
    array([[0., 1.],
           [0., 1.]])
    """

    def __init__(self, P, R, gamma, mu=None, *, terminal=None):
        self.gamma = _v.check_gamma(gamma)
        if sp.issparse(P):
            self._init_sparse(P)
        else:
            self._init_dense(P)
        S = self.n_states
        listed = _v.check_terminal(terminal, S)
        r = self._reduce_reward(R)
        if np.any(listed & ~self._self_loops()):
            self._make_absorbing(listed)
        listed.setflags(write=False)
        self._listed_terminal = listed
        self._set_reward(r)
        if mu is None:
            mu = np.full(S, 1.0 / S)
        self.mu = _readonly(_v.check_distribution(mu, "mu", S))

    # ------------------------------------------------------------------ set-up
    def _init_dense(self, P):
        dtype = _v.input_dtype(P)
        P = _v.as_float_array(P, "P")
        if P.ndim != 3 or P.shape[0] != P.shape[2] or 0 in P.shape:
            hint = ""
            if P.ndim == 3 and P.shape[1] == P.shape[2] and 0 not in P.shape:
                A, S = P.shape[0], P.shape[1]
                hint = (
                    f"; the shape fits the action-first layout (A, S, S) = ({A}, {S}, {S}) of pymdptoolbox "
                    "and many course handouts: use tabular_rl.converters.from_pymdptoolbox(P, R, gamma) "
                    "or pass numpy.transpose(P, (1, 0, 2))"
                )
            elif P.ndim == 3 and P.shape[0] == P.shape[1] and 0 not in P.shape:
                S, A = P.shape[0], P.shape[2]
                hint = (
                    f"; the shape fits irl-maxent's layout (S, S, A) = ({S}, {S}, {A}): use "
                    "tabular_rl.converters.from_irl_maxent(P, R, gamma)"
                )
            raise ValueError(
                f"P must have shape (S, A, S) with S, A >= 1 (dense) or be a scipy.sparse (S*A, S) "
                f"matrix, got shape {P.shape}{hint}"
            )
        _v.check_finite(P, "P")
        _v.check_nonnegative(P, "P")
        P = _v._normalise_rows(P, "P", "transition", dtype=dtype)
        self.n_states, self.n_actions = int(P.shape[0]), int(P.shape[1])
        P.setflags(write=False)
        self._P_dense = P
        self.is_sparse = False
        self._P_flat = P.reshape(self.n_states * self.n_actions, self.n_states)

    def _init_sparse(self, P):
        if P.ndim != 2:
            raise ValueError(f"sparse P must be 2-dimensional with shape (S*A, S), got shape {P.shape}")
        n_rows, S = P.shape
        if S < 1 or n_rows < 1 or n_rows % S != 0:
            raise ValueError(
                f"sparse P must have shape (S*A, S) with S, A >= 1, got shape {P.shape} "
                f"({n_rows} rows is not a positive multiple of {S} states)"
            )
        A = n_rows // S
        if np.iscomplexobj(P.data) or not np.issubdtype(P.dtype, np.number):
            raise TypeError(f"sparse P must have a real dtype, got {P.dtype}")
        dtype = P.dtype
        P = sp.csr_matrix(P, dtype=np.float64, copy=True)
        P.sum_duplicates()
        if not np.all(np.isfinite(P.data)):
            k = int(np.flatnonzero(~np.isfinite(P.data))[0])
            row = int(np.searchsorted(P.indptr, k, side="right") - 1)
            raise ValueError(
                f"P must be finite, got {P.data[k].item()!r} at P[{row // A}, {row % A}, {P.indices[k]}] (row {row})"
            )
        if np.any(P.data < 0):
            k = int(np.flatnonzero(P.data < 0)[0])
            row = int(np.searchsorted(P.indptr, k, side="right") - 1)
            raise ValueError(
                f"P must be non-negative, got {P.data[k].item()!r} at P[{row // A}, {row % A}, {P.indices[k]}] (row {row})"
            )
        P.eliminate_zeros()
        sums = np.asarray(P.sum(axis=1)).ravel()
        tol = _v.row_sum_tolerance(dtype, int(np.max(np.diff(P.indptr), initial=1)))
        bad = ~(np.abs(sums - 1.0) <= tol)
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            given = f" for {dtype} input" if tol > _v.ROW_SUM_TOL else ""
            raise ValueError(
                f"P[{row // A}, {row % A}, :] (sparse row {row}) sums to {sums[row].item()!r}; "
                f"each transition row must sum to 1 (tolerance {tol:g}{given})"
            )
        P.data /= np.repeat(sums, np.diff(P.indptr))
        P.sort_indices()
        P.data.setflags(write=False)
        P.indices.setflags(write=False)
        P.indptr.setflags(write=False)
        self.n_states, self.n_actions = int(S), int(A)
        self.is_sparse = True
        self._P_flat = P

    def _set_reward(self, r):
        """Store r (zeroed on the listed terminal states) and the terminal mask it implies."""
        r[self._listed_terminal] = 0.0
        mask = self._listed_terminal | self._absorbing_zero_reward(r)
        mask.setflags(write=False)
        self.terminal = mask
        self.R = _readonly(r)

    def _self_loops(self):
        """States whose only successor is themselves under every action (exact structure, no tolerance:
        the row's one stored non-zero is the diagonal; every row has at least one)."""
        S, A = self.n_states, self.n_actions
        own = np.repeat(np.arange(S), A)
        if self.is_sparse:
            M = self._P_flat
            loop = (np.diff(M.indptr) == 1) & (M.indices[M.indptr[:-1]] == own)
        else:
            flat = self._P_flat
            loop = (np.count_nonzero(flat, axis=1) == 1) & (flat[np.arange(S * A), own] > 0)
        return np.all(loop.reshape(S, A), axis=1)

    def _absorbing_zero_reward(self, r):
        """States that are absorbing under every action with r(s, a) = 0 for all a."""
        return np.all(r == 0, axis=1) & self._self_loops()

    def _make_absorbing(self, mask):
        """Replace the rows of the states in ``mask`` by self-loops (a new array; sparse stays sparse)."""
        S, A = self.n_states, self.n_actions
        states = np.flatnonzero(mask)
        if not self.is_sparse:
            P = np.array(self._P_dense)
            P[states] = 0.0
            P[states, :, states] = 1.0
            P.setflags(write=False)
            self._P_dense = P
            self._P_flat = P.reshape(S * A, S)
            return
        M = self._P_flat
        counts = np.diff(M.indptr)
        row_of_entry = np.repeat(np.arange(S * A), counts)
        term_rows = np.repeat(mask, A)
        keep = ~term_rows[row_of_entry]
        new_counts = np.where(term_rows, 1, counts)
        indptr = np.concatenate(([0], np.cumsum(new_counts))).astype(M.indptr.dtype, copy=False)
        indices = np.empty(indptr[-1], dtype=M.indices.dtype)
        data = np.empty(indptr[-1], dtype=np.float64)
        new_row_of_entry = np.repeat(np.arange(S * A), new_counts)
        kept_slots = ~term_rows[new_row_of_entry]
        indices[kept_slots] = M.indices[keep]
        data[kept_slots] = M.data[keep]
        rows = np.flatnonzero(term_rows)
        indices[indptr[rows]] = rows // A
        data[indptr[rows]] = 1.0
        for arr in (data, indices, indptr):
            arr.setflags(write=False)
        self._P_flat = sp.csr_matrix((data, indices, indptr), shape=M.shape, copy=False)

    def _reduce_reward(self, R):
        S, A = self.n_states, self.n_actions
        if sp.issparse(R):
            if not self.is_sparse:
                raise TypeError("R may be scipy.sparse only when P is sparse; pass a dense (S, A, S) array")
            if R.shape != (S * A, S):
                raise ValueError(f"sparse R must have shape ({S * A}, {S}) like sparse P, got {R.shape}")
            R = sp.csr_matrix(R, dtype=np.float64)
            if not np.all(np.isfinite(R.data)):
                raise ValueError("R must be finite, got a non-finite entry in sparse R")
            r = np.asarray(self._P_flat.multiply(R).sum(axis=1)).ravel()
            return r.reshape(S, A)
        R = _v.as_float_array(R, "R", real=True)
        if R.shape == (S,):
            _v.check_finite(R, "R")
            return np.repeat(R[:, None], A, axis=1)
        if R.shape == (S, A):
            _v.check_finite(R, "R")
            return R.copy()
        if R.shape == (S, A, S):
            _v.check_finite(R, "R")
            if self.is_sparse:
                # Only the entries on the sparsity pattern of P matter.
                flat = R.reshape(S * A, S)
                P = self._P_flat
                rows = np.repeat(np.arange(S * A), np.diff(P.indptr))
                vals = P.data * flat[rows, P.indices]
                return np.bincount(rows, weights=vals, minlength=S * A).reshape(S, A)
            return np.einsum("sat,sat->sa", self.P, R)
        raise ValueError(
            f"R must have shape ({S},), ({S}, {A}) or ({S}, {A}, {S}) for an MDP with "
            f"{S} states and {A} actions, got {R.shape}"
        )

    # -------------------------------------------------------------- primitives
    @property
    def P(self):
        """The transitions as given: the read-only (S, A, S) array, or a CSR (S*A, S) matrix.

        A sparse MDP hands out a new CSR object over its own read-only arrays on
        every access (no copy), so not even inserting a new entry into it can
        change the MDP.
        """
        if self.is_sparse:
            M = self._P_flat
            return sp.csr_matrix((M.data, M.indices, M.indptr), shape=M.shape, copy=False)
        return self._P_dense

    @property
    def shape(self):
        """``(n_states, n_actions)``."""
        return (self.n_states, self.n_actions)

    @property
    def nnz(self):
        """Number of stored transition probabilities (S*A*S when dense)."""
        return int(self._P_flat.nnz) if self.is_sparse else int(self._P_flat.size)

    def expected_next(self, V):
        r"""Expected next-state value, :math:`(PV)(s, a) = \sum_{s'} P(s'|s,a) V(s')`.

        ``V`` has shape (S,) or (S, K); the result has shape (S, A) or (S, A, K).
        """
        V = np.asarray(V)
        out = self._P_flat @ V
        return np.asarray(out).reshape((self.n_states, self.n_actions) + V.shape[1:])

    def push_forward(self, x):
        r"""State distribution after one step from state-action weights ``x``.

        :math:`(xP)(s') = \sum_{s,a} x(s, a) P(s'|s, a)`, with ``x`` of shape (S, A);
        returns shape (S,).
        """
        x = np.asarray(x).reshape(self.n_states * self.n_actions)
        return np.asarray(self._P_flat.T @ x).ravel()

    def transition_matrix(self, pi):
        r"""The state-to-state transition matrix under a stationary policy.

        :math:`P_\pi[s, s'] = \sum_a \pi(a|s) P(s'|s, a)`. Dense (S, S) ndarray for a
        dense MDP, ``scipy.sparse.csr_matrix`` for a sparse one.

        Parameters
        ----------
        pi : array_like, shape (S, A)
        """
        pi = _v.check_policy(pi, self)
        return self._transition_matrix(pi)

    def _transition_matrix(self, pi):
        S, A = self.n_states, self.n_actions
        if self.is_sparse:
            weights = sp.csr_matrix(
                (pi.ravel(), np.arange(S * A), np.arange(0, S * A + 1, A)), shape=(S, S * A)
            )
            return (weights @ self._P_flat).tocsr()
        return np.einsum("sa,sat->st", pi, self.P)

    def reward_vector(self, pi):
        r"""Expected reward under a stationary policy, :math:`r_\pi(s) = \sum_a \pi(a|s) r(s,a)`."""
        pi = _v.check_policy(pi, self)
        return np.einsum("sa,sa->s", pi, self.R)

    def with_(self, *, R=None, gamma=None, mu=None):
        """A copy with some of ``R``, ``gamma`` or ``mu`` replaced (transitions shared).

        The states given as ``terminal`` to the constructor stay terminal and a new
        ``R`` is zeroed on them; states that are terminal only because they were
        absorbing with zero reward are re-detected from the new ``R``.
        """
        new = object.__new__(TabularMDP)
        new.__dict__.update(self.__dict__)
        if gamma is not None:
            new.gamma = _v.check_gamma(gamma)
        if R is not None:
            new._set_reward(new._reduce_reward(R))
        if mu is not None:
            new.mu = _readonly(_v.check_distribution(mu, "mu", self.n_states))
        return new

    def todense(self):
        """The transitions as a dense (S, A, S) array (a new array; use only on small MDPs)."""
        if self.is_sparse:
            return self._P_flat.toarray().reshape(self.n_states, self.n_actions, self.n_states)
        return np.array(self.P)

    def __repr__(self):
        kind = f"sparse, nnz={self.nnz}" if self.is_sparse else "dense"
        return (
            f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"gamma={self.gamma:g}, {kind})"
        )
