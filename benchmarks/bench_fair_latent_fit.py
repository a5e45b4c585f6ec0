"""Fair-latent training speed on Adult × sex: this checkout beside a previous commit.

Each measurement runs in a fresh child process (torch, BLAS 1 thread unless ``--threads``) with
``PYTHONPATH`` switched between this checkout's ``src`` and ``--prev``'s ``src``, the two trees
alternating so that a change of machine load hits both:

1. ``steps``: the fair VAE teacher (``FairVAE``, this checkout's defaults, same settings in both
   trees) trained ``--epochs`` epochs on the full training split; the median seconds per epoch
   (15 batches of 2048 rows) — the implementation's speed-up, with the same arithmetic.
2. ``fit``: ``fairx.models.get(method)`` at its ``default`` preset fitted on the full training
   split (seed ``--seed``): fit seconds and the epochs the teacher / latent model ran.
3. ``mixture``: the latent mixture of FairDistill / Fair4Free (held-out search up to 48
   components on up to 32,768 latents) fitted on one sample of the posteriors of the training
   rows under a teacher trained ``--epochs`` epochs (the same teacher in both trees): seconds,
   components chosen and the held-out log-likelihood of the result (scored by sklearn).
4. ``v2``: the V² penalty as the teacher trains it (a 512-row sub-batch of a 2048-row batch,
   16 latent dimensions, bandwidth 1, two groups): milliseconds per forward + backward, the
   median over ``--repeats`` runs of 200 calls each, and the value and gradient norm (equal in
   both trees up to float32 rounding).

    git worktree add /tmp/prev b2eec3d
    python benchmarks/bench_fair_latent_fit.py --prev /tmp/prev --what steps
    python benchmarks/bench_fair_latent_fit.py --prev /tmp/prev --what fit --methods fairdisco
    python benchmarks/bench_fair_latent_fit.py --prev /tmp/prev --what mixture --epochs 100
    python benchmarks/bench_fair_latent_fit.py --prev /tmp/prev --what v2 --repeats 5 --threads 2

``uptime`` is printed before and after (compare ratios on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

CHILD = r"""
import json, sys, time
from fairx.data import load_dataset, train_test_split
args = json.loads(sys.argv[1])
if args["what"] != "v2":
    train, _ = train_test_split(load_dataset("adult", sensitive=["sex"]), seed=args["seed"])
if args["what"] == "v2":
    import torch
    from fairx.nn import v2_penalty_subsampled
    gen = torch.Generator().manual_seed(args["seed"])
    mu = torch.randn(2048, 16, generator=gen).requires_grad_(True)
    logvar = (0.5 * torch.randn(2048, 16, generator=gen) - 2.0).requires_grad_(True)
    s = torch.nn.functional.one_hot(torch.randint(0, 2, (2048,), generator=gen), 2).float()
    def call():
        value = v2_penalty_subsampled(mu, logvar, s, 2048, max_rows=512, bandwidth=1.0,
                                      generator=torch.Generator().manual_seed(1))
        value.backward()
        return float(value.detach())
    for _ in range(10):
        call()
    t = time.perf_counter()
    for _ in range(200):
        mu.grad = logvar.grad = None
        value = call()
    print(json.dumps({"ms": (time.perf_counter() - t) / 200 * 1e3, "value": f"{value:.6e}",
                      "grad_norm": f"{float(mu.grad.norm()):.6e}"}))
elif args["what"] == "steps":
    from fairx.models.fair_latent.fair_vae import FairVAE
    m = FairVAE(epochs=args["epochs"], numerical="bins", kl_weight=0.3, hidden=128,
                random_state=args["seed"], verbose=False).fit(train)
    secs = m.history_["seconds"][1:]  # the first epoch includes one-off set-up
    print(json.dumps({"epoch_seconds": sorted(secs)[len(secs) // 2]}))
elif args["what"] == "mixture":
    import numpy as np
    from sklearn.mixture import GaussianMixture
    from fairx.models.fair_latent.fair_vae import FairVAE
    from fairx.models.fair_latent.mixture import fit_mixture
    m = FairVAE(epochs=args["epochs"], random_state=args["seed"], verbose=False).fit(train)
    mu, logvar = m.posterior(train)
    rng = np.random.default_rng(args["seed"])
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
    fresh = mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
    t = time.perf_counter()
    mix = fit_mixture(z, max_components=48, rows=32768, seed=args["seed"], selection="heldout")
    secs = time.perf_counter() - t
    ref = GaussianMixture(len(mix["weights"]), covariance_type="full")
    ref.weights_, ref.means_, ref.covariances_ = mix["weights"], mix["means"], mix["covariances"]
    ref.precisions_cholesky_ = np.linalg.inv(np.linalg.cholesky(mix["covariances"])).transpose(0, 2, 1)
    print(json.dumps({"mixture_seconds": secs, "components": len(mix["weights"]),
                      "fresh_loglik": round(float(ref.score(fresh)), 4)}))
else:
    import fairx.models as fm
    m = fm.get(args["method"], "default", random_state=args["seed"], verbose=False)
    t = time.perf_counter()
    m.fit(train)
    out = {"fit_seconds": time.perf_counter() - t}
    for teacher in (m, getattr(m, "vae_", None), getattr(m, "teacher_", None)):
        h = getattr(teacher, "history_", None)
        if isinstance(h, dict) and h.get("loss"):
            out["teacher_epochs"] = len(h["loss"])
    latent = getattr(m, "latent_", None)
    if latent is not None and hasattr(latent, "epochs_run_"):
        out["latent_epochs"] = latent.epochs_run_
    print(json.dumps(out))
"""


def run_child(src: Path, args: dict, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    code = f"import torch; torch.set_num_threads({threads})\n" + CHILD
    out = subprocess.run([sys.executable, "-c", code, json.dumps(args)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prev", type=Path, help="a checkout of the previous commit (its src/ is used)")
    ap.add_argument("--what", choices=["steps", "fit", "mixture", "v2"], default="steps")
    ap.add_argument("--methods", nargs="+", default=["fairdisco", "fldgm-ddpm", "fairdistill", "fair4free"])
    ap.add_argument("--epochs", type=int, default=8, help="teacher epochs for --what steps / mixture")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    trees = {"this": SRC} | ({"prev": args.prev / "src"} if args.prev else {})
    print(uptime(), flush=True)
    jobs = [{"what": args.what, "epochs": args.epochs, "seed": args.seed}] if args.what != "fit" else [
        {"what": "fit", "method": m, "seed": args.seed} for m in args.methods]
    for job in jobs:
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(args.repeats if args.what != "fit" else 1):
            for name, src in trees.items():
                results[name].append(run_child(src, job, args.threads))
        label = job["method"] if args.what == "fit" else {
            "steps": "FairVAE teacher epoch", "mixture": "latent mixture", "v2": "V² forward + backward"}[args.what]
        key = {"steps": "epoch_seconds", "fit": "fit_seconds", "mixture": "mixture_seconds",
               "v2": "ms"}[args.what]
        values = {name: statistics.median(r[key] for r in rs) for name, rs in results.items()}
        extra = {name: {k: v for k, v in rs[-1].items() if k != key} for name, rs in results.items()}
        unit = "ms" if args.what == "v2" else "s"
        line = f"{label:24s} " + "  ".join(f"{name} {v:7.2f} {unit} {extra[name] or ''}"
                                           for name, v in values.items())
        if "prev" in values:
            line += f"  speed-up ×{values['prev'] / values['this']:.2f}"
        print(line, flush=True)
    print(uptime(), flush=True)


if __name__ == "__main__":
    main()
