"""Explainability (methods.md §10): which features drive the downstream classifier, real vs a
method's output, and how much of it flows through the sensitive attribute and its proxies.

For a dataset and a method we train the downstream classifier on the real train split and on the
method's output (a generator's synthetic table, a pre-processor's transformed/reweighted table)
and explain both on the same random subsample of the real test split:

- mean |SHAP| per feature, ``I_real`` and ``I_method`` (TreeExplainer for tree models, the exact
  linear explainer for logistic regression; a model-agnostic permutation explainer for in- and
  post-processing methods, which are explained directly);
- the Spearman rank correlation between ``I_real`` and ``I_method``;
- the share of attribution on s, ``sum_{j in S} I_j / sum_j I_j``, and on its strongest proxies
  (the non-sensitive features with the highest mutual information with s).

Features are explained one column each: categorical columns enter the tree models as ordinal
codes (one-hot blocks for the linear model, whose SHAP values are summed per column).
shap is an optional dependency (``pip install "fairx[explain]"``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..data import TabularDataset, load_dataset, train_test_split
from ..models import get

logger = logging.getLogger(__name__)

INSTALL_HINT = 'explainability needs the optional shap package: pip install "fairx[explain]"'
CLASSIFIERS = ("hgb", "rf", "logreg")


def shap_available() -> bool:
    """Whether shap can be imported."""
    try:
        import shap  # noqa: F401
    except ImportError:
        return False
    return True


def _shap():
    try:
        # heavy (shap): loaded when used; `import fairx` stays light
        import shap
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return shap


# ---------------------------------------------------------------------------- encoding
class _Coder:
    """Features -> float matrix, one column per feature (categoricals as ordinal codes)."""

    def __init__(self, ds: TabularDataset, features: list[str]) -> None:
        self.features = features
        self.categorical = [f for f in features if f in ds.categorical]
        self.categories = {f: sorted(pd.unique(ds.frame[f].astype(str))) for f in self.categorical}
        self.template = ds

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for f in self.features:
            if f in self.categories:
                lookup = {c: i for i, c in enumerate(self.categories[f])}
                cols.append(frame[f].astype(str).map(lookup).fillna(-1).to_numpy(dtype=float))
            else:
                cols.append(frame[f].to_numpy(dtype=float))
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    def decode(self, matrix: np.ndarray, base: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``matrix`` back into a frame with the schema of ``base`` (other columns kept)."""
        frame = base.iloc[np.zeros(len(matrix), dtype=int)].reset_index(drop=True).copy()
        for j, f in enumerate(self.features):
            if f in self.categories:
                cats = np.asarray(self.categories[f], dtype=object)
                codes = np.clip(np.round(matrix[:, j]).astype(int), 0, len(cats) - 1)
                values = pd.Series(cats[codes])
                dtype = base[f].dtype
                frame[f] = values.astype(dtype) if pd.api.types.is_numeric_dtype(dtype) else values
            else:
                frame[f] = matrix[:, j].astype(base[f].dtype, copy=False)
        return frame


def _fit(classifier: str, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, cat_idx: list[int],
         seed: int):
    if classifier == "hgb":
        # heavy (scikit-learn): loaded when used; `import fairx` stays light
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(random_state=seed)
    elif classifier == "rf":
        # heavy (scikit-learn): loaded when used; `import fairx` stays light
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, random_state=seed, n_jobs=1)
    elif classifier == "logreg":
        # heavy (scikit-learn): loaded when used; `import fairx` stays light
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        num_idx = [j for j in range(X.shape[1]) if j not in cat_idx]
        prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat_idx),
                                  ("num", StandardScaler(), num_idx)])
        model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))])
        if len(np.unique(y)) < 2:
            raise ValueError("the training table has a single class; cannot fit a classifier")
        return model.fit(X, y, clf__sample_weight=w)
    else:
        raise ValueError(f"classifier={classifier!r}; allowed for explain: {', '.join(CLASSIFIERS)}")
    if len(np.unique(y)) < 2:
        raise ValueError("the training table has a single class; cannot fit a classifier")
    return model.fit(X, y, sample_weight=w)


