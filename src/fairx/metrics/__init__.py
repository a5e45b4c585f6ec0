"""Fairness, utility and synthetic-data quality metrics (methods.md §6–§8).

``import fairx.metrics`` is light: torch is imported only by the one-class embedding of
α-precision / β-recall, when it is used.
"""

from ._evaluate import align_to_schema, check_schema, evaluate
from ._fairness import (
    bootstrap_ci,
    data_parity,
    dpd,
    dpr,
    eod,
    eop_diff,
    eop_ratio,
    eor,
    fairness_by_attribute,
    fairness_metrics,
    fpr_gap,
    ftu,
    group_sizes,
    group_table,
    headline_fairness,
    small_groups,
    summarise_rates,
    worst_pair,
)
from ._images import (
    ImageClassifier,
    feature_quality,
    fit_image_classifier,
    image_prediction_metrics,
    image_quality,
    image_utility,
    label_group_dependence,
    painted_colour,
)
from ._info import METRIC_INFO, MetricInfo
from ._neighbours import cross_pass, knn, knn_self, pair_distances
from ._quality import (
    alpha_precision_score,
    authenticity_score,
    beta_recall_score,
    c2st_auc,
    column_fidelity,
    correlation_similarity,
    cramers_v,
    prdc_scores,
    synthetic_quality,
)
from ._threads import default_threads, thread_limit
from ._utility import (
    CLASSIFIERS,
    DownstreamModel,
    fit_downstream,
    prediction_metrics,
    utility_protocol,
)

__all__ = [
    "ImageClassifier", "feature_quality", "fit_image_classifier", "image_prediction_metrics",
    "image_quality", "image_utility", "label_group_dependence", "painted_colour",
    "CLASSIFIERS", "METRIC_INFO", "DownstreamModel", "MetricInfo", "align_to_schema",
    "alpha_precision_score", "authenticity_score", "beta_recall_score", "bootstrap_ci", "c2st_auc",
    "check_schema", "column_fidelity", "correlation_similarity", "cramers_v", "cross_pass",
    "data_parity", "default_threads", "dpd", "dpr", "eod", "eop_diff", "eop_ratio", "eor", "evaluate",
    "fairness_by_attribute", "fairness_metrics", "fit_downstream", "fpr_gap", "ftu", "group_sizes",
    "group_table", "headline_fairness", "small_groups",
    "knn", "knn_self", "pair_distances", "prdc_scores", "prediction_metrics", "summarise_rates",
    "synthetic_quality", "thread_limit", "utility_protocol", "worst_pair",
]
