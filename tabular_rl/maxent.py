r"""Maximum entropy inverse RL (Ziebart, Maas, Bagnell and Dey, AAAI 2008).

The model: over the paths :math:`\zeta = (s_0, a_0, s_1, \dots, a_{H-1}, s_H)` of a
finite horizon H from a start state :math:`s_0`,

.. math:: P(\zeta\mid\theta, s_0) = \frac{e^{\theta^\top f_\zeta}}{Z_{s_0}(\theta)}
          \prod_{t=0}^{H-1} P(s_{t+1}\mid s_t, a_t),\qquad
          f_\zeta = \sum_{t=0}^{H-1} f(s_t),

eq. (4) of the paper (eq. (2) for deterministic MDPs, where the product is 1).
Conventions fixed here, once, for the whole module:

* **Time steps.** The reward :math:`r(s) = \theta^\top f(s)` is paid by the
  *current* state at each of the H steps t = 0..H-1; the final state
  :math:`s_H` is not rewarded. The backward pass, the forward pass, the
  empirical feature counts :math:`\tilde f` and the log-likelihood all use
  exactly these time indices. Undiscounted, as in the paper (``mdp.gamma`` is
  ignored).
* **Log space.** The partition functions grow like :math:`A^H e^{H r_{\max}}`;
  every backward quantity is kept as a logarithm
  (:math:`\log Z_{a,t}(s) = r(s) + \log\sum_k P(k|s,a)Z_{k,t+1}` through
  :func:`tabular_rl._kernels.log_expected_exp`), so rewards of 1e6 and horizons
  of 1000 give finite, normalised results.
* **Terminal states.** A set of terminal states starts the backward pass from
  :math:`Z_{s,H} = 1` there and 0 (log = -inf) elsewhere (the goal-directed
  model of the paper's Algorithm 1: only paths that are in the set at step H
  count). ``terminal_states=None`` means the states marked terminal when the MDP
  was built (``TabularMDP(..., terminal=...)``; the gridworld builders and
  ``from_gymnasium`` mark theirs), and, if none was marked, :math:`Z_{s,H} = 1`
  everywhere (the model over all length-H paths). States that are terminal only
  because ``P`` and ``R`` make them absorbing with zero reward are not used by
  default: MaxEnt IRL takes its reward separately, and the MDP's ``R`` is often a
  placeholder of zeros. Pass ``terminal_states=np.ones(S, bool)`` for the
  all-paths model on an MDP with marked terminal states. The
  forward pass uses the MDP's own dynamics: make goal states absorbing in the
  MDP if that is the model you want. A state from which no path reaches the set
  in time has :math:`Z = 0`; its local action probabilities are then uniform by
  convention, and it is never visited under the model.
* **The printed Algorithm 1** has three things to be aware of (see
  docs/guide/maxent.md#errata-of-algorithm-1): its forward-pass indices are wrong (step 5 as printed does not
  conserve probability mass: this module uses
  :math:`D_{t+1}(s') = \sum_{s,a} D_t(s)\pi_t(a|s)P(s'|s,a)`); it computes one
  stationary policy where the finite-horizon model needs a time-indexed one
  (both are here: :func:`maxent_backward_pass` and
  :func:`maxent_backward_pass_stationary`); and in stochastic MDPs its forward
  pass with the true dynamics is not the gradient of the eq. (4) likelihood
  (:func:`maxent_path_marginals` is, and is what :func:`maxent_irl` ascends).
  For stochastic dynamics the principled model is maximum causal entropy,
  :mod:`tabular_rl.mce`.
"""

import dataclasses
import warnings

import numpy as np

from . import _kernels
from . import _validation as _v
from .sampling import Trajectories

