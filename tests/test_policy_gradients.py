"""Tests for tabular_rl.policy_gradients (docs/guide/policy_gradients.md).

Exact gradients are checked against complex-step derivatives (accurate to ~1e-14;
central differences with h = 1e-6 once, as a cross-check) on dense and sparse MDPs;
NPG against the Fisher pseudo-inverse, Agarwal's Lemma 5.2 and Theorem 5.3; Mei's
Lemma 8, Agarwal's Lemma 4.1 and the ascent lemma; REINFORCE by exact enumeration of
all trajectories against the finite-horizon gradient.
"""

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, settings, target
from hypothesis import strategies as st

from tabular_rl import (
    TabularMDP,
    Trajectories,
    enumerate_trajectories,
    evaluate,
    finite_horizon_values,
    kl_divergence,
    policy_iteration,
    softmax,
)
from tabular_rl import strategies as trs
from tabular_rl.evaluation import _evaluate
from tabular_rl.policy_gradients import (
    PolicyOptimizationHistory,
    direct_policy_gradient,
    finite_horizon_policy_gradient,
    fisher_information,
    log_barrier_gradient,
    log_barrier_objective,
    natural_policy_gradient,
    natural_policy_gradient_ascent,
    npg_log_normalizers,
    policy_gradient,
    policy_gradient_ascent,
    reinforce_gradient,
    reinforce_gradient_samples,
    softmax_objective,
)

H_CS = 1e-30  # complex-step size


def complex_step(f, x):
    """Gradient of a real-analytic f at x by the complex step, one direction per entry."""
    g = np.empty(x.shape)
    for idx in np.ndindex(*x.shape):
        xc = x.astype(complex)
        xc[idx] += 1j * H_CS
        g[idx] = np.imag(f(xc)) / H_CS
    return g


def scales(mdp):
    R = float(np.max(np.abs(mdp.R)))
    return R, 1.0 / (1.0 - mdp.gamma)


def fd_tol(mdp):
    R, H_eff = scales(mdp)
    return 1e-6 * (1 + R) * H_eff**3


@st.composite
def mdp_and_theta(draw, *, max_gamma=0.95, reward_range=(-1.0, 1.0), bound=8.0, full_mu=False, **kw):
    mdp = draw(trs.mdps(gamma=trs.gammas(max_value=max_gamma), reward_range=reward_range, **kw))
    if full_mu:
        mdp = mdp.with_(mu=draw(trs.distributions(mdp.n_states, allow_zeros=False)))
    theta = draw(trs.logits(mdp.shape, bound=bound))
    return mdp, theta


# ----------------------------------------------------------------------------- exact gradients


@given(mdp_and_theta())
def test_softmax_gradient_matches_complex_step(problem):
    """d(s) pi A / (1 - gamma) against the complex-step derivative of mu.V: catches a missing 1/(1-gamma),
    Q in place of A, or the unnormalised visitation."""
    mdp, theta = problem
    grad = policy_gradient(mdp, theta)
    cs = complex_step(lambda th: softmax_objective(mdp, th), theta)
    np.testing.assert_allclose(grad, cs, rtol=0, atol=fd_tol(mdp) * 1e-3)


def test_softmax_gradient_matches_central_differences_dense_and_sparse():
    """Central differences with h = 1e-6 (docs/guide/numerics.md#finite-difference-gradients)
    on a fixed dense MDP and its sparse copy."""
    import scipy.sparse as sp

    rng = np.random.default_rng(7)
    S, A = 4, 3
    P = rng.dirichlet(np.ones(S), size=(S, A))
    P[P < 0.15] = 0.0
    P /= P.sum(axis=2, keepdims=True)
    R = rng.uniform(-1, 1, size=(S, A))
    theta = rng.normal(size=(S, A))
    for mdp in (TabularMDP(P, R, 0.9), TabularMDP(sp.csr_matrix(P.reshape(S * A, S)), R, 0.9)):
        fd = np.empty((S, A))
        for idx in np.ndindex(S, A):
            e = np.zeros((S, A))
            e[idx] = 1e-6
            fd[idx] = (softmax_objective(mdp, theta + e) - softmax_objective(mdp, theta - e)) / 2e-6
        np.testing.assert_allclose(policy_gradient(mdp, theta), fd, rtol=0, atol=fd_tol(mdp))


