"""Input guards with several bad entries, none of them first (issue 9).

A guard written ``if np.any(bad): ... np.argwhere(bad)[0]`` has two plausible bugs that a single bad
entry at position 0 cannot see: ``any`` replaced by ``all`` (no error unless every entry is bad) and
the reported index taken from the wrong end or axis. Each case below has at least two bad entries
after a good one and expects the message to name the first bad one, in C order.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from tabular_rl import TabularMDP, Trajectories, policy_evaluation
from tabular_rl.advantage_estimation import gae
from tabular_rl.bounds import performance_bounds
from tabular_rl.imitation import expert_distribution_error
from tabular_rl.importance_sampling import ordinary_importance_sampling
from tabular_rl.maxent import maxent_log_likelihood_objective, maxent_partition
from tabular_rl.ppo import ppo_clip_objective, sampled_clipped_surrogate_objective


def _mdp(S=4, A=2, seed=0):
    rng = np.random.default_rng(seed)
    return TabularMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.uniform(-1, 1, (S, A)), 0.9,
                      mu=np.full(S, 1.0 / S))


def _uniform(S=4, A=2):
    return np.full((S, A), 1.0 / A)


def _dense_P(S=4, A=2):
    return np.full((S, A, S), 1.0 / S)


def _sparse_P(data_edit):
    """Sparse (S*A, S) uniform rows with data_edit(data) applied to the stored entries (row-major)."""
    P = sp.csr_matrix(np.full((8, 4), 0.25))
    data = P.data.copy()
    data_edit(data)
    return sp.csr_matrix((data, P.indices, P.indptr), shape=P.shape)


def _traj(states, actions):
    states, actions = np.asarray(states), np.asarray(actions)
    return Trajectories(states=states, actions=actions, rewards=np.zeros(actions.shape))


def _bad_rows_policy():
    pi = _uniform()
    pi[2] = [0.5, 0.6]
    pi[3] = [0.2, 0.2]
    return pi


def _nondeterministic_expert():
    e = np.eye(2)[[0, 1, 0, 1]]
    e[2] = [0.5, 0.5]
    e[3] = [0.3, 0.7]
    return e


# a policy with zeros at (2, 1) and (3, 0): the sampled or targeted pairs there are the bad ones
_SUPPORT = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])


def _dense_P_two_negative_rows():
    """Negative entries in rows (1, 1) and (3, 0); the rows still sum to 1."""
    P = _dense_P()
    P[1, 1] = [0.5, 0.5, 0.5, -0.5]
    P[3, 0] = [1.5, -0.5, 0.0, 0.0]
    return P


def _dense_P_two_bad_sums():
    P = _dense_P()
    P[2, 0, 1] = 0.5   # row (2, 0) sums to 1.25
    P[3, 1, 0] = 0.3   # row (3, 1) sums to 1.05
    return P


def _sparse_negative(d):
    d[9:12] = [0.5, -0.25, 0.5]     # sparse row 2 = P[1, 0, :]
    d[20:22] = [-0.5, 1.0]          # sparse row 5


def _sparse_nonfinite(d):
    d[13] = np.inf                  # sparse row 3 = P[1, 1, :]
    d[30] = np.nan                  # sparse row 7


def _sparse_bad_sums(d):
    d[21] = 0.5                     # sparse row 5 = P[2, 1, :] sums to 1.25
    d[29] = 0.0                     # sparse row 7 sums to 0.75


CASES = [
    # (call, exception, message naming the first bad entry)
    (lambda: performance_bounds(_mdp(), _uniform(), _uniform(), f=[0.0, 1.0, np.nan, np.inf]),
     ValueError, r"f must be finite, got nan at index \(2,\)"),
    (lambda: ppo_clip_objective([1.0, 1.0, -1.0, -2.0], [1.0, 1.0, 1.0, 1.0], 0.2),
     ValueError, r"ratios must be non-negative, got -1\.0 at index \(2,\)"),
    (lambda: policy_evaluation(_mdp(), _bad_rows_policy()),
     ValueError, r"pi\[2, :\] sums to 1\.1"),
    (lambda: TabularMDP(_dense_P_two_negative_rows(), np.zeros(4), 0.9),
     ValueError, r"P must be non-negative, got -0\.5 at index \(1, 1, 3\)"),
    (lambda: TabularMDP(_dense_P_two_bad_sums(), np.zeros(4), 0.9),
     ValueError, r"P\[2, 0, :\] sums to 1\.25"),
    (lambda: TabularMDP(_sparse_P(_sparse_negative), np.zeros(4), 0.9),
     ValueError, r"P must be non-negative, got -0\.25 at P\[1, 0, 2\] \(row 2\)"),
    (lambda: TabularMDP(_sparse_P(_sparse_nonfinite), np.zeros(4), 0.9),
     ValueError, r"P must be finite, got inf at P\[1, 1, 1\] \(row 3\)"),
    (lambda: TabularMDP(_sparse_P(_sparse_bad_sums), np.zeros(4), 0.9),
     ValueError, r"P\[2, 1, :\] \(sparse row 5\) sums to 1\.25"),
    (lambda: sampled_clipped_surrogate_objective(
        _mdp(), _traj([[0, 1, 2, 3, 0], [3, 4, 5, 0, 1]], [[0, 1, 0, 1], [1, 0, 1, 0]]),
        _uniform(), _uniform(), np.zeros((2, 4)), 0.2),
     ValueError, r"trajectories\.states must lie in \[0, 3\], got 4 at index \(1, 1\)"),
    (lambda: expert_distribution_error(_mdp(), _uniform(), _nondeterministic_expert(), 3),
     ValueError, r"expert must be deterministic \(one-hot rows\), got expert\[2, :\]"),
    (lambda: ordinary_importance_sampling(_traj([[0, 1, 2]], [[0, 1]]), _uniform(), _SUPPORT, 0.9),
     ValueError, r"behavior gives zero probability to action 1 in state 2, which target takes"),
    (lambda: ordinary_importance_sampling(
        _traj([[0, 1, 2], [0, 2, 3], [2, 3, 0]], [[0, 0], [0, 1], [1, 0]]), _SUPPORT, _SUPPORT, 0.9),
     ValueError, r"trajectories episode 1 takes action 1 in state 2 at step 1, which behavior gives probability 0"),
    (lambda: gae(np.zeros((2, 4)), np.zeros((2, 5)), 0.9, 0.9, terminated=[[0, 1, 0, 0], [0, 2, 0, 3]]),
     ValueError, r"terminated must hold only 0/1 \(or booleans\), got 2 at index \(1, 1\)"),
    (lambda: sampled_clipped_surrogate_objective(
        _mdp(), _traj([[0, 1, 2, 3, 0], [0, 2, 1, 3, 0]], [[0, 0, 1, 0], [0, 1, 0, 1]]),
        _SUPPORT, _SUPPORT, np.zeros((2, 4)), 0.2),
     ValueError, r"pi_old gives probability 0 to the sampled action 1 in state 2 \(sample index \(0, 2\)\)"),
    (lambda: maxent_partition(_mdp(), np.zeros(4), 3, terminal_states=[0, 5, 7]),
     ValueError, r"terminal_states must lie in \[0, 3\], got 5"),
    (lambda: maxent_log_likelihood_objective(
        _mdp(), np.eye(4), _traj([[0, 1, 3], [0, 1, 2], [1, 2, 0]], [[0, 0], [0, 1], [1, 0]]), 2, np.zeros(4),
        terminal_states=[3]),
     ValueError, r"demonstrations must end in terminal_states .* but episode 1 ends in state 2"),
]


@pytest.mark.parametrize("call, exc, match", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_guard_with_several_bad_entries_names_the_first(call, exc, match):
    """The guard fires although most entries are good (any, not all) and names the first bad entry
    in C order, not the last or one from another axis."""
    with pytest.raises(exc, match=match):
        call()
