"""A plain ``model.fit()`` on a machine where other jobs hold cores, at torch's default threads
beside ``OMP_NUM_THREADS=1`` (the remedy the README gives), in the same run.

fairx does not lower a fit's threads by itself: training results depend on the thread count (a
latent DDPM or a conv VAE gives other bits at 1 and 2 threads), so a fit following the machine's
load would not be reproducible. The script starts ``--busy`` spinning processes (each keeps one
core busy, as another user's job would), waits ``--settle`` seconds, then fits ``--method`` with
its ``fast`` preset plus the demo's training budget on the demo's planted-bias table (840
training rows), each fit in a fresh child process, the two settings alternating (``--prev``: a
third variant, another checkout's ``src`` at default threads). Printed per fit: seconds, torch
threads seen inside the fit.

    python benchmarks/bench_fit_threads.py --busy 1
    python benchmarks/bench_fit_threads.py --busy 0   # quiet

``uptime`` is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

CHILD = r"""
import json, sys, time
import torch
from fairx.benchmark._demo import DEMO_FAIR_LATENT, DEMO_GAN
from fairx.data import load_dataset, train_test_split
from fairx.models import get
args = json.loads(sys.argv[1])
data = load_dataset("synthetic", sensitive="group", n_samples=1200, bias=0.8, seed=0)
train, _ = train_test_split(data, test_size=0.3, seed=0)
extra = {**DEMO_FAIR_LATENT, **DEMO_GAN}.get(args["method"], {})
model = get(args["method"], "fast", random_state=0, verbose=False, **extra)
seen = []
step = torch.optim.Adam.step
def recording_step(self, *a, **k):
    if not seen:
        seen.append(torch.get_num_threads())
    return step(self, *a, **k)
torch.optim.Adam.step = recording_step
t = time.perf_counter()
model.fit(train)
print(json.dumps({"fit_seconds": time.perf_counter() - t, "torch_threads": seen[:1],
                  "threads_after": torch.get_num_threads()}))
"""


def spin() -> None:  # pragma: no cover - a busy process
    while True:
        pass


def run_fit(src: Path, method: str, threads: int | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)
        if threads is not None:
            env[var] = str(threads)
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps({"method": method})], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prev", type=Path, default=None,
                        help="also a checkout of another commit, at default threads")
    parser.add_argument("--method", default="tabfairgan")
    parser.add_argument("--busy", type=int, default=1, help="spinning processes beside the fits")
    parser.add_argument("--settle", type=float, default=60.0,
                        help="seconds to let the load average rise before the first fit")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    trees = {"default threads": (SRC, None), "OMP_NUM_THREADS=1": (SRC, 1)}
    if args.prev is not None:
        trees["previous"] = (args.prev / "src", None)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    spinners = [mp.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    try:
        if args.busy:
            time.sleep(args.settle)
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(args.repeats):
            for name, (src, threads) in trees.items():
                r = run_fit(src, args.method, threads)
                results[name].append(r)
                print(f"{name:18s} {args.method} fit {r['fit_seconds']:6.1f} s, torch threads in "
                      f"fit {r['torch_threads']}, after {r['threads_after']}  (load "
                      f"{os.getloadavg()[0]:.1f})", flush=True)
    finally:
        for p in spinners:
            p.terminate()
    med = {name: statistics.median(r["fit_seconds"] for r in rs) for name, rs in results.items()}
    base = med["OMP_NUM_THREADS=1"]
    print("median fit: " + ", ".join(f"{name} {m:.1f} s (×{m / base:.2f})" for name, m in med.items())
          + f"; busy processes {args.busy}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
