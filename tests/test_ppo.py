"""Tests for tabular_rl.ppo (docs/guide/ppo.md): the clipped term's pointwise properties,
the exact surrogates and their gradients, the beta rule, the exact loops and the sampled PPO."""

import numpy as np
import pytest
from hypothesis import assume, given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import (
    TabularMDP,
    Trajectories,
    evaluate,
    expected_return,
    kl_divergence,
    rollout,
    softmax,
)
from tabular_rl import strategies as trs
from tabular_rl.bounds import performance_bounds
from tabular_rl.gridworld import open_grid
from tabular_rl.policy_gradients import policy_gradient
from tabular_rl.ppo import (
    adapt_kl_coefficient,
    clipped_surrogate_gradient,
    clipped_surrogate_objective,
    expected_kl_divergence,
    kl_penalized_surrogate_gradient,
    kl_penalized_surrogate_objective,
    ppo_clip_exact,
    ppo_clip_gradient,
    ppo_clip_objective,
    ppo_kl_exact,
    ppo_kl_penalty_objective,
    sampled_clipped_surrogate_objective,
    sampled_ppo_clip,
    surrogate_gradient,
    surrogate_objective,
)

_F = dict(allow_nan=False, allow_infinity=False, width=64)
ratios_st = st.floats(-4.0, 4.0, **_F).map(np.exp)  # log-normal-like r > 0
advs_st = st.one_of(st.floats(-1e3, 1e3, **_F), st.just(0.0))
eps_st = st.floats(0.01, 0.99, **_F)


def _scale(mdp):
    return 1.0 + float(np.max(np.abs(mdp.R))), 1.0 / (1.0 - mdp.gamma)


# ------------------------------------------------------------------------------------------
# pointwise properties of the clipped term


@given(ratios_st, advs_st, eps_st)
def test_clipped_term_is_pessimistic_and_matches_spinning_up_form(r, A, eps):
    """l <= rA; l = min(rA, g(eps, A)); catches clipping A instead of r or max in place of min."""
    l = ppo_clip_objective([r], [A], eps)
    assert l <= r * A + 1e-12 * abs(r * A)
    g = (1 + eps) * A if A >= 0 else (1 - eps) * A
    assert l == pytest.approx(min(r * A, g), rel=1e-12, abs=1e-300)
    if A > 0 and r > 1 + eps:
        assert l == pytest.approx((1 + eps) * A)
    elif A < 0 and r < 1 - eps:
        assert l == pytest.approx((1 - eps) * A)
    else:
        assert l == pytest.approx(r * A)


@given(advs_st, eps_st)
def test_clipped_term_at_ratio_one(A, eps):
    """l(1, A) = A and dl/dr(1, A) = A: first-order agreement with L^CPI at the old policy."""
    assert ppo_clip_objective([1.0], [A], eps) == A
    assert ppo_clip_gradient([1.0], [A], eps)[0] == A


@given(ratios_st, advs_st, eps_st)
def test_clip_gradient_is_finite_difference_and_zero_only_on_improving_side(r, A, eps):
    """FD derivative is 0 or A by region away from the kinks; the worsening side keeps gradient A
    (catches zeroing the gradient whenever |r - 1| > eps)."""
    h = 1e-7
    assume(abs(r - (1 + eps)) > 1e-5 and abs(r - (1 - eps)) > 1e-5 and r > 2 * h)
    fd = (ppo_clip_objective([r + h], [A], eps) - ppo_clip_objective([r - h], [A], eps)) / (2 * h)
    grad = ppo_clip_gradient([r], [A], eps)[0]
    assert fd == pytest.approx(grad, abs=1e-6 * (1 + abs(A)))
    improving_clipped = (A > 0 and r > 1 + eps) or (A < 0 and r < 1 - eps)
    assert grad == (0.0 if improving_clipped else A)


def test_clip_objective_is_a_mean_over_every_entry():
    """Any shape is averaged as a whole, e.g. (N, T) segments."""
    r = np.array([[1.5, 0.5], [1.0, 2.0]])
    A = np.array([[1.0, -1.0], [2.0, -1.0]])
    assert ppo_clip_objective(r, A, 0.2) == pytest.approx((1.2 - 0.8 + 2.0 - 2.0) / 4)


