"""Tests for tabular_rl.mce (maximum causal entropy), docs/guide/mce.md."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import TabularMDP, Trajectories, rollout
from tabular_rl import strategies as trs
from tabular_rl.features import feature_expectations
from tabular_rl.maxent import (
    IRLResult,
    maxent_backward_pass,
    maxent_log_likelihood_objective,
    maxent_log_partition,
)
from tabular_rl.mce import (
    SoftValues,
    entropy_regularized_values,
    mce_irl,
    mce_log_likelihood_gradient,
    mce_log_likelihood_objective,
    mce_policy,
    soft_values,
)
from helpers import concavity_modulus, count_minimize_calls

FLOATS = dict(allow_nan=False, allow_infinity=False, width=64)
TOL = 1e-13


def arrays(shape, lo=-1.0, hi=1.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, **FLOATS))


def chain(S=4, A=2, seed=0, gamma=0.9, sparse=False):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    if sparse:
        P = sp.csr_matrix(P.reshape(S * A, S))
    return TabularMDP(P, np.zeros(S), gamma, mu=rng.dirichlet(np.ones(S)))


def fd_gradient(f, w, h=1e-6):
    g = np.zeros_like(w)
    for k in range(w.size):
        e = np.zeros_like(w)
        e[k] = h
        g[k] = (f(w + e) - f(w - e)) / (2 * h)
    return g


# ------------------------------------------------------------ soft values
@settings(max_examples=40)
@given(trs.mdps(max_states=5, max_actions=4, gamma=trs.gammas(max_value=0.95)), st.data())
def test_soft_value_is_the_entropy_regularised_value_of_the_soft_policy(mdp, data):
    """V_soft = (I - gamma P_pi)^{-1}(r_pi + H(pi)) for pi = the soft policy (exact LU), within the VI error
    bound; catches a missing entropy term, a hard max, or a stopping rule that stops before the residual."""
    S, A = mdp.shape
    r = data.draw(arrays((S, A)))
    sv = soft_values(mdp, r, tol=TOL)
    assert sv.converged and sv.residual <= TOL
    H_eff = 1 / (1 - mdp.gamma)
    V_exact = entropy_regularized_values(mdp, sv.policy, r)
    np.testing.assert_allclose(V_exact, sv.V, atol=1e-10 * (1 + 1 + np.log(A)) * H_eff)
    np.testing.assert_allclose(sv.policy.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(sv.Q, r + mdp.gamma * mdp.expected_next(sv.V), atol=1e-10 * H_eff)


@settings(max_examples=40)
@given(trs.mdps(max_states=5, max_actions=4, gamma=trs.gammas(max_value=0.95)), st.data())
def test_soft_policy_beats_every_other_policy_at_every_state(mdp, data):
    """Soft optimality: the entropy-regularised value of a random policy is <= V_soft state by state
    (hypothesis.target pushes toward near-optimal random policies)."""
    S, A = mdp.shape
    r = data.draw(arrays((S, A)))
    pi = data.draw(trs.policies(S, A))
    V_soft = soft_values(mdp, r, tol=TOL).V
    V_pi = entropy_regularized_values(mdp, pi, r)
    gap = V_pi - V_soft
    target(float(np.max(gap)), label="max (V_pi - V_soft), must be <= 0")
    H_eff = 1 / (1 - mdp.gamma)
    assert np.all(gap <= 1e-9 * (2 + np.log(A)) * H_eff**2)


@settings(max_examples=30)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(0, 6), st.floats(0.1, 5.0), st.data())
def test_finite_horizon_recursion_and_temperature(mdp, H, alpha, data):
    """Finite horizon: V_H = 0, V_t = alpha log sum exp(Q_t/alpha), Q_t = r + gamma P V_{t+1}, pi_t normalised;
    temperature alpha on r equals alpha times the alpha = 1 values of r/alpha (catches alpha dropped in V)."""
    S, A = mdp.shape
    r = data.draw(arrays((S,)))
    sv = soft_values(mdp, r, horizon=H, temperature=alpha)
    assert sv.V.shape == (H + 1, S) and sv.Q.shape == sv.policy.shape == (H, S, A)
    np.testing.assert_array_equal(sv.V[H], 0.0)
    for t in range(H):
        np.testing.assert_allclose(sv.Q[t], r[:, None] + mdp.gamma * mdp.expected_next(sv.V[t + 1]), atol=1e-12)
        np.testing.assert_allclose(sv.V[t], alpha * np.log(np.exp(sv.Q[t] / alpha).sum(axis=1)), atol=1e-11)
    np.testing.assert_allclose(sv.policy.sum(axis=-1), 1.0, atol=1e-13)
    unit = soft_values(mdp, r / alpha, horizon=H)
    np.testing.assert_allclose(sv.V, alpha * unit.V, atol=1e-11 * (1 + alpha) * (1 + H))
    np.testing.assert_allclose(mce_policy(mdp, r, horizon=H, temperature=alpha), unit.policy, atol=1e-12)


@settings(max_examples=40)
@given(trs.mdps(max_states=4, max_actions=3, deterministic=True), st.integers(0, 5), st.data())
def test_causal_equals_non_causal_on_deterministic_mdps(mdp, H, data):
    """gamma = 1, deterministic dynamics: soft values = MaxEnt log Z, the policies agree, and the MCE objective
    equals the 2008 log-likelihood (docs/guide/mce.md#concavity: all three models coincide)."""
    mdp = mdp.with_(gamma=1.0)
    r = data.draw(arrays((mdp.n_states,), -2.0, 2.0))
    sv = soft_values(mdp, r, horizon=H)
    np.testing.assert_allclose(sv.V, maxent_log_partition(mdp, r, H), atol=1e-12 * (1 + H))
    np.testing.assert_allclose(sv.policy, maxent_backward_pass(mdp, r, H), atol=1e-12)
    phi = np.eye(mdp.n_states)
    f_tilde = data.draw(arrays((mdp.n_states,), 0.0, float(H)))
    a = mce_log_likelihood_objective(mdp, phi, f_tilde, r, horizon=H)
    b = maxent_log_likelihood_objective(mdp, phi, f_tilde, H, r)
    assert abs(a - b) <= 1e-12 * (1 + H) ** 2


@settings(max_examples=40)
@given(trs.mdps(max_states=4, max_actions=3, deterministic=False), st.integers(1, 6), st.data())
def test_non_causal_log_partition_dominates_causal_soft_value(mdp, H, data):
    """Jensen: log E exp >= E log, so MaxEnt's log Z_t >= the causal V_t at every state and step."""
    mdp = mdp.with_(gamma=1.0)
    r = data.draw(arrays((mdp.n_states,), -2.0, 2.0))
    gap = maxent_log_partition(mdp, r, H) - soft_values(mdp, r, horizon=H).V
    target(float(-np.min(gap)), label="max (V_causal - log Z), must be <= 0")
    assert np.min(gap) >= -1e-12 * (1 + H) * 3


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("scale", [1e3, 1e6])
def test_large_rewards_and_long_horizon_are_finite_and_normalised(sparse, scale):
    """Rewards 1e3 / 1e6: horizon 1000 and the discounted fixed point give finite V and normalised
    policies, dense and sparse (the residual tolerance is relative to the reward scale, so VI converges)."""
    mdp = chain(5, 3, seed=1, gamma=0.9, sparse=sparse)
    r = scale * np.random.default_rng(0).normal(size=(5, 3))
    fh = soft_values(mdp, r, horizon=1000)
    assert np.all(np.isfinite(fh.V)) and np.all(np.isfinite(fh.policy))
    np.testing.assert_allclose(fh.policy.sum(axis=-1), 1.0, atol=1e-12)
    inf = soft_values(mdp, r, tol=1e-12)
    assert inf.converged and np.all(np.isfinite(inf.V))
    np.testing.assert_allclose(inf.policy.sum(axis=-1), 1.0, atol=1e-12)
    V_exact = entropy_regularized_values(mdp, inf.policy, r)
    np.testing.assert_allclose(V_exact, inf.V, rtol=1e-9)


def test_golden_one_state_two_actions():
    """Golden: one state, two actions, r = 1, gamma = 0.5: V = (1 + log 2)/(1 - gamma), pi uniform."""
    mdp = TabularMDP(np.ones((1, 2, 1)), [0.0], 0.5)
    sv = soft_values(mdp, [1.0], tol=1e-14)
    assert isinstance(sv, SoftValues)
    assert abs(sv.V[0] - 2 * (1 + np.log(2))) < 1e-12
    np.testing.assert_allclose(mce_policy(mdp, [[1.0, 1.0]]), [[0.5, 0.5]])


def test_soft_value_iteration_warns_naming_max_iter():
    """The cap: RuntimeWarning naming max_iter and tol when the residual is still above tol."""
    mdp = chain(3, 2, gamma=0.99)
    with pytest.warns(RuntimeWarning, match="max_iter=3 .*increase max_iter or tol"):
        sv = soft_values(mdp, np.ones(3), max_iter=3)
    assert not sv.converged and sv.n_iterations == 3


# --------------------------------------------------------------- objective
@settings(max_examples=25)
@given(trs.mdps(max_states=4, max_actions=3, gamma=trs.gammas(max_value=0.9)), st.integers(1, 3), st.data())
def test_mce_gradient_matches_central_differences_infinite_horizon(mdp, K, data):
    """grad L = mu_tilde - mu_pi (discounted, unnormalised) against central differences of
    L = theta.mu_tilde - p0.V_soft; catches a dropped discount or normalised feature expectations."""
    S, A = mdp.shape
    phi = data.draw(arrays((S, A, K)))
    w = data.draw(arrays((K,), -2.0, 2.0))
    mu_tilde = data.draw(arrays((K,), -2.0, 2.0))
    L = lambda v: mce_log_likelihood_objective(mdp, phi, mu_tilde, v, soft_tol=1e-15)
    g = mce_log_likelihood_gradient(mdp, phi, mu_tilde, w, soft_tol=1e-15)
    H_eff = 1 / (1 - mdp.gamma)
    R = 2.0 * K
    np.testing.assert_allclose(g, fd_gradient(L, w), atol=1e-6 * (1 + R) * H_eff**3)


@settings(max_examples=25)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(1, 5), st.data())
def test_mce_gradient_matches_central_differences_finite_horizon(mdp, H, data):
    """Finite horizon: the forward pass counts the H decision steps t = 0..H-1 with gamma^t (imitation's
    H+1-state forward pass fails this by ~1e-2)."""
    S, A = mdp.shape
    phi = data.draw(arrays((S, 2)))
    w = data.draw(arrays((2,), -2.0, 2.0))
    mu_tilde = data.draw(arrays((2,), -2.0, 2.0))
    L = lambda v: mce_log_likelihood_objective(mdp, phi, mu_tilde, v, horizon=H)
    g = mce_log_likelihood_gradient(mdp, phi, mu_tilde, w, horizon=H)
    np.testing.assert_allclose(g, fd_gradient(L, w), atol=1e-6 * 5 * H**3)