@given(mdp_and_theta(max_gamma=0.99))
def test_softmax_gradient_rows_sum_to_zero_and_vanish_off_support(problem):
    """Shift invariance of the softmax; states with d(s) = 0 get no gradient. Catches a gradient in pi-space
    reported as a logit gradient."""
    mdp, theta = problem
    R, H_eff = scales(mdp)
    grad = policy_gradient(mdp, theta)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, rtol=0, atol=1e-10 * (1 + R) * H_eff)
    d = evaluate(mdp, softmax(theta)).d
    assert np.all(grad[d == 0] == 0)


@given(trs.mdps(min_actions=1, max_actions=1), st.data())
def test_single_action_gradient_is_exactly_zero(mdp, data):
    """With A = 1 every advantage is 0, so every policy gradient is 0."""
    theta = data.draw(trs.logits(mdp.shape))
    assert np.all(policy_gradient(mdp, theta) == 0)
    assert np.all(natural_policy_gradient(mdp, theta) == 0)


@given(mdp_and_theta())
def test_direct_gradient_is_Q_not_A(problem):
    """dJ/dpi(a|s) = d(s) Q(s,a) / (1-gamma) for pi as a free matrix (complex step of mu^T (I - gamma P_pi)^-1 r_pi).
    Catches the common A-for-Q substitution, which is only right along simplex-tangent directions."""
    mdp, theta = problem
    pi = softmax(theta)

    def J_free(p):  # no renormalisation: pi is an unconstrained matrix here
        return mdp.mu @ _evaluate(mdp, p, visitation=False)[0]

    grad = direct_policy_gradient(mdp, pi)
    np.testing.assert_allclose(grad, complex_step(J_free, pi), rtol=0, atol=fd_tol(mdp) * 1e-3)
    # Along a tangent direction of the simplex Q and A give the same derivative.
    ev = evaluate(mdp, pi)
    tangent = theta - theta.mean(axis=1, keepdims=True)
    R, H_eff = scales(mdp)
    assert np.sum(grad * tangent) == pytest.approx(np.sum(ev.d[:, None] * ev.adv * tangent) * H_eff,
                                                   abs=1e-9 * (1 + R) * H_eff**2 * (1 + np.abs(tangent).sum()))


@given(mdp_and_theta(), st.floats(0.0, 2.0))
def test_log_barrier_gradient_and_its_two_objective_forms(problem, reg):
    """Agarwal eq. (12)-(14): J - reg E_s KL(Unif || pi) = J + reg/(SA) sum log pi + reg log A, and the gradient
    adds reg/S (1/A - pi). Catches reg/(SA) in the gradient or the KL taken in the other direction."""
    mdp, theta = problem
    S, A = mdp.shape
    L = log_barrier_objective(mdp, theta, reg)
    pi = softmax(theta)
    kl_form = softmax_objective(mdp, theta) - reg * np.mean(kl_divergence(np.full((S, A), 1.0 / A), pi))
    R, H_eff = scales(mdp)
    assert L == pytest.approx(kl_form, abs=1e-10 * (1 + R + reg) * H_eff * (1 + np.abs(theta).max()))
    cs = complex_step(lambda th: log_barrier_objective(mdp, th, reg), theta)
    np.testing.assert_allclose(log_barrier_gradient(mdp, theta, reg), cs, rtol=0, atol=fd_tol(mdp) * 1e-3 * (1 + reg))


@given(mdp_and_theta(max_gamma=1.0), st.integers(0, 6))
def test_finite_horizon_stationary_gradient_matches_complex_step(problem, H):
    """sum_t gamma^t d_t(s) pi(a|s) A_t(s,a) against the complex step of J_H (any gamma in [0, 1]). Catches a
    missing gamma^t or the discounted visitation used for a finite horizon."""
    mdp, theta = problem

    def J_H(th):
        return mdp.mu @ finite_horizon_values(mdp, softmax(th), H).V[0]

    grad = finite_horizon_policy_gradient(mdp, theta, H)
    R = float(np.max(np.abs(mdp.R)))
    np.testing.assert_allclose(grad, complex_step(J_H, theta), rtol=0, atol=1e-11 * (1 + R) * (1 + H) ** 2)


# ----------------------------------------------------------------------------- natural policy gradient


