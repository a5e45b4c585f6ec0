"""DECAF and TabFairGAN cells on full Adult × sex: this checkout beside a previous commit.

Two measurements, each run in a fresh child process (1 torch thread, BLAS threads 1) with
``PYTHONPATH`` switched between this checkout's ``src`` and ``--prev``'s ``src``:

1. **Same settings, same rows** (``--speed-rows`` training rows, ``--speed-epochs`` epochs, the
   previous commit's ``default`` hyper-parameters, no early stopping): fit seconds per epoch of
   the previous code and of this code — the implementation's speed-up as a ratio.
2. **Cells** at this checkout's ``default`` preset on the full table (70/30 split, seed
   ``--seed``): fit + sample + evaluate (TSTR hgb without s, fairness on the real test split,
   quality against the real train split), with the key metrics. One DECAF fit serves DECAF-ND,
   -FTU and -DP (DECAF debiases at generation), so its fit time is shared by those rows.
   The previous code's ``default`` (= paper) cells are far too slow to run in full on 2 cores;
   (1) gives its seconds per epoch on the same rows.

Wall and CPU seconds are printed with ``uptime`` before and after (the machine may be shared:
compare the ratios, not the absolute seconds).

    git worktree add /tmp/prev cbcf2d2
    FAIRX_DATA_HOME=/work/shared/datasets python benchmarks/bench_generators.py --prev /tmp/prev
    python benchmarks/bench_generators.py --methods "decaf:early_stopping=False"   # no prev
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
KEYS = ["accuracy", "auroc", "dpr", "eor", "data_dpd", "alpha_precision", "beta_recall", "density",
        "coverage"]
PREV_DEFAULTS = {  # the previous commit's default hyper-parameters (for the same-settings run)
    "decaf": {"epochs": 50, "batch_size": 64, "critic_steps": 5, "hidden": 200},
    "tabfairgan": {"epochs": 200, "fair_epochs": 30, "batch_size": 256, "critic_steps": 4,
                   "lr": 2e-4, "fair_lr": 1e-4},
}
DECAF_MODES = {"decaf": "none", "decaf-ftu": "ftu", "decaf-dp": "dp"}
LABELS = {"none": "DECAF-ND", "ftu": "DECAF-FTU", "dp": "DECAF-DP"}


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    name, _, rest = spec.partition(":")
    params = {k.strip(): _value(v.strip()) for k, _, v in
              (item.partition("=") for item in filter(None, rest.split(",")))}
    return name, params


# ---------------------------------------------------------------- child side
def _split(seed: int, max_rows: int | None) -> tuple[Any, Any]:
    import numpy as np

    from fairx.data import load_dataset, train_test_split

    ds = load_dataset("adult", sensitive=["sex"])
    train, test = train_test_split(ds, seed=seed)
    if max_rows is not None and max_rows < len(train):
        train = train.subset(np.sort(np.random.default_rng(seed).choice(len(train), max_rows,
                                                                       replace=False)))
    return train, test


def _evaluate(model: Any, train: Any, test: Any, seed: int, mode: str | None) -> dict[str, float]:
    from fairx.metrics import data_parity, fit_downstream, prediction_metrics, synthetic_quality

    out: dict[str, float] = {}
    t = time.perf_counter()
    syn = model.sample(len(train), seed=seed) if mode is None else \
        model.sample(len(train), seed=seed, mode=mode)
    out["sample_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    clf = fit_downstream(syn, classifier="hgb", use_sensitive=False, seed=seed)
    out.update(prediction_metrics(test.y, clf.predict(test).astype(int),
                                  y_score=clf.predict_proba(test),
                                  sensitive_features=test.sensitive_frame))
    out.update(data_parity(syn))
    out.update(synthetic_quality(train, syn, holdout=test, seed=seed))
    out["evaluate_seconds"] = time.perf_counter() - t
    return out


def child(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job (``speed`` or ``cell``) in this process and return its figures."""
    import torch

    from fairx.models import get

    torch.set_num_threads(1)
    name, params = job["name"], dict(job["params"])
    base = "decaf" if name in DECAF_MODES else name
    train, test = _split(job["seed"], job.get("max_rows"))
    preset = None if job["kind"] == "speed" else "default"
    model = get(base, preset, device="cpu", random_state=job["seed"], **params)
    t, c = time.perf_counter(), time.process_time()
    model.fit(train)
    res: dict[str, Any] = {"fit_seconds": time.perf_counter() - t,
                           "fit_cpu_seconds": time.process_time() - c,
                           "epochs_run": len(getattr(model, "history_", [])),
                           "n_parameters": getattr(model, "n_parameters_", None)}
    if job["kind"] == "cell":
        modes = job.get("modes") or [None]
        res["rows"] = {LABELS.get(m, name): _evaluate(model, train, test, job["seed"], m) for m in modes}
    return res


# ---------------------------------------------------------------- parent side
def run_child(src: Path, job: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {job} under {src} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prev", default=None, help="checkout of the previous commit (its src/ is used)")
    ap.add_argument("--methods", nargs="+", default=["decaf", "tabfairgan"],
                    help="decaf (ND, FTU, DP from one fit) and/or tabfairgan; name:key=value,...")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speed-rows", type=int, default=5000)
    ap.add_argument("--speed-epochs", type=int, default=1)
    ap.add_argument("--no-cells", action="store_true", help="only the same-settings speed run")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    print(f"start: {uptime()}", flush=True)
    for spec in args.methods:
        name, params = parse_spec(spec)
        base = "decaf" if name in DECAF_MODES else name
        if args.prev:
            same = {**PREV_DEFAULTS[base], "epochs": args.speed_epochs}
            if base == "tabfairgan":
                same["fair_epochs"] = min(1, args.speed_epochs)
            job = {"kind": "speed", "name": base, "params": same, "seed": args.seed,
                   "max_rows": args.speed_rows}
            old = run_child(Path(args.prev) / "src", job)
            new = run_child(SRC, {**job, "params": {**same, "early_stopping": False}})
            print(f"[same settings] {base} {same} on {args.speed_rows} rows: previous "
                  f"{old['fit_seconds']:.1f} s wall / {old['fit_cpu_seconds']:.1f} s CPU, this "
                  f"{new['fit_seconds']:.1f} s / {new['fit_cpu_seconds']:.1f} s CPU; speed-up "
                  f"{old['fit_seconds'] / new['fit_seconds']:.1f}x wall, "
                  f"{old['fit_cpu_seconds'] / new['fit_cpu_seconds']:.1f}x CPU  ({uptime()})",
                  flush=True)
        if args.no_cells:
            continue
        modes = list(DECAF_MODES.values()) if name == "decaf" else None
        job = {"kind": "cell", "name": name, "params": params, "seed": args.seed, "modes": modes}
        res = run_child(SRC, job)
        print(f"[cell, default preset, full Adult] {spec}: fit {res['fit_seconds']:.1f} s wall / "
              f"{res['fit_cpu_seconds']:.1f} s CPU, {res['epochs_run']} epochs, "
              f"{res['n_parameters']} parameters  ({uptime()})", flush=True)
        for label, row in res["rows"].items():
            total = res["fit_seconds"] + row["sample_seconds"] + row["evaluate_seconds"]
            print(f"    {label:<12} sample {row['sample_seconds']:.1f} s, evaluate "
                  f"{row['evaluate_seconds']:.1f} s, cell {total:.1f} s | "
                  + "  ".join(f"{k} {row.get(k, float('nan')):.3f}" for k in KEYS), flush=True)
    print(f"end: {uptime()}")


if __name__ == "__main__":
    main()