def _shap_matrix(classifier: str, model: Any, X: np.ndarray, background: np.ndarray,
                 cat_idx: list[int]) -> tuple[np.ndarray, str]:
    """(n, n_features) SHAP values of the positive class and the explainer's name."""
    shap = _shap()
    if classifier in ("hgb", "rf"):
        values = np.asarray(shap.TreeExplainer(model).shap_values(X))
        if values.ndim == 3:  # (n, f, classes)
            values = values[:, :, 1]
        return values, "TreeExplainer"
    prep, clf = model.named_steps["prep"], model.named_steps["clf"]
    Z, Zb = prep.transform(X), prep.transform(background)
    lin = shap.LinearExplainer(clf, shap.maskers.Independent(Zb, max_samples=len(Zb)))
    values_z = np.asarray(lin.shap_values(Z))
    # sum the one-hot columns of each feature back into one value (SHAP values are additive)
    out = np.zeros((len(X), X.shape[1]))
    pos = 0
    ohe = prep.named_transformers_["cat"]
    widths = {j: len(c) for j, c in zip(cat_idx, ohe.categories_, strict=True)} if cat_idx else {}
    order = list(cat_idx) + [j for j in range(X.shape[1]) if j not in cat_idx]
    for j in order:
        w = widths.get(j, 1)
        out[:, j] = values_z[:, pos:pos + w].sum(axis=1)
        pos += w
    return out, "LinearExplainer"


def _permutation_shap(fn: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      background: np.ndarray, seed: int) -> np.ndarray:
    shap = _shap()
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(fn, masker, seed=seed)
    return np.asarray(explainer(X, silent=True).values)


# ---------------------------------------------------------------------------- result
@dataclass
class ExplainResult:
    """Importances of the downstream classifier on real data vs on a method's output."""

    method: str
    stage: str
    classifier: str
    explainer: str
    features: list[str]
    sensitive: list[str]
    proxies: list[str]
    importances: pd.DataFrame  # feature, real, method, mutual_info_s, role
    rank_correlation: float
    share_sensitive: dict[str, float]
    share_proxies: dict[str, float]
    shap_values: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    explained_rows: np.ndarray | None = field(repr=False, default=None)

    def summary(self) -> dict[str, float]:
        """The scalar results under the names the benchmark stores."""
        return {"shap_rank_corr": self.rank_correlation,
                "shap_share_s_real": self.share_sensitive["real"],
                "shap_share_s_method": self.share_sensitive["method"],
                "shap_share_proxies_real": self.share_proxies["real"],
                "shap_share_proxies_method": self.share_proxies["method"]}

    def importances_records(self) -> list[dict[str, Any]]:
        return [{"feature": r.feature, "source": src, "value": float(getattr(r, src))}
                for r in self.importances.itertuples() for src in ("real", "method")]

    def summary_lines(self) -> list[str]:
        s, p = self.share_sensitive, self.share_proxies
        return [
            f"explainer: {self.explainer} ({self.classifier}); method {self.method} ({self.stage})",
            f"Spearman rank correlation of importances (real vs method): {self.rank_correlation:.3f}",
            f"share of attribution on s {self.sensitive}: real {s['real']:.3f}, method {s['method']:.3f}",
            f"share on s's strongest proxies {self.proxies}: real {p['real']:.3f}, method {p['method']:.3f}",
        ]

    def plot_bars(self, ax=None):
        """Paired horizontal bars of mean |SHAP| per feature (real vs method)."""
        if ax is None:
            # heavy (matplotlib): loaded when used; `import fairx` stays light
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6, 0.4 * len(self.features) + 1.2))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        imp = self.importances.sort_values("real")
        y = np.arange(len(imp))
        ax.barh(y - 0.2, imp["real"], height=0.4, label="real data", color="#4c72b0")
        ax.barh(y + 0.2, imp["method"], height=0.4, label=_mpl_text(self.method), color="#dd8452")
        ax.set_yticks(y, [_mpl_text(f) for f in imp["feature"]])
        for tick, role in zip(ax.get_yticklabels(), imp["role"], strict=True):
            if role != "feature":
                tick.set_color("#c44e52")
        ax.set_xlabel("mean |SHAP| (red labels: s and its proxies)")
        ax.set_title(_mpl_text(f"ρ = {self.rank_correlation:.2f}"))
        ax.legend(loc="lower right", fontsize=8)
        return fig

    def plot_beeswarm(self, which: str = "real", ax=None):
        """SHAP value per explained row and feature, coloured by the feature's (coded) value."""
        if which not in self.shap_values:
            raise ValueError(f"which={which!r}; allowed: {sorted(self.shap_values)}")
        if ax is None:
            # heavy (matplotlib): loaded when used; `import fairx` stays light
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6, 0.4 * len(self.features) + 1.2))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        values = self.shap_values[which]
        X = self.explained_rows
        order = np.argsort(np.abs(values).mean(axis=0))
        rng = np.random.default_rng(0)
        for row, j in enumerate(order):
            x = X[:, j]
            span = np.ptp(x) or 1.0
            colour = (x - x.min()) / span
            ax.scatter(values[:, j], row + rng.uniform(-0.3, 0.3, len(x)), c=colour, cmap="coolwarm",
                       s=6, alpha=0.7, linewidths=0)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_yticks(np.arange(len(order)), [_mpl_text(self.features[j]) for j in order])
        ax.set_xlabel("SHAP value (log-odds / probability of the positive class)")
        ax.set_title(_mpl_text(f"{'real data' if which == 'real' else self.method}: beeswarm"))
        return fig