@settings(max_examples=40)
@given(mdp_and_theta(bound=3.0, full_mu=True))
def test_npg_equals_fisher_pseudo_inverse_times_gradient(problem):
    """pinv(F) grad J = (A - mean_a A) / (1 - gamma) on visited states (mu > 0 so every state is visited).
    Catches the pi-weighted mean (which is 0) or A/(1-gamma) compared as theta instead of as a policy."""
    mdp, theta = problem
    F = sla.block_diag(*fisher_information(mdp, theta))
    step = np.linalg.pinv(F, rcond=1e-12) @ policy_gradient(mdp, theta).ravel()
    npg = natural_policy_gradient(mdp, theta)
    R, H_eff = scales(mdp)
    d = evaluate(mdp, softmax(theta)).d
    target(float(1 / max(d.min(), 1e-300)), label="1/min d")
    np.testing.assert_allclose(step.reshape(mdp.shape), npg, rtol=0, atol=1e-7 * (1 + R) * H_eff**2 / d.min())
    # Same policy as Agarwal's update theta + eta A / (1 - gamma), for any eta.
    adv = evaluate(mdp, softmax(theta)).adv
    np.testing.assert_allclose(softmax(theta + 0.7 * npg), softmax(theta + 0.7 * adv * H_eff), rtol=0, atol=1e-10)


@given(mdp_and_theta(), st.floats(0.01, 2.0))
def test_npg_step_is_multiplicative_weights(problem, eta):
    """Lemma 5.1: pi_{t+1} = pi_t exp(eta A / (1-gamma)) / Z_t, with log Z from npg_log_normalizers."""
    mdp, theta = problem
    hist = natural_policy_gradient_ascent(mdp, step_size=eta, n_iterations=1, theta0=theta)
    pi = softmax(theta)
    adv = evaluate(mdp, pi).adv
    logZ = npg_log_normalizers(mdp, theta, eta)
    mw = pi * np.exp(eta * adv / (1 - mdp.gamma) - logZ[:, None])
    np.testing.assert_allclose(hist.policies[1], mw, rtol=1e-9, atol=1e-12)


@settings(max_examples=30)
@given(mdp_and_theta(max_gamma=0.9, reward_range=(0.0, 1.0)), st.floats(0.01, 2.0))
def test_npg_lemma_5_2_improvement_at_every_state(problem, eta):
    """V_{t+1}(s) - V_t(s) >= (1-gamma)/eta log Z_t(s) >= 0 at every state (mu = delta_s), so V_t is monotone
    at every state. Catches an NPG step that improves J(mu) only on average."""
    mdp, theta = problem
    hist = natural_policy_gradient_ascent(mdp, step_size=eta, n_iterations=8, theta0=theta)
    R, H_eff = scales(mdp)
    atol = 1e-9 * (1 + R) * H_eff**2
    worst = np.inf
    for k in range(8):
        logZ = npg_log_normalizers(mdp, hist.thetas[k], eta)
        gain = hist.V[k + 1] - hist.V[k]
        assert np.all(logZ >= -1e-12)
        assert np.all(gain >= (1 - mdp.gamma) / eta * logZ - atol)
        worst = min(worst, float(np.min(gain - (1 - mdp.gamma) / eta * logZ)))
    target(-worst, label="Lemma 5.2 slack")


@settings(max_examples=25)
@given(trs.mdps(gamma=trs.gammas(max_value=0.9), reward_range=(0.0, 1.0)), st.floats(0.01, 2.0), st.integers(1, 200))
def test_npg_theorem_5_3_sublinear_rate(mdp, eta, T):
    """From theta_0 = 0: V*(s) - V_T(s) <= log A/(eta T) + 1/((1-gamma)^2 T) for every start state and every
    T. Catches a wrong step scaling (Xiao's eta without 1/(1-gamma))."""
    hist = natural_policy_gradient_ascent(mdp, step_size=eta, n_iterations=T)
    V_star = policy_iteration(mdp).V
    R, H_eff = scales(mdp)
    k = np.arange(1, T + 1)
    bound = np.log(mdp.n_actions) / (eta * k) + H_eff**2 / k
    gap = (V_star[None, :] - hist.V[1:]).max(axis=1)
    target(float(np.max(gap / bound)), label="gap / bound")
    assert np.all(gap <= bound + 1e-9 * (1 + R) * H_eff**2)


