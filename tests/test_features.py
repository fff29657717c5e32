"""Tests for tabular_rl.features: feature expectations (discounted, finite-horizon, empirical),
mixtures, the min-norm mixture, the Hoelder bound and Abbeel & Ng's apprenticeship learning
(docs/guide/features.md)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import nnls

from tabular_rl import (
    TabularMDP,
    Trajectories,
    enumerate_trajectories,
    expected_return,
    occupancy_measure,
    rollout,
)
from tabular_rl import strategies as trs
from tabular_rl.features import (
    check_features,
    closest_mixture,
    empirical_feature_expectations,
    feature_expectations,
    finite_horizon_feature_expectations,
    hoelder_value_gap_bound,
    max_margin_method,
    mixture_feature_expectations,
    occupancy_mixture_policy,
    projection_method,
    trajectory_feature_counts,
)

_UNIT = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def mdp_features(draw, *, max_states=5, max_actions=3, max_k=4, gamma=None, state_action=None, **kw):
    """An MDP, features in [0, 1] of shape (S, K) or (S, A, K), and a stochastic policy."""
    mdp = draw(trs.mdps(max_states=max_states, max_actions=max_actions, gamma=gamma, **kw))
    S, A = mdp.shape
    K = draw(st.integers(1, max_k))
    sa = draw(st.booleans()) if state_action is None else state_action
    shape = (S, A, K) if sa else (S, K)
    phi = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0, **_UNIT)))
    pi = draw(trs.policies(S, A, deterministic=False))
    return mdp, phi, pi


def _h_eff(mdp):
    return 1.0 / (1.0 - mdp.gamma)


def _nnls_hull_distance(mus, target_):
    """Independent oracle: NNLS with a heavy sum-to-one row (docs/guide/features.md#max-margin-method)."""
    n = mus.shape[0]
    W = 1e5
    M = np.vstack([mus.T, np.full((1, n), W)])
    lam, _ = nnls(M, np.concatenate([target_, [W]]))
    lam = lam / lam.sum()
    return np.linalg.norm(target_ - lam @ mus), lam


def _run(method, *args, **kw):
    """Run an apprenticeship method; a warning about the loop must come exactly when it did
    not converge. closest_mixture's own warning (its certified duality gap above 1e-9 scale,
    on near-duplicate feature expectations) is a separate statement about the accuracy of the
    mixture weights and may come either way; the tests check the distances themselves."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = method(*args, **kw)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)
               and not str(w.message).startswith("closest_mixture:")]
    assert bool(runtime) == (not res.converged), [str(w.message) for w in runtime]
    return res


# --------------------------------------------------------------------------- feature expectations


@given(mdp_features(gamma=trs.gammas()), hnp.arrays(np.float64, 4, elements=st.floats(-1, 1, **_UNIT)))
def test_feature_expectations_times_w_is_the_return_of_reward_w_phi(case, w):
    """Catches a missing or doubled 1/(1-gamma) (mu must be unnormalised: w.mu = J for r = w.phi)."""
    mdp, phi, pi = case
    K = phi.shape[-1]
    w = w[:K]
    J = expected_return(mdp.with_(R=phi @ w), pi)
    atol = 1e-10 * (1 + np.abs(w).sum()) * _h_eff(mdp)
    np.testing.assert_allclose(w @ feature_expectations(mdp, pi, phi), J, atol=atol)


@settings(max_examples=40)
@given(mdp_features(max_states=3, max_actions=2, max_k=3, gamma=trs.gammas(max_value=1.0)),
       st.integers(0, 3), st.data())
def test_finite_horizon_feature_expectations_equal_enumeration(case, H, data):
    """Catches an off-by-one in the steps counted (t = 0..H-1, s_H not counted) or a wrong gamma^t,
    for stationary and time-varying policies, against exact trajectory enumeration."""
    mdp, phi, pi = case
    S, A = mdp.shape
    if H and data.draw(st.booleans()):
        pi = np.stack([data.draw(trs.policies(S, A)) for _ in range(H)])
    tr, p = enumerate_trajectories(mdp, pi, H)
    exact = p @ trajectory_feature_counts(mdp, tr, phi) if H else np.zeros(phi.shape[-1])
    got = finite_horizon_feature_expectations(mdp, pi, phi, H)
    np.testing.assert_allclose(got, exact, atol=1e-12 * (1 + H))


@settings(max_examples=30)
@given(mdp_features(gamma=trs.gammas(max_value=0.9)))
def test_finite_horizon_converges_to_discounted_within_the_tail_bound(case):
    """Catches a finite-horizon version that does not truncate the discounted one:
    |mu - mu_H| <= gamma^H/(1-gamma) max|phi| (and mu_H <= mu for phi >= 0)."""
    mdp, phi, pi = case
    H = 40
    mu = feature_expectations(mdp, pi, phi)
    mu_H = finite_horizon_feature_expectations(mdp, pi, phi, H)
    tail = mdp.gamma**H * _h_eff(mdp)
    tol = 1e-10 * _h_eff(mdp)
    assert np.all(mu - mu_H >= -tol)
    assert np.all(mu - mu_H <= tail + tol)


def test_empirical_feature_expectations_converge_within_clt_bound():
    """Catches a biased empirical estimate (wrong discounting or the final state counted):
    the sample mean is within 5 standard errors of the exact finite-horizon value (seeded)."""
    rng = np.random.default_rng(12345)
    S, A, K, H = 4, 3, 3, 8
    P = rng.dirichlet(np.ones(S), size=(S, A))
    mdp = TabularMDP(P, np.zeros((S, A)), 0.9, mu=rng.dirichlet(np.ones(S)))
    phi = rng.random((S, A, K))
    pi = rng.dirichlet(np.ones(A), size=S)
    tr = rollout(mdp, pi, 4000, H, rng=rng)
    counts = trajectory_feature_counts(mdp, tr, phi)
    est = empirical_feature_expectations(mdp, tr, phi)
    np.testing.assert_array_equal(est, counts.mean(axis=0))
    se = counts.std(axis=0, ddof=1) / np.sqrt(tr.n_episodes)
    exact = finite_horizon_feature_expectations(mdp, pi, phi, H)
    assert np.all(np.abs(est - exact) <= 5 * se)
    # and with an explicit gamma = 1 it is the undiscounted count
    np.testing.assert_allclose(
        empirical_feature_expectations(mdp, tr, phi, gamma=1.0),
        phi[tr.states[:, :H], tr.actions].sum(axis=1).mean(axis=0),
        rtol=1e-13,
    )


def test_trajectory_feature_counts_golden():
    """Catches counting s_H or forgetting gamma^t, on a hand-computed example."""
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.zeros(2), 0.5)
    phi = np.arange(12.0).reshape(2, 2, 3)
    tr = Trajectories(states=[[0, 1, 0]], actions=[[1, 0]], rewards=[[0.0, 0.0]])
    np.testing.assert_array_equal(trajectory_feature_counts(mdp, tr, phi), [phi[0, 1] + 0.5 * phi[1, 0]])


# --------------------------------------------------------------------------- mixtures


@settings(max_examples=40)
@given(mdp_features(gamma=trs.gammas()), st.integers(1, 3), st.data())
def test_occupancy_mixture_realises_the_trajectory_mixture(case, n, data):
    """Catches mixing policies per state: the occupancy-weighted policy has exactly the
    trajectory mixture's feature expectations sum_i lambda_i mu(pi_i) and occupancy."""
    mdp, phi, _ = case
    S, A = mdp.shape
    pis = np.stack([data.draw(trs.policies(S, A)) for _ in range(n)])
    lam = data.draw(trs.distributions(n))
    mix_mu = mixture_feature_expectations(mdp, pis, lam, phi)
    np.testing.assert_allclose(mix_mu, sum(l * feature_expectations(mdp, p, phi) for l, p in zip(lam, pis)),
                               atol=1e-12 * _h_eff(mdp))
    pol = occupancy_mixture_policy(mdp, pis, lam)
    atol = 1e-9 * _h_eff(mdp) ** 2
    np.testing.assert_allclose(feature_expectations(mdp, pol, phi), mix_mu, atol=atol)
    np.testing.assert_allclose(occupancy_measure(mdp, pol),
                               sum(l * occupancy_measure(mdp, p) for l, p in zip(lam, pis)), atol=atol)


def test_trajectory_mixture_by_enumeration_and_per_state_average_is_wrong():
    """Negative test (docs/guide/features.md#mixtures-of-policies): the per-state average sum_i lambda_i pi_i(a|s) does not
    realise sum_i lambda_i mu_i, while choosing pi_i once at t = 0 (enumerated exactly) does."""
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    mdp = TabularMDP(P, np.zeros(2), 1.0, mu=[1.0, 0.0])  # gamma = 1, finite horizon
    stay, leave = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    lam, phi, H = np.array([0.5, 0.5]), np.eye(2), 4
    # the trajectory-level mixture, enumerated: pick i once, then follow pi_i
    exact = 0.0
    for l, p in zip(lam, (stay, leave)):
        tr, prob = enumerate_trajectories(mdp, p, H)
        exact = exact + l * (prob @ trajectory_feature_counts(mdp, tr, phi))
    np.testing.assert_allclose(exact, [2.5, 1.5])
    per_state = lam[0] * stay + lam[1] * leave
    wrong = finite_horizon_feature_expectations(mdp, per_state, phi, H)
    assert np.abs(wrong - exact).max() > 0.5
    # discounted: the occupancy mixture matches, the per-state average does not
    mdp_d = mdp.with_(gamma=0.5)
    target_mu = mixture_feature_expectations(mdp_d, [stay, leave], lam, phi)
    np.testing.assert_allclose(
        feature_expectations(mdp_d, occupancy_mixture_policy(mdp_d, [stay, leave], lam), phi), target_mu,
        atol=1e-14)
    assert np.abs(feature_expectations(mdp_d, per_state, phi) - target_mu).max() > 0.1


def test_occupancy_mixture_is_uniform_where_no_policy_goes():
    """Catches a 0/0 NaN at states that no mixed policy visits."""
    P = np.zeros((3, 2, 3))
    P[:, :, 0] = 1.0
    mdp = TabularMDP(P, np.zeros(3), 0.9, mu=[1.0, 0.0, 0.0])
    pol = occupancy_mixture_policy(mdp, [np.eye(2)[[0, 0, 0]]], [1.0])
    np.testing.assert_array_equal(pol, [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])


# --------------------------------------------------------------------------- min-norm mixture


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
                  elements=st.floats(0, 10, **_UNIT)), st.data())
