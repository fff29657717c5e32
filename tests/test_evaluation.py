"""Tests for tabular_rl.evaluation: the identities of docs/guide/evaluation.md.

Every property runs on dense and sparse MDPs drawn from tabular_rl.strategies, and
is checked against an independent dense NumPy oracle written here (np.linalg.solve on
the (S, A, S) array, never the library's own primitives). Tolerances follow
docs/guide/numerics.md#tolerances: single-solve identities 1e-10 (1+R) H_eff, two-solve identities
1e-9 (1+R) H_eff^2, with H_eff = 1/(1-gamma).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linprog

from tabular_rl import TabularMDP, enumerate_trajectories, policy_iteration
from tabular_rl import strategies as trs

from tabular_rl.evaluation import (
    FiniteHorizonEvaluation,
    PolicyEvaluation,
    advantages,
    bellman_residual,
    discounted_visitation,
    discounted_visitation_unnormalized,
    evaluate,
    expected_return,
    finite_horizon_values,
    occupancy_measure,
    policy_evaluation,
    q_values,
    state_distributions,
)
from helpers import scale, tol1, tol2, tol_layout, twin

# ----------------------------------------------------------------------------- helpers


def oracle(mdp, pi):
    """Independent dense evaluation: (V, Q, d) by np.linalg.solve on the (S, A, S) array."""
    P = mdp.todense()
    S = mdp.n_states
    P_pi = np.einsum("sa,sat->st", pi, P)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    M = np.eye(S) - mdp.gamma * P_pi
    V = np.linalg.solve(M, r_pi)
    Q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", P, V)
    d = (1 - mdp.gamma) * np.linalg.solve(M.T, mdp.mu)
    return V, Q, d


@st.composite
def mdp_and_policy(draw, **kwargs):
    mdp = draw(trs.mdps(**kwargs))
    pi = draw(trs.policies(mdp.n_states, mdp.n_actions))
    return mdp, pi


@st.composite
def mdp_and_two_policies(draw, **kwargs):
    mdp = draw(trs.mdps(**kwargs))
    pi = draw(trs.policies(mdp.n_states, mdp.n_actions))
    pi2 = draw(trs.policies(mdp.n_states, mdp.n_actions))
    return mdp, pi, pi2


@st.composite
def time_varying_policies(draw, n_states, n_actions, horizon):
    return np.stack([draw(trs.policies(n_states, n_actions)) for _ in range(horizon)]) if horizon else np.empty(
        (0, n_states, n_actions)
    )


# ------------------------------------------------------------------- 1.1 evaluation


@given(mdp_and_policy())
def test_values_match_dense_linear_solve_oracle(case):
    """V, Q and d equal an independent np.linalg.solve (catches a transposed P_pi, a
    missing gamma, or d solved from the wrong side)."""
    mdp, pi = case
    V, Q, d = oracle(mdp, pi)
    ev = evaluate(mdp, pi)
    np.testing.assert_allclose(ev.V, V, rtol=0, atol=tol1(mdp))
    np.testing.assert_allclose(ev.Q, Q, rtol=0, atol=tol1(mdp))
    np.testing.assert_allclose(ev.d, d, rtol=0, atol=tol1(mdp))


@given(mdp_and_policy())
def test_bellman_residual_is_zero(case):
    """V^pi solves V = r_pi + gamma P_pi V; both the library's bellman_residual and a
    hand-written dense residual are ~0 (catches an iterate passed off as exact)."""
    mdp, pi = case
    V = policy_evaluation(mdp, pi)
    assert bellman_residual(mdp, pi, V) <= tol1(mdp)
    P = mdp.todense()
    resid = np.einsum("sa,sa->s", pi, mdp.R) + mdp.gamma * np.einsum("sa,sat,t->s", pi, P, V) - V
    assert np.max(np.abs(resid)) <= tol1(mdp)


@given(mdp_and_policy())
def test_q_is_one_step_backup_and_v_is_its_policy_average(case):
    """Q = r + gamma P V and V = sum_a pi Q (catches Q built from the wrong V or a
    missing reward term)."""
    mdp, pi = case
    V = policy_evaluation(mdp, pi)
    Q = q_values(mdp, pi)
    P = mdp.todense()
    np.testing.assert_allclose(Q, mdp.R + mdp.gamma * np.einsum("sat,t->sa", P, V), rtol=0, atol=tol1(mdp))
    np.testing.assert_allclose(np.einsum("sa,sa->s", pi, Q), V, rtol=0, atol=tol1(mdp))


@given(mdp_and_policy())
def test_advantages_are_centred_under_the_policy(case):
    """sum_a pi(a|s) A(s, a) = 0 and max_a A >= 0 (catches A = Q - V with V of another
    policy, or Q - mean_a Q)."""
    mdp, pi = case
    adv = advantages(mdp, pi)
    np.testing.assert_allclose(np.einsum("sa,sa->s", pi, adv), 0.0, rtol=0, atol=tol1(mdp))
    slack = np.max(adv, axis=1)
    target(float(-np.min(slack)))
    assert np.all(slack >= -tol1(mdp))


@given(mdp_and_policy())
def test_evaluate_agrees_with_the_single_purpose_functions(case):
    """evaluate's one-factorisation fields equal policy_evaluation, q_values, advantages,
    expected_return, discounted_visitation and occupancy_measure (catches a field
    filled from the wrong solve)."""
    mdp, pi = case
    ev = evaluate(mdp, pi)
    assert isinstance(ev, PolicyEvaluation)
    t = tol1(mdp)
    np.testing.assert_allclose(ev.V, policy_evaluation(mdp, pi), rtol=0, atol=t)
    np.testing.assert_allclose(ev.Q, q_values(mdp, pi), rtol=0, atol=t)
    np.testing.assert_allclose(ev.adv, advantages(mdp, pi), rtol=0, atol=t)
    assert isinstance(ev.J, float)
    assert abs(ev.J - expected_return(mdp, pi)) <= t
    np.testing.assert_allclose(ev.d, discounted_visitation(mdp, pi), rtol=0, atol=t)
    np.testing.assert_allclose(ev.rho, occupancy_measure(mdp, pi), rtol=0, atol=t)


# ------------------------------------------------------------- 1.3 J in three forms


@given(mdp_and_policy())
def test_objective_three_ways(case):
    """J = mu.V = d.r_pi/(1-g) = sum rho r/(1-g) = rho_unnorm.r_pi (catches a visitation
    normalised by the wrong power of (1-gamma))."""
    mdp, pi = case
    g = mdp.gamma
    J = expected_return(mdp, pi)
    V = policy_evaluation(mdp, pi)
    d = discounted_visitation(mdp, pi)
    rho = occupancy_measure(mdp, pi)
    r_pi = mdp.reward_vector(pi)
    t = tol1(mdp)
    assert abs(J - mdp.mu @ V) <= t
    assert abs(J - d @ r_pi / (1 - g)) <= t
    assert abs(J - np.sum(rho * mdp.R) / (1 - g)) <= t
    assert abs(J - discounted_visitation_unnormalized(mdp, pi) @ r_pi) <= t


# ------------------------------------------------------------------- 1.4 visitation


@given(mdp_and_policy())
def test_visitation_sums_to_one_and_dominates_start(case):
    """d sums to 1, d >= (1-gamma) mu, rho sums to 1, unnormalised sums to 1/(1-gamma)
    (catches a missing (1-gamma) factor or a transposed solve)."""
    mdp, pi = case
    g = mdp.gamma
    d = discounted_visitation(mdp, pi)
    t = tol1(mdp)
    assert abs(d.sum() - 1.0) <= t
    slack = d - (1 - g) * mdp.mu
    target(float(-np.min(slack)))
    assert np.all(slack >= -tol2(mdp))
    assert abs(occupancy_measure(mdp, pi).sum() - 1.0) <= t
    assert abs(discounted_visitation_unnormalized(mdp, pi).sum() - 1 / (1 - g)) <= t


@settings(max_examples=30)
@given(mdp_and_policy())
def test_visitation_equals_truncated_series(case):
    """d = (1-g) sum_{t<T} g^t mu P_pi^t with g^T < 1e-13 (catches d computed with P_pi
    instead of its transpose: mu^T (I - g P_pi)^-1, not (I - g P_pi)^-1 mu)."""
    mdp, pi = case
    g = mdp.gamma
    P_pi = np.einsum("sa,sat->st", pi, mdp.todense())
    T = 1 if g == 0 else int(np.ceil(np.log(1e-13) / np.log(g))) + 1
    x = np.array(mdp.mu)
    acc = np.zeros_like(x)
    w = 1.0
    for _ in range(T):
        acc += w * x
        x = x @ P_pi
        w *= g
    np.testing.assert_allclose(discounted_visitation(mdp, pi), (1 - g) * acc, rtol=0, atol=tol1(mdp) + 1e-12)


@given(mdp_and_policy(), st.data())
def test_visitation_is_linear_in_mu_and_uses_the_mu_argument(case, data):
    """d_{a mu1 + (1-a) mu2} = a d_mu1 + (1-a) d_mu2, and the mu= keyword is honoured
    (catches mu= silently ignored in favour of mdp.mu)."""
    mdp, pi = case
    S = mdp.n_states
    mu1 = data.draw(trs.distributions(S))
    mu2 = data.draw(trs.distributions(S))
    a = data.draw(st.floats(0, 1))
    d1 = discounted_visitation(mdp, pi, mu=mu1)
    d2 = discounted_visitation(mdp, pi, mu=mu2)
    dm = discounted_visitation(mdp, pi, mu=a * mu1 + (1 - a) * mu2)
    np.testing.assert_allclose(dm, a * d1 + (1 - a) * d2, rtol=0, atol=tol1(mdp))
    np.testing.assert_allclose(d1, discounted_visitation(mdp.with_(mu=mu1), pi), rtol=0, atol=tol1(mdp))
    np.testing.assert_allclose(
        discounted_visitation_unnormalized(mdp, pi, mu=mu1), d1 / (1 - mdp.gamma), rtol=0, atol=tol1(mdp)
    )


# ------------------------------------------------------------------ 1.5 Bellman flow


@given(mdp_and_policy())
def test_occupancy_satisfies_normalised_bellman_flow(case):
    """sum_a rho(s',a) = (1-g) mu(s') + g sum P(s'|s,a) rho(s,a), rho >= 0; and the
    unnormalised flow with J = sum rho~ r (catches rho(s,a) = d(s) pi(s|a) transposed,
    or flow with the wrong side of P)."""
    mdp, pi = case
    g = mdp.gamma
    P = mdp.todense()
    rho = occupancy_measure(mdp, pi)
    assert np.all(rho >= -tol1(mdp))
    lhs = rho.sum(axis=1)
    rhs = (1 - g) * mdp.mu + g * np.einsum("sa,sat->t", rho, P)
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=tol1(mdp))
    rho_u = discounted_visitation_unnormalized(mdp, pi)[:, None] * pi
    np.testing.assert_allclose(rho_u.sum(axis=1), mdp.mu + g * np.einsum("sa,sat->t", rho_u, P), rtol=0, atol=tol1(mdp))
    assert abs(np.sum(rho_u * mdp.R) - expected_return(mdp, pi)) <= tol1(mdp)


# -------------------------------------------------------------- 1.6 any-f identity


@given(mdp_and_policy(), st.data())
def test_any_f_identity_and_shaped_objective(case, data):
    """(1-g) E_mu f + g E_{d,pi,P} f(s') - E_d f = 0 for every f, hence J = E_mu f +
    E_{d,pi,P}[r + g f(s') - f(s)]/(1-g) (catches d normalised to 1/(1-g))."""
    mdp, pi = case
    g = mdp.gamma
    f = data.draw(hnp.arrays(np.float64, (mdp.n_states,), elements=st.floats(-10, 10)))
    P = mdp.todense()
    d = discounted_visitation(mdp, pi)
    rho = occupancy_measure(mdp, pi)
    Pf = np.einsum("sat,t->sa", P, f)
    t = tol1(mdp) * (1 + np.max(np.abs(f)))
    assert abs((1 - g) * mdp.mu @ f + g * np.sum(rho * Pf) - d @ f) <= t
    shaped = mdp.mu @ f + np.sum(rho * (mdp.R + g * Pf - f[:, None])) / (1 - g)
    assert abs(shaped - expected_return(mdp, pi)) <= t


# ---------------------------------------------------------- occupancy round trips


def policy_from_occupancy(rho):
    """pi_rho(a|s) = rho(s,a)/sum_b rho(s,b), uniform where the denominator is 0.

    rho >= 0 in exact arithmetic; the LU solve behind it leaves round-off of either sign
    (-1e-18) on states all but unreached, and a ratio of such numbers can be negative
    (--hypothesis-seed=25217 drew pi = -1/3). They are clipped to 0 first: the policy at
    a state of visitation ~1e-18 moves the round trip by that much times H_eff."""
    rho = np.maximum(rho, 0.0)
    tot = rho.sum(axis=1, keepdims=True)
    A = rho.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, rho / np.where(tot > 0, tot, 1.0), 1.0 / A)


@given(mdp_and_policy())
def test_occupancy_round_trip_pi_to_rho_to_pi(case):
    """pi -> rho^pi -> pi_rho gives pi back on states with d > 0 (catches rho built
    from pi's transpose or from an unnormalised row)."""
    mdp, pi = case
    rho = occupancy_measure(mdp, pi)
    d = discounted_visitation(mdp, pi)
    seen = d > 1e-9
    np.testing.assert_allclose(policy_from_occupancy(rho)[seen], pi[seen], rtol=0, atol=1e-9)


@settings(max_examples=40)
@given(mdp_and_policy(), st.data())
def test_occupancy_round_trip_for_a_mixture_of_occupancies(case, data):
    """A convex mixture rho of three occupancies is feasible, and rho -> pi_rho ->
    rho^{pi_rho} returns rho (the occupancy bijection, Puterman 6.9; catches an
    occupancy that is not a function of the state marginal times pi)."""
    mdp, pi1 = case
    S, A = mdp.shape
    pi2 = data.draw(trs.policies(S, A))
    pi3 = data.draw(trs.policies(S, A))
    w = data.draw(trs.distributions(3))
    rho = sum(wi * occupancy_measure(mdp, p) for wi, p in zip(w, (pi1, pi2, pi3)))
    back = occupancy_measure(mdp, policy_from_occupancy(rho))
    np.testing.assert_allclose(back, rho, rtol=0, atol=tol2(mdp))


# -------------------------------------------------------------------- LP duality
#
# HiGHS (through scipy.optimize.linprog) is a test-only oracle. Its answers are
# feasible and optimal only to its feasibility tolerances (1e-7 by default, on its
# internally scaled problem), which is far coarser than the library's LU. So the
# oracle's error is not bounded by a fixed number: every solve returns, with its
# point, an interval [lo, hi] that provably contains the LP optimum, computed from
# the returned primal point and multipliers and their measured violations.
#
# Primal: min c.V s.t. (E - g P) V >= r, with c = (1 - g) mu. Dual: max r.rho s.t.
# (E - g P)^T rho = c, rho >= 0. (E picks the state of each state-action row.)
#
# * hi: if V violates the constraints by at most delta, V + delta / (1 - g) is
#   feasible (adding t to V raises every constraint's slack by (1 - g) t), so
#   opt <= c.V + delta (c sums to 1 - g).
# * lo: for rho+ = max(rho, 0) with flow residual e = (E - g P)^T rho+ - c, every
#   feasible V has c.V = rho+.(E - g P) V - e.V >= r.rho+ - |e|_1 |V|_inf; at V = V*,
#   |V*|_inf <= |r|_inf / (1 - g), so opt >= r.rho+ - |e|_1 |r|_inf / (1 - g).


def _lp_matrices(mdp):
    S, A = mdp.shape
    P = mdp.todense().reshape(S * A, S)
    E = np.repeat(np.eye(S), A, axis=0)  # row s*A + a picks state s
    return P, E


def _lp_interval(mdp, V, rho, objective):
    """[lo, hi] containing max_rho objective.rho over the normalised flow polytope."""
    P, E = _lp_matrices(mdp)
    M = E - mdp.gamma * P
    r = np.ravel(objective)
    c = (1 - mdp.gamma) * mdp.mu
    delta = max(float(np.max(r - M @ V)), 0.0)
    rho_plus = np.maximum(np.ravel(rho), 0.0)
    e = M.T @ rho_plus - c
    r_max = float(np.max(np.abs(r)))
    return float(r @ rho_plus - np.sum(np.abs(e)) * r_max / (1 - mdp.gamma)), float(c @ V + delta)


def _highs(**kwargs):
    res = linprog(method="highs", **kwargs)
    assert res.status == 0, res.message
    return res


def lp_primal(mdp):
    """min_V (1-g) mu.V  s.t.  V(s) >= r(s,a) + g P(.|s,a).V  (test-only oracle: HiGHS).

    Returns the objective, V, and the certified interval [lo, hi] around the optimum."""
    S = mdp.n_states
    P, E = _lp_matrices(mdp)
    res = _highs(
        c=(1 - mdp.gamma) * mdp.mu,
        A_ub=mdp.gamma * P - E,
        b_ub=-mdp.R.ravel(),
        bounds=[(None, None)] * S,
    )
    rho = -res.ineqlin.marginals  # the multipliers of V >= r + g P V are the dual's rho
    return res.fun, res.x, _lp_interval(mdp, res.x, rho, mdp.R)


def lp_dual(mdp, objective):
    """max_{rho >= 0} objective.rho subject to the normalised flow (test-only oracle).

    Returns the objective, rho (its tiny negative entries, within HiGHS's bound
    tolerance, clipped to 0) and the certified interval [lo, hi] around the optimum."""
    P, E = _lp_matrices(mdp)
    res = _highs(
        c=-np.ravel(objective),
        A_eq=E.T - mdp.gamma * P.T,
        b_eq=(1 - mdp.gamma) * mdp.mu,
        bounds=[(0, None)] * P.shape[0],
    )
    V = -res.eqlin.marginals  # the flow constraints' multipliers are the primal's V (sign: linprog minimises -objective)
    interval = _lp_interval(mdp, V, res.x, objective)
    return -res.fun, np.maximum(res.x, 0.0).reshape(mdp.shape), interval


@settings(max_examples=40)
@given(trs.mdps())
def test_lp_duality_primal_equals_dual_equals_normalised_optimum(mdp):
    """primal = dual = (1-g) mu.V* (V* from exact PI), complementary slackness
    rho*(s,a) > 0 => Q*(s,a) = V*(s), and pi_{rho*} is optimal from mu (catches PI
    stopping at a non-optimal policy, or a flow constraint off by (1-gamma)).

    The library's answer keeps its own tolerance (two solves: ``tol2``); the oracle's
    answers are compared through the interval each HiGHS solve certifies (see above),
    never through a fixed number that HiGHS's 1e-7 feasibility tolerance can exceed."""
    res = policy_iteration(mdp)
    Vstar, Qstar = res.V, res.Q
    tol = tol2(mdp)
    opt = (1 - mdp.gamma) * mdp.mu @ Vstar
    primal, V_lp, (lo_p, hi_p) = lp_primal(mdp)
    dual, rho, (lo_d, hi_d) = lp_dual(mdp, mdp.R)
    # The library's optimum lies in both certified intervals ...
    assert lo_p - tol <= opt <= hi_p + tol
    assert lo_d - tol <= opt <= hi_d + tol
    # ... and so does each oracle's reported objective (a sanity check of the oracle).
    width_p, width_d = hi_p - lo_p, hi_d - lo_d
    assert abs(primal - opt) <= width_p + tol
    assert abs(dual - opt) <= width_d + tol
    # Where mu > 0 the primal solution is V* itself: V_lp >= V* - delta/(1-g) everywhere
    # (delta <= width), and mu.(V_lp - V*) <= (hi - opt)/(1-g), so at a state with mu > 0
    # V_lp - V* <= (width + sum_{s'} mu(s') delta) / ((1-g) mu(s)).
    pos = mdp.mu > 1e-6
    slack = (width_p + tol) / (1 - mdp.gamma)
    np.testing.assert_allclose(V_lp[pos], Vstar[pos], rtol=0, atol=2 * slack / np.min(mdp.mu[pos]))
    # Complementary slackness, weighted: sum rho (V* - Q*) = opt - r.rho (for flow-feasible
    # rho), so every term is at most the width of the interval plus the library's tolerance.
    gap = Vstar[:, None] - Qstar
    assert np.all(rho * np.abs(gap) <= width_d + tol)
    # pi_rho* is optimal from mu, to the same accuracy divided by (1 - gamma).
    pi_rho = policy_from_occupancy(rho)
    assert expected_return(mdp, pi_rho) >= mdp.mu @ Vstar - (width_d + tol) / (1 - mdp.gamma) ** 2


@settings(max_examples=40)
@given(trs.mdps(), st.data())
def test_lp_vertex_occupancy_round_trips(mdp, data):
    """A feasible rho from the dual LP with a random objective is the occupancy of
    pi_rho: rho -> pi_rho -> rho^{pi_rho} = rho (catches an occupancy_measure that
    is not the flow solution). The oracle's rho violates the flow by its measured
    residual e, which moves the occupancy by at most |e|_1 / (1 - gamma)."""
    c = data.draw(hnp.arrays(np.float64, mdp.shape, elements=st.floats(-1, 1)))
    _, rho, _ = lp_dual(mdp, c)
    P, E = _lp_matrices(mdp)
    e = (E - mdp.gamma * P).T @ rho.ravel() - (1 - mdp.gamma) * mdp.mu
    R, H = scale(mdp)
    back = occupancy_measure(mdp, policy_from_occupancy(rho))
    np.testing.assert_allclose(back, rho, rtol=0, atol=np.sum(np.abs(e)) * H + tol2(mdp))


# ------------------------------------------------------------------ finite horizon


def fh_oracle(mdp, pi, H):
    """Independent dense backward recursion V_H = 0, Q_t = r + g P V_{t+1}."""
    P = mdp.todense()
    S, A = mdp.shape
    V = np.zeros((H + 1, S))
    Q = np.zeros((H, S, A))
    for t in reversed(range(H)):
        Q[t] = mdp.R + mdp.gamma * np.einsum("sat,t->sa", P, V[t + 1])
        pt = pi if pi.ndim == 2 else pi[t]
        V[t] = np.einsum("sa,sa->s", pt, Q[t])
    return V, Q


@st.composite
def fh_case(draw, max_horizon=6, time_varying=None, **kwargs):
    mdp = draw(trs.mdps(gamma=trs.gammas(max_value=1.0), **kwargs))
    H = draw(st.integers(0, max_horizon))
    tv = draw(st.booleans()) if time_varying is None else time_varying
    S, A = mdp.shape
    pi = draw(time_varying_policies(S, A, H)) if tv else draw(trs.policies(S, A))
    return mdp, pi, H


def fh_tol(mdp, H):
    return 1e-12 * (1 + float(np.max(np.abs(mdp.R)))) * max(H, 1)


@given(fh_case())
def test_finite_horizon_backward_equals_forward_and_oracle(case):
    """V, Q match a dense backward recursion (V_H = 0, Q_t uses V_{t+1}); each d_t sums to
    1 and is not discounted; J = mu.V_0 = sum_t g^t d_t.r_{pi_t} (catches the Q_t-uses-V_t
    off-by-one, a discounted d_t, or pi[t] applied at the wrong step)."""
    mdp, pi, H = case
    fh = finite_horizon_values(mdp, pi, H)
    assert isinstance(fh, FiniteHorizonEvaluation)
    V, Q = fh_oracle(mdp, pi, H)
    S, A = mdp.shape
    assert fh.V.shape == (H + 1, S) and fh.Q.shape == (H, S, A) and fh.d.shape == (H, S)
    t = fh_tol(mdp, H)
    np.testing.assert_allclose(fh.V, V, rtol=0, atol=t)
    np.testing.assert_allclose(fh.Q, Q, rtol=0, atol=t)
    np.testing.assert_array_equal(fh.V[H], 0.0)
    np.testing.assert_allclose(fh.d.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    if H:
        np.testing.assert_allclose(fh.d[0], mdp.mu, rtol=0, atol=1e-15)
    P = mdp.todense()
    d = np.array(mdp.mu)
    forward = 0.0
    for k in range(H):
        pk = pi if pi.ndim == 2 else pi[k]
        np.testing.assert_allclose(fh.d[k], d, rtol=0, atol=1e-12)
        forward += mdp.gamma**k * d @ np.einsum("sa,sa->s", pk, mdp.R)
        d = np.einsum("s,sa,sat->t", d, pk, P)
    assert abs(fh.J - forward) <= t
    assert abs(fh.J - mdp.mu @ fh.V[0]) <= t
    assert isinstance(fh.J, float)


@given(fh_case(), st.data())
def test_finite_horizon_mu_argument_and_state_distributions(case, data):
    """finite_horizon_values(mu=...) and state_distributions(mu=...) use the given start
    distribution and agree with each other (catches the keyword being ignored)."""
    mdp, pi, H = case
    mu = data.draw(trs.distributions(mdp.n_states))
    fh = finite_horizon_values(mdp, pi, H, mu=mu)
    ref = finite_horizon_values(mdp.with_(mu=mu), pi, H)
    np.testing.assert_allclose(fh.d, ref.d, rtol=0, atol=1e-14)
    assert abs(fh.J - ref.J) <= fh_tol(mdp, H)
    np.testing.assert_allclose(state_distributions(mdp, pi, H, mu=mu), fh.d, rtol=0, atol=1e-14)
    np.testing.assert_allclose(state_distributions(mdp, pi, H), finite_horizon_values(mdp, pi, H).d, rtol=0, atol=1e-14)


@given(fh_case(time_varying=True), st.data())
def test_finite_horizon_performance_difference_lemma(case, data):
    """FH-PDL: J(pi') - J(pi) = sum_t g^t E_{d_t^{pi'}, pi'_t}[A_t^pi] with A_t = Q_t - V_t
    (catches advantages taken with the new policy's values, or d_t of the old policy)."""
    mdp, pi, H = case
    S, A = mdp.shape
    pi_new = data.draw(time_varying_policies(S, A, H))
    old = finite_horizon_values(mdp, pi, H)
    new = finite_horizon_values(mdp, pi_new, H)
    adv = old.Q - old.V[:H, :, None]
    rhs = sum(mdp.gamma**t * np.einsum("s,sa,sa->", new.d[t], pi_new[t], adv[t]) for t in range(H))
    assert abs((new.J - old.J) - rhs) <= 10 * fh_tol(mdp, H) * max(H, 1)


@settings(max_examples=30)
@given(fh_case(max_horizon=4, max_states=3, max_actions=2))
def test_finite_horizon_equals_brute_force_trajectory_enumeration(case):
    """For H <= 4 the exact sum over every trajectory, sum_i p_i sum_t g^t r_t, equals J,
    and the probabilities sum to 1 (catches a value that counts H+1 rewards)."""
    mdp, pi, H = case
    traj, p = enumerate_trajectories(mdp, pi, H)
    assert abs(p.sum() - 1.0) <= 1e-12
    G = traj.rewards @ (mdp.gamma ** np.arange(H))
    assert abs(p @ G - finite_horizon_values(mdp, pi, H).J) <= fh_tol(mdp, H)


@settings(max_examples=30)
@given(mdp_and_policy(gamma=trs.gammas(max_value=0.9)))
def test_finite_horizon_tends_to_infinite_horizon(case):
    """With g <= 0.9 and H = 400 (g^H R/(1-g) < 1e-15), finite_horizon_values.V_0 equals
    policy_evaluation (catches an inconsistent discount between the two)."""
    mdp, pi = case
    fh = finite_horizon_values(mdp, pi, 400)
    np.testing.assert_allclose(fh.V[0], policy_evaluation(mdp, pi), rtol=0, atol=tol1(mdp) + 1e-12)


def test_finite_horizon_time_varying_golden():
    """Two states, 0 -> 1 under action 1, stay under action 0; reward 1 in state 1. The
    time-varying policy (stay, go, stay) from state 0 with gamma 1 over H = 3 collects
    0 + 0 + 1 (catches pi[t] read in reverse order)."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = P[1, 1, 1] = 1.0
    mdp = TabularMDP(P, R=[0.0, 1.0], gamma=1.0, mu=[1.0, 0.0])
    stay, go = np.array([[1.0, 0.0]] * 2), np.array([[0.0, 1.0]] * 2)
    fh = finite_horizon_values(mdp, np.stack([stay, go, stay]), 3)
    assert fh.J == 1.0
    np.testing.assert_array_equal(fh.d, [[1, 0], [1, 0], [0, 1]])
    fh = finite_horizon_values(mdp, np.stack([go, stay, stay]), 3)
    assert fh.J == 2.0


# --------------------------------------------------------------- golden values


def test_two_state_chain_golden_values():
    """0 -> 1 -> 1 with rewards (1, 2), gamma 0.5: V = (3, 4), d from mu = (1, 0) is
    (0.5, 0.5), J = 3 (catches a 1/(1-gamma) factor on d)."""
    P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    mdp = TabularMDP(P, R=[1.0, 2.0], gamma=0.5, mu=[1.0, 0.0])
    ev = evaluate(mdp, [[1.0], [1.0]])
    np.testing.assert_allclose(ev.V, [3.0, 4.0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(ev.d, [0.5, 0.5], rtol=0, atol=1e-14)
    np.testing.assert_allclose(discounted_visitation_unnormalized(mdp, [[1.0], [1.0]]), [1.0, 1.0], atol=1e-14)
    assert ev.J == pytest.approx(3.0, abs=1e-14)


# ------------------------------------------------------- dense and sparse agree


@given(mdp_and_policy(), st.data())
def test_dense_and_sparse_give_the_same_numbers(case, data):
    """Every evaluation function returns the same numbers (1e-12, scaled) for the dense
    and the sparse layout of one MDP (catches a layout-specific code path)."""
    mdp, pi = case
    other = twin(mdp)
    t = tol_layout(mdp)
    mu = data.draw(trs.distributions(mdp.n_states))
    for f in (policy_evaluation, q_values, advantages, occupancy_measure, discounted_visitation,
              discounted_visitation_unnormalized):
        np.testing.assert_allclose(f(mdp, pi), f(other, pi), rtol=0, atol=t, err_msg=f.__name__)
    assert abs(expected_return(mdp, pi) - expected_return(other, pi)) <= t
    np.testing.assert_allclose(discounted_visitation(mdp, pi, mu=mu), discounted_visitation(other, pi, mu=mu),
                               rtol=0, atol=t)
    a, b = evaluate(mdp, pi), evaluate(other, pi)
    for field in ("V", "Q", "adv", "d", "rho"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=0, atol=t, err_msg=field)
    V = data.draw(hnp.arrays(np.float64, (mdp.n_states,), elements=st.floats(-10, 10)))
    assert abs(bellman_residual(mdp, pi, V) - bellman_residual(other, pi, V)) <= 1e-12 * (1 + np.max(np.abs(V)))


@given(fh_case())
def test_dense_and_sparse_finite_horizon_agree(case):
    """finite_horizon_values and state_distributions agree across layouts for stationary
    and time-varying policies, any gamma in [0, 1]."""
    mdp, pi, H = case
    other = twin(mdp)
    a, b = finite_horizon_values(mdp, pi, H), finite_horizon_values(other, pi, H)
    t = fh_tol(mdp, H)
    for field in ("V", "Q", "d"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=0, atol=t, err_msg=field)
    assert abs(a.J - b.J) <= t
    np.testing.assert_allclose(state_distributions(mdp, pi, H), state_distributions(other, pi, H), rtol=0, atol=1e-12)


# ------------------------------------------------------------------- gamma == 1


@given(mdp_and_policy(gamma=1.0), st.integers(0, 5))
def test_gamma_one_finite_horizon_is_undiscounted_sum(case, H):
    """gamma == 1 is valid for finite horizon: J = sum_t d_t.r_pi (catches a gamma < 1 check
    in finite-horizon code)."""
    mdp, pi = case
    fh = finite_horizon_values(mdp, pi, H)
    r_pi = mdp.reward_vector(pi)
    assert abs(fh.J - sum(fh.d[t] @ r_pi for t in range(H))) <= fh_tol(mdp, H)
    assert state_distributions(mdp, pi, H).shape == (H, mdp.n_states)


@pytest.mark.parametrize(
    "func",
    [evaluate, policy_evaluation, q_values, advantages, expected_return, discounted_visitation,
     discounted_visitation_unnormalized, occupancy_measure],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_gamma_one_infinite_horizon_raises(func, sparse):
    """Infinite-horizon quantities raise ValueError naming gamma when gamma == 1, instead of
    a singular-matrix error or inf (catches a missing check_infinite_horizon)."""
    P = np.full((2, 1, 2), 0.5)
    mdp = TabularMDP(sp.csr_matrix(P.reshape(2, 2)) if sparse else P, R=[0.0, 1.0], gamma=1.0)
    with pytest.raises(ValueError, match=r"needs gamma < 1, got gamma == 1"):
        func(mdp, [[1.0], [1.0]])


# ---------------------------------------------------------------- fresh results


def test_results_are_fresh_writeable_arrays():
    """Results never alias the MDP's read-only arrays (catches Q returned as mdp.R when
    gamma == 0, which a caller could not write or would corrupt)."""
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 2.0]], gamma=0.0)
    pi = [[0.5, 0.5]]
    ev = evaluate(mdp, pi)
    for arr in (ev.V, ev.Q, ev.adv, ev.d, ev.rho, q_values(mdp, pi), policy_evaluation(mdp, pi),
                finite_horizon_values(mdp, pi, 0).V, finite_horizon_values(mdp, pi, 2).Q):
        assert arr.flags.writeable
        assert not np.shares_memory(arr, mdp.R) and not np.shares_memory(arr, mdp.mu)


def test_policy_is_not_modified_in_place():
    """Evaluation never writes into the caller's policy (catches in-place renormalisation)."""
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), R=[0.0, 1.0], gamma=0.5)
    pi = np.array([[0.3, 0.7], [1.0, 0.0]])
    before = pi.copy()
    evaluate(mdp, pi)
    finite_horizon_values(mdp, pi, 3)
    np.testing.assert_array_equal(pi, before)


# -------------------------------------------------------------- validation errors


@pytest.fixture
def mdp2():
    P = np.full((2, 3, 2), 0.5)
    return TabularMDP(P, R=np.zeros((2, 3)), gamma=0.9)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda m: policy_evaluation(m, np.ones((3, 2)) / 2), ValueError, r"pi must have shape \(2, 3\) to match the MDP, got \(3, 2\)"),
        (lambda m: evaluate(m, np.ones((2, 3, 1))), ValueError, r"pi must have shape \(2, 3\) to match the MDP, got \(2, 3, 1\)"),
        (lambda m: q_values(m, [[np.nan, 0.5, 0.5], [1, 0, 0]]), ValueError, r"pi must be finite, got nan at index \(0, 0\)"),
        (lambda m: advantages(m, [[-0.5, 1.0, 0.5], [1, 0, 0]]), ValueError, r"pi must be non-negative, got -0.5 at index \(0, 0\)"),
        (lambda m: expected_return(m, [[1, 0, 0], [0.5, 0, 0]]), ValueError, r"pi\[1, :\] sums to 0.5; each policy row must sum to 1 \(tolerance 1e-08\)"),
        (lambda m: occupancy_measure(m, [["a", "b", "c"]] * 2), TypeError, r"pi must be a numeric array, got dtype <U1"),
        (lambda m: discounted_visitation(m, sp.csr_matrix(np.ones((2, 3)) / 3)), TypeError, r"pi must be a dense array-like, got a scipy.sparse"),
        (lambda m: discounted_visitation(m, np.ones((2, 3)) / 3, mu=[0.5, 0.25]), ValueError, r"mu sums to 0.75; each distribution row must sum to 1"),
        (lambda m: discounted_visitation(m, np.ones((2, 3)) / 3, mu=[1.0]), ValueError, r"mu must have shape \(2,\), got \(1,\)"),
        (lambda m: discounted_visitation(m, np.ones((2, 3)) / 3, mu=[[0.5, 0.5]]), ValueError, r"mu must be 1-dimensional, got shape \(1, 2\)"),
        (lambda m: discounted_visitation_unnormalized(m, np.ones((2, 3)) / 3, mu=[1.5, -0.5]), ValueError, r"mu must be non-negative, got -0.5 at index \(1,\)"),
        (lambda m: bellman_residual(m, np.ones((2, 3)) / 3, [0.0, 0.0, 0.0]), ValueError, r"V must have shape \(2,\), got \(3,\)"),
        (lambda m: bellman_residual(m, np.ones((2, 3)) / 3, ["a", "b"]), TypeError, r"V must be a numeric array"),
        (lambda m: finite_horizon_values(m, np.ones((2, 3)) / 3, -1), ValueError, r"horizon == -1, must be >= 0"),
        (lambda m: finite_horizon_values(m, np.ones((2, 3)) / 3, 2.0), TypeError, r"horizon must be an integer, got float 2.0"),
        (lambda m: finite_horizon_values(m, np.ones((2, 3)) / 3, True), TypeError, r"horizon must be an integer, got bool True"),
        (lambda m: finite_horizon_values(m, np.ones((4, 2, 3)) / 3, 3), ValueError,
         r"pi must have shape \(3, 2, 3\) \(a time-varying policy for horizon 3\), got \(4, 2, 3\)"),
        (lambda m: finite_horizon_values(m, np.ones(3) / 3, 3), ValueError, r"pi must have shape \(2, 3\) or \(3, 2, 3\), got \(3,\)"),
        (lambda m: finite_horizon_values(m, np.ones((3, 2, 3)) * [[[1, 0, 0]], [[0.5, 0, 0]], [[0, 0, 1]]], 3), ValueError,
         r"pi\[1, 0, :\] sums to 0.5; each policy row must sum to 1"),
        (lambda m: finite_horizon_values(m, np.ones((2, 3)) / 3, 2, mu=[2.0, -1.0]), ValueError, r"mu must be non-negative"),
        (lambda m: state_distributions(m, np.ones((2, 3)) / 3, 2, mu=[0.2, 0.2]), ValueError, r"mu sums to 0.4"),
        (lambda m: state_distributions(m, np.ones((2, 3)) / 3, "2"), TypeError, r"horizon must be an integer, got str '2'"),
        (lambda m: state_distributions(m, np.ones((2, 3)) / 3, 2, mu=[np.inf, 0.0]), ValueError, r"mu must be finite, got inf at index \(0,\)"),
    ],
)
def test_evaluation_validation_messages(mdp2, call, exc, match):
    """Every bad argument raises with a message naming it, the expected shape/range and what
    was found (catches a silent broadcast of a transposed policy or a bare numpy error)."""
    with pytest.raises(exc, match=match):
        call(mdp2)


