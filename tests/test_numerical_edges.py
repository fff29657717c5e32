"""Numerical edges (issue 9): near-undiscounted evaluation against an exact rational solve, MaxEnt and
MCE at reward scale 1e6 and horizon 1000, and soft values at temperature 1e-8 against hard values.

Each tolerance is derived in its test's docstring from the conditioning of the computation and the
float64 unit round-off u = 2**-53 (machine epsilon 2u = 2.2e-16), never tuned until green.
"""

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from tabular_rl import TabularMDP, discounted_visitation, policy_evaluation
from tabular_rl import strategies as trs
from tabular_rl.maxent import (
    maxent_backward_pass,
    maxent_forward_pass,
    maxent_forward_pass_per_step,
    maxent_partition,
)
from tabular_rl.mce import mce_policy, soft_values

EPS = np.finfo(np.float64).eps


def _sparse(mdp):
    S, A = mdp.shape
    return TabularMDP(sp.csr_matrix(mdp.todense().reshape(S * A, S)), mdp.R, mdp.gamma, mu=mdp.mu)


# --------------------------------------------------------------------------------------------
# gamma = 0.9999: the LU solve against exact rational arithmetic


def _solve_exact(M, b):
    """Gauss-Jordan elimination over the rationals: the exact solution of M x = b (lists of Fractions)."""
    n = len(b)
    aug = [list(M[i]) + [b[i]] for i in range(n)]
    for c in range(n):
        p = next(i for i in range(c, n) if aug[i][c] != 0)
        aug[c], aug[p] = aug[p], aug[c]
        piv = aug[c][c]
        aug[c] = [x / piv for x in aug[c]]
        for i in range(n):
            if i != c and aug[i][c] != 0:
                f = aug[i][c]
                aug[i] = [x - f * y for x, y in zip(aug[i], aug[c])]
    return [aug[i][n] for i in range(n)]


def _dyadic_mdp(seed, S=5, A=3, gamma=0.9999):
    """An MDP whose P, R, mu and policy are multiples of 1/16 (exact in binary), so the float64 problem
    and the rational one are the same problem; gamma is taken as the exact rational value of its double."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(16, np.ones(S) / S, size=(S, A))
    P = counts / 16.0
    R = rng.integers(-16, 17, size=(S, A)) / 16.0
    pi = rng.multinomial(16, np.ones(A) / A, size=S) / 16.0
    mu = rng.multinomial(16, np.ones(S) / S) / 16.0
    return TabularMDP(P, R, gamma, mu=mu), pi


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sparse", [False, True])
def test_gamma_09999_evaluation_matches_exact_rational_solve(seed, sparse):
    """V^pi and the visitation at gamma = 0.9999 against the exact rational solution of the same system.

    The float64 data are exact (dyadic P, R, pi, mu; gamma as Fraction(0.9999) is its double exactly), so
    the only error is the solve's. LU with partial pivoting is backward stable: the computed x solves
    (M + dM) x = b with ||dM|| <= 3 S u rho ||M|| (Higham, Accuracy and Stability of Numerical
    Algorithms, Thm 9.4), and the growth factor rho <= 2 because M = I - gamma P_pi is diagonally
    dominant (Wilkinson; Higham Thm 9.9). The forward error is then at most
    kappa_inf(M) * 6 S u ||x||, with kappa_inf(M) <= (1 + gamma)/(1 - gamma) ~ 2e4 (one iterative
    refinement step only lowers it). Observed: about 4e-13 relative, against a bound of 6.6e-11.
    Catches an iterative (value-iteration) evaluation stopped at a loose tolerance, a float32 path, a
    gamma rounded on the way in, and a wrong transpose in the visitation solve.
    """
    mdp, pi = _dyadic_mdp(seed)
    if sparse:
        mdp = _sparse(mdp)
    S = mdp.n_states
    g = Fraction(mdp.gamma)
    P = mdp.todense()
    Pq = [[sum(Fraction(pi[s, a]) * Fraction(P[s, a, t]) for a in range(mdp.n_actions)) for t in range(S)]
          for s in range(S)]
    M = [[(1 if s == t else 0) - g * Pq[s][t] for t in range(S)] for s in range(S)]
    r_pi = [sum(Fraction(pi[s, a]) * Fraction(mdp.R[s, a]) for a in range(mdp.n_actions)) for s in range(S)]
    V_exact = np.array([float(x) for x in _solve_exact(M, r_pi)])
    MT = [[M[t][s] for t in range(S)] for s in range(S)]
    d_exact = np.array([float((1 - g) * x) for x in _solve_exact(MT, [Fraction(m) for m in mdp.mu])])

    kappa = (1 + mdp.gamma) / (1 - mdp.gamma)
    bound = kappa * 6 * S * (EPS / 2)
    V = policy_evaluation(mdp, pi)
    assert np.max(np.abs(V - V_exact)) <= bound * np.max(np.abs(V_exact))
    d = discounted_visitation(mdp, pi)
    assert np.max(np.abs(d - d_exact)) <= bound * np.max(np.abs(d_exact))
    assert np.max(np.abs(V_exact)) > 100.0  # the near-undiscounted regime: |V| ~ max|r| / (1 - gamma)


# --------------------------------------------------------------------------------------------
# MaxEnt and MCE at reward scale 1e6 and horizon 1000


def _chain(seed, S=6, A=3, sparse=False):
    """Random stochastic MDP with about half the transitions masked out (at least one kept per row), so
    some (s, a) lead only to states far below the best one."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(0.5 * np.ones(S), size=(S, A))
    keep = rng.random((S, A, S)) < 0.5
    keep[np.arange(S)[:, None], np.arange(A)[None, :], rng.integers(0, S, (S, A))] = True
    P = np.where(keep, P, 0.0)
    P /= P.sum(axis=-1, keepdims=True)
    mdp = TabularMDP(P, np.zeros(S), 0.95, mu=rng.dirichlet(np.ones(S)))
    return (_sparse(mdp) if sparse else mdp), rng


