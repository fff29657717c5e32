"""Tests for tabular_rl.bounds: the performance difference lemma and the TRPO/CPO/CPI bounds
(docs/guide/bounds.md), as hypothesis properties on dense and sparse MDPs."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import TabularMDP, evaluate, expected_return, greedy, policy_evaluation, policy_iteration, softmax
from tabular_rl import strategies as trs
from tabular_rl.bounds import (
    cpi_mixture_bound,
    kl_performance_bounds,
    minorize_maximize_objective,
    performance_bounds,
    performance_difference,
    surrogate_remainder,
    trpo_bounds,
    trust_region_lower_bound,
    visitation_difference_bound,
)
from tabular_rl.ppo import surrogate_objective

_F = dict(allow_nan=False, allow_infinity=False, width=64)


def _scale(mdp):
    """(1 + R) and H_eff = 1/(1 - gamma) for the tolerances of docs/guide/numerics.md#tolerances."""
    return 1.0 + float(np.max(np.abs(mdp.R))), 1.0 / (1.0 - mdp.gamma)


def tol_two_solves(mdp):
    R1, H = _scale(mdp)
    return 1e-9 * R1 * H**2


@st.composite
def policy_pairs(draw, *, gamma=None, allow_deterministic=True):
    """(mdp, pi_old, pi_new) with pi_new = softmax(theta + sigma Z), sigma log-uniform in [1e-3, 10];
    sometimes a deterministic pi_new or a deterministic pi_old."""
    mdp = draw(trs.mdps(gamma=gamma))
    S, A = mdp.shape
    theta = draw(trs.logits((S, A), bound=4.0))
    kind = draw(st.sampled_from(["perturbed", "perturbed", "perturbed", "det_new", "det_old"])
                if allow_deterministic else st.just("perturbed"))
    if kind == "det_old":
        pi_old = draw(trs.deterministic_policies(S, A))
    else:
        pi_old = softmax(theta)
    if kind == "det_new":
        pi_new = draw(trs.deterministic_policies(S, A))
    else:
        sigma = 10.0 ** draw(st.floats(-3.0, 1.0, **_F))
        Z = draw(hnp.arrays(np.float64, (S, A), elements=st.floats(-3.0, 3.0, **_F)))
        base = theta if kind == "perturbed" else np.log(np.maximum(pi_old, 1e-300))
        pi_new = softmax(np.maximum(base, -700.0) + sigma * Z)
    return mdp, pi_old, pi_new


def _delta_J(mdp, pi_new, pi_old):
    return expected_return(mdp, pi_new) - expected_return(mdp, pi_old)


def _target_ratio(gap, penalty, label):
    """Steer toward tight cases: |J' - J - L| / penalty (1 = tight)."""
    if penalty > 0 and np.isfinite(penalty):
        target(float(abs(gap) / penalty), label=label)


# ------------------------------------------------------------------------------------------
# performance difference lemma (docs/guide/bounds.md#performance-difference-lemma)


@given(policy_pairs())
def test_pdl_equals_difference_of_two_solves(pair):
    """Catches using the old visitation (the surrogate) or the new advantage in the PDL."""
    mdp, pi_old, pi_new = pair
    pdl = performance_difference(mdp, pi_new, pi_old)
    assert abs(pdl - _delta_J(mdp, pi_new, pi_old)) <= tol_two_solves(mdp)


@given(policy_pairs(gamma=0.0))
def test_pdl_at_gamma_zero_is_expected_one_step_reward_difference(pair):
    """gamma = 0: J = mu . r_pi; catches a stray 1/(1-gamma) or gamma factor."""
    mdp, pi_old, pi_new = pair
    want = float(mdp.mu @ np.sum((pi_new - pi_old) * mdp.R, axis=1))
    assert performance_difference(mdp, pi_new, pi_old) == pytest.approx(want, abs=1e-12)


@given(trs.mdps(), st.data())
def test_greedy_policy_improves_every_state(mdp, data):
    """Policy improvement corollary: greedy(Q^pi) improves V^pi everywhere (hence J for every mu)."""
    pi = data.draw(trs.policies(*mdp.shape))
    ev = evaluate(mdp, pi)
    pi_g = greedy(ev.Q)
    assert np.all(policy_evaluation(mdp, pi_g) >= ev.V - tol_two_solves(mdp))
    assert performance_difference(mdp, pi_g, pi) >= -tol_two_solves(mdp)