def test_policy_rows_within_tolerance_are_renormalised_exactly(mdp2):
    """A policy whose rows sum to 1 +- 5e-9 is accepted and renormalised (no spurious
    error), one at 1 + 1e-7 is rejected."""
    pi = np.full((2, 3), (1 + 5e-9) / 3)
    ref = policy_evaluation(mdp2, np.full((2, 3), 1 / 3))
    np.testing.assert_allclose(policy_evaluation(mdp2, pi), ref, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match=r"pi\[0, :\] sums to 1.0000001"):
        policy_evaluation(mdp2, np.full((2, 3), (1 + 1e-7) / 3))


# ----------------------------------------------------------------------------- bellman_residual away from V^pi


def test_bellman_residual_golden_two_state_chain():
    """Hand-computed on 0 -(a1)-> 1 (absorbing, reward 1), gamma = 1/2, uniform policy, where
    V^pi = (2/3, 2): at V = 0 the backup is r_pi = (0, 1), residual 1; at V = V^pi + (1, 0) the residual is
    (gamma P_pi - I)(1, 0) = (0.25 - 1, 0), max-norm 3/4. Catches min for max (gives 0 in both cases)
    and a signed max without the absolute value (gives 1 and 0)."""
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    mdp = TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])
    pi = np.full((2, 2), 0.5)
    assert bellman_residual(mdp, pi, [0.0, 0.0]) == pytest.approx(1.0, abs=1e-15)
    assert bellman_residual(mdp, pi, [2 / 3 + 1.0, 2.0]) == pytest.approx(0.75, abs=1e-15)


