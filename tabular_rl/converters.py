r"""Converters from other libraries' MDP layouts to :class:`~tabular_rl.TabularMDP`.

Each converter is a separate, explicit function; none imports the other library
(a Gymnasium environment is read by duck typing, so importing ``tabular_rl``
never needs ``gymnasium``).

========================  ===============================  ==========================
function                  transitions given as             becomes
========================  ===============================  ==========================
``from_pymdptoolbox``     ``P[a][s, s2]``, (A, S, S)        ``P[s, a, s2]``
``from_irl_maxent``       ``p[s, s2, a]``, (S, S, A)        ``P[s, a, s2]``
``from_gymnasium``        ``env.unwrapped.P[s][a]`` lists   S + 1 states (absorbing last)
========================  ===============================  ==========================
"""

import numbers

import numpy as np
import scipy.sparse as sp

from . import _validation as _v
from ._deprecation import renamed_keyword
from .mdp import TabularMDP

__all__ = ["from_gymnasium", "from_irl_maxent", "from_pymdptoolbox"]


def _interleave(blocks, S, A):
    """Stack A sparse (S, S) blocks into the (S*A, S) CSR whose row s*A + a is ``blocks[a][s]``."""
    stacked = sp.vstack([sp.csr_matrix(b, dtype=np.float64) for b in blocks], format="csr")
    perm = (np.arange(S)[:, None] + S * np.arange(A)[None, :]).ravel()
    return stacked[perm]


