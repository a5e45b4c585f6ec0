"""Shared checks for the fair-latent generator tests (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fairx.data import TabularDataset, make_synthetic, train_test_split
from fairx.metrics import data_parity, utility_protocol

# Utility reference. On the planted-bias table the group itself shifts the label (by 2·bias·c),
# so a fair generator must give up real signal: the unmitigated classifier (all columns, real rows)
# reaches AUROC ≈ 0.89, while the best classifier on the s-free signals alone (skill, years; real
# rows) reaches ≈ 0.75 — the ceiling for a label that does not depend on s. The TSTR AUROC must stay
# within AUROC_MARGIN of that s-free reference (and well above chance).
AUROC_MARGIN = 0.10
S_FREE = ["skill", "years"]


def biased_split(n: int = 2400, seed: int = 0) -> tuple[TabularDataset, TabularDataset]:
    return train_test_split(make_synthetic(n, bias=0.8, seed=seed), seed=seed)


def _s_free(ds: TabularDataset) -> TabularDataset:
    cols = [*ds.sensitive, *S_FREE, ds.target]
    return ds.replace(frame=ds.frame[cols], categorical=[*ds.sensitive, ds.target], numerical=S_FREE,
                      integer=[c for c in ds.integer if c in S_FREE])


# Probes that predict s from the latents of real rows: ≈ 0.5 when V² works (0.52–0.55 on the planted
# table, fast presets), 0.83–0.96 for the same models trained with β = 0 (linear probe on the means).
PROBE_MAX_AUROC = 0.6


def fair_posterior(model, ds: TabularDataset) -> tuple[np.ndarray, np.ndarray]:
    """(μ, log σ²) of the latent the model generates from, for the real rows of ``ds``: the fair
    VAE's (FairDisCo, FLDGM, Fair4Free's teacher) or FairDistill's student encoder."""
    if hasattr(model, "student_posterior"):
        return model.student_posterior(ds)
    for name in ("vae_", "teacher_"):
        if hasattr(model, name):
            return getattr(model, name).posterior(ds)
    return model.posterior(ds)


def latent_s_probe_auroc(model, train: TabularDataset, test: TabularDataset, seed: int = 0) -> float:
    """The larger test AUROC of two probes for s fitted on ``train``'s latents: a logistic
    regression on the posterior means (what fails at β = 0: without V² the means carry s) and a
    gradient-boosting probe on sampled z = μ + σ·ε (the distribution V² constrains)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    (mu_tr, lv_tr), (mu_te, lv_te) = fair_posterior(model, train), fair_posterior(model, test)
    first = train.s.unique()[0]
    y_tr, y_te = train.s == first, test.s == first
    linear = LogisticRegression(max_iter=500).fit(mu_tr, y_tr)
    z_tr = mu_tr + np.exp(0.5 * lv_tr) * rng.standard_normal(mu_tr.shape)
    z_te = mu_te + np.exp(0.5 * lv_te) * rng.standard_normal(mu_te.shape)
    boosted = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(z_tr, y_tr)
    return float(max(roc_auc_score(y_te, linear.predict_proba(mu_te)[:, 1]),
                     roc_auc_score(y_te, boosted.predict_proba(z_te)[:, 1])))


def check_fair_generator(model, train: TabularDataset, test: TabularDataset, n: int = 6000) -> dict:
    """The latent hides s (probe AUROC ≤ PROBE_MAX_AUROC: fails when V² is off, β = 0),
    data-level parity ≥ 0.9, and a TSTR classifier (hgb, no s) whose DPR beats the unmitigated
    classifier's by > 0.1 while its AUROC stays within AUROC_MARGIN of the s-free reference."""
    probe = latent_s_probe_auroc(model, train, test)
    assert probe <= PROBE_MAX_AUROC, f"s is predictable from the latent: probe AUROC {probe:.3f}"
    syn = model.sample(n, seed=0)
    assert list(syn.frame.columns) == list(train.frame.columns)
    parity = data_parity(syn)
    real = utility_protocol(train, test, classifier="hgb", seed=0, mode="TRTR")
    s_free = utility_protocol(_s_free(train), _s_free(test), classifier="hgb", seed=0, mode="TRTR")
    tstr = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
    assert parity["data_dpr"] >= 0.9, parity
    assert tstr["dpr"] > real["dpr"] + 0.1, (tstr["dpr"], real["dpr"])
    assert tstr["auroc"] >= s_free["auroc"] - AUROC_MARGIN, (tstr["auroc"], s_free["auroc"], real["auroc"])
    return {"probe_auroc": probe, "data_dpr": parity["data_dpr"], "dpr": tstr["dpr"], "auroc": tstr["auroc"],
            "real_dpr": real["dpr"], "real_auroc": real["auroc"], "s_free_auroc": s_free["auroc"]}


def assert_no_training_rows(folder: Path, train: TabularDataset, *, max_single_hits: int = 8) -> None:
    """No training row appears in the saved files: no row's numerical values occur together in the
    JSON (values shared by ≥ 10 rows excepted), and no weight array has one row per training row.
    The encoder's per-column clipping range
    (min / max, part of the scaling state) is excluded: extremes of correlated columns can come
    from one row, which is the documented limit of what the saved state reveals."""
    from safetensors.numpy import load_file

    numbers: set[float] = set()

    def collect(node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "quantiles":  # its ends repeat the clipping range (min, max)
                    collect(v[1:-1])
                elif k not in ("min", "max"):  # the encoder's clipping range: per column, not rows
                    collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            numbers.add(float(node))  # exact: JSON floats round-trip, a copied value matches

    collect(json.loads((folder / "config.json").read_text()))
    num = [c for c in train.numerical if c not in train.integer]
    # a value that ten or more rows share (a spike such as 0) identifies no row: not counted
    shared = {c: set(train.frame[c].value_counts().loc[lambda v: v >= 10].index.astype(float)) for c in num}
    hits = 0
    for row in train.frame[num].itertuples(index=False):
        present = sum(float(v) in numbers and float(v) not in shared[c] for c, v in zip(num, row, strict=True))
        assert present < 2, f"a training row's values appear together in {folder}/config.json"
        hits += present
    assert hits <= max_single_hits
    arrays = load_file(str(folder / "weights.safetensors"))
    assert all(np.asarray(a).shape[:1] != (len(train),) for a in arrays.values())
