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

__all__ = ["distributions", "gammas", "logits", "mdps", "policies", "deterministic_policies"]

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
