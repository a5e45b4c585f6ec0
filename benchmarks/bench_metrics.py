"""Time and peak memory of the full synthetic-quality suite on Adult-sized tables.

    python benchmarks/bench_metrics.py                      # 32,561 × 32,561 and 48,842 × 48,842
    python benchmarks/bench_metrics.py --sizes 5000 --json out.json

Each size runs in its own subprocess so that peak memory (``resource.getrusage`` maxrss, which
covers numpy, scikit-learn and torch) is per size; ``tracemalloc`` adds the peak of Python/numpy
allocations. Tables: the Adult loader (``load_dataset("adult", keep_fnlwgt=True)``, 45,222 clean
rows, 15 columns) — real = a seeded sample of n rows (with replacement beyond 45,222), synthetic =
a perturbed resample (numericals + N(0, (0.05·sd)²), rounded/clipped; 5 % of categorical values
redrawn from the column's marginal), holdout for DCR = the real rows not sampled (or, when none
are left, a perturbed resample of 16,281 rows). Without the Adult files it falls back to
``make_synthetic`` of the same size (noted in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np


def _tables(n: int, seed: int = 0):
    from fairx.data import DatasetError, load_dataset, make_synthetic

    note = "adult"
    try:
        base = load_dataset("adult", keep_fnlwgt=True)
    except (DatasetError, OSError) as exc:  # no local files and no network
        note = f"make_synthetic fallback ({exc.__class__.__name__})"
        base = make_synthetic(max(n, 50_000), seed=seed)
    rng = np.random.default_rng(seed)
    N = len(base)
    if n <= N:
        real_rows = rng.choice(N, n, replace=False)
        unseen = np.setdiff1d(np.arange(N), real_rows)
    else:
        real_rows = np.r_[rng.permutation(N), rng.choice(N, n - N, replace=True)]
        unseen = np.array([], dtype=int)
        note += f"; {n - N} real rows drawn twice (only {N} clean rows)"
    real = base.subset(real_rows)

    def perturbed(size: int):
        frame = base.frame.iloc[rng.choice(N, size, replace=True)].reset_index(drop=True).copy()
        for c in base.numerical:
            col = base.frame[c].to_numpy(dtype=float)
            x = frame[c].to_numpy(dtype=float) + rng.normal(0, 0.05 * (col.std() or 1), size)
            x = np.clip(x, col.min(), col.max())
            frame[c] = np.round(x).astype(base.frame[c].dtype) if c in base.integer else x
        for c in base.categorical:
            flip = rng.random(size) < 0.05
            frame.loc[flip, c] = base.frame[c].sample(int(flip.sum()), replace=True,
                                                      random_state=int(rng.integers(1 << 31))).to_numpy()
        return base.with_frame(frame)

    synthetic = perturbed(n)
    if len(unseen) > 0:
        holdout = base.subset(unseen)
    else:
        holdout = perturbed(16_281)
        note += "; holdout = perturbed resample of 16,281 rows"
    return real, synthetic, holdout, note


def run_one(n: int, embedding: str, seed: int, threads: int) -> dict:
    import torch
    from threadpoolctl import threadpool_limits

    from fairx.metrics import synthetic_quality

    torch.set_num_threads(threads)
    real, synthetic, holdout, note = _tables(n, seed)
    tracemalloc.start()
    timings: dict[str, float] = {}
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    with threadpool_limits(limits=threads):
        q = synthetic_quality(real, synthetic, holdout=holdout, seed=seed, embedding=embedding, timings=timings)
    seconds = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"n_real": len(real), "n_synthetic": len(synthetic), "n_holdout": len(holdout),
            "columns": real.frame.shape[1], "tables": note, "embedding": embedding,
            "threads": threads, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "tracemalloc_peak_mb": round(peak / 2**20, 1),
            "maxrss_mb": round(maxrss_mb, 1), "timings": {k: round(v, 2) for k, v in timings.items()},
            "metrics": {k: round(v, 4) for k, v in q.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32_561, 48_842])
    parser.add_argument("--embedding", default="oneclass", choices=["oneclass", "naive"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP/torch threads (1 is fastest on a shared, loaded machine)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    args = parser.parse_args()
    os.environ.setdefault("FAIRX_DATA_HOME", os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                          "datasets"))
    if args.one:
        print(json.dumps(run_one(args.one, args.embedding, args.seed, args.threads)))
        return
    results = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--embedding", args.embedding, "--seed", str(args.seed),
               "--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        print(f"{res['n_real']:>6} x {res['n_synthetic']:<6} {res['seconds']:7.1f} s wall  "
              f"{res['cpu_seconds']:7.1f} s CPU  "
              f"maxrss {res['maxrss_mb']:7.0f} MB  tracemalloc peak {res['tracemalloc_peak_mb']:6.0f} MB  "
              f"[{res['tables']}]")
        print("   per step (s):", res["timings"])
    load = os.getloadavg()
    print(f"threads: {args.threads}")
    print(f"cores: {os.cpu_count()}, load average at the end: {load[0]:.1f} (other jobs inflate times)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": results, "cpu_count": os.cpu_count(), "loadavg": load}, fh, indent=2)


if __name__ == "__main__":
    main()
