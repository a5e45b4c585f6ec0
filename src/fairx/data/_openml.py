"""Any OpenML table by id, cached under ``<data_home>/openml/<id>/`` like the built-ins.

``load_openml(45040, target="Diagnosis", sensitive="Sex")`` reads the dataset description from
``{OPENML_API}/data/{id}`` (JSON), then the ARFF file it points to, checked against the md5 the
description publishes. Both files are cached, so a second call needs no network; offline with
an empty cache the error says which files to put where.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any, Literal

from ._arff import read_arff
from ._dataset import DatasetError, TabularDataset, _as_list
from ._download import RemoteFile, data_home, fetch_file

logger = logging.getLogger(__name__)

OPENML_API = "https://www.openml.org/api/v1/json"


def _description(data_id: int, home, download: bool) -> dict[str, Any]:
    remote = RemoteFile(f"openml/{data_id}/description.json", f"{OPENML_API}/data/{data_id}")
    for attempt in (0, 1):
        path = fetch_file(remote, home=home, download=download)
        try:
            with open(path, encoding="utf-8") as fh:
                payload = json.load(fh)
            if "data_set_description" not in payload:
                raise DatasetError(
                    f"OpenML has no dataset with id {data_id}: {payload.get('error', payload)}")
            return payload["data_set_description"]
        except json.JSONDecodeError:
            if attempt or not download:
                raise DatasetError(f"the OpenML description {path} is not valid JSON; delete it "
                                   "and try again") from None
            logger.warning("cached OpenML description %s is not valid JSON; fetching it again", path)
            path.unlink()
    raise AssertionError("unreachable")  # pragma: no cover


def load_openml(
    data_id: int,
    *,
    target: str | None = None,
    sensitive: str | Sequence[str],
    positive_label: Any = None,
    categorical: Sequence[str] | None = None,
    missing: Literal["drop", "impute"] = "drop",
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Load OpenML dataset ``data_id`` as a :class:`TabularDataset`.

    ``target`` defaults to the dataset's ``default_target_attribute``. Nominal attributes are
    categorical; the row-id and ignored attributes OpenML lists are dropped. FairX's
    "Predict-diagnosis" is ``load_openml(45040, target="Diagnosis", sensitive="Sex")``.
    """
    try:
        data_id = int(data_id)
    except (TypeError, ValueError):
        raise DatasetError(f"OpenML data_id must be an integer, got {data_id!r}") from None
    desc = _description(data_id, data_home, download)
    fmt = str(desc.get("format", "ARFF")).lower()
    if fmt not in ("arff", "sparse_arff") or "url" not in desc:
        raise DatasetError(f"OpenML dataset {data_id} has format {desc.get('format')!r}; "
                           "only ARFF datasets are supported")
    file_id = desc.get("file_id", "data")
    remote = RemoteFile(f"openml/{data_id}/{file_id}.arff", desc["url"],
                        md5=desc.get("md5_checksum") or None)
    frame, kinds = read_arff(fetch_file(remote, home=data_home, download=download))
    drop = _as_list(desc.get("row_id_attribute")) + _as_list(desc.get("ignore_attribute"))
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    if target is None:
        default = str(desc.get("default_target_attribute") or "")
        if not default or "," in default:
            raise DatasetError(f"OpenML dataset {data_id} has no single default target "
                               f"({default!r}); pass target= (columns: {list(frame.columns)})")
        target = default
    nominal = [c for c, k in kinds.items() if k != "numeric" and c in frame.columns]
    cats = list(dict.fromkeys([*nominal, *_as_list(categorical)]))
    meta = {"source": desc["url"], "openml_id": data_id, "openml_name": desc.get("name"),
            "openml_version": desc.get("version"), "cache": str(_cache_dir(data_id, data_home))}
    return TabularDataset.from_frame(
        frame, target=target, sensitive=sensitive, positive_label=positive_label,
        categorical=cats, missing=missing, name=str(desc.get("name") or f"openml-{data_id}"),
        meta=meta)


def _cache_dir(data_id: int, home) -> os.PathLike[str]:
    return data_home(home) / "openml" / str(data_id)
