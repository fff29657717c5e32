r"""The MaxEnt IRL passes (Ziebart et al. 2008, Algorithm 1 and eq. (4)): partition functions,
backward passes, forward passes and the exact path marginals.

* backward (log space): :func:`maxent_partition` (every intermediate, a :class:`MaxEntPartition`),
  :func:`maxent_backward_pass` (the time-indexed local action probabilities),
  :func:`maxent_log_partition` (:math:`\log Z_{s,t}` only) and
  :func:`maxent_backward_pass_stationary` (the printed algorithm's stationary policy);
* forward: :func:`maxent_forward_pass_per_step` (:math:`D_t`) and :func:`maxent_forward_pass`
  (:math:`\sum_t D_t`), with the paper's index erratum corrected;
* :func:`maxent_path_marginals`: the state marginals of the eq. (4) path distribution, the
  forward pass with the tilted successor law.

The conventions (time steps, log space, terminal states, the errata of Algorithm 1) are in the
docstring of :mod:`tabular_rl.maxent`, which re-exports every name here, and in
docs/guide/maxent.md. The log-likelihood and the IRL loop are in :mod:`tabular_rl.maxent_likelihood`.
"""

import dataclasses

import numpy as np

from . import _kernels
from . import _validation as _v
from ._deprecation import renamed_keyword

__all__ = [
    "MaxEntPartition",
    "maxent_backward_pass",
    "maxent_backward_pass_stationary",
    "maxent_forward_pass",
    "maxent_forward_pass_per_step",
    "maxent_log_partition",
    "maxent_partition",
    "maxent_path_marginals",
]


# ---------------------------------------------------------------- validation
def _check_state_rewards(state_rewards, mdp, name="state_rewards"):
    r = _v.as_float_array(state_rewards, name, real=True)
    _v.check_shape(r, (mdp.n_states,), name, what="(one reward per state)")
    return _v.check_finite(r, name)


def _log_terminal(terminal_states, mdp):
    """log Z at t = H: 0 on the terminal set and -inf elsewhere. None means the states marked
    terminal when the MDP was built (``TabularMDP(..., terminal=...)``, which the gridworld
    builders and ``from_gymnasium`` set), or 0 everywhere (every length-H path) if none was."""
    S = mdp.n_states
    if terminal_states is None:
        marked = mdp._listed_terminal
        if np.any(marked):
            return np.where(marked, 0.0, -np.inf)
        return np.zeros(S)
    if isinstance(terminal_states, (set, frozenset)):
        terminal_states = sorted(terminal_states)
    arr = _v.as_array(terminal_states, "terminal_states")
    if arr.size == 0:
        arr = arr.astype(np.intp)  # an empty list is float64 to NumPy, and indexing with it fails
    if arr.dtype == np.bool_:
        _v.check_shape(arr, (S,), "terminal_states", what="(a boolean mask over states)")
        mask = arr.copy()
    else:
        if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
            raise TypeError(
                "terminal_states must be None, a 1-d collection of integer state indices or a boolean "
                f"mask of shape ({S},), got {type(terminal_states).__name__} with dtype {arr.dtype} "
                f"and shape {arr.shape}"
            )
        bad = (arr < 0) | (arr >= S)
        if np.any(bad):
            raise ValueError(f"terminal_states must lie in [0, {S - 1}], got {int(arr[bad][0])}")
        mask = np.zeros(S, dtype=bool)
        mask[arr] = True
    if not np.any(mask):
        raise ValueError("terminal_states must contain at least one state (use None for no terminal set), got none")
    return np.where(mask, 0.0, -np.inf)


# ----------------------------------------------------------------- backward
@dataclasses.dataclass(frozen=True, eq=False)
class MaxEntPartition:
    r"""The MaxEnt backward pass: partition functions (in log space) and local action probabilities.

    Attributes
    ----------
    policy : ndarray, shape (H, S, A)
        :math:`\pi_t(a|s) = Z_{a,t}(s)/Z_{s,t}` for t = 0..H-1 (uniform where
        :math:`Z_{s,t} = 0`).
    log_Z : ndarray, shape (H+1, S)
        :math:`\log Z_{s,t}`, the log-sum over the paths of the remaining H - t
        steps of :math:`e^{\sum_{u=t}^{H-1} r(s_u)}\prod_u P(s_{u+1}|s_u,a_u)`;
        row H is 0 (or -inf off the terminal set). May hold -inf.
    log_Z_action : ndarray, shape (H, S, A)
        :math:`\log Z_{a,t}(s) = r(s) + \log\sum_k P(k|s,a) Z_{k,t+1}`.

    Examples
    --------
    :func:`maxent_partition` returns one. Two states, action a moves to state a,
    state rewards (0, 1), two steps. From state 0, action 0 leads to state 0 and two
    unrewarded continuations (Z = 2); action 1 leads to state 1, paying 1 on either
    continuation (Z = 2e). The policy is Z_a / Z_s.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_partition
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> part = maxent_partition(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [0.0, 1.0], horizon=2)
    >>> np.exp(part.log_Z_action[0, 0])                     # 2 and 2e
    array([2.        , 5.43656366])
    >>> part.policy[0, 0]                                   # 1 / (1 + e), e / (1 + e)
    array([0.26894142, 0.73105858])
    >>> part.log_Z[2], part.policy.shape                    # nothing left at t = H
    (array([0., 0.]), (2, 2, 2))
    """

    policy: np.ndarray
    log_Z: np.ndarray
    log_Z_action: np.ndarray


