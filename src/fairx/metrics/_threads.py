"""Thread caps for one metric call: BLAS/OpenMP (threadpoolctl) and torch set together, restored
on exit.

The default is the number of *free* cores: the cores this process may run on less the 1-minute
load average (rounded, at least 1). On a quiet 2-core machine that is 2; when other jobs keep the
cores busy it is 1, so the call never adds oversubscribed threads (with oversubscription, OpenMP
and torch threads spin against each other and a call runs many times slower).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from threadpoolctl import threadpool_limits

_CURRENT: ContextVar[int] = ContextVar("fairx_metric_threads", default=1)


def current_threads() -> int:
    """The cap of the enclosing :func:`thread_limit` (1 outside one)."""
    return _CURRENT.get()


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Free cores now: usable cores less the 1-minute load average, between 1 and the cores."""
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return int(max(1, min(cores, round(cores - load))))


def resolve_threads(n_threads: int | None) -> int:
    """``n_threads`` checked, or :func:`default_threads` for ``None``."""
    if n_threads is None:
        return default_threads()
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ValueError(f"n_threads={n_threads!r}; use a positive integer or None (free cores)")
    return n_threads


@contextmanager
def thread_limit(n_threads: int | None) -> Iterator[int]:
    """Cap BLAS/OpenMP and (if imported) torch intra-op threads to ``n_threads`` (``None``: free
    cores) inside the block and restore the previous settings afterwards; yields the cap.

    torch is not imported here; code that imports it inside the block sets its own threads from
    the yielded value (as :func:`~fairx.metrics._oneclass.oneclass_embed` does).
    """

    n = resolve_threads(n_threads)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    token = _CURRENT.set(n)
    with threadpool_limits(limits=n):
        if torch is not None:
            torch.set_num_threads(n)
        try:
            yield n
        finally:
            if torch is not None:
                torch.set_num_threads(before)
            _CURRENT.reset(token)
