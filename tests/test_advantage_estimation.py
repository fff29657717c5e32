"""Tests for tabular_rl.advantage_estimation: TD errors, n-step estimators, GAE and lambda-returns.

Identities from docs/guide/gae.md: the backward recursion against the explicit
sum and the boundary-weighted average of k-step estimators, the lambda = 0 / 1 cases,
the lambda-return recursion, terminations as episode splits, the batch axis, the
(1 - gamma) slide typo as a negative test, and E[GAE | s0, a0] = A^pi(s0, a0) by exact
enumeration on small dense and sparse MDPs.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabular_rl import enumerate_trajectories, evaluate, finite_horizon_values
from tabular_rl import strategies as trs
from tabular_rl.advantage_estimation import gae, lambda_returns, n_step_advantages, n_step_returns, td_errors

FLOATS = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False)
unit = st.floats(0.0, 1.0, **FLOATS)


@st.composite
def segments(draw, *, batch=False, max_T=12, terminations=True):
    """(rewards, values, terminated) for one segment, or a batch of them."""
    T = draw(st.integers(1, max_T))
    lead = (draw(st.integers(1, 4)),) if batch else ()
    r = draw(hnp.arrays(np.float64, lead + (T,), elements=st.floats(-1, 1, **FLOATS)))
    v = draw(hnp.arrays(np.float64, lead + (T + 1,), elements=st.floats(-10, 10, **FLOATS)))
    term = draw(hnp.arrays(np.bool_, lead + (T,))) if terminations else np.zeros(lead + (T,), bool)
    return r, v, term


def tol(r, v, T):
    return 1e-12 * (1 + np.max(np.abs(r), initial=0) + np.max(np.abs(v), initial=0)) * (T + 1)


def explicit_gae(r, v, gamma, lam):
    """sum_{l=0}^{T-t-1} (gamma lambda)^l delta_{t+l}, written out (no terminations)."""
    T = len(r)
    delta = [r[t] + gamma * v[t + 1] - v[t] for t in range(T)]
    return np.array([sum((gamma * lam) ** l * delta[t + l] for l in range(T - t)) for t in range(T)])


def explicit_k_step(r, v, gamma, t, k):
    """-V(s_t) + sum_{l<k} gamma^l r_{t+l} + gamma^k V(s_{t+k}) (no terminations, k <= T - t)."""
    return -v[t] + sum(gamma**l * r[t + l] for l in range(k)) + gamma**k * v[t + k]


def weighted_k_step_average(r, v, gamma, lam, t, *, normaliser=None):
    """(1-lambda) sum_{k<n} lambda^{k-1} A^(k) + lambda^{n-1} A^(n), n = T - t (0^0 = 1)."""
    n = len(r) - t
    c = (1 - lam) if normaliser is None else normaliser
    head = sum(c * lam ** (k - 1) * explicit_k_step(r, v, gamma, t, k) for k in range(1, n))
    return head + (lam ** (n - 1) if n > 1 else 1.0) * explicit_k_step(r, v, gamma, t, n)


@given(seg=segments(terminations=False), gamma=unit, lam=unit)
def test_gae_recursion_equals_explicit_sum_and_weighted_k_step_average(seg, gamma, lam):
    """Catches a wrong decay (gamma instead of gamma*lambda), an off-by-one at the boundary, or the tail
    estimator given (1-lambda) lambda^(n-1) instead of lambda^(n-1)."""
    r, v, _ = seg
    T = len(r)
    adv = gae(r, v, gamma, lam)
    np.testing.assert_allclose(adv, explicit_gae(r, v, gamma, lam), rtol=0, atol=tol(r, v, T))
    avg = np.array([weighted_k_step_average(r, v, gamma, lam, t) for t in range(T)])
    np.testing.assert_allclose(adv, avg, rtol=0, atol=tol(r, v, T))


@given(seg=segments(terminations=False), gamma=unit, data=st.data())
def test_n_step_advantages_match_both_closed_forms(seg, gamma, data):
    """Catches a wrong bootstrap exponent gamma^k or a wrong boundary rule (fewer than n steps left)."""
    r, v, _ = seg
    T = len(r)
    n = data.draw(st.integers(1, T + 3))
    got = n_step_advantages(r, v, gamma, n)
    delta = td_errors(r, v, gamma)
    for t in range(T):
        k = min(n, T - t)
        assert got[t] == pytest.approx(explicit_k_step(r, v, gamma, t, k), abs=tol(r, v, T))
        assert got[t] == pytest.approx(sum(gamma**l * delta[t + l] for l in range(k)), abs=tol(r, v, T))
    np.testing.assert_allclose(n_step_returns(r, v, gamma, n), got + v[:-1], rtol=0, atol=tol(r, v, T))


@given(seg=segments(), gamma=unit)
def test_lambda_zero_is_td_error_and_lambda_one_is_return_minus_value(seg, gamma):
    """Catches a lambda used as (1-lambda), or lambda = 1 not reducing to the (bootstrapped) MC advantage."""
    r, v, term = seg
    T = len(r)
    np.testing.assert_allclose(gae(r, v, gamma, 0.0, terminated=term), td_errors(r, v, gamma, terminated=term),
                               rtol=0, atol=tol(r, v, T))
    # lambda = 1: discounted return to the end of the episode (bootstrapped only at the array's end) minus V.
    mc = np.empty(T)
    for t in range(T):
        total, disc, boot = 0.0, 1.0, True
        for u in range(t, T):
            total += disc * r[u]
            disc *= gamma
            if term[u]:
                boot = False
                break
        mc[t] = total + (disc * v[T] if boot else 0.0) - v[t]
    np.testing.assert_allclose(gae(r, v, gamma, 1.0, terminated=term), mc, rtol=0, atol=tol(r, v, T))
    np.testing.assert_allclose(n_step_advantages(r, v, gamma, T, terminated=term), mc, rtol=0, atol=tol(r, v, T))


@given(seg=segments(), gamma=unit, lam=unit)
def test_lambda_returns_satisfy_the_lambda_return_recursion(seg, gamma, lam):
    """Catches value targets built with the wrong V index (R_t = A_t + V(s_{t+1}))."""
    r, v, term = seg
    T = len(r)
    G = lambda_returns(r, v, gamma, lam, terminated=term)
    nxt = np.append(G[1:], v[T])  # G_T := V(s_T)
    want = r + gamma * (1 - term) * ((1 - lam) * v[1:] + lam * nxt)
    np.testing.assert_allclose(G, want, rtol=0, atol=tol(r, v, T))
    np.testing.assert_allclose(G, gae(r, v, gamma, lam, terminated=term) + v[:-1], rtol=0, atol=tol(r, v, T))


@given(seg=segments(terminations=False), gamma=unit, lam=unit)
def test_lambda_returns_are_the_boundary_weighted_average_of_n_step_returns(seg, gamma, lam):
    """Catches a lambda-return whose truncation tail weight is wrong."""
    r, v, _ = seg
    T = len(r)
    G = lambda_returns(r, v, gamma, lam)
    for t in range(T):
        n = T - t
        Gk = [n_step_returns(r, v, gamma, k)[t] for k in range(1, n + 1)]
        want = sum((1 - lam) * lam ** (k - 1) * Gk[k - 1] for k in range(1, n)) + (lam ** (n - 1) if n > 1 else 1) * Gk[-1]
        assert G[t] == pytest.approx(want, abs=tol(r, v, T))


@given(seg=segments(), gamma=unit, lam=unit, data=st.data())
def test_terminated_mask_equals_splitting_episodes(seg, gamma, lam, data):
    """Catches bootstrapping through a termination, or CleanRL's shifted dones[t+1] mask."""
    r, v, term = seg
    T = len(r)
    n = data.draw(st.integers(1, T + 1))
    full = gae(r, v, gamma, lam, terminated=term)
    full_n = n_step_advantages(r, v, gamma, n, terminated=term)
    start = 0
    ends = list(np.flatnonzero(term)) + ([T - 1] if not term[-1] else [])
    for end in ends:
        seg_r = r[start:end + 1]
        boot = 0.0 if term[end] else v[end + 1]  # V(terminal) = 0; truncation bootstraps
        seg_v = np.append(v[start:end + 1], boot)
        np.testing.assert_allclose(full[start:end + 1], gae(seg_r, seg_v, gamma, lam), rtol=0, atol=tol(r, v, T))
        np.testing.assert_allclose(full_n[start:end + 1], n_step_advantages(seg_r, seg_v, gamma, n),
                                   rtol=0, atol=tol(r, v, T))
        start = end + 1


