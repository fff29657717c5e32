r"""Advantage estimation on trajectory segments: TD errors, n-step, GAE, lambda-returns.

These are the sample-level functions a student writes for PPO; the tests check
them against their closed forms and, by exact enumeration on a small MDP,
against the true advantage :math:`A^\pi`.

Conventions (shared by every function here; rlax-style time indices)
--------------------------------------------------------------------
One segment has ``T`` steps. For ``t = 0 .. T-1``:

* ``rewards[t]`` is :math:`r_t`, the reward of the step out of :math:`s_t`;
* ``values[t]`` is :math:`V(s_t)`, and ``values[T]`` is :math:`V(s_T)`, the
  bootstrap value of the state after the final step (so ``values`` has one
  more entry than ``rewards`` along the time axis);
* ``terminated[t]`` true means the step out of :math:`s_t` ended the episode
  (:math:`s_{t+1}` is terminal): nothing is bootstrapped through it,
  :math:`\delta_t = r_t - V(s_t)`, and the recursion restarts at
  :math:`t + 1` (``values[t+1]`` is then the first state of the next episode).
  This is gymnasium's ``terminated``; CleanRL's ``dones[t]`` ("obs[t] is a reset
  state") is this mask shifted by one.
* The end of the array is a time-limit truncation: it bootstraps from
  ``values[T]``. To terminate there instead, set ``terminated[T-1]``.

A leading batch axis is allowed: ``rewards`` (N, T), ``values`` (N, T+1),
``terminated`` (N, T); each row is an independent segment and the recursions are
vectorised over rows.
"""

import numpy as np

from . import _validation as _v

__all__ = [
    "gae",
    "lambda_returns",
    "n_step_advantages",
    "n_step_returns",
    "td_errors",
]


def _check_segment(rewards, values, terminated):
    """Validate one (T,) or batched (N, T) segment; return float arrays and a bool mask."""
    rewards = _v.as_float_array(rewards, "rewards")
    if rewards.ndim not in (1, 2):
        raise ValueError(
            f"rewards must have shape (T,) or (N, T) (a leading batch axis), got {rewards.shape}"
        )
    _v.check_finite(rewards, "rewards")
    values = _v.as_float_array(values, "values")
    want = rewards.shape[:-1] + (rewards.shape[-1] + 1,)
    _v.check_shape(
        values, want, "values",
        what=f"(one more entry than rewards {rewards.shape} along the time axis; the last is the bootstrap value)",
    )
    _v.check_finite(values, "values")
    if terminated is None:
        mask = np.zeros(rewards.shape, dtype=bool)
    else:
        term = _v.as_array(terminated, "terminated")
        if term.dtype == object or not (
            np.issubdtype(term.dtype, np.bool_)
            or np.issubdtype(term.dtype, np.integer)
            or np.issubdtype(term.dtype, np.floating)
        ):
            raise TypeError(f"terminated must be a boolean (or 0/1) array, got dtype {term.dtype}")
        _v.check_shape(term, rewards.shape, "terminated", what="(the same as rewards)")
        bad = (term != 0) & (term != 1)
        if np.any(bad):
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"terminated must hold only 0/1 (or booleans), got {term[idx].item()!r} at index {idx}")
        mask = term.astype(bool)
    return rewards, values, mask


def _check_discounts(gamma, lambda_=None):
    gamma = _v.check_real(gamma, "gamma", low=0.0, high=1.0)
    if lambda_ is None:
        return gamma
    return gamma, _v.check_real(lambda_, "lambda_", low=0.0, high=1.0)


def _td_errors(rewards, values, gamma, mask):
    return rewards + gamma * np.where(mask, 0.0, values[..., 1:]) - values[..., :-1]


def td_errors(rewards, values, gamma, *, terminated=None):
    r"""One-step TD errors :math:`\delta_t`, t = 0..T-1.

    .. math::

        \delta_t = r_t + \gamma (1 - \mathrm{term}_t) V(s_{t+1}) - V(s_t).

    Parameters
    ----------
    rewards : array_like, shape (T,) or (N, T)
        :math:`r_t` for t in [0, T-1].
    values : array_like, shape (T+1,) or (N, T+1)
        :math:`V(s_t)` for t in [0, T]; ``values[..., T]`` is the bootstrap value.
    gamma : float in [0, 1]
    terminated : array_like of bool, shape like ``rewards``, optional
        ``terminated[t]``: the step out of :math:`s_t` ended the episode.

    Returns
    -------
    ndarray, shape like ``rewards``

    Raises
    ------
    ValueError
        If the shapes do not match, a value is not finite, or gamma is outside [0, 1].

    References
    ----------
    Sutton & Barto (2018), eq. (6.5); Schulman et al., "High-Dimensional Continuous Control Using Generalized
    Advantage Estimation", ICLR 2016, eq. (9) ("delta_t^V").

    Examples
    --------
    >>> td_errors([1.0, 0.0], [0.5, 0.5, 2.0], 0.9)
    array([0.95, 1.3 ])
    >>> td_errors([1.0, 0.0], [0.5, 0.5, 2.0], 0.9, terminated=[False, True])
    array([ 0.95, -0.5 ])
    """
    rewards, values, mask = _check_segment(rewards, values, terminated)
    gamma = _check_discounts(gamma)
    return _td_errors(rewards, values, gamma, mask)


