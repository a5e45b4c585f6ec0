"""Time, CPU and peak memory of ``fairx.evaluate`` (or the quality suite alone) on Adult-sized
tables, beside synthcity's α-precision + PRDC on the same encoded rows, in one run.

    python benchmarks/bench_metrics.py                          # evaluate at 8,000 and 32,561 rows
    python benchmarks/bench_metrics.py --suite quality --sizes 16000 --json out.json
    python benchmarks/bench_metrics.py --synthcity /tmp/synthcity/venv/bin/python   # + synthcity
    python benchmarks/bench_metrics.py --suite alpha-prdc --synthcity VENV/bin/python   # like for like
    python benchmarks/bench_metrics.py --sizes 8000 --profile                       # + pyinstrument
    python benchmarks/bench_metrics.py --sizes 8000 --baseline-src /tmp/old/src     # + an older fairx

Every measurement runs in its own subprocess, so peak RSS (``resource.getrusage`` maxrss, which
covers numpy, scikit-learn and torch) is per size and per library. CPU seconds include finished
child processes (with two or more threads fairx trains the one-class embedding in one; its peak
RSS is printed apart). Threads are the library
defaults (a plain call), unless ``--threads`` is given.

Tables: the Adult loader (``load_dataset("adult", keep_fnlwgt=True)``, 45,222 clean rows, 15
columns). real = a seeded sample of n rows (with replacement beyond 45,222); synthetic = a
perturbed resample of the real rows (numericals + N(0, (0.05·sd)²), rounded/clipped; 5 % of
categorical values redrawn from the real column's marginal); test/holdout = up to 3n/7 of the Adult
rows not sampled whose categories occur in the real sample (a 70/30 split; when none are left, a
perturbed resample of 16,281 rows). ``--suite evaluate`` runs ``fairx.evaluate(real, synthetic, test=holdout)``: TSTR and
TRTR utility/fairness, FTU, data parity and the full quality suite; ``--suite alpha-prdc`` only
α-precision / β-recall / authenticity and PRDC (what synthcity computes below: like for like).
synthcity (a separate venv, ``--synthcity PYTHON``; ``bash benchmarks/synthcity/make_venv.sh
VENV`` builds it) gets the real and synthetic rows
encoded by fairx's encoder and runs ``AlphaPrecision`` and ``PRDCScore(nearest_k=5)``; sizes whose
dense n × n matrices would not fit in the available memory are skipped and said so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

SYNTHCITY_SCRIPT = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
from synthcity.metrics.eval_statistical import AlphaPrecision, PRDCScore
from synthcity.plugins.core.dataloader import GenericDataLoader
real, synth = np.load(sys.argv[1]), np.load(sys.argv[2])
gt, sy = GenericDataLoader(pd.DataFrame(real)), GenericDataLoader(pd.DataFrame(synth))
cpu0, t0 = time.process_time(), time.perf_counter()
alpha = AlphaPrecision(use_cache=False).evaluate(gt, sy)
t1 = time.perf_counter()
prdc = PRDCScore(nearest_k=5, use_cache=False).evaluate(gt, sy)
t2 = time.perf_counter()
print(json.dumps({"seconds": round(t2 - t0, 2), "alpha_seconds": round(t1 - t0, 2),
                  "prdc_seconds": round(t2 - t1, 2), "cpu_seconds": round(time.process_time() - cpu0, 2),
                  "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "metrics": {**{k: round(float(v), 4) for k, v in alpha.items()},
                              **{k: round(float(v), 4) for k, v in prdc.items()}}}))
"""