@given(seg=segments(batch=True), gamma=unit, lam=unit, n=st.integers(1, 5))
def test_batch_axis_is_per_row(seg, gamma, lam, n):
    """Catches a recursion that runs over the batch axis instead of time, or mixes rows."""
    r, v, term = seg
    for f, args in ((gae, (gamma, lam)), (lambda_returns, (gamma, lam)), (n_step_advantages, (gamma, n)),
                    (n_step_returns, (gamma, n)), (td_errors, (gamma,))):
        batched = f(r, v, *args, terminated=term)
        assert batched.shape == r.shape
        for i in range(r.shape[0]):
            np.testing.assert_array_equal(batched[i], f(r[i], v[i], *args, terminated=term[i]))


def test_one_minus_gamma_normaliser_from_the_slide_typo_fails():
    """NEGATIVE: the lecture's 'GAE Balance' slide writes (1 - gamma) for (1 - lambda); with gamma != lambda the
    average is not GAE. Guards against 'fixing' gae to match the slide."""
    rng = np.random.default_rng(3)
    r, v = rng.normal(size=6), rng.normal(size=7)
    gamma, lam = 0.9, 0.5
    adv = gae(r, v, gamma, lam)
    typo = np.array([weighted_k_step_average(r, v, gamma, lam, t, normaliser=1 - gamma) for t in range(6)])
    right = np.array([weighted_k_step_average(r, v, gamma, lam, t) for t in range(6)])
    np.testing.assert_allclose(adv, right, rtol=0, atol=1e-12)
    assert np.max(np.abs(typo - adv)) > 0.1
    # ... and it agrees again when gamma == lambda, which is why the typo is easy to miss.
    typo_eq = np.array([weighted_k_step_average(r, v, lam, lam, t, normaliser=1 - lam) for t in range(6)])
    np.testing.assert_allclose(gae(r, v, lam, lam), typo_eq, rtol=0, atol=1e-12)