# ----------------------------------------------------------------------------- inequalities at random theta


@given(mdp_and_theta(max_gamma=0.95, reward_range=(0.0, 1.0), full_mu=True), st.data())
def test_mei_lemma_8_lojasiewicz(problem, data):
    """||grad V(mu)||_2 >= S^-1/2 ||d*_rho / d_mu||_inf^-1 min_s pi(a*(s)|s) (V*(rho) - V(rho)), with a* from a
    fixed optimal policy (policy iteration). Catches a gradient that is too small (missing d or 1/(1-gamma))."""
    mdp, theta = problem
    S = mdp.n_states
    rho = data.draw(trs.distributions(S))
    pi = softmax(theta)
    ctrl = policy_iteration(mdp)
    a_star = np.argmax(ctrl.policy, axis=1)
    d_mu = evaluate(mdp, pi).d
    d_star_rho = evaluate(mdp.with_(mu=rho), ctrl.policy).d
    gap = rho @ (ctrl.V - evaluate(mdp, pi).V)
    lhs = np.linalg.norm(policy_gradient(mdp, theta))
    rhs = pi[np.arange(S), a_star].min() * gap / (np.sqrt(S) * np.max(d_star_rho / d_mu))
    R, H_eff = scales(mdp)
    if lhs > 0:
        target(float(rhs / lhs), label="rhs / lhs")
    assert rhs <= lhs + 1e-9 * (1 + R) * H_eff**2


@given(mdp_and_theta(max_gamma=0.95, full_mu=True), st.data())
def test_agarwal_lemma_4_1_gradient_domination(problem, data):
    """V*(rho) - V(rho) <= ||d*_rho / d_mu||_inf (1/(1-gamma)) sum_s d_mu(s) max_a A(s, a)."""
    mdp, theta = problem
    rho = data.draw(trs.distributions(mdp.n_states))
    pi = softmax(theta)
    ev = evaluate(mdp, pi)
    ctrl = policy_iteration(mdp)
    d_star_rho = evaluate(mdp.with_(mu=rho), ctrl.policy).d
    R, H_eff = scales(mdp)
    lhs = rho @ (ctrl.V - ev.V)
    rhs = np.max(d_star_rho / ev.d) * H_eff * (ev.d @ ev.adv.max(axis=1))
    if rhs > 0:
        target(float(lhs / rhs), label="lhs / rhs")
    assert lhs <= rhs + 1e-9 * (1 + R) * H_eff**2


@settings(max_examples=30)
@given(mdp_and_theta(max_gamma=0.9, reward_range=(0.0, 1.0)))
def test_ascent_lemma_with_mei_step(problem):
    """With r in [0, 1] and eta = (1-gamma)^3/8: J_{k+1} - J_k >= (eta/2) ||grad_k||^2 at every step, also for
    the default step (scaled by the reward span). Catches an ascent step in the wrong direction or a wrong
    gradient norm in the history."""
    mdp, theta = problem
    R, H_eff = scales(mdp)
    for step in ((1 - mdp.gamma) ** 3 / 8, None):
        hist = policy_gradient_ascent(mdp, n_iterations=25, step_size=step, theta0=theta)
        eta = hist.step_size
        gain = np.diff(hist.J)
        need = eta / 2 * hist.grad_norms[:-1] ** 2
        assert np.all(gain >= need - 1e-10 * (1 + R) * H_eff)
        np.testing.assert_allclose(hist.grad_norms[0], np.linalg.norm(policy_gradient(mdp, theta)), rtol=1e-12, atol=1e-300)


def test_history_is_frozen_and_read_only():
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    hist = policy_gradient_ascent(mdp, n_iterations=3)
    assert isinstance(hist, PolicyOptimizationHistory)
    assert hist.J.shape == (4,) and hist.policies.shape == (4, 1, 2) and hist.V.shape == (4, 1)
    assert hist.step_size == pytest.approx(0.5**3 / 8)
    with pytest.raises(ValueError):
        hist.J[0] = 0.0
    with pytest.raises(AttributeError):
        hist.J = None