@given(trs.mdps(), st.data())
def test_pdl_with_optimal_policy(mdp, data):
    """J* - J(pi) = PDL >= 0, and <= E_{d*}[max_a A^pi]/(1-gamma). Often stated as an
    equality; it is one only when pi* is greedy for Q^pi (e.g. pi = pi*)."""
    pi = data.draw(trs.policies(*mdp.shape))
    star = policy_iteration(mdp).policy
    tol = tol_two_solves(mdp)
    pdl = performance_difference(mdp, star, pi)
    assert pdl >= -tol
    assert abs(pdl - _delta_J(mdp, star, pi)) <= tol
    ev = evaluate(mdp, pi)
    d_star = evaluate(mdp, star).d
    assert pdl <= float(d_star @ ev.adv.max(axis=1)) / (1.0 - mdp.gamma) + tol


# ------------------------------------------------------------------------------------------
# surrogate: first order agreement, exact remainder, visitation difference


@given(policy_pairs())
def test_exact_remainder_identity(pair):
    """J' - J - L = sum (d' - d) pi' A / (1-gamma); catches a wrong visitation in either term."""
    mdp, pi_old, pi_new = pair
    lhs = _delta_J(mdp, pi_new, pi_old) - surrogate_objective(mdp, pi_old, pi_new)
    assert abs(surrogate_remainder(mdp, pi_new, pi_old) - lhs) <= tol_two_solves(mdp)


@given(policy_pairs())
def test_cpo_lemma3_and_visitation_difference_identity(pair):
    """||d' - d||_1 <= 2 gamma/(1-gamma) E_d[TV], and d' - d = gamma d (P' - P)(I - gamma P')^{-1}
    in row-vector form (catches the column-convention misreading of CPO eq. (21))."""
    mdp, pi_old, pi_new = pair
    v = visitation_difference_bound(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp)
    assert v.l1 <= v.bound + tol
    if v.bound > 0:
        target(v.l1 / v.bound, label="lemma3 l1/bound")
    P = mdp.todense()
    P_new, P_old = np.einsum("sa,sat->st", pi_new, P), np.einsum("sa,sat->st", pi_old, P)
    d_old = evaluate(mdp, pi_old).d
    S = mdp.n_states
    rhs = np.linalg.solve((np.eye(S) - mdp.gamma * P_new).T, mdp.gamma * (d_old @ (P_new - P_old)))
    np.testing.assert_allclose(v.difference, rhs, atol=tol)


@settings(max_examples=30)
@given(trs.mdps(max_states=4, max_actions=3, gamma=trs.gammas(max_value=0.95)), st.data())
def test_surrogate_first_order_agreement_with_J(mdp, data):
    """L(pi) = 0 and grad_theta' [J(pi) + L(pi')] at theta' = theta equals FD of J (TRPO eq. (4))."""
    S, A = mdp.shape
    theta = data.draw(trs.logits((S, A), bound=4.0))
    pi = softmax(theta)
    R1, H = _scale(mdp)
    assert abs(surrogate_objective(mdp, pi, pi)) <= 1e-10 * R1 * H
    h = 1e-6
    fd_J = np.zeros((S, A))
    fd_L = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            e = np.zeros((S, A))
            e[s, a] = h
            fd_J[s, a] = (expected_return(mdp, softmax(theta + e)) - expected_return(mdp, softmax(theta - e))) / (2 * h)
            fd_L[s, a] = (surrogate_objective(mdp, pi, softmax(theta + e))
                          - surrogate_objective(mdp, pi, softmax(theta - e))) / (2 * h)
    np.testing.assert_allclose(fd_L, fd_J, atol=1e-6 * R1 * H**3)


# ------------------------------------------------------------------------------------------
# CPO bounds


