"""tabular_rl: exact tabular reinforcement learning on finite MDPs with known dynamics."""

from .control import (
    ControlResult,
    FiniteHorizonControl,
    finite_horizon_optimal,
    policy_iteration,
    value_iteration,
)
from .evaluation import (
    FiniteHorizonEvaluation,
    PolicyEvaluation,
    advantages,
    bellman_residual,
    discounted_visitation,
    discounted_visitation_unnormalized,
    evaluate,
    expected_return,
    finite_horizon_values,
    occupancy_measure,
    policy_evaluation,
    q_values,
    state_distributions,
)
from .mdp import TabularMDP
from .policies import (
    entropy,
    epsilon_greedy,
    greedy,
    kl_divergence,
    log_softmax,
    softmax,
    total_variation,
    uniform,
)
from .sampling import Trajectories, discounted_returns, enumerate_trajectories, rollout

__version__ = "0.1.0"

__all__ = [
    "ControlResult",
    "FiniteHorizonControl",
    "FiniteHorizonEvaluation",
    "PolicyEvaluation",
    "TabularMDP",
    "Trajectories",
    "advantages",
    "bellman_residual",
    "discounted_returns",
    "discounted_visitation",
    "discounted_visitation_unnormalized",
    "entropy",
    "enumerate_trajectories",
    "epsilon_greedy",
    "evaluate",
    "expected_return",
    "finite_horizon_optimal",
    "finite_horizon_values",
    "greedy",
    "kl_divergence",
    "log_softmax",
    "occupancy_measure",
    "policy_evaluation",
    "policy_iteration",
    "q_values",
    "rollout",
    "softmax",
    "state_distributions",
    "total_variation",
    "uniform",
    "value_iteration",
]
