r"""Behaviour cloning and DAgger, exactly, on finite MDPs (lecture 7, second half).

Conventions (docs/guide/imitation.md#conventions: Ross & Bagnell's, restated in the library's 0-indexed time):

* An episode has H decision steps t = 0..H-1; the state :math:`s_t` is paid for
  when the agent acts in it, so Ross & Bagnell's "cost of the states occupied at
  t = 1..T" is the library's :math:`\sum_{t=0}^{H-1}` with H = T.
* The library maximises rewards. A cost C is stored as the reward :math:`r = -C`;
  ``J`` (``finite_horizon_values(...).J``) is then minus the expected total cost.
  Bounds below are stated on the **cost** regret :math:`J_C(\pi)-J_C(\pi^*)`
  = :math:`J(\pi^*)-J(\pi)`.
* The expert :math:`\pi^*` is deterministic (one-hot rows), stationary (S, A) or
  time-varying (H, S, A). The 0-1 error of a learner at step t is
  :math:`e_t(s) = 1-\pi_t(\pi^*_t(s)|s)`, and the error rates average it over the
  H steps: :math:`\epsilon = \frac1H\sum_t E_{s\sim d^t}[e_t(s)]` under the
  expert's or the learner's own state distributions :math:`d^t`.
"""

import dataclasses

import numpy as np

from . import _validation as _v
from .evaluation import finite_horizon_values, state_distributions
from .mdp import TabularMDP
from .sampling import Trajectories, check_trajectories, rollout

__all__ = [
    "DAggerResult",
    "behavior_cloning",
    "behavior_cloning_bound",
    "behavior_cloning_objective",
    "dagger",
    "drift_bc_cost",
    "drift_bc_learner",
    "drift_dagger_cost",
    "drift_dagger_learner",
    "drift_expert",
    "drift_mdp",
    "expert_distribution_error",
    "expert_q_gap",
    "learner_distribution_bound",
    "learner_distribution_error",
    "state_action_counts",
]


# --------------------------------------------------------------------------- validation


def _check_expert(expert, mdp, horizon, name="expert"):
    """A deterministic (one-hot) stationary or time-varying policy; returns (policy, labels)."""
    expert = _v.check_policy(expert, mdp, name, horizon=horizon, time_varying=True)
    top = expert.max(axis=-1)
    bad = ~(np.abs(top - 1.0) <= 1e-12)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(str(i) for i in idx)
        raise ValueError(
            f"{name} must be deterministic (one-hot rows), got {name}[{where}, :] = {expert[idx]!r}"
        )
    return expert, np.argmax(expert, axis=-1)


def _check_default_action(default_action, n_actions):
    if isinstance(default_action, str):
        if default_action != "uniform":
            raise ValueError(f"default_action must be an action index or 'uniform', got {default_action!r}")
        return default_action
    return _v.check_int(default_action, "default_action", min_value=0, max_value=n_actions - 1)


# --------------------------------------------------------------------------- behaviour cloning


def state_action_counts(mdp, trajectories):
    r"""Visit counts :math:`n(s,a) = \#\{(n,t): s^n_t=s,\ a^n_t=a,\ t<H\}`, shape (S, A).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.imitation import state_action_counts
    >>> mdp = TabularMDP(np.full((2, 2, 2), 0.5), R=np.zeros(2), gamma=1.0)
    >>> tr = Trajectories(states=[[0, 0, 1]], actions=[[1, 1]], rewards=[[0.0, 0.0]])
    >>> state_action_counts(mdp, tr)
    array([[0., 2.],
           [0., 0.]])
    """
    check_trajectories(trajectories, mdp)
    S, A = mdp.shape
    H = trajectories.horizon
    flat = trajectories.states[:, :H] * A + trajectories.actions
    return np.bincount(flat.ravel(), minlength=S * A).reshape(S, A).astype(np.float64)


