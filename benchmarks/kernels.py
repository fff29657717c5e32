"""The implementations the benchmarks compare, each an importable function.

Forward pass (state-visitation recursion, MaxEnt IRL's forward pass), from d_0 = p0:
    d_{t+1}(s') = sum_{s,a} d_t(s) pi_t(a|s) P(s'|s,a),   D = sum_{t<H} d_t.
Backward pass (MaxEnt IRL's time-indexed log partition, Ziebart et al. 2008):
    log Z_{a,t}(s) = r(s) + log sum_k P(k|s,a) Z_{t+1}(k),  log Z_t = logsumexp_a,  pi_t = Z_{a,t}/Z_t.
Soft backward pass (maximum causal entropy, finite horizon):
    Q_t = r + gamma P V_{t+1},  V_t = logsumexp_a Q_t,  pi_t = exp(Q_t - V_t).

Implementations, by name:
    fast    the library's kernels (tabular_rl._kernels)
    sparse  the plain sparse formulation: one scipy product per step, per-row maxima, last-axis reductions
    dense   the dense vectorised formulation every peer uses, on the (S, A, S) array
    python  the slide-literal pure-Python triple loop (tiny sizes only)

Every function returns the D (forward) or the (H, S, A) policies (backward), so run.py
can check that all implementations agree before it times them.
"""

import math

import numpy as np
from scipy.special import logsumexp

from tabular_rl import _kernels

IMPLEMENTATIONS = ("fast", "sparse", "dense", "python")


# ----------------------------------------------------------------------------- forward
def forward_fast(mdp, pi, horizon, p0, P3=None):
    return _kernels.forward_distributions(mdp, pi, horizon, p0, store=False)[1]


def forward_sparse(mdp, pi, horizon, p0, P3=None):
    d = np.array(p0, dtype=float)
    total = np.zeros_like(d)
    for t in range(horizon):
        total += d
        if t < horizon - 1:
            pi_t = pi if pi.ndim == 2 else pi[t]
            d = mdp.push_forward(d[:, None] * pi_t)
    return total


def forward_dense(mdp, pi, horizon, p0, P3):
    S, A = mdp.shape
    P2 = P3.reshape(S * A, S)
    d = np.array(p0, dtype=float)
    total = np.zeros_like(d)
    for t in range(horizon):
        total += d
        if t < horizon - 1:
            pi_t = pi if pi.ndim == 2 else pi[t]
            d = np.einsum("sa,sat->t", d[:, None] * pi_t, P3) if S * A * S < 4096 else (d[:, None] * pi_t).ravel() @ P2
    return total


def forward_python(mdp, pi, horizon, p0, P3):
    S, A = mdp.shape
    P = P3.tolist()
    pol = pi.tolist()
    d = list(map(float, p0))
    total = [0.0] * S
    for t in range(horizon):
        for s in range(S):
            total[s] += d[s]
        if t == horizon - 1:
            break
        pi_t = pol if pi.ndim == 2 else pol[t]
        new = [0.0] * S
        for s in range(S):
            for a in range(A):
                w = d[s] * pi_t[s][a]
                for s2 in range(S):
                    new[s2] += w * P[s][a][s2]
        d = new
    return np.array(total)


# ----------------------------------------------------------------------------- MaxEnt backward
def backward_fast(mdp, r, horizon, P3=None):
    return _kernels.maxent_backward(mdp, r, horizon, np.zeros(mdp.n_states))[1]


def backward_sparse(mdp, r, horizon, P3=None):
    S, A = mdp.shape
    pi = np.empty((horizon, S, A))
    logz = np.zeros(S)
    for t in range(horizon - 1, -1, -1):
        Qz = r[:, None] + _kernels._log_expected_exp_reference(mdp, logz)
        logz, pi[t] = _kernels._soft_max_actions_reference(Qz)
    return pi


def backward_dense(mdp, r, horizon, P3):
    S, A = mdp.shape
    with np.errstate(divide="ignore"):
        logP = np.log(P3)
    pi = np.empty((horizon, S, A))
    logz = np.zeros(S)
    for t in range(horizon - 1, -1, -1):
        Qz = r[:, None] + logsumexp(logP + logz[None, None, :], axis=2)
        logz = logsumexp(Qz, axis=1)
        pi[t] = np.exp(Qz - logz[:, None])
    return pi


def backward_python(mdp, r, horizon, P3):
    S, A = mdp.shape
    P = P3.tolist()
    rr = [float(x) for x in r]
    pi = np.empty((horizon, S, A))
    logz = [0.0] * S
    for t in range(horizon - 1, -1, -1):
        new = [0.0] * S
        for s in range(S):
            qa = []
            for a in range(A):
                m = max(logz[k] for k in range(S) if P[s][a][k] > 0)
                acc = 0.0
                for k in range(S):
                    if P[s][a][k] > 0:
                        acc += P[s][a][k] * math.exp(logz[k] - m)
                qa.append(rr[s] + m + math.log(acc))
            mq = max(qa)
            z = sum(math.exp(q - mq) for q in qa)
            new[s] = mq + math.log(z)
            for a in range(A):
                pi[t, s, a] = math.exp(qa[a] - new[s])
        logz = new
    return pi


# ----------------------------------------------------------------------------- MCE soft backward
def soft_fast(mdp, r, horizon, P3=None):
    return _kernels.mce_backward(mdp, r, horizon, mdp.gamma, np.zeros(mdp.n_states))[1]


def soft_sparse(mdp, r, horizon, P3=None):
    S, A = mdp.shape
    pi = np.empty((horizon, S, A))
    V = np.zeros(S)
    for t in range(horizon - 1, -1, -1):
        V, pi[t] = _kernels._soft_max_actions_reference(r[:, None] + mdp.gamma * mdp.expected_next(V))
    return pi


def soft_dense(mdp, r, horizon, P3):
    S, A = mdp.shape
    pi = np.empty((horizon, S, A))
    V = np.zeros(S)
    for t in range(horizon - 1, -1, -1):
        Q = r[:, None] + mdp.gamma * np.einsum("sat,t->sa", P3, V)
        V = logsumexp(Q, axis=1)
        pi[t] = np.exp(Q - V[:, None])
    return pi


def soft_python(mdp, r, horizon, P3):
    S, A = mdp.shape
    P = P3.tolist()
    g = mdp.gamma
    pi = np.empty((horizon, S, A))
    V = [0.0] * S
    for t in range(horizon - 1, -1, -1):
        new = [0.0] * S
        for s in range(S):
            q = [float(r[s]) + g * sum(P[s][a][k] * V[k] for k in range(S)) for a in range(A)]
            mq = max(q)
            new[s] = mq + math.log(sum(math.exp(x - mq) for x in q))
            for a in range(A):
                pi[t, s, a] = math.exp(q[a] - new[s])
        V = new
    return pi


FUNCTIONS = {
    (kind, impl): globals()[f"{kind}_{impl}"]
    for kind in ("forward", "backward", "soft")
    for impl in IMPLEMENTATIONS
}


def bytes_per_step(kind, S, A, nnz):
    """The issue's bandwidth model (float64 data, int32 indices): bytes one step must move."""
    if kind == "forward":
        return 12 * nnz + 4 * (S * A + 1) + 8 * S * A + 32 * S
    return 12 * nnz + 4 * (S * A + 1) + 16 * S * A + 24 * S
