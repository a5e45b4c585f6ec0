"""Where Fair4Free loses quality against the teacher it distils, on Adult × sex (split seed 0).

One FairVAE teacher (this checkout's defaults, cached in ``--teacher-dir``), its decoder fed:

- ``posterior``: samples of the real rows' posteriors (what FLDGM / FairDistill approximate);
- ``chain k``: the teacher's own prior→decode→re-encode chain at the chosen step (data-free);
- ``generator``: the student latent generator g(ε), decoded by the teacher's decoder;

and the full students (generator + distilled decoder of width ``h``). Each row is scored by
coverage, density, α-precision, β-recall (8000 rows), data-level DPD, TSTR AUROC / DPR (hgb
without s on the real test split), and the latent MMD² to the real aggregate posterior.

    python benchmarks/fair4free_diag.py --teacher-dir /tmp/f4f_teacher
    python benchmarks/fair4free_diag.py --student '{"student_hidden": 128}'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from fairx.data import load_dataset, train_test_split
from fairx.metrics import synthetic_quality, utility_protocol
from fairx.models.fair_latent.fair4free import Fair4Free
from fairx.models.fair_latent.fair_vae import FairVAE
from fairx.nn import rbf_mmd2
from fairx.nn._distill import chain_stationarity

METRICS = ["coverage", "density", "alpha_precision", "beta_recall"]


def cached_teacher(folder: Path | None, params: dict, seed: int, train) -> FairVAE:
    """The FairVAE saved in ``folder``, or one fitted on ``train`` (and saved there if given)."""
    if folder is not None and (folder / "config.json").exists():
        print(f"teacher loaded from {folder}", flush=True)
        return FairVAE.load(folder)
    t0 = time.perf_counter()
    vae = FairVAE(random_state=seed, verbose=False, **params).fit(train)
    print(f"teacher fit {time.perf_counter() - t0:.1f} s", flush=True)
    if folder is not None:
        vae.save(folder)
    return vae


def sampled_posteriors(vae: FairVAE, train, rng: np.random.Generator):
    """(μ, log σ², one sampled latent per training row, 2,000 of those as a torch reference for
    the latent MMD²) of the real rows' posteriors."""
    mu, logvar = vae.posterior(train)
    z_post = mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
    ref = torch.as_tensor(z_post[rng.choice(len(mu), 2000, replace=False)], dtype=torch.float32)
    return mu, logvar, z_post, ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher-dir", type=Path, default=None, help="load the teacher here or fit and save it")
    ap.add_argument("--teacher", default="{}", help="FairVAE parameters as JSON")
    ap.add_argument("--student", action="append", default=None,
                    help="Fair4Free parameters as JSON (repeat for several students)")
    ap.add_argument("--rows", type=int, default=8000)
    ap.add_argument("--chain", type=int, default=3, help="decode the teacher's chain up to this step")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = args.rows
    train, test = train_test_split(load_dataset("adult", sensitive=["sex"]), seed=args.seed)

    def report(name, syn, z=None):
        r = synthetic_quality(train, syn, seed=0, max_rows=n, metrics=METRICS, verbose=False)
        f = syn.frame
        rates = (f[syn.target] == syn.positive_label).groupby(f["sex"]).mean()
        u = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
        mmd = "" if z is None else f" latent_mmd2={float(rbf_mmd2(torch.as_tensor(z[:2000], dtype=torch.float32), z_real)):.4f}"
        print(f"{name:28s} " + " ".join(f"{m}={r[m]:.3f}" for m in METRICS)
              + f" data_dpd={rates.max() - rates.min():.3f} tstr_auroc={u['auroc']:.3f}"
              f" tstr_dpr={u['dpr']:.3f}{mmd}", flush=True)

    vae = cached_teacher(args.teacher_dir, json.loads(args.teacher), args.seed, train)
    p = vae.decoding_parts()
    rng = np.random.default_rng(1)
    mu, logvar, z_post, z_real = sampled_posteriors(vae, train, rng)

    def decode(z):
        return p.codec.decode(p.net, z.astype(np.float32), p.codec.sample_s(len(z), rng), rng,
                              p.mode, p.device, "diag")

    rows = rng.choice(len(mu), n, replace=False)
    report("teacher on posterior", decode(z_post[rows]), z_post[rows])
    chain = vae.latent_chain(n, args.chain, seed=rng)
    ratios = chain_stationarity(chain, rng)
    for k, z in enumerate(chain):
        ratio = f", ratio {ratios[k]:.2f}" if k < len(ratios) else ""
        report(f"teacher on chain k={k}{ratio}", decode(z), z)
    for spec in args.student or ["{}"]:
        params = json.loads(spec)
        t0 = time.perf_counter()
        student = Fair4Free.distill(vae, random_state=args.seed, **params)
        label = f"student {spec} (k={student.chain_steps_}, {time.perf_counter() - t0:.0f} s)"
        z = student.sample_latent(n, seed=2)
        report(f"teacher on generator {spec}", decode(z), z)
        report(label, student.sample(n, seed=3), z)


if __name__ == "__main__":
    main()
