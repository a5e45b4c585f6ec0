"""`METRIC_INFO`: name, group, direction, range and a one-line description of every metric.

Reports and tables read this instead of hard-coding which way is better (SDMetrics style).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricGroup = Literal["utility", "fairness", "data", "quality"]
Direction = Literal["higher", "lower", "target"]


@dataclass(frozen=True)
class MetricInfo:
    """What a metric measures and which values are good.

    ``direction`` is ``"higher"``/``"lower"`` (better) or ``"target"`` (best at ``target``).
    """

    name: str
    group: MetricGroup
    direction: Direction
    range: tuple[float, float]
    description: str
    target: float | None = None

    def better(self, a: float, b: float) -> bool:
        """True when value ``a`` is strictly better than ``b``."""
        if self.direction == "higher":
            return a > b
        if self.direction == "lower":
            return a < b
        return abs(a - float(self.target)) < abs(b - float(self.target))


_ROWS: list[tuple[str, MetricGroup, Direction, tuple[float, float], str, float | None]] = [
    # utility (downstream classifier on the real test split)
    ("accuracy", "utility", "higher", (0, 1), "share of correct test predictions", None),
    ("balanced_accuracy", "utility", "higher", (0, 1), "mean of TPR and TNR", None),
    ("precision", "utility", "higher", (0, 1), "P(y=1 | yhat=1), positive = the dataset's positive label", None),
    ("recall", "utility", "higher", (0, 1), "P(yhat=1 | y=1)", None),
    ("f1", "utility", "higher", (0, 1), "harmonic mean of precision and recall", None),
    ("auroc", "utility", "higher", (0, 1), "area under the ROC curve of predicted probabilities", None),
    # fairness of predictions
    ("dpr", "fairness", "higher", (0, 1), "demographic parity ratio min_g SR_g / max_g SR_g", None),
    ("dpd", "fairness", "lower", (0, 1), "demographic parity difference max_g SR_g - min_g SR_g", None),
    ("eor", "fairness", "higher", (0, 1), "equalized odds ratio: min of the TPR and FPR ratios", None),
    ("eod", "fairness", "lower", (0, 1), "equalized odds difference: max of the TPR and FPR ranges", None),
    ("eop_ratio", "fairness", "higher", (0, 1), "equal opportunity ratio min_g TPR_g / max_g TPR_g", None),
    ("eop_diff", "fairness", "lower", (0, 1), "equal opportunity difference max_g TPR_g - min_g TPR_g", None),
    ("fpr_gap", "fairness", "lower", (0, 1), "max_g FPR_g - min_g FPR_g", None),
    ("undefined_rate_groups", "fairness", "lower", (0, float("inf")),
     "number of groups without positives (TPR) or negatives (FPR); > 0 flags that the eor/eod/eop/"
     "fpr_gap values used the `undefined` rule (exclude the group, or count the rate as 0)", None),
    ("ftu", "fairness", "lower", (0, 1),
     "fairness through unawareness: max over group pairs of mean |p(x,s=a) - p(x,s=b)|", None),
    # data-level parity of a table
    ("data_dpd", "data", "lower", (0, 1), "max_g P(y=1|s=g) - min_g P(y=1|s=g) in the table", None),
    ("data_dpr", "data", "higher", (0, 1), "min_g P(y=1|s=g) / max_g P(y=1|s=g) in the table", None),
    # synthetic-data quality
    ("alpha_precision", "quality", "higher", (0, 1), "alpha-precision (Alaa et al. 2022): fidelity", None),
    ("beta_recall", "quality", "higher", (0, 1), "beta-recall (Alaa et al. 2022): diversity", None),
    ("authenticity", "quality", "higher", (0, 1),
     "share of synthetic rows farther from their nearest real row than that row's nearest real neighbour",
     None),
    ("prdc_precision", "quality", "higher", (0, 1), "precision (Naeem et al. 2020, k=5)", None),
    ("prdc_recall", "quality", "higher", (0, 1), "recall (Naeem et al. 2020, k=5)", None),
    ("density", "quality", "target", (0, float("inf")), "density (Naeem et al. 2020, k=5); 1 = same density", 1.0),
    ("coverage", "quality", "higher", (0, 1), "coverage (Naeem et al. 2020, k=5)", None),
    ("ks_complement", "quality", "higher", (0, 1), "mean over numerical columns of 1 - KS statistic", None),
    ("tv_complement", "quality", "higher", (0, 1), "mean over categorical columns of 1 - total variation", None),
    ("column_fidelity", "quality", "higher", (0, 1), "mean of the KS and TV complements over all columns", None),
    ("correlation_similarity", "quality", "higher", (0, 1),
     "1 - mean gap of pairwise Pearson (numerical) and Cramer's V (categorical) associations", None),
    ("c2st_auc", "quality", "target", (0, 1),
     "cross-validated AUC of a classifier telling real from synthetic; 0.5 = indistinguishable", 0.5),
    ("detection_score", "quality", "higher", (0, 1), "1 - 2|c2st_auc - 0.5|", None),
    ("dcr_share", "quality", "target", (0, 1),
     "share of synthetic rows closer to a real train row than to a real holdout row; 0.5 ideal, 1 = copying",
     0.5),
]

# intersections: the headline leaves groups under min_group_size rows out; *_all counts every group
_ROWS += [(f"{name}_all", "fairness", direction, rng, f"{name} over every intersection group, "
           "however small (the headline leaves groups under min_group_size rows out)", None)
          for name, group, direction, rng, _, _ in list(_ROWS)
          if group == "fairness" and name not in ("ftu", "undefined_rate_groups")]
_ROWS += [(f"{name}_all", "data", direction, rng, f"{name} over every intersection group, however "
           "small (data_dpd/data_dpr leave groups under min_group_size rows out)", None)
          for name, group, direction, rng, _, _ in list(_ROWS) if group == "data"]
_ROWS.append(("n_groups_excluded", "fairness", "lower", (0, float("inf")),
              "intersection groups under min_group_size test rows, left out of the headline", None))

METRIC_INFO: dict[str, MetricInfo] = {
    name: MetricInfo(name, group, direction, rng, desc, target)
    for name, group, direction, rng, desc, target in _ROWS
}

UTILITY_METRICS = tuple(n for n, i in METRIC_INFO.items() if i.group == "utility")
FAIRNESS_METRICS = tuple(n for n, i in METRIC_INFO.items() if i.group == "fairness")
DATA_METRICS = tuple(n for n, i in METRIC_INFO.items() if i.group == "data")
QUALITY_METRICS = tuple(n for n, i in METRIC_INFO.items() if i.group == "quality")