__all__ = [
    "IRLResult",
    "MaxEntPartition",
    "maxent_backward_pass",
    "maxent_backward_pass_stationary",
    "maxent_forward_pass",
    "maxent_forward_pass_per_step",
    "maxent_irl",
    "maxent_log_likelihood_gradient",
    "maxent_log_likelihood_objective",
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


def _check_state_features(features, mdp):
    phi = _v.as_float_array(features, "features", real=True)
    if phi.ndim != 2 or phi.shape[0] != mdp.n_states or phi.shape[1] < 1:
        raise ValueError(
            f"features must have shape ({mdp.n_states}, K) with K >= 1 (state features), got {phi.shape}"
        )
    _v.check_finite(phi, "features")
    return _v.check_magnitude(phi, "features")


def _check_weights(weights, K, name="weights"):
    w = _v.as_float_array(weights, name, real=True)
    _v.check_shape(w, (K,), name, what="(one weight per feature, K = features.shape[-1])")
    return _v.check_finite(w, name)


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


def maxent_backward_pass(mdp, state_rewards, horizon, *, terminal_states=None):
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

    Returns
    -------
    ndarray, shape (horizon, S, A)

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
    """
    r = _check_state_rewards(state_rewards, mdp)
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    # The fused kernel keeps only log Z_{t+1} and writes each pi_t in place (benchmarks/ profiles it).
    return _kernels.maxent_backward(mdp, r, horizon, _log_terminal(terminal_states, mdp))[1]


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
    algorithm then uses at every step. ``terminal_states`` gives the
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
    return maxent_backward_pass(mdp, state_rewards, n_iterations, terminal_states=terminal_states)[0]


# ------------------------------------------------------------------ forward
def _check_forward_args(mdp, policy, horizon, p0):
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(policy, mdp, "policy", horizon=horizon, time_varying=True)
    p0 = mdp.mu if p0 is None else _v.check_distribution(p0, "p0", mdp.n_states)
    return pi, horizon, np.asarray(p0, dtype=np.float64)


def maxent_forward_pass_per_step(mdp, policy, horizon, *, p0=None):
    r"""State distributions :math:`D_t`, t = 0..H-1, of the MaxEnt forward pass, shape (H, S); each row sums to 1.

    .. math:: D_0 = p_0,\qquad D_{t+1}(s') = \sum_{s}\sum_{a} D_t(s)\,\pi_t(a|s)\,P(s'|s,a).

    **Erratum.** Algorithm 1, step 5, as printed in the paper and on the
    lecture slide reads
    :math:`D_{s_i,t+1} = \sum_{a}\sum_k D_{s_k,t}P(a|s_i)P(s_k|a,s_i)`, which
    sums the *successor's* mass into the *predecessor* (a backward, not a
    forward, step) and does not conserve probability. The indices above are
    the corrected ones. Step 4 means :math:`D_0 = p_0` only.

    The forward pass uses the MDP's own dynamics (``terminal_states`` of the
    backward pass do not stop it): make goal states absorbing in the MDP if the
    goal-directed model is meant.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (S, A) or (horizon, S, A)
        Stationary or time-indexed local action probabilities.
    horizon : int >= 0
    p0 : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``.

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
    >>> maxent_forward_pass_per_step(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [[1.0], [1.0]], 3, p0=[1.0, 0.0])
    array([[1., 0.],
           [0., 1.],
           [0., 1.]])
    """
    pi, horizon, p0 = _check_forward_args(mdp, policy, horizon, p0)
    return _kernels.forward_distributions(mdp, pi, horizon, p0, store=True)[0]


def maxent_forward_pass(mdp, policy, horizon, *, p0=None):
    r"""Expected state visitation frequencies :math:`D(s) = \sum_{t=0}^{H-1} D_t(s)`, shape (S,), summing to H.

    The sum over the H rewarded time steps (t = 0..H-1, the same steps the
    backward pass rewards) of the distributions of
    :func:`maxent_forward_pass_per_step` (see there for the recursion and the
    paper's index erratum). O(H nnz(P)) on sparse transitions.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (S, A) or (horizon, S, A)
    horizon : int >= 0
    p0 : array_like, shape (S,), optional

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
    >>> maxent_forward_pass(TabularMDP(P, R=[0.0, 0.0], gamma=1.0), [[1.0], [1.0]], 3, p0=[1.0, 0.0])
    array([1., 2.])
    """
    pi, horizon, p0 = _check_forward_args(mdp, policy, horizon, p0)
    return _kernels.forward_distributions(mdp, pi, horizon, p0, store=False)[1]


def _edges(mdp):
    """(row, column, probability) of every stored transition: the (S*A, S) matrix as COO."""
    P = mdp._P_flat
    if mdp.is_sparse:
        return np.repeat(np.arange(P.shape[0]), np.diff(P.indptr)), P.indices, P.data
    rows, cols = np.nonzero(P)
    return rows, cols, P[rows, cols]


def _path_marginals(mdp, part, r, p0):
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
    d = np.array(p0, dtype=np.float64)
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


def _check_reachable(log_Z0, p0, what):
    dead = (p0 > 0) & ~np.isfinite(log_Z0)
    if np.any(dead):
        s = int(np.flatnonzero(dead)[0])
        raise ValueError(
            f"{what} puts probability {p0[s]:g} on state {s}, from which no path of the horizon reaches "
            "terminal_states (Z = 0 there): the model gives those paths probability 0; lengthen the horizon, "
            "change terminal_states or the start distribution"
        )


def maxent_path_marginals(mdp, state_rewards, horizon, *, terminal_states=None, p0=None):
    r"""State marginals :math:`D_t(s) = P(s_t = s)` under the MaxEnt path distribution, t = 0..H-1, shape (H, S).

    The exact expected visitation of the model

    .. math:: P(\zeta\mid s_0) = e^{\sum_{t<H} r(s_t)}\prod_t P(s_{t+1}|s_t,a_t)\,
              Z_{s_H,H}/Z_{s_0,0},\qquad s_0\sim p_0,

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
    p0 : array_like, shape (S,), optional
        Start distribution (default ``mdp.mu``); it must put no mass where
        :math:`Z_{s,0} = 0`.

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
    p0 = mdp.mu if p0 is None else _v.check_distribution(p0, "p0", mdp.n_states)
    part = _backward(mdp, r, horizon, _log_terminal(terminal_states, mdp))
    _check_reachable(part.log_Z[0], p0, "p0")
    return _path_marginals(mdp, part, r, p0)


# ---------------------------------------------------------- log-likelihood
def _empirical_state_counts(mdp, phi, demonstrations, horizon, p0, log_terminal):
    """(f_tilde (K,), start distribution (S,)) from Trajectories or from given feature counts."""
    S, K = phi.shape
    if isinstance(demonstrations, Trajectories):
        demonstrations.check_against(mdp, "demonstrations")
        if demonstrations.horizon != horizon:
            raise ValueError(
                f"demonstrations must have horizon == horizon == {horizon} (H steps, H+1 states), "
                f"got demonstrations.horizon == {demonstrations.horizon}"
            )
        if demonstrations.n_episodes < 1:
            raise ValueError("demonstrations must hold at least one episode, got 0")
        if p0 is not None:
            raise ValueError(
                "p0 must be None when demonstrations are Trajectories: the start distribution is the "
                "demonstrations' empirical one"
            )
        states = demonstrations.states
        ends = states[:, horizon]
        off = ~np.isfinite(log_terminal[ends])
        if np.any(off):
            i = int(np.flatnonzero(off)[0])
            raise ValueError(
                f"demonstrations must end in terminal_states for the goal-directed model, but episode {i} "
                f"ends in state {int(ends[i])} (probability 0 under the model)"
            )
        f_tilde = phi[states[:, :horizon]].sum(axis=1).mean(axis=0)
        start = np.bincount(states[:, 0], minlength=S) / demonstrations.n_episodes
        return f_tilde, start
    f_tilde = _v.as_float_array(demonstrations, "demonstrations")
    if np.iscomplexobj(f_tilde):
        raise TypeError(f"demonstrations must be Trajectories or real feature counts, got dtype {f_tilde.dtype}")
    _v.check_shape(f_tilde, (K,), "demonstrations", what="(Trajectories, or empirical feature counts, one per feature)")
    _v.check_finite(f_tilde, "demonstrations")
    _v.check_magnitude(f_tilde, "demonstrations")
    start = mdp.mu if p0 is None else _v.check_distribution(p0, "p0", S)
    return f_tilde, np.asarray(start, dtype=np.float64)


class _MaxEntProblem:
    """The validated inputs of the MaxEnt log-likelihood; evaluates L and its gradient."""

    def __init__(self, mdp, features, demonstrations, horizon, terminal_states, p0):
        self.mdp = mdp
        self.phi = _check_state_features(features, mdp)
        self.horizon = _v.check_int(horizon, "horizon", min_value=0)
        self.log_terminal = _log_terminal(terminal_states, mdp)
        self.f_tilde, self.p0 = _empirical_state_counts(
            mdp, self.phi, demonstrations, self.horizon, p0, self.log_terminal
        )
        part = _backward(mdp, np.zeros(mdp.n_states), self.horizon, self.log_terminal)
        _check_reachable(part.log_Z[0], self.p0, "the start distribution")
        self.support = self.p0 > 0

    def value_and_grad(self, w):
        r = self.phi @ w
        part = _backward(self.mdp, r, self.horizon, self.log_terminal)
        value = float(w @ self.f_tilde - self.p0[self.support] @ part.log_Z[0][self.support])
        D = _path_marginals(self.mdp, part, r, self.p0).sum(axis=0)
        return value, self.f_tilde - D @ self.phi, part.policy


def maxent_log_likelihood_objective(mdp, features, demonstrations, horizon, weights, *, terminal_states=None, p0=None):
    r"""The MaxEnt log-likelihood of demonstrations (to maximise), a float.

    .. math:: L(\theta) = \frac1m\sum_{i=1}^m \theta^\top f_{\zeta_i}
              - \frac1m\sum_{i=1}^m \log Z_{s_{0,i}}(\theta),\qquad
              f_\zeta = \sum_{t=0}^{H-1} f(s_t),

    the mean of :math:`\log P(\zeta_i|\theta, T)` of eq. (4) without its
    :math:`\sum_t\log P(s_{t+1}|s_t,a_t)` term, which does not depend on
    :math:`\theta`. The feature counts sum over the H rewarded steps t = 0..H-1
    (not :math:`s_H`), exactly as the backward pass rewards. Concave in
    :math:`\theta` (:math:`\log Z` is a log-sum-exp of linear functions), with gradient
    :func:`maxent_log_likelihood_gradient`.

    Parameters
    ----------
    mdp : TabularMDP
    features : array_like, shape (S, K)
        State features f(s).
    demonstrations : Trajectories or array_like (K,)
        Episodes of exactly ``horizon`` steps (their start states give the
        start distribution), or the empirical feature counts
        :math:`\tilde f` (then ``p0``, default ``mdp.mu``, is the start distribution).
    horizon : int >= 0
    weights : array_like, shape (K,)
        :math:`\theta`; the reward is :math:`r(s) = \theta^\top f(s)`.
    terminal_states : None, sequence of int, or bool array (S,)
        Goal set of the backward pass; demonstrations must end in it.
    p0 : array_like, shape (S,), optional
        Only with feature counts.

    Returns
    -------
    float

    References
    ----------
    Ziebart et al. (2008), eq. (4) and the learning objective below it.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.maxent import maxent_log_likelihood_objective
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0)
    >>> demo = Trajectories(states=[[0, 1]], actions=[[1]], rewards=[[0.0]])
    >>> L = maxent_log_likelihood_objective(mdp, np.eye(2), demo, 1, [0.0, 0.0])
    >>> bool(np.isclose(L, -np.log(2)))                # one step, two equally likely actions
    True
    """
    prob = _MaxEntProblem(mdp, features, demonstrations, horizon, terminal_states, p0)
    w = _check_weights(weights, prob.phi.shape[1])
    return prob.value_and_grad(w)[0]


def maxent_log_likelihood_gradient(mdp, features, demonstrations, horizon, weights, *, terminal_states=None, p0=None):
    r"""Gradient of :func:`maxent_log_likelihood_objective`, shape (K,).

    .. math:: \nabla L(\theta) = \tilde f - \sum_{t=0}^{H-1}\sum_s D_t(s) f(s)

    (eq. (6)), with :math:`D_t` the exact state marginals of the model
    (:func:`maxent_path_marginals`, from the demonstrations' start distribution).
    In a deterministic MDP these are Algorithm 1's (corrected) forward pass
    under the time-indexed backward-pass policy; in a stochastic MDP the
    printed algorithm's true-dynamics forward pass is *not* this gradient
    (docs/guide/maxent.md#stochastic-dynamics).

    Parameters are those of :func:`maxent_log_likelihood_objective`.

    Returns
    -------
    ndarray, shape (K,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.maxent import maxent_log_likelihood_gradient
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0)
    >>> demo = Trajectories(states=[[0, 1, 1]], actions=[[1, 1]], rewards=[[0.0, 0.0]])
    >>> maxent_log_likelihood_gradient(mdp, np.eye(2), demo, 2, [0.0, 0.0])   # (1, 1) - (1.5, 0.5)
    array([-0.5,  0.5])
    """
    prob = _MaxEntProblem(mdp, features, demonstrations, horizon, terminal_states, p0)
    w = _check_weights(weights, prob.phi.shape[1])
    return prob.value_and_grad(w)[1]


# --------------------------------------------------------- gradient ascent
@dataclasses.dataclass(frozen=True, eq=False)
class IRLResult:
    r"""Result of :func:`maxent_irl` or :func:`tabular_rl.mce.mce_irl`.

    Attributes
    ----------
    weights : ndarray, shape (K,)
        The final :math:`\theta`.
    reward : ndarray
        The recovered reward :math:`\theta^\top f`: shape (S,) for state
        features, (S, A) for state-action features.
    policy : ndarray
        The model's policy at ``weights``: (H, S, A) time-indexed, or (S, A).
    log_likelihood : ndarray, shape (n_iterations + 1,)
        The objective at every iterate, the initial one included; non-decreasing.
    grad_norm : ndarray, shape (n_iterations + 1,)
        :math:`\|\nabla L\|_2` at every iterate: the feature-matching error.
    n_iterations : int
        Accepted ascent steps.
    converged : bool
        Whether the final gradient norm is at most ``tol``.

    Examples
    --------
    :func:`maxent_irl` returns one. Two states, action a moves to state a, start in
    state 0, two steps, one feature: "in state 1". Demonstrations that are in state 1
    at t = 1 three times in four are matched when the first step's policy is
    e^w / (1 + e^w) = 3/4, w = log 3; at w = 0 the four action sequences are equally
    likely, L = -log 4.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> from tabular_rl.maxent import maxent_irl
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0, mu=[1.0, 0.0])
    >>> res = maxent_irl(mdp, [[0.0], [1.0]], [0.75], horizon=2, p0=[1.0, 0.0])
    >>> res.converged, res.reward.round(6)                  # theta^T f per state: 0 and log 3
    (True, array([0.      , 1.098612]))
    >>> res.policy[0, 0].round(6)
    array([0.25, 0.75])
    >>> round(float(res.log_likelihood[0]), 6), bool(np.all(np.diff(res.log_likelihood) >= 0))
    (-1.386294, True)
    >>> bool(res.grad_norm[-1] <= 1e-8)
    True
    """

    weights: np.ndarray
    reward: np.ndarray
    policy: np.ndarray
    log_likelihood: np.ndarray
    grad_norm: np.ndarray
    n_iterations: int
    converged: bool


_METHODS = ("gradient", "lbfgs")


def _check_method(method):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    return method


def _lbfgs_ascent(value_and_grad, w0, *, tol, max_iter):
    """L-BFGS (scipy.optimize, exact gradients) on -L; returns (w, value, grad, extra, values, norms, k).

    Every evaluation is cached, so the history and the final point cost no extra passes."""
    from scipy.optimize import minimize

    cache = {}

    def evaluate(w):
        key = w.tobytes()
        if key not in cache:
            cache.clear()  # keep only the latest point (each entry holds an (H, S, A) policy)
            cache[key] = value_and_grad(np.array(w, dtype=np.float64))
        return cache[key]

    w = np.array(w0, dtype=np.float64)
    value, grad, extra = evaluate(w)
    values, norms = [value], [float(np.linalg.norm(grad))]
    if norms[-1] <= tol:
        return w, value, grad, extra, values, norms, 0
    trace = []

    def negated(x):
        v, g, _ = evaluate(x)
        return -v, -g

    def record(x):
        v, g, _ = evaluate(x)
        trace.append((np.array(x), v, g))

    # gtol is a max-norm: tol / sqrt(K) makes the 2-norm <= tol. ftol = 0: stop on the gradient only.
    minimize(negated, w, jac=True, method="L-BFGS-B", callback=record,
             options=dict(gtol=tol / np.sqrt(max(w.size, 1)), ftol=0.0, maxiter=max_iter, maxcor=20))
    for x, v, g in trace:
        values.append(v)
        norms.append(float(np.linalg.norm(g)))
    if trace:
        w = trace[-1][0]
    value, grad, extra = value_and_grad(w) if w.tobytes() not in cache else cache[w.tobytes()]
    return w, value, grad, extra, values, norms, len(trace)


def _gradient_ascent(value_and_grad, w0, *, tol, max_iter, step_size, name, method="gradient"):
    r"""Gradient ascent on a concave objective with a Barzilai-Borwein trial step and
    backtracking on the directional derivative.

    A trial step :math:`\eta` (``step_size`` first, then the Barzilai-Borwein
    step :math:`s^\top s/s^\top y`) is halved until
    :math:`\nabla L(\theta+\eta g)^\top g \ge 0`, i.e. until it does not pass the
    maximum of L along g. For concave L this guarantees
    :math:`L(\theta+\eta g) \ge L(\theta) + \eta\,\nabla L(\theta+\eta g)^\top g \ge L(\theta)`
    (monotone ascent) and at least half the best improvement along the line;
    unlike an Armijo test on L it keeps working when the improvement is below
    the round-off of L, so gradient norms of 1e-10 are reachable.

    With ``method="lbfgs"`` the steps are L-BFGS's (quasi-Newton, far fewer on
    ill-conditioned problems); if it stops above ``tol`` (round-off), the
    ascent above continues from its last point within the same ``max_iter``.

    Returns (w, value, grad, extra, values, norms, n_iterations, converged).
    """
    if method == "lbfgs":
        w, value, grad, extra, values, norms, k = _lbfgs_ascent(value_and_grad, w0, tol=tol, max_iter=max_iter)
    else:
        w = np.array(w0, dtype=np.float64)
        value, grad, extra = value_and_grad(w)
        values, norms, k = [value], [float(np.linalg.norm(grad))], 0
    eta = step_size
    converged = norms[-1] <= tol
    stalled = False
    while not converged and k < max_iter:
        for _ in range(60):
            w_new = w + eta * grad
            value_new, grad_new, extra_new = value_and_grad(w_new)
            if grad_new @ grad >= 0.0 and np.isfinite(value_new):
                break
            eta *= 0.5
        else:
            stalled = True
            break
        s, y = w_new - w, grad - grad_new          # y = change in the gradient of -L
        sy = float(s @ y)
        eta = float(s @ s) / sy if sy > 0 else 2.0 * eta
        w, value, grad, extra = w_new, value_new, grad_new, extra_new
        values.append(value)
        norms.append(float(np.linalg.norm(grad)))
        k += 1
        converged = norms[-1] <= tol
    if not converged:
        why = (
            "the line search could not find an ascent step (round-off)" if stalled
            else f"max_iter={max_iter} steps were taken"
        )
        warnings.warn(
            f"{name} stopped with gradient norm {norms[-1]:.3g} above tol={tol:g}: {why}; "
            "increase max_iter or tol",
            RuntimeWarning,
            stacklevel=3,
        )
    return w, value, grad, extra, np.array(values), np.array(norms), k, converged


def maxent_irl(
    mdp,
    features,
    demonstrations,
    horizon,
    *,
    terminal_states=None,
    p0=None,
    weights0=None,
    tol=1e-8,
    max_iter=1000,
    step_size=1.0,
    method="gradient",
):
    r"""MaxEnt IRL: maximise the log-likelihood of demonstrations over reward weights.

    .. math:: \theta^* = \arg\max_\theta\ L(\theta),\qquad
              \nabla L(\theta) = \tilde f - \sum_{t=0}^{H-1}\sum_s D_t(s) f(s),

    with L of :func:`maxent_log_likelihood_objective` (concave) and the exact
    model marginals :math:`D_t`. At the maximum the model matches the
    demonstrations' feature counts: ``grad_norm[-1]`` is the feature-matching
    error :math:`\|\tilde f - E_\theta[f_\zeta]\|_2`.

    Step rule: gradient ascent with a Barzilai-Borwein trial step, halved until
    the directional derivative at the new point is still non-negative
    (:math:`\nabla L(\theta+\eta g)^\top g\ge0`). On a concave objective this is
    monotone and makes at least half the best progress along the line; it
    stops when :math:`\|\nabla L\|_2\le` ``tol``, or warns (RuntimeWarning) after
    ``max_iter`` steps.

    Parameters
    ----------
    mdp : TabularMDP
        Undiscounted model (``mdp.gamma`` and ``mdp.R`` are not used).
    features : array_like, shape (S, K)
        State features.
    demonstrations : Trajectories or array_like (K,)
        Episodes of exactly ``horizon`` steps, or empirical feature counts
        :math:`\tilde f` summed over t = 0..H-1 (with ``p0``).
    horizon : int >= 0
    terminal_states : None, sequence of int, or bool array (S,)
        The goal-directed model (see :func:`maxent_backward_pass`).
    p0 : array_like, shape (S,), optional
        Start distribution, only with feature counts (default ``mdp.mu``).
    weights0 : array_like, shape (K,), optional
        Initial weights; default zeros.
    tol : float > 0
        Stop when the gradient norm is at most this.
    max_iter : int >= 1
        Cap on ascent steps; a RuntimeWarning names it if reached.
    step_size : float > 0
        The first trial step.
    method : {"gradient", "lbfgs"}
        ``"gradient"``: gradient ascent as in the paper (Barzilai-Borwein trial
        step, see the Notes). ``"lbfgs"``: L-BFGS on the same exact objective
        and gradient (``scipy.optimize``); the same optimum, typically in tens of
        iterations where gradient ascent needs thousands (weakly identified
        reward directions make the problem ill-conditioned).

    Returns
    -------
    IRLResult
        ``reward`` has shape (S,); ``policy`` is the (H, S, A) backward-pass policy.

    References
    ----------
    Ziebart, Maas, Bagnell and Dey (2008). Maximum entropy inverse
    reinforcement learning. AAAI. Eq. (4), (6) and Algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.maxent import maxent_irl
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=1.0, mu=[1.0, 0.0])
    >>> res = maxent_irl(mdp, [[0.0], [1.0]], [0.75], horizon=2, p0=[1.0, 0.0])
    >>> res.converged, round(float(res.weights[0]), 6)   # s_1 = 1 with probability 3/4: e^w = 3
    (True, 1.098612)
    """
    prob = _MaxEntProblem(mdp, features, demonstrations, horizon, terminal_states, p0)
    K = prob.phi.shape[1]
    w0 = np.zeros(K) if weights0 is None else _check_weights(weights0, K, "weights0")
    tol = _v.check_real(tol, "tol", low=0.0, low_open=True)
    max_iter = _v.check_int(max_iter, "max_iter", min_value=1)
    step_size = _v.check_real(step_size, "step_size", low=0.0, low_open=True)
    method = _check_method(method)
    w, _, _, policy, values, norms, k, converged = _gradient_ascent(
        prob.value_and_grad, w0, tol=tol, max_iter=max_iter, step_size=step_size, name="maxent_irl", method=method
    )
    return IRLResult(
        weights=w, reward=prob.phi @ w, policy=policy, log_likelihood=values,
        grad_norm=norms, n_iterations=k, converged=converged,
    )
