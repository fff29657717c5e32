"""Large-state benchmarks: evaluation solvers, the passes at up to ten million states, peak memory.

``bench_solvers(n)`` times ``policy_evaluation`` with ``solver="lu"`` and ``"krylov"`` on the
n x n slippery grid for the uniform and a random softmax policy, with each result's certificate.

``scale_child(n, horizon)`` is one size of the scaling run, in a process of its own (so its peak
RSS is its own): build ``open_grid(n)``, a random softmax policy, then through the public API
the certified evaluation (``solver="auto"``, ``tol=1e-8``), the stationary forward pass and the
stationary-output MaxEnt backward pass at ``horizon`` steps, each pass against its bandwidth
bound (``kernels.bytes_per_step`` over the probe's best GB/s). ``--memory`` and ``--scaling`` in
run.py call it.
"""

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

import kernels
from _grid import slippery_grid
from bandwidth import probe
import tabular_rl as trl

#: Grid sides of the scaling run: S = 1,024 to 10,004,569 states, about a decade apart.
SCALING_SIDES = (32, 100, 316, 1000, 3163)


def _random_policy(S, A, seed=0):
    return trl.softmax(2.0 * np.random.default_rng(seed).standard_normal((S, A)))


def bench_solvers(n, *, seed=0):
    """Rows of (policy, solver, seconds, certificate) for policy_evaluation on the n x n grid."""
    mdp = slippery_grid(n)
    S, A = mdp.shape
    rows = []
    for name, pi in (("uniform", trl.uniform(S, A)), ("random", _random_policy(S, A, seed))):
        for solver in ("lu", "krylov"):
            t0 = time.perf_counter()
            _, cert = trl.policy_evaluation(mdp, pi, solver=solver, return_certificate=True)
            rows.append(dict(n=n, S=S, policy=name, solver=solver, seconds=time.perf_counter() - t0,
                             residual=cert.residual, error_bound=cert.error_bound, scale=cert.scale,
                             iterations=cert.n_iterations))
    return rows


def format_solvers(rows):
    head = (f"{'n':>5} {'S':>9} {'policy':8} {'solver':7} {'seconds':>8} {'iters':>5} {'residual':>9} "
            f"{'error bound':>11} {'bound/|V| bnd':>13}")
    lines = [head, "-" * len(head)]
    for w in rows:
        lines.append(f"{w['n']:>5} {w['S']:>9} {w['policy']:8} {w['solver']:7} {w['seconds']:>8.2f} "
                     f"{w['iterations']:>5} {w['residual']:>9.1e} {w['error_bound']:>11.1e} "
                     f"{w['error_bound'] / w['scale']:>13.1e}")
    return "\n".join(lines)


def scale_child(n, horizon, *, tol=1e-8):
    """One size of the scaling run (see the module docstring); returns a row dict."""
    row = dict(n=n, horizon=horizon)
    gbs, _ = probe(repeats=3)
    t0 = time.perf_counter()
    mdp = slippery_grid(n)
    row["build_s"] = time.perf_counter() - t0
    S, A = mdp.shape
    row.update(S=S, nnz=mdp.nnz, gb_s=gbs)
    pi = _random_policy(S, A)
    t0 = time.perf_counter()
    _, cert = trl.policy_evaluation(mdp, pi, tol=tol, return_certificate=True)
    row.update(eval_s=time.perf_counter() - t0, eval_solver=cert.solver, eval_iterations=cert.n_iterations,
               eval_bound_rel=cert.error_bound / cert.scale, eval_certified=cert.certified)
    r = np.random.default_rng(1).standard_normal(S)
    for kind, fn in (("forward", lambda: trl.maxent_forward_pass(mdp, pi, horizon)),
                     ("backward", lambda: trl.maxent_backward_pass_stationary(mdp, r, horizon))):
        if S <= 10**6:                          # warm-up where it is cheap
            fn()
        t0 = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t0
        steps = max(horizon - 1, 1) if kind == "forward" else horizon
        bound = steps * kernels.bytes_per_step(kind, S, A, mdp.nnz) / (gbs * 1e9)
        row.update({f"{kind}_s": seconds, f"{kind}_x_bound": seconds / bound})
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return row


def run_child(n, horizon):
    """:func:`scale_child` in a fresh subprocess (run.py ``--scale-child``), so peak RSS is per size."""
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [sys.executable, os.path.join(here, "run.py"), "--scale-child", str(n), str(horizon)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def format_scaling(rows):
    head = (f"{'n':>5} {'S':>10} {'build s':>8} {'eval s':>8} {'solver':7} {'its':>4} {'bound/|V|':>9} "
            f"{'fwd s':>7} {'x bnd':>6} {'bwd s':>7} {'x bnd':>6} {'peak GB':>7}")
    lines = [head, "-" * len(head)]
    for w in rows:
        lines.append(
            f"{w['n']:>5} {w['S']:>10} {w['build_s']:>8.2f} {w['eval_s']:>8.2f} {w['eval_solver']:7} "
            f"{w['eval_iterations']:>4} {w['eval_bound_rel']:>9.1e} {w['forward_s']:>7.2f} "
            f"{w['forward_x_bound']:>6.2f} {w['backward_s']:>7.2f} {w['backward_x_bound']:>6.2f} "
            f"{w['peak_rss_gb']:>7.2f}")
    if len(rows) >= 2:
        # the slope of log(seconds) against log(S) between the two largest sizes
        a, b = rows[-2], rows[-1]
        ls = np.log(b["S"] / a["S"])
        lines.append("slope d log(seconds) / d log(S), last two sizes: "
                     + ", ".join(f"{k} {np.log(b[k + '_s'] / a[k + '_s']) / ls:.2f}"
                                 for k in ("build", "eval", "forward", "backward")))
    return "\n".join(lines)
