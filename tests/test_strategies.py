"""Tests for tabular_rl.strategies: every strategy yields valid objects, and each edge case
the library promises to cover (S = 1, A = 1, gamma = 0, sparse, dense, deterministic,
zeros in distributions) is actually reachable, shown with hypothesis.find."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import Phase, find, given, settings
from hypothesis.errors import NoSuchExample
from hypothesis import strategies as st

from tabular_rl import TabularMDP
from tabular_rl import strategies as trs

#: find() without shrinking: we only need to know an example exists.
FIND = settings(max_examples=2000, database=None, phases=[Phase.generate])


@given(trs.mdps())
def test_mdps_are_valid_and_within_the_documented_limits(mdp):
    """S in [1, 6], A in [1, 4], gamma in [0, 0.99], rewards in [-1, 1], rows on the simplex,
    mu a distribution (catches a strategy that builds an MDP the library would reject)."""
    assert isinstance(mdp, TabularMDP)
    S, A = mdp.shape
    assert 1 <= S <= 6 and 1 <= A <= 4
    assert 0.0 <= mdp.gamma <= 0.99
    assert np.all(np.abs(mdp.R) <= 1.0)
    np.testing.assert_allclose(mdp.todense().sum(axis=2), 1.0, rtol=0, atol=1e-14)
    assert abs(mdp.mu.sum() - 1) <= 1e-14 and np.all(mdp.mu >= 0)


@given(trs.mdps(min_states=2, max_states=3, min_actions=2, max_actions=2, sparse=True, deterministic=True,
                gamma=0.5, reward_range=(0.0, 1.0), reward_shape="state"))
def test_mdps_options_are_honoured(mdp):
    """Size limits, sparse=, deterministic=, a fixed gamma, reward_range and reward_shape
    are all respected (catches an option silently ignored)."""
    S, A = mdp.shape
    assert 2 <= S <= 3 and A == 2
    assert mdp.is_sparse and mdp.nnz == S * A and np.all(mdp.P.data == 1.0)
    assert mdp.gamma == 0.5
    assert np.all((mdp.R >= 0) & (mdp.R <= 1))
    np.testing.assert_array_equal(mdp.R[:, 0], mdp.R[:, 1])  # a state reward r(s)


@given(trs.mdps(sparse=False, gamma=trs.gammas(min_value=0.5, max_value=1.0)))
def test_mdps_accept_a_gamma_strategy(mdp):
    assert not mdp.is_sparse and 0.5 <= mdp.gamma <= 1.0


@pytest.mark.parametrize(
    "name, condition",
    [
        ("S = 1", lambda m: m.n_states == 1),
        ("A = 1", lambda m: m.n_actions == 1),
        ("S = 1 and A = 1", lambda m: m.shape == (1, 1)),
        ("S = 6 and A = 4", lambda m: m.shape == (6, 4)),
        ("gamma = 0", lambda m: m.gamma == 0.0),
        ("gamma = 0.99", lambda m: m.gamma == 0.99),
        ("sparse", lambda m: m.is_sparse),
        ("dense", lambda m: not m.is_sparse),
        ("deterministic", lambda m: m.n_states > 1 and np.all(m.todense().max(axis=2) == 1.0)),
        ("stochastic with zeros", lambda m: np.any(m.todense() == 0) and np.any(m.todense().max(axis=2) < 1)),
        ("state reward", lambda m: m.n_actions > 1 and np.all(m.R == m.R[:, :1])),
        ("action-dependent reward", lambda m: np.any(m.R != m.R[:, :1])),
        ("mu with zeros", lambda m: np.any(m.mu == 0)),
    ],
)
def test_every_promised_edge_case_is_reachable(name, condition):
    """hypothesis.find reaches each edge case of docs/guide/numerics.md#hypothesis-strategies (catches a strategy
    that can never produce S = 1, A = 1, gamma = 0, a sparse or deterministic MDP)."""
    mdp = find(trs.mdps(), condition, settings=FIND)
    assert condition(mdp), name


@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_policies_are_on_the_simplex(S, A, data):
    """policies(), deterministic_policies() are valid (S, A) policies; deterministic ones are
    one-hot; stochastic ones have full support (|theta| <= 8 keeps log pi finite)."""
    pi = data.draw(trs.policies(S, A))
    assert pi.shape == (S, A) and np.all(pi >= 0)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    det = data.draw(trs.deterministic_policies(S, A))
    assert set(np.unique(det)) <= {0.0, 1.0}
    np.testing.assert_array_equal(det.sum(axis=1), 1.0)
    stoch = data.draw(trs.policies(S, A, deterministic=False))
    assert np.all(stoch > 0) and np.all(np.isfinite(np.log(stoch)))
    np.testing.assert_array_equal(data.draw(trs.policies(S, A, deterministic=True)).sum(axis=1), 1.0)


def test_policy_edge_cases_are_reachable():
    """Both kinds of policy come out of policies()."""
    find(trs.policies(3, 2), lambda p: np.all((p == 0) | (p == 1)), settings=FIND)
    find(trs.policies(3, 2), lambda p: np.all((p > 0) & (p < 1)), settings=FIND)


@given(st.integers(1, 8).flatmap(lambda n: st.tuples(st.just(n), trs.distributions(n))))
def test_distributions_are_probability_vectors(nd):
    n, p = nd
    assert p.shape == (n,) and np.all(p >= 0)
    assert abs(p.sum() - 1) <= 1e-14


def test_distribution_zeros_are_reachable_and_can_be_disabled():
    find(trs.distributions(4), lambda p: np.any(p == 0), settings=FIND)
    with pytest.raises(NoSuchExample):
        find(trs.distributions(4, allow_zeros=False), lambda p: np.any(p == 0),
             settings=settings(FIND, max_examples=300))


@given(trs.logits((2, 3), bound=2.0), trs.gammas())
def test_logits_and_gammas_respect_bounds(theta, g):
    assert theta.shape == (2, 3) and np.all(np.abs(theta) <= 2.0)
    assert 0.0 <= g <= 0.99


def test_strategies_is_not_imported_by_the_package():
    """Importing tabular_rl never needs hypothesis (catches strategies imported in
    __init__); checked in a fresh interpreter."""
    import subprocess
    import sys

    code = "import sys, tabular_rl; print('hypothesis' in sys.modules, 'tabular_rl.strategies' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_sparse_mdps_are_csr_without_explicit_zeros():
    """Sparse MDPs from the strategy store only positive probabilities."""
    mdp = find(trs.mdps(sparse=True), lambda m: m.n_states > 2, settings=FIND)
    assert sp.isspmatrix_csr(mdp.P) and np.all(mdp.P.data > 0)
