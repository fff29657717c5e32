r"""MDP generators: random Garnet MDPs, a chain, and deterministic MDPs from a next-state table.

Every builder assembles its transitions directly as a CSR (S*A, S) matrix
(or, on request, a dense (S, A, S) array for small MDPs) with vectorised NumPy,
so a million states need no dense S x S anything. Randomness comes only from
the required keyword ``rng`` (a ``numpy.random.Generator``).
"""

import numpy as np
import scipy.sparse as sp

from . import _validation as _v
from .mdp import TabularMDP

__all__ = ["chain_mdp", "deterministic_mdp", "garnet"]


def _from_columns(cols, probs, S, *, sparse):
    """Transitions from K successor columns per (s, a): ``cols``, ``probs`` of shape (S, A, K).

    Duplicate columns within a row are summed when the MDP is built.
    """
    S_, A, K = cols.shape
    if sparse:
        idx_dtype = np.int32 if S_ * A * K < np.iinfo(np.int32).max else np.int64
        indptr = np.arange(0, S_ * A * K + 1, K, dtype=idx_dtype)
        return sp.csr_matrix((probs.ravel(), cols.ravel().astype(idx_dtype), indptr), shape=(S_ * A, S))
    P = np.zeros((S_, A, S))
    s_idx = np.broadcast_to(np.arange(S_)[:, None, None], cols.shape)
    a_idx = np.broadcast_to(np.arange(A)[None, :, None], cols.shape)
    np.add.at(P, (s_idx, a_idx, cols), probs)
    return P


def _sample_without_replacement(n, k, n_rows, rng):
    """``n_rows`` independent uniform k-subsets of range(n), shape (n_rows, k) (Floyd's algorithm, vectorised)."""
    chosen = np.empty((n_rows, k), dtype=np.int64)
    for i, j in enumerate(range(n - k, n)):
        t = rng.integers(0, j + 1, size=n_rows)
        taken = (chosen[:, :i] == t[:, None]).any(axis=1)
        chosen[:, i] = np.where(taken, j, t)
    return chosen


def garnet(n_states, n_actions, branching, *, rng, gamma=0.9, sparse=True):
    r"""A random Garnet MDP (Archibald, McKinnon & Thomas 1995; Bhatnagar et al. 2009).

    Each (s, a) moves to ``branching`` distinct next states drawn uniformly
    without replacement, with probabilities given by the gaps between
    ``branching - 1`` sorted uniform cut points of [0, 1] (a uniform point of
    the simplex). Rewards :math:`r(s, a) \sim U[0, 1)` independently; ``mu``
    uniform.

    .. math::

        P(\cdot | s, a) = \sum_{k=1}^{b} (u_{(k)} - u_{(k-1)})\, \delta_{s_k},
        \quad u_{(0)} = 0,\ u_{(b)} = 1.

    Parameters
    ----------
    n_states, n_actions : int
        S >= 1 and A >= 1.
    branching : int
        Next states per (s, a), in [1, S].
    rng : numpy.random.Generator
        The only source of randomness (required).
    gamma : float
        Discount in [0, 1].
    sparse : bool
        CSR (S*A, S) transitions (default; S*A*branching stored entries) or dense.

    Returns
    -------
    TabularMDP

    References
    ----------
    T. Archibald, K. McKinnon, L. Thomas, "On the generation of Markov decision
    processes", J. Operational Research Society 46 (1995).
    S. Bhatnagar, R. Sutton, M. Ghavamzadeh, M. Lee, "Natural actor-critic
    algorithms", Automatica 45 (2009), Section 6 (Garnet problems).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl.generators import garnet
    >>> mdp = garnet(100, 4, 3, rng=np.random.default_rng(0))
    >>> mdp.n_states, mdp.n_actions, mdp.nnz
    (100, 4, 1200)
    """
    S = _v.check_int(n_states, "n_states", min_value=1)
    A = _v.check_int(n_actions, "n_actions", min_value=1)
    b = _v.check_int(branching, "branching", min_value=1, max_value=S)
    rng = _v.check_rng(rng)
    cols = _sample_without_replacement(S, b, S * A, rng).reshape(S, A, b)
    cuts = np.sort(rng.random((S, A, b - 1)), axis=-1)
    edges = np.concatenate([np.zeros((S, A, 1)), cuts, np.ones((S, A, 1))], axis=-1)
    probs = np.diff(edges, axis=-1)
    R = rng.random((S, A))
    P = _from_columns(cols, probs, S, sparse=bool(sparse))
    return TabularMDP(P, R, gamma)