def _tables(n: int, seed: int = 0):
    """(real, synthetic, holdout, note) Adult tables of n rows (see the module docstring)."""
    from fairx.data import DatasetError, load_dataset, make_synthetic

    note = "adult"
    try:
        base = load_dataset("adult", keep_fnlwgt=True)
    except (DatasetError, OSError) as exc:  # no local files and no network
        note = f"make_synthetic fallback ({exc.__class__.__name__})"
        base = make_synthetic(max(n, 50_000), seed=seed)
    rng = np.random.default_rng(seed)
    N = len(base)
    if n <= N:
        real_rows = rng.choice(N, n, replace=False)
        unseen = np.setdiff1d(np.arange(N), real_rows)
    else:
        real_rows = np.r_[rng.permutation(N), rng.choice(N, n - N, replace=True)]
        unseen = np.array([], dtype=int)
        note += f"; {n - N} real rows drawn twice (only {N} clean rows)"
    real = base.subset(real_rows)

    def perturbed(size: int):
        src = real.frame
        frame = src.iloc[rng.choice(len(src), size, replace=True)].reset_index(drop=True).copy()
        for c in real.numerical:
            col = src[c].to_numpy(dtype=float)
            x = frame[c].to_numpy(dtype=float) + rng.normal(0, 0.05 * (col.std() or 1), size)
            x = np.clip(x, col.min(), col.max())
            frame[c] = np.round(x).astype(src[c].dtype) if c in real.integer else x
        for c in real.categorical:
            flip = rng.random(size) < 0.05
            frame.loc[flip, c] = src[c].sample(int(flip.sum()), replace=True,
                                               random_state=int(rng.integers(1 << 31))).to_numpy()
        return real.with_frame(frame)

    synthetic = perturbed(n)
    keep = np.ones(len(unseen), dtype=bool)
    for c in real.categorical:
        keep &= base.frame[c].iloc[unseen].isin(set(real.frame[c])).to_numpy()
    unseen = unseen[keep][:round(n * 3 / 7)]  # test = 30 % of real + test, as in a 70/30 split
    if len(unseen) > 0:
        holdout = base.subset(unseen)
    else:
        holdout = perturbed(16_281)
        note += "; holdout = perturbed resample of 16,281 rows"
    return real, synthetic, holdout, note


def _usage() -> tuple[float, float]:
    """(CPU seconds of this process and its finished children, peak RSS of this process in MiB).

    Children count: with two or more threads ``evaluate`` trains the one-class embedding in a
    child process (see fairx.metrics._oneclass)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime + ch.ru_utime + ch.ru_stime
    return cpu, ru.ru_maxrss / 1024  # MiB (KiB on Linux)


def _child_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_fairx(n: int, suite: str, seed: int, threads: int | None, profile: bool) -> dict:
    """One fairx measurement (child process)."""
    import fairx
    from fairx.metrics import synthetic_quality
    from fairx.metrics._quality import QUALITY_FAMILIES

    real, synthetic, holdout, note = _tables(n, seed)
    _, rss_tables = _usage()
    timings: dict[str, float] = {}
    opts = {} if threads is None else {"n_threads": threads}
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    cpu0, t0 = _usage()[0], time.perf_counter()
    if suite == "evaluate":
        res = fairx.evaluate(real, synthetic.frame, test=holdout,
                             quality_options={"timings": timings}, **opts)
        metrics = {f"{g}.{m}": round(v, 4) for g, m, v in res.itertuples(index=False)}
    else:
        only = ({"metrics": [*QUALITY_FAMILIES["alpha"], *QUALITY_FAMILIES["prdc"]]}
                if suite == "alpha-prdc" else {})
        q = synthetic_quality(real, synthetic, holdout=holdout, seed=seed, timings=timings,
                              **only, **opts)
        metrics = {k: round(v, 4) for k, v in q.items()}
    seconds = time.perf_counter() - t0
    cpu, rss = _usage()
    out = {"library": "fairx", "suite": suite, "n_real": len(real), "n_synthetic": len(synthetic),
           "n_holdout": len(holdout), "columns": real.frame.shape[1], "tables": note,
           "threads": threads, "seconds": round(seconds, 2), "cpu_seconds": round(cpu - cpu0, 2),
           "maxrss_mb": round(rss, 1), "rss_before_mb": round(rss_tables, 1),
           "child_maxrss_mb": round(_child_maxrss_mb(), 1),
           "timings": {k: round(v, 2) for k, v in timings.items()}, "metrics": metrics}
    if profiler is not None:
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        out["profile"] = "\n".join(text.splitlines()[:60])
    return out


def run_synthcity(n: int, seed: int, python: str) -> dict:
    """synthcity's AlphaPrecision + PRDCScore on fairx-encoded rows (a subprocess in its venv)."""
    from fairx.data import TabularEncoder

    real, synthetic, _, note = _tables(n, seed)
    enc = TabularEncoder(numerical="standard", handle_unknown="ignore").fit(real)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, f"{name}.npy") for name in ("real", "synth")]
        np.save(paths[0], enc.encode(real).astype(np.float64))
        np.save(paths[1], enc.encode(synthetic).astype(np.float64))
        script = os.path.join(tmp, "synthcity_metrics.py")
        with open(script, "w") as fh:
            fh.write(SYNTHCITY_SCRIPT)
        proc = subprocess.run([python, script, *paths], capture_output=True, text=True, cwd=tmp)
    if proc.returncode != 0:
        return {"library": "synthcity", "n_real": n, "error": proc.stderr.strip().splitlines()[-3:]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"library": "synthcity", "suite": "alpha_precision+prdc", "n_real": len(real),
            "n_synthetic": len(synthetic), "tables": note, **res}


