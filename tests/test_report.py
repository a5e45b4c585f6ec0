"""HTML report: escaping of user strings, embedded figures, figure export, Pareto front."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from fairx.benchmark import loads_spec, run_benchmark

EVIL = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):  # 2 shared cores: OpenMP spin-waiting slows HGB many times over
        yield


def generator_like_cell(cell):
    """A cheap cell shaped like a generator's: metrics, two-attribute group blocks and
    real/synthetic row samples whose column names are hostile."""
    ds = cell.dataset.load(list(cell.sensitive))
    rng = np.random.default_rng(cell.seed)
    frame = ds.frame.sample(200, random_state=cell.seed).reset_index(drop=True)
    synth = frame.apply(lambda col: col.sample(frac=1, random_state=cell.seed).to_numpy())
    from fairx.benchmark._store import frame_to_json

    schema = ds.schema()
    s1, s2 = ds.sensitive
    groups = []
    for attr, values in ((s1, ["x", "y"]), (s2, ["p", "q"]),
                         (f"{s1}|{s2}", ["x|p", "x|q", "y|p", "y|q"])):
        for v in values:
            groups.append({"attribute": attr, "group": v, "size": 50,
                           "selection_rate": float(rng.uniform()), "tpr": 0.5, "fpr": 0.2,
                           "small": False})
    return {
        "stage": "generator",
        "metrics": {"auroc": 0.7 + 0.05 * rng.uniform(), "dpr": rng.uniform(), "eor": rng.uniform(),
                    "accuracy": 0.7, "alpha_precision": 0.9, "ks_complement": 0.8},
        "groups": groups,
        "samples": {"real": {"schema": schema, "rows": frame_to_json(frame)},
                    "synthetic": {"schema": schema, "rows": frame_to_json(synth)}},
        "importances": [{"feature": c, "source": src, "value": float(rng.uniform())}
                        for c in ds.features for src in ("real", "method")],
    }


@pytest.fixture()
def evil_db(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        f"num{EVIL}": rng.normal(size=n),
        "cat": rng.choice(["u", EVIL], n),
        f"s1{EVIL}": rng.choice(["x", "y"], n),
        "s2": rng.choice(["p", "q"], n),
        "label": rng.choice(["no", "yes"], n),
    })
    path = tmp_path / "evil.csv"
    frame.to_csv(path, index=False)
    spec = loads_spec(textwrap.dedent(f"""
        name: '{EVIL}'
        datasets:
          - name: '{EVIL}'
            path: {path}
            target: label
            sensitive: [['s1{EVIL}', s2]]
        methods: [{{name: gen, label: '{EVIL}'}}, {{name: gen, label: other, params: {{a: 1}}}}]
        seeds: [0, 1]
        """), validate_registry=False)
    db = tmp_path / "evil.db"
    run = run_benchmark(spec, db, cell_fn=generator_like_cell, progress=False)
    assert run.n_failed == 0
    return db


def test_report_escapes_user_strings(evil_db, tmp_path):
    from fairx.report import build_report

    out = build_report(evil_db, tmp_path / "r.html", figures_dir=tmp_path / "figs", fmt="pdf",
                       tsne=False)
    text = out.read_text()
    assert "<script" not in text.lower()  # no live script tag anywhere
    assert html_escaped(EVIL) in text  # the names are shown, escaped
    imgs = re.findall(r"<img [^>]*src='data:image/png;base64,", text)
    # trade-off, quality, PCA, group rates, intersection heat map, SHAP bars
    assert len(imgs) == 6
    assert len(list((tmp_path / "figs").glob("*.pdf"))) == 6
    assert all(p.read_bytes().startswith(b"%PDF") for p in (tmp_path / "figs").glob("*.pdf"))


def html_escaped(s: str) -> str:
    import html

    return html.escape(s, quote=True)


def test_report_cli_and_bad_format(evil_db, tmp_path):
    from typer.testing import CliRunner

    from fairx.cli import app

    result = CliRunner().invoke(app, ["report", str(evil_db), "-o", str(tmp_path / "x.html"),
                                      "--format", "svg"])
    assert result.exit_code == 2 and "format" in result.output
    result = CliRunner().invoke(app, ["report", str(tmp_path / "missing.db")])
    assert result.exit_code == 2 and "not found" in " ".join(result.output.split())


def test_pareto_front_known_points():
    from fairx.report._figures import pareto_front

    x = np.array([0.9, 0.8, 0.7, 0.85, np.nan, 0.6])
    y = np.array([0.5, 0.9, 0.95, 0.4, 1.0, 0.9])
    # (0.85, 0.4) is dominated by (0.9, 0.5); (0.6, 0.9) by (0.8, 0.9); NaN is never on it
    assert pareto_front(x, y).tolist() == [True, True, True, False, False, False]


def test_tsne_panels_share_one_embedding_of_the_real_rows():
    """One joint t-SNE: the real rows sit at the same coordinates in every method's panel, and a
    copy of the real rows lands on the real points while shifted rows do not."""
    from fairx.report._figures import embedding_figure

    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120),
                         "c": rng.choice(["x", "y"], size=120)})
    shifted = real.assign(a=real["a"] + 6.0)
    fig = embedding_figure(real, {"copy": real.copy(), "shifted": shifted},
                           {"categorical": ["c"]}, "t", kind="tsne", seed=0)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    real_xy = [ax.collections[0].get_offsets() for ax in panels]
    np.testing.assert_array_equal(real_xy[0], real_xy[1])
    copy_xy, shifted_xy = (ax.collections[1].get_offsets() for ax in panels)

    def mean_gap(xy):  # mean distance of each synthetic point to its real counterpart
        return float(np.linalg.norm(np.asarray(xy) - np.asarray(real_xy[0]), axis=1).mean())

    assert mean_gap(copy_xy) < 0.2 * mean_gap(shifted_xy)