def behavior_cloning(mdp, trajectories, *, smoothing=0.0, default_action=0):
    r"""Tabular behaviour cloning: the maximum-likelihood stationary policy of the demonstrations.

    .. math:: \hat\pi(a|s) = \frac{n(s,a)+\alpha}{n(s)+A\alpha}\quad\text{if } n(s) > 0,

    with :math:`n(s,a)` the counts of :func:`state_action_counts` (steps t = 0..H-1;
    the final state :math:`s_H` has no action and is not counted) and
    :math:`\alpha` = ``smoothing`` (additive, Laplace for 1). With
    :math:`\alpha = 0` this maximises :func:`behavior_cloning_objective`. At states
    with no data (:math:`n(s)=0`) the policy is ``default_action`` whatever
    :math:`\alpha`: the one-hot action given (default 0), or ``"uniform"``.

    Parameters
    ----------
    mdp : TabularMDP
        Gives S and A.
    trajectories : Trajectories
        The demonstrations (state, action) pairs.
    smoothing : float >= 0
    default_action : int in [0, A-1] or "uniform"

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Pomerleau, D. A. (1989). ALVINN. NIPS; Ross, S. and Bagnell, J. A. (2010).
    Efficient reductions for imitation learning. AISTATS (Section 2, supervised imitation).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.imitation import behavior_cloning
    >>> mdp = TabularMDP(np.full((2, 2, 2), 0.5), R=np.zeros(2), gamma=1.0)
    >>> tr = Trajectories(states=[[0, 0, 0, 1]], actions=[[1, 1, 0]], rewards=np.zeros((1, 3)))
    >>> behavior_cloning(mdp, tr)                      # state 1 unseen: default action 0
    array([[0.33333333, 0.66666667],
           [1.        , 0.        ]])
    >>> behavior_cloning(mdp, tr, smoothing=1.0, default_action="uniform")
    array([[0.4, 0.6],
           [0.5, 0.5]])
    """
    smoothing = _v.check_real(smoothing, "smoothing", low=0.0)
    default_action = _check_default_action(default_action, mdp.n_actions)
    counts = state_action_counts(mdp, trajectories)
    return _fit_counts(counts, smoothing, default_action)


def _fit_counts(counts, smoothing, default_action):
    S, A = counts.shape
    n = counts.sum(axis=1, keepdims=True)
    seen = n > 0
    fitted = (counts + smoothing) / np.where(seen, n + A * smoothing, 1.0)
    if default_action == "uniform":
        default = np.full((S, A), 1.0 / A)
    else:
        default = np.zeros((S, A))
        default[:, default_action] = 1.0
    return np.where(seen, fitted, default)


def behavior_cloning_objective(mdp, pi, trajectories):
    r"""Log-likelihood of the demonstrated actions under a policy (to maximise).

    .. math:: \ell(\pi) = \sum_{n=1}^N\sum_{t=0}^{H-1}\log\pi_t(a^n_t|s^n_t)

    a total, not a mean (divide by ``N*H`` for the per-step value); ``-inf`` if a
    demonstrated action has probability 0. The maximiser over stationary
    policies at visited states is :func:`behavior_cloning` with ``smoothing=0``.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (H, S, A)
    trajectories : Trajectories

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, Trajectories
    >>> from tabular_rl.imitation import behavior_cloning_objective
    >>> mdp = TabularMDP(np.full((1, 2, 1), 1.0), R=np.zeros(1), gamma=1.0)
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[1, 0]], rewards=np.zeros((1, 2)))
    >>> float(np.exp(behavior_cloning_objective(mdp, [[0.25, 0.75]], tr)))   # 0.75 * 0.25
    0.1875
    """
    check_trajectories(trajectories, mdp)
    H = trajectories.horizon
    pi = _v.check_policy(pi, mdp, horizon=H, time_varying=True)
    s, a = trajectories.states[:, :H], trajectories.actions
    p = pi[s, a] if pi.ndim == 2 else pi[np.arange(H)[None, :], s, a]
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(p)))