def chain_mdp(n_states, *, slip=0.0, left_reward=0.0, right_reward=1.0, gamma=0.9, sparse=True):
    r"""A chain of states 0 .. S-1 with actions left (0) and right (1).

    A move goes in its direction with probability ``1 - slip`` and the other way
    with probability ``slip``; moves past either end stay. The reward is a state
    reward, paid at every step spent in an end state whatever the action:

    .. math::

        r(s, a) = \text{left\_reward}\,[s = 0] + \text{right\_reward}\,[s = S-1],
        \qquad \mu = \delta_0 .

    (With S = 1 both rewards are paid in the single state.) With a small
    ``left_reward`` and a large ``right_reward`` it is the usual deep-exploration
    chain: myopic policies stay at the left.

    Parameters
    ----------
    n_states : int
        S >= 1.
    slip : float
        Probability in [0, 1] of moving the opposite way.
    left_reward, right_reward : float
    gamma : float
    sparse : bool

    Returns
    -------
    TabularMDP

    Examples
    --------
    >>> from tabular_rl import policy_iteration
    >>> from tabular_rl.generators import chain_mdp
    >>> mdp = chain_mdp(5, gamma=0.5)
    >>> policy_iteration(mdp).V.round(4)
    array([0.125, 0.25 , 0.5  , 1.   , 2.   ])
    """
    S = _v.check_int(n_states, "n_states", min_value=1)
    slip = _v.check_probability(slip, "slip")
    left_reward = _v.check_real(left_reward, "left_reward")
    right_reward = _v.check_real(right_reward, "right_reward")
    s = np.arange(S)
    left = np.maximum(s - 1, 0)
    right = np.minimum(s + 1, S - 1)
    cols = np.stack([np.stack([left, right], axis=1), np.stack([right, left], axis=1)], axis=1)  # (S, 2, 2)
    probs = np.broadcast_to(np.array([1.0 - slip, slip]), cols.shape)
    if slip == 0.0:
        cols, probs = cols[:, :, :1], probs[:, :, :1]
    P = _from_columns(cols, np.ascontiguousarray(probs), S, sparse=bool(sparse))
    R = np.zeros((S, 2))
    R[0] += left_reward
    R[S - 1] += right_reward
    mu = np.zeros(S)
    mu[0] = 1.0
    return TabularMDP(P, R, gamma, mu=mu)


def deterministic_mdp(next_state, R, gamma, mu=None, *, sparse=True):
    r"""An MDP with deterministic transitions :math:`P(s'|s, a) = [s' = \text{next\_state}[s, a]]`.

    Parameters
    ----------
    next_state : array_like of int, shape (S, A)
        The successor of each (s, a), each in [0, S).
    R : array_like
        Rewards as :class:`~tabular_rl.TabularMDP` accepts them: (S,), (S, A) or
        (S, A, S).
    gamma : float
    mu : array_like, shape (S,), optional
        Default uniform.
    sparse : bool
        CSR (S*A, S) with one entry per row (default) or dense.

    Returns
    -------
    TabularMDP

    Raises
    ------
    ValueError
        If ``next_state`` is not 2-D or holds an entry outside [0, S).
    TypeError
        If ``next_state`` is not an integer array.

    Examples
    --------
    >>> from tabular_rl import policy_evaluation
    >>> from tabular_rl.generators import deterministic_mdp
    >>> mdp = deterministic_mdp([[1], [0]], R=[1.0, 0.0], gamma=0.5)
    >>> policy_evaluation(mdp, [[1.0], [1.0]]).round(6)
    array([1.333333, 0.666667])
    """
    nxt = _v.as_array(next_state, "next_state")
    if nxt.dtype == object or not (np.issubdtype(nxt.dtype, np.integer)):
        raise TypeError(f"next_state must be an integer array of shape (S, A), got dtype {nxt.dtype}")
    if nxt.ndim != 2 or 0 in nxt.shape:
        raise ValueError(f"next_state must have shape (S, A) with S, A >= 1, got shape {nxt.shape}")
    S = nxt.shape[0]
    bad = (nxt < 0) | (nxt >= S)
    if np.any(bad):
        s, a = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"next_state entries must be states in [0, {S}), got next_state[{s}, {a}] == {int(nxt[s, a])}"
        )
    cols = nxt.astype(np.int64)[:, :, None]
    P = _from_columns(cols, np.ones(cols.shape), S, sparse=bool(sparse))
    return TabularMDP(P, R, gamma, mu=mu)