@given(policy_pairs())
def test_cpo_corollary1_two_sided(pair):
    """D- <= J' - J <= D+ with eps under pi_new and E[TV] under d_old; catches eps from pi_old,
    a squared TV, or d_new in the expectation."""
    mdp, pi_old, pi_new = pair
    b = performance_bounds(mdp, pi_new, pi_old)
    dJ = _delta_J(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp)
    assert b.lower <= dJ + tol
    assert dJ <= b.upper + tol
    assert b.surrogate == pytest.approx(surrogate_objective(mdp, pi_old, pi_new), abs=tol)
    assert b.penalty == pytest.approx(2 * mdp.gamma * b.epsilon * b.expected_tv / (1 - mdp.gamma) ** 2, rel=1e-12)
    assert b.J_old == pytest.approx(expected_return(mdp, pi_old), abs=tol)
    _target_ratio(dJ - b.surrogate, b.penalty, "cpo tightness")


@given(policy_pairs(), st.data())
def test_cpo_theorem1_any_f(pair, data):
    """Theorem 1 holds for any f: S -> R (not only V^pi); catches dropping the -pi term of L_f."""
    mdp, pi_old, pi_new = pair
    f = data.draw(hnp.arrays(np.float64, (mdp.n_states,), elements=st.floats(-10.0, 10.0, **_F)))
    b = performance_bounds(mdp, pi_new, pi_old, f=f)
    dJ = _delta_J(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp) * (1.0 + 10.0)
    assert b.lower <= dJ + tol
    assert dJ <= b.upper + tol
    _target_ratio(dJ - b.surrogate, b.penalty, "cpo any-f tightness")


@given(policy_pairs())
def test_cpo_with_f_equal_V_old_is_corollary1(pair):
    """f = V^pi reproduces the default (Corollary 1)."""
    mdp, pi_old, pi_new = pair
    a = performance_bounds(mdp, pi_new, pi_old)
    b = performance_bounds(mdp, pi_new, pi_old, f=policy_evaluation(mdp, pi_old))
    tol = tol_two_solves(mdp)
    assert (a.lower, a.upper) == pytest.approx((b.lower, b.upper), abs=tol)


@given(policy_pairs(), st.sampled_from(["new_old", "old_new"]))
def test_cpo_corollary3_kl_either_direction(pair, direction):
    """The KL form holds in both directions and is never tighter than the TV form (Pinsker+Jensen)."""
    mdp, pi_old, pi_new = pair
    b = kl_performance_bounds(mdp, pi_new, pi_old, kl_direction=direction)
    tv = performance_bounds(mdp, pi_new, pi_old)
    dJ = _delta_J(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp)
    assert b.lower <= dJ + tol and dJ <= b.upper + tol
    assert b.penalty >= tv.penalty - tol
    _target_ratio(dJ - b.surrogate, b.penalty, f"cpo kl {direction} tightness")


@given(policy_pairs(allow_deterministic=False))
def test_trust_region_proposition1(pair):
    """Prop. 1: if L >= 0 then J' - J >= -sqrt(2 delta) gamma eps / (1-gamma)^2, delta = E KL(pi'||pi)."""
    mdp, pi_old, pi_new = pair
    b = trust_region_lower_bound(mdp, pi_new, pi_old)
    if not b.applies:  # reflect the step: to first order it flips the surrogate's sign
        pi_new = softmax(2 * np.log(pi_old) - np.log(pi_new))
        b = trust_region_lower_bound(mdp, pi_new, pi_old)
    assume(b.applies)
    dJ = _delta_J(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp)
    assert dJ >= b.lower - tol
    if b.lower < -tol:
        target(float(min(dJ, 0.0) / b.lower), label="prop1 tightness")


# ------------------------------------------------------------------------------------------
# TRPO and CPI


@given(policy_pairs())
def test_trpo_theorem1_and_kl_max_form(pair):
    """TRPO Thm 1 (alpha = max TV with the 1/2, eps = max |A|), its two-sided reading, and eq. (9)
    with KL^max old first; catches a missing square on alpha or a mean in place of the max."""
    mdp, pi_old, pi_new = pair
    b = trpo_bounds(mdp, pi_new, pi_old)
    dJ = _delta_J(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp)
    assert b.lower <= dJ + tol <= b.upper + 2 * tol
    assert b.lower_kl <= b.lower + tol  # alpha^2 <= KL^max
    assert b.alpha <= 1.0 + 1e-15
    assert b.C == pytest.approx(4 * b.epsilon * mdp.gamma / (1 - mdp.gamma) ** 2)
    _target_ratio(dJ - b.surrogate, b.C * b.alpha**2, "trpo tightness")