# --------------------------------------------------------------------------- error rates and bounds


def _error_rate(mdp, learner, labels, horizon, d):
    """(1/H) sum_t sum_s d_t(s) (1 - pi_t(a*_t(s)|s))."""
    S = mdp.n_states
    lab = np.broadcast_to(labels, (horizon, S))
    pi = np.broadcast_to(learner, (horizon,) + mdp.shape)
    agree = np.take_along_axis(pi, lab[..., None], axis=2)[..., 0]
    return float(np.sum(d * (1.0 - agree)) / horizon)


def _error_inputs(mdp, learner, expert, horizon):
    horizon = _v.check_int(horizon, "horizon", min_value=1)
    learner = _v.check_policy(learner, mdp, "learner", horizon=horizon, time_varying=True)
    expert, labels = _check_expert(expert, mdp, horizon)
    return learner, expert, labels, horizon


def expert_distribution_error(mdp, learner, expert, horizon):
    r"""0-1 error of a learner on the **expert's** state distribution (behaviour cloning's error).

    .. math:: \epsilon^* = \frac1H\sum_{t=0}^{H-1}E_{s\sim d^t_{\pi^*}}\big[1-\pi_t(\pi^*_t(s)|s)\big]

    Parameters
    ----------
    mdp : TabularMDP
    learner : array_like, shape (S, A) or (H, S, A)
    expert : array_like, shape (S, A) or (H, S, A), deterministic
    horizon : int >= 1

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> from tabular_rl.imitation import drift_bc_learner, drift_expert, drift_mdp, expert_distribution_error
    >>> expert_distribution_error(drift_mdp(), drift_bc_learner(0.1), drift_expert(), horizon=5)
    0.1
    """
    learner, expert, labels, horizon = _error_inputs(mdp, learner, expert, horizon)
    d = state_distributions(mdp, expert, horizon)
    return _error_rate(mdp, learner, labels, horizon, d)


def learner_distribution_error(mdp, learner, expert, horizon):
    r"""0-1 error of a learner on its **own** state distribution (DAgger's error).

    .. math:: \epsilon = \frac1H\sum_{t=0}^{H-1}E_{s\sim d^t_{\pi}}\big[1-\pi_t(\pi^*_t(s)|s)\big]

    Parameters and returns as :func:`expert_distribution_error`.

    Examples
    --------
    >>> from tabular_rl.imitation import drift_dagger_learner, drift_expert, drift_mdp, learner_distribution_error
    >>> round(learner_distribution_error(drift_mdp(), drift_dagger_learner(0.1), drift_expert(), horizon=5), 12)
    0.1
    """
    learner, expert, labels, horizon = _error_inputs(mdp, learner, expert, horizon)
    d = state_distributions(mdp, learner, horizon)
    return _error_rate(mdp, learner, labels, horizon, d)


def expert_q_gap(mdp, expert, horizon):
    r"""The recoverability constant u of Ross & Bagnell: the most one action can cost the expert.

    .. math:: u = \max_{t,s,a}\big[Q^{\pi^*}_t(s,\pi^*_t(s)) - Q^{\pi^*}_t(s,a)\big]

    in the library's reward convention (= the cost-to-go form
    :math:`Q_C(s,a)-Q_C(s,\pi^*(s))` of docs/guide/imitation.md#recoverability-constant-u), with
    :math:`Q^{\pi^*}_t` from :func:`~tabular_rl.finite_horizon_values` over all states
    (reachable or not). It is 1 on the recoverable drift MDP and H-1 on the
    non-recoverable one.

    Parameters
    ----------
    mdp : TabularMDP
    expert : array_like, shape (S, A) or (H, S, A), deterministic
    horizon : int >= 1

    Returns
    -------
    float

    Examples
    --------
    >>> from tabular_rl.imitation import drift_expert, drift_mdp, expert_q_gap
    >>> expert_q_gap(drift_mdp(), drift_expert(), 10), expert_q_gap(drift_mdp(recoverable=False), drift_expert(), 10)
    (1.0, 9.0)
    """
    horizon = _v.check_int(horizon, "horizon", min_value=1)
    expert, labels = _check_expert(expert, mdp, horizon)
    Q = finite_horizon_values(mdp, expert, horizon).Q
    lab = np.broadcast_to(labels, (horizon, mdp.n_states))
    q_star = np.take_along_axis(Q, lab[..., None], axis=2)[..., 0]
    return float(np.max(q_star - Q.min(axis=2)))


