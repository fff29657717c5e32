"""Hypothesis strategies for finite MDPs, policies, logits and distributions.

Public, so graders can property-test student code against the library:

>>> from hypothesis import given
>>> from tabular_rl import strategies as trs
>>> @given(trs.mdps(max_states=3))
... def test_something(mdp):
...     assert mdp.R.shape == (mdp.n_states, mdp.n_actions)

Importing ``tabular_rl`` does not import this module (or hypothesis); import
it explicitly. Every option is keyword-only. Sizes follow the guide's
guidance: S in [1, 6], A in [1, 4], gamma in [0, 0.99], including the edge
cases S = 1, A = 1 and gamma = 0 (docs/guide/numerics.md#hypothesis-strategies).
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .mdp import TabularMDP

__all__ = [
    "deterministic_policies",
    "distributions",
    "episodic_mdps",
    "gammas",
    "improper_policies",
    "logits",
    "mdps",
    "policies",
    "proper_policies",
]

_FLOATS = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


def gammas(*, min_value=0.0, max_value=0.99):
    """Discount factors in [min_value, max_value], with both ends and 0 likely."""
    return st.one_of(
        st.sampled_from(sorted({min_value, max_value})),
        st.floats(min_value, max_value, **_FLOATS),
    )


def logits(shape, *, bound=8.0):
    """Finite logits of ``shape`` in [-bound, bound] (|theta| <= 8 keeps log pi finite)."""
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, **_FLOATS))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def distributions(size, *, bound=8.0, allow_zeros=True):
    """Probability vectors of length ``size``: softmax of logits, optionally with zeros masked in."""

    @st.composite
    def _dist(draw):
        p = _softmax(draw(logits((size,), bound=bound)))
        if allow_zeros and size > 1 and draw(st.booleans()):
            mask = draw(hnp.arrays(np.bool_, (size,)))
            mask[draw(st.integers(0, size - 1))] = True
            p = np.where(mask, p, 0.0)
            p = p / p.sum()
        return p

    return _dist()


def policies(n_states, n_actions, *, bound=8.0, deterministic=None):
    """Policies (S, A): softmax of bounded logits, or one-hot (``deterministic=True``), or either."""
    stoch = logits((n_states, n_actions), bound=bound).map(_softmax)
    det = deterministic_policies(n_states, n_actions)
    if deterministic is None:
        return st.one_of(stoch, det)
    return det if deterministic else stoch


def deterministic_policies(n_states, n_actions):
    """One-hot policies (S, A) drawn from integer action arrays."""
    return hnp.arrays(np.intp, (n_states,), elements=st.integers(0, n_actions - 1)).map(
        lambda a: np.eye(n_actions)[a]
    )


@st.composite
def mdps(
    draw,
    *,
    min_states=1,
    max_states=6,
    min_actions=1,
    max_actions=4,
    sparse=None,
    deterministic=None,
    gamma=None,
    reward_range=(-1.0, 1.0),
    reward_shape=None,
):
    """Random ``TabularMDP`` values.

    Parameters
    ----------
    min_states, max_states, min_actions, max_actions : int
        Size limits (inclusive).
    sparse : bool or None
        Store transitions sparse (True), dense (False) or either (None).
    deterministic : bool or None
        One successor per (s, a) (True), stochastic rows with some zeros
        masked in (False), or either (None).
    gamma : float, strategy or None
        A fixed discount, a strategy for it, or None for :func:`gammas`.
    reward_range : (float, float)
        Rewards r(s, a) are drawn from this interval.
    reward_shape : {"state", "state_action", None}
        Draw r(s) (S,) or r(s, a) (S, A); None for either.
    """
    S = draw(st.integers(min_states, max_states))
    A = draw(st.integers(min_actions, max_actions))
    is_det = draw(st.booleans()) if deterministic is None else deterministic
    if is_det:
        nxt = draw(hnp.arrays(np.intp, (S, A), elements=st.integers(0, S - 1)))
        P = np.zeros((S, A, S))
        np.put_along_axis(P, nxt[..., None], 1.0, axis=2)
    else:
        P = _softmax(draw(logits((S, A, S), bound=4.0)))
        if S > 1 and draw(st.booleans()):
            mask = draw(hnp.arrays(np.bool_, (S, A, S)))
            keep = draw(hnp.arrays(np.intp, (S, A), elements=st.integers(0, S - 1)))
            np.put_along_axis(mask, keep[..., None], True, axis=2)
            P = np.where(mask, P, 0.0)
            P = P / P.sum(axis=2, keepdims=True)
    lo, hi = reward_range
    shape = reward_shape or draw(st.sampled_from(["state", "state_action"]))
    r_shape = (S,) if shape == "state" else (S, A)
    R = draw(hnp.arrays(np.float64, r_shape, elements=st.floats(lo, hi, **_FLOATS)))
    if gamma is None:
        g = draw(gammas())
    elif isinstance(gamma, st.SearchStrategy):
        g = draw(gamma)
    else:
        g = gamma
    mu = draw(distributions(S))
    use_sparse = draw(st.booleans()) if sparse is None else sparse
    P_arg = sp.csr_matrix(P.reshape(S * A, S)) if use_sparse else P
    return TabularMDP(P_arg, R, g, mu=mu)


# ------------------------------------------------------------------------------ episodic (gamma = 1)


@st.composite
def episodic_mdps(
    draw,
    *,
    min_states=2,
    max_states=6,
    min_actions=1,
    max_actions=4,
    max_terminal=2,
    sparse=None,
    deterministic=None,
    gamma=1.0,
    reward_range=(-1.0, 1.0),
    all_proper=False,
    trap=False,
):
    """Random episodic ``TabularMDP`` values: terminal states marked, and a proper policy exists.

    The transient states are put in a random order; in each, one action (or, with
    ``all_proper``, every action) moves with positive probability to a terminal
    state or to a transient state earlier in the order, so the attractor of the
    terminal set is every state. Every softmax policy is then proper (it takes that
    action with positive probability).

    Parameters
    ----------
    min_states, max_states : int
        Size limits, including the terminal states (at least 2: one transient, one terminal).
    min_actions, max_actions : int
        Size limits (inclusive).
    max_terminal : int
        At most this many terminal states (at least 1, at most S - 1).
    sparse, deterministic : bool or None
        As in :func:`mdps`.
    gamma : float or strategy
        Default 1.0 (the episodic case); any value in [0, 1] is allowed.
    reward_range : (float, float)
        Rewards r(s, a) of transient states are drawn from this interval (terminal ones are 0).
    all_proper : bool
        Every deterministic policy is proper too.
    trap : bool
        Needs ``min_actions >= 2``: some transient state gets an action that stays
        there with probability 1, so an improper policy exists (see
        :func:`improper_policies`); its reward may be 0.

    Examples
    --------
    >>> from hypothesis import given
    >>> from tabular_rl import policy_evaluation
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.episodic_mdps(max_states=3).flatmap(lambda m: trs.proper_policies(m).map(lambda p: (m, p))))
    ... def test_terminal_values_are_zero(case):
    ...     mdp, pi = case
    ...     assert (policy_evaluation(mdp, pi)[mdp.terminal] == 0).all()
    >>> test_terminal_values_are_zero()
    """
    if trap and max_actions < 2:
        raise ValueError(f"episodic_mdps(trap=True) needs max_actions >= 2, got {max_actions}")
    S = draw(st.integers(max(min_states, 2), max(max_states, 2)))
    A = draw(st.integers(max(min_actions, 2 if trap else 1), max_actions))
    n_term = draw(st.integers(1, max(1, min(max_terminal, S - 1))))
    order = np.array(draw(st.permutations(range(S))))
    terminal = np.zeros(S, dtype=bool)
    terminal[order[:n_term]] = True
    transient = order[n_term:]  # transient[i] may move to order[: n_term + i]
    is_det = draw(st.booleans()) if deterministic is None else deterministic
    if is_det:
        nxt = draw(hnp.arrays(np.intp, (S, A), elements=st.integers(0, S - 1)))
        P = np.zeros((S, A, S))
        np.put_along_axis(P, nxt[..., None], 1.0, axis=2)
    else:
        P = _softmax(draw(logits((S, A, S), bound=4.0)))
        if draw(st.booleans()):  # zeros masked in, so that improper policies can exist
            mask = draw(hnp.arrays(np.bool_, (S, A, S)))
            keep = draw(hnp.arrays(np.intp, (S, A), elements=st.integers(0, S - 1)))
            np.put_along_axis(mask, keep[..., None], True, axis=2)
            P = np.where(mask, P, 0.0)
            P = P / P.sum(axis=2, keepdims=True)
    for i, s in enumerate(transient):
        closer = order[: n_term + i]
        acts = range(A) if all_proper else [draw(st.integers(0, A - 1))]
        for a in acts:
            target = closer[draw(st.integers(0, closer.size - 1))]
            if is_det:
                P[s, a] = 0.0
                P[s, a, target] = 1.0
            elif P[s, a, closer].sum() == 0:
                P[s, a, target] = 0.5
                P[s, a] /= P[s, a].sum()
    if trap and not all_proper:
        s = transient[draw(st.integers(0, transient.size - 1))]
        # leave the action that reaches a closer state alone: trap on another one
        reaching = [a for a in range(A) if P[s, a, order[: n_term + int(np.flatnonzero(transient == s)[0])]].sum() > 0]
        free = [a for a in range(A) if a != reaching[0]]
        a = free[draw(st.integers(0, len(free) - 1))]
        P[s, a] = 0.0
        P[s, a, s] = 1.0
    lo, hi = reward_range
    R = draw(hnp.arrays(np.float64, (S, A), elements=st.floats(lo, hi, **_FLOATS)))
    g = draw(gamma) if isinstance(gamma, st.SearchStrategy) else gamma
    mu = draw(distributions(S))
    mu[transient[0]] += 0.5  # mass on a transient state, so the visitation is defined
    mu /= mu.sum()
    use_sparse = draw(st.booleans()) if sparse is None else sparse
    P_arg = sp.csr_matrix(P.reshape(S * A, S)) if use_sparse else P
    return TabularMDP(P_arg, R, g, mu=mu, terminal=terminal)


def _reach_sets(mdp):
    """Per (s, a): the successor states with positive probability (dense boolean (S, A, S))."""
    return mdp.todense() > 0


def proper_policies(mdp, *, deterministic=None, bound=8.0):
    """Proper policies for an MDP whose every state can reach a terminal state (e.g. from :func:`episodic_mdps`).

    Stochastic: softmax of bounded logits (full support, hence proper). Deterministic:
    built backwards from the terminal set, each state taking a random action among
    those that reach the states already placed (so the policy is proper).
    """
    S, A = mdp.shape
    reach = _reach_sets(mdp)

    @st.composite
    def _det(draw):
        inside = mdp.terminal.copy()
        actions = np.zeros(S, dtype=np.intp)
        while not inside.all():
            hits = reach[:, :, inside].any(axis=2) & ~inside[:, None]  # (S, A)
            states = np.flatnonzero(hits.any(axis=1))
            if states.size == 0:
                raise ValueError(
                    "proper_policies needs an MDP from whose every state some policy reaches a terminal state; "
                    f"states {np.flatnonzero(~inside).tolist()} cannot"
                )
            for s in states:
                cands = np.flatnonzero(hits[s])
                actions[s] = cands[draw(st.integers(0, cands.size - 1))]
            inside[states] = True
        return np.eye(A)[actions]

    stoch = logits((S, A), bound=bound).map(_softmax)
    if deterministic is None:
        return st.one_of(stoch, _det())
    return _det() if deterministic else stoch


def improper_policies(mdp):
    """Deterministic improper policies: some transient state takes an action that stays there forever.

    Needs a (transient state, action) pair with P(s|s, a) = 1, e.g. from
    ``episodic_mdps(trap=True)``; other states take random actions.
    """
    S, A = mdp.shape
    P = mdp.todense()
    traps = [(s, a) for s in np.flatnonzero(~mdp.terminal) for a in range(A) if P[s, a, s] == 1.0]
    if not traps:
        raise ValueError("improper_policies needs an MDP with a transient self-loop action, e.g. episodic_mdps(trap=True)")

    @st.composite
    def _imp(draw):
        actions = draw(hnp.arrays(np.intp, (S,), elements=st.integers(0, A - 1)))
        s, a = traps[draw(st.integers(0, len(traps) - 1))]
        actions[s] = a
        return np.eye(A)[actions]

    return _imp()