def test_kl_penalty_objective_golden():
    assert ppo_kl_penalty_objective([2.0, 1.0], [1.0, 3.0], [0.5, 0.0], 2.0) == pytest.approx((2 - 1 + 3) / 2)


# ------------------------------------------------------------------------------------------
# the beta rule


def test_adaptive_beta_boundaries():
    """Strict inequalities: d = target/1.5 and d = 1.5 target leave beta unchanged; d = 0 halves;
    d = inf doubles (catches <= in place of <)."""
    target_kl = 0.01
    assert adapt_kl_coefficient(1.0, target_kl / 1.5, target_kl) == 1.0
    assert adapt_kl_coefficient(1.0, target_kl * 1.5, target_kl) == 1.0
    assert adapt_kl_coefficient(1.0, target_kl, target_kl) == 1.0
    assert adapt_kl_coefficient(1.0, 0.0, target_kl) == 0.5
    assert adapt_kl_coefficient(1.0, np.inf, target_kl) == 2.0
    assert adapt_kl_coefficient(3.0, np.nextafter(target_kl / 1.5, 0), target_kl) == 1.5
    assert adapt_kl_coefficient(3.0, np.nextafter(target_kl * 1.5, 1), target_kl) == 6.0


# ------------------------------------------------------------------------------------------
# exact surrogates


@st.composite
def mdp_and_logits(draw, **kw):
    mdp = draw(trs.mdps(**kw))
    S, A = mdp.shape
    theta_old = draw(trs.logits((S, A), bound=4.0))
    sigma = 10.0 ** draw(st.floats(-3.0, 0.5, **_F))
    Z = draw(hnp.arrays(np.float64, (S, A), elements=st.floats(-3.0, 3.0, **_F)))
    return mdp, theta_old, theta_old + sigma * Z


def _fd(fn, theta, h=1e-6):
    g = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[idx] = h
        g[idx] = (fn(theta + e) - fn(theta - e)) / (2 * h)
    return g


@given(mdp_and_logits(), eps_st)
def test_exact_clipped_surrogate_below_surrogate_with_equality_at_old(data, eps):
    """L^CLIP <= L for full-support pi_old; equal (value and gradient) at pi_new = pi_old."""
    mdp, theta_old, theta_new = data
    pi_old, pi_new = softmax(theta_old), softmax(theta_new)
    R1, H = _scale(mdp)
    tol = 1e-9 * R1 * H**2
    lc = clipped_surrogate_objective(mdp, pi_old, pi_new, eps)
    l = surrogate_objective(mdp, pi_old, pi_new)
    assert lc <= l + tol
    if l != lc:
        target(-float(l - lc), label="L - L^CLIP (0 = tight)")
    assert abs(clipped_surrogate_objective(mdp, pi_old, pi_old, eps)) <= tol
    np.testing.assert_allclose(clipped_surrogate_gradient(mdp, pi_old, theta_old, eps),
                               surrogate_gradient(mdp, pi_old, theta_old), atol=tol)


@settings(max_examples=25)
@given(mdp_and_logits(max_states=4, max_actions=3, gamma=trs.gammas(max_value=0.95)), eps_st)
def test_exact_surrogate_gradients_match_finite_differences(data, eps):
    """Logit gradients of L, L^CLIP and L^KLPEN against central differences (catches a missing
    softmax Jacobian term or a KL gradient with the wrong direction)."""
    mdp, theta_old, theta_new = data
    pi_old, pi_new = softmax(theta_old), softmax(theta_new)
    r = pi_new / pi_old
    assume(np.min(np.abs(r - (1 + eps))) > 1e-4 and np.min(np.abs(r - (1 - eps))) > 1e-4)
    R1, H = _scale(mdp)
    tol = 1e-6 * R1 * H**3
    np.testing.assert_allclose(surrogate_gradient(mdp, pi_old, theta_new),
                               _fd(lambda t: surrogate_objective(mdp, pi_old, softmax(t)), theta_new), atol=tol)
    np.testing.assert_allclose(clipped_surrogate_gradient(mdp, pi_old, theta_new, eps),
                               _fd(lambda t: clipped_surrogate_objective(mdp, pi_old, softmax(t), eps), theta_new),
                               atol=tol)
    beta = 0.7
    np.testing.assert_allclose(
        kl_penalized_surrogate_gradient(mdp, pi_old, theta_new, beta),
        _fd(lambda t: kl_penalized_surrogate_objective(mdp, pi_old, softmax(t), beta), theta_new), atol=tol)