def test_closest_mixture_matches_nnls_oracle_and_kkt(mus, data):
    """Catches weights off the simplex, a wrong support, or a distance that is not the minimum:
    against the independent NNLS oracle, the KKT condition and the certified duality gap."""
    n, K = mus.shape
    tgt = data.draw(hnp.arrays(np.float64, K, elements=st.floats(-5, 15, **_UNIT)))
    res = closest_mixture(mus, tgt)
    assert np.all(res.weights >= 0) and abs(res.weights.sum() - 1) <= 1e-14
    scale = 1 + np.abs(mus).max() + np.abs(tgt).max()
    np.testing.assert_allclose(res.feature_expectations, res.weights @ mus, atol=1e-12 * scale)
    assert abs(res.distance - np.linalg.norm(tgt - res.feature_expectations)) <= 1e-12 * scale
    # The certificate's own round-off grows like eps scale^2 / distance near the target
    # (mus [[3, 1], [0, 0]], target (1e-6, 1e-6): exact weights, gap 5e-9 from 3e-16 in lam).
    scale_lib = 1 + max(np.abs(mus).max(), np.abs(tgt).max())
    roundoff = 10 * (n + K) * np.finfo(float).eps * scale_lib**2 / res.distance if res.distance > 0 else 0.0
    assert res.duality_gap <= 1e-9 * scale + roundoff
    oracle, _ = _nnls_hull_distance(mus, tgt)
    target(res.distance - oracle)
    assert res.distance <= oracle + 1e-9 * scale  # never worse than the oracle
    assert abs(res.distance - oracle) <= 1e-6 * scale  # the oracle's heavy row is approximate
    # KKT (Wolfe's criterion): every point is no closer along x than the projection itself
    x = res.feature_expectations - tgt
    assert np.min((mus - tgt) @ x) >= x @ x - 1e-9 * scale**2


