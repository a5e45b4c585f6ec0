"""The downstream utility protocol (methods.md §7): one classifier, trained on train data
(real, synthetic or transformed), scored on a real test split for utility and fairness."""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ..data import DatasetError, TabularDataset, train_test_split
from ._fairness import _binary, ftu, headline_fairness
from ._hgb_bins import QuantileBinCodes

logger = logging.getLogger(__name__)

CLASSIFIERS = ("hgb", "logreg", "rf", "xgboost")
Mode = Literal["TRTR", "TSTR", "TSTS"]
MODES = ("TRTR", "TSTR", "TSTS")


#: HistGradientBoosting bins a native categorical feature by its codes: at most 255 categories
_HGB_MAX_CATEGORIES = 255


def _make_estimator(classifier: str, *, seed: int, categorical: list[str], numerical: list[str],
                    cardinality: dict[str, int] | None = None) -> Any:
    """A pipeline: categoricals one-hot (unknown categories ignored) + scaling where the model
    needs it; for ``hgb`` categoricals as native categorical codes instead.

    Why native codes for ``hgb``: one-hot columns (≈ 100 on Adult) make every boosting
    iteration bin and scan them; native categorical splits are scikit-learn's recommended
    encoding for this model: several times less CPU per fit with the same AUROC (docs/measurements.md,
    measured figures). Columns with more than 255 categories
    (``cardinality``, counted on the training rows) keep their codes as ordered numbers.
    Unknown categories at prediction time are missing values.
    """
    # heavy (sklearn): imported when used, so `import fairx` stays light
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if classifier == "hgb":
        # heavy (sklearn): imported when used, so `import fairx` stays light
        from sklearn.ensemble import HistGradientBoostingClassifier

        sizes = cardinality or {}
        native = [sizes.get(c, 0) <= _HGB_MAX_CATEGORIES for c in categorical]
        mask = np.array(native + [False] * len(numerical), dtype=bool)
        model: Any = HistGradientBoostingClassifier(
            random_state=seed, categorical_features=mask if mask.any() else None)
        codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                               dtype=np.float64)
        # numeric columns as the model's own (unweighted) bin codes: see ._hgb_bins
        columns = ColumnTransformer([("cat", codes, categorical), ("num", QuantileBinCodes(), numerical)],
                                    remainder="drop")
        return Pipeline([("columns", columns), ("model", model)])
    elif classifier == "logreg":
        # heavy (sklearn): imported when used, so `import fairx` stays light
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=2000, random_state=seed)
        num = StandardScaler()
    elif classifier == "rf":
        # heavy (sklearn): imported when used, so `import fairx` stays light
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=200, min_samples_leaf=2, random_state=seed)
        num = "passthrough"
    elif classifier == "xgboost":
        try:
            # heavy (xgboost): imported when used, so `import fairx` stays light
            from xgboost import XGBClassifier
        except ImportError:
            raise ValueError(
                "classifier='xgboost' needs the xgboost package (pip install xgboost); "
                f"installed choices: {[c for c in CLASSIFIERS if c != 'xgboost']}"
            ) from None
        model = XGBClassifier(n_estimators=300, tree_method="hist", random_state=seed, n_jobs=1)
        num = "passthrough"
    else:
        raise ValueError(f"unknown classifier {classifier!r}; allowed: {list(CLASSIFIERS)}")
    columns = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
         ("num", num, numerical)],
        remainder="drop",
    )
    return Pipeline([("columns", columns), ("model", model)])


