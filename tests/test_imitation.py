"""Tests for tabular_rl.imitation: behaviour cloning, its log-likelihood, the T^2 eps and u T eps
bounds, the drift MDP's closed forms and the DAgger loop (docs/guide/imitation.md)."""

import numpy as np
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from tabular_rl import TabularMDP, Trajectories, finite_horizon_values, rollout, state_distributions
from tabular_rl import strategies as trs
from tabular_rl.imitation import (
    behavior_cloning,
    behavior_cloning_bound,
    behavior_cloning_objective,
    dagger,
    drift_bc_cost,
    drift_bc_learner,
    drift_dagger_cost,
    drift_dagger_learner,
    drift_expert,
    drift_mdp,
    expert_distribution_error,
    expert_q_gap,
    learner_distribution_bound,
    learner_distribution_error,
    state_action_counts,
)

# --------------------------------------------------------------------------- behaviour cloning


def _toy():
    mdp = TabularMDP(np.full((3, 2, 3), 1 / 3), np.zeros(3), 1.0)
    tr = Trajectories(states=[[0, 0, 1, 0], [1, 0, 0, 2]], actions=[[1, 1, 0], [1, 0, 1]], rewards=np.zeros((2, 3)))
    return mdp, tr


def test_behavior_cloning_mle_counts_golden():
    """Catches counting the final state s_H or normalising over the wrong axis: state 0 has
    actions (1, 1, 0, 1) -> (1/4, 3/4), state 1 has (0, 1) -> (1/2, 1/2); state 2 appears only
    as a final state, so it is unvisited and gets the default action."""
    mdp, tr = _toy()
    np.testing.assert_array_equal(state_action_counts(mdp, tr), [[1, 3], [1, 1], [0, 0]])
    np.testing.assert_array_equal(behavior_cloning(mdp, tr), [[0.25, 0.75], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(behavior_cloning(mdp, tr, default_action=1)[2], [0.0, 1.0])
    np.testing.assert_array_equal(behavior_cloning(mdp, tr, default_action="uniform")[2], [0.5, 0.5])


def test_behavior_cloning_smoothing_formula():
    """Catches smoothing applied with the wrong denominator: (n(s,a) + alpha)/(n(s) + A alpha);
    unvisited states still follow default_action."""
    mdp, tr = _toy()
    pi = behavior_cloning(mdp, tr, smoothing=0.5)
    np.testing.assert_allclose(pi[0], [1.5 / 5, 3.5 / 5], rtol=1e-15)
    np.testing.assert_allclose(pi[1], [0.5, 0.5], rtol=1e-15)
    np.testing.assert_array_equal(pi[2], [1.0, 0.0])


def test_log_likelihood_golden_and_zero_probability():
    """Catches a mean instead of a sum, or a NaN where a demonstrated action is impossible."""
    mdp, tr = _toy()
    pi = behavior_cloning(mdp, tr)
    expected = np.log(0.25) + 3 * np.log(0.75) + 2 * np.log(0.5)
    assert behavior_cloning_objective(mdp, pi, tr) == pytest.approx(expected, rel=1e-14)
    assert behavior_cloning_objective(mdp, [[1.0, 0.0]] * 3, tr) == -np.inf
    # a time-varying policy is evaluated at the step of each pair
    tv = np.stack([np.full((3, 2), 0.5), pi, pi])
    assert behavior_cloning_objective(mdp, tv, tr) == pytest.approx(
        2 * np.log(0.5) + np.log(0.75) + np.log(0.25) + np.log(0.5) + np.log(0.75), rel=1e-14)


@settings(max_examples=40)
@given(trs.mdps(max_states=4, max_actions=3), st.integers(1, 5), st.integers(0, 2**32 - 1), st.data())
def test_behavior_cloning_maximises_the_log_likelihood(mdp, H, seed, data):
    """Catches a BC that is not the MLE: no other stationary policy has a higher log-likelihood
    on the demonstrations, and the maximum equals sum n(s,a) log(n(s,a)/n(s))."""
    S, A = mdp.shape
    demo = data.draw(trs.policies(S, A))
    tr = rollout(mdp, demo, 5, H, rng=np.random.default_rng(seed))
    pi = behavior_cloning(mdp, tr)
    best = behavior_cloning_objective(mdp, pi, tr)
    n = state_action_counts(mdp, tr)
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = np.sum(np.where(n > 0, n * np.log(n / n.sum(axis=1, keepdims=True)), 0.0))
    assert best == pytest.approx(closed, rel=1e-12, abs=1e-12)
    other = data.draw(trs.policies(S, A, deterministic=False))
    assert behavior_cloning_objective(mdp, other, tr) <= best + 1e-12 * (1 + abs(best))


# --------------------------------------------------------------------------- drift MDP


def test_drift_closed_forms_equal_exact_finite_horizon_values():
    """docs/guide/imitation.md#conventions: catches an off-by-one in the cost convention (costs of the states at
    t = 0..T-1), a cancellation-prone closed form, or wrong learners: J_BC = T - (1-(1-eps)^T)/eps
    and J_DAgger = (T-1) eps, against exact finite-horizon evaluation."""
    mdp = drift_mdp()
    for eps in (1e-6, 1e-4, 1e-3, 0.05, 0.5, 1.0):
        for T in (1, 2, 3, 10, 40, 80):
            J_bc = -finite_horizon_values(mdp, drift_bc_learner(eps), T).J
            J_dg = -finite_horizon_values(mdp, drift_dagger_learner(eps), T).J
            tol = 1e-10 * 2 * T
            assert J_bc == pytest.approx(drift_bc_cost(T, eps), abs=tol)
            assert J_dg == pytest.approx(drift_dagger_cost(T, eps), abs=tol)
            closed = T + np.expm1(T * np.log1p(-eps)) / eps if eps < 1 else T - 1.0
            assert drift_bc_cost(T, eps) == pytest.approx(closed, rel=1e-9, abs=1e-300)
    assert drift_bc_cost(5, 0.0) == 0.0 and drift_dagger_cost(0, 0.3) == 0.0


def test_drift_bounds_and_quadratic_versus_linear_growth():
    """docs/guide/imitation.md#the-drift-mdp assertions: J_BC <= T^2 eps (error on the expert's distribution),
    J_DAgger <= u T eps (error on its own), with the exact error rates and u = 1; and the growth
    ratios J_BC(2T)/J_BC(T) > 3.5 for eps <= 1e-3, T in 10..80 (eps T <= 0.1), and
    J_DAgger(2T)/J_DAgger(T) = (2T-1)/(T-1) exactly, which is < 2.1 only for T >= 12 (the claim
    "T in 10..80" is off at the low end: 19/9 = 2.11 at T = 10, exactly 2.1 at T = 11)."""
    mdp, expert = drift_mdp(), drift_expert()
    for eps in (1e-5, 1e-4, 1e-3):
        for T in (10, 11, 12, 20, 40, 80):
            bc, dg = drift_bc_learner(eps), drift_dagger_learner(eps)
            e_bc = expert_distribution_error(mdp, bc, expert, T)
            e_dg = learner_distribution_error(mdp, dg, expert, T)
            assert e_bc == pytest.approx(eps, rel=1e-12)
            u = expert_q_gap(mdp, expert, T)
            assert u == 1.0
            assert drift_bc_cost(T, eps) <= behavior_cloning_bound(T, e_bc)
            assert drift_dagger_cost(T, eps) <= learner_distribution_bound(T, e_dg, u) + 1e-15
            if eps * T <= 0.1:
                assert drift_bc_cost(2 * T, eps) / drift_bc_cost(T, eps) > 3.5
            ratio = drift_dagger_cost(2 * T, eps) / drift_dagger_cost(T, eps)
            assert ratio == pytest.approx((2 * T - 1) / (T - 1), rel=1e-14)
            if T >= 12:
                assert ratio < 2.1
    # the DAgger learner errs with probability eps in both states, so its own-distribution error is eps
    assert learner_distribution_error(mdp, drift_dagger_learner(0.2), expert, 7) == pytest.approx(0.2, rel=1e-14)


def test_nonrecoverable_drift_makes_u_grow_with_the_horizon():
    """Catches a u that ignores the remaining horizon: with b absorbing, u = T-1 and even
    DAgger's learner pays the quadratic J_BC (DAgger cannot help)."""
    mdp, expert = drift_mdp(recoverable=False), drift_expert()
    for T in (1, 5, 30):
        assert expert_q_gap(mdp, expert, T) == T - 1
        J = -finite_horizon_values(mdp, drift_dagger_learner(1e-3), T).J
        assert J == pytest.approx(drift_bc_cost(T, 1e-3), abs=1e-12 * T)


# --------------------------------------------------------------------------- random instances


@st.composite
def imitation_instances(draw):
    """Random finite-horizon MDP with costs in [0, 1] (rewards -C), a random deterministic
    time-dependent expert and a random stochastic (stationary or time-varying) learner."""
    mdp = draw(trs.mdps(max_states=5, max_actions=3, reward_range=(-1.0, 0.0),
                        gamma=st.one_of(st.just(1.0), trs.gammas(max_value=1.0))))
    S, A = mdp.shape
    H = draw(st.integers(1, 8))
    expert = np.stack([draw(trs.deterministic_policies(S, A)) for _ in range(H)])
    if draw(st.booleans()):
        learner = np.stack([draw(trs.policies(S, A)) for _ in range(H)])
    else:
        learner = draw(trs.policies(S, A))
    return mdp, expert, learner, H


@settings(max_examples=60)
@given(imitation_instances())
def test_fh_performance_difference_identity(case):
    """Catches the wrong visitation or Q in the FH-PDL (docs/guide/imitation.md#the-exact-identity-behind-the-linear-bound):
    J(pi*) - J(pi) = sum_t gamma^t E_{s~d^t_pi}[Q*_t(s, pi*_t(s)) - E_{a~pi_t} Q*_t(s, a)]."""
    mdp, expert, learner, H = case
    ev_e = finite_horizon_values(mdp, expert, H)
    ev_l = finite_horizon_values(mdp, learner, H)
    d = state_distributions(mdp, learner, H)
    pi_t = np.broadcast_to(learner, (H,) + mdp.shape)
    gap = np.einsum("tsa,tsa->ts", expert, ev_e.Q) - np.einsum("tsa,tsa->ts", pi_t, ev_e.Q)
    rhs = np.sum(mdp.gamma ** np.arange(H) * np.einsum("ts,ts->t", d, gap))
    assert ev_e.J - ev_l.J == pytest.approx(rhs, abs=1e-9 * 2 * H**2)


@settings(max_examples=60)
@given(imitation_instances())
def test_quadratic_and_linear_regret_bounds(case):
    """Catches swapping the distributions of the two bounds (docs/guide/imitation.md#pitfalls): regret <= T^2 eps with
    eps on the expert's distribution, and <= u T eps with eps on the learner's own distribution."""
    mdp, expert, learner, H = case
    regret = finite_horizon_values(mdp, expert, H).J - finite_horizon_values(mdp, learner, H).J
    e_exp = expert_distribution_error(mdp, learner, expert, H)
    e_own = learner_distribution_error(mdp, learner, expert, H)
    u = expert_q_gap(mdp, expert, H)
    quad = behavior_cloning_bound(H, e_exp)
    lin = learner_distribution_bound(H, e_own, u)
    tol = 1e-9 * 2 * H**2
    if quad > 0:
        target(regret / quad, label="T^2 eps")
    if lin > 0:
        target(regret / lin, label="u T eps")
    assert regret <= quad + tol
    assert regret <= lin + tol


# --------------------------------------------------------------------------- DAgger


def test_dagger_dataset_grows_and_first_iteration_is_pure_expert_data():
    """Catches a DAgger that does not aggregate or that mixes in the learner at beta_1 = 1:
    sizes grow by n_episodes*H, and the first batch is exactly the expert's own rollout."""
    rng_seed = 7
    S, A, H, n = 4, 3, 5, 6
    g = np.random.default_rng(0)
    mdp = TabularMDP(g.dirichlet(np.ones(S), size=(S, A)), -g.random((S, A)), 1.0)
    expert = np.eye(A)[g.integers(0, A, size=(H, S))]  # time-varying deterministic expert
    res = dagger(mdp, expert, H, n_iterations=3, n_episodes=n, rng=np.random.default_rng(rng_seed))
    np.testing.assert_array_equal(res.dataset_sizes, [0, n * H, 2 * n * H, 3 * n * H])
    assert res.policies.shape == (4, S, A) and res.returns.shape == (4,) and res.error_rates.shape == (4,)
    np.testing.assert_array_equal(res.betas, [1.0, 0.0, 0.0])
    first = rollout(mdp, expert, n, H, rng=np.random.default_rng(rng_seed))
    np.testing.assert_array_equal(res.dataset.states[:n], first.states)
    np.testing.assert_array_equal(res.dataset.actions[:n], first.actions)  # labels = executed actions
    # labels are always the expert's action at the step it was visited
    s = res.dataset.states[:, :H]
    np.testing.assert_array_equal(res.dataset.actions, np.argmax(expert, axis=2)[np.arange(H), s])
    # exact diagnostics are those of the returned iterates
    for p, J, e in zip(res.policies, res.returns, res.error_rates):
        assert J == finite_horizon_values(mdp, p, H).J
        assert e == pytest.approx(learner_distribution_error(mdp, p, expert, H), abs=1e-15)
    assert res.expert_return == finite_horizon_values(mdp, expert, H).J
    assert 1 <= res.best_index <= 3 and res.returns[res.best_index] == res.returns[1:].max()


def test_dagger_reaches_the_expert_cost_on_the_drift_mdp():
    """Catches a DAgger whose classifier ignores the aggregate: seeded on the drift MDP the
    learner reaches the expert's cost 0 with zero error on its own distribution."""
    res = dagger(drift_mdp(), drift_expert(), 20, n_iterations=3, n_episodes=5, rng=np.random.default_rng(1),
                 pi_hat0=np.full((2, 2), 0.5))
    assert res.returns[0] < -1.0  # the uniform start drifts
    assert res.returns[-1] == res.expert_return == 0.0
    assert res.error_rates[-1] == 0.0


def test_dagger_with_injected_errors_reproduces_bc_then_dagger_law():
    """docs/guide/imitation.md#dagger (suggested loop): a classifier that copies the labels at visited states,
    errs with rate eps there and plays action 0 at unvisited states. Iteration 1 (pure expert data,
    only g seen) gives the BC learner, cost J_BC(T); once b has been visited the learner has error
    eps in both states and cost J_DAgger(T) = (T-1) eps."""
    eps, T = 0.05, 30

    def noisy(mdp, data):
        clean = behavior_cloning(mdp, data, default_action=0)
        seen = state_action_counts(mdp, data).sum(axis=1) > 0
        return np.where(seen[:, None], (1 - eps) * clean + eps * (1 - clean), clean)

    res = dagger(drift_mdp(), drift_expert(), T, n_iterations=3, n_episodes=20, rng=np.random.default_rng(2),
                 classifier=noisy)
    np.testing.assert_allclose(res.policies[1], drift_bc_learner(eps))
    assert -res.returns[1] == pytest.approx(drift_bc_cost(T, eps), abs=1e-12 * T)
    np.testing.assert_allclose(res.policies[2], drift_dagger_learner(eps))
    assert -res.returns[2] == pytest.approx(drift_dagger_cost(T, eps), abs=1e-12 * T)
    assert res.error_rates[2] == pytest.approx(eps, rel=1e-12)


def test_dagger_beta_schedules():
    """Catches a schedule indexed from 0 instead of 1, or a sequence not used as given."""
    mdp, expert = drift_mdp(), drift_expert()
    res = dagger(mdp, expert, 4, n_iterations=3, n_episodes=1, rng=np.random.default_rng(0), beta=lambda i: 0.5**(i - 1))
    np.testing.assert_array_equal(res.betas, [1.0, 0.5, 0.25])
    res = dagger(mdp, expert, 4, n_iterations=2, n_episodes=1, rng=np.random.default_rng(0), beta=[0.0, 0.3])
    np.testing.assert_array_equal(res.betas, [0.0, 0.3])


def test_error_messages():
    """Every input check names the argument, the expectation and what was found."""
    mdp, expert = drift_mdp(), drift_expert()
    rng = np.random.default_rng(0)
    _, tr = _toy()
    with pytest.raises(ValueError, match=r"expert must be deterministic \(one-hot rows\), got expert\[0, :\]"):
        dagger(mdp, np.full((2, 2), 0.5), 3, n_iterations=1, n_episodes=1, rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        dagger(mdp, expert, 3, n_iterations=1, n_episodes=1, rng=0)
    with pytest.raises(ValueError, match="n_iterations == 0, must be >= 1"):
        dagger(mdp, expert, 3, n_iterations=0, n_episodes=1, rng=rng)
    with pytest.raises(ValueError, match=r"beta must have shape \(2,\) \(one beta_i per iteration\), got \(1,\)"):
        dagger(mdp, expert, 3, n_iterations=2, n_episodes=1, rng=rng, beta=[1.0])
    with pytest.raises(ValueError, match=r"beta\(2\) == 2, must be in \[0, 1\]"):
        dagger(mdp, expert, 3, n_iterations=2, n_episodes=1, rng=rng, beta=lambda i: float(i))
    with pytest.raises(TypeError, match="classifier must be callable"):
        dagger(mdp, expert, 3, n_iterations=1, n_episodes=1, rng=rng, classifier=3)
    with pytest.raises(ValueError, match=r"classifier output must have shape \(2, 2\)"):
        dagger(mdp, expert, 3, n_iterations=1, n_episodes=1, rng=rng, classifier=lambda m, d: np.ones(2))
    with pytest.raises(ValueError, match=r"expert must have shape \(3, 2, 2\)"):
        dagger(mdp, np.stack([expert] * 2), 3, n_iterations=1, n_episodes=1, rng=rng)
    toy = TabularMDP(np.full((3, 2, 3), 1 / 3), np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="default_action == 2, must be <= 1"):
        behavior_cloning(toy, tr, default_action=2)
    with pytest.raises(ValueError, match="default_action must be an action index or 'uniform', got 'first'"):
        behavior_cloning(toy, tr, default_action="first")
    with pytest.raises(ValueError, match="smoothing == -1, must be in"):
        behavior_cloning(toy, tr, smoothing=-1.0)
    with pytest.raises(TypeError, match=r"trajectories must be a tabular_rl.Trajectories \(e.g. from rollout\), got tuple"):
        behavior_cloning(toy, (tr.states, tr.actions))
    with pytest.raises(ValueError, match=r"trajectories.states must lie in \[0, 1\], got 2"):
        behavior_cloning(mdp, tr)
    with pytest.raises(ValueError, match=r"learner must have shape \(2, 2\)"):
        expert_distribution_error(mdp, np.ones((3, 2)) / 2, expert, 3)
    with pytest.raises(ValueError, match="horizon == 0, must be >= 1"):
        expert_q_gap(mdp, expert, 0)
    with pytest.raises(ValueError, match=r"epsilon == 1.5, must be in \[0, 1\]"):
        behavior_cloning_bound(3, 1.5)
    with pytest.raises(ValueError, match="u == -1, must be in"):
        learner_distribution_bound(3, 0.1, -1.0)
    with pytest.raises(ValueError, match=r"epsilon == -0.1, must be in \[0, 1\]"):
        drift_bc_cost(3, -0.1)
    with pytest.raises(TypeError, match="recoverable must be a bool, got str"):
        drift_mdp(recoverable="yes")
