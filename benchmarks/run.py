"""Benchmarks of the state-visitation recursion and its backward passes.

    python benchmarks/run.py                 # the default table (see --help)
    python benchmarks/run.py --quick         # smallest sizes, well under a minute (CI smoke check)
    python benchmarks/run.py --sizes 512 --pass forward --policy time-varying --impl fast sparse
    python benchmarks/run.py --crossover     # small-MDP crossover behind _kernels.SMALL_MDP_STATES
    python benchmarks/run.py --lu 256 512 1024   # sparse LU orderings for policy evaluation
    python benchmarks/run.py --memory 3163   # 10M states: certified evaluation, the passes, peak RSS (subprocess)
    python benchmarks/run.py --scaling       # the same from 1e3 to 1e7 states, with the slope
    python benchmarks/run.py --solvers 512 1024  # policy_evaluation, LU beside certified Krylov
    python benchmarks/run.py --public 128 512    # public functions (validation included) beside their kernels
    python benchmarks/run.py --control 64 128    # policy_iteration beside MDPSolver (when installed)
    python -m cProfile -s cumtime benchmarks/run.py --sizes 128 --impl fast

Every implementation is checked against the library's fast path (relative 1e-12)
before it is timed. "x bound" divides the measured time per step by the issue's
bandwidth bound (bytes per step / the bandwidth probed in this process).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import numpy as np  # noqa: E402
import scipy  # noqa: E402

import bandwidth  # noqa: E402
import kernels  # noqa: E402
import public  # noqa: E402
import scale  # noqa: E402
from _grid import slippery_grid  # noqa: E402
from tabular_rl import _kernels  # noqa: E402

AGREE_RTOL = 1e-12


def make_inputs(mdp, horizon, policy, *, seed=0):
    """Random softmax policy (stationary (S, A) or (horizon, S, A)), uniform p0, N(0, 1) state reward."""
    S, A = mdp.shape
    rng = np.random.default_rng(seed)
    shape = (S, A) if policy == "stationary" else (horizon, S, A)
    pi = rng.random(shape)
    pi /= pi.sum(axis=-1, keepdims=True)
    return pi, np.full(S, 1.0 / S), rng.standard_normal(S)


def _call(kind, impl, mdp, pi, p0, r, horizon, P3):
    fn = kernels.FUNCTIONS[(kind, impl)]
    if kind == "forward":
        return fn(mdp, pi[:horizon] if pi.ndim == 3 else pi, horizon, p0, P3)
    return fn(mdp, r, horizon, P3)


def _rel_err(x, ref):
    x, ref = np.asarray(x), np.asarray(ref)
    return float(np.max(np.abs(x - ref)) / max(np.max(np.abs(ref)), 1e-300))


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times


def _est_seconds(impl, S, A, nnz, horizon):
    """Rough cost model, only to decide whether to time the full horizon."""
    if impl == "dense":
        return horizon * S * A * S * 8 / 5e9
    if impl == "python":
        return horizon * S * A * S * 1.5e-7
    return 0.0


def bench_case(kind, policy, n, *, horizon, impls, repeats, gbs, gbs1, dense_max_gb, max_seconds):
    """Time every implementation on the n x n slippery grid; return a list of row dicts."""
    mdp = slippery_grid(n)
    S, A = mdp.shape
    nnz = mdp.nnz
    pi, p0, r = make_inputs(mdp, horizon, policy)
    if kind != "forward" and policy != "stationary":
        pi = pi[0]
    # the dense backward passes hold about 4 (S, A, S) arrays at once (log P and logsumexp's temporaries)
    dense_fits = S * A * S * 8 * (1 if kind == "forward" else 4) <= dense_max_gb * 2**30
    P3 = mdp.todense() if dense_fits and any(i in impls for i in ("dense", "python")) else None
    steps_of = (lambda h: max(h - 1, 1)) if kind == "forward" else (lambda h: h)
    bpb = kernels.bytes_per_step(kind, S, A, nnz)
    rows = []
    fast_time = None
    for impl in impls:
        if impl in ("dense", "python") and P3 is None:
            continue
        est = _est_seconds(impl, S, A, nnz, horizon)
        if impl == "python" and est > 20 * max_seconds:
            continue
        h = horizon
        if est > max_seconds:  # time fewer steps and report the per-step cost
            h = max(2, int(horizon * max_seconds / est))
        ref = _call(kind, "fast", mdp, pi, p0, r, h, None)
        got = _call(kind, impl, mdp, pi, p0, r, h, P3)
        err = _rel_err(got, ref)
        if not err <= AGREE_RTOL:
            raise AssertionError(f"{kind}/{policy} n={n}: {impl} differs from fast by {err:.3g} (relative)")
        reps = repeats if h == horizon else 1
        med, _ = _median_time(lambda: _call(kind, impl, mdp, pi, p0, r, h, P3), reps)
        per_step = med / steps_of(h)
        seconds = per_step * steps_of(horizon)
        if impl == "fast":
            fast_time = seconds
        bound = bpb / (gbs * 1e9)
        rows.append(dict(
            pass_=kind, policy=policy, n=n, S=S, A=A, nnz=nnz, impl=impl, horizon=horizon,
            steps_timed=steps_of(h), runs=reps, seconds=seconds, extrapolated=h != horizon,
            ms_per_step=per_step * 1e3, bytes_per_step=bpb, x_bound=per_step / bound,
            x_bound_1t=per_step / (bpb / (gbs1 * 1e9)), rel_err=err,
        ))
    for row in rows:
        row["x_fast"] = row["seconds"] / fast_time if fast_time else float("nan")
    return rows


def format_table(rows):
    head = (f"{'pass':8} {'policy':12} {'n':>5} {'S':>9} {'nnz':>10} {'impl':7} {'runs':>4} "
            f"{'median s':>10} {'ms/step':>10} {'x bound':>8} {'x bnd 1t':>8} {'x fast':>9}")
    lines = [head, "-" * len(head)]
    for w in rows:
        sec = f"{w['seconds']:.4g}" + ("*" if w["extrapolated"] else "")
        lines.append(
            f"{w['pass_']:8} {w['policy']:12} {w['n']:>5} {w['S']:>9} {w['nnz']:>10} {w['impl']:7} {w['runs']:>4} "
            f"{sec:>10} {w['ms_per_step']:>10.4g} {w['x_bound']:>8.2f} {w['x_bound_1t']:>8.2f} {w['x_fast']:>9.3g}"
        )
    lines.append("* timed on fewer steps (see steps_timed in --json) and scaled to the horizon")
    return "\n".join(lines)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        cpu = f"{info['Model name'].strip()}, {info['CPU(s)'].strip()} CPUs, L3 {info.get('L3 cache', '?').strip()}"
    except (OSError, subprocess.CalledProcessError, KeyError):
        pass
    return dict(cpu=cpu, python=platform.python_version(), numpy=np.__version__, scipy=scipy.__version__,
                threads=_kernels.N_THREADS, openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"))


# ----------------------------------------------------------------------------- crossover
def bench_crossover(sizes=(2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 32), *, horizon=100, repeats=15):
    """Stationary forward pass: dense (S, S) P_pi vs the sparse path, per size; see SMALL_MDP_STATES."""
    rows = []
    for n in sizes:
        mdp = slippery_grid(n)
        pi, p0, _ = make_inputs(mdp, horizon, "stationary")
        res = {}
        for small in (True, False):
            f = lambda: _kernels.forward_distributions(mdp, pi, horizon, p0, store=False, small=small)  # noqa: E731
            f()
            res[small] = _median_time(f, repeats)[0]
        P3 = mdp.todense()
        g = lambda: kernels.forward_dense(mdp, pi, horizon, p0, P3)  # noqa: E731
        res["dense"] = _median_time(g, repeats)[0]
        rows.append(dict(n=n, S=mdp.n_states, small_ms=res[True] * 1e3, sparse_ms=res[False] * 1e3,
                         dense_formulation_ms=res["dense"] * 1e3))
    return rows


# ----------------------------------------------------------------------------- sparse LU
def bench_lu(sizes=(256, 512), *, specs=("COLAMD", "MMD_AT_PLUS_A", "MMD_ATA", "NATURAL"), max_seconds=60):
    """splu of I - gamma P_pi (uniform policy) per ordering: factor time, fill, residual; then evaluate()."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from tabular_rl import evaluation

    rows = []
    for n in sizes:
        mdp = slippery_grid(n)
        S, A = mdp.shape
        pi = np.full((S, A), 1.0 / A)
        P_pi = mdp.transition_matrix(pi)
        M = (sp.identity(S, format="csc") - mdp.gamma * P_pi).tocsc()
        r_pi = mdp.reward_vector(pi)
        for spec in specs:
            t0 = time.perf_counter()
            lu = spla.splu(M, permc_spec=spec)
            t_factor = time.perf_counter() - t0
            V = lu.solve(r_pi)
            t_total = time.perf_counter() - t0
            res = float(np.max(np.abs(r_pi + mdp.gamma * (P_pi @ V) - V)))
            rows.append(dict(n=n, S=S, spec=spec, factor_s=t_factor, factor_solve_s=t_total,
                             fill=int(lu.L.nnz + lu.U.nnz), residual=res))
            del lu
            if t_factor > max_seconds:
                break
        t0 = time.perf_counter()
        V = evaluation.policy_evaluation(mdp, pi)
        t_eval = time.perf_counter() - t0
        rows.append(dict(n=n, S=S, spec=f"policy_evaluation ({evaluation.SPARSE_PERMC_SPEC})",
                         factor_s=float("nan"), factor_solve_s=t_eval, fill=-1,
                         residual=evaluation.bellman_residual(mdp, pi, V)))
    return rows


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", help="grid sides n (S = n*n); default 5 32 128 512")
    ap.add_argument("--horizon", type=int, default=100)
    ap.add_argument("--pass", dest="passes", nargs="+", choices=("forward", "backward", "soft"),
                    default=["forward", "backward"], help="backward = MaxEnt log-partition, soft = MCE")
    ap.add_argument("--policy", nargs="+", choices=("stationary", "time-varying"),
                    default=["stationary", "time-varying"], help="forward pass only")
    ap.add_argument("--impl", nargs="+", choices=kernels.IMPLEMENTATIONS, default=list(kernels.IMPLEMENTATIONS))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dense-max-gb", type=float, default=10.0, help="largest dense (S, A, S) array to build")
    ap.add_argument("--max-seconds", type=float, default=5.0,
                    help="an implementation expected to take longer is timed on fewer steps")
    ap.add_argument("--quick", action="store_true", help="sizes 5 and 32, 3 repeats (CI smoke check)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--lu", type=int, nargs="*", metavar="N")
    ap.add_argument("--lu-specs", nargs="+", default=["COLAMD", "MMD_AT_PLUS_A", "MMD_ATA", "NATURAL"])
    ap.add_argument("--memory", type=int, nargs="*", metavar="N",
                    help="evaluation and passes at n x n, peak RSS, one subprocess per n (default n: 3163)")
    ap.add_argument("--scaling", action="store_true", help="--memory at n = " + " ".join(map(str, scale.SCALING_SIDES)))
    ap.add_argument("--solvers", type=int, nargs="*", metavar="N",
                    help="policy_evaluation with solver='lu' and 'krylov' (default n: 512 1024)")
    ap.add_argument("--public", type=int, nargs="*", metavar="N",
                    help="time the public functions beside their kernels (default n: 128 512)")
    ap.add_argument("--control", type=int, nargs="*", metavar="N",
                    help="policy_iteration beside MDPSolver, if installed (default n: 64 128)")
    ap.add_argument("--scale-child", type=int, nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.scale_child:
        print(json.dumps(scale.scale_child(*args.scale_child)))
        return
    info = machine()
    result = dict(machine=info)
    if args.crossover:
        result["crossover"] = bench_crossover(horizon=args.horizon)
    if args.lu is not None:
        result["lu"] = bench_lu(tuple(args.lu) or (256, 512), specs=tuple(args.lu_specs))
    if args.scaling:
        args.memory = list(scale.SCALING_SIDES)
    if args.memory is not None:
        result["memory"] = [scale.run_child(n, args.horizon) for n in (args.memory or [3163])]
    if args.solvers is not None:
        result["solvers"] = [r for n in (args.solvers or [512, 1024]) for r in scale.bench_solvers(n)]
    if args.public is not None:
        result["public"] = [r for n in (args.public or [128, 512]) for r in public.bench_public(n, horizon=args.horizon)]
    if args.control is not None:
        result["control"] = [r for n in (args.control or [64, 128]) for r in public.bench_control(n)]
    if args.quick:
        result["public"] = public.bench_public(32, horizon=args.horizon, repeats=3)
    if not (args.crossover or args.lu is not None or args.memory is not None or args.public is not None
            or args.control is not None or args.solvers is not None):
        sizes = args.sizes or ([5, 32] if args.quick else [5, 32, 128, 512])
        repeats = 3 if args.quick else args.repeats
        max_seconds = min(args.max_seconds, 0.5) if args.quick else args.max_seconds
        gbs, detail = bandwidth.probe()
        gbs1 = max(v for k, v in detail.items() if k.endswith("_1t"))
        result["bandwidth_gb_s"] = dict(best=gbs, **detail)
        rows = []
        for kind in args.passes:
            for policy in (args.policy if kind == "forward" else ["stationary"]):
                for n in sizes:
                    rows += bench_case(kind, policy, n, horizon=args.horizon, impls=args.impl, repeats=repeats,
                                       gbs=gbs, gbs1=gbs1, dense_max_gb=args.dense_max_gb,
                                       max_seconds=max_seconds)
        result["rows"] = rows
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"# {info['cpu']}; Python {info['python']}, NumPy {info['numpy']}, SciPy {info['scipy']}, "
          f"{info['threads']} kernel threads")
    if "rows" in result:
        bw = result["bandwidth_gb_s"]
        print(f"# bandwidth probe: {bw['best']:.1f} GB/s best ("
              + ", ".join(f"{k} {v:.1f}" for k, v in bw.items() if k != "best")
              + "); 'x bound' uses the best, 'x bnd 1t' the best single-thread rate")
        print(format_table(result["rows"]))
    if result.get("public"):
        print(public.format_public(result["public"]))
    if result.get("control"):
        print(public.format_control(result["control"]))
    for row in result.get("crossover", []):
        print("crossover n={n:>3} S={S:>5}: dense P_pi {small_ms:8.3f} ms, sparse {sparse_ms:8.3f} ms, "
              "dense (S,A,S) formulation {dense_formulation_ms:8.3f} ms".format(**row))
    for row in result.get("lu", []):
        print("lu n={n:>5} S={S:>8} {spec:34} factor {factor_s:8.3f} s, factor+solve {factor_solve_s:8.3f} s, "
              "fill {fill:>10}, residual {residual:.2e}".format(**row))
    if result.get("memory"):
        print(f"# horizon {args.horizon}; evaluation: solver='auto', tol=1e-8, random softmax policy; passes: "
              "maxent_forward_pass (stationary), maxent_backward_pass_stationary; 'x bnd' = time / bandwidth bound")
        print(scale.format_scaling(result["memory"]))
    if result.get("solvers"):
        print(scale.format_solvers(result["solvers"]))


if __name__ == "__main__":
    main()