@given(mdp_and_logits())
def test_surrogate_gradient_at_old_is_policy_gradient(data):
    """grad L at theta' = theta equals the exact softmax policy gradient (TRPO eq. (4))."""
    mdp, theta_old, _ = data
    R1, H = _scale(mdp)
    np.testing.assert_allclose(surrogate_gradient(mdp, softmax(theta_old), theta_old),
                               policy_gradient(mdp, theta_old), atol=1e-10 * R1 * H**2)


def test_kl_direction_matters_for_a_seeded_pair():
    """The penalty is KL(pi_old || pi_new); the reverse direction gives a different number."""
    rng = np.random.default_rng(3)
    mdp = TabularMDP(softmax(rng.normal(size=(3, 2, 3))), rng.uniform(-1, 1, (3, 2)), 0.9)
    pi_old, pi_new = softmax(rng.normal(size=(3, 2))), softmax(2 * rng.normal(size=(3, 2)))
    d_old = evaluate(mdp, pi_old).d
    old_first = float(d_old @ kl_divergence(pi_old, pi_new))
    new_first = float(d_old @ kl_divergence(pi_new, pi_old))
    assert abs(old_first - new_first) > 1e-2
    assert expected_kl_divergence(mdp, pi_old, pi_new) == pytest.approx(old_first, rel=1e-12)
    L = surrogate_objective(mdp, pi_old, pi_new)
    assert kl_penalized_surrogate_objective(mdp, pi_old, pi_new, 2.0) == pytest.approx(L - 2.0 * old_first)


def test_clipped_surrogate_golden_bandit():
    """One state, gamma = 1/2, A_old = (1/2, -1/2), pi_new = (1, 0): r = (2, 0), both clipped."""
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    assert clipped_surrogate_objective(mdp, [[0.5, 0.5]], [[1.0, 0.0]], 0.2) == pytest.approx(
        (0.5 * 1.2 * 0.5 + 0.5 * 0.8 * -0.5) / 0.5)
    assert surrogate_objective(mdp, [[0.5, 0.5]], [[1.0, 0.0]]) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------
# exact loops


def _grid():
    return open_grid(3, 3, slip=0.1, gamma=0.9, sparse=False)


def test_exact_ppo_clip_improves_J_and_history_is_consistent():
    """J increases on a gridworld; each step's realised improvement lies inside its CPO bounds;
    the recorded fields have the right lengths and ranges."""
    mdp = _grid()
    theta0 = np.random.default_rng(0).normal(size=mdp.shape)
    res = ppo_clip_exact(mdp, theta0, n_iterations=15, n_epochs=5, learning_rate=2.0, epsilon=0.2)
    h = res.history
    assert h.J.shape == (16,) and h.kl.shape == h.clip_fraction.shape == h.lower_bound.shape == (15,)
    assert h.J[0] == pytest.approx(expected_return(mdp, softmax(theta0)))
    assert h.J[-1] == res.J == pytest.approx(expected_return(mdp, res.policy))
    assert res.J > h.J[0] + 0.1
    tol = 1e-9 * 2 * 100
    assert np.all(h.lower_bound <= h.improvement + tol) and np.all(h.improvement <= h.upper_bound + tol)
    assert np.all(h.kl >= 0) and np.all((0 <= h.clip_fraction) & (h.clip_fraction <= 1))
    assert np.all(h.beta == 0.0)
    np.testing.assert_allclose(res.policy, softmax(res.theta))


