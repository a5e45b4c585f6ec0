"""Benchmark the baseline methods (issue 4): fit time and mean ± std over seeds of accuracy,
AUROC, DPR, EOR, FTU (+ α-precision, β-recall, density, coverage for generators).

Every method of a seed sees the same stratified 70/30 split; the downstream classifier is
``--classifier`` (default HistGradientBoosting) trained without s; generators are judged TSTR
(as many synthetic rows as train rows) against the real test split.

Usage (from the repository root)::

    FAIRX_DATA_HOME=/work/shared/datasets python benchmarks/bench_baselines.py \
        --dataset adult --sensitive sex --preset fast --seeds 3 --output bench.csv

Methods are ``name`` or ``name:key=value,key=value`` (e.g.
``exponentiated_gradient:constraint=equalized_odds``). ``--max-rows`` subsamples the dataset
(seeded) before splitting and ``--quality-max-rows`` caps the rows used by the quality metrics;
both are printed with the table so that figures are never quoted without them.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_METHODS = [
    "unmitigated", "correlation_remover", "reweighing",
    "exponentiated_gradient:constraint=demographic_parity",
    "exponentiated_gradient:constraint=equalized_odds",
    "threshold_optimizer:constraint=demographic_parity",
    "threshold_optimizer:constraint=equalized_odds",
    "tabfairgan", "decaf", "decaf-ftu", "decaf-dp",
]
SHOW = ["fit_seconds", "accuracy", "auroc", "dpr", "eor", "ftu"]
GENERATOR_SHOW = ["data_dpr", "alpha_precision", "beta_recall", "density", "coverage"]
QUALITY = ["alpha_precision", "beta_recall", "density", "coverage"]


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def parse_method(spec: str) -> tuple[str, dict[str, Any]]:
    name, _, rest = spec.partition(":")
    params = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        params[key.strip()] = _value(value.strip())
    return name, params


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--sensitive", action="append", default=None)
    ap.add_argument("--preset", action="append", default=None, help="fast and/or paper (repeat)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=DEFAULT_METHODS)
    ap.add_argument("--classifier", default="hgb")
    ap.add_argument("--max-rows", type=int, default=None, help="subsample the dataset (seeded)")
    ap.add_argument("--quality-max-rows", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--output", default=None, help="write the tidy per-seed rows here (CSV)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from fairx.data import load_dataset, train_test_split
    from fairx.evaluation.protocol import evaluate_method, mean_std_table, summarize
    from fairx.models import method_class

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:  # pragma: no cover
        pass
    ds = load_dataset(args.dataset, sensitive=args.sensitive)
    if args.max_rows is not None and args.max_rows < len(ds):
        rows = np.sort(np.random.default_rng(0).choice(len(ds), args.max_rows, replace=False))
        ds = ds.subset(rows)
    presets = args.preset or ["fast"]
    frames = []
    for seed in range(args.seeds):
        split = train_test_split(ds, seed=seed)
        for spec in args.methods:
            name, params = parse_method(spec)
            cls = method_class(name)
            if "device" in cls().get_params():
                params.setdefault("device", args.device)
            for preset in presets:
                if preset not in getattr(cls, "presets", {}) and preset != presets[0]:
                    continue  # no separate preset: run once
                t0 = time.perf_counter()
                r = evaluate_method(name, ds, seed=seed, preset=preset if preset in getattr(
                    cls, "presets", {}) else None, params=params, classifier=args.classifier,
                    split=split, quality_options={"metrics": QUALITY,
                                                  "max_rows": args.quality_max_rows})
                label = r.method + (f" [{preset}]" if preset in getattr(cls, "presets", {}) else "")
                f = r.to_frame().assign(method=label)
                frames.append(f)
                if args.output:  # rewritten after every cell, so a stopped run keeps its rows
                    pd.concat(frames, ignore_index=True).to_csv(args.output, index=False)
                print(f"seed {seed} {label}: {time.perf_counter() - t0:.1f}s  "
                      + "  ".join(f"{k}={r.metrics.get(k, math.nan):.3f}" for k in SHOW[1:]),
                      flush=True)
    tidy = pd.concat(frames, ignore_index=True)
    show = SHOW + (GENERATOR_SHOW if (tidy["stage"] == "generator").any() else [])
    table = mean_std_table(summarize(tidy, metrics=show))
    print(f"\n{ds.name} (sensitive {', '.join(ds.sensitive)}), {len(ds)} rows "
          f"(train {len(split[0])}, test {len(split[1])}), classifier {args.classifier}, "
          f"{args.seeds} seed(s), quality on ≤ {args.quality_max_rows} rows per table; "
          "mean ± std over seeds")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    main()
