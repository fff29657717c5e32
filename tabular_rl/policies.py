r"""Policies on a finite MDP: softmax of logits, greedy, epsilon-greedy, and the
per-state divergences between two policies (KL, total variation, entropy).

A policy is an array ``pi`` of shape (S, A) whose rows lie on the simplex; a
time-varying policy has shape (H, S, A). Divergences are per state and take
their direction from the argument order: ``kl_divergence(p, q)`` is
KL(p || q) = sum_a p(a|s) log(p(a|s) / q(a|s)).
"""

import numpy as np

from . import _validation as _v

__all__ = [
    "entropy",
    "epsilon_greedy",
    "greedy",
    "kl_divergence",
    "log_softmax",
    "softmax",
    "total_variation",
    "uniform",
]


def _check_logits(theta, name="theta", *, real=False):
    # softmax and log_softmax are analytic: complex logits pass through (complex step).
    theta = _v.as_float_array(theta, name, real=real)
    if theta.ndim < 1:
        raise ValueError(f"{name} must have at least 1 dimension (actions last), got shape {theta.shape}")
    if theta.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one action on its last axis, got shape {theta.shape}")
    _v.check_finite(theta, name)
    return theta


def log_softmax(theta):
    r"""Row-wise log-softmax over the last axis, computed stably.

    .. math:: \log\pi(a|s) = \theta_{s,a} - \log\sum_b \exp\theta_{s,b}

    The maximum is subtracted first (its real part only, so complex-step
    differentiation passes through).

    Parameters
    ----------
    theta : array_like, shape (..., A)
        Finite logits.

    Returns
    -------
    ndarray, shape (..., A)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import log_softmax
    >>> np.exp(log_softmax([[0.0, 0.0], [1000.0, 0.0]])).round(6)
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    theta = _check_logits(theta)
    shift = theta - np.max(theta.real, axis=-1, keepdims=True)
    return shift - np.log(np.sum(np.exp(shift), axis=-1, keepdims=True))


def softmax(theta):
    r"""Row-wise softmax over the last axis, :math:`\pi(a|s) = e^{\theta_{s,a}} / \sum_b e^{\theta_{s,b}}`.

    Stable for any finite logits (1e6 included). Complex logits are supported
    for complex-step derivatives.

    Examples
    --------
    >>> from tabular_rl import softmax
    >>> softmax([[0.0, 0.0, 0.0]])
    array([[0.33333333, 0.33333333, 0.33333333]])
    """
    theta = _check_logits(theta)
    shift = theta - np.max(theta.real, axis=-1, keepdims=True)
    e = np.exp(shift)
    return e / np.sum(e, axis=-1, keepdims=True)


def uniform(n_states, n_actions):
    """The uniform random policy, shape (S, A).

    Examples
    --------
    >>> from tabular_rl import uniform
    >>> uniform(1, 4)
    array([[0.25, 0.25, 0.25, 0.25]])
    """
    S = _v.check_int(n_states, "n_states", min_value=1)
    A = _v.check_int(n_actions, "n_actions", min_value=1)
    return np.full((S, A), 1.0 / A)


def greedy(Q):
    """The deterministic policy that picks argmax_a Q(s, a), ties to the lowest action index.

    Parameters
    ----------
    Q : array_like, shape (..., S, A)

    Returns
    -------
    ndarray, same shape, one-hot rows.

    Examples
    --------
    >>> from tabular_rl import greedy
    >>> greedy([[1.0, 3.0, 3.0], [0.0, 0.0, 0.0]])
    array([[0., 1., 0.],
           [1., 0., 0.]])
    """
    Q = _check_logits(Q, "Q", real=True)
    best = np.argmax(Q, axis=-1)  # np.argmax returns the first maximum
    out = np.zeros(Q.shape)
    np.put_along_axis(out, best[..., None], 1.0, axis=-1)
    return out


def epsilon_greedy(Q, epsilon):
    r"""Epsilon-greedy policy: :math:`(1-\epsilon)` greedy (lowest-index ties) plus :math:`\epsilon` uniform.

    Parameters
    ----------
    Q : array_like, shape (..., S, A)
    epsilon : float in [0, 1]

    Examples
    --------
    >>> from tabular_rl import epsilon_greedy
    >>> epsilon_greedy([[0.0, 1.0]], 0.2)
    array([[0.1, 0.9]])
    """
    epsilon = _v.check_probability(epsilon, "epsilon")
    g = greedy(Q)
    return (1.0 - epsilon) * g + epsilon / g.shape[-1]


def _check_pair(p, q, names):
    p = _v.as_float_array(p, names[0])
    q = _v.as_float_array(q, names[1])
    if p.ndim < 1 or p.shape != q.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape (..., A), got {p.shape} and {q.shape}")
    for arr, name in ((p, names[0]), (q, names[1])):
        _v.check_finite(arr, name)
        _v.check_nonnegative(arr, name)
        _v._normalise_rows(arr, name, "distribution")
    return p, q


def kl_divergence(p, q):
    r"""Per-row Kullback-Leibler divergence KL(p || q), direction given by argument order.

    .. math:: \mathrm{KL}(p\,\|\,q)(s) = \sum_a p(a|s) \log\frac{p(a|s)}{q(a|s)}

    Terms with p = 0 contribute 0; a term with p > 0 and q = 0 gives ``inf``.
    PPO's penalty is ``kl_divergence(pi_old, pi_new)`` (old first). KL is
    non-negative (Gibbs' inequality); for rows equal up to round-off the sum can
    come out a few ulp below 0, and is returned as 0 so that Pinsker's
    ``sqrt(KL / 2)`` is never NaN.

    Parameters
    ----------
    p, q : array_like, shape (..., A)
        Rows on the simplex.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> from tabular_rl import kl_divergence
    >>> float(kl_divergence([0.5, 0.5], [0.5, 0.5]))
    0.0
    >>> round(float(kl_divergence([1.0, 0.0], [0.5, 0.5])), 6)
    0.693147
    """
    p, q = _check_pair(p, q, ("p", "q"))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return np.maximum(np.sum(terms, axis=-1), 0.0)


def total_variation(p, q):
    r"""Per-row total variation distance :math:`D_{TV}(p, q) = \tfrac12 \sum_a |p(a) - q(a)|` (symmetric).

    Examples
    --------
    >>> from tabular_rl import total_variation
    >>> float(total_variation([1.0, 0.0], [0.0, 1.0]))
    1.0
    """
    p, q = _check_pair(p, q, ("p", "q"))
    return 0.5 * np.sum(np.abs(p - q), axis=-1)


def entropy(pi):
    r"""Per-row Shannon entropy :math:`H(\pi)(s) = -\sum_a \pi(a|s)\log\pi(a|s)` in nats.

    Examples
    --------
    >>> from tabular_rl import entropy
    >>> round(float(entropy([0.5, 0.5])), 6)
    0.693147
    """
    pi, _ = _check_pair(pi, pi, ("pi", "pi"))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pi > 0, -pi * np.log(np.where(pi > 0, pi, 1.0)), 0.0)
    return np.sum(terms, axis=-1)
