"""Benchmarks of the public functions a user calls, next to the kernels they run on.

Each row times one public call (validation included) on the n x n slippery grid, for
the uniform policy and a random softmax policy, and beside it the same computation
without the public layer: the kernel for the passes, the validation alone (the share
of the call spent checking the inputs), and for policy evaluation the LU factorisation.
``bench_control`` times ``policy_iteration`` beside MDPSolver (modified policy
iteration in C++, ``pip install mdpsolver``, the ``bench`` extra) when it is installed.
"""

import time

import numpy as np

import kernels
from _grid import slippery_grid
from bandwidth import _best, probe
import tabular_rl as trl
from tabular_rl import _kernels
from tabular_rl import _validation as _v
from tabular_rl.maxent_passes import _check_state_rewards
from tabular_rl.mce import _check_rewards


def _policies(mdp, horizon, seed=0):
    S, A = mdp.shape
    rng = np.random.default_rng(seed)
    return {
        "uniform": (trl.uniform(S, A), np.broadcast_to(trl.uniform(S, A), (horizon, S, A)).copy()),
        "random": (trl.softmax(2.0 * rng.standard_normal((S, A))),
                   trl.softmax(2.0 * rng.standard_normal((horizon, S, A)))),
    }


def bench_public(n, *, horizon=100, repeats=3, evaluation_max_n=1024):
    """Rows of (function, policy, public seconds, kernel seconds, validation seconds)."""
    mdp = slippery_grid(n)
    S, A = mdp.shape
    r = np.random.default_rng(1).standard_normal(S)
    rows = []
    gbs, _ = probe(repeats=3)

    def row(fn, policy, public, kernel=np.nan, validation=np.nan, bound_kind=None):
        rows.append(dict(function=fn, policy=policy, n=n, S=S, public_s=public, kernel_s=kernel,
                         validation_s=validation, validation_share=validation / public))
        if bound_kind is not None:   # the pass's bandwidth bound (bytes per step over the probe's GB/s)
            steps = max(horizon - 1, 1) if bound_kind == "forward" else horizon
            rows[-1]["x_bound"] = public / (steps * kernels.bytes_per_step(bound_kind, S, A, mdp.nnz) / (gbs * 1e9))

    for name, (pi, pi_t) in _policies(mdp, horizon).items():
        mu = mdp.mu
        row("maxent_forward_pass", f"{name} stationary",
            _best(lambda: trl.maxent_forward_pass(mdp, pi, horizon), repeats),
            _best(lambda: _kernels.forward_distributions(mdp, pi, horizon, mu, store=False), repeats),
            _best(lambda: _v.check_policy(pi, mdp, "pi", horizon=horizon, time_varying=True), repeats), "forward")
        row("maxent_forward_pass", f"{name} time-varying",
            _best(lambda: trl.maxent_forward_pass(mdp, pi_t, horizon), repeats),
            _best(lambda: _kernels.forward_distributions(mdp, pi_t, horizon, mu, store=False), repeats),
            _best(lambda: _v.check_policy(pi_t, mdp, "pi", horizon=horizon, time_varying=True), repeats), "forward")
        row("finite_horizon_values", f"{name} stationary",
            _best(lambda: trl.finite_horizon_values(mdp, pi, horizon), repeats),
            validation=_best(lambda: _v.check_policy(pi, mdp, horizon=horizon, time_varying=True), repeats))
        if n <= evaluation_max_n:
            for solver in ("lu", "krylov"):
                t0 = time.perf_counter()
                V = trl.policy_evaluation(mdp, pi, solver=solver)
                public = time.perf_counter() - t0
                residual = trl.bellman_residual(mdp, pi, V)
                row(f"policy_evaluation ({solver})", name, public,
                    validation=_best(lambda: _v.check_policy(pi, mdp), repeats))
                rows[-1]["residual"] = residual
            if n <= 256:
                theta = np.log(pi)
                row("policy_gradient", name, _best(lambda: trl.policy_gradient(mdp, theta), 1))
    log_terminal = np.zeros(S)
    r_valid = _best(lambda: _check_state_rewards(r, mdp), repeats)
    row("maxent_backward_pass", "-", _best(lambda: trl.maxent_backward_pass(mdp, r, horizon), repeats),
        _best(lambda: _kernels.maxent_backward(mdp, r, horizon, log_terminal), repeats), r_valid, "backward")
    row("maxent_backward_pass_stationary", "-",
        _best(lambda: trl.maxent_backward_pass_stationary(mdp, r, horizon), repeats),
        _best(lambda: _kernels.maxent_backward_first(mdp, r, horizon, log_terminal), repeats), r_valid, "backward")
    row("mce_policy (horizon)", "-", _best(lambda: trl.mce_policy(mdp, r, horizon=horizon), repeats),
        validation=_best(lambda: _check_rewards(r, mdp), repeats))
    return rows