def _mpl_text(text: Any) -> str:
    """Text for matplotlib with mathtext switched off ($ taken literally)."""
    return str(text).replace("$", r"\$")


# ---------------------------------------------------------------------------- core
def _shares(imp: np.ndarray, mask: np.ndarray) -> float:
    total = float(imp.sum())
    return float(imp[mask].sum() / total) if total > 0 else float("nan")


def _mutual_info(ds: TabularDataset, coder: _Coder, seed: int) -> pd.Series:
    # heavy (scikit-learn): loaded when used; `import fairx` stays light
    from sklearn.feature_selection import mutual_info_classif

    candidates = [f for f in coder.features if f not in ds.sensitive]
    if not candidates:
        return pd.Series(dtype=float)
    sub = _Coder(ds, candidates)
    X = sub.encode(ds.frame)
    s_codes = pd.factorize(ds.s)[0]
    discrete = np.array([f in sub.categories for f in candidates])
    mi = mutual_info_classif(X, s_codes, discrete_features=discrete, random_state=seed)
    return pd.Series(mi, index=candidates).sort_values(ascending=False)


def explain_frames(
    real_train: TabularDataset,
    method_train: TabularDataset | None,
    test: TabularDataset,
    *,
    classifier: str = "hgb",
    seed: int = 0,
    use_sensitive: bool = True,
    max_rows: int = 300,
    n_proxies: int = 2,
    method: str = "method",
    stage: str = "generator",
    predict_fn: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> ExplainResult:
    """Explain the classifier trained on ``real_train`` vs on ``method_train`` (its rows and
    weights), on the same ``max_rows`` random rows of ``test``. Instead of ``method_train``
    a ``predict_fn(frame) -> P(positive)`` (an in-/post-processing method) can be explained."""
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier={classifier!r}; allowed for explain: {', '.join(CLASSIFIERS)}")
    if (method_train is None) == (predict_fn is None):
        raise ValueError("give exactly one of method_train and predict_fn")
    _shap()
    features = real_train.features if use_sensitive else real_train.features_without_sensitive
    coder = _Coder(real_train, features)
    cat_idx = [j for j, f in enumerate(features) if f in coder.categories]
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(test), min(max_rows, len(test)), replace=False))
    X_test = coder.encode(test.frame.iloc[rows])
    X_real = coder.encode(real_train.frame)
    bg_rows = rng.choice(len(real_train), min(100, len(real_train)), replace=False)
    real_model = _fit(classifier, X_real, real_train.y, real_train.weights, cat_idx, seed)
    shap_real, explainer = _shap_matrix(classifier, real_model, X_test, X_real[bg_rows], cat_idx)
    if method_train is not None:
        X_m = coder.encode(method_train.frame)
        y_m = (method_train.frame[real_train.target] == real_train.positive_label).to_numpy().astype(int)
        m_model = _fit(classifier, X_m, y_m, method_train.weights, cat_idx, seed)
        shap_m, _ = _shap_matrix(classifier, m_model, X_test, X_m[bg_rows % len(X_m)], cat_idx)
    else:
        base = test.frame.iloc[:1]

        def fn(Z: np.ndarray) -> np.ndarray:
            return np.asarray(predict_fn(coder.decode(Z, base)), dtype=float)

        shap_m = _permutation_shap(fn, X_test[: min(100, len(X_test))], X_real[bg_rows[:50]], seed)
        explainer += " / PermutationExplainer"
    imp_real = np.abs(shap_real).mean(axis=0)
    imp_m = np.abs(shap_m).mean(axis=0)

    rho = float(spearmanr(imp_real, imp_m).statistic) if len(features) > 1 else float("nan")
    mi = _mutual_info(real_train, coder, seed)
    proxies = mi.index[:n_proxies].tolist()
    is_s = np.array([f in real_train.sensitive for f in features])
    is_p = np.array([f in proxies for f in features])
    role = np.where(is_s, "sensitive", np.where(is_p, "proxy", "feature"))
    importances = pd.DataFrame({"feature": features, "real": imp_real, "method": imp_m,
                                "mutual_info_s": [float(mi.get(f, np.nan)) for f in features],
                                "role": role}).sort_values("real", ascending=False)
    return ExplainResult(
        method=method, stage=stage, classifier=classifier, explainer=explainer, features=features,
        sensitive=list(real_train.sensitive), proxies=proxies,
        importances=importances.reset_index(drop=True), rank_correlation=rho,
        share_sensitive={"real": _shares(imp_real, is_s), "method": _shares(imp_m, is_s)},
        share_proxies={"real": _shares(imp_real, is_p), "method": _shares(imp_m, is_p)},
        shap_values={"real": shap_real, "method": shap_m}, explained_rows=X_test)


