"""Which features carry s from a fair synthetic table into the real test rows (Adult × sex)?

A fair-latent table is at parity (data-level DPD ≈ 0), yet a classifier trained on it (TSTR)
and applied to the real test split has DPR ≈ 0.55. This script trains one FairVAE teacher
(or loads it from ``--teacher-dir``), decodes a synthetic table of the training size from the
prior (FairDisCo) or from the real rows' sampled posteriors (what FLDGM / FairDistill / Fair4Free
approximate), and refits the TSTR classifier (hgb without s) once per feature left out, printing
the real-test AUROC / DPR of each. A feature whose removal raises DPR most is a carrier. Beside
each feature: its association with s in the real train split and in the synthetic table
(Cramér's V on categoricals, on 10 quantile bins for numericals).

    python benchmarks/fair_latent_tstr_gap.py --teacher-dir /tmp/f4f_teacher
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fairx.data import load_dataset, train_test_split
from fairx.metrics import utility_protocol
from fairx.models.fair_latent.fair_vae import FairVAE


def cramers_v(a: pd.Series, b: pd.Series) -> float:
    from scipy.stats.contingency import association

    if pd.api.types.is_numeric_dtype(a) and a.nunique() > 10:
        a = pd.qcut(a, 10, duplicates="drop")
    table = pd.crosstab(a.astype(str), b.astype(str)).to_numpy()
    return float(association(table, method="cramer")) if min(table.shape) > 1 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher-dir", type=Path, default=None)
    ap.add_argument("--latents", choices=["prior", "posterior"], default="posterior")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train, test = train_test_split(load_dataset("adult", sensitive=["sex"]), seed=args.seed)
    if args.teacher_dir is not None and (args.teacher_dir / "config.json").exists():
        vae = FairVAE.load(args.teacher_dir)
    else:
        t0 = time.perf_counter()
        vae = FairVAE(random_state=args.seed, verbose=False).fit(train)
        print(f"teacher fit {time.perf_counter() - t0:.0f} s")
    rng = np.random.default_rng(1)
    if args.latents == "prior":
        syn = vae.sample(len(train.frame), seed=1)
    else:
        mu, logvar = vae.posterior(train)
        syn = vae.decode_latent(mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape), seed=2)
    s_col = train.sensitive[0]
    features = [c for c in train.frame.columns if c not in (train.target, s_col)]

    def without(ds, drop: list[str]):
        keep = [c for c in ds.frame.columns if c not in drop]
        return ds.replace(frame=ds.frame[keep], weights=None,
                          categorical=[c for c in ds.categorical if c not in drop],
                          numerical=[c for c in ds.numerical if c not in drop],
                          integer=[c for c in ds.integer if c not in drop])

    def tstr(drop: list[str]) -> dict:
        return utility_protocol(without(syn, drop), without(test, drop), classifier="hgb", seed=0,
                                mode="TSTR")

    base = tstr([])
    rates = syn.frame.groupby(s_col)[syn.target].apply(lambda v: (v == syn.positive_label).mean())
    print(f"{args.latents} latents: TSTR AUROC {base['auroc']:.3f} DPR {base['dpr']:.3f}; "
          f"synthetic positive rate by {s_col}: {rates.round(3).to_dict()}")
    rows = []
    for f in features:
        r = tstr([f])
        rows.append({"left out": f, "auroc": r["auroc"], "dpr": r["dpr"], "Δdpr": r["dpr"] - base["dpr"],
                     "V(f, s) real": cramers_v(train.frame[f], train.frame[s_col]),
                     "V(f, s) synthetic": cramers_v(syn.frame[f], syn.frame[s_col])})
    table = pd.DataFrame(rows).sort_values("Δdpr", ascending=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