@given(policy_pairs(), st.floats(0.0, 1.0, **_F))
def test_cpi_mixture_bound(pair, alpha):
    """Kakade-Langford/TRPO eq. (6) for (1-alpha) pi + alpha pi'."""
    mdp, pi_old, pi_prime = pair
    b = cpi_mixture_bound(mdp, pi_prime, pi_old, alpha)
    np.testing.assert_allclose(b.pi_new, (1 - alpha) * pi_old + alpha * pi_prime)
    dJ = _delta_J(mdp, b.pi_new, pi_old)
    assert b.lower <= dJ + tol_two_solves(mdp)
    _target_ratio(dJ - b.surrogate, b.penalty, "cpi tightness")


# ------------------------------------------------------------------------------------------
# majorise-maximise


@given(policy_pairs())
def test_mm_minorizer(pair):
    """eta(pi) >= M_i(pi) with equality at pi_i; M_i(pi) >= M_i(pi_i) implies J(pi) >= J(pi_i)."""
    mdp, pi_i, pi = pair
    tol = tol_two_solves(mdp)
    J_i = expected_return(mdp, pi_i)
    assert minorize_maximize_objective(mdp, pi_i, pi_i) == pytest.approx(J_i, abs=tol)
    M = minorize_maximize_objective(mdp, pi, pi_i)
    J = expected_return(mdp, pi)
    assert J >= M - tol
    if M >= J_i:
        assert J >= J_i - tol
    if np.isfinite(M) and J != M:
        target(float(-abs(J - M)), label="mm gap (0 = tight)")


# ------------------------------------------------------------------------------------------
# layouts, golden values, errors


@settings(max_examples=20)
@given(policy_pairs())
def test_dense_and_sparse_layouts_agree(pair):
    """The same MDP stored dense and CSR gives the same bounds (no layout-specific path diverges)."""
    mdp, pi_old, pi_new = pair
    S, A = mdp.shape
    P = mdp.todense()
    dense = TabularMDP(P, mdp.R, mdp.gamma, mu=mdp.mu)
    sparse = TabularMDP(sp.csr_matrix(P.reshape(S * A, S)), mdp.R, mdp.gamma, mu=mdp.mu)
    tol = tol_two_solves(mdp)
    for fn in (performance_difference, surrogate_remainder):
        assert fn(dense, pi_new, pi_old) == pytest.approx(fn(sparse, pi_new, pi_old), abs=tol)
    a, b = performance_bounds(dense, pi_new, pi_old), performance_bounds(sparse, pi_new, pi_old)
    assert (a.lower, a.upper) == pytest.approx((b.lower, b.upper), abs=tol)
    a, b = trpo_bounds(dense, pi_new, pi_old), trpo_bounds(sparse, pi_new, pi_old)
    assert (a.lower, a.upper) == pytest.approx((b.lower, b.upper), abs=tol)


def _two_state():
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    return TabularMDP(P, R=[[0.0, 0.0], [1.0, 1.0]], gamma=0.5, mu=[1.0, 0.0])


