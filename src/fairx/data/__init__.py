"""Datasets, the invertible encoder and splits (no torch here)."""

from ._dataset import DatasetError, TabularDataset
from ._encoder import ColumnBlock, TabularEncoder
from ._registry import DatasetInfo, available_datasets, dataset_info, load_dataset, register_dataset
from ._split import train_test_split
from ._synthetic import make_synthetic, planted_positive_rates

__all__ = [
    "ColumnBlock", "DatasetError", "DatasetInfo", "TabularDataset", "TabularEncoder",
    "available_datasets", "dataset_info", "load_dataset", "make_synthetic",
    "planted_positive_rates", "register_dataset", "train_test_split",
]
