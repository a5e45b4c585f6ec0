"""Aggregation over seeds and table export (Markdown, LaTeX, CSV)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairx.benchmark import aggregate, export_table, summary_table, to_latex, to_markdown


@pytest.fixture()
def crafted():
    rng = np.random.default_rng(7)
    rows = []
    values = {}
    for ds in ("d1", "d2"):
        for method, stage, pos in (("gen", "generator", 0), ("base", "reference", 10)):
            for metric in ("auroc", "dpr", "alpha_precision"):
                v = rng.uniform(size=3)
                values[(ds, method, metric)] = v
                for seed, x in enumerate(v):
                    rows.append({"dataset": ds, "sensitive": "s", "method": method, "stage": stage,
                                 "seed": seed, "metric": metric, "value": x, "position": pos + seed})
    # one seed with a NaN metric and one method with a single seed
    rows.append({"dataset": "d1", "sensitive": "s", "method": "solo", "stage": "pre", "seed": 0,
                 "metric": "auroc", "value": 0.7, "position": 20})
    rows.append({"dataset": "d1", "sensitive": "s", "method": "solo", "stage": "pre", "seed": 0,
                 "metric": "dpr", "value": np.nan, "position": 20})
    return pd.DataFrame(rows), values


def test_mean_std_equal_numpy(crafted):
    frame, values = crafted
    agg = aggregate(frame).set_index(["dataset", "method", "metric"]).sort_index()
    for (ds, method, metric), v in values.items():
        row = agg.loc[(ds, method, metric)]
        assert row["mean"] == pytest.approx(np.mean(v), abs=1e-15)
        assert row["std"] == pytest.approx(np.std(v, ddof=1), abs=1e-15)  # sample std
        assert row["n"] == 3
    solo = agg.loc[("d1", "solo")]
    assert solo.loc["auroc", "mean"] == 0.7 and np.isnan(solo.loc["auroc", "std"])
    assert solo.loc["dpr", "n"] == 0 and np.isnan(solo.loc["dpr", "mean"])


def test_summary_table_order_format_and_groups(crafted):
    frame, values = crafted
    table = summary_table(aggregate(frame), ["utility", "fairness"])
    assert list(table.columns) == ["dataset", "sensitive", "method", "stage", "n", "auroc", "dpr"]
    # grouped by dataset; the reference row first, then stages in pipeline order
    assert table[["dataset", "method"]].values.tolist() == [
        ["d1", "base"], ["d1", "solo"], ["d1", "gen"], ["d2", "base"], ["d2", "gen"]]
    v = values[("d2", "gen", "auroc")]
    assert table.iloc[4]["auroc"] == f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}"
    assert table.iloc[1]["auroc"] == "0.700" and table.iloc[1]["dpr"] == "–"
    assert table.iloc[1]["n"] == 1 and table.iloc[0]["n"] == 3
    numeric = summary_table(aggregate(frame), ["quality"], numeric=True)
    assert list(numeric.columns[-2:]) == ["alpha_precision", "alpha_precision_std"]
    assert numeric.iloc[0]["alpha_precision"] == pytest.approx(np.mean(values[("d1", "base", "alpha_precision")]))


def test_exports(crafted, tmp_path):
    frame, _ = crafted
    table = summary_table(aggregate(frame), ["auroc"])
    table.loc[0, "method"] = "a|b_c&d"
    md = to_markdown(table)
    lines = md.strip().splitlines()
    assert len(lines) == 2 + len(table)
    assert lines[0] == "| dataset | sensitive | method | stage | n | auroc |"
    assert "a\\|b_c&amp;d" in lines[2]  # HTML escaped too
    tex = to_latex(table, caption="50% of cases")
    assert r"a|b\_c\&d" in tex and r"$\pm$" in tex and r"50\% of cases" in tex
    assert tex.count(r"\\") == 1 + len(table)
    export_table(table, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["method"].tolist() == table["method"].tolist()
    with pytest.raises(ValueError, match=r"\.md, \.tex or \.csv"):
        export_table(table, tmp_path / "t.xlsx")


def test_aggregate_requires_columns():
    with pytest.raises(ValueError, match="seed"):
        aggregate(pd.DataFrame({"dataset": [], "sensitive": [], "method": [], "metric": [], "value": []}))


def test_exports_carry_the_excluded_groups_note(crafted, tmp_path):
    """Markdown and LaTeX exports keep the note printed under the terminal table (escaped)."""
    frame, _ = crafted
    table = summary_table(aggregate(frame), ["auroc"])
    note = "Intersection groups left out: Female|<b>Other</b> (1, 3); 50% of them"
    export_table(table, tmp_path / "t.md", notes=[note])
    md = (tmp_path / "t.md").read_text().strip().splitlines()
    assert md[-2] == "" and md[-1] == "Intersection groups left out: Female|&lt;b&gt;Other&lt;/b&gt; (1, 3); 50% of them"
    export_table(table, tmp_path / "t.tex", notes=[note])
    tex = (tmp_path / "t.tex").read_text()
    assert r"{\footnotesize Intersection groups left out: Female|\textless{}b\textgreater{}Other" in tex
    assert r"50\% of them" in tex and tex.index("footnotesize") > tex.index(r"\end{tabular}")
    # without notes the files are the bare tables
    export_table(table, tmp_path / "bare.md")
    assert (tmp_path / "bare.md").read_text() == to_markdown(table)