def behavior_cloning_bound(horizon, epsilon, *, cost_range=1.0):
    r"""Ross & Bagnell's quadratic bound: :math:`J_C(\pi) \le J_C(\pi^*) + T^2\epsilon`.

    Valid for any learner whose error on the **expert's** distribution
    (:func:`expert_distribution_error`) is at most :math:`\epsilon`, any
    deterministic expert, costs in an interval of width ``cost_range``
    (the bound scales by it) and any gamma in [0, 1].

    Parameters
    ----------
    horizon : int >= 0
        T.
    epsilon : float in [0, 1]
    cost_range : float >= 0
        :math:`\max C - \min C` (1 for costs in [0, 1]).

    Returns
    -------
    float
        ``cost_range * horizon**2 * epsilon``.

    References
    ----------
    Ross, S. and Bagnell, J. A. (2010). Efficient reductions for imitation
    learning. AISTATS. Theorem 2.1.

    Examples
    --------
    >>> from tabular_rl.imitation import behavior_cloning_bound
    >>> behavior_cloning_bound(10, 0.01)
    1.0
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    epsilon = _v.check_probability(epsilon, "epsilon")
    cost_range = _v.check_real(cost_range, "cost_range", low=0.0)
    return cost_range * horizon**2 * epsilon


def learner_distribution_bound(horizon, epsilon, u):
    r"""The bound linear in T behind DAgger: :math:`J_C(\pi) \le J_C(\pi^*) + uT\epsilon`.

    Valid when the error on the **learner's own** distribution
    (:func:`learner_distribution_error`) is at most :math:`\epsilon` and u bounds
    the expert's Q gap (:func:`expert_q_gap`); any gamma in [0, 1]. It follows
    from the finite-horizon performance difference identity
    :math:`J(\pi^*)-J(\pi) = \sum_t\gamma^t E_{s\sim d^t_\pi}[Q^{\pi^*}_t(s,\pi^*_t(s)) - E_{a\sim\pi_t}Q^{\pi^*}_t(s,a)]`.
    When u grows with T (non-recoverable tasks) the bound is quadratic again.

    Parameters
    ----------
    horizon : int >= 0
    epsilon : float in [0, 1]
    u : float >= 0

    Returns
    -------
    float
        ``u * horizon * epsilon``.

    References
    ----------
    Ross, S., Gordon, G. J. and Bagnell, J. A. (2011). A reduction of imitation
    learning and structured prediction to no-regret online learning. AISTATS.
    Theorem 3.2 (and Ross & Bagnell 2010, Theorem 3.1 / Lemma for the forward algorithm).

    Examples
    --------
    >>> from tabular_rl.imitation import learner_distribution_bound
    >>> learner_distribution_bound(10, 0.01, u=1.0)
    0.1
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    epsilon = _v.check_probability(epsilon, "epsilon")
    u = _v.check_real(u, "u", low=0.0)
    return u * horizon * epsilon


# --------------------------------------------------------------------------- the drift MDP


