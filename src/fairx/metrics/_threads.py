"""Thread caps for one metric call: BLAS/OpenMP (threadpoolctl) and torch set together, restored
on exit.

The default is the number of *free* cores: the cores this process may run on less the 1-minute
load average (rounded, at least 1). On a quiet 2-core machine that is 2; when other jobs keep the
cores busy it is 1, so the call never adds oversubscribed threads (with oversubscription, OpenMP
and torch threads spin against each other and a call runs many times slower).
"""

from __future__ import annotations

import contextvars
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from threadpoolctl import threadpool_limits

_CURRENT: ContextVar[int] = ContextVar("fairx_metric_threads", default=1)
_T = TypeVar("_T")


def imported(name: str):
    """``sys.modules[name]`` once its import has finished (not while another thread is still
    running it), else None."""
    module = sys.modules.get(name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    return module


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
    torch = imported("torch")
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


@contextmanager
def free_cores(*, torch_needed: bool) -> Iterator[int]:
    """:func:`thread_limit` at the cores free now, for one in-process job of the CLI or the
    benchmark runner (a fit, a cell). ``torch_needed``: torch is imported first, so the cap also
    reaches a torch model's training — left at torch's default of one thread per core, a busy
    machine makes the team spin (a TabFairGAN demo fit: 82.9 s with 2 threads, 20.3 s with 1,
    beside two other jobs)."""
    if torch_needed:
        import torch  # noqa: F401  (the job trains a torch model anyway)
    with thread_limit(None) as n:
        yield n


@contextmanager
def beside(fn: Callable[[], _T], *, enabled: bool) -> Iterator[Callable[[], _T]]:
    """Run ``fn`` in a second thread while the block runs; yields ``result()`` (``fn``'s value,
    its exception re-raised). The caller's context (verbosity, ...) is copied, with a thread cap
    of 1 and OpenMP capped to 1 in that thread: the caller keeps its own cap, so the two lanes
    share the cores by time slicing, never with spinning OpenMP teams on both sides. ``fn`` must
    not depend on the block's work (results are the same either way). The block's exit waits for
    ``fn``. ``enabled=False``: ``fn`` runs when ``result()`` is first called, in this thread.
    """
    if not enabled:
        done: list[_T] = []

        def lazy() -> _T:
            if not done:
                done.append(fn())
            return done[0]

        yield lazy
        return
    context = contextvars.copy_context()

    def lane() -> _T:
        _CURRENT.set(1)
        with threadpool_limits(limits=1, user_api="openmp"):  # thread-local ICV: this lane only
            return fn()

    with ThreadPoolExecutor(1, thread_name_prefix="fairx-beside") as pool:
        future = pool.submit(context.run, lane)
        yield future.result



@contextmanager
def one_openmp_thread(enabled: bool = True) -> Iterator[None]:
    """OpenMP capped to one thread in this thread for the block (``enabled=False``: unchanged).

    For HistGradientBoosting fits of a call that uses a second core for other work (a kNN tile
    thread, the one-class child process): an OpenMP team of two spins against that work, and
    on Adult-sized tables a second HGB thread saves little anyway (GIL-bound Python per tree).
    Fits are identical with any thread count.
    """
    if not enabled:
        yield
        return
    with threadpool_limits(limits=1, user_api="openmp"):
        yield
