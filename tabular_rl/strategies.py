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

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as _exc:  # hypothesis is the `test` extra, not a runtime dependency
    raise ImportError(
        "tabular_rl.strategies needs hypothesis: pip install -e '.[test]' "
        "(or pip install 'tabular-rl-exact[test]')"
    ) from _exc

from ._deprecation import renamed_keyword
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
    """Discount factors in [min_value, max_value], with both ends and 0 likely.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.gammas(max_value=0.9))
    ... def test_in_range(gamma):
    ...     assert 0.0 <= gamma <= 0.9
    >>> test_in_range()
    """
    return st.one_of(
        st.sampled_from(sorted({min_value, max_value})),
        st.floats(min_value, max_value, **_FLOATS),
    )


def logits(shape, *, bound=8.0):
    """Finite logits of ``shape`` in [-bound, bound] (``|theta| <= 8`` keeps log pi finite).

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.logits((2, 3), bound=8.0))
    ... def test_shape_and_bound(theta):
    ...     assert theta.shape == (2, 3) and np.abs(theta).max() <= 8.0
    >>> test_shape_and_bound()
    """
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, **_FLOATS))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def distributions(size, *, bound=8.0, allow_zeros=True):
    """Probability vectors of length ``size``: softmax of logits, optionally with zeros masked in.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.distributions(3))
    ... def test_on_the_simplex(p):
    ...     assert p.shape == (3,) and p.min() >= 0.0 and abs(p.sum() - 1.0) < 1e-12
    >>> test_on_the_simplex()
    """

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
    """Policies (S, A): softmax of bounded logits, or one-hot (``deterministic=True``), or either.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.policies(2, 3, deterministic=False))
    ... def test_rows_are_distributions(pi):
    ...     assert pi.shape == (2, 3) and pi.min() >= 0.0 and np.allclose(pi.sum(axis=1), 1.0)
    >>> test_rows_are_distributions()
    """
    stoch = logits((n_states, n_actions), bound=bound).map(_softmax)
    det = deterministic_policies(n_states, n_actions)
    if deterministic is None:
        return st.one_of(stoch, det)
    return det if deterministic else stoch


def deterministic_policies(n_states, n_actions):
    """One-hot policies (S, A) drawn from integer action arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.deterministic_policies(2, 3))
    ... def test_one_action_per_state(pi):
    ...     assert pi.shape == (2, 3) and set(np.unique(pi)) <= {0.0, 1.0} and (pi.sum(axis=1) == 1.0).all()
    >>> test_one_action_per_state()
    """
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

    Examples
    --------
    Rewards in [-1, 1] bound every value by 1 / (1 - gamma):

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import policy_evaluation
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.mdps(max_states=3, max_actions=2))
    ... def test_values_are_bounded(mdp):
    ...     V = policy_evaluation(mdp, np.full(mdp.shape, 1.0 / mdp.n_actions))
    ...     assert np.abs(V).max() <= 1.0 / (1.0 - mdp.gamma) + 1e-9
    >>> test_values_are_bounded()
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

    Examples
    --------
    A corridor 0 -> 1 -> 2 (terminal) where action 0 stays put and action 1 moves on:

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import TabularMDP, policy_evaluation
    >>> from tabular_rl import strategies as trs
    >>> P = np.zeros((3, 2, 3)); P[0, 0, 0] = P[1, 0, 1] = P[0, 1, 1] = P[1, 1, 2] = P[2, :, 2] = 1.0
    >>> mdp = TabularMDP(P, R=[[-1.0, -1.0], [-1.0, -1.0], [0.0, 0.0]], gamma=1.0, terminal=[2])
    >>> @given(trs.proper_policies(mdp, deterministic=True))
    ... def test_moves_on(pi):                   # the only proper choice in states 0 and 1
    ...     assert pi[0, 1] == pi[1, 1] == 1.0
    ...     assert policy_evaluation(mdp, pi)[0] == -2.0
    >>> test_moves_on()
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

    Examples
    --------
    A corridor 0 -> 1 -> 2 (terminal) where action 0 stays put and action 1 moves on:

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import TabularMDP, policy_evaluation
    >>> from tabular_rl import strategies as trs
    >>> P = np.zeros((3, 2, 3)); P[0, 0, 0] = P[1, 0, 1] = P[0, 1, 1] = P[1, 1, 2] = P[2, :, 2] = 1.0
    >>> mdp = TabularMDP(P, R=[[-1.0, -1.0], [-1.0, -1.0], [0.0, 0.0]], gamma=1.0, terminal=[2])
    >>> @given(trs.improper_policies(mdp))
    ... def test_stays_somewhere(pi):
    ...     assert pi[0, 0] == 1.0 or pi[1, 0] == 1.0
    ...     try:
    ...         policy_evaluation(mdp, pi)
    ...     except ValueError as err:            # gamma = 1 needs a proper policy
    ...         assert "proper" in str(err)
    ...     else:
    ...         raise AssertionError("evaluated an improper policy")
    >>> test_stays_somewhere()
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