@settings(max_examples=25)
@given(trs.mdps(max_states=4, max_actions=3, gamma=trs.gammas(max_value=0.9)), st.data())
def test_mce_gradient_is_zero_at_own_feature_expectations(mdp, data):
    """mu_tilde := mu_{pi_theta0} (tabular_rl.features.feature_expectations) makes the gradient vanish."""
    S, A = mdp.shape
    phi = data.draw(arrays((S, A, 2)))
    w0 = data.draw(arrays((2,), -2.0, 2.0))
    pi0 = mce_policy(mdp, phi @ w0, tol=1e-15)
    mu = feature_expectations(mdp, pi0, phi)
    H_eff = 1 / (1 - mdp.gamma)
    np.testing.assert_allclose(mce_log_likelihood_gradient(mdp, phi, mu, w0), 0.0, atol=1e-10 * 3 * H_eff**2)


@settings(max_examples=25)
@given(trs.mdps(max_states=4, max_actions=3, gamma=trs.gammas(max_value=0.9)), st.data())
def test_mce_objective_is_concave_along_random_directions(mdp, data):
    """Second differences of L(theta) along random directions are <= round-off (V_soft convex in theta)."""
    S, A = mdp.shape
    phi = data.draw(arrays((S, A, 2)))
    w = data.draw(arrays((2,), -2.0, 2.0))
    u = data.draw(arrays((2,)))
    L = lambda v: mce_log_likelihood_objective(mdp, phi, np.zeros(2), v, soft_tol=1e-15)
    h = 1e-3
    second = (L(w + h * u) - 2 * L(w) + L(w - h * u)) / h**2
    target(float(second), label="second difference (<= 0)")
    H_eff = 1 / (1 - mdp.gamma)
    assert second <= 1e-12 * H_eff**2 / h**2