@given(mdp_and_policy(), st.data())
def test_bellman_residual_at_a_perturbed_value_is_the_norm_of_the_perturbation_image(case, data):
    """For V = V^pi + x the residual is exactly ||(gamma P_pi - I) x||_inf (the Bellman operator is affine
    and V^pi its fixed point), so it is a known positive number away from V^pi: with x = c e_k it is
    c max(1 - gamma P_pi[k, k], gamma max_{s != k} P_pi[s, k]) >= c (1 - gamma). Catches min for max over
    states, a dropped gamma, and P_pi transposed. Tolerance: V^pi carries tol1 and enters (gamma P_pi - I),
    whose inf-norm is at most 1 + gamma <= 2."""
    mdp, pi = case
    S = mdp.n_states
    V, _, _ = oracle(mdp, pi)
    P_pi = np.einsum("sa,sat->st", pi, mdp.todense())
    x = data.draw(hnp.arrays(np.float64, (S,), elements=st.floats(-10.0, 10.0, allow_nan=False, width=64)))
    tol = 2 * tol1(mdp) + 1e-14 * (1 + np.max(np.abs(x)))
    expected = np.max(np.abs(mdp.gamma * P_pi @ x - x))
    assert abs(bellman_residual(mdp, pi, V + x) - expected) <= tol
    k = data.draw(st.integers(0, S - 1))
    c = data.draw(st.floats(0.5, 10.0, width=64))
    others = [mdp.gamma * P_pi[s, k] for s in range(S) if s != k]
    closed = c * max([1.0 - mdp.gamma * P_pi[k, k]] + others)
    assert closed >= c * (1 - mdp.gamma) - 1e-15 * c
    assert abs(bellman_residual(mdp, pi, V + c * np.eye(S)[k]) - closed) <= 2 * tol1(mdp) + 1e-14 * c


