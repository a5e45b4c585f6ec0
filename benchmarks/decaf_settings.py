"""One DECAF fit on full Adult × sex (split and seed 0) with chosen settings: TSTR (hgb without s)
and quality (coverage, density, α-precision on 8,000 rows) of DECAF-ND and DECAF-DP from that fit.

    python benchmarks/decaf_settings.py --params '{"tau": 0, "lr": 5e-4, "patience": 20}'
    python benchmarks/decaf_settings.py --dag complete --params '{"lr": 2e-4, "patience": 20}'

``--dag tree`` is DECAF's learned Chow–Liu tree; ``complete`` gives every column all columns
before it in the tree's topological order as parents (the target last). Each run is one seed:
GAN results vary by seed, so compare settings as a direction (docs/measurements.md, DECAF).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from fairx.data import load_dataset, train_test_split
from fairx.metrics import synthetic_quality, utility_protocol
from fairx.models.generators.dag import chow_liu_dag, topological_order
from fairx.models.generators.decaf import DECAF

QUALITY = ["coverage", "density", "alpha_precision"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dag", choices=["tree", "complete"], default="tree")
    ap.add_argument("--params", default="{}", help="DECAF parameters as JSON")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train, test = train_test_split(load_dataset("adult", sensitive=["sex"]), seed=0)
    dag = None
    if args.dag == "complete":
        order = topological_order(chow_liu_dag(train.frame, train.sensitive[0]), list(train.frame.columns))
        order = [c for c in order if c != train.target] + [train.target]
        dag = [(order[i], order[j]) for j in range(len(order)) for i in range(j)]
    params = json.loads(args.params)
    model = DECAF(dag=dag, random_state=0, verbose=False, **params)
    t0 = time.perf_counter()
    model.fit(train)
    print(f"DECAF dag={args.dag} {params}: fit {time.perf_counter() - t0:.1f} s, best epoch "
          f"{model.best_epoch_} of {len(model.history_)}", flush=True)
    for mode in ("none", "dp"):
        syn = model.sample(len(train.frame), seed=0, mode=mode)
        rates = (syn.frame[syn.target] == syn.positive_label).groupby(syn.frame[syn.sensitive[0]]).mean()
        u = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
        q = synthetic_quality(train, syn, seed=0, max_rows=8000, metrics=QUALITY, verbose=False)
        print(f"  {mode}: auroc {u['auroc']:.3f} accuracy {u['accuracy']:.3f} dpr {u['dpr']:.3f} "
              f"data_dpd {rates.max() - rates.min():.3f} " + " ".join(f"{k} {q[k]:.3f}" for k in QUALITY),
              flush=True)


if __name__ == "__main__":
    main()