def test_closest_mixture_golden():
    """Catches a wrong projection on a hand example: the projection of (1, 1) onto the segment
    [(0, 0), (2, 0)] is (1, 0) with weights (1/2, 1/2) and distance 1; inside the hull it is 0."""
    res = closest_mixture([[0.0, 0.0], [2.0, 0.0]], [1.0, 1.0])
    np.testing.assert_allclose(res.weights, [0.5, 0.5], atol=1e-15)
    assert res.distance == pytest.approx(1.0, abs=1e-15)
    inside = closest_mixture([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.0, 2.0]], [0.5, 0.5])
    assert inside.distance <= 1e-14
    np.testing.assert_allclose(inside.feature_expectations, [0.5, 0.5], atol=1e-14)


# --------------------------------------------------------------------------- Hoelder


@given(mdp_features(gamma=trs.gammas()), st.data())
def test_hoelder_bound_holds_for_random_w(case, data):
    """Catches the wrong dual norm: |w.mu - w.mu_E| <= ||w||_q ||mu - mu_E||_p for (p, q) = (2, 2),
    (1, inf) and (inf, 1), with mu and mu_E the feature expectations of two policies."""
    mdp, phi, pi = case
    S, A = mdp.shape
    pi_E = data.draw(trs.policies(S, A))
    K = phi.shape[-1]
    w = data.draw(hnp.arrays(np.float64, K, elements=st.floats(-1, 1, **_UNIT)))
    mu, mu_E = feature_expectations(mdp, pi, phi), feature_expectations(mdp, pi_E, phi)
    gap = abs(expected_return(mdp.with_(R=phi @ w), pi) - expected_return(mdp.with_(R=phi @ w), pi_E))
    tol = 1e-9 * (1 + np.abs(w).sum()) * _h_eff(mdp) ** 2
    for p, q in ((2, 2), (1, np.inf), (np.inf, 1)):
        bound = hoelder_value_gap_bound(mu, mu_E, p=p, weight_norm=np.linalg.norm(w, q))
        if bound > 0:
            target(gap / bound, label=f"p={p}")
        assert gap <= bound + tol