def _backward(mdp, r, horizon, log_terminal):
    S, A = mdp.shape
    log_Z = np.empty((horizon + 1, S))
    log_Z[horizon] = log_terminal
    log_Za = np.empty((horizon, S, A))
    policy = np.empty((horizon, S, A))
    for t in range(horizon - 1, -1, -1):
        log_Za[t] = r[:, None] + _kernels.log_expected_exp(mdp, log_Z[t + 1])
        log_Z[t], policy[t] = _kernels.soft_max_actions(log_Za[t])
    return MaxEntPartition(policy=policy, log_Z=log_Z, log_Z_action=log_Za)


def maxent_partition(mdp, state_rewards, horizon, *, terminal_states=None):
    r"""The time-indexed MaxEnt backward pass, with every intermediate (log space).

    .. math::
        \log Z_{s,H} = 0 \ (\text{or } -\infty \text{ off the terminal set}),\qquad
        \log Z_{a,t}(s) = r(s) + \log\sum_k P(k|s,a)\,e^{\log Z_{k,t+1}},

        \log Z_{s,t} = \log\sum_a e^{\log Z_{a,t}(s)},\qquad
        \pi_t(a|s) = e^{\log Z_{a,t}(s) - \log Z_{s,t}},\qquad t = H-1,\dots,0.

    In a deterministic MDP the product of the :math:`\pi_t` along an action
    sequence telescopes to :math:`e^{\sum_{t<H} r(s_t)}\,Z_{s_H,H}/Z_{s_0,0}`: the
    exact path distribution of eq. (2).

    Parameters
    ----------
    mdp : TabularMDP
        Dense or sparse; ``mdp.gamma`` and ``mdp.R`` are not used.
    state_rewards : array_like, shape (S,)
        :math:`r(s) = \theta^\top f(s)`, paid at steps t = 0..H-1.
    horizon : int >= 0
    terminal_states : None, sequence of int, or bool array (S,)
        The goal set. None: the MDP's marked terminal states (``TabularMDP(...,
        terminal=...)``) if it has any, else the model over all length-H paths.

    Returns
    -------
    MaxEntPartition

    References
    ----------
    Ziebart, Maas, Bagnell and Dey (2008). Maximum entropy inverse
    reinforcement learning. AAAI. Algorithm 1, steps 1-3 (made time-indexed).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_partition
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])  # action a goes to state a
    >>> part = maxent_partition(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [0.0, 1.0], horizon=2)
    >>> np.exp(part.log_Z[:, 0])       # from 0: action sequences 00, 01 pay 0; 10, 11 pay 1
    array([7.43656366, 2.        , 1.        ])
    """
    r = _check_state_rewards(state_rewards, mdp)
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    return _backward(mdp, r, horizon, _log_terminal(terminal_states, mdp))


