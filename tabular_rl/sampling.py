r"""Trajectories: sampling them, and enumerating all of them exactly.

This is the only module that draws random numbers; every function that does
takes ``rng``, a ``numpy.random.Generator``, as a required keyword.

A :class:`Trajectories` value holds N episodes of H steps:
``states`` (N, H+1) with ``states[:, t]`` = :math:`s_t` for t = 0..H,
``actions`` (N, H) and ``rewards`` (N, H) with :math:`a_t`, :math:`r_t` for
t = 0..H-1. The reward recorded is the MDP's expected reward
:math:`r(s_t, a_t)` (the MDP stores only that expectation).
"""

import dataclasses

import numpy as np
import scipy.sparse as sp

from . import _validation as _v
from ._deprecation import renamed_keyword

__all__ = [
    "Trajectories",
    "discounted_returns",
    "enumerate_trajectories",
    "rollout",
]


def _readonly(arr, dtype):
    arr = np.array(arr, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectories:
    r"""N episodes of H steps each (validated, read-only arrays).

    Parameters
    ----------
    states : array_like of int, shape (N, H+1)
        :math:`s_0, \dots, s_H`; the last column is the state after the final step.
    actions : array_like of int, shape (N, H)
    rewards : array_like of float, shape (N, H)

    Examples
    --------
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 1, 1]], actions=[[1, 0]], rewards=[[0.0, 1.0]])
    >>> tr.n_episodes, tr.horizon
    (1, 2)
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray

    def __post_init__(self):
        states = _int_array(self.states, "states")
        actions = _int_array(self.actions, "actions")
        rewards = _v.as_float_array(self.rewards, "rewards")
        if states.ndim != 2 or states.shape[1] < 1:
            raise ValueError(f"states must have shape (N, H+1) with H+1 >= 1, got {states.shape}")
        N, H = states.shape[0], states.shape[1] - 1
        _v.check_shape(actions, (N, H), "actions", what="(one fewer column than states)")
        _v.check_shape(rewards, (N, H), "rewards", what="(same as actions)")
        _v.check_finite(rewards, "rewards")
        object.__setattr__(self, "states", _readonly(states, np.intp))
        object.__setattr__(self, "actions", _readonly(actions, np.intp))
        object.__setattr__(self, "rewards", _readonly(rewards, np.float64))

    @property
    def n_episodes(self):
        """N."""
        return self.states.shape[0]

    @property
    def horizon(self):
        """H, the number of steps per episode."""
        return self.actions.shape[1]

    def check_against(self, mdp, name="trajectories"):
        """Raise ``ValueError`` unless every state and action index is valid for ``mdp`` (or its ``(S, A)``)."""
        S, A = mdp if isinstance(mdp, tuple) else (mdp.n_states, mdp.n_actions)
        for arr, n, what in ((self.states, S, "states"), (self.actions, A, "actions")):
            bad = (arr < 0) | (arr >= n)
            if np.any(bad):
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(f"{name}.{what} must lie in [0, {n - 1}], got {arr[idx]} at index {idx}")
        return self


def check_trajectories(trajectories, mdp_or_shape=None, name="trajectories"):
    """``trajectories`` must be a :class:`tabular_rl.Trajectories` whose indices fit the MDP.

    ``mdp_or_shape`` is the MDP or its ``(S, A)``; None skips the index check.
    """
    if not isinstance(trajectories, Trajectories):
        raise TypeError(
            f"{name} must be a tabular_rl.Trajectories (e.g. from rollout), got {type(trajectories).__name__}"
        )
    if mdp_or_shape is not None:
        if isinstance(mdp_or_shape, tuple):
            S, A = mdp_or_shape
        else:
            S, A = mdp_or_shape.n_states, mdp_or_shape.n_actions
        trajectories.check_against((S, A), name)
    return trajectories


def _int_array(x, name):
    arr = _v.as_array(x, name)
    if arr.size == 0 and arr.dtype == np.float64:
        arr = arr.astype(np.intp)
    if not (np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return arr


def discounted_returns(trajectories, gamma):
    r"""Per-episode discounted return :math:`G = \sum_{t=0}^{H-1}\gamma^t r_t`, shape (N,).

    Examples
    --------
    Two episodes of three steps, gamma = 0.5:

    >>> from tabular_rl import Trajectories, discounted_returns
    >>> tr = Trajectories(states=[[0, 0, 0, 0], [0, 1, 1, 1]], actions=[[0, 0, 0], [1, 0, 0]],
    ...                   rewards=[[1.0, 1.0, 1.0], [0.0, 2.0, 4.0]])
    >>> discounted_returns(tr, 0.5)                         # 1 + 0.5 + 0.25; 0 + 0.5 * 2 + 0.25 * 4
    array([1.75, 2.  ])
    """
    gamma = _v.check_gamma(gamma)
    check_trajectories(trajectories)
    H = trajectories.horizon
    return trajectories.rewards @ (gamma ** np.arange(H))


class _SuccessorSampler:
    """Inverse-CDF sampling of next states from the (S*A, S) rows, vectorised.

    ``keys[k] = row(k) + cdf within the row``: globally sorted, so one
    ``searchsorted`` of ``row + u`` finds the sampled entry of every row at once.
    """

    def __init__(self, mdp):
        # The MDP's CSR has no explicit zeros already; a dense MDP's is built here.
        P = mdp._P_flat if mdp.is_sparse else sp.csr_matrix(mdp._P_flat)
        counts = np.diff(P.indptr)
        rows = np.repeat(np.arange(P.shape[0]), counts)
        csum = np.cumsum(P.data)
        base = np.concatenate(([0.0], csum))[P.indptr[:-1]]
        within = csum - np.repeat(base, counts)
        last = P.indptr[1:] - 1
        within[last] = 1.0  # rows sum to 1 exactly up to round-off
        self.keys = rows + within
        self.indices = P.indices
        self.last = last

    def sample(self, rows, u):
        k = np.searchsorted(self.keys, rows + u, side="right")
        k = np.minimum(k, self.last[rows])
        return self.indices[k]


def _sample_categorical(probs, rng):
    """One draw per row of ``probs`` (N, K) by inverse CDF."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), probs.shape[1] - 1)


def _sample_initial(p0, n, rng):
    """n draws from one distribution (S,): the same draws as ``_sample_categorical`` on p0
    repeated n times, without building an (n, S) cumulative sum."""
    cdf = np.cumsum(p0)
    u = rng.random(n) * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), p0.shape[0] - 1)