@pytest.mark.parametrize("sparse", [False, True])
def test_maxent_fused_backward_and_forward_at_reward_1e6_horizon_1000(sparse):
    """maxent_backward_pass (the fused kernel) at |r| ~ 1e6, H = 1000: finite, every row normalised, equal
    to maxent_partition's policy (the plain log-space recursion), unchanged when a constant c is added to
    every state reward (every path of length H gains H c, so Z scales by e^{H c} and pi_t does not move),
    and the forward pass conserves mass.

    Tolerances: a row of A probabilities sums to 1 within A u per entry (the kernel divides by the row
    sum); two log-space computations of pi_t = exp(log Z_a - log Z) differ by at most about
    4 u max|log Z| (a few roundings of numbers of size max|log Z| ~ H max|r| in the exponent), so
    |d pi| <= 8 u max|log Z| (and the same with the shifted rewards, whose log Z is larger). Each step
    of the forward pass is a stochastic matrix product, exact in mass to S A u, so D_t sums to 1 within
    t S A u. This MDP makes the fused kernel's underflow branch bind: for some (s, a) every successor's
    Z lies more than 460 nats below the best state's, so the globally shifted sum
    sum_k P(k|s, a) exp(log Z_k - max log Z) is below 1e-200 and is recomputed with its own maximum
    (checked below). Catches linear-space Z (overflows at r ~ 710), a max-shift taken from the wrong
    axis, a fast path that skips renormalisation, and underflowed rows left at -inf or uniform.
    """
    mdp, rng = _chain(4, sparse=sparse)
    S, A = mdp.shape
    H = 1000
    r = 1e6 * rng.uniform(-1.0, 1.0, S)
    pi = maxent_backward_pass(mdp, r, H)
    assert pi.shape == (H, S, A) and np.all(np.isfinite(pi)) and np.all(pi >= 0)
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=0, atol=A * EPS)
    part = maxent_partition(mdp, r, H)
    assert np.all(np.isfinite(part.log_Z))
    big = float(np.max(np.abs(part.log_Z)))
    assert big > 1e8  # the scale the test is about
    P = mdp.todense().reshape(S * A, S)
    with np.errstate(under="ignore"):
        shifted = [P @ np.exp(z - z.max()) for z in part.log_Z[1:]]
    assert np.min(shifted) < 1e-200  # the underflow branch is exercised
    np.testing.assert_allclose(pi, part.policy, rtol=0, atol=8 * EPS * big)
    c = 1e6
    pi_c = maxent_backward_pass(mdp, r + c, H)
    np.testing.assert_allclose(pi_c, pi, rtol=0, atol=8 * EPS * (big + H * c))
    D = maxent_forward_pass_per_step(mdp, pi, H)
    assert np.all(np.isfinite(D)) and np.all(D >= 0)
    np.testing.assert_allclose(D.sum(axis=1), 1.0, rtol=0, atol=H * S * A * EPS)
    np.testing.assert_allclose(maxent_forward_pass(mdp, pi, H), D.sum(axis=0), rtol=0, atol=H * S * A * EPS)