def maxent_backward_pass(mdp, state_rewards, horizon, *, terminal_states=None, out=None):
    r"""Local action probabilities :math:`\pi_t(a|s) = Z_{a,t}(s)/Z_{s,t}`, t = 0..H-1, shape (H, S, A).

    The time-indexed backward pass of :func:`maxent_partition` (see there for
    the recursion, in log space). Rows are normalised; a state with
    :math:`Z_{s,t} = 0` (no path reaches ``terminal_states`` in the H - t steps
    left) gets the uniform distribution, and is unreachable under the model.

    Parameters
    ----------
    mdp : TabularMDP
    state_rewards : array_like, shape (S,)
    horizon : int >= 0
    terminal_states : None, sequence of int, or bool array (S,)
        The goal set. None: the MDP's marked terminal states (``TabularMDP(...,
        terminal=...)``) if it has any, else every length-H path counts.
    out : ndarray, shape (horizon, S, A), optional
        Where to write the policies: a writeable C-contiguous float64 array, for
        instance a ``numpy.memmap`` on disk when H S A doubles do not fit in memory
        (32 GB at ten million states, four actions and H = 100). Returned as given.
        For :math:`\pi_0` alone, :func:`maxent_backward_pass_stationary` needs only
        O(SA) memory.

    Returns
    -------
    ndarray, shape (horizon, S, A)
        ``out`` if given.

    References
    ----------
    Ziebart et al. (2008), Algorithm 1, steps 1-3. The printed algorithm
    returns one stationary P(a|s); the finite-horizon model needs this
    time-indexed one (docs/guide/maxent.md#stationary-versus-time-indexed-policy).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_backward_pass
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> pi = maxent_backward_pass(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [0.0, 1.0], horizon=2)
    >>> pi[0, 0]                       # e / (1 + e) of the mass goes to the rewarding state
    array([0.26894142, 0.73105858])
    >>> pi[1, 0]                       # the last step's successor is never rewarded
    array([0.5, 0.5])

    With state 1 marked terminal, only paths that end there count, by default:

    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0, terminal=[1])
    >>> maxent_backward_pass(mdp, [0.0, 1.0], horizon=1)[0, 0]     # from 0, only moving to 1 reaches it
    array([0., 1.])

    Streaming the policies to disk:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "pi.dat")
    >>> out = np.memmap(path, dtype=np.float64, mode="w+", shape=(2, 2, 2))
    >>> maxent_backward_pass(mdp, [0.0, 1.0], horizon=2, out=out) is out
    True
    >>> out[1, 0]
    memmap([0., 1.])
    >>> del out; os.remove(path)
    """
    r = _check_state_rewards(state_rewards, mdp)
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    # The fused kernel keeps only log Z_{t+1} and writes each pi_t in place (benchmarks/ profiles it);
    # it checks ``out`` (shape, dtype, layout, writeable) before any work.
    return _kernels.maxent_backward(mdp, r, horizon, _log_terminal(terminal_states, mdp), out=out)[1]


def maxent_log_partition(mdp, state_rewards, horizon, *, terminal_states=None):
    r"""Log partition functions :math:`\log Z_{s,t}`, t = 0..H, shape (H+1, S).

    Row 0 is :math:`\log Z_{s_0}(\theta)`, the normaliser of eq. (4) (eq. (2) in a
    deterministic MDP, where it is the log-sum-exp of the path rewards over all
    :math:`A^H` action sequences). Entries are -inf where no path reaches
    ``terminal_states``.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_log_partition
    >>> mdp = TabularMDP(np.ones((1, 3, 1)), R=[0.0], gamma=1.0)   # 3 actions, 1 state
    >>> maxent_log_partition(mdp, [0.5], horizon=2)[0] - 2 * (0.5 + np.log(3))   # 9 paths paying 1
    array([0.])
    """
    return maxent_partition(mdp, state_rewards, horizon, terminal_states=terminal_states).log_Z


def maxent_backward_pass_stationary(mdp, state_rewards, n_iterations, *, terminal_states=None):
    r"""Algorithm 1, steps 1-3 as printed: one stationary P(a|s) after N backward iterations, shape (S, A).

    .. math::
        Z_s \leftarrow 1;\quad \text{repeat } N \text{ times: }
        Z_a(s) = \sum_k P(k|s,a)\,e^{r(s)} Z_k,\ \ Z_s = \sum_a Z_a(s);\qquad
        P(a|s) = Z_a(s)/Z_s.

    This is the slide's algorithm, so a grader can compare a student's
    output with it; it is computed in log space (identical to the linear-space
    algorithm up to round-off wherever that one does not overflow). It equals
    :math:`\pi_0` of :func:`maxent_backward_pass` with ``horizon = n_iterations``:
    the right policy for the *first* step of an N-step model, which the printed
    algorithm then uses at every step. It keeps one (S, A) buffer, so its memory is
    O(SA) whatever N (the time-indexed pass stores N of them). ``terminal_states`` gives the
    goal-directed initialisation (Z = 1 only on the set).

    Parameters
    ----------
    mdp : TabularMDP
    state_rewards : array_like, shape (S,)
    n_iterations : int >= 1
        N, the number of backward iterations.
    terminal_states : None, sequence of int, or bool array (S,)

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Ziebart et al. (2008), Algorithm 1 ("Expected Edge Frequency
    Calculation"), steps 1-3; the lecture's "Backward pass" slide.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_backward_pass_stationary
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> maxent_backward_pass_stationary(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [0.0, 1.0], 2)
    array([[0.26894142, 0.73105858],
           [0.26894142, 0.73105858]])
    """
    n_iterations = _v.check_int(n_iterations, "n_iterations", min_value=1)
    r = _check_state_rewards(state_rewards, mdp)
    # pi_0 alone, from one (S, A) buffer: the time-indexed policies are never stored.
    return _kernels.maxent_backward_first(mdp, r, n_iterations, _log_terminal(terminal_states, mdp))[1]


