"""How much accuracy is left at all under joint fairness constraints on a real test split.

A TSTR target such as "DPR ≥ 0.90 and EOR ≥ 0.80" is judged on the *real* test labels, whose base
rates differ between groups (Adult: 0.31 for men, 0.11 for women). This script computes what any
classifier built on the real-data score can reach under such constraints, so generator figures
can be read against what is possible.

Method: the downstream classifier (``hgb``, trained on the real train split *with* s: the
strongest score we have) scores the real test split. Every group-specific, possibly randomised
threshold on that score is a mixture of points on each group's ROC curve. Selection rate, TPR,
FPR and accuracy are linear in the mixture weights, and so are the ratio constraints
(rate_g ≥ r · rate_h for every ordered pair of groups), so the best accuracy under the
constraints is a linear programme (``scipy.optimize.linprog``). Groups with fewer than
``--min-group`` test rows are left out, as fairx's fairness metrics do. This is the optimum over
post-processings of one score, not over every classifier; a better score moves it a little.

    python benchmarks/fairness_frontier.py                        # adult:sex adult:race compas:*
    python benchmarks/fairness_frontier.py --settings adult:sex --seeds 0 1 2
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

CONSTRAINTS = [(None, None), (0.8, None), (0.9, None), (None, 0.8), (0.8, 0.8), (0.9, 0.8)]


def roc_points(score: np.ndarray, y: np.ndarray, n_points: int = 2001) -> dict[str, np.ndarray]:
    """Selection rate, TPR and FPR of 'select the top q' for q on a grid from 0 to 1."""
    order = np.argsort(-score, kind="stable")
    ys = y[order]
    k = np.unique(np.round(np.linspace(0, 1, n_points) * len(y)).astype(int))
    tp = np.concatenate([[0], np.cumsum(ys)])[k]
    pos = max(int(y.sum()), 1)
    neg = max(len(y) - int(y.sum()), 1)
    return {"pr": k / len(y), "tpr": tp / pos, "fpr": (k - tp) / neg}


def best_accuracy(score: np.ndarray, y: np.ndarray, groups: np.ndarray, *, dpr: float | None,
                  eor: float | None) -> dict[str, float]:
    """Maximal accuracy of randomised group-specific thresholds with DPR ≥ ``dpr`` and
    EOR ≥ ``eor`` (None: no constraint); ``nan`` accuracy when infeasible."""
    from scipy.optimize import linprog

    labels = list(np.unique(groups))
    pts = [roc_points(score[groups == g], y[groups == g]) for g in labels]
    sizes = [len(p["pr"]) for p in pts]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    nvar = int(offsets[-1])
    n = len(y)

    def rate_row(gi: int, key: str) -> np.ndarray:
        row = np.zeros(nvar)
        row[offsets[gi]:offsets[gi + 1]] = pts[gi][key]
        return row

    gain = np.zeros(nvar)  # accuracy = Σ_g n_g/n · (b_g·TPR_g + (1 − b_g)·(1 − FPR_g))
    const = 0.0
    for gi, g in enumerate(labels):
        yg = y[groups == g]
        w, b = len(yg) / n, yg.mean()
        gain += w * (b * rate_row(gi, "tpr") - (1 - b) * rate_row(gi, "fpr"))
        const += w * (1 - b)
    a_ub, b_ub = [], []
    for key, bound in (("pr", dpr), ("tpr", eor), ("fpr", eor)):
        if bound is None:
            continue
        for gi in range(len(labels)):
            for hi in range(len(labels)):
                if gi != hi:  # bound·rate_h − rate_g ≤ 0
                    a_ub.append(bound * rate_row(hi, key) - rate_row(gi, key))
                    b_ub.append(0.0)
    a_eq = np.zeros((len(labels), nvar))
    for gi in range(len(labels)):
        a_eq[gi, offsets[gi]:offsets[gi + 1]] = 1.0
    res = linprog(-gain, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None, A_eq=a_eq,
                  b_eq=np.ones(len(labels)), bounds=(0, None), method="highs")
    if not res.success:
        return {"accuracy": float("nan")}
    out = {"accuracy": float(const + gain @ res.x)}
    for key, label in (("pr", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR")):
        vals = [float(rate_row(gi, key) @ res.x) for gi in range(len(labels))]
        out[f"{label} (min–max over groups)"] = f"{min(vals):.2f}–{max(vals):.2f}"
    return out


def frontier(setting: str, seed: int, min_group: int) -> pd.DataFrame:
    from sklearn.metrics import roc_auc_score

    from fairx.data import load_dataset, train_test_split
    from fairx.metrics import fit_downstream

    name, _, sensitive = setting.partition(":")
    ds = load_dataset(name, sensitive=sensitive or None)
    train, test = train_test_split(ds, seed=seed)
    score = fit_downstream(train, seed=seed, use_sensitive=True).predict_proba(test)
    y = np.asarray(test.y)
    groups = test.s.astype(str).to_numpy()
    counts = pd.Series(groups).value_counts()
    keep = np.isin(groups, counts[counts >= min_group].index)
    score, y, groups = score[keep], y[keep], groups[keep]
    rows = []
    for dpr, eor in CONSTRAINTS:
        res = best_accuracy(score, y, groups, dpr=dpr, eor=eor)
        rows.append({"setting": setting, "seed": seed, "DPR ≥": dpr, "EOR ≥": eor, **res,
                     "all-negative accuracy": float(1 - y.mean()),
                     "score AUROC": float(roc_auc_score(y, score))})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", nargs="+", default=["adult:sex", "adult:race", "compas:sex", "compas:race"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--min-group", type=int, default=30)
    args = ap.parse_args()
    table = pd.concat([frontier(s, seed, args.min_group) for s in args.settings for seed in args.seeds],
                      ignore_index=True)
    keys = ["setting", "DPR ≥", "EOR ≥"]
    table[keys[1:]] = table[keys[1:]].astype(object).where(table[keys[1:]].notna(), "-")
    acc = table.groupby(keys, sort=False)["accuracy"].agg(["mean", "std", "count"]).reset_index()
    first = table.drop_duplicates(keys).drop(columns=["seed", "accuracy"])
    out = first.merge(acc, on=keys)
    out.insert(3, "best accuracy", [f"{m:.3f} ± {sd:.3f}" if n > 1 else f"{m:.3f}"
                                    for m, sd, n in zip(out["mean"], out["std"], out["count"], strict=True)])
    out = out.drop(columns=["mean", "std", "count"])
    pd.set_option("display.width", 250)
    print(f"Best accuracy of any randomised group-specific threshold on the real-data hgb score, "
          f"mean ± std over seeds {args.seeds}; rates shown for seed {args.seeds[0]}.")
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
