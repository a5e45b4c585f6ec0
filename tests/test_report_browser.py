"""The HTML report in a real browser (headless Chromium) at 1400 and 900 px: screenshots of the
expected size and no horizontal overflow of the page or of any table (issue #17).

Skipped, with the reason, when no Chromium is installed (.ci/run installs Debian's `chromium`
when apt is available)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import textwrap

import numpy as np
import pandas as pd
import pytest

from fairx.benchmark import loads_spec, run_benchmark
from fairx.benchmark._metric_names import known_metrics

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                       "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (apt-get install -y chromium; .ci/run does it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

MEASURE = """
<script>
window.addEventListener('load', () => {
  const doc = document.documentElement;
  const tables = [...document.querySelectorAll('table')].map(t => ({
    cls: t.className, width: Math.ceil(t.getBoundingClientRect().width),
    box: t.parentElement.clientWidth, right: Math.ceil(t.getBoundingClientRect().right)}));
  const pre = document.createElement('pre');
  pre.id = 'measure';
  pre.textContent = JSON.stringify({client: doc.clientWidth, scroll: doc.scrollWidth, tables});
  document.body.appendChild(pre);
});
</script>
"""


def _every_metric_cell(cell):
    """A generator-like cell with every known metric, and an intersection with a 2-row group."""
    rng = np.random.default_rng(cell.seed)
    metrics = {m: float(rng.uniform(0.1, 0.99)) for m in known_metrics()}
    metrics.update(fit_seconds=357.123 + cell.seed, n_parameters=123456.0, n_groups_excluded=1.0)
    groups = []
    for attr, values in (("sex", ["Female", "Male"]),
                         ("race", ["Amer-Indian-Eskimo", "Asian-Pac-Islander", "White"]),
                         ("sex|race", [f"{a}|{b}" for a in ("Female", "Male")
                                       for b in ("Amer-Indian-Eskimo", "Asian-Pac-Islander",
                                                 "White")])):
        for v in values:
            size = 2 + cell.seed if v == "Female|Amer-Indian-Eskimo" else 400
            groups.append({"attribute": attr, "group": v, "size": size,
                           "selection_rate": float(rng.uniform()), "tpr": 0.5, "fpr": 0.2,
                           "small": size < 30})
    return {"stage": "generator", "metrics": metrics, "groups": groups, "samples": {},
            "importances": []}


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    from fairx.report import build_report

    tmp = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"x": rng.normal(size=n), "sex": rng.choice(["Female", "Male"], n),
                          "race": rng.choice(["White", "Asian-Pac-Islander"], n),
                          "label": rng.choice(["no", "yes"], n)})
    frame.to_csv(tmp / "t.csv", index=False)
    methods = ", ".join(f"{{name: gen, label: {name}, params: {{i: {i}}}}}" for i, name in
                        enumerate(["Unmitigated", "ThresholdOpt-DP", "Fair4Free-20ep",
                                   "DECAF-DP"]))
    spec = loads_spec(textwrap.dedent(f"""
        name: browser
        datasets: [{{name: adult-like, path: {tmp / 't.csv'}, target: label,
                     sensitive: [[sex, race]]}}]
        methods: [{methods}]
        seeds: [0, 1, 2]
        metrics: [utility, fairness, quality]
        """), validate_registry=False)
    db = tmp / "r.db"
    run_benchmark(spec, db, cell_fn=_every_metric_cell, progress=False)
    out = build_report(db, tmp / "report.html", tsne=False)
    return out


def _shot(html_path, width: int, tmp_path) -> tuple[dict, tuple[int, int]]:
    page = tmp_path / f"measure_{width}.html"
    page.write_text(html_path.read_text().replace("</body>", MEASURE + "</body>"))
    png = tmp_path / f"report_{width}.png"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / f'profile{width}'}",
              f"--window-size={width},1800"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    subprocess.run([*common, f"--screenshot={png}", html_path.as_uri()], capture_output=True,
                   timeout=120, check=True)
    found = re.search(r"<pre id=\"measure\">(.*?)</pre>", dom, re.S)
    assert found, "the measuring script did not run"
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    size = struct.unpack(">II", header[16:24])
    return json.loads(found.group(1).replace("&quot;", '"')), size


# 900 px (the narrower, harder case) in the default run; 1400 px is one more browser start
@pytest.mark.parametrize("width", [pytest.param(1400, marks=pytest.mark.slow), 900])
def test_report_fits_the_window(report_html, width, tmp_path):
    measure, size = _shot(report_html, width, tmp_path)
    assert size == (width, 1800)
    assert measure["scroll"] <= measure["client"], f"page overflows at {width} px: {measure}"
    assert measure["tables"], "no tables measured"
    head = [t for t in measure["tables"] if t["cls"] == "headline"]
    assert head, "no headline table"
    for t in measure["tables"]:
        # every table fits its box (its scroll container never has to scroll)
        assert t["width"] <= t["box"], f"table overflows at {width} px: {t}"


def test_report_names_excluded_groups_and_counts_as_integers(report_html):
    text = report_html.read_text()
    # the tiny intersection group is listed with its sizes per seed (2, 3, 4 rows)
    assert "Female|Amer-Indian-Eskimo (2, 3, 4)" in text
    assert "123,456" in text and "123456.000" not in text  # n_parameters as an integer
    headline = re.search(r"<table class='headline'>(.*?)</table>", text, re.S).group(1)
    for m in ("accuracy", "auroc", "dpr", "eor", "column_fidelity", "detection_score"):
        assert ">" + m.replace("_", "_<wbr>") + "<" in headline
    assert ">ks_<wbr>complement<" not in headline  # the rest lives in the sub-tables
    assert ">ks_<wbr>complement<" in text