def _available_mb() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("inf")


def _child(args: argparse.Namespace, n: int, library: str, src: str | None = None) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", library, "--sizes", str(n),
           "--suite", args.suite, "--seed", str(args.seed)]
    env = dict(os.environ)
    if src is not None:  # another fairx source tree (e.g. `git archive OLD src | tar -x -C DIR`)
        env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    if args.threads is not None:
        cmd += ["--threads", str(args.threads)]
    if args.profile:
        cmd.append("--profile")
    if args.synthcity:
        cmd += ["--synthcity", args.synthcity]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{library} at n={n} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8_000, 32_561])
    parser.add_argument("--suite", default="evaluate", choices=["evaluate", "quality", "alpha-prdc"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="n_threads for fairx (default: the library default of a plain call)")
    parser.add_argument("--synthcity", metavar="PYTHON",
                        help="python of a synthcity venv: also time its AlphaPrecision + PRDCScore")
    parser.add_argument("--profile", action="store_true", help="print the top of a pyinstrument profile")
    parser.add_argument("--baseline-src", metavar="DIR",
                        help="also time the fairx found in DIR (e.g. a previous commit's src/) in the same run")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--child", choices=["fairx", "synthcity"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("FAIRX_DATA_HOME", os.path.join(HERE, "..", "..", "shared", "datasets"))
    if args.child == "fairx":
        print(json.dumps(run_fairx(args.sizes[0], args.suite, args.seed, args.threads, args.profile)))
        return
    if args.child == "synthcity":
        print(json.dumps(run_synthcity(args.sizes[0], args.seed, args.synthcity)))
        return
    print(f"cores: {os.cpu_count()}, load average at the start: {os.getloadavg()[0]:.1f}")
    results = []
    for n in args.sizes:
        res = _child(args, n, "fairx")
        results.append(res)
        print(f"fairx {args.suite:<9} {res['n_real']:>6} x {res['n_synthetic']:<6} {res['seconds']:7.1f} s wall"
              f"  {res['cpu_seconds']:7.1f} s CPU  maxrss {res['maxrss_mb']:6.0f} MB "
              f"(tables alone {res['rss_before_mb']:.0f} MB; child process {res.get('child_maxrss_mb', 0):.0f} MB)"
              f"  [{res['tables']}]")
        print("   quality steps (s):", res["timings"])
        if "profile" in res:
            print(res["profile"])
        if args.baseline_src:
            base = _child(args, n, "fairx", src=args.baseline_src)
            base["library"] = f"fairx ({args.baseline_src})"
            results.append(base)
            print(f"baseline {args.suite:<9} {base['n_real']:>6} x {base['n_synthetic']:<6} "
                  f"{base['seconds']:7.1f} s wall  {base['cpu_seconds']:7.1f} s CPU  "
                  f"maxrss {base['maxrss_mb']:6.0f} MB  [{args.baseline_src}]")
            print(f"   baseline / fairx: {base['seconds'] / res['seconds']:.1f}x wall, "
                  f"{base['cpu_seconds'] / res['cpu_seconds']:.1f}x CPU")
        if args.synthcity:
            need_mb = 3 * 8 * n * n / 2**20  # prdc's three dense float64 distance matrices
            if need_mb > 0.8 * _available_mb():
                print(f"synthcity {n}: skipped, its dense distance matrices need ~{need_mb:.0f} MB and "
                      f"only {_available_mb():.0f} MB are available")
                continue
            ref = _child(args, n, "synthcity")
            results.append(ref)
            if "error" in ref:
                print(f"synthcity {n}: failed: {ref['error']}")
                continue
            print(f"synthcity alpha+prdc {ref['n_real']:>6} x {ref['n_synthetic']:<6} {ref['seconds']:7.1f} s wall"
                  f"  {ref['cpu_seconds']:7.1f} s CPU  maxrss {ref['maxrss_mb']:6.0f} MB"
                  f"  (alpha {ref['alpha_seconds']} s, prdc {ref['prdc_seconds']} s)")
            print(f"   synthcity / fairx {args.suite}: {ref['seconds'] / res['seconds']:.1f}x wall")
    load = os.getloadavg()
    print(f"threads: {args.threads or 'library default'}; cores: {os.cpu_count()}; "
          f"load average at the end: {load[0]:.1f} (other jobs inflate times)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": results, "cpu_count": os.cpu_count(), "loadavg": load}, fh, indent=2)


if __name__ == "__main__":
    main()
