"""Benchmark runner: failures, resume after SIGKILL, force, local parallel and Dask equal sequential."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from fairx.benchmark import ResultStore, expand_grid, load_results, loads_spec, run_benchmark

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):  # 2 shared cores: OpenMP spin-waiting slows HGB many times over
        yield


def toy_cell(cell):
    """A cheap real cell: logistic regression on the planted-bias table, its accuracy, AUROC and
    demographic-parity difference, plus the per-group table (2 groups)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from fairx.data import train_test_split

    if cell.method.name == "boom":
        raise RuntimeError("planted failure")
    if cell.method.name == "slow":
        time.sleep(0.5)
    ds = cell.dataset.load(list(cell.sensitive))
    train, test = train_test_split(ds, test_size=cell.protocol.test_size, seed=cell.seed)
    cols = ["skill", "test_score", "proxy"]
    rng = np.random.default_rng(cell.seed)
    keep = rng.random(len(train)) < 0.8  # seed-dependent subsample: numbers differ per seed
    clf = LogisticRegression(C=float(cell.method.params.get("C", 1.0)))
    clf.fit(train.frame.loc[keep, cols], train.y[keep])
    score = clf.predict_proba(test.frame[cols])[:, 1]
    pred = (score > 0.5).astype(int)
    s = test.s.to_numpy()
    y = test.y
    groups, rates = [], {}
    for g in sorted(set(s)):
        m = s == g
        rates[g] = float(pred[m].mean())
        groups.append({"attribute": "group", "group": g, "size": int(m.sum()),
                       "selection_rate": rates[g], "tpr": float(pred[m & (y == 1)].mean()),
                       "fpr": float(pred[m & (y == 0)].mean()), "small": False})
    metrics = {"accuracy": float((pred == y).mean()), "auroc": float(roc_auc_score(y, score)),
               "dpd": abs(rates["A"] - rates["B"])}
    return {"stage": "reference", "metrics": metrics, "groups": groups}


def _spec(methods: str, seeds: str = "[0, 1]", n: int = 600):
    return loads_spec(textwrap.dedent(f"""
        name: toy
        datasets:
          - name: synthetic
            options: {{n_samples: {n}, bias: 0.8}}
        methods: {methods}
        seeds: {seeds}
        metrics: [utility, fairness]
        """), validate_registry=False)


def _counts(db: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(db)
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("cells", "results", "groups"))
    finally:
        con.close()


def _values(db: Path) -> dict[tuple, float]:
    frame = load_results(db)
    return {(r.method, r.seed, r.metric): r.value for r in frame.itertuples()}


def test_failing_cell_is_recorded_and_others_finish(tmp_path):
    spec = _spec("[{name: lr}, {name: boom}, {name: lr, params: {C: 0.01}, label: lr-strong}]")
    db = tmp_path / "r.db"
    run = run_benchmark(spec, db, cell_fn=toy_cell, progress=False)
    assert (run.n_cells, run.n_run, run.n_failed) == (6, 6, 2)
    assert set(run.failures["method"]) == {"boom"}
    assert all("planted failure" in tb and "Traceback" in tb for tb in run.failures["traceback"])
    assert all(e == "RuntimeError: planted failure" for e in run.failures["error"])
    assert _counts(db) == (6, 4 * 3, 4 * 2)  # failed cells have a row but no results
    # a rerun skips the 4 completed cells and retries only the failed ones
    again = run_benchmark(spec, db, cell_fn=toy_cell, progress=False)
    assert (again.n_skipped, again.n_run, again.n_failed) == (4, 2, 2)
    forced = run_benchmark(spec, db, cell_fn=toy_cell, progress=False, force=True)
    assert (forced.n_skipped, forced.n_run) == (0, 6)
    assert _counts(db) == (6, 12, 8)


def test_store_metadata_and_tidy_rows(tmp_path):
    spec = _spec("[lr]", seeds="[3]")
    db = tmp_path / "r.db"
    run_benchmark(spec, db, cell_fn=toy_cell, progress=False)
    with ResultStore(db, readonly=True) as store:
        cells = store.cells()
        meta = store.meta()
    row = cells.iloc[0]
    assert row["status"] == "ok" and row["seed"] == 3 and row["dataset"] == "synthetic"
    assert row["duration"] > 0 and row["host"] and row["config_hash"] in row["key"]
    assert '"numpy"' in row["versions"] and row["started"] <= row["finished"]
    assert "synthetic" in meta["spec"] and meta["spec_name"] == "toy"
    direct = toy_cell(expand_grid(spec)[0])["metrics"]
    stored = {r.metric: r.value for r in load_results(db).itertuples()}
    assert stored == pytest.approx(direct, abs=0)


