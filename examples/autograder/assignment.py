"""Assignment 3: advantage estimation and policy evaluation.

Fill in the two functions below and submit this file (assignment.py). Use NumPy only.
Arrays follow the course conventions:

* P has shape (S, A, S) with P[s, a, s2] = P(s2 | s, a); R has shape (S, A), the expected reward r(s, a);
  pi has shape (S, A), each row a distribution over actions; 0 <= gamma < 1.
* A segment of T steps: rewards[t] = r_t for t = 0..T-1; values has T + 1 entries, values[t] = V(s_t), and
  values[T] is the value of the state after the last step (the segment was cut by a time limit there);
  terminated[t] is True when the step out of s_t ended the episode (nothing to bootstrap from after it).
"""

import numpy as np


def gae(rewards, values, gamma, lam, terminated):
    """Generalized advantage estimates, shape (T,)."""
    raise NotImplementedError("Q1: implement GAE(gamma, lam)")


def policy_evaluation(P, R, gamma, pi):
    """The values V^pi(s) = E[sum_t gamma^t r_t | s_0 = s] of the policy pi, shape (S,)."""
    raise NotImplementedError("Q2: implement policy evaluation")