# ---------------------------------------------------------------------------------------------
# Strategies for grading student code (tabular_rl.grading): the sample-level arrays students
# write functions of (GAE segments, PPO ratios and advantages, trajectories), time-varying
# policies and (mdp, policy) pairs.


def _unit_interval(value, name):
    """A fixed value, a strategy, or None for [0, 1] with 0 and 1 likely."""
    if value is None:
        return gammas(max_value=1.0)
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(float(value))


def time_varying_policies(horizon, n_states, n_actions, *, bound=8.0, deterministic=None):
    """Time-varying policies, shape (horizon, S, A): softmax of bounded logits, or one-hot, or either.

    As :func:`policies`, with one (S, A) policy per step (drawn as one array, so it shrinks fast).

    Examples
    --------
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.time_varying_policies(3, 2, 2))
    ... def test_rows_sum_to_one(pi):
    ...     assert pi.shape == (3, 2, 2) and abs(pi.sum(axis=2) - 1).max() < 1e-12
    >>> test_rows_sum_to_one()
    """
    shape = (horizon, n_states, n_actions)
    # fill=nothing: every entry drawn on its own, so that the steps differ (a filled array repeats one policy)
    stoch = hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, **_FLOATS), fill=st.nothing()).map(_softmax)
    det = hnp.arrays(np.intp, shape[:2], elements=st.integers(0, n_actions - 1)).map(lambda a: np.eye(n_actions)[a])
    if deterministic is None:
        return st.one_of(stoch, det)
    return det if deterministic else stoch


@st.composite
def mdp_policy_pairs(draw, *, deterministic_policy=None, time_varying_horizon=None, **mdp_options):
    """Pairs ``(mdp, pi)``: an MDP from :func:`mdps` (``mdp_options`` are its keywords) and a policy for it.

    ``deterministic_policy`` is passed to :func:`policies`; ``time_varying_horizon=H`` draws an
    (H, S, A) policy instead of an (S, A) one.

    Examples
    --------
    >>> from hypothesis import given
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.mdp_policy_pairs(max_states=3))
    ... def test_shapes_match(pair):
    ...     mdp, pi = pair
    ...     assert pi.shape == mdp.shape
    >>> test_shapes_match()
    """
    mdp = draw(mdps(**mdp_options))
    S, A = mdp.shape
    if time_varying_horizon is None:
        return mdp, draw(policies(S, A, deterministic=deterministic_policy))
    return mdp, draw(time_varying_policies(time_varying_horizon, S, A, deterministic=deterministic_policy))


@renamed_keyword("policy", "pi")
@renamed_keyword("p0", "mu")
@st.composite
def trajectories(draw, mdp, pi, *, horizon, min_episodes=1, max_episodes=4, mu=None):
    """:class:`~tabular_rl.Trajectories` of ``horizon`` steps that ``mdp`` can produce under ``pi``.

    Every episode has positive probability: :math:`s_0` is in the support of ``mu``
    (default ``mdp.mu``), :math:`a_t` in the support of :math:`\\pi_t(\\cdot|s_t)`,
    :math:`s_{t+1}` in the support of :math:`P(\\cdot|s_t, a_t)`, and the reward is
    :math:`r(s_t, a_t)`. Hypothesis chooses among the possible steps (and shrinks towards
    the lowest indices); the draws do not follow the probabilities: use
    :func:`tabular_rl.rollout` for Monte Carlo samples and
    :func:`tabular_rl.enumerate_trajectories` for exact expectations.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (horizon, S, A)
        ``policy`` is a deprecated alias (removed in 0.3.0).
    horizon : int >= 0
    min_episodes, max_episodes : int
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. ``p0`` is a deprecated alias (removed in 0.3.0).

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from tabular_rl import TabularMDP, strategies as trs
    >>> mdp = TabularMDP(np.full((2, 2, 2), 0.5), R=[0.0, 1.0], gamma=0.9)
    >>> @given(trs.trajectories(mdp, [[1.0, 0.0], [0.5, 0.5]], horizon=3))
    ... def test_action_0_in_state_0(tr):
    ...     assert tr.states.shape[1] == 4 and np.all(tr.actions[tr.states[:, :3] == 0] == 0)
    >>> test_action_0_in_state_0()
    """
    S, A = mdp.shape
    P = mdp.todense()
    pi = np.asarray(pi, dtype=np.float64)
    start = mdp.mu if mu is None else np.asarray(mu, dtype=np.float64)
    n = draw(st.integers(min_episodes, max_episodes))
    states = np.zeros((n, horizon + 1), dtype=np.intp)
    actions = np.zeros((n, horizon), dtype=np.intp)
    for i in range(n):
        s = draw(st.sampled_from(np.flatnonzero(start > 0).tolist()))
        states[i, 0] = s
        for t in range(horizon):
            pi_t = pi if pi.ndim == 2 else pi[t]
            a = draw(st.sampled_from(np.flatnonzero(pi_t[s] > 0).tolist()))
            s = draw(st.sampled_from(np.flatnonzero(P[s, a] > 0).tolist()))
            actions[i, t], states[i, t + 1] = a, s
    from .sampling import Trajectories

    return Trajectories(states, actions, mdp.R[states[:, :horizon], actions])