# ------------------------------------------------------------------ forward
def _check_forward_args(mdp, pi, horizon, mu):
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(pi, mdp, "pi", horizon=horizon, time_varying=True)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    return pi, horizon, np.asarray(mu, dtype=np.float64)


@renamed_keyword("policy", "pi")
@renamed_keyword("p0", "mu")
def maxent_forward_pass_per_step(mdp, pi, horizon, *, mu=None):
    r"""State distributions :math:`D_t`, t = 0..H-1, of the MaxEnt forward pass, shape (H, S); each row sums to 1.

    .. math:: D_0 = \mu,\qquad D_{t+1}(s') = \sum_{s}\sum_{a} D_t(s)\,\pi_t(a|s)\,P(s'|s,a).

    **Erratum.** Algorithm 1, step 5, as printed in the paper and on the
    lecture slide reads
    :math:`D_{s_i,t+1} = \sum_{a}\sum_k D_{s_k,t}P(a|s_i)P(s_k|a,s_i)`, which
    sums the *successor's* mass into the *predecessor* (a backward, not a
    forward, step) and does not conserve probability. The indices above are
    the corrected ones. Step 4 means :math:`D_0 = \mu` only.

    The forward pass uses the MDP's own dynamics (``terminal_states`` of the
    backward pass do not stop it): make goal states absorbing in the MDP if the
    goal-directed model is meant.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (horizon, S, A)
        Stationary or time-indexed local action probabilities. ``policy`` is a deprecated alias
        (removed in 0.3.0).
    horizon : int >= 0
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. ``p0`` is a deprecated alias (removed in 0.3.0).

    Returns
    -------
    ndarray, shape (horizon, S)

    References
    ----------
    Ziebart et al. (2008), Algorithm 1, steps 4-5 (indices corrected).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_forward_pass_per_step
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])           # 0 -> 1 -> 1
    >>> maxent_forward_pass_per_step(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [[1.0], [1.0]], 3, mu=[1.0, 0.0])
    array([[1., 0.],
           [0., 1.],
           [0., 1.]])
    """
    pi, horizon, mu = _check_forward_args(mdp, pi, horizon, mu)
    return _kernels.forward_distributions(mdp, pi, horizon, mu, store=True)[0]


@renamed_keyword("policy", "pi")
@renamed_keyword("p0", "mu")
def maxent_forward_pass(mdp, pi, horizon, *, mu=None):
    r"""Expected state visitation frequencies :math:`D(s) = \sum_{t=0}^{H-1} D_t(s)`, shape (S,), summing to H.

    The sum over the H rewarded time steps (t = 0..H-1, the same steps the
    backward pass rewards) of the distributions of
    :func:`maxent_forward_pass_per_step` (see there for the recursion and the
    paper's index erratum). O(H nnz(P)) on sparse transitions.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (horizon, S, A)
        ``policy`` is a deprecated alias (removed in 0.3.0).
    horizon : int >= 0
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. ``p0`` is a deprecated alias (removed in 0.3.0).

    Returns
    -------
    ndarray, shape (S,)

    References
    ----------
    Ziebart et al. (2008), Algorithm 1, steps 4-6 (indices corrected).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_forward_pass
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    >>> maxent_forward_pass(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [[1.0], [1.0]], 3, mu=[1.0, 0.0])
    array([1., 2.])
    """
    pi, horizon, mu = _check_forward_args(mdp, pi, horizon, mu)
    return _kernels.forward_distributions(mdp, pi, horizon, mu, store=False)[1]


def _edges(mdp):
    """(row, column, probability) of every stored transition: the (S*A, S) matrix as COO."""
    P = mdp._P_flat
    if mdp.is_sparse:
        return np.repeat(np.arange(P.shape[0]), np.diff(P.indptr)), P.indices, P.data
    rows, cols = np.nonzero(P)
    return rows, cols, P[rows, cols]