def test_hoelder_golden_and_errors():
    """Catches a wrong norm order and unchecked p / weight_norm."""
    assert hoelder_value_gap_bound([3.0, 4.0], [0.0, 0.0]) == 5.0
    assert hoelder_value_gap_bound([3.0, 4.0], [0.0, 0.0], p=np.inf, weight_norm=2.0) == 8.0
    with pytest.raises(ValueError, match=r"p must be a real number in \[1, inf\], got 0.5"):
        hoelder_value_gap_bound([1.0], [0.0], p=0.5)
    with pytest.raises(ValueError, match="weight_norm == -1, must be in"):
        hoelder_value_gap_bound([1.0], [0.0], weight_norm=-1.0)
    with pytest.raises(ValueError, match=r"mu_expert must have shape \(2,\) \(the shape of mu\), got \(3,\)"):
        hoelder_value_gap_bound([1.0, 2.0], [0.0, 0.0, 0.0])


# --------------------------------------------------------------------------- apprenticeship learning


@settings(max_examples=40)
@given(mdp_features(max_states=5, max_actions=3, gamma=trs.gammas(max_value=0.95)))
def test_projection_method_properties(case):
    """docs/guide/features.md#projection-method: catches a projection onto the hull instead of the line, an
    inexact inner solve, or a wrong mu_bar update: lambda in [0, 1], t non-increasing,
    t^(n) <= D/sqrt(n), mu_bar a convex combination of the mu^(j) no closer than the hull, and
    the returned mixture matches mu_E."""
    mdp, phi, pi_E = case
    K = phi.shape[-1]
    D = np.sqrt(K) / (1 - mdp.gamma)
    mu_E = feature_expectations(mdp, pi_E, phi)
    res = _run(projection_method, mdp, phi, mu_E, epsilon=1e-3 * D, max_iter=200)
    tol = 1e-9 * _h_eff(mdp) ** 2
    lam = res.projection_coefficients
    assert np.all(lam >= -1e-12) and np.all(lam <= 1 + 1e-12)
    t = res.margins
    assert np.all(np.diff(t) <= tol)
    n = np.arange(1, t.size + 1)
    target(float(np.max(t * np.sqrt(n) / D)))
    assert np.all(t <= D / np.sqrt(n) + tol)
    c = res.mu_bar_weights
    assert np.all(c >= -1e-12) and np.allclose(c.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(c @ res.feature_expectations, res.mu_bar, atol=tol)
    np.testing.assert_allclose(np.linalg.norm(mu_E - res.mu_bar, axis=1), t, atol=tol)
    for i in range(t.size):
        hull = closest_mixture(res.feature_expectations[: i + 1], mu_E).distance
        assert t[i] >= hull - tol
    # the weights are the inputs of the next best response, the policies its outputs
    assert res.policies.shape[0] == res.feature_expectations.shape[0]
    np.testing.assert_allclose(res.weights, mu_E - res.mu_bar, atol=tol)
    if res.converged:
        assert np.linalg.norm(res.mixture_feature_expectations - mu_E) <= t[-1] + tol
        np.testing.assert_allclose(feature_expectations(mdp, res.mixture_policy, phi),
                                   res.mixture_feature_expectations, atol=tol)


@settings(max_examples=40)
@given(mdp_features(max_states=5, max_actions=3, gamma=trs.gammas(max_value=0.95)))
def test_max_margin_value_is_min_norm_hull_distance(case):
    """docs/guide/features.md#max-margin-method: catches a wrong max-margin QP: each t^(i) equals the NNLS
    oracle's distance from mu_E to conv(mu^(0..i-1)), w^(i) is feasible (||w|| <= 1) and attains
    it (min_j w.(mu_E - mu^(j)) >= t), t never grows, and the mixture matches mu_E."""
    mdp, phi, pi_E = case
    K = phi.shape[-1]
    D = np.sqrt(K) / (1 - mdp.gamma)
    mu_E = feature_expectations(mdp, pi_E, phi)
    res = _run(max_margin_method, mdp, phi, mu_E, epsilon=1e-3 * D, max_iter=200)
    tol = 1e-9 * _h_eff(mdp) ** 2
    mus = res.feature_expectations
    for i, (t, w) in enumerate(zip(res.margins, res.weights)):
        oracle, _ = _nnls_hull_distance(mus[: i + 1], mu_E)
        assert abs(t - oracle) <= 1e-6 * (1 + D)
        assert np.linalg.norm(w) <= 1 + 1e-12
        if t > 1e-3 * D:  # iterations that led to a best response: w attains the margin
            assert np.min((mu_E - mus[: i + 1]) @ w) >= t - tol
    assert np.all(np.diff(res.margins) <= tol)
    if res.converged:
        assert np.linalg.norm(res.mixture_feature_expectations - mu_E) <= res.margins[-1] + tol


def test_apprenticeship_golden_two_state_chain():
    """Catches wrong bookkeeping on a hand example: from the uniform start the expert's
    go-to-state-1 policy is found after one best response by both methods."""
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    mdp = TabularMDP(P, np.zeros(2), 0.5, mu=[1.0, 0.0])
    expert = np.array([[0.0, 1.0], [0.0, 1.0]])
    mu_E = feature_expectations(mdp, expert, np.eye(2))
    np.testing.assert_allclose(mu_E, [1.0, 1.0])
    for method in (projection_method, max_margin_method):
        res = method(mdp, np.eye(2), mu_E, epsilon=1e-12)
        assert res.converged and res.n_iterations == 2
        np.testing.assert_array_equal(res.policies[1], expert)
        np.testing.assert_allclose(res.mixture_feature_expectations, mu_E, atol=1e-14)
        np.testing.assert_allclose(res.margins[0], np.linalg.norm(mu_E - [1.5, 0.5]))  # mu(uniform) = (1 + 0.5, 0.5)


def test_apprenticeship_warns_on_the_cap_and_on_an_unachievable_expert():
    """Catches a silent stop: the cap names max_iter, an unachievable mu_E is reported."""
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    mdp = TabularMDP(P, np.zeros(2), 0.5, mu=[1.0, 0.0])
    mu_E = feature_expectations(mdp, [[0.3, 0.7], [0.6, 0.4]], np.eye(2))
    for method in (projection_method, max_margin_method):
        with pytest.warns(RuntimeWarning, match="max_iter=1 .* increase max_iter or epsilon"):
            res = method(mdp, np.eye(2), mu_E, epsilon=0.0, max_iter=1)
        assert not res.converged and res.n_iterations == 1
        with pytest.warns(RuntimeWarning, match="cannot be matched"):
            res = method(mdp, np.eye(2), [5.0, 5.0], epsilon=1e-9)
        assert not res.converged


def test_error_messages():
    """Every input check names the argument, the expectation and what was found."""
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.zeros(2), 0.9)
    phi = np.eye(2)
    pi = np.full((2, 2), 0.5)
    with pytest.raises(ValueError, match=r"features must have shape \(2, K\) or \(2, 2, K\), got \(3, 2\)"):
        feature_expectations(mdp, pi, np.ones((3, 2)))
    with pytest.raises(ValueError, match="at least one feature"):
        check_features(np.ones((2, 0)), mdp)
    with pytest.raises(ValueError, match=r"policies must have shape \(n, 2, 2\)"):
        mixture_feature_expectations(mdp, pi, [1.0], phi)
    with pytest.raises(ValueError, match=r"weights\[\] sums to|weights must have shape \(2,\)"):
        occupancy_mixture_policy(mdp, [pi, pi], [1.0])
    with pytest.raises(ValueError, match=r"policies\[1\]\[0, :\] sums to"):
        occupancy_mixture_policy(mdp, [pi, [[1.0, 1.0], [0.5, 0.5]]], [0.5, 0.5])
    with pytest.raises(ValueError, match="needs gamma < 1"):
        occupancy_mixture_policy(mdp.with_(gamma=1.0), [pi], [1.0])
    with pytest.raises(ValueError, match="horizon == -1, must be >= 0"):
        finite_horizon_feature_expectations(mdp, pi, phi, -1)
    with pytest.raises(TypeError, match=r"trajectories must be a tabular_rl.Trajectories \(e.g. from rollout\), got list"):
        empirical_feature_expectations(mdp, [[0, 1]], phi)
    bad = Trajectories(states=[[0, 5]], actions=[[0]], rewards=[[0.0]])
    with pytest.raises(ValueError, match=r"trajectories.states must lie in \[0, 1\], got 5"):
        trajectory_feature_counts(mdp, bad, phi)
    with pytest.raises(ValueError, match=r"mu_expert must have shape \(2,\) \(one entry per feature, K = features.shape\[-1\]\), got \(3,\)"):
        projection_method(mdp, phi, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="epsilon == -1, must be in"):
        max_margin_method(mdp, phi, [0.0, 0.0], epsilon=-1.0)
    with pytest.raises(ValueError, match="max_iter == 0, must be >= 1"):
        projection_method(mdp, phi, [0.0, 0.0], max_iter=0)
    with pytest.raises(ValueError, match="projection_method is an infinite-horizon quantity"):
        projection_method(mdp.with_(gamma=1.0), phi, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"pi0 must have shape \(2, 2\)"):
        max_margin_method(mdp, phi, [0.0, 0.0], pi0=np.ones((3, 2)) / 2)
    with pytest.raises(ValueError, match=r"feature_expectations must be 2-dimensional, got shape \(2,\)"):
        closest_mixture([1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match=r"mu_expert must have shape \(2,\)"):
        closest_mixture([[1.0, 2.0]], [0.0])
    with pytest.raises(ValueError, match="feature_expectations must be finite"):
        closest_mixture([[np.nan, 2.0]], [0.0, 0.0])


def test_sparse_and_dense_agree_on_apprenticeship():
    """Catches a layout-dependent path: the same MDP stored sparse gives the same iterates."""
    rng = np.random.default_rng(3)
    S, A, K = 5, 3, 3
    P = rng.dirichlet(np.ones(S), size=(S, A)) * (rng.random((S, A, S)) < 0.6)
    P[..., 0] += 1e-3
    P /= P.sum(axis=2, keepdims=True)
    dense = TabularMDP(P, np.zeros((S, A)), 0.9)
    sparse = TabularMDP(sp.csr_matrix(P.reshape(S * A, S)), np.zeros((S, A)), 0.9)
    phi = rng.random((S, K))
    mu_E = feature_expectations(dense, rng.dirichlet(np.ones(A), size=S), phi)
    for method in (projection_method, max_margin_method):
        a = method(dense, phi, mu_E, epsilon=1e-4)
        b = method(sparse, phi, mu_E, epsilon=1e-4)
        np.testing.assert_array_equal(a.policies, b.policies)
        np.testing.assert_allclose(a.margins, b.margins, atol=1e-12)


# ---------------------------------------------------------------------- unachievable experts: the stall test


def _achievable_distance(mdp, phi, mu_E):
    """Distance from mu_E to the achievable set: the hull of the deterministic policies' feature
    expectations (the occupancy polytope's vertices are deterministic policies; phi maps it linearly)."""
    import itertools

    S, A = mdp.shape
    mus = np.array([feature_expectations(mdp, np.eye(A)[list(a)], phi)
                    for a in itertools.product(range(A), repeat=S)])
    return closest_mixture(mus, mu_E).distance


@pytest.mark.parametrize("seed", range(40))
def test_unachievable_expert_stops_at_the_stall_test_with_certified_bounds(seed):
    """mu_E = mu(uniform) + 10 N(0, I), almost surely outside the achievable set. Both methods stop within a
    few iterations by their stall test (no best response improves along w beyond round-off, 1e-12 times the
    feature scale), not at max_iter. Max-margin's t is then the exact distance to the achievable set
    (computed here from all deterministic policies); the projection method's t is a lower bound (no
    achievable point lies beyond the hyperplane through mu_bar normal to w), below the true distance when a
    coefficient exceeded 1, and the best mixture's distance is an upper bound; the warning says so.
    Catches a stall threshold of 0 (round-off gains of ~1e-16 t then keep the projection method running to
    max_iter: 10 of these 40 cases under that mutant) and a warning that reports the projection method's t
    as the distance. Tolerance 1e-9 (1 + scale): closest_mixture's NNLS against the method's projections."""
    rng = np.random.default_rng(seed)
    S, A, K = 3, 2, 2
    mdp = TabularMDP(rng.dirichlet(np.ones(S), size=(S, A)), np.zeros(S), 0.8, mu=rng.dirichlet(np.ones(S)))
    phi = rng.random((S, K))
    mu_E = feature_expectations(mdp, np.full((S, A), 0.5), phi) + 10 * rng.normal(size=K)
    dist = _achievable_distance(mdp, phi, mu_E)
    tol = 1e-9 * (1 + np.max(np.abs(mu_E)))
    for method in (projection_method, max_margin_method):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = method(mdp, phi, mu_E, epsilon=1e-9, max_iter=100)
        messages = [str(w.message) for w in caught]
        assert any("no policy improves" in m for m in messages), (method.__name__, messages)
        assert not res.converged and res.n_iterations <= 10
        t = res.margins[-1]
        if method is max_margin_method:
            assert abs(t - dist) <= tol
        else:
            assert t <= dist + tol
            assert any(f"at least {t:.3g}" in m for m in messages)
        assert np.linalg.norm(res.mixture_feature_expectations - mu_E) >= dist - tol