def _as_blocks(X, name):
    """``X`` as a list of 2-D blocks (dense arrays or sparse matrices) and whether any is sparse."""
    if sp.issparse(X):
        # One sparse matrix: A blocks of S rows stacked action-major (row a*S + s is P(.|s, a)).
        if X.ndim != 2 or X.shape[1] < 1 or X.shape[0] < 1 or X.shape[0] % X.shape[1] != 0:
            raise ValueError(
                f"{name} given as one scipy.sparse matrix must have shape (A*S, S) with rows ordered "
                f"action-major (row a*S + s), got shape {X.shape}"
            )
        X = sp.csr_matrix(X)
        S = X.shape[1]
        return [X[a * S:(a + 1) * S] for a in range(X.shape[0] // S)], True
    if isinstance(X, np.ndarray) and X.dtype != object:
        arr = _v.as_float_array(X, name)
        return [arr[a] for a in range(arr.shape[0])] if arr.ndim == 3 else arr, False
    if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1):
        blocks = [b if sp.issparse(b) else _v.as_float_array(b, f"{name}[{a}]") for a, b in enumerate(X)]
        return blocks, any(sp.issparse(b) for b in blocks)
    raise TypeError(
        f"{name} must be an (A, S, S) array or a sequence of A (S, S) matrices, got {type(X).__name__}"
    )


def from_pymdptoolbox(P, R, gamma, mu=None):
    r"""An MDP from pymdptoolbox's layout: ``P[a][s, s2]`` and ``R`` in one of its three shapes.

    .. math::

        P_\text{ours}[s, a, s'] = P[a][s, s'], \qquad
        r(s, a) = \begin{cases} R[s] & R \text{ of shape } (S,) \\
                                R[s, a] & (S, A) \\
                                \sum_{s'} P[a][s, s']\, R[a][s, s'] & (A, S, S) \end{cases}

    Parameters
    ----------
    P : array_like, sequence or scipy.sparse matrix
        Shape (A, S, S), or a sequence (list, tuple, 1-D object array) of A
        matrices of shape (S, S), dense or ``scipy.sparse``, or one
        ``scipy.sparse`` matrix of shape (A*S, S) whose rows are ordered
        action-major (row ``a*S + s`` is P(. | s, a): the A blocks stacked, as
        ``scipy.sparse.vstack(P_list)`` gives). If any block is sparse, the MDP is
        sparse (CSR (S*A, S), rows reordered state-major); otherwise dense.
    R : array_like, sequence or scipy.sparse matrix
        Shape (S,), (S, A), or (A, S, S) (also a sequence of A (S, S) matrices,
        dense or sparse, or one sparse (A*S, S) matrix stacked action-major like
        ``P``).
    gamma : float
        Discount in [0, 1]. pymdptoolbox calls it ``discount``.
    mu : array_like, shape (S,), optional
        Initial-state distribution; default uniform.

    Returns
    -------
    TabularMDP

    Raises
    ------
    TypeError
        ``P`` or ``R`` of an unsupported kind.
    ValueError
        Inconsistent shapes (the message names the argument and the shapes).

    Notes
    -----
    On pymdptoolbox's forest example (S = 3, r1 = 4, r2 = 2, p = 0.1) the exact
    optimum (always wait) is V* = (26.244, 29.484, 33.484) at discount 0.9 (the
    numbers of pymdptoolbox's ``PolicyIteration`` docstring) and
    V* = (74.6496, 78.1056, 82.1056) at discount 0.96; the
    (5.05, 8.29, 12.29) of its ``ValueIteration(P, R, 0.96)`` docstring is an
    early iterate, not V*.

    Examples
    --------
    pymdptoolbox's ``mdptoolbox.example.forest()`` (S = 3, r1 = 4, r2 = 2, p = 0.1),
    written out:

    >>> import numpy as np
    >>> from tabular_rl import policy_iteration
    >>> from tabular_rl.converters import from_pymdptoolbox
    >>> P = np.array([[[0.1, 0.9, 0.0], [0.1, 0.0, 0.9], [0.1, 0.0, 0.9]],
    ...               [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    >>> R = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 2.0]])
    >>> mdp = from_pymdptoolbox(P, R, gamma=0.9)
    >>> policy_iteration(mdp).V.round(3)
    array([26.244, 29.484, 33.484])
    >>> policy_iteration(mdp.with_(gamma=0.96)).V.round(4)
    array([74.6496, 78.1056, 82.1056])
    """
    blocks, any_sparse = _as_blocks(P, "P")
    if isinstance(blocks, np.ndarray):
        raise ValueError(f"P must have shape (A, S, S) (pymdptoolbox layout), got shape {blocks.shape}")
    if len(blocks) == 0:
        raise ValueError("P must hold at least one action, got an empty sequence")
    A = len(blocks)
    S = blocks[0].shape[0] if blocks[0].ndim == 2 else -1
    for a, b in enumerate(blocks):
        if b.shape != (S, S) or S < 1:
            raise ValueError(
                f"P[{a}] must have shape (S, S) = ({S}, {S}) like P[0] (pymdptoolbox layout P[a][s, s2]), "
                f"got {b.shape}"
            )
        sums = np.asarray(b.sum(axis=1)).ravel()
        bad = ~(np.abs(sums - 1.0) <= _v.ROW_SUM_TOL)
        if np.any(bad):
            s = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"P[{a}][{s}, :] sums to {float(sums[s])!r}; each row P[a][s, :] (pymdptoolbox layout) must sum to 1 "
                f"(tolerance {_v.ROW_SUM_TOL:g})"
            )
    if any_sparse:
        P_ours = _interleave(blocks, S, A)
    else:
        P_ours = np.stack(blocks, axis=1)  # (S, A, S)

    R_is_seq = (isinstance(R, (list, tuple)) and any(sp.issparse(b) or np.ndim(b) == 2 for b in R)) or (
        isinstance(R, np.ndarray) and R.dtype == object
    )
    if R_is_seq or sp.issparse(R):
        R_blocks, R_sparse = _as_blocks(R, "R")
        if len(R_blocks) != A or any(b.shape != (S, S) for b in R_blocks):
            shapes = [b.shape for b in R_blocks]
            raise ValueError(
                f"R given as a sequence must hold A = {A} matrices of shape ({S}, {S}), got shapes {shapes}"
            )
        if any_sparse:
            R_ours = _interleave(R_blocks, S, A)
        else:
            dense = [b.toarray() if sp.issparse(b) else b for b in R_blocks]  # P is dense: same size
            R_ours = np.stack(dense, axis=1)
    else:
        R_arr = _v.as_float_array(R, "R")
        if R_arr.shape in ((S,), (S, A)):
            R_ours = R_arr
        elif R_arr.shape == (A, S, S):
            R_ours = np.transpose(R_arr, (1, 0, 2))
        else:
            raise ValueError(
                f"R must have shape (S,) = ({S},), (S, A) = ({S}, {A}) or (A, S, S) = ({A}, {S}, {S}) "
                f"(pymdptoolbox layout), got {R_arr.shape}"
            )
    return TabularMDP(P_ours, R_ours, gamma, mu=mu)