@renamed_keyword("p0", "mu")
def rollout(mdp, pi, n_episodes, horizon, *, rng, mu=None):
    r"""Sample episodes from an MDP under a stationary or time-varying policy.

    Vectorised over episodes: each step draws all N actions and all N next
    states at once. :math:`s_0\sim\mu` (the keyword ``mu``, default ``mdp.mu``), :math:`a_t\sim\pi_t(\cdot|s_t)`,
    :math:`s_{t+1}\sim P(\cdot|s_t,a_t)`, :math:`r_t = r(s_t,a_t)`.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (horizon, S, A)
    n_episodes : int >= 1
    horizon : int >= 0
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same trajectories.
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. ``p0`` is a deprecated alias (removed in 0.3.0).

    Returns
    -------
    Trajectories

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, rollout
    >>> mdp = TabularMDP(np.array([[[0.0, 1.0]], [[1.0, 0.0]]]), R=[1.0, 0.0], gamma=0.9, mu=[1.0, 0.0])
    >>> tr = rollout(mdp, [[1.0], [1.0]], n_episodes=2, horizon=3, rng=np.random.default_rng(0))
    >>> tr.states
    array([[0, 1, 0, 1],
           [0, 1, 0, 1]])
    """
    _v.check_rng(rng)
    n_episodes = _v.check_int(n_episodes, "n_episodes", min_value=1)
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    A = mdp.n_actions
    sampler = _get_sampler(mdp)
    states = np.empty((n_episodes, horizon + 1), dtype=np.intp)
    actions = np.empty((n_episodes, horizon), dtype=np.intp)
    states[:, 0] = _sample_initial(mu, n_episodes, rng)
    for t in range(horizon):
        pi_t = pi if pi.ndim == 2 else pi[t]
        s = states[:, t]
        a = _sample_categorical(pi_t[s], rng)
        actions[:, t] = a
        states[:, t + 1] = sampler.sample(s * A + a, rng.random(n_episodes))
    rewards = mdp.R[states[:, :-1], actions]
    return Trajectories(states, actions, rewards)