@pytest.mark.parametrize("sparse", [False, True])
def test_mce_fused_policy_at_reward_1e6_horizon_1000(sparse):
    """mce_policy(horizon=1000) (the fused kernel) at |r| ~ 1e6: finite, rows normalised, equal to
    soft_values' policy (the plain recursion), and unchanged when a constant c is added to every reward
    (Q_t and V_t both shift by c sum_{k<H-t} gamma^k, so pi_t = exp(Q_t - V_t) does not move).

    Tolerances: as for MaxEnt, rows within A u per entry; two computations of exp(Q - V) differ by at
    most about 8 u max|V| with max|V| <= max|r| (1 + log A / max|r|) / (1 - gamma) (soft values exceed
    hard ones by at most log A per step). Catches exp(Q) without the max-shift (overflow), the
    temperature applied twice, and gamma dropped in the fused backup.
    """
    mdp, rng = _chain(4, sparse=sparse)
    S, A = mdp.shape
    H = 1000
    R = 1e6 * rng.uniform(-1.0, 1.0, (S, A))
    pi = mce_policy(mdp, R, horizon=H)
    assert pi.shape == (H, S, A) and np.all(np.isfinite(pi)) and np.all(pi >= 0)
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=0, atol=A * EPS)
    sv = soft_values(mdp, R, horizon=H)
    assert np.all(np.isfinite(sv.V))
    Vmax = float(np.max(np.abs(sv.V)))
    assert Vmax > 1e6
    np.testing.assert_allclose(pi, sv.policy, rtol=0, atol=8 * EPS * Vmax)
    c = 1e6
    pi_c = mce_policy(mdp, R + c, horizon=H)
    np.testing.assert_allclose(pi_c, pi, rtol=0, atol=8 * EPS * (Vmax + c / (1 - mdp.gamma)))
    D = maxent_forward_pass_per_step(mdp, pi, H)
    np.testing.assert_allclose(D.sum(axis=1), 1.0, rtol=0, atol=H * S * A * EPS)


# --------------------------------------------------------------------------------------------
# temperature 1e-8: soft values are hard values within T H log A


def _hard_values(mdp, R, H):
    """Finite-horizon optimal values V_t = max_a (r + gamma P V_{t+1}), V_H = 0, by plain backward induction."""
    P = mdp.todense()
    V = np.zeros((H + 1, mdp.n_states))
    for t in range(H - 1, -1, -1):
        V[t] = np.max(R + mdp.gamma * np.einsum("sat,t->sa", P, V[t + 1]), axis=1)
    return V


T_SMALL = 1e-8


@settings(max_examples=50)
@given(trs.mdps(gamma=st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]), reward_shape="state_action"),
       st.integers(1, 40))
def test_soft_values_at_temperature_1e8_are_hard_values_within_T_H_logA(mdp, H):
    """With temperature T the soft backup is T logsumexp(Q/T). For x in R^A,
    max x <= logsumexp(x) <= max x + log A (the largest term is at most the sum, the sum at most A times
    the largest), so T logsumexp(Q/T) lies in [max Q, max Q + T log A]. The backup is monotone and
    gamma-nonexpansive (gamma <= 1, P stochastic), so by induction from V_H = 0
        0 <= V_t^soft - V_t^hard <= T log A sum_{k < H-t} gamma^k <= T (H - t) log A.
    The same holds for T * (soft value of the rewards r/T at temperature 1). Round-off: every step
    rounds numbers of size |Q| <= H max|r| a few times, so we allow 4 (H - t) u H (1 + max|r|) on top.
    Catches a mean (or a sum without the log) in place of logsumexp, the temperature not multiplied
    back, a missing max-shift (overflow at Q/T ~ 1e8), and log A added on the wrong side.
    """
    S, A = mdp.shape
    R = np.asarray(mdp.R)
    hard = _hard_values(mdp, R, H)
    steps = (H - np.arange(H + 1))[:, None]  # H - t
    if mdp.gamma < 1:
        geo = (1 - mdp.gamma**steps) / (1 - mdp.gamma)
    else:
        geo = steps.astype(float)
    round_off = 4 * steps * (EPS / 2) * H * (1 + np.max(np.abs(R)))
    for V in (soft_values(mdp, R, horizon=H, temperature=T_SMALL).V,
              T_SMALL * soft_values(mdp, R / T_SMALL, horizon=H).V):
        assert np.all(np.isfinite(V))
        gap = V - hard
        assert np.all(gap >= -round_off)
        assert np.all(gap <= T_SMALL * np.log(A) * geo + round_off)
        assert np.all(gap <= T_SMALL * steps * np.log(A) + round_off)


@pytest.mark.parametrize("A", [1, 2, 5])
def test_soft_values_at_temperature_1e8_attain_the_bound_on_identical_actions(A):
    """Golden case where the bound is attained: one state, A identical actions paying 1, gamma = 1.
    Then Q_t has A equal entries, logsumexp adds exactly log A, and V_t^soft = (H - t)(1 + T log A)
    against V_t^hard = H - t. Catches a bound that only holds loosely (e.g. log A missing, or
    T log A counted once instead of once per step)."""
    H = 30
    mdp = TabularMDP(np.ones((1, A, 1)), np.zeros(1), 1.0)
    V = soft_values(mdp, np.ones((1, A)), horizon=H, temperature=T_SMALL).V[:, 0]
    steps = H - np.arange(H + 1)
    np.testing.assert_allclose(V - steps, T_SMALL * np.log(A) * steps, rtol=0, atol=4 * H * H * EPS)