def test_exact_ppo_step_fields_match_the_standalone_functions():
    """One iteration's KL, surrogate and bounds equal the public functions applied to (pi_0, pi_1);
    two iterations equal one iteration run twice (no hidden state)."""
    mdp = _grid()
    theta0 = np.random.default_rng(1).normal(size=mdp.shape)
    one = ppo_clip_exact(mdp, theta0, n_iterations=1)
    pi0, pi1 = softmax(theta0), one.policy
    h = one.history
    assert h.kl[0] == pytest.approx(expected_kl_divergence(mdp, pi0, pi1), rel=1e-10)
    assert h.surrogate[0] == pytest.approx(surrogate_objective(mdp, pi0, pi1), rel=1e-10)
    b = performance_bounds(mdp, pi1, pi0)
    assert (h.lower_bound[0], h.upper_bound[0]) == pytest.approx((b.lower, b.upper), rel=1e-10)
    two = ppo_clip_exact(mdp, theta0, n_iterations=2)
    again = ppo_clip_exact(mdp, one.theta, n_iterations=1)
    np.testing.assert_allclose(two.theta, again.theta, rtol=1e-12)


def test_exact_ppo_kl_follows_the_beta_rule():
    """beta[k+1] = adapt_kl_coefficient(beta[k], kl[k], target) and J improves."""
    mdp = _grid()
    res = ppo_kl_exact(mdp, np.zeros(mdp.shape), n_iterations=12, n_epochs=5, beta=1.0, kl_target=0.01)
    h = res.history
    for k in range(11):
        assert h.beta[k + 1] == adapt_kl_coefficient(h.beta[k], h.kl[k], 0.01)
    assert res.J > h.J[0]
    assert np.all(h.lower_bound <= h.improvement + 1e-7) and np.all(h.improvement <= h.upper_bound + 1e-7)


# ------------------------------------------------------------------------------------------
# sampled level


def test_sampled_clipped_objective_is_unbiased_for_the_exact_one():
    """With exact advantages, the discount-weighted sample objective's mean over many seeded
    rollouts matches clipped_surrogate_objective(horizon=H) within 4 standard errors."""
    rng = np.random.default_rng(7)
    mdp = TabularMDP(softmax(2 * rng.normal(size=(4, 3, 4))), rng.uniform(-1, 1, (4, 3)), 0.8,
                     mu=softmax(rng.normal(size=4)))
    pi_old = softmax(rng.normal(size=(4, 3)))
    adv = evaluate(mdp, pi_old).adv
    pi_new = softmax(np.log(pi_old) + 2.0 * adv + 0.3 * rng.normal(size=(4, 3)))  # a greedy step: clips hard
    H, N, eps = 12, 20000, 0.2
    assert clipped_surrogate_objective(mdp, pi_old, pi_new, eps) < surrogate_objective(mdp, pi_old, pi_new) - 0.1
    tr = rollout(mdp, pi_old, N, H, rng=rng)
    r = pi_new[tr.states[:, :-1], tr.actions] / pi_old[tr.states[:, :-1], tr.actions]
    A = adv[tr.states[:, :-1], tr.actions] * mdp.gamma ** np.arange(H)
    per_episode = np.sum(np.minimum(r * A, np.clip(r, 1 - eps, 1 + eps) * A), axis=1)
    est = sampled_clipped_surrogate_objective(mdp, tr, pi_old, pi_new, adv[tr.states[:, :-1], tr.actions], eps)
    assert est == pytest.approx(per_episode.mean(), rel=1e-12)
    exact = clipped_surrogate_objective(mdp, pi_old, pi_new, eps, horizon=H)
    se = per_episode.std(ddof=1) / np.sqrt(N)
    assert abs(est - exact) <= 4 * se
    # and the truncated exact objective tends to the infinite-horizon one like gamma^H
    full = clipped_surrogate_objective(mdp, pi_old, pi_new, eps)
    bound = mdp.gamma**200 / (1 - mdp.gamma) * (1 + eps) * np.max(np.abs(adv))
    assert abs(clipped_surrogate_objective(mdp, pi_old, pi_new, eps, horizon=200) - full) <= bound + 1e-12


