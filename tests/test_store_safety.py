"""The results store never loses a result: append-only cells, one writer, foreign files refused,
failed cells reported with exit 1, workers die with a killed coordinator."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairx.benchmark import ResultStore, load_results, run_benchmark
from fairx.benchmark._store import StoreError
from fairx.cli import app

TESTS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS_DIR))
from test_benchmark_runner import _counts, _spec, toy_cell  # noqa: E402


def one_line_error(res, *words: str, code: int = 2) -> str:
    """The CLI failed with ``code``, one ``error:`` line naming ``words`` and no traceback."""
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, res.stderr
    for w in words:
        assert w in errors[0], errors[0]
    return errors[0]


def test_changed_configuration_is_a_new_cell_beside_the_old(tmp_path):
    db = tmp_path / "r.db"
    first = run_benchmark(_spec("[lr]"), db, cell_fn=toy_cell, progress=False)
    # same dataset / method label / seeds, another parameter: the old cells must survive
    second = run_benchmark(_spec("[{name: lr, params: {C: 0.01}}]"), db, cell_fn=toy_cell,
                           progress=False)
    assert second.n_run == 2 and _counts(db) == (4, 12, 8)
    a, b = load_results(db, first.keys), load_results(db, second.keys)
    assert set(a["cell_key"]) == set(first.keys) and set(b["cell_key"]) == set(second.keys)
    acc = lambda f: f[f.metric == "accuracy"].sort_values("seed")["value"].tolist()  # noqa: E731
    assert acc(a) != acc(b)  # the tables of each spec show its own configuration
    # readers without keys (fairx report) show the newest configuration of each row, never a mix
    newest = load_results(db)
    assert set(newest["cell_key"]) == set(second.keys)
    with ResultStore(db, readonly=True) as store:
        assert len(store.groups()) == 2 * 2 and len(store.cells()) == 4
    # a rerun of the first spec finds its cells still stored
    assert run_benchmark(_spec("[lr]"), db, cell_fn=toy_cell, progress=False).n_skipped == 2
    # only an explicit force replaces stored cells, and only that spec's
    forced = run_benchmark(_spec("[lr]"), db, cell_fn=toy_cell, progress=False, force=True)
    assert forced.n_run == 2 and _counts(db) == (4, 12, 8)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_foreign_sqlite_file_is_refused_untouched(tmp_path):
    foreign = tmp_path / "shop.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'ada')")
    con.commit()
    con.close()
    before = _sha(foreign)
    with pytest.raises(StoreError, match="not a fairx results database.*customers"):
        ResultStore(foreign)
    assert _sha(foreign) == before and not Path(str(foreign) + "-wal").exists()
    con = sqlite3.connect(foreign)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["customers"]
    con.close()


@pytest.fixture()
def spec_file(tmp_path):
    spec = tmp_path / "b.yaml"
    spec.write_text(textwrap.dedent("""\
        name: cli
        datasets:
          - name: synthetic
            options: {n_samples: 400, bias: 0.8}
        methods: [unmitigated, reweighing]
        seeds: [0]
        classifier: logreg
        protocol: {quality: false}
        """))
    return spec


def bench(*args: str):
    return CliRunner().invoke(app, ["benchmark", *args, "--no-progress"], env={"COLUMNS": "200"})


@pytest.mark.parametrize("kind", ["foreign", "text", "directory", "parent-is-file"])
def test_cli_refuses_a_bad_db(tmp_path, spec_file, kind):
    if kind == "foreign":
        db = tmp_path / "other.db"
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
        words = ("not a fairx results database",)
    elif kind == "text":
        db = tmp_path / "notes.db"
        db.write_text("these are my notes, not a database\n" * 50)
        words = ("not a fairx results database", "not SQLite")
    elif kind == "directory":
        db = tmp_path / "folder.db"
        db.mkdir()
        words = ("is a directory",)
    else:
        (tmp_path / "file").write_text("x")
        db = tmp_path / "file" / "r.db"
        words = ("is a file, not a folder",)
    before = _sha(db) if db.is_file() else None
    one_line_error(bench(str(spec_file), "--db", str(db)), str(db.name), *words)
    if before is not None:
        assert _sha(db) == before


def test_second_writer_stops_with_the_pid_of_the_first(tmp_path, spec_file):
    db = tmp_path / "r.db"
    holder = subprocess.Popen(  # "the first run": a live process that holds the database
        [sys.executable, "-c", "import sys, time\nfrom fairx.benchmark import ResultStore\n"
         f"s = ResultStore({str(db)!r}); s.acquire(); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert holder.stdout.readline().strip() == "ready"
        line = one_line_error(bench(str(spec_file), "--db", str(db)), f"in use by pid {holder.pid}")
        assert "another --db" in line
    finally:
        holder.kill()
        holder.wait()
    assert _counts(db) == (0, 0, 0)  # the second run did nothing
    # the holder was killed with -9: its record stays, and the next run takes it over
    con = sqlite3.connect(db)
    assert con.execute("SELECT pid FROM writer").fetchone()[0] == holder.pid
    con.close()
    res = bench(str(spec_file), "--db", str(db))
    assert res.exit_code == 0, res.output
    assert "0 cells reused, 2 run" in res.output
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM writer").fetchone()[0] == 0  # released at the end
    con.close()


def test_failed_cells_exit_1_and_say_where_the_tracebacks_are(tmp_path, spec_file, monkeypatch):
    from fairx.benchmark import _cells

    real = _cells.run_cell

    def flaky(cell):
        if cell.method.name == "reweighing":
            raise RuntimeError("planted failure")
        return real(cell)

    monkeypatch.setattr(_cells, "run_cell", flaky)
    db = tmp_path / "r.db"
    res = bench(str(spec_file), "--db", str(db))
    line = one_line_error(res, "1 of 2 cells failed", str(db), "traceback", code=1)
    assert "status != 'ok'" in line
    assert "RuntimeError: planted failure" in res.stderr  # the failed cell is listed above it
    with ResultStore(db, readonly=True) as store:
        assert "planted failure" in store.failures()["traceback"].iloc[0]


_ORPHAN_SCRIPT = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_benchmark_runner import _spec
from fairx.benchmark import run_benchmark

def sleepy(cell):
    Path({folder!r}, f"{{os.getpid()}}.pid").write_text("")
    time.sleep(120)
    return {{"metrics": {{}}}}

run_benchmark(_spec("[a, b]", seeds="[0]"), {db!r}, cell_fn=sleepy, n_jobs=2, progress=False)
"""


def _gone(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow  # two loky workers start up: ~5 s idle, much longer on a loaded machine
def test_workers_exit_when_the_coordinator_is_killed(tmp_path):
    folder = tmp_path / "pids"
    folder.mkdir()
    script = tmp_path / "run.py"
    script.write_text(_ORPHAN_SCRIPT.format(tests=str(TESTS_DIR), folder=str(folder),
                                            db=str(tmp_path / "r.db")))
    proc = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ))
    deadline = time.time() + 90
    while time.time() < deadline and len(list(folder.iterdir())) < 2:
        time.sleep(0.2)
    workers = [int(p.stem) for p in folder.iterdir()]
    assert len(workers) == 2, "both workers must be busy before the kill"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 15
    while time.time() < deadline and not all(_gone(w) for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if not _gone(w)]
    for w in alive:  # clean up before failing
        os.kill(w, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived the coordinator"