def drift_mdp(*, recoverable=True):
    r"""The "recoverable drift" MDP of docs/guide/imitation.md#the-drift-mdp (2 states, 2 actions).

    States 0 = g (on track) and 1 = b (off track); actions 0 = keep, 1 = switch.
    Deterministic transitions (g,0)->g, (g,1)->b, (b,1)->g, (b,0)->b; with
    ``recoverable=False`` b is absorbing for both actions. The cost is
    :math:`C(s) = 1[s=b]` for the state occupied at each decision step, stored
    as the **reward** :math:`r(s,a) = -1[s=b]`; gamma = 1, :math:`s_0 = g`.
    So ``-finite_horizon_values(mdp, pi, T).J`` is the expected number of steps
    spent off track, Ross & Bagnell's :math:`J(\pi)` with costs at t = 1..T.

    Parameters
    ----------
    recoverable : bool
        Whether switching at b returns to g.

    Returns
    -------
    TabularMDP

    Examples
    --------
    >>> from tabular_rl import finite_horizon_values
    >>> from tabular_rl.imitation import drift_bc_cost, drift_bc_learner, drift_mdp
    >>> J = finite_horizon_values(drift_mdp(), drift_bc_learner(0.01), 20).J
    >>> round(-J, 12) == round(drift_bc_cost(20, 0.01), 12)
    True
    """
    if not isinstance(recoverable, (bool, np.bool_)):
        raise TypeError(f"recoverable must be a bool, got {type(recoverable).__name__}")
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = 1.0
    P[1, 1, 0 if recoverable else 1] = 1.0
    return TabularMDP(P, R=[0.0, -1.0], gamma=1.0, mu=[1.0, 0.0])


def drift_expert():
    """The drift MDP's expert: keep at g, switch at b, shape (2, 2).

    Examples
    --------
    Row s is the expert's action distribution in state s (0 = g, 1 = b); it never
    leaves g, so its cost over any horizon is 0.

    >>> from tabular_rl import finite_horizon_values
    >>> from tabular_rl.imitation import drift_expert, drift_mdp
    >>> drift_expert()                                      # g: keep (0); b: switch back (1)
    array([[1., 0.],
           [0., 1.]])
    >>> finite_horizon_values(drift_mdp(), drift_expert(), 10).J
    0.0
    """
    return np.eye(2)


def drift_bc_learner(epsilon):
    r"""Behaviour cloning's learner on the drift MDP: :math:`\pi(1|g)=\epsilon`, default action 0 at the unseen b.

    Examples
    --------
    Once off track it stays off track, so over 3 steps the cost is
    Pr(b at t=1) + Pr(b at t=2) = 0.1 + (1 - 0.9**2) = 0.29 (:func:`drift_bc_cost`).

    >>> from tabular_rl import finite_horizon_values
    >>> from tabular_rl.imitation import drift_bc_cost, drift_bc_learner, drift_mdp
    >>> drift_bc_learner(0.1)                               # slips at g; keeps at b, never recovers
    array([[0.9, 0.1],
           [1. , 0. ]])
    >>> round(-finite_horizon_values(drift_mdp(), drift_bc_learner(0.1), 3).J, 12), round(drift_bc_cost(3, 0.1), 12)
    (0.29, 0.29)
    """
    epsilon = _v.check_probability(epsilon, "epsilon")
    return np.array([[1.0 - epsilon, epsilon], [1.0, 0.0]])


def drift_dagger_learner(epsilon):
    r"""DAgger's learner on the drift MDP: error :math:`\epsilon` at both states, :math:`\pi(1|g)=\pi(0|b)=\epsilon`.

    Examples
    --------
    It is off track with probability 0.1 at every step after the first, so over 3
    steps the cost is 2 * 0.1 (:func:`drift_dagger_cost`), below the 0.29 of
    :func:`drift_bc_learner`.

    >>> from tabular_rl import finite_horizon_values
    >>> from tabular_rl.imitation import drift_dagger_learner, drift_mdp
    >>> drift_dagger_learner(0.1)                           # slips at g; recovers at b with 0.9
    array([[0.9, 0.1],
           [0.1, 0.9]])
    >>> round(-finite_horizon_values(drift_mdp(), drift_dagger_learner(0.1), 3).J, 12)
    0.2
    """
    epsilon = _v.check_probability(epsilon, "epsilon")
    return np.array([[1.0 - epsilon, epsilon], [epsilon, 1.0 - epsilon]])


