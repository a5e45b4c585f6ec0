"""Benchmark cells: the grid expansion and the work one cell does (in a worker process)."""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..data import train_test_split
from ..evaluation.explain import explain_frames, shap_available
from ..evaluation.protocol import evaluate_method
from ..models.registry import entry
from ..progress import quiet
from ._spec import BenchmarkSpec, DatasetSpec, MethodSpec, ProtocolSpec, config_hash
from ._store import frame_to_json

logger = logging.getLogger(__name__)

CellFn = Callable[["Cell"], dict[str, Any]]


@dataclass(frozen=True)
class Cell:
    """One unit of work: a method on one dataset / sensitive set / seed."""

    key: str
    position: int
    dataset: DatasetSpec
    sensitive: tuple[str, ...]
    method: MethodSpec
    seed: int
    classifier: str
    protocol: ProtocolSpec
    config_hash: str

    @property
    def sensitive_label(self) -> str:
        return "+".join(self.sensitive)


def expand_grid(spec: BenchmarkSpec) -> list[Cell]:
    """All cells of ``spec`` in a stable order: dataset, sensitive set, method, seed."""
    cells: list[Cell] = []
    for ds in spec.datasets:
        for sens in ds.sensitive:
            for m in spec.methods:
                for seed in spec.seeds:
                    conf = {"dataset": asdict(ds) | {"sensitive": None}, "sensitive": list(sens),
                            "method": asdict(m), "seed": seed, "classifier": spec.classifier,
                            "protocol": asdict(spec.protocol)}
                    h = config_hash(conf)
                    key = f"{ds.name}|{'+'.join(sens)}|{m.display}|seed={seed}|{h}"
                    cells.append(Cell(key=key, position=len(cells), dataset=ds, sensitive=tuple(sens),
                                      method=m, seed=seed, classifier=spec.classifier,
                                      protocol=spec.protocol, config_hash=h))
    return cells


def _versions() -> dict[str, str]:

    out = {"python": platform.python_version()}
    for pkg in ("fairx", "numpy", "pandas", "scikit-learn", "torch", "fairlearn", "shap"):
        if pkg == "torch" and "torch" not in sys.modules:
            continue
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _set_torch_threads(n_threads: int | None) -> None:
    """Limit torch's intra-op threads in this worker process.

    If torch is already imported it is told directly; otherwise ``OMP_NUM_THREADS`` is set, which
    torch reads when a method imports it (so cells that never use torch do not pay its import).
    """
    if n_threads is None:
        return
    os.environ["OMP_NUM_THREADS"] = str(n_threads)
    os.environ["MKL_NUM_THREADS"] = str(n_threads)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n_threads:
        torch.set_num_threads(n_threads)