def test_golden_two_armed_bandit():
    """One state, rewards (1, 0), gamma = 1/2, uniform policy: J = 1, grad = (1/2, -1/2), NPG = (1, -1),
    the log-barrier pulls towards uniform, and the finite-horizon H = 2 gradient is (1 + 1/2)/4 = 0.375."""
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    theta = np.zeros((1, 2))
    assert softmax_objective(mdp, theta) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(policy_gradient(mdp, theta), [[0.5, -0.5]], atol=1e-15)
    np.testing.assert_allclose(natural_policy_gradient(mdp, theta), [[1.0, -1.0]], atol=1e-15)
    np.testing.assert_allclose(direct_policy_gradient(mdp, [[0.5, 0.5]]), [[3.0, 1.0]], atol=1e-14)
    np.testing.assert_allclose(finite_horizon_policy_gradient(mdp, theta, 2), [[0.375, -0.375]], atol=1e-15)
    np.testing.assert_allclose(fisher_information(mdp, theta), [[[0.25, -0.25], [-0.25, 0.25]]], atol=1e-15)


# ----------------------------------------------------------------------------- REINFORCE


@st.composite
def reinforce_problems(draw):
    mdp = draw(trs.mdps(max_states=3, max_actions=2, gamma=trs.gammas(max_value=1.0)))
    theta = draw(trs.logits(mdp.shape, bound=3.0))
    H = draw(st.integers(1, 3))
    return mdp, theta, H


@settings(max_examples=40)
@given(reinforce_problems(), st.data())
def test_reinforce_expectations_equal_the_finite_horizon_gradient(problem, data):
    """By exact enumeration: E[full return] = E[reward-to-go] = E[reward-to-go with a per-state or per-(t, s)
    baseline] = finite_horizon_policy_gradient. Catches a baseline that depends on the action, a reward-to-go
    that keeps rewards before t, or gamma^t dropped."""
    mdp, theta, H = problem
    S = mdp.n_states
    tr, p = enumerate_trajectories(mdp, softmax(theta), H)
    exact = finite_horizon_policy_gradient(mdp, theta, H)
    R = float(np.max(np.abs(mdp.R)))
    atol = 1e-11 * (1 + R) * H**2
    b_s = data.draw(trs.logits((S,), bound=5.0))
    b_ts = data.draw(trs.logits((H, S), bound=5.0))
    for kw in (dict(method="full_return"), dict(method="reward_to_go"),
               dict(method="reward_to_go", baseline=b_s), dict(method="reward_to_go", baseline=b_ts)):
        g = reinforce_gradient_samples(tr, theta, mdp.gamma, **kw)
        np.testing.assert_allclose(np.einsum("n,nsa->sa", p, g), exact, rtol=0, atol=atol * (1 + 5 * H))
    # Without gamma^t, a baseline still has mean zero (it is the same estimator plus a zero-mean term).
    g0 = reinforce_gradient_samples(tr, theta, mdp.gamma, method="reward_to_go_without_gamma_t")
    gb = reinforce_gradient_samples(tr, theta, mdp.gamma, method="reward_to_go_without_gamma_t", baseline=b_ts)
    np.testing.assert_allclose(np.einsum("n,nsa->sa", p, gb - g0), 0.0, rtol=0, atol=atol * (1 + 5 * H))


def test_reinforce_without_gamma_t_is_biased_for_the_discounted_gradient():
    """NEGATIVE (seeded instance, H = 3, gamma = 0.8): the common estimator that weights grad log pi by G_t
    without gamma^t does not have the discounted gradient as its expectation (Thomas 2014)."""
    rng = np.random.default_rng(2024)
    S, A, H = 3, 2, 3
    mdp = TabularMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.uniform(-1, 1, (S, A)), gamma=0.8)
    theta = rng.normal(size=(S, A))
    tr, p = enumerate_trajectories(mdp, softmax(theta), H)
    exact = finite_horizon_policy_gradient(mdp, theta, H)
    fd = np.empty((S, A))
    for idx in np.ndindex(S, A):
        e = np.zeros((S, A))
        e[idx] = 1e-6
        fd[idx] = (finite_horizon_values(mdp, softmax(theta + e), H).J
                   - finite_horizon_values(mdp, softmax(theta - e), H).J) / 2e-6
    np.testing.assert_allclose(exact, fd, rtol=0, atol=1e-6 * 2 * H**3)
    biased = np.einsum("n,nsa->sa", p, reinforce_gradient_samples(tr, theta, mdp.gamma,
                                                                  method="reward_to_go_without_gamma_t"))
    assert np.max(np.abs(biased - exact)) > 1e-2
    unbiased = np.einsum("n,nsa->sa", p, reinforce_gradient_samples(tr, theta, mdp.gamma))
    np.testing.assert_allclose(unbiased, exact, rtol=0, atol=1e-12)


