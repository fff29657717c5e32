"""A buggy submission: GAE bootstraps through terminations (the classic bug); policy evaluation is right."""

import numpy as np


def gae(rewards, values, gamma, lam, terminated):
    T = len(rewards)
    adv = np.zeros(T)
    running = 0.0
    for t in reversed(range(T)):
        delta = rewards[t] + gamma * values[t + 1] - values[t]   # terminated is ignored
        running = delta + gamma * lam * running
        adv[t] = running
    return adv


def policy_evaluation(P, R, gamma, pi):
    S = P.shape[0]
    P_pi = np.einsum("sa,sat->st", pi, P)
    r_pi = np.einsum("sa,sa->s", pi, R)
    return np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi)