def _path_marginals(mdp, part, r, mu):
    r"""Forward pass under the path distribution of eq. (4) (a new kernel, private to this module).

    :math:`D_{t+1}(s') = \sum_{s,a} D_t(s)\pi_t(a|s)\tilde P_t(s'|s,a)` with the
    tilted successor law :math:`\tilde P_t(s'|s,a) = P(s'|s,a)Z_{s',t+1}/\sum_k P(k|s,a)Z_{k,t+1}`,
    evaluated entry by entry in log space and renormalised per (s, a) row, so
    each step conserves mass to round-off at any reward scale. In a
    deterministic MDP :math:`\tilde P_t = P` and this is the ordinary forward pass.
    """
    H = part.policy.shape[0]
    S = mdp.n_states
    rows, cols, probs = _edges(mdp)
    out = np.empty((H, S))
    if H == 0:
        return out
    d = np.array(mu, dtype=np.float64)
    for t in range(H):
        out[t] = d
        if t == H - 1:
            break
        # log sum_k P(k|s,a) Z_{k,t+1} per (s, a): the shift that keeps every factor <= ~1.
        log_E = (part.log_Z_action[t] - r[:, None]).ravel()[rows]
        log_next = part.log_Z[t + 1][cols]
        live = np.isfinite(log_E) & np.isfinite(log_next)
        diff = np.where(live, log_next, 0.0) - np.where(live, log_E, 0.0)
        with np.errstate(under="ignore"):
            w = np.where(live, probs * np.exp(diff), 0.0)
        row_sum = np.bincount(rows, weights=w, minlength=part.policy[t].size)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(row_sum > 0, (d[:, None] * part.policy[t]).ravel() / row_sum, 0.0)
        d = np.bincount(cols, weights=x[rows] * w, minlength=S)
    return out


def _check_reachable(log_Z0, mu, what):
    dead = (mu > 0) & ~np.isfinite(log_Z0)
    if np.any(dead):
        s = int(np.flatnonzero(dead)[0])
        raise ValueError(
            f"{what} puts probability {mu[s]:g} on state {s}, from which no path of the horizon reaches "
            "terminal_states (Z = 0 there): the model gives those paths probability 0; lengthen the horizon, "
            "change terminal_states or the start distribution"
        )


@renamed_keyword("p0", "mu")
def maxent_path_marginals(mdp, state_rewards, horizon, *, terminal_states=None, mu=None):
    r"""State marginals :math:`D_t(s) = P(s_t = s)` under the MaxEnt path distribution, t = 0..H-1, shape (H, S).

    The exact expected visitation of the model

    .. math:: P(\zeta\mid s_0) = e^{\sum_{t<H} r(s_t)}\prod_t P(s_{t+1}|s_t,a_t)\,
              Z_{s_H,H}/Z_{s_0,0},\qquad s_0\sim \mu,

    (eq. (4), with :math:`Z_{s_H,H}` the terminal indicator), so that
    :math:`\nabla_\theta \log Z_{s_0} = \sum_t\sum_s D_t(s) f(s)` exactly. Its
    recursion is the forward pass with the *tilted* successor law
    :math:`P(s'|s,a)Z_{s',t+1}/\sum_k P(k|s,a)Z_{k,t+1}`.

    In a deterministic MDP this equals :func:`maxent_forward_pass_per_step` of
    the policy of :func:`maxent_backward_pass` (Algorithm 1, corrected). In a
    stochastic MDP it does not: Algorithm 1 pushes mass forward with the true
    dynamics, which is neither this expectation nor the maximum causal entropy
    solution (docs/guide/maxent.md#stochastic-dynamics).

    Parameters
    ----------
    mdp : TabularMDP
    state_rewards : array_like, shape (S,)
    horizon : int >= 0
    terminal_states : None, sequence of int, or bool array (S,)
    mu : array_like, shape (S,), optional
        Start distribution (default ``mdp.mu``); it must put no mass where
        :math:`Z_{s,0} = 0`. ``p0`` is a deprecated alias (removed in 0.3.0).

    Returns
    -------
    ndarray, shape (horizon, S); each row sums to 1.

    References
    ----------
    Ziebart et al. (2008), eq. (4) and (6).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_path_marginals
    >>> P = np.array([[[0.5, 0.5]], [[0.0, 1.0]]])         # from 0, a fair coin; 1 is absorbing
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0, mu=[1.0, 0.0])
    >>> maxent_path_marginals(mdp, [0.0, np.log(3.0)], horizon=2)   # paths through 1 weigh 3
    array([[1.  , 0.  ],
           [0.25, 0.75]])
    """
    r = _check_state_rewards(state_rewards, mdp)
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    part = _backward(mdp, r, horizon, _log_terminal(terminal_states, mdp))
    _check_reachable(part.log_Z[0], mu, "mu")
    return _path_marginals(mdp, part, r, mu)