def _get_sampler(mdp):
    sampler = mdp.__dict__.get("_sampler")
    if sampler is None:
        sampler = _SuccessorSampler(mdp)
        mdp.__dict__["_sampler"] = sampler
    return sampler


@renamed_keyword("p0", "mu")
def enumerate_trajectories(mdp, pi, horizon, *, mu=None, max_trajectories=1_000_000):
    r"""Every trajectory of positive probability up to ``horizon``, with its probability.

    The exact ground truth that expectations over trajectories are checked
    against: for any function f of a trajectory,
    :math:`E[f] = \sum_i p_i f(\tau_i)` exactly (no sampling).

    Parameters
    ----------
    mdp : TabularMDP
        Small: the number of trajectories grows like (S A)^H.
    pi : array_like, shape (S, A) or (horizon, S, A)
    horizon : int >= 0
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. ``p0`` is a deprecated alias (removed in 0.3.0).
    max_trajectories : int
        Refuse (``ValueError``) to build more than this many.

    Returns
    -------
    trajectories : Trajectories
    probabilities : ndarray, shape (N,)
        Positive, summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, enumerate_trajectories
    >>> mdp = TabularMDP(np.full((2, 1, 2), 0.5), R=[0.0, 1.0], gamma=1.0, mu=[1.0, 0.0])
    >>> tr, p = enumerate_trajectories(mdp, [[1.0], [1.0]], horizon=1)
    >>> tr.states, p
    (array([[0, 0],
           [0, 1]]), array([0.5, 0.5]))
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    max_trajectories = _v.check_int(max_trajectories, "max_trajectories", min_value=1)
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    S, A = mdp.shape
    # Frontier: partial trajectories as parallel arrays, expanded one step at a time.
    states = np.flatnonzero(mu > 0)[:, None]
    actions = np.empty((states.shape[0], 0), dtype=np.intp)
    prob = mu[states[:, 0]]
    for t in range(horizon):
        pi_t = pi if pi.ndim == 2 else pi[t]
        s = states[:, -1]
        new_s, new_a, new_idx, new_p = [], [], [], []
        for a in range(A):
            pa = prob * pi_t[s, a]
            keep = pa > 0
            if not np.any(keep):
                continue
            idx = np.flatnonzero(keep)
            rows = s[idx] * A + a
            succ = _successors(mdp, rows)
            for j, (cols, probs) in enumerate(succ):
                for s2, q in zip(cols, probs):
                    new_idx.append(idx[j])
                    new_a.append(a)
                    new_s.append(s2)
                    new_p.append(pa[idx[j]] * q)
        if len(new_idx) > max_trajectories:
            raise ValueError(
                f"enumerate_trajectories would build {len(new_idx)} trajectories at step {t + 1}, "
                f"more than max_trajectories={max_trajectories}; use a smaller MDP or horizon, or raise the cap"
            )
        new_idx = np.asarray(new_idx, dtype=np.intp)
        states = np.column_stack([states[new_idx], np.asarray(new_s, dtype=np.intp)]) if new_idx.size else np.empty((0, t + 2), dtype=np.intp)
        actions = np.column_stack([actions[new_idx], np.asarray(new_a, dtype=np.intp)]) if new_idx.size else np.empty((0, t + 1), dtype=np.intp)
        prob = np.asarray(new_p, dtype=np.float64)
    rewards = mdp.R[states[:, :-1], actions] if horizon else np.empty((states.shape[0], 0))
    return Trajectories(states, actions, rewards), prob


def _successors(mdp, rows):
    """(columns, probabilities) of the positive entries of each (S*A, S) row."""
    P = mdp._P_flat
    out = []
    for row in rows:
        if mdp.is_sparse:
            lo, hi = P.indptr[row], P.indptr[row + 1]
            out.append((P.indices[lo:hi], P.data[lo:hi]))
        else:
            cols = np.flatnonzero(P[row] > 0)
            out.append((cols, P[row, cols]))
    return out