class DownstreamModel:
    """A fitted downstream classifier and the columns it reads.

    Attributes: ``estimator`` (the fitted scikit-learn pipeline, or ``None`` when the training
    target had one class, in which case the constant ``constant_proba`` is predicted),
    ``feature_names``, ``categorical``, ``uses_sensitive``, ``classifier``.
    """

    def __init__(self, *, estimator: Any, feature_names: list[str], categorical: list[str],
                 uses_sensitive: bool, classifier: str, constant_proba: float | None = None) -> None:
        self.estimator = estimator
        self.feature_names = feature_names
        self.categorical = categorical
        self.uses_sensitive = uses_sensitive
        self.classifier = classifier
        self.constant_proba = constant_proba

    def design(self, ds: TabularDataset | pd.DataFrame) -> pd.DataFrame:
        """The input frame: the model's columns, categoricals as strings."""
        frame = ds.frame if isinstance(ds, TabularDataset) else ds
        missing = [c for c in self.feature_names if c not in frame.columns]
        if missing:
            raise DatasetError(f"columns {missing} are missing; the model was trained on {self.feature_names}")
        X = frame[self.feature_names].copy()
        for c in self.categorical:
            X[c] = X[c].astype(str)
        return X

    def predict_proba(self, ds: TabularDataset | pd.DataFrame) -> np.ndarray:
        """(n,) probability of the positive label."""
        X = self.design(ds)
        if self.estimator is None:
            return np.full(len(X), float(self.constant_proba))
        return self.estimator.predict_proba(X)[:, 1]

    def predict(self, ds: TabularDataset | pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """(n,) 0/1 predictions (1 = positive label)."""
        return (self.predict_proba(ds) >= threshold).astype(int)

    def __repr__(self) -> str:
        return (f"DownstreamModel(classifier={self.classifier!r}, uses_sensitive={self.uses_sensitive}, "
                f"features={len(self.feature_names)})")


def fit_downstream(
    train: TabularDataset, *, classifier: str = "hgb", use_sensitive: bool = False, seed: int = 0,
    sample_weight: np.ndarray | None = None,
) -> DownstreamModel:
    """Train the downstream classifier on ``train`` (target = ``train.y``, 1 = positive label).

    ``use_sensitive=False`` drops the sensitive column(s) (fairness-through-unawareness setting).
    ``sample_weight`` defaults to ``train.weights`` (e.g. from Reweighing). A training table
    whose target has a single class gives a constant predictor (logged).
    """
    if not isinstance(train, TabularDataset):
        raise TypeError(f"fit_downstream expects a TabularDataset, got {type(train).__name__}")
    if classifier not in CLASSIFIERS:
        raise ValueError(f"unknown classifier {classifier!r}; allowed: {list(CLASSIFIERS)}")
    features = train.features if use_sensitive else train.features_without_sensitive
    categorical = [c for c in features if c in train.categorical]
    numerical = [c for c in features if c not in train.categorical]
    y = train.y
    if sample_weight is None:
        sample_weight = train.weights
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=float)
        if sample_weight.shape != (len(train),):
            raise ValueError(f"sample_weight has shape {sample_weight.shape}, expected ({len(train)},)")
    if len(np.unique(y)) < 2:
        logger.warning("fit_downstream: training target has one class only; predicting a constant")
        return DownstreamModel(estimator=None, feature_names=features, categorical=categorical,
                               uses_sensitive=use_sensitive, classifier=classifier,
                               constant_proba=float(y[0]))
    cardinality = {c: int(train.frame[c].nunique(dropna=False)) for c in categorical}
    estimator = _make_estimator(classifier, seed=seed, categorical=categorical, numerical=numerical,
                                cardinality=cardinality)
    model = DownstreamModel(estimator=estimator, feature_names=features, categorical=categorical,
                            uses_sensitive=use_sensitive, classifier=classifier)
    fit_params = {} if sample_weight is None else {"model__sample_weight": sample_weight}
    estimator.fit(model.design(train), y, **fit_params)
    return model


def prediction_metrics(
    y_true: Any, y_pred: Any, *, y_score: Any = None, sensitive_features: Any, min_group_size: int = 30,
    undefined: str = "exclude",
) -> dict[str, float]:
    """Utility and fairness of one prediction set (labels 0/1, 1 = the positive label).

    accuracy, balanced_accuracy, precision, recall, f1, auroc (from ``y_score`` probabilities;
    NaN without them or with one class in ``y_true``) and the §6 fairness metrics with the flag
    ``undefined_rate_groups`` (``undefined``: see :func:`~fairx.metrics.summarise_rates`). With
    several sensitive columns the fairness metrics leave intersection groups under
    ``min_group_size`` rows out and add ``<metric>_all`` and ``n_groups_excluded``
    (:func:`~fairx.metrics.headline_fairness`).
    """
    yt, yp = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if len(yt) != len(yp):
        raise ValueError(f"y_true has {len(yt)} rows but y_pred has {len(yp)}")
    out = {
        "accuracy": float(accuracy_score(yt, yp)),
        "balanced_accuracy": float(balanced_accuracy_score(yt, yp)) if len(np.unique(yt)) > 1 else float("nan"),
        "precision": float(precision_score(yt, yp, zero_division=0)),
        "recall": float(recall_score(yt, yp, zero_division=0)),
        "f1": float(f1_score(yt, yp, zero_division=0)),
        "auroc": float("nan"),
    }
    if y_score is not None and len(np.unique(yt)) > 1:
        out["auroc"] = float(roc_auc_score(yt, np.asarray(y_score, dtype=float)))
    out.update(headline_fairness(yt, yp, sensitive_features=sensitive_features,
                                 min_group_size=min_group_size, undefined=undefined))
    return out


def utility_protocol(
    train: TabularDataset, test: TabularDataset | None, *, classifier: str = "hgb",
    use_sensitive: bool = False, seed: int = 0, mode: Mode = "TSTR",
    sample_weight: np.ndarray | None = None, min_group_size: int = 30, undefined: str = "exclude",
) -> dict[str, float]:
    """Train on ``train``, predict ``test``: :func:`prediction_metrics` plus ``ftu``.

    ``mode`` labels the run (``"TRTR"`` real/real, ``"TSTR"`` synthetic/real). ``"TSTS"``
    (FairX-style, for comparison only) splits ``train`` 70/30 (seeded) and ignores ``test``.
    ``ftu`` is NaN unless ``use_sensitive`` (the model must see s). ``undefined``: how a group
    without positives/negatives counts in the TPR/FPR metrics (``"exclude"`` or ``"zero"``).
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}; allowed: {list(MODES)}")
    if mode == "TSTS":
        if sample_weight is not None:
            train = train.replace(weights=np.asarray(sample_weight, dtype=float))
            sample_weight = None
        train, test = train_test_split(train, test_size=0.3, seed=seed)
    if test is None:
        raise ValueError(f"mode={mode!r} needs a test table")
    model = fit_downstream(train, classifier=classifier, use_sensitive=use_sensitive, seed=seed,
                           sample_weight=sample_weight)
    proba = model.predict_proba(test)
    out = prediction_metrics(test.y, (proba >= 0.5).astype(int), y_score=proba,
                             sensitive_features=test.sensitive_frame, min_group_size=min_group_size,
                             undefined=undefined)
    out["ftu"] = ftu(model, test)
    return out