def drift_bc_cost(horizon, epsilon):
    r"""Exact expected cost of :func:`drift_bc_learner` over T steps (quadratic in T).

    .. math:: J_{BC}(T) = \sum_{t=0}^{T-1}\big[1-(1-\epsilon)^t\big]
              = T - \frac{1-(1-\epsilon)^T}{\epsilon} = \frac{\epsilon T(T-1)}2 - O(\epsilon^2T^3)

    summed term by term with :math:`1-(1-\epsilon)^t = -\mathrm{expm1}(t\,\mathrm{log1p}(-\epsilon))`
    (every term positive: no cancellation; the closed form loses digits when
    :math:`\epsilon T` is small). Also the cost of any learner with error
    :math:`\epsilon` at g on the non-recoverable drift MDP.

    Examples
    --------
    >>> from tabular_rl.imitation import drift_bc_cost
    >>> round(drift_bc_cost(40, 1e-4) / 1e-4, 6)            # ~ T(T-1)/2 = 780
    779.012913
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    epsilon = _v.check_probability(epsilon, "epsilon")
    t = np.arange(horizon, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        drift = -np.expm1(t * np.log1p(-epsilon)) if epsilon < 1.0 else (t > 0).astype(np.float64)
    return float(np.sum(drift))


def drift_dagger_cost(horizon, epsilon):
    r"""Exact expected cost of :func:`drift_dagger_learner` over T steps: :math:`J = (T-1)\epsilon` (linear).

    Both rows of the induced chain are :math:`(1-\epsilon, \epsilon)`, so
    :math:`\Pr(s_t=b)=\epsilon` for every t >= 1 and 0 at t = 0.

    Examples
    --------
    >>> from tabular_rl.imitation import drift_dagger_cost
    >>> drift_dagger_cost(11, 0.5)
    5.0
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    epsilon = _v.check_probability(epsilon, "epsilon")
    return max(horizon - 1, 0) * epsilon


# --------------------------------------------------------------------------- DAgger