def test_golden_two_state_chain():
    """Hand-computed: V_old(0) = 2/3, V_new(0) = 8/9; L = 4/15; eps = 1/5; E[TV] = 1/5 (d_old(0) = 2/3)."""
    mdp = _two_state()
    new, old = [[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]
    assert performance_difference(mdp, new, old) == pytest.approx(2 / 9, abs=1e-14)
    b = performance_bounds(mdp, new, old)
    assert b.surrogate == pytest.approx(4 / 15, abs=1e-14)
    assert b.epsilon == pytest.approx(1 / 5, abs=1e-14)
    assert b.expected_tv == pytest.approx(1 / 5, abs=1e-14)
    assert b.penalty == pytest.approx(2 * 0.5 * 0.2 * 0.2 / 0.25, abs=1e-14)
    t = trpo_bounds(mdp, new, old)
    assert (t.alpha, t.epsilon) == pytest.approx((0.3, 1 / 3), abs=1e-14)
    assert t.max_kl == pytest.approx(0.5 * np.log(0.5 / 0.2) + 0.5 * np.log(0.5 / 0.8), abs=1e-14)


def test_golden_bandit_mixture():
    """One state, gamma = 1/2: J(pi) = 2 pi(a0); the CPI bound for alpha = 1/2 is 0.5 - 0.5 = 0."""
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    b = cpi_mixture_bound(mdp, [[1.0, 0.0]], [[0.5, 0.5]], 0.5)
    assert (b.surrogate, b.epsilon, b.penalty, b.lower) == pytest.approx((0.5, 0.5, 0.5, 0.0))


def test_zero_penalty_coefficient_with_infinite_kl_is_not_nan():
    """gamma = 0 switches every penalty off even when KL is infinite (0 * inf must not give NaN)."""
    mdp = _two_state().with_(gamma=0.0)
    new, old = [[1.0, 0.0], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]]
    kb = kl_performance_bounds(mdp, new, old, kl_direction="old_new")
    assert kb.expected_kl == np.inf and kb.penalty == 0.0
    assert np.isfinite(minorize_maximize_objective(mdp, new, old))
    mdp9 = _two_state().with_(gamma=0.9)
    assert minorize_maximize_objective(mdp9, new, old) == -np.inf