def test_ppo_paper_exponent_typo_T_minus_t_plus_1_is_wrong():
    """NEGATIVE: PPO eq. (11) printed (gamma lambda)^(T-t+1) on the last delta; the sum ends at T-t-1."""
    r, v = np.array([1.0, -0.5, 2.0]), np.array([0.3, -0.2, 0.4, 1.0])
    gamma, lam = 0.9, 0.8
    T = 3
    delta = td_errors(r, v, gamma)
    adv0 = gae(r, v, gamma, lam)[0]
    right = sum((gamma * lam) ** l * delta[l] for l in range(T))  # last exponent T - 0 - 1
    wrong = sum((gamma * lam) ** l * delta[l] for l in range(T - 1)) + (gamma * lam) ** (T + 1) * delta[T - 1]
    assert adv0 == pytest.approx(right, abs=1e-14)
    assert abs(adv0 - wrong) > 0.1


def test_golden_values_by_hand():
    """Hand-computed values (gamma = 0.9): TD errors 0.68, -0.11, 2.8; a termination restarts the recursion."""
    r, v = [1.0, 0.0, 2.0], [0.5, 0.2, 0.1, 1.0]
    np.testing.assert_allclose(gae(r, v, 0.9, 0.0), [0.68, -0.11, 2.8], atol=1e-15)
    np.testing.assert_allclose(gae(r, v, 0.9, 1.0), [1 + 0.81 * 2 + 0.729 - 0.5, 0.9 * 2 + 0.81 - 0.2, 2.8], atol=1e-15)
    np.testing.assert_allclose(gae(r, v, 0.9, 0.5, terminated=[0, 1, 0]), [0.68 + 0.45 * -0.2, -0.2, 2.8], atol=1e-15)
    assert gae(np.zeros(0), [4.0], 0.9, 0.5).shape == (0,)