@st.composite
def gae_inputs(draw, *, min_steps=1, max_steps=8, batch=None, gamma=None, lambda_=None, terminations=True,
               bound=10.0):
    """Arguments of :func:`tabular_rl.gae`: a dict with ``rewards``, ``values``, ``gamma``, ``lambda_``, ``terminated``.

    ``rewards`` (T,) and ``values`` (T+1,) (the last bootstraps the truncated end), a boolean
    ``terminated`` (T,) mask (all False with ``terminations=False``), T in [min_steps, max_steps].
    With ``batch`` (an int N or a strategy for it) the arrays get a leading axis of N independent
    segments. ``gamma`` and ``lambda_``: a fixed value, a strategy, or None for [0, 1] with 0 and 1 likely.

    Examples
    --------
    >>> from hypothesis import given
    >>> import tabular_rl as trl
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.gae_inputs(batch=2))
    ... def test_lambda_one_is_return_minus_value(x):
    ...     assert x["values"].shape == (2, x["rewards"].shape[1] + 1)
    ...     trl.gae(x["rewards"], x["values"], x["gamma"], x["lambda_"], terminated=x["terminated"])
    >>> test_lambda_one_is_return_minus_value()
    """
    T = draw(st.integers(min_steps, max_steps))
    if batch is None:
        lead = ()
    else:
        lead = (draw(batch) if isinstance(batch, st.SearchStrategy) else int(batch),)
    elems = st.floats(-bound, bound, **_FLOATS)
    rewards = draw(hnp.arrays(np.float64, lead + (T,), elements=elems))
    values = draw(hnp.arrays(np.float64, lead + (T + 1,), elements=elems))
    if terminations:
        terminated = draw(hnp.arrays(np.bool_, lead + (T,)))
    else:
        terminated = np.zeros(lead + (T,), dtype=bool)
    return dict(rewards=rewards, values=values, gamma=draw(_unit_interval(gamma, "gamma")),
                lambda_=draw(_unit_interval(lambda_, "lambda_")), terminated=terminated)


@st.composite
def ppo_samples(draw, *, min_size=1, max_size=16, epsilon=None, max_ratio=3.0, bound=10.0):
    """Arguments of :func:`tabular_rl.ppo_clip_objective`: a dict with ``ratios``, ``advantages``, ``epsilon``.

    Ratios in [0, max_ratio] with the kinks 1 - epsilon, 1 + epsilon and the values 0 and 1
    likely; advantages in [-bound, bound]; ``epsilon`` fixed, a strategy, or None for
    [0, 0.5] with 0.1, 0.2 and 0.3 likely.

    Examples
    --------
    >>> from hypothesis import given
    >>> import tabular_rl as trl
    >>> from tabular_rl import strategies as trs
    >>> @given(trs.ppo_samples())
    ... def test_clip_is_pessimistic(x):
    ...     clipped = trl.ppo_clip_objective(x["ratios"], x["advantages"], x["epsilon"])
    ...     assert clipped <= (x["ratios"] * x["advantages"]).mean() + 1e-12
    >>> test_clip_is_pessimistic()
    """
    if epsilon is None:
        eps = draw(st.one_of(st.sampled_from([0.1, 0.2, 0.3]), st.floats(0.0, 0.5, **_FLOATS)))
    elif isinstance(epsilon, st.SearchStrategy):
        eps = draw(epsilon)
    else:
        eps = float(epsilon)
    n = draw(st.integers(min_size, max_size))
    ratio = st.one_of(st.sampled_from([1.0, 1.0 - eps, 1.0 + eps, 0.0]), st.floats(0.0, max_ratio, **_FLOATS))
    ratios = draw(hnp.arrays(np.float64, (n,), elements=ratio))
    advantages = draw(hnp.arrays(np.float64, (n,), elements=st.floats(-bound, bound, **_FLOATS)))
    return dict(ratios=ratios, advantages=advantages, epsilon=eps)


__all__ += ["gae_inputs", "mdp_policy_pairs", "ppo_samples", "time_varying_policies", "trajectories"]