@dataclasses.dataclass(frozen=True, eq=False)
class DAggerResult:
    r"""Every iterate of :func:`dagger`, with exact diagnostics.

    Iterates are indexed i = 1..N+1 as in the lecture (stored at index i-1):
    :math:`\hat\pi_1` is the initial policy, :math:`\hat\pi_{i+1}` the classifier
    trained on the aggregate after iteration i.

    Attributes
    ----------
    policies : ndarray, shape (N+1, S, A)
        :math:`\hat\pi_1,\dots,\hat\pi_{N+1}`.
    dataset_sizes : ndarray of int, shape (N+1,)
        Number of (state, expert label) pairs :math:`\hat\pi_i` was trained on:
        0 for :math:`\hat\pi_1`, then ``(i-1) * n_episodes * horizon``.
    returns : ndarray, shape (N+1,)
        Exact :math:`J(\hat\pi_i)` over the horizon (``finite_horizon_values``;
        minus the expected total cost for a cost stored as negative reward).
    error_rates : ndarray, shape (N+1,)
        Exact :func:`learner_distribution_error` of :math:`\hat\pi_i` on its own distribution.
    betas : ndarray, shape (N,)
        :math:`\beta_1..\beta_N` used.
    expert_return : float
        Exact :math:`J(\pi^*)`.
    dataset : Trajectories
        The aggregate D: the visited states of every rollout, with the **expert's
        labels** :math:`\pi^*_t(s_t)` in ``actions`` (not the actions executed) and
        :math:`r(s_t,\pi^*_t(s_t))` in ``rewards``.
    best_index : int
        Index (0-based, >= 1) of the trained iterate with the highest exact return
        (the lecture selects on validation data; exact J is available here).

    Examples
    --------
    :func:`dagger` returns one. On the drift MDP over 3 steps: the uniform start
    :math:`\hat\pi_1` is off track with probability 1/2 at t = 1 and t = 2 (cost 1,
    return -1, and wrong half of the time). The first iteration rolls out the expert
    (beta_1 = 1), which never leaves g, so behaviour cloning learns "keep" at g and the
    default action at the unseen b: cost 0, whatever the random draws.

    >>> import numpy as np
    >>> from tabular_rl.imitation import dagger, drift_expert, drift_mdp
    >>> res = dagger(drift_mdp(), drift_expert(), 3, n_iterations=2, n_episodes=2, rng=np.random.default_rng(0))
    >>> res.returns, res.error_rates, res.expert_return
    (array([-1.,  0.,  0.]), array([0.5, 0. , 0. ]), 0.0)
    >>> res.dataset_sizes, res.betas, res.best_index        # 2 episodes x 3 steps per iteration
    (array([ 0,  6, 12]), array([1., 0.]), 1)
    >>> res.policies[1]
    array([[1., 0.],
           [1., 0.]])
    """

    policies: np.ndarray
    dataset_sizes: np.ndarray
    returns: np.ndarray
    error_rates: np.ndarray
    betas: np.ndarray
    expert_return: float
    dataset: Trajectories
    best_index: int


def _beta_schedule(beta, n_iterations):
    if beta is None:
        return np.array([1.0] + [0.0] * (n_iterations - 1))
    if callable(beta):
        return np.array([_v.check_probability(beta(i), f"beta({i})") for i in range(1, n_iterations + 1)])
    arr = _v.as_float_array(beta, "beta", ndim=1)
    _v.check_shape(arr, (n_iterations,), "beta", what="(one beta_i per iteration)")
    for i, b in enumerate(arr):
        _v.check_probability(float(b), f"beta[{i}]")
    return arr.copy()  # DAggerResult.betas must not be the caller's array (as_float_array does not copy)


