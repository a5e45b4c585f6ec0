"""Run a benchmark grid locally (joblib/loky) or on a Dask cluster; store each cell as it ends."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from joblib import Parallel, delayed

from ..progress import progress as progress_bar
from ..progress import verbosity
from ._cells import Cell, CellFn, _stage_of, _versions, execute_cell, expand_grid
from ._spec import BenchmarkSpec
from ._store import ResultStore

logger = logging.getLogger(__name__)


@dataclass
class BenchmarkRun:
    """What a run did: cells in the grid, run now, skipped (already stored), failed."""

    db: Path
    n_cells: int
    n_run: int
    n_skipped: int
    n_failed: int
    seconds: float
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    keys: list[str] = field(default_factory=list)


_COST_RANK = {"generator": 0, "in": 1}
DASK_CONNECT_TIMEOUT = 5  # seconds to reach a scheduler before giving up


def _torch_threads(n_jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, n_jobs))


def _iter_local(cells: list[Cell], cell_fn: CellFn | None, n_jobs: int) -> Iterator[dict[str, Any]]:
    if n_jobs == 1:
        # in-process (no worker start-up), at this process's own thread settings: training
        # results depend on the thread count (a latent DDPM or a conv VAE gives other bits at 1
        # and 2 threads), so the count must not follow the machine's load; on a shared machine
        # set OMP_NUM_THREADS or use n_jobs >= 2 (a fixed share per worker)
        for cell in cells:
            yield execute_cell(cell, cell_fn, None)
        return

    threads = _torch_threads(n_jobs)
    parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    me = os.getpid()  # workers watch this process and exit when it dies (even by kill -9)
    gen = parallel(delayed(execute_cell)(c, cell_fn, threads, coordinator_pid=me) for c in cells)
    try:
        yield from gen
    finally:
        close = getattr(gen, "close", None)
        if close is not None:
            close()


def _iter_dask(cells: list[Cell], cell_fn: CellFn | None, scheduler: Any) -> Iterator[dict[str, Any]]:
    """Connect now (a bad address fails before any progress bar starts), then yield records."""
    if not scheduler:  # checked first: the message holds whether or not distributed is installed
        raise ValueError("--backend dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    client, own = _dask_client(scheduler)
    return _dask_records(client, own, cells, cell_fn)


def _dask_client(scheduler: Any) -> tuple[Any, bool]:
    try:
        # heavy (distributed): imported when used, so `import fairx` stays light
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError('the Dask backend needs distributed: pip install "fairx[dask]"') from exc
    own = not isinstance(scheduler, Client)
    if own and not scheduler:
        raise ValueError("--backend dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    if own:
        try:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:  # unreachable: one clear line, not a traceback
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler!r} within "
                                  f"{DASK_CONNECT_TIMEOUT} s ({type(exc).__name__}); start one "
                                  "with `dask scheduler` or use --backend local") from None
    else:
        client = scheduler
    return client, own


def _dask_records(client: Any, own: bool, cells: list[Cell],
                  cell_fn: CellFn | None) -> Iterator[dict[str, Any]]:
    # heavy (distributed): imported when used, so `import fairx` stays light
    from distributed import as_completed

    try:
        futures = [client.submit(execute_cell, c, cell_fn, None, True, pure=False) for c in cells]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()
    finally:
        if own:
            client.close()


def run_benchmark(
    spec: BenchmarkSpec,
    db: str | Path = "results.db",
    *,
    n_jobs: int | None = None,
    backend: Literal["local", "dask"] = "local",
    scheduler: Any = None,
    force: bool = False,
    cell_fn: CellFn | None = None,
    progress: bool | None = None,
) -> BenchmarkRun:
    """Run every cell of ``spec`` not yet stored in ``db`` (all of them with ``force``).

    Cells run in parallel (``n_jobs`` local processes, or on the Dask cluster at ``scheduler``,
    an address or a ``distributed.Client``); only this process writes the database, one
    transaction per finished cell, so an interrupted run resumes where it stopped. A failing
    cell is stored with its error and traceback and the others go on. ``cell_fn(cell) -> dict``
    replaces the default work (:func:`fairx.benchmark.run_cell`), e.g. in tests. ``progress``
    shows a bar of cells (done/total, ETA, failures); None: only on a terminal (see
    :mod:`fairx.progress`). Cells run in this process (``n_jobs=1``) add their training bars
    under it; worker processes stay quiet.
    """
    if backend not in ("local", "dask"):
        raise ValueError(f"backend={backend!r}; allowed: 'local', 'dask'")
    n_jobs = spec.n_jobs if n_jobs is None else n_jobs
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs}; give a positive number of workers (or -1 for all cores)")
    cells = expand_grid(spec)
    t0 = time.perf_counter()
    n_failed = n_run = 0
    with ResultStore(db) as store:
        store.acquire()  # a second run on this database stops here with "in use by pid …"
        store.set_meta(spec=spec.to_yaml(), spec_hash=spec.hash(), spec_name=spec.name,
                       metrics=json.dumps(spec.metrics), coordinator_versions=_versions())
        done = set() if force else store.completed_keys()
        todo = [c for c in cells if c.key not in done]
        if n_jobs > 1 or backend == "dask":
            # the costliest stages first, so the last worker is not left with a long cell alone
            todo.sort(key=lambda c: (_COST_RANK.get(_stage_of(c.method.name), 2), c.position))
        logger.info("%d cells, %d stored, %d to run", len(cells), len(cells) - len(todo), len(todo))
        source = (_iter_local(todo, cell_fn, n_jobs) if backend == "local"
                  else _iter_dask(todo, cell_fn, scheduler))
        with verbosity(progress), progress_bar(len(todo), f"benchmark {spec.name}") as bar:
            try:
                for record in source:
                    record["spec_hash"] = spec.hash()
                    store.write_cell(record, replace=force)
                    n_run += 1
                    if record["status"] != "ok":
                        n_failed += 1
                    mark = "ok" if record["status"] == "ok" else "FAILED"
                    last = f"{record['method']} · {record['dataset']} · seed {record['seed']}: {mark}"
                    if mark == "FAILED":
                        bar.note(f"{last}: {record.get('error', '')}")
                    bar.advance(failed=n_failed, last=last)
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
        failures = store.failures()
        store.set_meta(last_run={
            "n_cells": len(cells), "n_run": n_run, "n_reused": len(cells) - len(todo),
            "n_failed": n_failed, "n_jobs": n_jobs,
            "backend": "local (in-process)" if backend == "local" and n_jobs == 1 else
            "local (joblib/loky)" if backend == "local" else "dask",
            "scheduler": str(scheduler) if backend == "dask" else None,
            "seconds": round(time.perf_counter() - t0, 1),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    keys = [c.key for c in cells]
    failures = failures[failures["key"].isin(keys)].reset_index(drop=True)
    return BenchmarkRun(db=Path(db), n_cells=len(cells), n_run=n_run,
                        n_skipped=len(cells) - len(todo), n_failed=len(failures),
                        seconds=time.perf_counter() - t0, failures=failures, keys=keys)


def load_results(db: str | Path, keys: list[str] | None = None) -> pd.DataFrame:
    """Tidy results of the completed cells in ``db``: the given cell keys (a spec's cells), or
    without keys the newest configuration of each (dataset, sensitive, method, seed)."""
    with ResultStore(db, readonly=True) as store:
        frame = store.results(latest=keys is None)
    if keys is not None:
        frame = frame[frame["cell_key"].isin(keys)].reset_index(drop=True)
    return frame
