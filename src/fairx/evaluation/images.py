"""The image evaluation protocol (behind ``fairx images run`` and ``benchmarks/colored_mnist.py``).

A real, biased training set against a colour-debiased real test set (``bias=0``, same ``sd``): a
CNN trained on the real training images, and one trained on as many generated images (TSTR),
both judged on the test set; plus how much the label and the group depend on each other in each
training set (and, for the coloured digits, in the colour read from the pixels).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import load_dataset
from ..data.images import ImageDataset
from ..metrics._images import image_utility, label_group_dependence, painted_colour
from ..models import FairGenerator, get, method_class


@dataclass
class ImageExperiment:
    """The outcome of :func:`evaluate_image_method`.

    Attributes
    ----------
    result : JSON-able summary: settings, ``rows`` (one per training set: real, generated),
        ``n_parameters`` and ``gain`` (TSTR accuracy minus real-data accuracy).
    train, generated : the real training images and as many generated ones.
    method : the fitted generator.
    """

    result: dict[str, Any]
    train: ImageDataset
    generated: ImageDataset
    method: FairGenerator


def evaluate_image_method(*, dataset: str, model: str, bias: float | None, sd: float | None,
                          preset: str | None, n: int | None, n_test: int | None, seed: int,
                          clf_epochs: int, root: str | None = None,
                          params: dict[str, Any] | None = None,
                          save: Any = None) -> ImageExperiment:
    """Fit the image generator ``model`` on a biased training set and compare TSTR with a CNN
    trained on the real training set, on a colour-debiased test set.

    Parameters
    ----------
    dataset : ``"colored_mnist"``, ``"digits_colored"`` or ``"celeba"``.
    model, preset, params : the registry name, preset and parameter overrides of the generator
        (a fair VAE parameter such as ``epochs`` or ``beta`` goes to the ``teacher`` of the
        models that have one).
    bias, sd : colour bias and jitter of the training set (the test set has ``bias=0``).
    n, n_test : training / test images (seeded subsets; ``None``: all, CelebA 5000 / 2000).
    seed : seeds the split subsets, the generator, its samples and the CNNs.
    clf_epochs : epochs of the downstream CNN.
    root : CelebA folder.
    save : folder to save the fitted generator in (``config.json`` + ``weights.safetensors``).

    Returns
    -------
    ImageExperiment
    """
    method = get(model, preset, kind="image", random_state=seed,
                 **_to_teacher(method_class(model, "image"), params or {}))
    opts: dict[str, Any] = {"seed": seed}
    if dataset == "celeba":
        opts.update({"root": root} if root else {})
        train = load_dataset("celeba", split="train", n=n or 5000, **opts)
        test = load_dataset("celeba", split="test", n=n_test or 2000, **opts)
    else:
        train = load_dataset(dataset, bias=bias, sd=sd, split="train", n=n, **opts)
        test = load_dataset(dataset, bias=0.0, sd=sd, split="test", n=n_test, **opts)
    train = train.materialize()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    real = image_utility(train, test, epochs=clf_epochs, seed=seed, min_group_size=10)
    rows.append({"train_on": "real (biased)", **real,
                 **label_group_dependence(train), "seconds": time.perf_counter() - t0})
    t0 = time.perf_counter()
    method.fit(train)
    fit_s = time.perf_counter() - t0
    if save is not None:
        method.save(save)
    generated = method.sample(len(train), seed=seed)
    synth = image_utility(generated, test, epochs=clf_epochs, seed=seed, min_group_size=10)
    rows.append({"train_on": f"generated ({method.display_name})", **synth,
                 **label_group_dependence(generated), "seconds": fit_s})
    if dataset != "celeba":  # colour read from the pixels: what the images actually show
        for row, ds in zip(rows, (train, generated), strict=True):
            dep = label_group_dependence(ds, s=painted_colour(ds.to_numpy()))
            row["pixel_colour_nmi"] = dep["normalized_mi"]
            row["pixel_colour_is_class"] = dep.get("group_is_class_rate", float("nan"))
    result = {"dataset": dataset, "model": model, "preset": preset, "bias": bias, "sd": sd,
              "seed": seed, "n_train": len(train), "n_test": len(test), "rows": rows,
              "n_parameters": int(getattr(method, "n_parameters_", 0))}
    if save is not None:
        result["saved"] = str(save)
    result["gain"] = float(np.subtract(synth["accuracy"], real["accuracy"]))
    return ImageExperiment(result=result, train=train, generated=generated, method=method)


def _to_teacher(cls: type, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the teacher's parameters that ``cls`` lacks as ``teacher__<name>``."""
    teacher = getattr(cls, "nested_params", {}).get("teacher")
    if teacher is None:
        return dict(params)
    own, inner = set(cls().get_params(deep=False)), set(teacher().get_params(deep=False))
    return {(f"teacher__{k}" if k not in own and k in inner else k): v for k, v in params.items()}