@renamed_keyword("rewards", "R")
def from_irl_maxent(p_transition, R, gamma, mu=None):
    r"""An MDP from irl-maxent's layout ``p_transition[s_from, s_to, a]`` (shape (S, S, A)).

    .. math:: P_\text{ours}[s, a, s'] = p\_transition[s, s', a].

    Parameters
    ----------
    p_transition : array_like, shape (S, S, A)
        irl-maxent's transition table (``world.p_transition``).
    R : array_like, shape (S,) or (S, A)
        State rewards (irl-maxent's) or state-action rewards, as ``R`` of :class:`TabularMDP`.
        ``rewards`` is a deprecated alias (removed in 0.3.0).
    gamma : float
        Discount in [0, 1].
    mu : array_like, shape (S,), optional
        Initial-state distribution; default uniform.

    Returns
    -------
    TabularMDP
        Dense.

    Notes
    -----
    irl-maxent marks terminal states separately and its expected state
    visitation loops on them; here a terminal is simply a state whose every
    action returns to itself with zero reward, part of ``p_transition`` as given.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl.converters import from_irl_maxent
    >>> p = np.zeros((2, 2, 2))
    >>> p[:, 0, 0] = 1.0  # action 0 goes to state 0
    >>> p[:, 1, 1] = 1.0  # action 1 goes to state 1
    >>> mdp = from_irl_maxent(p, R=[0.0, 1.0], gamma=0.9)
    >>> mdp.P[0]  # P[s=0, a, s2]
    array([[1., 0.],
           [0., 1.]])
    """
    p = _v.as_float_array(p_transition, "p_transition")
    if p.ndim != 3 or p.shape[0] != p.shape[1] or 0 in p.shape:
        raise ValueError(
            f"p_transition must have shape (S, S, A) (irl-maxent layout p[s_from, s_to, a]), got {p.shape}"
        )
    S, _, A = p.shape
    # Checked here, not only by TabularMDP, so that the messages name this function's arguments
    # and index p_transition in its own layout.
    _v.check_finite(p, "p_transition")
    _v.check_nonnegative(p, "p_transition")
    sums = p.sum(axis=1)
    bad = ~(np.abs(sums - 1.0) <= _v.ROW_SUM_TOL)
    if np.any(bad):
        s, a = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"p_transition[{s}, :, {a}] sums to {float(np.real(sums[s, a]))!r}; each p_transition[s, :, a] "
            f"must sum to 1 (tolerance {_v.ROW_SUM_TOL:g})"
        )
    r = _v.as_float_array(R, "R")
    if r.shape not in ((S,), (S, A)):
        raise ValueError(f"R must have shape (S,) = ({S},) or (S, A) = ({S}, {A}), got {r.shape}")
    _v.check_finite(r, "R")
    return TabularMDP(np.transpose(p, (0, 2, 1)), r, gamma, mu=mu)


def _gym_model(env):
    unwrapped = getattr(env, "unwrapped", env)
    P = getattr(unwrapped, "P", None)
    if P is None:
        raise TypeError(
            "env must be a Gymnasium toy-text environment whose env.unwrapped.P[s][a] lists "
            f"(prob, next_state, reward, terminated) tuples, got {type(unwrapped).__name__} without attribute P"
        )
    return unwrapped, P