# ----------------------------------------------------------------------------- iterative refinement


def _resolvent_with_faulty_lu(mdp, pi, fault):
    """A _Resolvent whose LU solve returns fault(x) instead of x: an inaccurate factorisation by hand."""
    from tabular_rl.evaluation import _Resolvent

    res = _Resolvent(mdp, pi)
    exact = res._solve
    res._solve = lambda b, trans: fault(exact(b, trans))
    return res


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("trans", ["N", "T"])
def test_iterative_refinement_repairs_an_inaccurate_solve(sparse, trans):
    """If the LU solve is off by a relative 1e-6 (far above the 1e-13 residual test), one refinement step
    x + solve(b - M x) brings the error down to about 1e-12 relative (the correction carries the same
    1e-6 relative error, applied to a residual 1e-6 times smaller), with no warning; V and the visitation
    then match the dense oracle to 1e-11 (1 + |x|). Catches refinement removed, the correction
    subtracted, the residual of the wrong system (transposed), and a threshold so loose it never binds."""
    rng = np.random.default_rng(5)
    S, A = 6, 3
    mdp = TabularMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.uniform(-1, 1, (S, A)), 0.95,
                     mu=rng.dirichlet(np.ones(S)))
    mdp = twin(mdp) if sparse else mdp
    pi = rng.dirichlet(np.ones(A), size=S)
    V_ref, _, d_ref = oracle(mdp, pi)
    b = np.einsum("sa,sa->s", pi, mdp.R) if trans == "N" else np.asarray(mdp.mu, dtype=float)
    x_ref = V_ref if trans == "N" else d_ref / (1 - mdp.gamma)
    res = _resolvent_with_faulty_lu(mdp, pi, lambda x: x * (1 + 1e-6))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = res.solve(b, trans)
    assert np.max(np.abs(x - x_ref)) <= 1e-11 * (1 + np.max(np.abs(x_ref)))
    assert np.max(np.abs(res._solve(b, trans) - x_ref)) > 1e-7 * np.max(np.abs(x_ref))  # the fault is real


def test_iterative_refinement_warns_when_the_residual_stays_large():
    """An LU solve with a persistent absolute error 1e-6 in every entry cannot be repaired by one step:
    the residual after refinement is about (1 - gamma) 1e-6 (M applied to a constant vector), far above
    1e3 * 1e-13 (1 + max|b|/(1 - gamma)) <= 3e-10 here, so a RuntimeWarning says so and suggests lowering
    gamma. Catches the warning's threshold or test removed (a silent inaccurate answer)."""
    rng = np.random.default_rng(6)
    S, A = 4, 2
    mdp = TabularMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.uniform(-1, 1, (S, A)), 0.5)
    pi = np.full((S, A), 1 / A)
    res = _resolvent_with_faulty_lu(mdp, pi, lambda x: x + 1e-6)
    with pytest.warns(RuntimeWarning, match=r"linear solve residual .* after refinement; .* lower gamma"):
        res.solve(np.einsum("sa,sa->s", pi, mdp.R))