def dagger(mdp, expert, horizon, *, n_iterations, n_episodes, rng, beta=None, pi_hat0=None,
           smoothing=0.0, default_action=0, classifier=None):
    r"""DAgger (dataset aggregation), exactly as the lecture's pseudo-code, with exact diagnostics.

    .. code-block:: text

        D <- empty;  pi_hat_1 = pi_hat0
        for i = 1..N:
            pi_i = beta_i pi* + (1 - beta_i) pi_hat_i        (per-step mixture)
            sample n_episodes H-step trajectories with pi_i  (tabular_rl.rollout, rng)
            D_i = {(s_t, pi*_t(s_t)) : every visited s_t, t = 0..H-1}
            D <- D u D_i
            pi_hat_{i+1} = classifier trained on D           (default: behavior_cloning)

    The theory (Ross, Gordon & Bagnell 2011, Thm 3.2: :math:`J_C(\hat\pi)\le J_C(\pi^*)+uT\epsilon_N+O(1)`)
    is for the **best** iterate or the uniform mixture, not the last one, and
    needs :math:`\frac1N\sum_i\beta_i\to0`.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon; any gamma in [0, 1].
    expert : array_like, shape (S, A) or (horizon, S, A)
        Deterministic (one-hot) expert; time-varying experts label step t with
        :math:`\pi^*_t`, while the classifier stays stationary.
    horizon : int >= 1
        T, the number of decision steps per episode.
    n_iterations : int >= 1
        N.
    n_episodes : int >= 1
        Episodes sampled per iteration.
    rng : numpy.random.Generator
        The only source of randomness.
    beta : callable, sequence or None
        :math:`\beta_i` for i = 1..N, as a callable ``i -> beta_i`` (i from 1) or a
        sequence of length N. Default :math:`\beta_1 = 1`, :math:`\beta_i = 0` after
        (the parameter-free schedule that worked best in the paper).
    pi_hat0 : array_like, shape (S, A), optional
        :math:`\hat\pi_1`; default uniform.
    smoothing, default_action
        Passed to :func:`behavior_cloning` (the default classifier).
    classifier : callable, optional
        ``classifier(mdp, dataset) -> (S, A) policy``, trained on the aggregate
        ``dataset`` (a :class:`~tabular_rl.Trajectories` of visited states with the
        expert's labels as actions). Replaces behaviour cloning, e.g. to inject errors.

    Returns
    -------
    DAggerResult

    References
    ----------
    Ross, S., Gordon, G. J. and Bagnell, J. A. (2011). A reduction of imitation
    learning and structured prediction to no-regret online learning. AISTATS.
    Algorithm 3.1; lecture 7, slide "DAGGER: Dataset Aggregation".

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl.imitation import dagger, drift_expert, drift_mdp
    >>> res = dagger(drift_mdp(), drift_expert(), 10, n_iterations=2, n_episodes=3, rng=np.random.default_rng(0))
    >>> res.dataset_sizes, float(res.returns[-1]), res.expert_return    # reaches the expert's cost 0
    (array([ 0, 30, 60]), 0.0, 0.0)
    """
    _v.check_rng(rng)
    horizon = _v.check_int(horizon, "horizon", min_value=1)
    n_iterations = _v.check_int(n_iterations, "n_iterations", min_value=1)
    n_episodes = _v.check_int(n_episodes, "n_episodes", min_value=1)
    expert, labels = _check_expert(expert, mdp, horizon)
    betas = _beta_schedule(beta, n_iterations)
    S, A = mdp.shape
    pi_hat = np.full((S, A), 1.0 / A) if pi_hat0 is None else _v.check_policy(pi_hat0, mdp, "pi_hat0")
    if classifier is None:
        smoothing = _v.check_real(smoothing, "smoothing", low=0.0)
        default_action = _check_default_action(default_action, A)

        def classifier(mdp_, data):
            return _fit_counts(state_action_counts(mdp_, data), smoothing, default_action)

    elif not callable(classifier):
        raise TypeError(f"classifier must be callable (mdp, dataset) -> policy, got {type(classifier).__name__}")

    t_idx = np.arange(horizon)[None, :]
    policies = [pi_hat]
    sizes = [0]
    states, actions = [], []
    data = None
    for i in range(n_iterations):
        b = betas[i]
        mixture = b * expert + (1.0 - b) * pi_hat  # (S, A) or (H, S, A)
        tr = rollout(mdp, mixture, n_episodes, horizon, rng=rng)
        visited = tr.states[:, :horizon]
        lab = labels[visited] if labels.ndim == 1 else labels[t_idx, visited]
        states.append(tr.states)
        actions.append(lab)
        all_states, all_actions = np.concatenate(states), np.concatenate(actions)
        data = Trajectories(all_states, all_actions, mdp.R[all_states[:, :horizon], all_actions])
        pi_hat = _v.check_policy(classifier(mdp, data), mdp, "classifier output")
        policies.append(pi_hat)
        sizes.append(all_actions.size)
    returns = np.array([finite_horizon_values(mdp, p, horizon).J for p in policies])
    errors = np.array([_error_rate(mdp, p, labels, horizon, state_distributions(mdp, p, horizon))
                       for p in policies])
    best = 1 + int(np.argmax(returns[1:]))
    return DAggerResult(
        policies=np.array(policies),
        dataset_sizes=np.array(sizes),
        returns=returns,
        error_rates=errors,
        betas=betas,
        expert_return=finite_horizon_values(mdp, expert, horizon).J,
        dataset=data,
        best_index=best,
    )
