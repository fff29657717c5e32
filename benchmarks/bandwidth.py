"""Memory-bandwidth probe: the GB/s that the bandwidth bounds in run.py divide by.

Measured in the same process as the benchmarks, so a ratio to the bound means the
same thing on any machine. Large (256 MB) arrays defeat the caches; both a read
(``sum``) and a copy (read + write) are timed, on 1 and on ``N_THREADS`` threads
(NumPy releases the GIL in both), and the best rate is kept: the bound is then the
most optimistic one, and the ratios the most conservative.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tabular_rl._kernels import N_THREADS


def _best(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def probe(*, n_bytes=256 * 2**20, repeats=5):
    """Return ``(gb_per_s, detail)``: the best of read and copy rates on 1 and N_THREADS threads."""
    n = n_bytes // 8
    a = np.ones(n)
    b = np.empty_like(a)
    detail = {}
    for threads in sorted({1, N_THREADS}):
        cuts = np.linspace(0, n, threads + 1).astype(int)
        parts = [(a[lo:hi], b[lo:hi]) for lo, hi in zip(cuts[:-1], cuts[1:])]
        with ThreadPoolExecutor(threads) as ex:
            def read():
                list(ex.map(lambda p: p[0].sum(), parts))

            def copy():
                list(ex.map(lambda p: np.copyto(p[1], p[0]), parts))

            detail[f"read_{threads}t"] = a.nbytes / _best(read, repeats) / 1e9
            detail[f"copy_{threads}t"] = 2 * a.nbytes / _best(copy, repeats) / 1e9
    return max(detail.values()), detail


if __name__ == "__main__":
    gbs, detail = probe()
    print(f"{gbs:.1f} GB/s", {k: round(v, 1) for k, v in detail.items()})
