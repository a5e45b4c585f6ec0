"""The dataset registry: one entry per built-in dataset, loaded lazily by name."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from ._dataset import DatasetError, TabularDataset, _as_list
from ._synthetic import make_synthetic


@dataclass(frozen=True)
class DatasetInfo:
    """What a built-in dataset offers. ``loader`` is ``"module:function"``, imported on use;
    it is called as ``loader(sensitive=[...], target=..., **options)``."""

    name: str
    loader: str
    target: str
    sensitive: tuple[str, ...]
    default_sensitive: tuple[str, ...]
    description: str
    kind: Literal["tabular", "image"] = "tabular"
    files: tuple[str, ...] = ()


_REGISTRY: dict[str, DatasetInfo] = {}


def register_dataset(info: DatasetInfo) -> None:
    _REGISTRY[info.name] = info


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; unknown names get close-match suggestions."""
    key = name.lower().replace("-", "_")
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise DatasetError(
            f"unknown dataset {name!r}.{hint} Available: {', '.join(sorted(_REGISTRY))}; "
            "for your own table use load_csv / load_parquet."
        )
    return _REGISTRY[key]


def load_dataset(
    name: str,
    *,
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    **options: Any,
) -> TabularDataset:
    """Load a built-in dataset by name, e.g. ``load_dataset("adult", sensitive="sex")``.

    ``sensitive`` may name one or several of the dataset's sensitive attributes (default: the
    dataset's usual one); ``options`` go to the dataset's loader (see ``fairx datasets show``).
    """
    info = dataset_info(name)
    chosen = _as_list(sensitive) or list(info.default_sensitive)
    unknown = [s for s in chosen if s not in info.sensitive]
    if unknown:
        raise DatasetError(
            f"dataset {info.name!r} has no sensitive attribute {unknown}; "
            f"available: {list(info.sensitive)}"
        )
    module, func = info.loader.split(":")
    loader = getattr(importlib.import_module(module), func)
    return loader(sensitive=chosen, target=target, **options)


def available_datasets() -> pd.DataFrame:
    """One row per built-in dataset: name, kind, target, sensitive attributes, description."""
    rows = [
        {"name": i.name, "kind": i.kind, "target": i.target,
         "sensitive": ", ".join(i.sensitive), "default_sensitive": ", ".join(i.default_sensitive),
         "description": i.description}
        for i in sorted(_REGISTRY.values(), key=lambda i: i.name)
    ]
    return pd.DataFrame(rows)


def _load_synthetic(sensitive: list[str], target: str | None, *, n_samples: int = 4000,
                    bias: float = 0.8, seed: int = 0, privileged_share: float = 0.5
                    ) -> TabularDataset:
    if target not in (None, "hired"):
        raise DatasetError(f"dataset 'synthetic' has target 'hired', not {target!r}")
    return make_synthetic(n_samples, bias=bias, seed=seed, privileged_share=privileged_share)


register_dataset(DatasetInfo(
    name="synthetic", loader="fairx.data._registry:_load_synthetic", target="hired",
    sensitive=("group",), default_sensitive=("group",),
    description="Seeded table with a planted, tunable bias (options: n_samples, bias, seed); no files.",
))


# ---- image datasets (methods.md §9; loaders in fairx.data.images) ----
from .images.celeba import CELEBA_ATTRIBUTES as _CELEBA_ATTRIBUTES  # noqa: E402 - numpy/pandas only

