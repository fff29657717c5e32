"""A correct submission: GAE by the backward recursion, policy evaluation by iteration to a tolerance
(iterative, not an exact solve: the grader's tolerance accepts it)."""

import numpy as np


def gae(rewards, values, gamma, lam, terminated):
    T = len(rewards)
    adv = np.zeros(T)
    running = 0.0
    for t in reversed(range(T)):
        nonterminal = 1.0 - float(terminated[t])
        delta = rewards[t] + gamma * nonterminal * values[t + 1] - values[t]
        running = delta + gamma * lam * nonterminal * running
        adv[t] = running
    return adv


def policy_evaluation(P, R, gamma, pi):
    P_pi = np.einsum("sa,sat->st", pi, P)
    r_pi = np.einsum("sa,sa->s", pi, R)
    V = np.zeros(len(r_pi))
    while True:
        V_new = r_pi + gamma * P_pi @ V
        if np.max(np.abs(V_new - V)) < 1e-8:
            return V_new
        V = V_new