def test_errors_name_the_argument():
    mdp = _two_state()
    good = [[0.5, 0.5], [0.5, 0.5]]
    with pytest.raises(ValueError, match=r"pi_new must have shape \(2, 2\)"):
        performance_difference(mdp, [[1.0, 0.0]], good)
    with pytest.raises(ValueError, match=r"pi_old\[1, :\] sums to"):
        performance_bounds(mdp, good, [[0.5, 0.5], [0.5, 0.4]])
    with pytest.raises(ValueError, match=r"f must have shape \(2,\)"):
        performance_bounds(mdp, good, good, f=[0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="f must be finite"):
        performance_bounds(mdp, good, good, f=[0.0, np.inf])
    with pytest.raises(ValueError, match="kl_direction must be one of"):
        kl_performance_bounds(mdp, good, good, kl_direction="forward")
    with pytest.raises(ValueError, match=r"alpha == 1.5, must be in \[0, 1\]"):
        cpi_mixture_bound(mdp, good, good, 1.5)
    with pytest.raises(ValueError, match=r"pi_prime must have shape"):
        cpi_mixture_bound(mdp, [[1.0]], good, 0.5)
    with pytest.raises(ValueError, match="trpo_bounds is an infinite-horizon quantity and needs gamma < 1"):
        trpo_bounds(mdp.with_(gamma=1.0), good, good)
    for fn in (surrogate_remainder, visitation_difference_bound, trust_region_lower_bound,
               minorize_maximize_objective):
        with pytest.raises(ValueError, match="pi_new must be non-negative"):
            fn(mdp, [[1.5, -0.5], [0.5, 0.5]], good)


# ------------------------------------------------------------------------------------------
# golden values and independent recomputations at non-trivial points (issue 9: bounds that were
# checked only as inequalities survived an axis swap in epsilon and a min for the max of the KL)


def _oracle_old(mdp, pi_old):
    """Independent dense evaluation of the old policy: (V, advantages, normalised d, J) by np.linalg.solve."""
    P = mdp.todense()
    S = mdp.n_states
    P_pi = np.einsum("sa,sat->st", pi_old, P)
    M = np.eye(S) - mdp.gamma * P_pi
    V = np.linalg.solve(M, np.einsum("sa,sa->s", pi_old, mdp.R))
    Q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", P, V)
    d = (1 - mdp.gamma) * np.linalg.solve(M.T, mdp.mu)
    return V, Q - V[:, None], d, float(mdp.mu @ V)


def _kl_oracle(p, q):
    """KL(p || q) per row, with 0 log 0 = 0 (q > 0 wherever p > 0 in the callers)."""
    out = np.zeros(p.shape[0])
    for s in range(p.shape[0]):
        for a in range(p.shape[1]):
            if p[s, a] > 0:
                out[s] += p[s, a] * np.log(p[s, a] / q[s, a])
    return out


def test_trust_region_bound_golden_two_state_chain():
    """Hand-computed on the two-state chain (old uniform, new [[0.2, 0.8], [0.5, 0.5]], gamma = 1/2):
    A_old(0, .) = (-1/3, 1/3), A_old(1, .) = 0, so E_{pi_new}[A_old](s) = (1/5, 0) and epsilon = 1/5;
    d_old = (2/3, 1/3) and KL(new || old) = (0.2 log 0.4 + 0.8 log 1.6, 0), so
    delta = 2/3 (0.2 log 0.4 + 0.8 log 1.6) and lower = -sqrt(2 delta) (1/2)(1/5)/(1/2)^2.
    Catches epsilon summed over states instead of actions (that gives max(1/15, 4/15) = 4/15), the
    KL taken old-first, and the visitation of the wrong policy."""
    mdp = _two_state()
    new, old = [[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]
    b = trust_region_lower_bound(mdp, new, old)
    kl0 = 0.2 * np.log(0.4) + 0.8 * np.log(1.6)
    delta = 2 / 3 * kl0
    assert b.epsilon == pytest.approx(0.2, abs=1e-14)
    assert b.delta == pytest.approx(delta, abs=1e-14)
    assert b.surrogate == pytest.approx(4 / 15, abs=1e-14)
    assert b.lower == pytest.approx(-np.sqrt(2 * delta) * 0.5 * 0.2 / 0.25, abs=1e-14)
    assert b.J_old == pytest.approx(2 / 3, abs=1e-14) and b.applies


def test_minorizer_golden_two_state_chain():
    """Hand-computed M_i on the two-state chain: J_old = 2/3, L = 4/15, C = 4 gamma max|A| / (1-gamma)^2
    = 4 (1/2)(1/3) / (1/4) = 8/3, and KL(old || new) is 0.5 log(0.5/0.2) + 0.5 log(0.5/0.8) at state 0
    and 0 at state 1, so KL^max is state 0's. Catches min (or mean) for the max over states (state 1's
    KL is 0), the KL taken new-first, and C built from max_s |E_pi' A| instead of max_{s,a} |A|."""
    mdp = _two_state()
    new, old = [[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]
    kl_max = 0.5 * np.log(0.5 / 0.2) + 0.5 * np.log(0.5 / 0.8)
    expected = 2 / 3 + 4 / 15 - 8 / 3 * kl_max
    assert minorize_maximize_objective(mdp, new, old) == pytest.approx(expected, abs=1e-14)


@given(policy_pairs(allow_deterministic=False))
def test_trust_region_bound_and_minorizer_equal_independent_recomputation(pair):
    """trust_region_lower_bound's fields and minorize_maximize_objective recomputed from a dense
    np.linalg.solve oracle and per-entry KL loops: the same numbers to two-solve accuracy. Catches an axis
    swap in epsilon (shape (A,) instead of (S,) when S != A, different values when S == A), min for
    max in KL^max, the KL direction, and the (1 - gamma) powers of either penalty."""
    mdp, pi_old, pi_new = pair
    V, adv, d, J = _oracle_old(mdp, pi_old)
    g = mdp.gamma
    tol = tol_two_solves(mdp)

    b = trust_region_lower_bound(mdp, pi_new, pi_old)
    eps = np.max(np.abs(np.sum(pi_new * adv, axis=1)))
    delta = float(d @ _kl_oracle(pi_new, pi_old))
    L = float(d @ np.sum(pi_new * adv, axis=1)) / (1 - g)
    assert b.epsilon == pytest.approx(eps, abs=tol)
    kl = _kl_oracle(pi_new, pi_old)
    # d is known to tol per entry (its errors sum over states), each KL to round-off
    assert b.delta == pytest.approx(delta, abs=tol * (1 + np.sum(kl)))
    assert b.surrogate == pytest.approx(L, abs=tol)
    # with epsilon and delta checked above, lower is their closed form to round-off
    assert b.lower == pytest.approx(-g * b.epsilon * np.sqrt(2 * b.delta) / (1 - g) ** 2, rel=1e-14, abs=1e-300)

    C = 4 * g * np.max(np.abs(adv)) / (1 - g) ** 2
    kl_max = float(np.max(_kl_oracle(pi_old, pi_new)))
    M = minorize_maximize_objective(mdp, pi_new, pi_old)
    # J and L carry tol each; C carries 4 g/(1-g)^2 times max|A|'s error (<= tol), multiplied by KL^max
    assert M == pytest.approx(J + L - C * kl_max, abs=tol * (2 + 4 * g * kl_max / (1 - g) ** 2))


def test_visitation_difference_bound_golden_and_recomputed():
    """CPO Lemma 3 on the two-state chain with old = always a0 (stay in 0) and new = a1 in state 0 (go to
    the absorbing state 1), gamma = 1/2: d_old = (1, 0), d_new = (1 - gamma, gamma) = (1/2, 1/2), so the
    difference is (-1/2, 1/2), its 1-norm 1, E_{d_old}[TV] = 1 and the bound 2 gamma/(1 - gamma) = 2.
    Catches the constant 2 gamma (or the 1/(1 - gamma)) changed, which the inequality l1 <= bound alone
    cannot see, and the TV weighted by the new visitation instead of the old."""
    mdp = _two_state()
    v = visitation_difference_bound(mdp, [[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(v.difference, [-0.5, 0.5], rtol=0, atol=1e-15)
    assert v.l1 == pytest.approx(1.0, abs=1e-15)
    assert v.bound == pytest.approx(2.0, abs=1e-15)


@given(policy_pairs())
def test_visitation_difference_bound_equals_independent_recomputation(pair):
    """bound = 2 gamma/(1 - gamma) sum_s d_old(s) TV(pi_new, pi_old)(s) and difference = d_new - d_old, with
    the visitations from a dense np.linalg.solve oracle. Tolerance: two solves, tol_two_solves (the
    TV factor is at most 1, the prefactor 2 gamma/(1 - gamma) <= 2 H_eff is inside tol's H_eff^2)."""
    mdp, pi_old, pi_new = pair
    _, _, d_old, _ = _oracle_old(mdp, pi_old)
    _, _, d_new, _ = _oracle_old(mdp, pi_new)
    g = mdp.gamma
    tv = 0.5 * np.sum(np.abs(pi_new - pi_old), axis=1)
    v = visitation_difference_bound(mdp, pi_new, pi_old)
    tol = tol_two_solves(mdp)
    assert v.bound == pytest.approx(2 * g / (1 - g) * float(d_old @ tv), abs=tol)
    np.testing.assert_allclose(v.difference, d_new - d_old, rtol=0, atol=tol)
    assert v.l1 == pytest.approx(float(np.sum(np.abs(d_new - d_old))), abs=mdp.n_states * tol)


@given(policy_pairs(), st.sampled_from(["new_old", "old_new"]))
def test_epsilon_of_every_cpo_form_is_the_max_over_states_of_the_new_policys_expected_advantage(case, direction):
    """CPO's epsilon^{pi'} = max_s |sum_a pi'(a|s) A_old(s, a)|, the same number in Corollary 1, Corollary 3
    (either KL direction) and Proposition 1, recomputed from evaluate(); and the Corollary 3 penalty is
    sqrt(2) gamma epsilon sqrt(E_d_old[KL]) / (1 - gamma)^2. Catches the sum over a taken over states
    (axis 0; it survived a random mutation sample, since the bounds were only checked to hold) or a
    penalty with another constant."""
    mdp, pi_old, pi_new = case
    adv = evaluate(mdp, pi_old).adv
    eps = float(np.max(np.abs(np.einsum("sa,sa->s", pi_new, adv))))
    R1, H = _scale(mdp)
    tol = tol_two_solves(mdp)
    kl = kl_performance_bounds(mdp, pi_new, pi_old, kl_direction=direction)
    for got in (performance_bounds(mdp, pi_new, pi_old).epsilon, kl.epsilon,
                trust_region_lower_bound(mdp, pi_new, pi_old).epsilon):
        assert got == pytest.approx(eps, abs=tol)
    if np.isfinite(kl.expected_kl):  # KL(old || new) is inf where pi_new drops an action pi_old takes
        assert kl.penalty == pytest.approx(np.sqrt(2.0) * mdp.gamma * eps * np.sqrt(kl.expected_kl) * H**2,
                                           abs=tol * (1 + np.sqrt(kl.expected_kl)) * H**2, rel=1e-12)