def from_gymnasium(env, gamma, *, sparse=True):
    r"""An MDP from a Gymnasium toy-text environment's model ``env.unwrapped.P``.

    ``P[s][a]`` is a list of ``(prob, next_state, reward, terminated)``. The
    conversion:

    * entries with the same next state (FrozenLake lists them) are added up;
      the reward becomes the expectation
      :math:`r(s, a) = \sum_k \text{prob}_k\, \text{reward}_k`;
    * a transition with ``terminated`` true pays its reward and leads to one added
      **absorbing, zero-reward** state, index ``S`` (the last), instead of
      ``next_state``: in Gymnasium termination belongs to the transition, not to a
      state (CliffWalking's goal is not absorbing in its ``P``). The absorbing
      state is always added, so the MDP has S + 1 states, and it is the MDP's
      terminal state (``mdp.terminal[S]``), so ``gamma=1`` evaluates proper
      policies exactly;
    * ``mu`` is ``env.unwrapped.initial_state_distrib`` (FrozenLake,
      CliffWalking, Taxi have one) with 0 on the absorbing state; without that
      attribute, uniform over the S original states.

    Values on the original states are those of the environment's episodic
    return :math:`\sum_{t < T} \gamma^t r_t` (T the termination step); truncation
    (``TimeLimit``) is ignored.

    Parameters
    ----------
    env : gymnasium.Env
        Any object whose ``unwrapped`` (or itself) has ``P``; gymnasium is never
        imported here.
    gamma : float
        Discount in [0, 1].
    sparse : bool
        CSR transitions (default) or dense (S+1, A, S+1).

    Returns
    -------
    TabularMDP
        With ``n_states = S + 1`` and the environment's actions in its order.

    Raises
    ------
    TypeError
        ``env`` has no model ``P``, or an entry is not a 4-tuple.
    ValueError
        A probability outside [0, 1], a next state outside [0, S), a non-finite
        reward, states with different numbers of actions (the message names
        ``env.unwrapped.P[s][a]``).

    Examples
    --------
    >>> import gymnasium as gym  # doctest: +SKIP
    >>> mdp = from_gymnasium(gym.make("FrozenLake-v1"), gamma=0.99)  # doctest: +SKIP
    >>> mdp.n_states  # 16 cells + the absorbing state  # doctest: +SKIP
    17

    A duck-typed model works the same way:

    >>> from types import SimpleNamespace
    >>> from tabular_rl.converters import from_gymnasium
    >>> env = SimpleNamespace(P={0: {0: [(0.5, 0, 0.0, False), (0.5, 0, 2.0, True)]}})
    >>> mdp = from_gymnasium(env, gamma=0.5)
    >>> mdp.todense()[0], mdp.R[:, 0]
    (array([[0.5, 0.5]]), array([1., 0.]))
    """
    unwrapped, model = _gym_model(env)
    try:
        S = len(model)
    except TypeError:
        raise TypeError(f"env.unwrapped.P must be a mapping or sequence over states, got {type(model).__name__}") from None
    if S < 1:
        raise ValueError("env.unwrapped.P must describe at least one state, got none")
    A = None
    rows, cols, probs = [], [], []
    R = np.zeros((S + 1, 0))
    for s in range(S):
        try:
            per_action = model[s]
        except (KeyError, IndexError):
            raise ValueError(f"env.unwrapped.P must have the states 0..{S - 1} as keys, state {s} is missing") from None
        if A is None:
            A = len(per_action)
            if A < 1:
                raise ValueError("env.unwrapped.P[0] must have at least one action, got none")
            R = np.zeros((S + 1, A))
        elif len(per_action) != A:
            raise ValueError(
                f"env.unwrapped.P[{s}] has {len(per_action)} actions; every state must have the same number "
                f"as P[0], {A}"
            )
        for a in range(A):
            for entry in per_action[a]:
                name = f"env.unwrapped.P[{s}][{a}]"
                if not isinstance(entry, (tuple, list)) or len(entry) != 4:
                    raise TypeError(f"{name} must list (prob, next_state, reward, terminated) tuples, got {entry!r}")
                prob, nxt, reward, terminated = entry
                prob = _v.check_probability(prob, f"{name} probability")
                if isinstance(nxt, (bool, np.bool_)) or not isinstance(nxt, (numbers.Integral, np.integer)):
                    raise TypeError(f"{name} next_state must be an integer, got {nxt!r}")
                if not 0 <= int(nxt) < S:
                    raise ValueError(f"{name} next_state must be in [0, {S}), got {int(nxt)}")
                reward = _v.check_real(reward, f"{name} reward")
                rows.append(s * A + a)
                cols.append(S if terminated else int(nxt))
                probs.append(prob)
                R[s, a] += prob * reward
    absorbing_rows = S * A + np.arange(A)
    rows = np.concatenate([np.asarray(rows, dtype=np.int64), absorbing_rows])
    cols = np.concatenate([np.asarray(cols, dtype=np.int64), np.full(A, S)])
    probs = np.concatenate([np.asarray(probs, dtype=np.float64), np.ones(A)])
    if sparse:
        P = sp.coo_matrix((probs, (rows, cols)), shape=((S + 1) * A, S + 1)).tocsr()  # sums duplicates
    else:
        P = np.zeros(((S + 1) * A, S + 1))
        np.add.at(P, (rows, cols), probs)
        P = P.reshape(S + 1, A, S + 1)
    isd = getattr(unwrapped, "initial_state_distrib", None)
    if isd is None:
        mu = np.append(np.full(S, 1.0 / S), 0.0)
    else:
        isd = _v.as_float_array(isd, "env.unwrapped.initial_state_distrib")
        _v.check_shape(isd, (S,), "env.unwrapped.initial_state_distrib", what="(one entry per state)")
        mu = np.append(isd, 0.0)
    return TabularMDP(P, R, gamma, mu=mu, terminal=[S])
