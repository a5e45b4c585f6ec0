"""Record the ``fast``-preset metrics of every registered method on the planted table.

Used to check that a refactor leaves numbers unchanged: run it before and after, then compare
with ``--compare OLD.json``. Timings (``fit_seconds``, ``sample_seconds``) are left out because
they are not reproducible; every other metric must match for the same seeds.

    python benchmarks/record_fast_outputs.py -o benchmarks/results/fast_outputs.json
    python benchmarks/record_fast_outputs.py -o /tmp/after.json --compare benchmarks/results/fast_outputs.json
    python benchmarks/record_fast_outputs.py --images 500 --seeds 0 -o /tmp/images.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fairx.data import make_synthetic
from fairx.models import available, method_class
from fairx.protocol import evaluate_method

_TIMINGS = {"fit_seconds", "sample_seconds"}


def record(n_samples: int, seeds: list[int], methods: list[str] | None = None,
           output: Path | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """``{method: {seed: {metric: value}}}`` for every registered method (or ``methods``), with
    the ``fast`` preset where it has one; written to ``output`` after every method."""
    data = make_synthetic(n_samples, bias=0.8, seed=0)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in methods or list(available()["name"]):
        out[name] = {}
        # methods without a ``fast`` preset (the scikit-learn baselines) run with their defaults
        preset = "fast" if "fast" in getattr(method_class(name), "presets", {}) else None
        for seed in seeds:
            result = evaluate_method(name, data, seed=seed, preset=preset,
                                     quality_options={"max_rows": 300})
            out[name][str(seed)] = {k: v for k, v in sorted(result.metrics.items())
                                    if k not in _TIMINGS}
            print(f"{name:24s} seed={seed}", flush=True)
        if output is not None:
            output.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return out


#: the fair-latent methods that also train on images (``fairx.models.get_for``)
IMAGE_METHODS = ("fairdisco", "fldgm", "fairdistill", "fair4free")


def _image_fingerprint(model: Any, data: Any, seed: int) -> dict[str, float]:
    """Numbers that pin a fitted image model: the teacher's posterior on the training images,
    the latent sampler, decoding fixed latents with fixed groups, and ``sample``."""
    teacher = getattr(model, "teacher_", None) or getattr(model, "vae_", None) or model
    mu, logvar = teacher.posterior(data.subset(np.arange(64)))
    z_lat = model.sample_latent(200, seed=seed)
    z = np.random.default_rng(123).standard_normal((64, z_lat.shape[1])).astype(np.float32)
    fixed = model.decode_latent(z, s=np.arange(64) % data.n_groups)
    gen = model.sample(200, seed=seed)
    return {"posterior_mu_mean": float(mu.mean()), "posterior_mu_abs": float(np.abs(mu).mean()),
            "posterior_logvar_mean": float(logvar.mean()),
            "latent_mean": float(z_lat.mean()), "latent_std": float(z_lat.std()),
            "decode_fixed_pixels": float(fixed.to_numpy().mean()),
            "decode_fixed_label_mean": float(np.mean(fixed.y)),
            "sample_pixels": float(gen.to_numpy().mean()), "sample_label_mean": float(np.mean(gen.y)),
            "sample_group_mean": float(np.mean(gen.s))}


def record_images(n_images: int, seeds: list[int], output: Path | None = None,
                  dataset: str = "colored_mnist") -> dict[str, dict[str, dict[str, float]]]:
    """``{"image:" + method: {seed: fingerprint}}`` for the image fair-latent models: the
    ``fast`` preset on a seeded ``n_images`` subsample of Colored MNIST, on the CPU."""
    from fairx.data import load_dataset
    from fairx.models import get_for

    data = load_dataset(dataset, split="train", n=n_images, seed=0)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in IMAGE_METHODS:
        out[f"image:{name}"] = {}
        for seed in seeds:
            model = get_for(data, name, preset="fast", random_state=seed, device="cpu").fit(data)
            out[f"image:{name}"][str(seed)] = _image_fingerprint(model, data, seed)
            print(f"image:{name:18s} seed={seed}", flush=True)
        if output is not None:
            output.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return out


def compare(old: dict, new: dict, tol: float = 1e-9) -> list[str]:
    """Human-readable differences between two recordings (empty when they agree), over the
    methods and seeds of ``new`` (a partial rerun compares only what it ran)."""
    diffs = []
    for name in sorted(new):
        if name not in old:
            diffs.append(f"{name}: not in the earlier recording")
            continue
        for seed in sorted(new[name]):
            a, b = old[name].get(seed, {}), new[name].get(seed, {})
            for metric in sorted(set(a) | set(b)):
                x, y = a.get(metric), b.get(metric)
                same = (x is not None and y is not None
                        and ((math.isnan(x) and math.isnan(y)) or abs(x - y) <= tol))
                if not same:
                    diffs.append(f"{name} seed={seed} {metric}: {x} -> {y}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("-n", "--n-samples", type=int, default=600)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--methods", nargs="+", help="registry names (default: all)")
    parser.add_argument("--compare", type=Path, help="an earlier recording to compare with")
    parser.add_argument("--images", type=int, metavar="N",
                        help="record the image models instead, on N Colored MNIST images")
    args = parser.parse_args(argv)
    if args.images:
        new = record_images(args.images, args.seeds, args.output)
    else:
        new = record(args.n_samples, args.seeds, args.methods, args.output)
    print(f"wrote {args.output}")
    if args.compare is not None:
        diffs = compare(json.loads(args.compare.read_text()), new)
        print("\n".join(diffs) if diffs else "identical (timings excluded)")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
