"""Decoding temperature of the fair-latent family on Adult × sex (``--dataset`` / ``--sensitive``
for another table; split seed ``--seed``).

One FairVAE teacher (this checkout's defaults, cached in ``--teacher-dir``). Its decoder is fed
latents from the real rows' sampled posteriors, from the 48-component held-out latent mixture
fitted on them (FairDistill's sampler) and, with ``--chain k``, from the same mixture fitted on
step k of the teacher's data-free chain run at each chain temperature of ``--chain-tau``
(Fair4Free's path; ``--chain-start moments`` also starts the chain from N(m, C), the mean and
covariance of the real rows' sampled posteriors — what a BatchNorm-style running statistic of
the teacher's latent would hold — instead of N(0, I)); every source is decoded at each temperature τ of ``--tau`` (each
categorical and numerical-bin softmax drawn as softmax(logits / τ); ``decode_temperature``).
Each row: the full quality suite of ``--rows`` decoded rows against as many real training rows,
the positive rate, data-level DPD and TSTR AUROC / DPR (hgb without s on the real test split).

    python benchmarks/fair_latent_decode_temperature.py --teacher-dir /tmp/teacher0 --tau 1 0.5 0.25
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from fairx.data import load_dataset, train_test_split
from fairx.metrics import synthetic_quality, utility_protocol
from fairx.models.fair_latent.mixture import draw_mixture, fit_mixture

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fair4free_diag import cached_teacher, sampled_posteriors  # noqa: E402  (sibling script)

SHOWN = ["coverage", "density", "alpha_precision", "beta_recall", "authenticity", "tv_complement",
         "ks_complement", "correlation_similarity", "c2st_auc"]


def chain_from(vae, z0: np.ndarray, steps: int, tau: float, rng: np.random.Generator) -> list:
    """FairVAE.latent_chain's decode → re-encode steps from a given z_0."""
    from fairx.nn._distill import prior_chain

    p = vae._parts()

    def reencode(z, rng):
        s_idx = p.codec.sample_s(len(z), rng, p.uniform)
        x_t = p.codec.reconstruct(p.net, z, s_idx, rng, p.mode, p.device, tau)
        return p.codec.encode_tensors(p.net, x_t, p.codec.onehot(s_idx, p.device))

    return prior_chain(z0, reencode, steps, rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher-dir", type=Path, default=None, help="load the teacher here or fit and save it")
    ap.add_argument("--teacher", default="{}", help="FairVAE parameters as JSON")
    ap.add_argument("--tau", type=float, nargs="+", default=[1.0, 0.5])
    ap.add_argument("--sources", nargs="*", default=["posterior", "mixture"],
                    choices=["posterior", "mixture"])
    ap.add_argument("--chain", type=int, default=None, help="also the mixture on chain step k")
    ap.add_argument("--chain-tau", type=float, nargs="+", default=[1.0])
    ap.add_argument("--chain-start", nargs="+", default=["prior"], choices=["prior", "moments"],
                    help="the chain's z_0: N(0, I) (Fair4Free) and/or N(m, C) of the posteriors")
    ap.add_argument("--chain-samples", type=int, nargs="+", default=[16384],
                    help="chain latents the mixture is fitted on (Fair4Free's chain_samples)")
    ap.add_argument("--rows", type=int, default=None, help="decoded rows (default: n_train)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--sensitive", default="sex")
    args = ap.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    train, test = train_test_split(load_dataset(args.dataset, sensitive=[args.sensitive]), seed=args.seed)
    n = args.rows or len(train.frame)
    vae = cached_teacher(args.teacher_dir, json.loads(args.teacher), args.seed, train)
    p = vae.decoding_parts()
    rng = np.random.default_rng(1)
    _, _, z_post, _ = sampled_posteriors(vae, train, rng)
    sources = {}
    if "posterior" in args.sources:
        sources["posterior"] = z_post[rng.choice(len(z_post), n, replace=len(z_post) < n)]
    if "mixture" in args.sources:
        mix = fit_mixture(z_post, max_components=48, rows=32768, seed=args.seed, selection="heldout")
        sources[f"mixture ({len(mix['weights'])})"] = draw_mixture(mix, n, np.random.default_rng(5))
    for tau_c in args.chain_tau if args.chain is not None else []:
        for m in args.chain_samples:
            for start in args.chain_start:
                if start == "prior":
                    chain = vae.latent_chain(m, args.chain, seed=np.random.default_rng(7), temperature=tau_c)
                else:
                    z0 = np.random.default_rng(7).multivariate_normal(z_post.mean(0), np.cov(z_post.T), m)
                    chain = chain_from(vae, z0, args.chain, tau_c, np.random.default_rng(8))
                for k in sorted({0, args.chain}):
                    mix = fit_mixture(chain[k], max_components=48, rows=32768, seed=args.seed,
                                      selection="heldout")
                    sources[f"{start} chain {k} ({m}) at τ {tau_c} + mixture"] = draw_mixture(
                        mix, n, np.random.default_rng(5))
    for tau in args.tau:
        for name, z in sources.items():
            r = np.random.default_rng(2)
            syn = p.codec.decode(p.net, z.astype(np.float32), p.codec.sample_s(n, r), r, p.mode,
                                 p.device, "diag", temperature=tau)
            q = synthetic_quality(train, syn, seed=0, max_rows=n, verbose=False)
            u = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
            f = syn.frame
            positive = f[syn.target] == syn.positive_label
            rates = positive.groupby(f[args.sensitive]).mean()
            print(f"τ {tau:<5} {name:36s} " + " ".join(f"{m}={q[m]:.3f}" for m in SHOWN)
                  + f" positive={positive.mean():.3f} data_dpd={rates.max() - rates.min():.3f}"
                  f" tstr_auroc={u['auroc']:.3f} tstr_dpr={u['dpr']:.3f}", flush=True)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
