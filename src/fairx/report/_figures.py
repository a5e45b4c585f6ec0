"""Matplotlib figures of a benchmark (object API, no pyplot state; Agg rendering)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from ..benchmark._metric_names import metric_direction
from ..data import TabularEncoder
from ..metrics import METRIC_INFO

COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
          "#8c8c8c", "#ccb974", "#64b5cd"]


def text(value: Any) -> str:
    """A user string safe for matplotlib (no mathtext)."""
    return str(value).replace("$", r"\$")


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the points not dominated when both x and y are to be maximised."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    front = np.zeros(len(x), dtype=bool)
    for i in np.flatnonzero(ok):
        dominated = ok & (x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))
        front[i] = not dominated.any()
    return front


def tradeoff_figure(agg: pd.DataFrame, title: str) -> Figure | None:
    """DPR and EOR (y) vs AUROC (x), one point per method with ±std error bars; Pareto front."""
    wide = {}
    for m in ("auroc", "dpr", "eor"):
        part = agg[agg["metric"] == m].set_index("method")
        wide[m] = part[["mean", "std"]]
    if wide["auroc"].empty:
        return None
    methods = list(wide["auroc"].index)
    fig = Figure(figsize=(10, 4.2))
    axes = fig.subplots(1, 2)
    for ax, fair, label in ((axes[0], "dpr", "demographic parity ratio (DPR)"),
                            (axes[1], "eor", "equalized odds ratio (EOR)")):
        x = wide["auroc"]["mean"].reindex(methods).to_numpy(float)
        xe = wide["auroc"]["std"].reindex(methods).fillna(0).to_numpy(float)
        y = wide[fair]["mean"].reindex(methods).to_numpy(float) if len(wide[fair]) else np.full(len(methods), np.nan)
        ye = wide[fair]["std"].reindex(methods).fillna(0).to_numpy(float) if len(wide[fair]) else np.zeros(len(methods))
        front = pareto_front(x, y)
        for i, m in enumerate(methods):
            if not (np.isfinite(x[i]) and np.isfinite(y[i])):
                continue
            ax.errorbar(x[i], y[i], xerr=xe[i], yerr=ye[i], fmt="o", color=COLORS[i % len(COLORS)],
                        ecolor=COLORS[i % len(COLORS)], capsize=3, label=text(m),
                        markeredgecolor="black" if front[i] else COLORS[i % len(COLORS)],
                        markeredgewidth=1.5 if front[i] else 0.5, markersize=8 if front[i] else 6)
        if front.any():
            order = np.argsort(x[front])
            ax.step(x[front][order], y[front][order], where="post", color="black", lw=1, ls="--",
                    label="Pareto front")
        ax.set_xlabel("AUROC (higher is better)")
        ax.set_ylabel(f"{label} (1 = fair)")
        ax.set_ylim(-0.03, 1.03)  # ratios live in [0, 1]: a flat 0 must not fill the axis
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(text(title))
    fig.tight_layout()
    return fig


def quality_figure(agg: pd.DataFrame, metrics: list[str], title: str) -> Figure | None:
    """Grouped bars (one group per quality metric, one bar per generator, ±std over seeds) in two
    panels: metrics where higher is better, and target-valued metrics (e.g. C2ST AUC → 0.5,
    density → 1) with their target drawn as a dashed line."""

    sub = agg[(agg["stage"] == "generator") & agg["metric"].isin(metrics)]
    if sub.empty:
        return None
    methods = list(dict.fromkeys(sub["method"]))
    present = [m for m in metrics if m in set(sub["metric"])]
    targets = {m: _target(m) for m in present if metric_direction(m) == "target"}
    panels = [("higher is better ↑", [m for m in present if m not in targets]),
              ("closest to the target is best (dashed line)", [m for m in present if m in targets])]
    panels = [(t, ms) for t, ms in panels if ms]
    widths = [max(2.5, 0.9 * len(ms) + 1) for _, ms in panels]
    fig = Figure(figsize=(min(16, sum(widths) + 2.5), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), width_ratios=widths))
    width = 0.8 / len(methods)
    for ax, (ptitle, ms) in zip(axes, panels, strict=True):
        for i, meth in enumerate(methods):
            part = sub[sub["method"] == meth].set_index("metric").reindex(ms)
            ax.bar(np.arange(len(ms)) + i * width - 0.4 + width / 2, part["mean"], width,
                   yerr=part["std"].fillna(0), capsize=2, label=text(meth),
                   color=COLORS[i % len(COLORS)])
        labels = []
        for j, m in enumerate(ms):
            if m in targets:
                ax.hlines(targets[m], j - 0.45, j + 0.45, colors="black", linestyles="--", lw=1)
                labels.append(f"{m} → {targets[m]:g}")
            else:
                labels.append(f"{m} ↑")
        ax.set_xticks(np.arange(len(ms)), [text(v) for v in labels], rotation=30, ha="right")
        ax.set_title(ptitle, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (mean ± std over seeds)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="outside right center")
    fig.suptitle(text(title))
    return fig


def _target(metric: str) -> float:
    try:

        value = getattr(METRIC_INFO.get(metric), "target", None)
    except ImportError:  # pragma: no cover
        value = None
    return float(value) if value is not None else {"c2st_auc": 0.5, "density": 1.0,
                                                   "dcr_share": 0.5}.get(metric, 1.0)


def embedding_figure(real: pd.DataFrame, synthetic: dict[str, pd.DataFrame], schema: dict,
                     title: str, *, kind: str = "pca", seed: int = 0,
                     tsne_rows: int = 200) -> Figure | None:
    """Real vs synthetic rows in 2-D (PCA fitted on real, or one t-SNE of the real rows and every
    method's rows together, so the real points sit at the same place in every panel), same
    encoding. The t-SNE runs 500 iterations (scikit-learn's default: 1000); on the demo's results
    the six separate 1000-iteration fits it replaces took 6.0 of the report's 10.7 s, the report
    now takes 6.1 s."""

    if not synthetic or real.empty:
        return None
    cat = [c for c in schema.get("categorical", []) if c in real.columns]
    enc = TabularEncoder(numerical="standard", handle_unknown="ignore").fit(real, categorical=cat)
    Xr = enc.encode(real)
    n = len(synthetic)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4 * cols, 3.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    if kind == "pca":
        # heavy (sklearn): imported when used, so `import fairx` stays light
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(Xr)
        var = pca.explained_variance_ratio_ * 100
        Zr = pca.transform(Xr)
        embedded = {name: pca.transform(enc.encode(frame[real.columns]))
                    for name, frame in synthetic.items()}
    else:
        # heavy (scikit-learn): loaded when used; `import fairx` stays light
        from sklearn.manifold import TSNE

        # the samples are already random: their first rows are a random subsample
        parts = [Xr[:tsne_rows], *(enc.encode(f[real.columns])[:tsne_rows] for f in synthetic.values())]
        both = np.vstack(parts)
        perplexity = float(max(5, min(30, (len(parts[0]) + len(parts[-1]) - 1) // 4)))
        with threadpool_limits(1):  # small problem: OpenMP threads only add contention
            Z = TSNE(n_components=2, random_state=seed, init="pca", perplexity=perplexity,
                     max_iter=500).fit_transform(both)
        ends = np.cumsum([len(x) for x in parts])
        Zr = Z[: ends[0]]
        embedded = {name: Z[a:b] for name, a, b in zip(synthetic, ends[:-1], ends[1:], strict=True)}
    for ax, (name, Zs) in zip(axes, embedded.items(), strict=False):
        ax.scatter(Zr[:, 0], Zr[:, 1], s=6, alpha=0.5, color="#8c8c8c", label="real")
        ax.scatter(Zs[:, 0], Zs[:, 1], s=6, alpha=0.5, color="#dd8452", label="synthetic")
        ax.set_title(text(name), fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        if kind == "pca":
            ax.set_xlabel(f"PC1 ({var[0]:.1f}% of real variance)", fontsize=8)
            ax.set_ylabel(f"PC2 ({var[1]:.1f}% of real variance)", fontsize=8)
        else:
            ax.set_xlabel("t-SNE dimension 1 (no units)", fontsize=8)
            ax.set_ylabel("t-SNE dimension 2 (no units)", fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(text(f"{title} — {'PCA (fitted on real)' if kind == 'pca' else 't-SNE'}"))
    fig.tight_layout()
    return fig


def group_rates_figure(groups: pd.DataFrame, title: str) -> Figure | None:
    """Per-group selection rate, TPR and FPR (mean over seeds), bars per method, one row of
    panels per sensitive attribute block."""
    if groups.empty:
        return None
    mean = groups.groupby(["attribute", "group", "method"], sort=False)[
        ["selection_rate", "tpr", "fpr"]].mean().reset_index()
    attributes = list(dict.fromkeys(mean["attribute"]))
    methods = list(dict.fromkeys(groups.sort_values("position")["method"]))
    most = int(mean.groupby("attribute")["group"].nunique().max())
    longest = int(mean["group"].astype(str).str.len().max())
    fig = Figure(figsize=(max(12.0, 3 * (0.45 * most + 0.8)),
                          (3.0 + (0.06 * longest if most > 3 else 0)) * len(attributes)),
                 layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(attributes), 3))
    for r, attr in enumerate(attributes):
        block = mean[mean["attribute"] == attr]
        group_names = list(dict.fromkeys(block["group"]))
        width = 0.8 / len(methods)
        for c, (col, label) in enumerate((("selection_rate", "selection rate"), ("tpr", "TPR"),
                                          ("fpr", "FPR"))):
            ax = axes[r, c]
            for i, meth in enumerate(methods):
                vals = block[block["method"] == meth].set_index("group").reindex(group_names)[col]
                ax.bar(np.arange(len(group_names)) + i * width - 0.4 + width / 2, vals, width,
                       color=COLORS[i % len(COLORS)], label=text(meth))
            ax.set_xticks(np.arange(len(group_names)), [text(g) for g in group_names],
                          rotation=45 if len(group_names) > 3 else 0,
                          ha="right" if len(group_names) > 3 else "center",
                          rotation_mode="anchor", fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_title(text(f"{attr}: {label}"), fontsize=10)
            if c == 0:
                ax.set_ylabel("rate, mean over seeds", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    fig.suptitle(text(title))
    return fig


def intersection_heatmap(groups: pd.DataFrame, sensitive: list[str], title: str,
                         sep: str = "|") -> Figure | None:
    """Selection rate over the intersection of two sensitive columns, one heat map per method."""
    if len(sensitive) != 2:
        return None
    label = sep.join(sensitive)
    block = groups[groups["attribute"] == label]
    if block.empty:
        return None
    has_small = "small" in block
    block = block.assign(small=block["small"].astype(bool) if has_small else False)
    block = block.groupby(["method", "group"], sort=False).agg(
        selection_rate=("selection_rate", "mean"), small=("small", "max")).reset_index()
    parts = block["group"].str.split(sep, n=1, expand=True)
    block = block.assign(a=parts[0], b=parts[1])
    methods = list(dict.fromkeys(block["method"]))
    rows_v, cols_v = sorted(block["a"].dropna().unique()), sorted(block["b"].dropna().unique())
    cols = min(3, len(methods))
    nrows = int(np.ceil(len(methods) / cols))
    longest = max(len(str(v)) for v in cols_v)
    panel_w = max(3.6, 0.75 * len(cols_v) + 0.08 * max(len(str(v)) for v in rows_v) + 1.2)
    panel_h = 0.55 * len(rows_v) + 1.0 + 0.07 * longest
    fig = Figure(figsize=(panel_w * cols + 1.2, panel_h * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, cols)).ravel()
    image = None
    for ax, meth in zip(axes, methods, strict=False):
        m = block[block["method"] == meth].pivot(index="a", columns="b", values="selection_rate")
        m = m.reindex(index=rows_v, columns=cols_v)
        image = ax.imshow(m.to_numpy(float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(np.arange(len(cols_v)), [text(v) for v in cols_v], rotation=45, ha="right",
                      rotation_mode="anchor", fontsize=8)
        ax.set_yticks(np.arange(len(rows_v)), [text(v) for v in rows_v], fontsize=8)
        small = block[block["method"] == meth].pivot(index="a", columns="b", values="small")
        small = small.reindex(index=rows_v, columns=cols_v).fillna(False).to_numpy(bool)
        for i in range(len(rows_v)):
            for j in range(len(cols_v)):
                v = m.to_numpy(float)[i, j]
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}{'*' if small[i, j] else ''}", ha="center",
                            va="center", fontsize=7, color="white" if v < 0.5 else "black")
        ax.set_title(text(meth), fontsize=10)
        ax.set_xlabel(text(sensitive[1]))
        ax.set_ylabel(text(sensitive[0]))
    for ax in axes[len(methods):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[: len(methods)]), shrink=0.8, label="selection rate")
    star = ("\n* a group too small for the headline fairness (fewer than min_group_size test rows)"
            if bool(block["small"].any()) else "")
    fig.suptitle(text(title) + star)
    return fig


def importance_figure(imp: pd.DataFrame, title: str) -> Figure | None:
    """Paired bars of mean |SHAP| (real vs method) per feature, one panel per method."""
    if imp.empty:
        return None
    mean = imp.groupby(["method", "feature", "source"], sort=False)["value"].mean().unstack("source")
    methods = list(dict.fromkeys(imp["method"]))
    cols = min(3, len(methods))
    nrows = int(np.ceil(len(methods) / cols))
    n_feat = imp["feature"].nunique()
    fig = Figure(figsize=(4.5 * cols, (0.35 * n_feat + 1.5) * nrows), layout="constrained")
    # one shared x scale, so bar lengths compare across panels
    axes = np.atleast_1d(fig.subplots(nrows, cols, sharex=True, squeeze=False)).ravel()
    for ax, meth in zip(axes, methods, strict=False):
        part = mean.loc[meth].sort_values("real")
        y = np.arange(len(part))
        ax.barh(y - 0.2, part["real"], height=0.4, color="#4c72b0", label="real data")
        ax.barh(y + 0.2, part["method"], height=0.4, color="#dd8452", label="method output")
        ax.set_yticks(y, [text(f) for f in part.index], fontsize=8)
        ax.set_title(text(meth), fontsize=10)
        ax.set_xlabel("mean |SHAP| (same scale in every panel)")
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[len(methods):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(text(title))
    return fig
