"""Which latent sampler lets a fair VAE's decoder reach the quality of the real rows' own
posteriors, on Adult × sex (split seed ``--seed``).

One FairVAE teacher (this checkout's defaults, cached in ``--teacher-dir``); its decoder is fed
latents from: the real rows' sampled posteriors (the reference every sampler approximates), the
prior N(0, I), and full-covariance Gaussian mixtures with K components fitted on R sampled
posteriors (FairDistill's sampler) or, with ``--chain k``, on step k of the teacher's data-free
chain (Fair4Free's), drawn at a temperature τ (each component's spread scaled by τ).
Each row: coverage, density, α-precision, β-recall (``--rows`` decoded rows against the real
training rows), data-level DPD, TSTR AUROC / DPR (hgb without s on the real test split), the
latent MMD² to the real posteriors, and the mixture's fit seconds.

    python benchmarks/fair_latent_sampler_diag.py --teacher-dir /tmp/teacher0 --k 10 20 40 80
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from fairx.data import load_dataset, train_test_split
from fairx.metrics import synthetic_quality, utility_protocol
from fairx.models.fair_latent.mixture import draw_mixture
from fairx.nn import rbf_mmd2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fair4free_diag import cached_teacher, sampled_posteriors  # noqa: E402  (sibling script)

METRICS = ["coverage", "density", "alpha_precision", "beta_recall"]


def fixed_mixture(z: np.ndarray, k: int, seed: int) -> dict[str, np.ndarray]:
    """A K-component full-covariance mixture (no BIC search), as fairx's mixture arrays."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        gm = GaussianMixture(k, covariance_type="full", random_state=seed, reg_covar=1e-5).fit(z)
    return {"weights": gm.weights_, "means": gm.means_, "covariances": gm.covariances_}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher-dir", type=Path, default=None, help="load the teacher here or fit and save it")
    ap.add_argument("--teacher", default="{}", help="FairVAE parameters as JSON")
    ap.add_argument("--k", type=int, nargs="+", default=[10, 20, 40])
    ap.add_argument("--fit-rows", type=int, nargs="+", default=[10000])
    ap.add_argument("--tau", type=float, nargs="+", default=[1.0])
    ap.add_argument("--chain", type=int, default=None,
                    help="fit the mixtures on step k of the teacher's data-free chain (Fair4Free) "
                         "instead of the real rows' sampled posteriors")
    ap.add_argument("--pool", type=int, nargs="*", default=[],
                    help="with --chain k: also draw from a stored pool of M of step k's Gaussian "
                         "posteriors q(z | x̃, s) (pick one, sample it), for each M given")
    ap.add_argument("--ddpm", default=None,
                    help="also FLDGM's latent DDPM, fitted on the real rows' posteriors, with these "
                         "parameters as JSON over its default preset (e.g. '{}' or '{\"patience\": 20}')")
    ap.add_argument("--rows", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = args.rows
    train, test = train_test_split(load_dataset("adult", sensitive=["sex"]), seed=args.seed)
    vae = cached_teacher(args.teacher_dir, json.loads(args.teacher), args.seed, train)
    p = vae.decoding_parts()
    rng = np.random.default_rng(1)
    mu, logvar, z_post, z_ref = sampled_posteriors(vae, train, rng)

    def report(name, z, seconds=None):
        syn = p.codec.decode(p.net, z.astype(np.float32), p.codec.sample_s(len(z), rng), rng,
                             p.mode, p.device, "diag")
        r = synthetic_quality(train, syn, seed=0, max_rows=n, metrics=METRICS, verbose=False)
        f = syn.frame
        rates = (f[syn.target] == syn.positive_label).groupby(f["sex"]).mean()
        u = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
        mmd = float(rbf_mmd2(torch.as_tensor(z[:2000], dtype=torch.float32), z_ref))
        fit = "" if seconds is None else f" fit={seconds:.1f}s"
        print(f"{name:24s} " + " ".join(f"{m}={r[m]:.3f}" for m in METRICS)
              + f" data_dpd={rates.max() - rates.min():.3f} tstr_auroc={u['auroc']:.3f}"
              f" tstr_dpr={u['dpr']:.3f} latent_mmd2={mmd:.4f}{fit}", flush=True)

    report("posterior", z_post[rng.choice(len(mu), n, replace=False)])
    report("prior", rng.standard_normal((n, mu.shape[1])))
    if args.ddpm is not None:
        from fairx.models.fair_latent.fldgm import make_latent_model

        t0 = time.perf_counter()
        ddpm = make_latent_model("ddpm", "default", json.loads(args.ddpm), device="cpu",
                                 random_state=args.seed, verbose=False).fit(mu, logvar)
        seconds = time.perf_counter() - t0
        report(f"ddpm {args.ddpm} ({ddpm.epochs_run_} ep, best {ddpm.best_epoch_})",
               ddpm.sample(n, seed=args.seed), seconds)
    source, label = z_post, "posterior"
    if args.chain is not None:
        source = vae.latent_chain(max(args.fit_rows), args.chain, seed=rng)[args.chain]
        label = f"chain k={args.chain}"
        report(label, source[:n])
    if args.pool:
        if not args.chain:
            raise SystemExit("--pool needs --chain k with k >= 1 (the pool is step k's posteriors)")
        parts = vae._parts()
        prev = vae.latent_chain(max(args.pool), args.chain - 1, seed=rng)[-1]
        s_idx = parts.codec.sample_s(len(prev), rng, parts.uniform)
        x_t = parts.codec.reconstruct(parts.net, prev, s_idx, rng, parts.mode, parts.device)
        pool_mu, pool_lv = parts.codec.encode_tensors(parts.net, x_t, parts.codec.onehot(s_idx, parts.device))
        for m in args.pool:
            for tau in args.tau:
                j = rng.integers(m, size=n)
                z = pool_mu[j] + tau * np.exp(0.5 * pool_lv[j]) * rng.standard_normal((n, pool_mu.shape[1]))
                report(f"pool of {m} chain posteriors tau={tau}", z)
    for rows in args.fit_rows:
        z_fit = source[rng.choice(len(source), min(rows, len(source)), replace=False)]
        for k in args.k:
            t0 = time.perf_counter()
            mix = fixed_mixture(z_fit, k, args.seed)
            seconds = time.perf_counter() - t0
            for tau in args.tau:
                scaled = dict(mix, covariances=mix["covariances"] * tau ** 2)
                report(f"gmm on {label} K={k} R={rows} tau={tau}", draw_mixture(scaled, n, rng), seconds)


if __name__ == "__main__":
    main()