def _dask_worker_threads() -> int | None:
    try:
        # heavy (distributed): imported when used, so `import fairx` stays light
        from distributed import get_worker

        nthreads = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        return None
    return max(1, (os.cpu_count() or 1) // max(1, nthreads))


_WATCHED: set[int] = set()


def _watch_coordinator(pid: int, interval: float = 0.5) -> None:
    """In a worker process: exit as soon as the coordinator ``pid`` is gone (even after kill -9).

    A daemon thread compares the parent pid with the coordinator's; loky workers are children of
    the coordinator, so a changed parent (re-parented to init) means it died.
    """
    if pid in _WATCHED or pid == os.getpid():
        return
    _WATCHED.add(pid)

    def watch() -> None:
        while True:
            if os.getppid() != pid:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    os._exit(1)
                except PermissionError:  # pragma: no cover - pid reused by another user
                    os._exit(1)
            time.sleep(interval)

    threading.Thread(target=watch, name="fairx-coordinator-watch", daemon=True).start()


def execute_cell(cell: Cell, cell_fn: CellFn | None = None, torch_threads: int | None = None,
                 dask_threads: bool = False, *, coordinator_pid: int | None = None) -> dict[str, Any]:
    """Run one cell and return its record; a failure is returned (error + traceback), not raised.

    ``coordinator_pid``: in a worker process, exit when that process dies.
    """
    if coordinator_pid is not None:
        _watch_coordinator(coordinator_pid)
    if dask_threads:
        torch_threads = _dask_worker_threads()
    _set_torch_threads(torch_threads)
    fn = cell_fn or run_cell
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "key": cell.key, "dataset": cell.dataset.name, "sensitive": cell.sensitive_label,
        "method": cell.method.display, "registry_name": cell.method.name, "stage": None,
        "preset": cell.method.preset, "params": cell.method.params, "seed": cell.seed,
        "config_hash": cell.config_hash, "position": cell.position, "host": socket.gethostname(),
    }
    try:
        if torch_threads is None:
            payload = fn(cell)
        else:  # BLAS/OpenMP pools (HistGradientBoosting, numpy) get the same per-worker share;
            # only the coordinator draws progress bars
            with threadpool_limits(torch_threads), quiet():
                payload = fn(cell)
        record.update(payload)
        record["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a failing cell must not stop the grid
        record["status"] = "failed"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()
        # the runner reports failures (progress line and summary); a warning here would print
        # in the middle of the progress bar
        logger.info("cell %s failed: %s", cell.key, record["error"])
    record["duration"] = time.perf_counter() - t0
    record["started"] = started.isoformat(timespec="seconds")
    record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record["versions"] = _versions()
    if record.get("stage") is None:
        record["stage"] = _stage_of(cell.method.name)
    return record


def _stage_of(name: str) -> str | None:
    try:

        return entry(name).stage
    except KeyError:
        return None


def _subsample(frame, n: int, seed: int):
    if n <= 0 or len(frame) == 0:
        return frame.iloc[:0]
    rows = np.random.default_rng(seed).choice(len(frame), min(n, len(frame)), replace=False)
    return frame.iloc[np.sort(rows)].reset_index(drop=True)


def run_cell(cell: Cell) -> dict[str, Any]:
    """The default cell: load, split, ``fairx.evaluation.protocol.evaluate_method``, keep what the store needs."""

    ds = cell.dataset.load(list(cell.sensitive))
    p = cell.protocol
    train, test = train_test_split(ds, test_size=p.test_size, seed=cell.seed)
    res = evaluate_method(cell.method.name, ds, seed=cell.seed, preset=cell.method.preset,
                          params=dict(cell.method.params), classifier=cell.classifier,
                          use_sensitive=p.use_sensitive, test_size=p.test_size, quality=p.quality,
                          n_synthetic=p.n_synthetic, split=(train, test),
                          min_group_size=p.min_group_size)
    metrics = {k: float(v) for k, v in res.metrics.items() if _is_number(v)}
    out: dict[str, Any] = {
        "registry_name": res.registry_name, "stage": res.stage, "metrics": metrics,
        "groups": [] if res.group_table is None else res.group_table.to_dict("records"),
        "samples": {}, "importances": [],
    }
    synthetic = getattr(res, "synthetic", None)
    if synthetic is not None and p.sample_rows > 0:
        schema = train.schema()
        out["samples"] = {
            "real": {"schema": schema, "rows": frame_to_json(_subsample(train.frame, p.sample_rows, cell.seed))},
            "synthetic": {"schema": schema,
                          "rows": frame_to_json(_subsample(synthetic, p.sample_rows, cell.seed + 1))},
        }
    if p.explain and synthetic is not None:

        if not shap_available():
            logger.warning('explain: true needs shap (pip install "fairx[explain]"); skipped')
            return out

        ex = explain_frames(train, train.with_frame(synthetic[train.frame.columns]), test,
                            classifier=cell.classifier, seed=cell.seed,
                            use_sensitive=p.use_sensitive, method=cell.method.display)
        out["metrics"].update(ex.summary())
        out["importances"] = ex.importances_records()
    return out


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True