def _start_at(mdp, pi, T, s0, a0):
    """Enumerate every length-T continuation from (s0, a0), then pi."""
    S, A = mdp.shape
    pi_t = np.repeat(pi[None], T, axis=0)
    pi_t[0] = np.eye(A)[a0]
    return enumerate_trajectories(mdp, pi_t, T, mu=np.eye(S)[s0])


@settings(max_examples=25)
@given(mdp=trs.mdps(max_states=3, max_actions=2), data=st.data())
def test_gae_with_true_values_is_unbiased_for_the_advantage(mdp, data):
    """E[GAE_0 | s0, a0] = A^pi(s0, a0) for every lambda with V = V^pi and bootstrap V^pi(s_T) (infinite
    horizon), and with time-indexed finite-horizon values. Catches any bias in the recursion or the bootstrap."""
    S, A = mdp.shape
    pi = data.draw(trs.policies(S, A))
    T = data.draw(st.integers(1, 3))
    lam = data.draw(unit)
    s0, a0 = data.draw(st.integers(0, S - 1)), data.draw(st.integers(0, A - 1))
    ev = evaluate(mdp, pi)
    tr, p = _start_at(mdp, pi, T, s0, a0)
    R = np.max(np.abs(mdp.R))
    H_eff = 1 / (1 - mdp.gamma)
    adv = gae(tr.rewards, ev.V[tr.states], mdp.gamma, lam)
    assert p @ adv[:, 0] == pytest.approx(ev.adv[s0, a0], abs=1e-10 * (1 + R) * H_eff)
    # Finite horizon: values[t] = V_t(s_t) of the T-step problem, V_T = 0.
    fh = finite_horizon_values(mdp, pi, T)
    vals = fh.V[np.arange(T + 1)[None, :], tr.states]
    adv_fh = gae(tr.rewards, vals, mdp.gamma, lam)
    assert p @ adv_fh[:, 0] == pytest.approx(fh.Q[0, s0, a0] - fh.V[0, s0], abs=1e-10 * (1 + R) * (T + 1))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(rewards=np.zeros((2, 2, 2)), values=np.zeros((2, 2, 3))), ValueError, r"rewards must have shape \(T,\) or \(N, T\)"),
        (dict(rewards=[1.0, 2.0], values=[0.0, 0.0]), ValueError, r"values must have shape \(3,\) \(one more entry"),
        (dict(rewards=np.zeros((2, 3)), values=np.zeros((2, 3))), ValueError, r"values must have shape \(2, 4\)"),
        (dict(rewards=[np.nan], values=[0.0, 0.0]), ValueError, "rewards must be finite"),
        (dict(rewards=[1.0], values=[0.0, np.inf]), ValueError, "values must be finite"),
        (dict(rewards=["a"], values=[0.0, 0.0]), TypeError, "rewards must be a numeric array"),
        (dict(rewards=[1.0, 1.0], values=[0.0] * 3, terminated=[True]), ValueError, r"terminated must have shape \(2,\)"),
        (dict(rewards=[1.0, 1.0], values=[0.0] * 3, terminated=[0, 2]), ValueError, "terminated must hold only 0/1"),
        (dict(rewards=[1.0], values=[0.0] * 2, terminated=["x"]), TypeError, "terminated must be a boolean"),
        (dict(rewards=[1.0], values=[0.0] * 2, gamma=1.5), ValueError, r"gamma == 1.5, must be in \[0, 1\]"),
        (dict(rewards=[1.0], values=[0.0] * 2, lambda_=-0.1), ValueError, r"lambda_ == -0.1, must be in \[0, 1\]"),
    ],
)
def test_gae_input_errors_name_the_argument(kwargs, exc, match):
    args = dict(gamma=0.9, lambda_=0.5, terminated=None) | kwargs
    with pytest.raises(exc, match=match):
        gae(args["rewards"], args["values"], args["gamma"], args["lambda_"], terminated=args["terminated"])


def test_n_step_rejects_n_below_one():
    with pytest.raises(ValueError, match="n == 0, must be >= 1"):
        n_step_advantages([1.0], [0.0, 0.0], 0.9, 0)
    with pytest.raises(TypeError, match="n must be an integer"):
        n_step_returns([1.0], [0.0, 0.0], 0.9, 1.5)
