"""Inner loops shared by the finite-horizon and MaxEnt code: the forward
state-distribution recursion and the log-space soft backups.

These are the hot paths that benchmarks/ profiles. Each works on dense and
sparse transitions alike through the MDP's (S*A, S) matrix, never builds a
dense (S, A, S) temporary from a sparse MDP, and is exact (no truncation).
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

__all__ = ["forward_distributions", "log_expected_exp", "soft_max_actions"]


def forward_distributions(mdp, pi, horizon, p0, *, store=True):
    r"""Run :math:`d_{t+1}(s') = \sum_{s,a} d_t(s)\pi_t(a|s)P(s'|s,a)` from ``d_0 = p0``.

    Parameters
    ----------
    mdp : TabularMDP
    pi : ndarray, shape (S, A) or (horizon, S, A)
        Validated policy (stationary or time-varying).
    horizon : int
        Number of distributions d_0..d_{horizon-1}.
    p0 : ndarray, shape (S,)
    store : bool
        If true return every d_t, shape (horizon, S); else only their sum.

    Returns
    -------
    (ndarray or None, ndarray)
        The per-step distributions (or None) and D = sum_t d_t, shape (S,).
    """
    S = mdp.n_states
    dtype = np.result_type(pi, p0, np.float64)
    out = np.empty((horizon, S), dtype=dtype) if store else None
    total = np.zeros(S, dtype=dtype)
    if horizon == 0:
        return out, total
    d = np.array(p0, dtype=dtype)
    stationary = pi.ndim == 2
    P_pi = mdp._transition_matrix(pi) if stationary and horizon > 1 else None
    P_pi_T = P_pi.T.tocsr() if sp.issparse(P_pi) else (P_pi.T if P_pi is not None else None)
    for t in range(horizon):
        if store:
            out[t] = d
        total += d
        if t == horizon - 1:
            break
        if stationary:
            d = P_pi_T @ d
        else:
            d = mdp.push_forward(d[:, None] * pi[t])
    return out, total


def log_expected_exp(mdp, logz):
    r"""Log-space expectation over successors, :math:`\log\sum_{s'} P(s'|s,a)\, e^{z(s')}`.

    Computed with a per-(s, a) maximum over the successors actually reachable,
    so it is exact and finite for any finite ``logz`` (1e6 included); entries of
    ``logz`` may be ``-inf`` (zero partition function), and a row whose every
    successor is ``-inf`` returns ``-inf``.

    Parameters
    ----------
    mdp : TabularMDP
    logz : ndarray, shape (S,)

    Returns
    -------
    ndarray, shape (S, A)
    """
    S, A = mdp.n_states, mdp.n_actions
    logz = np.asarray(logz, dtype=np.float64)
    if mdp.is_sparse:
        P = mdp._P_flat
        vals = logz[P.indices]
        starts = P.indptr[:-1]
        row_max = np.maximum.reduceat(vals, starts)  # every row has >= 1 entry
        finite = np.isfinite(row_max)
        shift = np.where(finite, row_max, 0.0)
        counts = np.diff(P.indptr)
        with np.errstate(under="ignore"):
            w = P.data * np.exp(vals - np.repeat(shift, counts))
        sums = np.add.reduceat(w, starts)
        with np.errstate(divide="ignore"):
            out = np.where(finite, shift + np.log(sums), -np.inf)
        return out.reshape(S, A)
    P = mdp.P
    with np.errstate(divide="ignore"):
        logP = np.log(P)
    return logsumexp(logP + logz[None, None, :], axis=2)


def soft_max_actions(Q):
    r"""Log-sum-exp over the action axis, :math:`V(s) = \log\sum_a e^{Q(s,a)}`, and the
    policy :math:`\pi(a|s) = e^{Q(s,a) - V(s)}`; rows of all ``-inf`` give V = -inf
    and a uniform policy.
    """
    Q = np.asarray(Q, dtype=np.float64)
    m = np.max(Q, axis=-1, keepdims=True)
    finite = np.isfinite(m)
    shift = np.where(finite, m, 0.0)
    with np.errstate(under="ignore"):
        e = np.exp(Q - shift)
    z = np.sum(e, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        V = np.where(finite, shift + np.log(z), -np.inf)
        pi = np.where(finite, e / z, 1.0 / Q.shape[-1])
    return V[..., 0], pi