_KILL_SCRIPT = """
import signal
import sys
# a job started with '&' from a non-interactive shell (nohup, CI wrappers) inherits SIGINT as
# ignored; restore Python's Ctrl-C handler so the test sees what an interactive user would
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {tests!r})
from test_benchmark_runner import _spec, toy_cell
from fairx.benchmark import run_benchmark
spec = _spec("[slow, {{name: slow, params: {{C: 0.1}}, label: slow2}}]", seeds="[0, 1, 2, 3]")
try:
    run_benchmark(spec, {db!r}, cell_fn=toy_cell, progress=False)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.slow  # end to end: a child interpreter killed mid-grid, then resumed
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_resume_after_kill_loses_nothing(tmp_path, sig):
    db = tmp_path / "killed.db"
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT.format(tests=str(TESTS_DIR), db=str(db)))
    proc = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ))
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline:
        time.sleep(0.1)
        if db.exists():
            try:
                done = _counts(db)[0]
            except sqlite3.OperationalError:
                continue
            if done >= 3:
                break
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    cells, results, groups = _counts(db)
    assert 3 <= cells < 8, "the kill must land mid-grid"
    assert (results, groups) == (cells * 3, cells * 2)  # every stored cell is complete
    spec = _spec("[slow, {name: slow, params: {C: 0.1}, label: slow2}]", seeds="[0, 1, 2, 3]")
    run = run_benchmark(spec, db, cell_fn=toy_cell, progress=False)
    assert (run.n_skipped, run.n_run, run.n_failed) == (cells, 8 - cells, 0)
    assert _counts(db) == (8, 24, 16)


def test_worker_side_of_a_cell_equals_the_in_process_cell(monkeypatch):
    """What a local worker runs for a cell (execute_cell with the per-worker thread cap) gives the
    numbers the sequential run stores; the worker processes themselves: the -m slow test below."""
    from fairx.benchmark._cells import execute_cell

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the thread cap sets them; restored after
        monkeypatch.setenv(var, os.environ.get(var, "1"))
    spec = _spec("[lr, {name: lr, params: {C: 0.05}, label: lr2}]")
    cells = expand_grid(spec)
    assert len(cells) == 4
    for cell in cells:
        seq, worker = execute_cell(cell, toy_cell), execute_cell(cell, toy_cell, 1)
        assert worker["status"] == seq["status"] == "ok"
        assert worker["metrics"] == seq["metrics"] and worker["groups"] == seq["groups"]
    by = {(c.method.display, c.seed): c for c in cells}
    first, other_seed = (execute_cell(by[("lr", seed)], toy_cell)["metrics"] for seed in (0, 1))
    assert first["accuracy"] != other_seed["accuracy"]  # seeds matter


@pytest.mark.slow  # two fresh loky workers import fairx: ~13 s on a shared 2-core machine
def test_local_parallel_equals_sequential(tmp_path):
    spec = _spec("[lr, {name: lr, params: {C: 0.05}, label: lr2}]")
    run_benchmark(spec, tmp_path / "seq.db", cell_fn=toy_cell, progress=False, n_jobs=1)
    run = run_benchmark(spec, tmp_path / "par.db", cell_fn=toy_cell, progress=False, n_jobs=2)
    assert run.n_failed == 0
    seq, par = _values(tmp_path / "seq.db"), _values(tmp_path / "par.db")
    assert len(seq) == 12 and seq == par
    assert seq[("lr", 0, "accuracy")] != seq[("lr", 1, "accuracy")]  # seeds matter


@pytest.mark.slow  # end to end: a fresh interpreter / cluster start-up dominates
def test_dask_local_cluster_matches_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = _spec("[lr, {name: lr, params: {C: 0.05}, label: lr2}, boom]")
    run_benchmark(spec, tmp_path / "local.db", cell_fn=toy_cell, progress=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        run = run_benchmark(spec, tmp_path / "dask.db", cell_fn=toy_cell, progress=False,
                            backend="dask", scheduler=cluster.scheduler_address)
    assert (run.n_cells, run.n_failed) == (6, 2)
    local, remote = _values(tmp_path / "local.db"), _values(tmp_path / "dask.db")
    assert len(local) == 12 and local == remote
    with ResultStore(tmp_path / "dask.db", readonly=True) as store:
        assert store.failures()["error"].tolist() == ["RuntimeError: planted failure"] * 2


def test_bad_backend_and_jobs(tmp_path):
    spec = _spec("[lr]")
    with pytest.raises(ValueError, match="backend"):
        run_benchmark(spec, tmp_path / "x.db", backend="spark", cell_fn=toy_cell)
    with pytest.raises(ValueError, match="n_jobs"):
        run_benchmark(spec, tmp_path / "x.db", n_jobs=0, cell_fn=toy_cell)
    with pytest.raises(ValueError, match="scheduler"):
        run_benchmark(spec, tmp_path / "x.db", backend="dask", cell_fn=toy_cell)


def test_cli_benchmark_with_the_real_protocol(tmp_path):
    """The default cell is fairx.evaluation.protocol.evaluate_method on the seed's split: stored numbers
    equal a direct call; the CLI prints the table and exports it."""
    from typer.testing import CliRunner

    from fairx.cli import app
    from fairx.data import make_synthetic, train_test_split
    from fairx.evaluation.protocol import evaluate_method

    spec = tmp_path / "b.yaml"
    spec.write_text(textwrap.dedent("""\
        name: cli
        datasets:
          - name: synthetic
            options: {n_samples: 600, bias: 0.8}
        methods: [unmitigated, reweighing]
        seeds: [0, 1]
        classifier: logreg
        protocol: {quality: false}
        """))
    db, md = tmp_path / "r.db", tmp_path / "t.md"
    result = CliRunner().invoke(app, ["benchmark", str(spec), "--db", str(db), "--no-progress",
                                      "-e", str(md)])
    assert result.exit_code == 0, result.output
    assert "0 cells reused, 4 run (0 failed)" in result.output
    assert "mean ± std over seeds" in result.output and "reweighing" in result.output
    assert len(md.read_text().strip().splitlines()) == 2 + 2
    ds = make_synthetic(600, bias=0.8)
    direct = evaluate_method("reweighing", ds, seed=1, quality=False, classifier="logreg",
                             split=train_test_split(ds, test_size=0.3, seed=1)).metrics
    stored = {r.metric: r.value for r in load_results(db).itertuples()
              if r.method == "reweighing" and r.seed == 1}
    for k in ("accuracy", "auroc", "dpr", "eor"):
        assert stored[k] == pytest.approx(direct[k], abs=1e-12)
    with ResultStore(db, readonly=True) as store:
        assert set(store.groups()["method"]) == {"unmitigated", "reweighing"}
    again = CliRunner().invoke(app, ["benchmark", str(spec), "--db", str(db), "--no-progress"])
    assert "4 cells reused, 0 run (0 failed)" in again.output
    with ResultStore(db, readonly=True) as store:  # provenance of the rerun
        last = json.loads(store.meta()["last_run"])
    assert (last["n_reused"], last["n_run"], last["n_jobs"]) == (4, 0, 1)
    assert last["backend"] == "local (in-process)"


def test_in_process_cells_keep_the_process_thread_settings_whatever_the_load(tmp_path, monkeypatch):
    """n_jobs=1 runs each cell at the process's own torch / OpenMP settings, also when the machine
    is busy (free cores forced to 1): training results depend on the thread count, so a cell's
    numbers must not depend on what else ran at the time (n_jobs >= 2 gives each worker a fixed
    share instead)."""
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_info

    import fairx.metrics._threads as threads

    seen = []

    def recording_cell(cell):
        seen.append((torch.get_num_threads(),
                     max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")))
        return toy_cell(cell)

    monkeypatch.setattr(threads, "default_threads", lambda: 1)  # as on a busy machine
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        openmp = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")
        run = run_benchmark(_spec("[{name: fairdisco}]", seeds="[0]"), tmp_path / "r.db",
                            cell_fn=recording_cell, progress=False, n_jobs=1)
        assert run.n_failed == 0 and seen == [(2, openmp)]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)