def gae(rewards, values, gamma, lambda_, *, terminated=None):
    r"""Generalized advantage estimates GAE(gamma, lambda) by the backward recursion.

    .. math::

        \delta_t &= r_t + \gamma (1 - \mathrm{term}_t) V(s_{t+1}) - V(s_t), \\
        \hat A_t &= \delta_t + \gamma \lambda (1 - \mathrm{term}_t) \hat A_{t+1},
        \qquad \hat A_T := 0,

    for t = T-1 down to 0. Without terminations this is the truncated sum
    :math:`\hat A_t = \sum_{l=0}^{T-t-1} (\gamma\lambda)^l \delta_{t+l}`, which is
    the boundary-weighted average of the k-step estimators
    :math:`\hat A_t^{(k)} = \sum_{l<k} \gamma^l r_{t+l} + \gamma^k V(s_{t+k}) - V(s_t)`
    (see :func:`n_step_advantages`) with ``n = T - t`` steps available:

    .. math::

        \hat A_t = (1-\lambda) \sum_{k=1}^{n-1} \lambda^{k-1} \hat A_t^{(k)}
                   + \lambda^{n-1} \hat A_t^{(n)} .

    The longest available estimator takes the whole tail mass
    :math:`\lambda^{n-1} = \sum_{k \ge n} (1-\lambda)\lambda^{k-1}`, so the weights
    sum to 1 (with :math:`0^0 = 1`). After a termination at step t+j the same
    rule holds with n = j+1 and no bootstrap. Special cases: lambda = 0 gives
    :math:`\delta_t`; lambda = 1 gives the discounted return (bootstrapped from
    :math:`V(s_T)` at a truncation) minus :math:`V(s_t)`.

    Parameters
    ----------
    rewards : array_like, shape (T,) or (N, T)
        :math:`r_t` for t in [0, T-1].
    values : array_like, shape (T+1,) or (N, T+1)
        :math:`V(s_t)` for t in [0, T]; ``values[..., T]`` bootstraps the truncated end.
    gamma : float in [0, 1]
    lambda_ : float in [0, 1]
    terminated : array_like of bool, shape like ``rewards``, optional
        ``terminated[t]`` true: the step out of :math:`s_t` ended the episode;
        nothing is bootstrapped through it and the recursion restarts.

    Returns
    -------
    ndarray, shape like ``rewards``
        :math:`\hat A_t` for t in [0, T-1].

    Raises
    ------
    ValueError
        If ``values`` does not have one more time step than ``rewards``, an input is not finite,
        ``terminated`` is not a 0/1 mask of the rewards' shape, or ``gamma`` / ``lambda_`` are outside [0, 1].
    TypeError
        If an input is not numeric.

    Notes
    -----
    The lecture's "GAE Balance" slide writes the normaliser as :math:`(1-\gamma)`; it is
    :math:`(1-\lambda)` (the weights :math:`\lambda^{k-1}` sum to :math:`1/(1-\lambda)`); with
    :math:`(1-\gamma)` the identity fails unless gamma = lambda. The PPO paper (Schulman et al. 2017)
    prints the last exponents of its eq. (10)/(11) as :math:`T-t+1`; the truncated sum ends at
    :math:`(\gamma\lambda)^{T-t-1}\delta_{T-1}`, as here.

    References
    ----------
    Schulman, Moritz, Levine, Jordan, Abbeel, "High-Dimensional Continuous Control Using Generalized Advantage
    Estimation", ICLR 2016, eq. (11)-(16); Schulman et al., "Proximal Policy Optimization Algorithms", 2017,
    eq. (11)-(12).

    Examples
    --------
    >>> import numpy as np
    >>> r, v = np.array([1.0, 0.0, 2.0]), np.array([0.5, 0.2, 0.1, 1.0])
    >>> gae(r, v, 0.9, 0.0)            # TD errors
    array([ 0.68, -0.11,  2.8 ])
    >>> gae(r, v, 0.9, 1.0)            # discounted return (bootstrapped) minus V
    array([2.849, 2.41 , 2.8  ])
    >>> gae(r, v, 0.9, 0.5, terminated=[False, True, False])
    array([ 0.59, -0.2 ,  2.8 ])
    """
    rewards, values, mask = _check_segment(rewards, values, terminated)
    gamma, lambda_ = _check_discounts(gamma, lambda_)
    delta = _td_errors(rewards, values, gamma, mask)
    decay = gamma * lambda_ * (~mask)
    adv = np.empty_like(delta)
    running = np.zeros(delta.shape[:-1], dtype=delta.dtype)
    for t in range(delta.shape[-1] - 1, -1, -1):
        running = delta[..., t] + decay[..., t] * running
        adv[..., t] = running
    return adv


