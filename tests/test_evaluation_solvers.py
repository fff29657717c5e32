"""The solvers of policy evaluation: LU (direct) and BiCGSTAB (certified) give the same V.

The certificate is the bound ||V - V^pi||_inf <= ||(I - gamma P_pi)^{-1}||_inf ||r_pi + gamma P_pi V - V||_inf,
which holds for any V; the tests check it against the LU solution (whose own error is at most its
certificate), so no tolerance here is picked: each is the sum of the two solvers' reported bounds.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import tabular_rl as trl
from tabular_rl import evaluation
from tabular_rl import strategies as trs
from tabular_rl.gridworld import open_grid


def _roundoff(mdp, pi, V):
    """Round-off of one evaluation of r_pi + gamma P_pi V - V: (S + 2) u (|r_pi| + (1 + gamma)|V|),
    S bounding the terms of a row (Higham 2002, section 3.5); two evaluations differ by twice it."""
    u = np.finfo(float).eps / 2
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    one = (mdp.n_states + 2) * u * (np.max(np.abs(r_pi)) + (1 + mdp.gamma) * np.max(np.abs(V)))
    return 2 * one + 4 * u * np.max(np.abs(mdp.R))      # plus r_pi's own rounding in each


def _both(mdp, pi, **kw):
    V_lu, c_lu = trl.policy_evaluation(mdp, pi, solver="lu", return_certificate=True)
    V_kr, c_kr = trl.policy_evaluation(mdp, pi, solver="krylov", return_certificate=True, **kw)
    return V_lu, c_lu, V_kr, c_kr


@given(trs.mdp_policy_pairs(max_states=8, gamma=trs.gammas(max_value=0.999)))
def test_krylov_agrees_with_lu_within_both_certificates(pair):
    # Catches: a Krylov result returned without the true residual check (the recurrence's residual
    # drifts), a certificate missing the 1/(1 - gamma) factor, or a transposed apply.
    mdp, pi = pair
    V_lu, c_lu, V_kr, c_kr = _both(mdp, pi)
    assert c_kr.solver == "krylov" and c_lu.solver == "lu"
    assert c_kr.certified and c_lu.certified
    assert np.max(np.abs(V_kr - V_lu)) <= c_kr.error_bound + c_lu.error_bound
    # The certificate's residual is the one recomputed from V, not the solver's claim: it equals
    # bellman_residual's up to the round-off of the two evaluation orders.
    assert abs(c_kr.residual - trl.bellman_residual(mdp, pi, V_kr)) <= _roundoff(mdp, pi, V_kr)


@given(trs.mdp_policy_pairs(max_states=8))
def test_lu_certificate_is_built_from_the_policys_own_system(pair):
    # Catches: a certificate computed from the wrong system (r instead of r_pi, P instead of P_pi),
    # a bound without the 1/(1 - gamma) factor, or a scale not from r_pi. (That the bound bounds
    # the error is checked against the Krylov solution above and at gamma = 1 below.)
    mdp, pi = pair
    V, c = trl.policy_evaluation(mdp, pi, return_certificate=True)
    assert abs(c.residual - trl.bellman_residual(mdp, pi, V)) <= _roundoff(mdp, pi, V)
    # error_bound = (residual + its round-off) / (1 - gamma), the round-off at most _roundoff's.
    assert c.residual / (1.0 - mdp.gamma) <= c.error_bound <= (c.residual + _roundoff(mdp, pi, V)) / (1.0 - mdp.gamma)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    assert c.scale == pytest.approx(np.max(np.abs(r_pi)) / (1.0 - mdp.gamma), rel=1e-12, abs=1e-300)
    assert c.n_iterations == 0


@settings(max_examples=50)
@given(st.data())
def test_krylov_at_gamma_one_agrees_with_lu(data):
    # Catches: a Krylov solve of the full system at gamma = 1 (singular), or a norm bound below the
    # longest expected time to termination (the certificate would then not bound the error).
    mdp = data.draw(trs.episodic_mdps(max_states=7))
    pi = data.draw(trs.proper_policies(mdp))
    V_lu, c_lu, V_kr, c_kr = _both(mdp, pi)
    assert c_kr.certified
    assert np.all(V_kr[mdp.terminal] == 0.0)
    assert np.max(np.abs(V_kr - V_lu)) <= c_kr.error_bound + c_lu.error_bound
    # ||(I - P_TT)^{-1}||_inf is the longest expected time to termination, computed here by LU.
    steps = trl.policy_evaluation(mdp.with_(R=np.where(mdp.terminal[:, None], 0.0, 1.0) * np.ones(mdp.shape)), pi)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    if np.max(np.abs(r_pi)) > 0:
        assert c_kr.scale >= np.max(np.abs(r_pi)) * np.max(steps) * (1 - 1e-9)


@given(trs.mdp_policy_pairs(max_states=6, gamma=trs.gammas(max_value=0.99)))
def test_evaluate_with_krylov_matches_lu(pair):
    # Catches: the visitation (a transposed solve) run on the untransposed system by the Krylov path.
    mdp, pi = pair
    lu = trl.evaluate(mdp, pi, solver="lu")
    kr = trl.evaluate(mdp, pi, solver="krylov")
    bound = kr.certificate.error_bound + lu.certificate.error_bound
    assert np.max(np.abs(kr.V - lu.V)) <= bound
    # d = (1 - gamma) mu^T (I - gamma P_pi)^{-1}: its Krylov solve is certified to tol * ||mu||_inf in
    # residual, so ||d_kr - d_lu||_1 <= (1 - gamma) * S * tol / (1 - gamma) plus LU's round-off.
    assert np.sum(np.abs(kr.d - lu.d)) <= mdp.n_states * 1e-10 * np.max(mdp.mu) + 1e-12


@given(trs.mdp_policy_pairs(max_states=6, sparse=False))
def test_dense_and_sparse_lu_agree(pair):
    # Catches: a sparse path that differs from the dense one (ordering, pivoting, the transient block).
    mdp, pi = pair
    S, A = mdp.shape
    sparse = trl.TabularMDP(sp.csr_matrix(mdp.P.reshape(S * A, S)), mdp.R, mdp.gamma, mu=mdp.mu)
    V_d, c_d = trl.policy_evaluation(mdp, pi, return_certificate=True)
    V_s, c_s = trl.policy_evaluation(sparse, pi, return_certificate=True)
    assert np.max(np.abs(V_d - V_s)) <= max(1e-12 * c_d.scale, c_d.error_bound + c_s.error_bound)


def test_auto_switches_to_krylov_above_the_threshold(monkeypatch):
    # Catches: "auto" ignoring KRYLOV_MIN_STATES, or using Krylov on dense transitions.
    mdp = open_grid(6, slip=0.2, gamma=0.9)
    pi = trl.uniform(36, 4)
    assert trl.policy_evaluation(mdp, pi, return_certificate=True)[1].solver == "lu"
    monkeypatch.setattr(evaluation, "KRYLOV_MIN_STATES", 36)
    assert trl.policy_evaluation(mdp, pi, return_certificate=True)[1].solver == "krylov"
    dense = open_grid(6, slip=0.2, gamma=0.9, sparse=False)
    assert trl.policy_evaluation(dense, pi, return_certificate=True)[1].solver == "lu"
    assert trl.evaluate(mdp, pi).certificate.solver == "krylov"


def test_krylov_warns_naming_the_settings_when_capped():
    # Catches: a Krylov result returned silently when the cap stopped it short of the tolerance.
    mdp = open_grid(12, slip=0.2, gamma=0.99)
    pi = trl.softmax(np.random.default_rng(0).normal(size=mdp.shape))
    with pytest.warns(RuntimeWarning, match="max_iter=2 .*raise max_iter, loosen tol, or use solver='lu'"):
        V, c = trl.policy_evaluation(mdp, pi, solver="krylov", max_iter=2, return_certificate=True)
    assert not c.certified and c.n_iterations == 2
    # The bound still holds for the uncertified V (it holds for any V).
    assert np.max(np.abs(V - trl.policy_evaluation(mdp, pi))) <= c.error_bound
    # A looser tolerance is reached in fewer iterations, without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, loose = trl.policy_evaluation(mdp, pi, solver="krylov", tol=1e-4, return_certificate=True)
    _, tight = trl.policy_evaluation(mdp, pi, solver="krylov", return_certificate=True)
    assert loose.certified and tight.certified and loose.n_iterations < tight.n_iterations


def test_tolerance_is_met_on_a_large_grid():
    # Catches: a stopping test on the 2-norm relative residual, which on 10^4 states lets the
    # max-norm error exceed the certificate's promise by sqrt(S).
    mdp = open_grid(100, slip=0.2, gamma=0.99)
    pi = trl.softmax(np.random.default_rng(1).normal(size=mdp.shape))
    V, c = trl.policy_evaluation(mdp, pi, solver="krylov", tol=1e-8, return_certificate=True)
    assert c.certified and c.error_bound <= 1e-8 * c.scale
    assert np.max(np.abs(V - trl.policy_evaluation(mdp, pi, solver="lu"))) <= c.error_bound + 1e-12


@pytest.mark.parametrize("kwargs, match", [
    (dict(solver="cg"), r"solver must be one of \('auto', 'lu', 'krylov'\), got 'cg'"),
    (dict(solver=None), "solver must be one of"),
    (dict(tol=0.0), "tol"),
    (dict(tol=1.0), "tol"),
    (dict(tol=float("nan")), "tol"),
    (dict(max_iter=0), "max_iter"),
])
def test_bad_solver_settings_are_named(kwargs, match):
    # Catches: an unknown solver silently falling back to LU, or a tol of 0 looping to the cap.
    mdp = open_grid(3, gamma=0.9)
    with pytest.raises((ValueError, TypeError), match=match):
        trl.policy_evaluation(mdp, trl.uniform(9, 4), **kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        trl.evaluate(mdp, trl.uniform(9, 4), **kwargs)


def test_bicgstab_on_a_known_system():
    # Golden value: (I - 0.5 P) x = b for the 2-cycle P = [[0, 1], [1, 0]], b = (1, 0): x = (4/3, 2/3).
    P = np.array([[0.0, 1.0], [1.0, 0.0]])
    x, res, it = evaluation._bicgstab(lambda v: v - 0.5 * (P @ v), np.array([1.0, 0.0]), 1e-14, 50)
    np.testing.assert_allclose(x, [4 / 3, 2 / 3], rtol=0, atol=1e-14)
    assert res <= 1e-14 and 1 <= it <= 2


def test_ill_conditioned_lu_reports_its_bound_without_warning():
    # Catches: a direct solve that warns about a tolerance it cannot act on (every grader's
    # long-episode task would warn), or a certificate that claims more than round-off allows.
    # State 0 ends the episode with probability 1e-6 a step, paying -1 a step: V = -1e6, and the
    # residual's round-off (~1e-10) times the expected time (1e6) exceeds tol * ||V||.
    P = np.zeros((2, 1, 2))
    P[0, 0] = [1 - 1e-6, 1e-6]
    P[1, 0, 1] = 1.0
    mdp = trl.TabularMDP(P, R=[-1.0, 0.0], gamma=1.0, terminal=[1])
    pi = np.ones((2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        V, c = trl.policy_evaluation(mdp, pi, return_certificate=True)
    assert not c.certified and c.error_bound > 1e-10 * c.scale
    assert abs(V[0] - (-1e6)) <= c.error_bound
    assert c.scale == pytest.approx(1e6, rel=1e-6)
    with pytest.warns(RuntimeWarning, match="krylov solution's error bound .* loosen tol or use solver='lu'"):
        V_kr, c_kr = trl.policy_evaluation(mdp, pi, solver="krylov", return_certificate=True)
    assert abs(V_kr[0] - (-1e6)) <= c_kr.error_bound