# --------------------------------------------------------------------- IRL
@pytest.mark.parametrize("method", ["gradient", "lbfgs"])
@settings(max_examples=10)
@given(mdp=trs.mdps(max_states=4, max_actions=3, gamma=trs.gammas(max_value=0.8)), data=st.data())
def test_mce_irl_from_exact_expert_expectations_matches_features(method, mdp, data):
    """From exact expert feature expectations the ascent reaches ||mu_tilde - mu_pi|| <= 1e-6, monotone,
    with either optimiser (catches an L-BFGS wrapper that negates the wrong part or stops early)."""
    S, A = mdp.shape
    phi = data.draw(arrays((S, A, 2), 0.0, 1.0))
    w0 = data.draw(arrays((2,), -2.0, 2.0))
    mu_E = feature_expectations(mdp, mce_policy(mdp, phi @ w0, tol=1e-15), phi)
    res = mce_irl(mdp, phi, mu_E, tol=1e-9, max_iter=3000, method=method)
    assert isinstance(res, IRLResult) and res.converged
    assert np.max(np.abs(feature_expectations(mdp, res.policy, phi) - mu_E)) <= 1e-6
    assert np.all(np.diff(res.log_likelihood) >= -1e-11 * (1 + np.abs(res.log_likelihood[1:])))
    assert res.reward.shape == (S, A)


