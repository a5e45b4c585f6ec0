"""Thread caps of the metric calls: free cores by default, torch and BLAS together, restored."""

from __future__ import annotations

import os

import pytest
from threadpoolctl import threadpool_info

from fairx.data import make_synthetic
from fairx.metrics import default_threads, synthetic_quality, thread_limit
from fairx.metrics._threads import usable_cores


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_default_is_the_free_cores(monkeypatch):
    import fairx.metrics._threads as threads

    cores = usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    sampled = []

    def sample(others):
        def fake():
            sampled.append(others)
            return others
        monkeypatch.setattr(threads, "_recent_others_busy", fake)

    sample(5.0)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_threads() == cores and not sampled  # quiet machine: every core, no sampling
    monkeypatch.setattr(os, "getloadavg", lambda: (cores + 7.0, 0.0, 0.0))
    assert default_threads() == 1  # busy machine: never more threads than free cores
    sample(0.0)  # a high load average that is this process's own work: every core is free
    assert default_threads() == cores
    sample(cores - 1.0)
    assert default_threads() == 1
    sample(None)  # no /proc/stat (not Linux): the load average is the estimate
    assert default_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (cores - 1.0, 0.0, 0.0))
    assert default_threads() == 1
    with pytest.raises(ValueError, match="n_threads=0"):
        with thread_limit(0):
            pass


def test_other_processes_cpu_is_the_busy_share_less_this_process(monkeypatch):
    """others = busy ticks / all ticks of this process's CPUs × their count − own CPU seconds per
    wall second, over the sample window (fake counters: 2 CPUs, 150 of 200 ticks busy = 1.5
    cores, of which this process used 0.5)."""
    import types

    import fairx.metrics._threads as threads

    ticks = iter([(1000, 4000), (1150, 4200)])
    clock = iter([10.0, 10.05, 11.0])  # process_time: 0.05 s of own CPU in the 0.1 s window
    wall = iter([0.0, 0.1, 1.0])
    fake_time = types.SimpleNamespace(process_time=lambda: next(clock),
                                      perf_counter=lambda: next(wall),
                                      sleep=lambda _s: None, monotonic=lambda: 0.0)
    monkeypatch.setattr(threads, "time", fake_time)
    monkeypatch.setattr(threads, "_affinity", lambda: {0, 1})
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda cpus: next(ticks))
    assert threads.others_busy_cores() == pytest.approx(1.0)
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda cpus: None)  # not Linux
    assert threads.others_busy_cores() is None


def test_proc_stat_counts_only_this_process_cpus(tmp_path, monkeypatch):
    import builtins

    import fairx.metrics._threads as threads

    stat = tmp_path / "stat"
    stat.write_text("cpu  9 9 9 9 9 9 9 9 0 0\n"
                    "cpu0 10 1 4 80 5 0 0 0 0 0\n"     # busy 15 of 100
                    "cpu1 50 0 10 30 0 5 3 2 0 0\n"    # busy 70 of 100
                    "cpu7 99 0 0 1 0 0 0 0 0 0\n"      # not ours
                    "intr 1 2 3\n")
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open",
                        lambda f, *a, **k: real_open(stat if f == "/proc/stat" else f, *a, **k))
    assert threads._cpu_jiffies({0, 1}) == (85, 200)
    assert threads._cpu_jiffies({0}) == (15, 100)


def test_a_fit_keeps_the_process_thread_settings_whatever_the_load(monkeypatch):
    """Training results depend on the thread count (a latent DDPM or a conv VAE gives other bits
    at 1 and 2 threads), so a fit must not follow the machine's load: on a "busy" machine (free
    cores forced to 1) a FairVAE fit still trains with the caller's 2 torch threads."""
    torch = pytest.importorskip("torch")

    import fairx.metrics._threads as threads
    from fairx.models.fair_latent import fair_vae
    from fairx.models.fair_latent.fair_vae import FairVAE

    seen = []

    def recording_codec(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_codec(*args, **kwargs)

    real_codec = fair_vae.make_codec
    monkeypatch.setattr(fair_vae, "make_codec", recording_codec)
    monkeypatch.setattr(threads, "default_threads", lambda: 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        FairVAE(epochs=1, batch_size=128, v2_rows=64).fit(make_synthetic(200, seed=0))
        assert seen == [2] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_torch_and_blas_are_capped_together_and_restored():
    torch = pytest.importorskip("torch")
    torch_before, blas_before = torch.get_num_threads(), _blas_threads()
    with thread_limit(1) as n:
        assert n == 1 and torch.get_num_threads() == 1
        assert all(t == 1 for t in _blas_threads())
    assert torch.get_num_threads() == torch_before and _blas_threads() == blas_before
    # a plain call (default threads, one-class embedding in torch) leaves nothing behind
    real, fresh = make_synthetic(300, seed=0), make_synthetic(300, seed=1)
    torch.set_num_threads(2)  # (torch's OpenMP pool is one of threadpoolctl's pools)
    try:
        pools = _blas_threads()
        q = synthetic_quality(real, fresh, metrics=["alpha_precision"], oneclass_epochs=2)
        assert 0 <= q["alpha_precision"] <= 1
        assert torch.get_num_threads() == 2 and _blas_threads() == pools
    finally:
        torch.set_num_threads(torch_before)