register_dataset(DatasetInfo(
    name="colored_mnist", loader="fairx.data.images.colored:load_colored_mnist", target="digit",
    sensitive=("colour",), default_sensitive=("colour",), kind="image",
    description="MNIST digits painted with a class-tied colour (options: bias, sd, split, size, "
                "digits, binary, n, seed); s = colour index.",
    files=("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz",
           "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"),
))
register_dataset(DatasetInfo(
    name="celeba", loader="fairx.data.images.celeba:load_celeba", target="Smiling",
    sensitive=_CELEBA_ATTRIBUTES, default_sensitive=("Male",), kind="image",
    description="CelebA faces from a local folder, 64x64, read lazily (options: root, split, size, "
                "n, seed); any attribute as target / sensitive.",
    files=("celeba/list_attr_celeba.txt", "celeba/img_align_celeba/"),
))
register_dataset(DatasetInfo(
    name="digits_colored", loader="fairx.data.images.colored:load_digits_colored", target="digit",
    sensitive=("colour",), default_sensitive=("colour",), kind="image",
    description="scikit-learn's 1797 8x8 digits with a planted colour bias (options: bias, sd, "
                "split, size, digits, binary, n, seed); no files.",
))


# ---------------------------------------------------------------------- built-in real datasets
# One module per dataset (src/fairx/data/_<name>.py) with its upstream URL and pinned SHA-256.
for _info in (
    DatasetInfo(
        name="adult", loader="fairx.data._adult:load_adult", target="income",
        sensitive=("sex", "race"), default_sensitive=("sex",),
        description="UCI Adult census income >50K; 45,222 rows after dropping '?' "
                    "(options: split=all|train|test, race=all|binary, keep_fnlwgt).",
        files=("adult/adult.data", "adult/adult.test"),
    ),
    DatasetInfo(
        name="compas", loader="fairx.data._compas:load_compas", target="two_year_recid",
        sensitive=("race", "sex", "age_cat"), default_sensitive=("race",),
        description="ProPublica COMPAS, ProPublica filter (6,172 rows); positive = no "
                    "recidivism (0) (options: race=all|binary, include_score, positive_label).",
        files=("compas/compas-scores-two-years.csv",),
    ),
    DatasetInfo(
        name="german", loader="fairx.data._german:load_german", target="credit",
        sensitive=("sex", "age_group", "foreign_worker"), default_sensitive=("sex",),
        description="UCI Statlog German credit, 1,000 rows; sex from personal_status, "
                    "age_group >=25 (options: age_threshold, keep_personal_status).",
        files=("german_credit/german.data",),
    ),
    DatasetInfo(
        name="student", loader="fairx.data._student:load_student", target="G3",
        sensitive=("sex", "age_group", "address"), default_sensitive=("sex",),
        description="UCI student performance, G3>=10 'pass'; 649 rows (por) or 395 (mat) "
                    "(options: subject=por|mat, target=G3|Pstatus, keep_grades).",
        files=("student_performance/student-por.csv", "student_performance/student-mat.csv"),
    ),
    DatasetInfo(
        name="law", loader="fairx.data._law:load_law", target="first_pf",
        sensitive=("race", "sex"), default_sensitive=("race",),
        description="LSAC law school bar passage (Kusner et al.), 21,791 rows "
                    "(options: race=all|binary).",
        files=("law_school/law_data.csv",),
    ),
    DatasetInfo(
        name="bank", loader="fairx.data._bank:load_bank", target="y",
        sensitive=("age_group", "marital"), default_sensitive=("age_group",),
        description="UCI bank marketing (bank-full), 45,211 rows; age_group 25-60 vs other "
                    "(options: keep_duration).",
        files=("bank_marketing/bank-full.csv",),
    ),
    DatasetInfo(
        name="credit", loader="fairx.data._credit:load_credit",
        target="default payment next month",
        sensitive=("SEX", "AGE_GROUP", "EDUCATION", "MARRIAGE"), default_sensitive=("SEX",),
        description="UCI default of credit card clients (Taiwan), 30,000 rows; positive = no "
                    "default (0) (options: positive_label).",
        files=("credit_card_default/default of credit card clients.csv",),
    ),
    DatasetInfo(
        name="dutch", loader="fairx.data._dutch:load_dutch", target="occupation",
        sensitive=("sex",), default_sensitive=("sex",),
        description="Dutch census 2001, 60,420 rows; positive occupation '2_1' "
                    "(professionals/managers).",
        files=("dutch_census/dutch_census_2001.arff",),
    ),
):
    register_dataset(_info)
del _info
