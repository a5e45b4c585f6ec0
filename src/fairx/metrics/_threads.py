"""Thread caps for one metric call: BLAS/OpenMP (threadpoolctl) and torch set together, restored
on exit. (Metric values do not depend on the thread count; training results do — a latent DDPM
or a conv VAE gives other bits at 1 and 2 threads — so model fits are never capped by load.)

The default is the number of *free* cores: the cores this process may run on less the cores
other processes keep busy (rounded, at least 1). On a quiet 2-core machine that is 2; when other
jobs keep the cores busy it is 1, so the call never adds oversubscribed threads (with
oversubscription, OpenMP and torch threads spin against each other and a call runs many times
slower).

"Busy" is measured, not guessed from the 1-minute load average alone: the load average lags by a
minute and counts this process's own work, so right after one fit or metric call it made the next
one run single-threaded on a quiet machine (measured: a load of 0.6–0.9 left by a preceding call
gave ``evaluate`` one thread). Below a load of 0.5 the machine is taken as quiet (no sampling
cost; a job started in the last half-minute can go unseen, as before); above it, a 0.1 s sample of
``/proc/stat`` (Linux) over this process's CPUs, less this process's own CPU time in the same
window, says how many cores other processes use now (reused for 2 s). Elsewhere the load average
is the estimate.
"""

from __future__ import annotations

import contextvars
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from threadpoolctl import threadpool_limits

_CURRENT: ContextVar[int] = ContextVar("fairx_metric_threads", default=1)
_T = TypeVar("_T")
#: below this 1-minute load average the machine is taken as quiet (nothing to sample)
_QUIET_LOAD = 0.5
#: the window over which other processes' CPU use is sampled (20 jiffies on 2 cores at HZ 100)
SAMPLE_SECONDS = 0.1
#: a sample this recent is reused (many short fits and metric calls in a row pay the window once)
_REUSE_SECONDS = 2.0
_last_sample: list[tuple[float, float | None]] = []


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


def _affinity() -> set[int]:
    """The CPUs this process may run on (all of them where the OS does not say)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    return max(1, len(_affinity()))


def _cpu_jiffies(cpus: set[int]) -> tuple[int, int] | None:
    """(busy, total) clock ticks summed over ``cpus`` from ``/proc/stat``; None if unreadable.
    Busy: user, nice, system, irq, softirq and steal (a hypervisor's share is not ours to use)."""
    try:
        with open("/proc/stat") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    busy = total = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or not name[3:].isdigit() or int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in rest.split()[:8]]
        if len(ticks) < 4:
            return None
        used = sum(ticks[:3]) + sum(ticks[5:8])
        busy += used
        total += used + sum(ticks[3:5])
    return (busy, total) if total else None


def others_busy_cores(window: float = SAMPLE_SECONDS) -> float | None:
    """Cores that other processes keep busy now: over ``window`` seconds, the busy share of this
    process's CPUs (``/proc/stat``) times their count, less this process's own CPU time per
    second of the window. None where ``/proc/stat`` cannot be read (not Linux)."""
    cpus = _affinity()
    first, own0, t0 = _cpu_jiffies(cpus), time.process_time(), time.perf_counter()
    if first is None:
        return None
    time.sleep(window)
    second = _cpu_jiffies(cpus)
    own, wall = time.process_time() - own0, time.perf_counter() - t0
    if second is None or second[1] <= first[1]:
        return None
    busy = (second[0] - first[0]) / (second[1] - first[1]) * len(cpus)
    return max(0.0, busy - own / max(wall, 1e-9))


def _recent_others_busy() -> float | None:
    """:func:`others_busy_cores`, reusing a sample taken in the last ``_REUSE_SECONDS``."""
    now = time.monotonic()
    if _last_sample and now - _last_sample[0][0] < _REUSE_SECONDS:
        return _last_sample[0][1]
    others = others_busy_cores()
    _last_sample[:] = [(time.monotonic(), others)]
    return others


def default_threads() -> int:
    """Free cores now: usable cores less the cores other processes keep busy (see the module
    docstring), between 1 and the cores."""
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    others = 0.0 if load < _QUIET_LOAD else _recent_others_busy()
    if others is None:
        others = load
    return int(max(1, min(cores, math.floor(cores - others + 0.5))))


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