def lambda_returns(rewards, values, gamma, lambda_, *, terminated=None):
    r"""Truncated TD(lambda) returns :math:`G^\lambda_t = \hat A_t + V(s_t)`, t = 0..T-1.

    They satisfy the lambda-return recursion

    .. math::

        G^\lambda_t = r_t + \gamma (1 - \mathrm{term}_t)
            \big[(1-\lambda) V(s_{t+1}) + \lambda G^\lambda_{t+1}\big],
        \qquad G^\lambda_T := V(s_T),

    and, with n = T - t steps available, the boundary-weighted average
    :math:`(1-\lambda)\sum_{k=1}^{n-1}\lambda^{k-1} G^{(k)}_t + \lambda^{n-1} G^{(n)}_t`
    of the n-step returns of :func:`n_step_returns`. These are the value targets of PPO.

    Parameters and conventions are those of :func:`gae`.

    Returns
    -------
    ndarray, shape like ``rewards``

    References
    ----------
    Sutton & Barto (2018), eq. (12.2)-(12.3) (lambda-return); Schulman et al., ICLR 2016, Sec. 5.

    Examples
    --------
    >>> lambda_returns([1.0, 0.0, 2.0], [0.5, 0.2, 0.1, 1.0], 0.9, 1.0)
    array([3.349, 2.61 , 2.9  ])
    """
    rewards, values, mask = _check_segment(rewards, values, terminated)
    return gae(rewards, values, gamma, lambda_, terminated=mask) + values[..., :-1]


def n_step_returns(rewards, values, gamma, n, *, terminated=None):
    r"""n-step returns :math:`G^{(n)}_t`, bootstrapped from the last value available, t = 0..T-1.

    .. math::

        G^{(n)}_t = \sum_{l=0}^{m-1} \gamma^l r_{t+l} + \gamma^m V(s_{t+m}) \, [\text{no termination}],
        \qquad m = \min(n, T - t, j + 1),

    where j is the offset of the first termination at or after t (``terminated[t+j]``).
    Boundary rule: with fewer than n steps left the estimator uses what is
    available and bootstraps from ``values[T]``; after a termination nothing is
    bootstrapped (the return is the Monte Carlo return of the episode's remainder).

    Parameters
    ----------
    rewards, values, gamma, terminated
        As in :func:`gae`.
    n : int >= 1
        Number of reward steps.

    Returns
    -------
    ndarray, shape like ``rewards``

    References
    ----------
    Sutton & Barto (2018), eq. (7.1).

    Examples
    --------
    >>> n_step_returns([1.0, 0.0, 2.0], [0.5, 0.2, 0.1, 1.0], 0.9, 2)
    array([1.081, 2.7  , 2.9  ])
    """
    rewards, values, mask = _check_segment(rewards, values, terminated)
    gamma = _check_discounts(gamma)
    n = _v.check_int(n, "n", min_value=1)
    T = rewards.shape[-1]
    t = np.broadcast_to(np.arange(T), rewards.shape)
    out = np.zeros(rewards.shape, dtype=np.result_type(rewards, values))
    coef = np.ones(rewards.shape)  # gamma^m for the steps taken so far
    alive = np.ones(rewards.shape, dtype=bool)  # no termination yet
    boot = t.copy()  # index of the state to bootstrap from
    for l in range(min(n, T)):
        idx = t + l
        active = alive & (idx < T)
        safe = np.minimum(idx, T - 1)
        out = out + np.where(active, coef * np.take_along_axis(rewards, safe, axis=-1), 0.0)
        coef = np.where(active, coef * gamma, coef)
        boot = np.where(active, idx + 1, boot)
        alive = alive & ~(active & np.take_along_axis(mask, safe, axis=-1))
    return out + np.where(alive, coef * np.take_along_axis(values, boot, axis=-1), 0.0)


def n_step_advantages(rewards, values, gamma, n, *, terminated=None):
    r"""n-step advantage estimators :math:`\hat A^{(n)}_t = G^{(n)}_t - V(s_t)`, t = 0..T-1.

    .. math::

        \hat A^{(n)}_t = \sum_{l=0}^{m-1} \gamma^l r_{t+l} + \gamma^m V(s_{t+m}) - V(s_t)
                       = \sum_{l=0}^{m-1} \gamma^l \delta_{t+l},

    with m = min(n, steps left, steps to the end of the episode) and no bootstrap
    after a termination (see :func:`n_step_returns` for the boundary rule). n = 1
    gives the TD errors; n >= T gives :func:`gae` with lambda = 1.

    Parameters
    ----------
    rewards, values, gamma, terminated
        As in :func:`gae`.
    n : int >= 1

    Returns
    -------
    ndarray, shape like ``rewards``

    References
    ----------
    Schulman et al., ICLR 2016, eq. (11)-(15) (:math:`\hat A^{(k)}_t`).

    Examples
    --------
    >>> n_step_advantages([1.0, 0.0, 2.0], [0.5, 0.2, 0.1, 1.0], 0.9, 2)
    array([0.581, 2.5  , 2.8  ])
    """
    rewards, values, mask = _check_segment(rewards, values, terminated)
    return n_step_returns(rewards, values, gamma, n, terminated=mask) - values[..., :-1]
