"""Benchmarks: a YAML spec, a parallel resumable runner, a SQLite store, mean ± std tables.

```python
from fairx.benchmark import load_spec, run_benchmark, results_table
spec = load_spec("bench.yaml")
run_benchmark(spec, "results.db", n_jobs=2)
print(results_table("results.db"))
```
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ._aggregate import aggregate, export_table, latex_escape, summary_table, to_latex, to_markdown
from ._cells import Cell, execute_cell, expand_grid, run_cell
from ._runner import BenchmarkRun, load_results, run_benchmark
from ._spec import (
    EXAMPLE_SPEC,
    BenchmarkSpec,
    DatasetSpec,
    MethodSpec,
    ProtocolSpec,
    SpecError,
    load_spec,
    loads_spec,
    parse_spec,
)
from ._store import ResultStore


def results_table(db: str | Path, metrics: Sequence[str] = ("utility", "fairness"), *,
                  keys: Sequence[str] | None = None, numeric: bool = False) -> pd.DataFrame:
    """The mean ± std table of the completed cells in ``db``."""
    return summary_table(aggregate(load_results(db, None if keys is None else list(keys))),
                         metrics, numeric=numeric)


__all__ = [
    "EXAMPLE_SPEC", "BenchmarkRun", "BenchmarkSpec", "Cell", "DatasetSpec", "MethodSpec",
    "ProtocolSpec", "ResultStore", "SpecError", "aggregate", "execute_cell", "expand_grid",
    "export_table", "latex_escape", "load_results", "load_spec", "loads_spec", "parse_spec",
    "results_table", "run_benchmark", "run_cell", "summary_table", "to_latex", "to_markdown",
]
