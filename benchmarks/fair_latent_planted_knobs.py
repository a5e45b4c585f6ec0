"""FairDisCo's teacher knobs on the planted-bias table (what the tests and the demo train on).

The Adult decoder diagnostic (``fair_latent_decoder_diag.py``) suggested new teacher defaults
(``numerical="bins"``, ``kl_weight=0.3``, ``hidden=128``) for coverage and density. This script
measures the same knobs, one at a time and together, where the fair-latent tests check fairness
and utility: the planted table (2400 rows, bias 0.8, split seed 0), the ``fast`` preset, for each
training seed: the s-probe AUROC of the test suite, data-level DPR, TSTR AUROC / DPR (hgb, no s),
and how well the posterior means of the real training rows decode back to their own numerical
values (Pearson r per column, mean over columns; ≈ 0 means the decoder only learned marginals).

    python benchmarks/fair_latent_planted_knobs.py --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from latent_checks import biased_split, latent_s_probe_auroc  # noqa: E402

from fairx.metrics import data_parity, utility_protocol  # noqa: E402
from fairx.models import get  # noqa: E402

VARIANTS: list[dict] = [
    {},
    {"numerical": "bins"},
    {"kl_weight": 0.3},
    {"hidden": 128},
    {"numerical": "bins", "kl_weight": 0.3, "hidden": 128},
    {"numerical": "bins", "kl_weight": 0.3, "hidden": 128, "epochs": 100},
    {"numerical": "bins", "kl_weight": 0.3, "hidden": 128, "beta": 0.0},
]


def reconstruction_r(model, train) -> float:
    """Mean Pearson r between each numerical column of ``train`` and its value decoded from the
    row's own posterior mean (and its own s)."""
    mu, _ = model.posterior(train)
    decoded = model.decode_latent(mu, s=train.s.tolist()).frame
    return float(np.mean([np.corrcoef(train.frame[c], decoded[c])[0, 1] for c in train.numerical]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", default=None, help="JSON list of parameter dicts (default: VARIANTS)")
    args = parser.parse_args()
    variants = json.loads(args.variants) if args.variants else VARIANTS
    train, test = biased_split()
    print("params | seed | s-probe | data DPR | TSTR AUROC | TSTR DPR | recon r | fit s")
    for params in variants:
        for seed in args.seeds:
            t0 = time.perf_counter()
            model = get("fairdisco", preset="fast", random_state=seed, **params).fit(train)
            fit = time.perf_counter() - t0
            syn = model.sample(6000, seed=0)
            tstr = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
            print(f"{json.dumps(params)} | {seed} | {latent_s_probe_auroc(model, train, test):.3f} | "
                  f"{data_parity(syn)['data_dpr']:.3f} | {tstr['auroc']:.3f} | {tstr['dpr']:.3f} | "
                  f"{reconstruction_r(model, train):.3f} | {fit:.1f}", flush=True)


if __name__ == "__main__":
    main()