def test_sampled_ppo_tracks_the_exact_loop():
    """Seeded sampled PPO (exact and estimated values) improves J like the exact loop does, and
    the same seed gives the same run."""
    mdp = _grid()
    theta0 = np.zeros(mdp.shape)
    kw = dict(n_iterations=6, n_epochs=5, learning_rate=2.0, epsilon=0.2)
    exact = ppo_clip_exact(mdp, theta0, **kw)
    for values in ("exact", "estimated"):
        res = sampled_ppo_clip(mdp, theta0, rng=np.random.default_rng(0), n_episodes=200, horizon=40,
                               lambda_=0.95, values=values, **kw)
        assert res.J > res.history.J[0] + 0.5 * (exact.J - exact.history.J[0])
        assert res.sample_objective.shape == res.sample_clip_fraction.shape == (6,)
        assert (res.value_error == 0).all() if values == "exact" else (res.value_error > 0).all()
    again = sampled_ppo_clip(mdp, theta0, rng=np.random.default_rng(0), n_episodes=200, horizon=40, **kw)
    first = sampled_ppo_clip(mdp, theta0, rng=np.random.default_rng(0), n_episodes=200, horizon=40, **kw)
    np.testing.assert_array_equal(again.theta, first.theta)


# ------------------------------------------------------------------------------------------
# errors


def test_sample_level_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"advantages must have the same shape as ratios \(2,\), got \(3,\)"):
        ppo_clip_objective([1.0, 1.0], [1.0, 2.0, 3.0], 0.2)
    with pytest.raises(ValueError, match="ratios must be non-negative"):
        ppo_clip_objective([-1.0], [1.0], 0.2)
    with pytest.raises(ValueError, match="ratios must be finite"):
        ppo_clip_gradient([np.nan], [1.0], 0.2)
    with pytest.raises(ValueError, match="ratios must hold at least one sample"):
        ppo_clip_objective([], [], 0.2)
    with pytest.raises(ValueError, match=r"epsilon == 1, must be in \[0, 1\)"):
        ppo_clip_objective([1.0], [1.0], 1.0)
    with pytest.raises(TypeError, match="ratios must be a numeric array"):
        ppo_clip_objective(["a"], [1.0], 0.2)
    with pytest.raises(ValueError, match=r"kl must have the same shape as ratios"):
        ppo_kl_penalty_objective([1.0], [1.0], [0.1, 0.2], 1.0)
    with pytest.raises(ValueError, match="kl must be non-negative"):
        ppo_kl_penalty_objective([1.0], [1.0], [-0.1], 1.0)
    with pytest.raises(ValueError, match=r"beta == -1, must be in \[0, inf\]"):
        ppo_kl_penalty_objective([1.0], [1.0], [0.1], -1.0)
    with pytest.raises(ValueError, match=r"beta == 0, must be in \(0, inf\]"):
        adapt_kl_coefficient(0.0, 0.1, 0.01)
    with pytest.raises(ValueError, match=r"kl_target == 0, must be in \(0, inf\]"):
        adapt_kl_coefficient(1.0, 0.1, 0.0)
    with pytest.raises(ValueError, match=r"kl == nan, must be in \[0, inf\]"):
        adapt_kl_coefficient(1.0, np.nan, 0.01)
    with pytest.raises(ValueError, match=r"kl == -0.1, must be in \[0, inf\]"):
        adapt_kl_coefficient(1.0, -0.1, 0.01)
    with pytest.raises(TypeError, match="kl must be a real number"):
        adapt_kl_coefficient(1.0, "0.1", 0.01)


