"""``fairx evaluate``: score a synthetic table against a real one (fairness, utility, quality)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import typer

from .._io import check_output, write_text
from ..benchmark._metric_names import COUNT_METRICS
from ..data import load_file
from ..data._files import read_frame
from ..metrics import METRIC_INFO, evaluate
from ._common import console, print_frame, user_errors
from ._options import Classifier, opt


def _read_raw(path: str, encoding: str | None = None) -> Any:
    """A file as a raw DataFrame (no schema inference): the one reader of every table."""

    return read_frame(path, encoding=encoding)


def _load_real(path: str, target: str, sensitive: list[str], positive_label: str | None,
               encoding: str | None = None) -> Any:

    return load_file(path, target=target, sensitive=sensitive, positive_label=positive_label,
                     name=Path(path).stem, encoding=encoding)


def _json_value(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def register(app: typer.Typer) -> None:
    """Add ``fairx evaluate``."""

    @app.command("evaluate")
    @user_errors
    def evaluate_cmd(
        real: str = typer.Option(..., "--real", help="Real table (CSV or Parquet) the generator learned from."),
        synthetic: str = typer.Option(..., "--synthetic", help="Synthetic table to score (same columns)."),
        target: str = opt("target", ...),
        sensitive: list[str] = opt("sensitive", ...),
        test: str = typer.Option(None, "--test",
                                 help="Real rows the generator never saw: TSTR test set and DCR holdout. "
                                      "Without it the real table is split 70/30 (stratified, seeded) "
                                      "and dcr_share is NaN."),
        positive_label: str = opt("positive_label"),
        classifier: Classifier = opt("classifier", "hgb"),
        use_sensitive: bool = opt("use_sensitive", False),
        embedding: Literal["oneclass", "naive"] = typer.Option(
            "oneclass", "--embedding", help="α/β embedding: oneclass (Deep-SVDD) or naive."),
        max_rows: int = opt("max_rows"),
        quality: bool = opt("quality", True),
        seed: int = opt("seed", 0),
        min_group_size: int = opt("min_group_size", 30),
        threads: int = typer.Option(1, "--threads", metavar="INT",
                                    help="BLAS/OpenMP/torch threads (0 = library defaults); 1 avoids "
                                         "oversubscription on shared machines."),
        json_out: str = typer.Option(None, "--json", metavar="PATH",
                                     help="Write all metrics and settings to this JSON file."),
        encoding: str = opt("encoding"),
    ) -> None:
        """Fairness, utility (TSTR vs TRTR reference) and quality of a synthetic table."""

        if json_out:
            check_output(json_out, what="--json", inputs=[real, synthetic, *([test] if test else [])])
        real_ds = _load_real(real, target, sensitive, positive_label, encoding)
        synth = _read_raw(synthetic, encoding)
        test_frame = _read_raw(test, encoding) if test else None
        result = evaluate(real_ds, synth, test=test_frame, classifier=classifier, seed=seed,
                          use_sensitive=use_sensitive, quality=quality, embedding=embedding,
                          max_rows=max_rows, min_group_size=min_group_size,
                          n_threads=threads or None)
        settings = result.attrs["settings"]
        titles = {"fairness": "Fairness (TSTR predictions on the real test rows)",
                  "utility": f"Utility (TSTR, classifier {classifier})",
                  "data": "Label parity of the synthetic table", "quality": "Synthetic-data quality",
                  "reference": "Reference: trained on real (TRTR) / real-table parity"}
        for group in ("fairness", "utility", "data", "quality", "reference"):
            block = result[result["group"] == group][["metric", "value"]].copy()
            if block.empty:
                continue
            block["better"] = [
                ("target " + str(METRIC_INFO[m].target)) if m in METRIC_INFO and METRIC_INFO[m].direction == "target"
                else (METRIC_INFO[m].direction if m in METRIC_INFO else "")
                for m in block["metric"]
            ]
            block["value"] = _values_text(block["metric"], block["value"])
            print_frame(block, title=titles[group])
        console.print(f"split: {settings['split']}; embedding: {settings['embedding']}; "
                      f"rows real/synthetic/test: {settings['n_real']}/{settings['n_synthetic']}/"
                      f"{settings['n_test']}", highlight=False)
        for note in settings["notes"]:
            console.print(f"note: {note}", highlight=False)
        if json_out:
            payload = {
                "real": str(real), "synthetic": str(synthetic), "test": test,
                "settings": settings,
                "metrics": {g: {m: _json_value(v) for m, v in zip(b["metric"], b["value"], strict=True)}
                            for g, b in result.groupby("group", sort=False)},
            }
            write_text(json_out, json.dumps(payload, indent=2, default=str))
            console.print(f"wrote {json_out}", highlight=False)


def _values_text(metrics: Any, values: Any) -> list[str]:
    """Counts (groups, parameters) as integers, the rest with 3 decimals, right-aligned."""
    counts = (*COUNT_METRICS, "undefined_rate_groups", "n_real", "n_synthetic", "n_holdout")
    text = ["–" if v != v else f"{v:,.0f}" if m in counts else f"{v:.3f}"
            for m, v in zip(metrics, values, strict=True)]
    width = max(map(len, text), default=0)
    return [t.rjust(width) for t in text]
