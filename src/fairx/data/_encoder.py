"""`TabularEncoder`: an invertible frame <-> float-matrix transform that remembers column blocks.

One-hot for categoricals; numericals standardised, min-max scaled or quantile-transformed. The
state is plain numbers and strings, so it saves as JSON (no pickle) next to model weights.
The quantile transform is a few lines of ``np.interp`` over stored quantiles rather than
scikit-learn's ``QuantileTransformer`` so that its state is JSON-serialisable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._dataset import DatasetError, TabularDataset

NumericalScaling = Literal["standard", "minmax", "quantile"]


@dataclass
class ColumnBlock:
    """Where one original column lives in the encoded matrix."""

    name: str
    kind: Literal["categorical", "numerical"]
    start: int
    stop: int
    categories: list[Any] | None = None

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    @property
    def width(self) -> int:
        return self.stop - self.start


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class TabularEncoder:
    """Encode a table as floats and decode back to the original schema.

    Parameters
    ----------
    numerical : ``"standard"`` (zero mean, unit variance), ``"minmax"`` (to [0, 1]) or
        ``"quantile"`` (empirical CDF to uniform [0, 1], as TabFairGAN uses).
    columns : which columns to encode (default: all); their order is kept.
    handle_unknown : ``"error"`` raises on a category not seen in ``fit``; ``"ignore"`` encodes
        it as an all-zero block.
    n_quantiles : most quantile knots stored for ``numerical="quantile"``.
    quantile_rows : fewest training rows behind one knot. Each knot is the mean of a run of at
        least this many consecutive sorted values (plus the column's min and max, the clipping
        range every scaling stores), so the saved state never holds one row's value unless at
        least ``quantile_rows`` rows share it (a spike such as capital-gain = 0). On small tables
        this caps the knots at ``n // quantile_rows``.
    """

    def __init__(
        self,
        numerical: NumericalScaling = "standard",
        columns: Sequence[str] | None = None,
        handle_unknown: Literal["error", "ignore"] = "error",
        n_quantiles: int = 1000,
        quantile_rows: int = 10,
    ) -> None:
        if numerical not in ("standard", "minmax", "quantile"):
            raise ValueError(f"numerical={numerical!r}; allowed: 'standard', 'minmax', 'quantile'")
        if handle_unknown not in ("error", "ignore"):
            raise ValueError(f"handle_unknown={handle_unknown!r}; allowed: 'error', 'ignore'")
        self.numerical = numerical
        self.columns = None if columns is None else list(columns)
        self.handle_unknown = handle_unknown
        self.n_quantiles = n_quantiles
        self.quantile_rows = quantile_rows

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: TabularDataset | pd.DataFrame,
        *,
        categorical: Sequence[str] | None = None,
        integer: Sequence[str] | None = None,
    ) -> TabularEncoder:
        """Learn categories and scaling. A dataset brings its schema; for a bare frame the
        categorical columns are ``categorical`` or, if not given, the non-numeric ones."""
        if isinstance(data, TabularDataset):
            frame = data.frame
            cat = set(data.categorical)
            ints = set(data.integer)
        else:
            frame = data
            cat = set(categorical) if categorical is not None else {
                c for c in frame.columns
                if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
            }
            ints = set(integer) if integer is not None else {
                c for c in frame.columns if c not in cat and pd.api.types.is_integer_dtype(frame[c])
            }
        columns = self.columns if self.columns is not None else list(frame.columns)
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise DatasetError(f"columns {absent} not in the data; columns are {list(frame.columns)}")
        blocks: list[ColumnBlock] = []
        stats_: dict[str, dict[str, Any]] = {}
        pos = 0
        for c in columns:
            col = frame[c]
            if col.isna().any():
                raise DatasetError(f"column {c!r} has {int(col.isna().sum())} missing values; "
                                   "clean the data first (TabularDataset.from_frame does)")
            if c in cat:
                cats = sorted(pd.unique(col).tolist(), key=lambda v: (str(type(v)), v))
                blocks.append(ColumnBlock(c, "categorical", pos, pos + len(cats), [_py(v) for v in cats]))
                pos += len(cats)
                stats_[c] = {"dtype": str(col.dtype)}
            else:
                values = col.to_numpy(dtype=float)
                info: dict[str, Any] = {
                    "dtype": str(col.dtype), "min": float(values.min()), "max": float(values.max()),
                    "mean": float(values.mean()), "std": float(values.std()) or 1.0,
                    "integer": c in ints,
                }
                if self.numerical == "quantile":
                    info["quantiles"] = pooled_quantiles(values, self.n_quantiles, self.quantile_rows)
                blocks.append(ColumnBlock(c, "numerical", pos, pos + 1))
                pos += 1
                stats_[c] = info
        self.blocks_ = blocks
        self.stats_ = stats_
        self.dim_ = pos
        self.columns_ = columns
        return self

    # ------------------------------------------------------------------ properties
    def _check_fitted(self) -> None:
        if not hasattr(self, "blocks_"):
            raise RuntimeError("TabularEncoder is not fitted; call fit(data) first")

    @property
    def categorical_blocks(self) -> list[ColumnBlock]:
        self._check_fitted()
        return [b for b in self.blocks_ if b.kind == "categorical"]

    @property
    def numerical_blocks(self) -> list[ColumnBlock]:
        self._check_fitted()
        return [b for b in self.blocks_ if b.kind == "numerical"]

    def block(self, name: str) -> ColumnBlock:
        self._check_fitted()
        for b in self.blocks_:
            if b.name == name:
                return b
        raise KeyError(f"column {name!r} is not encoded; encoded columns are {self.columns_}")

    @property
    def feature_names(self) -> list[str]:
        """One name per encoded column (``col=value`` for one-hot columns)."""
        self._check_fitted()
        names: list[str] = []
        for b in self.blocks_:
            names += [f"{b.name}={v}" for v in b.categories] if b.categories is not None else [b.name]
        return names

    # ------------------------------------------------------------------ transforms
    def encode(self, data: TabularDataset | pd.DataFrame) -> np.ndarray:
        """Frame -> float32 matrix of shape (rows, dim_)."""
        self._check_fitted()
        frame = data.frame if isinstance(data, TabularDataset) else data
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise DatasetError(f"columns {absent} missing from the data to encode; expected {self.columns_}")
        out = np.zeros((len(frame), self.dim_), dtype=np.float32)
        for b in self.blocks_:
            col = frame[b.name]
            if col.isna().any():
                raise DatasetError(f"column {b.name!r} has {int(col.isna().sum())} missing values")
            if b.kind == "categorical":
                lookup = {v: i for i, v in enumerate(b.categories)}
                lookup_str = {str(v): i for i, v in enumerate(b.categories)}
                idx = np.array([lookup.get(_py(v), lookup_str.get(str(v), -1)) for v in col.tolist()])
                unknown = idx < 0
                if unknown.any() and self.handle_unknown == "error":
                    bad = sorted({str(v) for v in col[unknown].unique()})[:10]
                    raise DatasetError(
                        f"column {b.name!r} has categories not seen when fitting: {bad}; "
                        f"known categories are {b.categories[:20]}"
                    )
                rows = np.flatnonzero(~unknown)
                out[rows, b.start + idx[rows]] = 1.0
            else:
                try:
                    values = col.to_numpy(dtype=float)
                except (ValueError, TypeError):
                    raise DatasetError(f"column {b.name!r} should be numerical but holds non-numbers") from None
                out[:, b.start] = self._scale(b.name, values)
        return out

    def _scale(self, name: str, x: np.ndarray) -> np.ndarray:
        st = self.stats_[name]
        if self.numerical == "standard":
            return (x - st["mean"]) / st["std"]
        if self.numerical == "minmax":
            span = (st["max"] - st["min"]) or 1.0
            return (x - st["min"]) / span
        q = np.asarray(st["quantiles"])
        levels = np.linspace(0, 1, len(q))
        # tied knots (a spike) map to the middle of their run, so the inverse lands on the spike
        knots, first, counts = np.unique(q, return_index=True, return_counts=True)
        return np.interp(x, knots, levels[first] + (counts - 1) / 2 * (levels[1] - levels[0]))

    def _unscale(self, name: str, z: np.ndarray) -> np.ndarray:
        st = self.stats_[name]
        if self.numerical == "standard":
            return z * st["std"] + st["mean"]
        if self.numerical == "minmax":
            return z * ((st["max"] - st["min"]) or 1.0) + st["min"]
        q = np.asarray(st["quantiles"])
        return np.interp(np.clip(z, 0, 1), np.linspace(0, 1, len(q)), q)

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        """Float matrix -> frame in the original schema.

        Categorical blocks take the argmax (so one-hot rows, probabilities and logits all work);
        numericals are unscaled, clipped to the range seen in ``fit`` and rounded where the column
        is integer; dtypes are restored.
        """
        self._check_fitted()
        matrix = np.asarray(matrix, dtype=float)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim_:
            raise ValueError(f"expected a matrix with {self.dim_} columns, got shape {matrix.shape}")
        data: dict[str, Any] = {}
        for b in self.blocks_:
            st = self.stats_[b.name]
            if b.kind == "categorical":
                idx = matrix[:, b.slice].argmax(axis=1)
                values = pd.Series(np.asarray(b.categories, dtype=object)[idx])
                data[b.name] = _restore_dtype(values, st["dtype"])
            else:
                x = np.clip(self._unscale(b.name, matrix[:, b.start]), st["min"], st["max"])
                if st["integer"]:
                    x = np.round(x)
                data[b.name] = _restore_dtype(pd.Series(x), st["dtype"])
        return pd.DataFrame(data, columns=self.columns_)

    def fit_encode(self, data: TabularDataset | pd.DataFrame, **kwargs: Any) -> np.ndarray:
        return self.fit(data, **kwargs).encode(data)

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state (used by model save/load)."""
        self._check_fitted()
        return {
            "numerical": self.numerical, "columns": self.columns, "handle_unknown": self.handle_unknown,
            "n_quantiles": self.n_quantiles, "quantile_rows": self.quantile_rows,
            "blocks": [asdict(b) for b in self.blocks_],
            "stats": self.stats_, "dim": self.dim_, "fitted_columns": self.columns_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularEncoder:
        enc = cls(numerical=state["numerical"], columns=state["columns"],
                  handle_unknown=state["handle_unknown"], n_quantiles=state["n_quantiles"],
                  quantile_rows=state.get("quantile_rows", 1))
        enc.blocks_ = [ColumnBlock(**b) for b in state["blocks"]]
        enc.stats_ = state["stats"]
        enc.dim_ = state["dim"]
        enc.columns_ = state["fitted_columns"]
        return enc


def pooled_quantiles(values: np.ndarray, n_quantiles: int, min_rows: int) -> list[float]:
    """Quantile knots of ``values``: min, the means of at most ``n_quantiles − 2`` runs of
    ≥ ``min_rows`` consecutive sorted values, max (non-decreasing; ties mark spikes)."""
    v = np.sort(np.asarray(values, dtype=float))
    runs = max(1, min(int(n_quantiles) - 2, len(v) // max(int(min_rows), 1)))
    means = [part[0] if part[0] == part[-1] else part.mean() for part in np.array_split(v, runs)]
    knots = np.maximum.accumulate(np.array([v[0], *means, v[-1]]))  # rounding never breaks order
    return [float(k) for k in knots]


def _restore_dtype(values: pd.Series, dtype: str) -> pd.Series:
    try:
        if dtype.startswith(("int", "uint", "Int", "UInt")):
            return values.astype(float).round().astype(dtype)
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values