def test_exact_level_errors_name_the_argument():
    mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    good = [[0.5, 0.5]]
    with pytest.raises(ValueError, match=r"pi_old must have shape \(1, 2\)"):
        surrogate_objective(mdp, [[1.0]], good)
    with pytest.raises(ValueError, match=r"pi_new\[0, :\] sums to"):
        clipped_surrogate_objective(mdp, good, [[0.5, 0.6]], 0.2)
    with pytest.raises(ValueError, match=r"theta_new must have shape \(1, 2\)"):
        surrogate_gradient(mdp, good, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="theta_new must be finite"):
        clipped_surrogate_gradient(mdp, good, [[np.inf, 0.0]], 0.2)
    with pytest.raises(ValueError, match=r"horizon == -1, must be >= 0"):
        clipped_surrogate_objective(mdp, good, good, 0.2, horizon=-1)
    with pytest.raises(ValueError, match="surrogate_objective is an infinite-horizon quantity"):
        surrogate_objective(mdp.with_(gamma=1.0), good, good)
    with pytest.raises(ValueError, match=r"theta0 must have shape \(1, 2\)"):
        ppo_clip_exact(mdp, np.zeros(2))
    with pytest.raises(ValueError, match=r"n_epochs == 0, must be >= 1"):
        ppo_kl_exact(mdp, np.zeros((1, 2)), n_epochs=0)
    with pytest.raises(ValueError, match=r"learning_rate == 0, must be in \(0, inf\]"):
        ppo_clip_exact(mdp, np.zeros((1, 2)), learning_rate=0.0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sampled_ppo_clip(mdp, np.zeros((1, 2)), rng=0)
    with pytest.raises(ValueError, match="values must be one of"):
        sampled_ppo_clip(mdp, np.zeros((1, 2)), rng=np.random.default_rng(0), values="mc")
    tr = Trajectories(states=[[0, 0]], actions=[[1]], rewards=[[0.0]])
    with pytest.raises(ValueError, match="pi_old gives probability 0 to the sampled action 1 in state 0"):
        sampled_clipped_surrogate_objective(mdp, tr, [[1.0, 0.0]], good, [[1.0]], 0.2)
    with pytest.raises(ValueError, match=r"advantages must have shape \(1, 1\)"):
        sampled_clipped_surrogate_objective(mdp, tr, good, good, [1.0], 0.2)
    with pytest.raises(TypeError, match="trajectories must be a tabular_rl.Trajectories"):
        sampled_clipped_surrogate_objective(mdp, {"states": []}, good, good, [[1.0]], 0.2)


# ------------------------------------------------------------------------------------------
# the sampled update is the gradient of the sampled objective (issue 9: flipping the sign of the
# softmax baseline term -pi(b|s) sum_a coef in sampled_ppo_clip passed the "J improves" test)


def _sampled_objective_fd(mdp, tr, pi_old, adv_hat, eps, theta, h=1e-6):
    """Central differences of sampled_clipped_surrogate_objective in the logits, entry by entry."""
    g = np.zeros_like(theta)
    for idx in np.ndindex(*theta.shape):
        e = np.zeros_like(theta)
        e[idx] = h
        f = [sampled_clipped_surrogate_objective(mdp, tr, pi_old, softmax(theta + sgn * e), adv_hat, eps)
             for sgn in (1.0, -1.0)]
        g[idx] = (f[0] - f[1]) / (2 * h)
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampled_ppo_step_is_the_gradient_of_the_sampled_objective(seed):
    """One iteration of sampled_ppo_clip with exact values, run for one and for two epochs from the same
    seed: each epoch's step divided by the learning rate equals the central-difference gradient of
    sampled_clipped_surrogate_objective on the same rollouts (reproduced from the seed: the rollout is the
    only draw) and GAE advantages, at the logits the epoch starts from. Epoch 1 starts at ratio 1 (clip
    inactive); epoch 2 starts after a large step, where some clips are active. Each row of a step sums to
    0 (softmax shift invariance). Catches the sign of the baseline term -pi(b|s) sum_a coef flipped, the
    ratio factor dropped, the clip mask on the wrong side, and the gamma^t weights left out.

    Tolerance: the objective f is a sum of |w_i| r_i with sum |w_i| r_i =: W, and the derivatives of a
    softmax ratio in the logits are bounded by small multiples of r, so central differences with h = 1e-6
    err by about W (h^2 + eps_mach / h) <= 1e-9 W; we allow 1e-7 (1 + W)."""
    from tabular_rl.advantage_estimation import gae

    rng = np.random.default_rng(100 + seed)
    S, A = 3, 2
    mdp = TabularMDP(softmax(2 * rng.normal(size=(S, A, S))), rng.uniform(-1, 1, (S, A)), 0.9,
                     mu=softmax(rng.normal(size=S)))
    theta0 = rng.normal(size=(S, A))
    N, H, eps, lam, lr = 6, 5, 0.2, 0.9, 3.0
    kw = dict(n_iterations=1, n_episodes=N, horizon=H, learning_rate=lr, epsilon=eps, lambda_=lam,
              values="exact")
    theta1 = sampled_ppo_clip(mdp, theta0, rng=np.random.default_rng(seed), n_epochs=1, **kw).theta
    theta2 = sampled_ppo_clip(mdp, theta0, rng=np.random.default_rng(seed), n_epochs=2, **kw).theta
    pi_old = softmax(theta0)
    tr = rollout(mdp, pi_old, N, H, rng=np.random.default_rng(seed))
    adv_hat = gae(tr.rewards, evaluate(mdp, pi_old).V[tr.states], mdp.gamma, lam)
    s, a = tr.states[:, :-1], tr.actions
    clipped_at_2 = 0
    for start, step in ((theta0, theta1 - theta0), (theta1, theta2 - theta1)):
        r = softmax(start)[s, a] / pi_old[s, a]
        assert np.min(np.abs(np.abs(r - 1.0) - eps)) > 1e-4  # no sample within h of a kink
        W = float(np.sum(np.abs(adv_hat * mdp.gamma ** np.arange(H)) * r)) / N
        fd = _sampled_objective_fd(mdp, tr, pi_old, adv_hat, eps, start)
        np.testing.assert_allclose(step / lr, fd, rtol=0, atol=1e-7 * (1 + W))
        np.testing.assert_allclose(step.sum(axis=1), 0.0, atol=1e-13 * lr * (1 + W))
        clipped_at_2 = int(np.sum(((adv_hat > 0) & (r > 1 + eps)) | ((adv_hat < 0) & (r < 1 - eps))))
    assert np.max(np.abs(theta1 - theta0)) > 1e-3  # a real step, not a vacuous comparison
    assert clipped_at_2 > 0  # epoch 2 exercises the clip mask


def test_estimated_values_with_unvisited_states_are_the_batch_certainty_equivalent():
    """The values fed to GAE with values="estimated" (private _estimated_values) on a batch in which one
    state is never visited (mu = 0 there and no transition into it) and one is reached only at the last
    step (never left): they equal the certainty-equivalence solution computed here from counts with a
    dense solve, and are exactly 0 at both of those states (no data: no reward, no successor). Visited
    states (one of them left exactly once) are finite. Catches a division by a zero count (NaN), counts taken over next states instead of
    current ones, and rewards averaged over the wrong axis. Tolerance: one sparse LU solve against one
    dense solve of I - gamma P_hat, kappa <= (1 + gamma)/(1 - gamma) = 19; 1e-12 (1 + |V|)."""
    from tabular_rl.ppo_loops import _estimated_values

    S, A, gamma = 5, 2, 0.9
    rng = np.random.default_rng(11)
    P = np.zeros((S, A, S))
    P[:3, :, :3] = rng.dirichlet(np.ones(3), size=(3, A))   # states 0-2 stay among themselves ...
    P[0, 1] = [0.0, 0.0, 0.0, 1.0, 0.0]                     # ... except action 1 in 0, which leads to 3
    P[3] = np.eye(S)[3]
    P[4] = np.eye(S)[4]                                     # 4: never entered, never a start
    mdp = TabularMDP(P, rng.uniform(-1, 1, (S, A)), gamma, mu=[0.5, 0.5, 0.0, 0.0, 0.0])
    # Trajectories by hand, consistent with P: one episode enters 3 at its last step (never left), 4 never.
    # State 2 is left exactly once (a count of 1), states 0 and 1 several times.
    states = np.array([[0, 1, 0, 1, 0], [1, 0, 1, 2, 2], [1, 0, 1, 0, 3]])
    actions = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]])
    rewards = rng.uniform(-1, 1, (3, 4))
    tr = Trajectories(states=states, actions=actions, rewards=rewards)
    V = _estimated_values(mdp, tr)

    n = np.zeros(S)
    n_next = np.zeros((S, S))
    r_sum = np.zeros(S)
    for i in range(3):
        for t in range(4):
            s, s2 = states[i, t], states[i, t + 1]
            n[s] += 1
            n_next[s, s2] += 1
            r_sum[s] += rewards[i, t]
    seen = n > 0
    P_hat = np.zeros((S, S))
    P_hat[seen] = n_next[seen] / n[seen, None]
    r_hat = np.where(seen, r_sum / np.maximum(n, 1), 0.0)
    V_ref = np.linalg.solve(np.eye(S) - gamma * P_hat, r_hat)
    assert np.all(np.isfinite(V))
    assert V[3] == 0.0 and V[4] == 0.0
    np.testing.assert_allclose(V, V_ref, rtol=0, atol=1e-12 * (1 + np.max(np.abs(V_ref))))
    assert np.max(np.abs(V[:3])) > 0.1  # visited states carry real estimates