def format_public(rows):
    head = (f"{'function':32} {'policy':22} {'n':>5} {'S':>9} {'public s':>9} {'kernel s':>9} "
            f"{'valid. s':>9} {'valid. %':>8} {'x bound':>7} {'residual':>9}")
    lines = [head, "-" * len(head)]
    for w in rows:
        res = f"{w['residual']:.1e}" if "residual" in w else ""
        kernel = "" if np.isnan(w["kernel_s"]) else f"{w['kernel_s']:.4f}"
        valid = "" if np.isnan(w["validation_s"]) else f"{w['validation_s']:.4f}"
        share = "" if np.isnan(w["validation_share"]) else f"{100 * w['validation_share']:.1f}%"
        xb = f"{w['x_bound']:.2f}" if "x_bound" in w else ""
        lines.append(
            f"{w['function']:32} {w['policy']:22} {w['n']:>5} {w['S']:>9} {w['public_s']:>9.4f} "
            f"{kernel:>9} {valid:>9} {share:>8} {xb:>7} {res:>9}"
        )
    return "\n".join(lines)


def bench_control(n, *, seed=0, mdpsolver_parallel=(False, True)):
    """policy_iteration beside MDPSolver on the n x n slippery grid with random rewards in [0, 1)."""
    base = slippery_grid(n)
    S, A = base.shape
    mdp = base.with_(R=np.random.default_rng(seed).random((S, A)))
    rows = []
    t0 = time.perf_counter()
    res = trl.policy_iteration(mdp)
    seconds = time.perf_counter() - t0
    Q = mdp.R + mdp.gamma * mdp.expected_next(res.V)
    rows.append(dict(solver="tabular_rl.policy_iteration", n=n, S=S, seconds=seconds,
                     iterations=res.n_iterations, residual=float(np.max(np.abs(Q.max(axis=1) - res.V)))))
    try:
        import mdpsolver
    except ImportError:
        return rows
    P = mdp.P
    probs = [[P.data[P.indptr[s * A + a]:P.indptr[s * A + a + 1]].tolist() for a in range(A)] for s in range(S)]
    cols = [[P.indices[P.indptr[s * A + a]:P.indptr[s * A + a + 1]].tolist() for a in range(A)] for s in range(S)]
    for parallel in mdpsolver_parallel:
        model = mdpsolver.model()
        model.mdp(discount=mdp.gamma, rewards=mdp.R.tolist(), tranMatProbs=probs, tranMatColumns=cols)
        t0 = time.perf_counter()
        model.solve(tolerance=1e-8, parallel=parallel)  # its default algorithm (modified PI)
        seconds = time.perf_counter() - t0
        V = np.array(model.getValueVector())
        Q = mdp.R + mdp.gamma * mdp.expected_next(V)
        rows.append(dict(solver=f"mdpsolver (mpi, parallel={parallel})", n=n, S=S, seconds=seconds,
                         iterations=None, residual=float(np.max(np.abs(Q.max(axis=1) - V)))))
    best = min(r["seconds"] for r in rows[1:])
    for r in rows:
        r["x_mdpsolver_best"] = r["seconds"] / best
    return rows


def format_control(rows):
    lines = []
    for r in rows:
        ratio = f", {r['x_mdpsolver_best']:.2f}x MDPSolver's better mode" if "x_mdpsolver_best" in r else ""
        lines.append(f"control n={r['n']:>4} S={r['S']:>7} {r['solver']:36} {r['seconds']:8.2f} s, "
                     f"Bellman optimality residual {r['residual']:.1e}{ratio}")
    return "\n".join(lines)