def test_mce_irl_finite_horizon_from_trajectories():
    """Finite horizon from sampled demonstrations (state features): converges; the policy is the soft policy
    of the learned reward; mu_tilde sums gamma^t f over the H decision steps."""
    mdp = chain(4, 3, seed=5, gamma=0.95)
    H = 5
    expert = mce_policy(mdp, np.array([1.0, -1.0, 0.5, 0.0]), horizon=H)
    demos = rollout(mdp, expert, 100, H, rng=np.random.default_rng(0))
    phi = np.eye(4)
    res = mce_irl(mdp, phi, demos, horizon=H, tol=1e-9)
    assert res.converged and res.reward.shape == (4,)
    np.testing.assert_allclose(res.policy, mce_policy(mdp, res.reward, horizon=H))
    mu_tilde = np.einsum("t,ntk->k", 0.95 ** np.arange(H), phi[demos.states[:, :H]]) / 100
    g = mce_log_likelihood_gradient(mdp, phi, mu_tilde, res.weights, horizon=H, mu=np.bincount(demos.states[:, 0], minlength=4) / 100)
    assert np.linalg.norm(g) <= 1e-9


# -------------------------------------------------------------- validation
def test_bad_inputs_raise_naming_the_argument():
    mdp = chain(3, 2)
    with pytest.raises(ValueError, match=r"R must have shape \(3,\) or \(3, 2\)"):
        soft_values(mdp, np.zeros(4))
    with pytest.raises(ValueError, match="R must be finite"):
        mce_policy(mdp, [0.0, np.inf, 0.0])
    with pytest.raises(TypeError, match="R must be real"):
        mce_policy(mdp, np.zeros(3, dtype=complex))
    with pytest.raises(ValueError, match="temperature == 0, must be in"):
        soft_values(mdp, np.zeros(3), temperature=0.0)
    with pytest.raises(ValueError, match="horizon == -2, must be >= 0"):
        soft_values(mdp, np.zeros(3), horizon=-2)
    with pytest.raises(ValueError, match="needs gamma < 1"):
        soft_values(mdp.with_(gamma=1.0), np.zeros(3))
    with pytest.raises(ValueError, match="needs gamma < 1"):
        entropy_regularized_values(mdp.with_(gamma=1.0), np.full((3, 2), 0.5), np.zeros(3))
    with pytest.raises(ValueError, match=r"pi must have shape \(3, 2\)"):
        entropy_regularized_values(mdp, np.full((2, 3), 0.5), np.zeros(3))
    with pytest.raises(ValueError, match=r"features must have shape \(3, K\) or \(3, 2, K\)"):
        mce_irl(mdp, np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"demonstrations must have shape \(2,\)"):
        mce_irl(mdp, np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        mce_log_likelihood_objective(mdp, np.zeros((3, 2)), np.zeros(2), np.zeros(1))
    with pytest.raises(ValueError, match="soft_tol == -1, must be in"):
        mce_irl(mdp, np.zeros((3, 2)), np.zeros(2), soft_tol=-1.0)
    with pytest.raises(ValueError, match="needs gamma < 1"):
        mce_irl(mdp.with_(gamma=1.0), np.zeros((3, 2)), np.zeros(2))
    demos = Trajectories([[0, 1, 2]], [[0, 1]], [[0.0, 0.0]])
    with pytest.raises(ValueError, match="demonstrations must have horizon == horizon == 3"):
        mce_irl(mdp, np.eye(3), demos, horizon=3)
    with pytest.raises(ValueError, match="mu must be None when demonstrations are Trajectories"):
        mce_irl(mdp, np.eye(3), demos, mu=[1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="mu sums to"):
        mce_irl(mdp, np.eye(3), np.zeros(3), mu=[0.3, 0.0, 0.0])


def test_mce_irl_warns_naming_max_iter():
    """Unreachable expert expectations: RuntimeWarning naming max_iter."""
    mdp = TabularMDP(np.ones((1, 2, 1)), [0.0], 0.5)
    with pytest.warns(RuntimeWarning, match="max_iter=4"):
        res = mce_irl(mdp, [[[1.0], [0.0]]], [5.0], max_iter=4)
    assert not res.converged
    with pytest.warns(RuntimeWarning, match="max_iter=4"):
        res = mce_irl(mdp, [[[1.0], [0.0]]], [5.0], max_iter=4, method="lbfgs")
    assert not res.converged and res.n_iterations <= 4


def test_mce_irl_method_dispatch_reaches_the_same_optimum_through_the_named_optimiser(monkeypatch):
    """method="lbfgs" makes exactly one scipy L-BFGS-B call, method="gradient" none, and both reach the
    same optimum: the soft-optimal weights theta0 that generated the expert's exact feature expectations
    (state indicator features minus one: identifiable). Catches a dispatch that ignores method.
    Tolerance: both stop at ||grad|| <= tol; with lam the smallest eigenvalue of -Hessian at theta0
    (central differences of the exact gradient, about 0.02 here), ||w - theta0|| <= tol / lam near the
    optimum, plus the expert's own soft value iteration error (soft_tol 1e-15, negligible); we allow
    twice that for the Hessian's variation."""
    calls = count_minimize_calls(monkeypatch)
    mdp = chain(3, 2, seed=3, gamma=0.7)
    phi = np.eye(3)[:, 1:]                    # state indicators, one dropped: identifiable
    w0 = np.array([0.5, -0.4])
    mu_E = feature_expectations(mdp, mce_policy(mdp, phi @ w0, tol=1e-15), phi)
    grad = lambda w: mce_log_likelihood_gradient(mdp, phi, mu_E, w)
    tol = 1e-10
    lam = concavity_modulus(grad, w0)
    assert lam > 1e-3
    for method, expected_calls in (("gradient", []), ("lbfgs", ["L-BFGS-B"])):
        calls.clear()
        res = mce_irl(mdp, phi, mu_E, tol=tol, max_iter=5000, method=method)
        assert calls == expected_calls, method
        assert res.converged
        assert np.linalg.norm(res.weights - w0) <= 2 * tol / lam, method


@pytest.mark.parametrize("reward_scale", [1e-3, 1.0, 1e6])
def test_soft_value_iteration_stops_at_the_first_sweep_below_tol_times_reward_scale(reward_scale):
    """The documented stopping rule, re-implemented here with scipy's logsumexp: soft value iteration from
    V_0 = 0 stops at the first k with ||T V_k - V_k||_inf <= tol max(1, max|r|), and reports that k, that
    residual and V = T V_k. At reward scale 1e-3 the max(1, .) binds (the target stays tol, not
    1e-3 tol); at 1e6 the reward scale binds (tol alone is below the round-off of V ~ 1e7, so VI would
    never stop). Catches max replaced by min, the scale dropped, an off-by-one in the sweep count, and
    V returned from the sweep before the last. The residual decreases by gamma per sweep, so the
    threshold falls well between two sweeps (checked), and both loops stop at the same k."""
    from scipy.special import logsumexp

    mdp = chain(4, 3, seed=8, gamma=0.8)
    r = reward_scale * np.random.default_rng(1).uniform(-1, 1, (4, 3))
    tol = 1e-10
    sv = soft_values(mdp, r, tol=tol)
    threshold = tol * max(1.0, float(np.max(np.abs(r))))
    P = mdp.todense()
    V = np.zeros(4)
    residuals = []
    for k in range(1, 10_000):
        V_new = logsumexp(r + mdp.gamma * np.einsum("sat,t->sa", P, V), axis=1)
        residuals.append(float(np.max(np.abs(V_new - V))))
        if residuals[-1] <= threshold:
            break
        V = V_new
    assert residuals[-1] < threshold * (1 - 1e-3) and residuals[-2] > threshold * (1 + 1e-3)
    assert sv.converged and sv.n_iterations == k
    assert sv.residual <= threshold
    assert sv.residual == pytest.approx(residuals[-1], rel=1e-3)
    np.testing.assert_allclose(sv.V, V_new, rtol=0, atol=1e-12 * max(1.0, float(np.max(np.abs(V_new)))))
