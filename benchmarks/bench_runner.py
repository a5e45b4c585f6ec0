"""Wall time of the benchmark runner: the demo grid, and Adult x 10 methods x 3 seeds (fast
presets) with 1 and 2 local workers (speed-up ratio).

    python benchmarks/bench_runner.py demo                 # fairx demo grid, 2 workers
    python benchmarks/bench_runner.py adult --jobs 1 2     # examples/adult_benchmark.yaml
    python benchmarks/bench_runner.py adult --max-rows 5000 --jobs 1 2

Each run uses a fresh database (no resume) and prints one JSON line per run plus the speed-up;
the 1-minute load average before and after is printed too, so contention by other processes on
the machine is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _spec(what: str, max_rows: int | None):
    from fairx.benchmark import load_spec
    from fairx.benchmark._demo import demo_spec

    if what == "demo":
        return demo_spec()[0]
    spec = load_spec(ROOT / "examples" / "adult_benchmark.yaml")
    if max_rows is not None:
        for d in spec.datasets:
            d.max_rows = max_rows
    return spec


def time_run(what: str, n_jobs: int, max_rows: int | None = None, report: bool = False) -> dict:
    from fairx.benchmark import run_benchmark

    spec = _spec(what, max_rows)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "results.db"
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        run = run_benchmark(spec, db, n_jobs=n_jobs, progress=False)
        t_cells = time.perf_counter() - t0
        t_report = None
        if report:
            from fairx.report import build_report

            t1 = time.perf_counter()
            build_report(db, Path(tmp) / "report.html")
            t_report = time.perf_counter() - t1
    return {"what": what, "n_jobs": n_jobs, "max_rows": max_rows, "cells": run.n_cells,
            "failed": run.n_failed, "seconds": round(t_cells, 1),
            "report_seconds": None if t_report is None else round(t_report, 1),
            "load_before": round(load0, 1), "load_after": round(os.getloadavg()[0], 1),
            "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["demo", "adult"])
    parser.add_argument("--jobs", type=int, nargs="+", default=None)
    parser.add_argument("--max-rows", type=int, default=None, help="Adult: seeded subsample")
    args = parser.parse_args()
    jobs = args.jobs or ([2] if args.what == "demo" else [1, 2])
    results = []
    for n in jobs:
        res = time_run(args.what, n, args.max_rows, report=args.what == "demo")
        results.append(res)
        print(json.dumps(res), flush=True)
    if len(results) > 1:
        base = results[0]["seconds"]
        for r in results[1:]:
            print(json.dumps({"speedup": f"{results[0]['n_jobs']} -> {r['n_jobs']} workers",
                              "ratio": round(base / r["seconds"], 2)}))


if __name__ == "__main__":
    main()
