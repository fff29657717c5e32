"""
Grading a student's GAE
=======================

``tabular_rl.grading.check`` runs a student's function on inputs drawn by hypothesis, compares it with the
library's exact answer under the concept's tolerance, shrinks a failure to a small counterexample and names
the known mistake it matches. Here two students implement generalised advantage estimation: one correctly,
one that bootstraps through episode ends (it ignores ``terminated``, the classic bug). ``print_report``
prints the grades. This example prints text only; grading needs hypothesis (the ``test`` extra).
"""

import numpy as np

from tabular_rl import grading


def correct_gae(rewards, values, gamma, lambda_, terminated):
    advantages = np.zeros(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        alive = 1.0 - float(terminated[t])
        delta = rewards[t] + gamma * alive * values[t + 1] - values[t]
        running = delta + gamma * lambda_ * alive * running
        advantages[t] = running
    return advantages


def buggy_gae(rewards, values, gamma, lambda_, terminated):
    advantages = np.zeros(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] - values[t]  # terminated is ignored
        running = delta + gamma * lambda_ * running
        advantages[t] = running
    return advantages


grades = {
    "correct student": grading.check("gae", correct_gae, max_examples=50),
    "buggy student": grading.check("gae", buggy_gae, max_examples=50),
}
grading.print_report(grades)
print("diagnosis of the buggy one:", grades["buggy student"].diagnosis.name)
