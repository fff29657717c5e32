"""Tests for tabular_rl.importance_sampling (docs/guide/importance_sampling.md).

Exact checks enumerate every trajectory of a small dense or sparse MDP
(``enumerate_trajectories``) and compare against the finite-horizon DP
(``finite_horizon_values``): ordinary and per-decision IS are unbiased, E_b[W] = 1,
the variance identity, WIS with one episode has expectation J(behavior) and with two
is still biased, and the bandit second moment (1 + chi^2)^H.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabular_rl import TabularMDP, Trajectories, enumerate_trajectories, finite_horizon_values, rollout
from tabular_rl import strategies as trs
from tabular_rl.importance_sampling import (
    cumulative_ratios,
    ordinary_importance_sampling,
    ordinary_importance_sampling_samples,
    per_decision_importance_sampling,
    per_decision_importance_sampling_samples,
    per_step_ratios,
    trajectory_weights,
    weighted_importance_sampling,
)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@st.composite
def problems(draw, *, max_H=3, time_varying=None, target_support="any"):
    """(mdp, target, behavior, H): behavior has full support; target any policy (or full support)."""
    mdp = draw(trs.mdps(max_states=3, max_actions=2, gamma=trs.gammas(max_value=1.0)))
    S, A = mdp.shape
    H = draw(st.integers(0, max_H))
    tv = draw(st.booleans()) if time_varying is None else time_varying
    lead = (H,) if tv else ()
    behavior = _softmax(draw(trs.logits(lead + (S, A), bound=2.0)))
    if target_support == "full":
        target = _softmax(draw(trs.logits(lead + (S, A), bound=2.0)))
    elif tv:
        target = np.stack([draw(trs.policies(S, A)) for _ in range(H)]) if H else np.zeros((0, S, A))
    else:
        target = draw(trs.policies(S, A))
    return mdp, target, behavior, H


def _scale(mdp, H):
    return (1 + np.max(np.abs(mdp.R))) * max(H, 1)


@settings(max_examples=40)
@given(problems())
def test_ordinary_and_per_decision_is_are_unbiased_and_weights_have_mean_one(problem):
    """Sum_tau p_b(tau) W G = J_H(target) (DP), the same for PDIS, and E_b[W] = 1. Catches a ratio inverted
    (b/e), a cumulative product off by one step, or a missing gamma^t."""
    mdp, target, behavior, H = problem
    tr, p = enumerate_trajectories(mdp, behavior, H)
    J_e = finite_horizon_values(mdp, target, H).J
    atol = 1e-10 * _scale(mdp, H)
    assert p @ ordinary_importance_sampling_samples(tr, target, behavior, mdp.gamma) == pytest.approx(J_e, abs=atol)
    assert p @ per_decision_importance_sampling_samples(tr, target, behavior, mdp.gamma) == pytest.approx(J_e, abs=atol)
    assert p @ trajectory_weights(tr, target, behavior) == pytest.approx(1.0, abs=1e-10)
    # Each cumulative ratio is a likelihood ratio too: E_b[c_t] = 1 for every t.
    if H:
        np.testing.assert_allclose(p @ cumulative_ratios(tr, target, behavior), np.ones(H), rtol=0, atol=1e-10)


@settings(max_examples=40)
@given(problems())
def test_variance_identity_under_behavior_and_target(problem):
    """Var_b(W G) = E_b[W^2 G^2] - J^2 = E_e[W G^2] - J^2 (the lecture's IS variance slide), and
    E_b[W^2] = E_e[W]. Catches a second moment taken under the wrong distribution."""
    mdp, target, behavior, H = problem
    tr_b, p_b = enumerate_trajectories(mdp, behavior, H)
    tr_e, p_e = enumerate_trajectories(mdp, target, H)
    J_e = finite_horizon_values(mdp, target, H).J
    WG_b = ordinary_importance_sampling_samples(tr_b, target, behavior, mdp.gamma)
    var_b = p_b @ WG_b**2 - (p_b @ WG_b) ** 2
    W_e = trajectory_weights(tr_e, target, behavior)
    G_e = tr_e.rewards @ mdp.gamma ** np.arange(H)
    var_e = p_e @ (W_e * G_e**2) - J_e**2
    big = 1 + p_b @ WG_b**2
    assert var_b == pytest.approx(var_e, abs=1e-10 * big)
    W_b = trajectory_weights(tr_b, target, behavior)
    assert p_b @ W_b**2 == pytest.approx(p_e @ W_e, rel=1e-10)


@settings(max_examples=30)
@given(problems(target_support="full"))
def test_weighted_is_with_one_episode_has_expectation_of_the_behavior_return(problem):
    """With N = 1, WIS returns G whatever the weight, so E_b[WIS] = J_H(behavior): WIS is biased.
    Catches a WIS that normalises by N instead of by sum W."""
    mdp, target, behavior, H = problem
    tr, p = enumerate_trajectories(mdp, behavior, H)
    J_b = finite_horizon_values(mdp, behavior, H).J
    est = [
        weighted_importance_sampling(Trajectories(tr.states[i:i + 1], tr.actions[i:i + 1], tr.rewards[i:i + 1]),
                                     target, behavior, mdp.gamma)
        for i in range(tr.n_episodes)
    ]
    assert p @ np.array(est) == pytest.approx(J_b, abs=1e-10 * _scale(mdp, H))


def _two_state_instance():
    P = np.zeros((2, 2, 2))
    P[:, 0, 0], P[:, 1, 1] = 0.8, 0.7
    P[:, 0, 1], P[:, 1, 0] = 0.2, 0.3
    R = np.array([[1.0, 0.0], [0.3, -0.5]])
    mdp = TabularMDP(P, R, gamma=0.9, mu=[0.6, 0.4])
    target = np.array([[0.8, 0.2], [0.3, 0.7]])
    behavior = np.array([[0.4, 0.6], [0.6, 0.4]])
    return mdp, target, behavior


def test_weighted_is_with_two_episodes_is_biased_but_ordinary_is_not():
    """NEGATIVE (seeded instance): by enumerating all pairs, E_b[WIS_2] != J(target) while E_b[IS_2] = J(target).
    Guards against claiming WIS unbiased."""
    mdp, target, behavior = _two_state_instance()
    H = 2
    tr, p = enumerate_trajectories(mdp, behavior, H)
    J_e = finite_horizon_values(mdp, target, H).J
    e_wis = e_is = 0.0
    for i, j in itertools.product(range(tr.n_episodes), repeat=2):
        pair = Trajectories(tr.states[[i, j]], tr.actions[[i, j]], tr.rewards[[i, j]])
        e_wis += p[i] * p[j] * weighted_importance_sampling(pair, target, behavior, mdp.gamma)
        e_is += p[i] * p[j] * ordinary_importance_sampling(pair, target, behavior, mdp.gamma)
    assert e_is == pytest.approx(J_e, abs=1e-12)
    assert abs(e_wis - J_e) > 1e-2


@pytest.mark.parametrize("sparse", [False, True])
def test_monte_carlo_estimates_are_within_clt_tolerance(sparse):
    """Seeded statistical test: with N = 20000 behavior episodes, IS and PDIS lie within 5 standard errors of
    J(target) and WIS within 0.05 (consistency). Catches estimators that are unbiased only on enumerated data."""
    import scipy.sparse as sp

    mdp, target, behavior = _two_state_instance()
    if sparse:
        mdp = TabularMDP(sp.csr_matrix(mdp.todense().reshape(4, 2)), mdp.R, mdp.gamma, mu=mdp.mu)
    H, N = 4, 20_000
    tr = rollout(mdp, behavior, N, H, rng=np.random.default_rng(12345))
    J_e = finite_horizon_values(mdp, target, H).J
    for samples in (ordinary_importance_sampling_samples, per_decision_importance_sampling_samples):
        x = samples(tr, target, behavior, mdp.gamma)
        assert abs(x.mean() - J_e) <= 5 * x.std(ddof=1) / np.sqrt(N)
    assert abs(weighted_importance_sampling(tr, target, behavior, mdp.gamma) - J_e) < 0.05
    assert per_decision_importance_sampling(tr, target, behavior, mdp.gamma) == pytest.approx(
        per_decision_importance_sampling_samples(tr, target, behavior, mdp.gamma).mean())


@given(A=st.integers(1, 4), H=st.integers(0, 4), data=st.data())
def test_bandit_second_moment_is_one_plus_chi_square_to_the_H(A, H, data):
    """E_b[W^2] = (1 + chi^2(e || b))^H for i.i.d. steps: the exploding product of the off-policy lecture.
    Catches ratios that are not multiplied across steps."""
    e = data.draw(trs.distributions(A))
    b = _softmax(data.draw(trs.logits((A,), bound=2.0)))
    mdp = TabularMDP(np.ones((1, A, 1)), np.zeros((1, A)), gamma=0.9)
    tr, p = enumerate_trajectories(mdp, b[None], H)
    W = trajectory_weights(tr, e[None], b[None])
    chi2 = np.sum(e**2 / b) - 1
    assert p @ W**2 == pytest.approx((1 + chi2) ** H, rel=1e-11)


@given(problems(max_H=4))
def test_weighted_is_lies_between_the_smallest_and_largest_return(problem):
    """WIS is a convex combination of the returns. Catches a WIS normalised by N or by the wrong weights."""
    mdp, target, behavior, H = problem
    tr = rollout(mdp, behavior, 5, H, rng=np.random.default_rng(0))
    G = tr.rewards @ mdp.gamma ** np.arange(H)
    est = weighted_importance_sampling(tr, target, behavior, mdp.gamma)
    W = trajectory_weights(tr, target, behavior)
    if W.sum() == 0:
        assert est == 0.0
    else:
        assert G.min() - 1e-12 <= est <= G.max() + 1e-12


def test_golden_ratios_by_hand():
    """rho = (0.9/0.5, 0.1/0.5) = (1.8, 0.2); c = (1.8, 0.36); W = 0.36; with gamma = 0.5, G = 1.5."""
    tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 1.0]])
    e, b = [[0.9, 0.1]], [[0.5, 0.5]]
    np.testing.assert_allclose(per_step_ratios(tr, e, b), [[1.8, 0.2]], rtol=1e-15)
    np.testing.assert_allclose(cumulative_ratios(tr, e, b), [[1.8, 0.36]], rtol=1e-15)
    assert ordinary_importance_sampling(tr, e, b, 0.5) == pytest.approx(0.36 * 1.5, rel=1e-15)
    assert per_decision_importance_sampling(tr, e, b, 0.5) == pytest.approx(1.8 + 0.5 * 0.36, rel=1e-15)
    assert weighted_importance_sampling(tr, e, b, 0.5) == pytest.approx(1.5, rel=1e-15)
    tv = np.array([[[0.9, 0.1]], [[0.0, 1.0]]])  # time-varying target
    np.testing.assert_allclose(per_step_ratios(tr, tv, b), [[1.8, 2.0]], rtol=1e-15)


# ----------------------------------------------------------------------------- errors


def test_uncovered_action_raises_naming_state_and_action():
    tr = Trajectories(states=[[1, 0]], actions=[[0]], rewards=[[1.0]])
    target = [[1.0, 0.0], [0.3, 0.7]]
    behavior = [[1.0, 0.0], [0.5, 0.5]]
    ok = per_step_ratios(tr, target, behavior)
    assert ok.shape == (1, 1)
    with pytest.raises(ValueError, match=r"behavior gives zero probability to action 1 in state 0, which target takes"):
        per_step_ratios(tr, [[0.5, 0.5], [0.3, 0.7]], behavior)
    with pytest.raises(ValueError, match=r"action 1 in state 0 at step 0"):
        ordinary_importance_sampling(tr, [[[0.5, 0.5], [0.3, 0.7]]], behavior, 0.9)


def test_episode_with_an_action_behavior_cannot_take_raises():
    tr = Trajectories(states=[[0, 0]], actions=[[1]], rewards=[[1.0]])
    with pytest.raises(ValueError, match=r"episode 0 takes action 1 in state 0 at step 0, which behavior gives probability 0"):
        weighted_importance_sampling(tr, [[1.0, 0.0]], [[1.0, 0.0]], 0.9)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (("not trajectories", [[1.0]], [[1.0]], 0.9), TypeError, "trajectories must be a tabular_rl.Trajectories"),
        ((None, [1.0], [[1.0]], 0.9), ValueError, r"target must have shape \(S, A\) or \(1, S, A\)"),
        ((None, [[1.0]], [[0.5, 0.5]], 0.9), ValueError, r"behavior must have shape \(1, 1\)"),
        ((None, [[0.5]], [[1.0]], 0.9), ValueError, r"target\[0, :\] sums to"),
        ((None, [[1.0]], [[1.0]], 1.5), ValueError, r"gamma == 1.5, must be in \[0, 1\]"),
        ((None, np.ones((2, 1, 1)), [[1.0]], 0.9), ValueError, r"target must have shape \(1, 1, 1\)"),
    ],
)
def test_input_errors_name_the_argument(args, exc, match):
    tr = Trajectories(states=[[0, 0]], actions=[[0]], rewards=[[1.0]])
    args = (tr if args[0] is None else args[0],) + args[1:]
    with pytest.raises(exc, match=match):
        ordinary_importance_sampling(*args)


def test_out_of_range_state_is_rejected():
    tr = Trajectories(states=[[3, 0]], actions=[[0]], rewards=[[1.0]])
    with pytest.raises(ValueError, match=r"trajectories.states must lie in \[0, 1\], got 3"):
        per_decision_importance_sampling(tr, [[1.0], [1.0]], [[1.0], [1.0]], 0.9)