def explain(
    dataset: TabularDataset | str,
    method: Any = "unmitigated",
    *,
    sensitive: str | list[str] | None = None,
    seed: int = 0,
    classifier: str = "hgb",
    preset: str | None = None,
    params: dict[str, Any] | None = None,
    test_size: float = 0.3,
    use_sensitive: bool = True,
    max_rows: int = 300,
    n_proxies: int = 2,
    n_synthetic: int | None = None,
) -> ExplainResult:
    """SHAP importances of the downstream classifier trained on real data vs on ``method``'s output.

    ``dataset`` is a ``TabularDataset`` or a built-in name (with ``sensitive``); ``method`` a
    registry name, a ``FairMethod`` instance or ``None`` (identity: the real train split itself).
    Generators are explained through a classifier trained on ``n_synthetic`` generated rows
    (default: train size), pre-processors through one trained on their transformed (reweighted)
    train split, in-/post-processing methods directly (model-agnostic). ``use_sensitive=True``
    (default) lets the classifier see s, so its share of attribution is measurable.
    """
    _shap()
    ds = load_dataset(dataset, sensitive=sensitive) if isinstance(dataset, str) else dataset
    train, test = train_test_split(ds, test_size=test_size, seed=seed)
    common = dict(classifier=classifier, seed=seed, use_sensitive=use_sensitive, max_rows=max_rows,
                  n_proxies=n_proxies)
    if method is None:
        return explain_frames(train, train, test, method="identity", stage="reference", **common)
    if isinstance(method, str) and method.lower() == "unmitigated":
        # the reference: its "output" is the real train split itself
        return explain_frames(train, train, test, method="unmitigated", stage="reference", **common)
    if isinstance(method, str):
        est = get(method, preset=preset, **(params or {}))
    else:
        est = method
    if "random_state" in est.get_params():
        est.set_params(random_state=seed)
    shown = getattr(est, "display_name", None)
    name = str((shown() if callable(shown) else shown) or type(est).__name__)
    stage = getattr(est, "stage", "reference")
    est.fit(train)
    if stage == "generator":
        out = est.sample(n_synthetic or len(train), seed=seed)
        return explain_frames(train, out, test, method=name, stage=stage, **common)
    if stage == "pre":
        return explain_frames(train, est.transform(train), test, method=name, stage=stage, **common)
    if hasattr(est, "predict_proba"):
        def predict(frame: pd.DataFrame) -> np.ndarray:
            ds_ = test.with_frame(frame)
            p = est.predict_proba(ds_)
            return est.predict(ds_) if p is None else p
    else:
        def predict(frame: pd.DataFrame) -> np.ndarray:
            return est.predict(test.with_frame(frame))
    return explain_frames(train, None, test, method=name, stage=stage, predict_fn=predict, **common)