def test_reinforce_gradient_is_the_mean_of_the_samples_and_golden_value():
    """Two one-step episodes of a two-armed bandit: ((1)(1 - 1/2), (0)(...)) averaged = (1/4, -1/4)."""
    tr = Trajectories(states=[[0, 0], [0, 0]], actions=[[0], [1]], rewards=[[1.0], [0.0]])
    theta = np.zeros((1, 2))
    np.testing.assert_allclose(reinforce_gradient(tr, theta, 0.9), [[0.25, -0.25]], atol=1e-15)
    np.testing.assert_allclose(reinforce_gradient(tr, theta, 0.9, method="full_return"),
                               reinforce_gradient_samples(tr, theta, 0.9, method="full_return").mean(axis=0))


# ----------------------------------------------------------------------------- errors


def _bandit():
    return TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda m: policy_gradient(m, np.zeros((2, 1))), ValueError, r"theta must have shape \(1, 2\) \(softmax logits"),
        (lambda m: policy_gradient(m, [[np.nan, 0.0]]), ValueError, "theta must be finite"),
        (lambda m: policy_gradient(m.with_(gamma=1.0), np.zeros((1, 2))), ValueError, "policy_gradient is an infinite-horizon quantity"),
        (lambda m: direct_policy_gradient(m, [[0.5, 0.6]]), ValueError, r"pi\[0, :\] sums to"),
        (lambda m: log_barrier_gradient(m, np.zeros((1, 2)), -1.0), ValueError, r"reg == -1, must be in \[0, inf\]"),
        (lambda m: log_barrier_objective(m, np.zeros((1, 2)), "x"), TypeError, "reg must be a real number"),
        (lambda m: finite_horizon_policy_gradient(m, np.zeros((1, 2)), -1), ValueError, "horizon == -1, must be >= 0"),
        (lambda m: natural_policy_gradient_ascent(m, step_size=0.0), ValueError, r"step_size == 0, must be in \(0, inf\]"),
        (lambda m: policy_gradient_ascent(m, n_iterations=-2), ValueError, "n_iterations == -2, must be >= 0"),
        (lambda m: policy_gradient_ascent(m, theta0=np.zeros((1, 3))), ValueError, r"theta0 must have shape \(1, 2\)"),
        (lambda m: policy_gradient_ascent(m, theta0=np.zeros((1, 2), complex)), TypeError, "theta0 must be real"),
        (lambda m: npg_log_normalizers(m, np.zeros((1, 2)), -1.0), ValueError, "step_size == -1"),
    ],
)
def test_exact_gradient_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(_bandit())


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(method="vanilla"), ValueError, r"method must be one of \('full_return', 'reward_to_go'"),
        (dict(method="full_return", baseline=[0.0]), ValueError, "baseline is only used with method='reward_to_go'"),
        (dict(baseline=[0.0, 0.0]), ValueError, r"baseline must have shape \(1,\) \(per state\) or \(2, 1\)"),
        (dict(baseline=[np.inf]), ValueError, "baseline must be finite"),
        (dict(theta=np.zeros(2)), ValueError, "theta must be 2-dimensional"),
        (dict(theta=np.zeros((1, 1))), ValueError, r"trajectories.actions must lie in \[0, 0\], got 1"),
        (dict(gamma=2.0), ValueError, r"gamma == 2, must be in \[0, 1\]"),
        (dict(trajectories=[[0, 0]]), TypeError, "trajectories must be a tabular_rl.Trajectories"),
    ],
)
def test_reinforce_input_errors(kwargs, exc, match):
    tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 2.0]])
    args = dict(trajectories=tr, theta=np.zeros((1, 2)), gamma=0.9) | kwargs
    extra = {k: v for k, v in args.items() if k in ("method", "baseline")}
    with pytest.raises(exc, match=match):
        reinforce_gradient(args["trajectories"], args["theta"], args["gamma"], **extra)
