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


def check_fair_generator(model, train: TabularDataset, test: TabularDataset, n: int = 6000) -> dict:
    """Data-level parity ≥ 0.9, and a TSTR classifier (hgb, no s) whose DPR beats the unmitigated
    classifier's by > 0.1 while its AUROC stays within AUROC_MARGIN of the s-free reference."""
    syn = model.sample(n, seed=0)
    assert list(syn.frame.columns) == list(train.frame.columns)
    parity = data_parity(syn)
    real = utility_protocol(train, test, classifier="hgb", seed=0, mode="TRTR")
    s_free = utility_protocol(_s_free(train), _s_free(test), classifier="hgb", seed=0, mode="TRTR")
    tstr = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
    assert parity["data_dpr"] >= 0.9, parity
    assert tstr["dpr"] > real["dpr"] + 0.1, (tstr["dpr"], real["dpr"])
    assert tstr["auroc"] >= s_free["auroc"] - AUROC_MARGIN, (tstr["auroc"], s_free["auroc"], real["auroc"])
    return {"data_dpr": parity["data_dpr"], "dpr": tstr["dpr"], "auroc": tstr["auroc"],
            "real_dpr": real["dpr"], "real_auroc": real["auroc"], "s_free_auroc": s_free["auroc"]}


def assert_no_training_rows(folder: Path, train: TabularDataset, *, max_single_hits: int = 8) -> None:
    """No training row appears in the saved files: no row's numerical values occur together in the
    JSON, and no weight array has one row per training row. The encoder's per-column clipping range
    (min / max, part of the scaling state) is excluded: extremes of correlated columns can come
    from one row, which is the documented limit of what the saved state reveals."""
    from safetensors.numpy import load_file

    numbers: set[float] = set()

    def collect(node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in ("min", "max"):  # the encoder's clipping range: per column, not rows
                    collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            numbers.add(round(float(node), 4))

    collect(json.loads((folder / "config.json").read_text()))
    num = [c for c in train.numerical if c not in train.integer]
    hits = 0
    for row in train.frame[num].itertuples(index=False):
        present = sum(round(float(v), 4) in numbers for v in row)
        assert present < 2, f"a training row's values appear together in {folder}/config.json"
        hits += present
    assert hits <= max_single_hits
    arrays = load_file(str(folder / "weights.safetensors"))
    assert all(np.asarray(a).shape[:1] != (len(train),) for a in arrays.values())
