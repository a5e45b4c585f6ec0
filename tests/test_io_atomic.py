"""Atomic writes: a writer killed mid-write leaves the old file or the complete new one; exports
never overwrite an input; CSV exports defuse formulas and Markdown exports escape HTML."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from fairx._io import OutputError, atomic_path, check_output, safe_csv_cells, write_text
from fairx.benchmark import export_table, to_markdown

_SLOW_WRITER = """
import sys, time
from fairx._io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "w") as fh:
        fh.write("a,b\\n")
        for i in range(100000):
            fh.write(f"{i},{i * 2}\\n")
            if i == 1000:
                fh.flush()
                print("writing", flush=True)
                time.sleep(60)
"""


def test_writer_killed_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "big.csv"
    target.write_text("a,b\nold,file\n")
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout.readline().strip() == "writing"
    partial = [p for p in tmp_path.iterdir() if p != target]
    assert len(partial) == 1 and partial[0].stat().st_size > 1000  # the new file is half-written
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert target.read_text() == "a,b\nold,file\n"  # the old file, whole
    # the same writer left alone produces the complete new file (run in this process: a second
    # interpreter would only add its start-up time)
    monkeypatch.setattr(sys, "argv", ["writer", str(target)])
    exec(_SLOW_WRITER.replace("time.sleep(60)", "pass"), {})
    frame = pd.read_csv(target)
    assert len(frame) == 100000 and frame["b"].iloc[-1] == 2 * 99999


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "t.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer crashed")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]


def test_check_output_refusals(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a directory"):
        check_output(tmp_path / "folder")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output(tmp_path / "file" / "out.csv")
    with pytest.raises(OutputError, match="is one of the inputs"):
        check_output(tmp_path / "file", inputs=[tmp_path / "file"])
    assert check_output(tmp_path / "new" / "out.csv") == tmp_path / "new" / "out.csv"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_check_output_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write in"):
            check_output(ro / "out.csv")
    finally:
        ro.chmod(0o700)


def test_csv_export_defuses_formulas_and_markdown_escapes_html(tmp_path):
    table = pd.DataFrame({"method": ["=HYPERLINK(\"http://x\")", "+cmd", "-2+3", "@SUM(A1)",
                                     "plain", "<script>alert(1)</script>"],
                          "auroc": [0.5, -0.25, 0.1, 0.2, 0.3, 0.4]})
    path = export_table(table, tmp_path / "t.csv")
    back = pd.read_csv(path)
    assert back["method"].tolist()[:5] == ["'=HYPERLINK(\"http://x\")", "'+cmd", "'-2+3",
                                           "'@SUM(A1)", "plain"]
    assert back["auroc"].tolist() == table["auroc"].tolist()  # numbers stay numbers
    assert safe_csv_cells(pd.DataFrame({"x": ["-0.5"]}))["x"].iloc[0] == "-0.5"  # a number as text
    md = to_markdown(table)
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md


def test_benchmark_export_refuses_to_overwrite_its_input(tmp_path):
    from typer.testing import CliRunner

    from fairx.cli import app
    from fairx.data import make_synthetic

    data = tmp_path / "data.csv"
    make_synthetic(300, seed=0).frame.to_csv(data, index=False)
    before = data.read_bytes()
    spec = tmp_path / "b.yaml"
    spec.write_text(textwrap.dedent(f"""\
        datasets:
          - name: mine
            path: {data}
            target: hired
            sensitive: group
        methods: [unmitigated]
        seeds: [0]
        """))
    t0 = time.time()
    res = CliRunner().invoke(app, ["benchmark", str(spec), "--db", str(tmp_path / "r.db"),
                                   "--no-progress", "-e", str(data)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "is one of the inputs" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert data.read_bytes() == before and not (tmp_path / "r.db").exists()  # refused up front
    assert time.time() - t0 < 10
