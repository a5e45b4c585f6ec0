"""Where fair-latent quality is lost: one FairVAE teacher on Adult × sex (split seed 0), its
decoder fed three kinds of latents — the prior N(0, I) (FairDisCo), a 20-component Gaussian
mixture fitted on sampled posteriors (a stand-in for FLDGM's latent DDPM / FairDistill's GMM) and
the real rows' own posteriors — scored by coverage, density, α-precision, β-recall (one-class
embedding, 8000 rows), data-level DPD, TSTR AUROC / DPR (hgb without s, tested on the real test
split; on the "real test" row the classifier trains on the test split itself, an upper bound) and
a logistic s-probe AUROC on sampled posteriors.

    python benchmarks/fair_latent_decoder_diag.py --epochs 100 --params '{"numerical": "bins"}'
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import cross_val_score

from fairx.data import load_dataset, train_test_split
from fairx.metrics import synthetic_quality, utility_protocol
from fairx.models.fair_latent.fair_vae import FairVAE

METRICS = ["coverage", "density", "alpha_precision", "beta_recall"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--params", default="{}", help="FairVAE parameters as JSON")
    ap.add_argument("--rows", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    params = json.loads(args.params)
    n = args.rows
    train, test = train_test_split(load_dataset("adult", sensitive=["sex"]), seed=args.seed)

    def report(name, syn):
        r = synthetic_quality(train, syn, seed=0, max_rows=n, metrics=METRICS, verbose=False)
        f = syn.frame
        rates = (f[syn.target] == syn.positive_label).groupby(f["sex"]).mean()
        u = utility_protocol(syn, test, classifier="hgb", seed=0, mode="TSTR")
        print(f"{name:18s} " + " ".join(f"{m}={r[m]:.3f}" for m in METRICS)
              + f" data_dpd={rates.max() - rates.min():.3f} tstr_auroc={u['auroc']:.3f}"
              f" tstr_dpr={u['dpr']:.3f}", flush=True)

    report("real test", test)
    t0 = time.perf_counter()
    vae = FairVAE(epochs=args.epochs, random_state=args.seed, verbose=False, **params).fit(train)
    print(f"FairVAE {params} epochs={args.epochs}: fit {time.perf_counter() - t0:.1f} s", flush=True)
    p = vae.decoding_parts()
    rng = np.random.default_rng(1)
    mu, logvar = vae.posterior(train)
    z_post = mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
    rows = rng.choice(len(mu), n, replace=False)
    s_own = p.codec.s_index(train)

    def decode(z, s_idx):
        return p.codec.decode(p.net, z.astype(np.float32), s_idx, rng, p.mode, p.device, "diag")

    report("prior", decode(rng.standard_normal((n, mu.shape[1])), p.codec.sample_s(n, rng)))
    gmm = GaussianMixture(20, covariance_type="full", random_state=0).fit(z_post[rows])
    report("gmm on posterior", decode(gmm.sample(n)[0][rng.permutation(n)], p.codec.sample_s(n, rng)))
    report("posterior, own s", decode(z_post[rows], s_own[rows]))
    probe = cross_val_score(LogisticRegression(max_iter=500), z_post[rows], s_own[rows], cv=3,
                            scoring="roc_auc").mean()
    print(f"s-probe AUROC {probe:.3f}; std of posterior means per dim {np.round(mu.std(0), 2)}")


if __name__ == "__main__":
    main()
