"""Datasets, the invertible encoder and splits (no torch here)."""

from ._adult import load_adult, load_adult_split
from ._bank import load_bank
from ._builtin import download_dataset
from ._compas import load_compas
from ._credit import load_credit
from ._dataset import DatasetError, TabularDataset
from ._download import RemoteFile, data_home, fetch_file, file_hash
from ._dutch import load_dutch
from ._encoder import ColumnBlock, TabularEncoder
from ._files import load_csv, load_file, load_parquet
from ._german import load_german
from ._law import load_law
from ._openml import load_openml
from ._registry import DatasetInfo, available_datasets, dataset_info, load_dataset, register_dataset
from ._split import train_test_split
from ._student import load_student
from ._synthetic import make_synthetic, planted_positive_rates
from .images import (
    ImageDataset,
    load_celeba,
    load_colored_mnist,
    load_digits_colored,
    load_mnist,
    read_idx,
    split_images,
)

__all__ = [
    "ColumnBlock", "DatasetError", "DatasetInfo", "ImageDataset", "RemoteFile", "TabularDataset", "TabularEncoder",
    "available_datasets", "data_home", "dataset_info", "download_dataset", "fetch_file",
    "file_hash", "load_adult", "load_adult_split", "load_bank", "load_compas", "load_credit",
    "load_csv", "load_dataset", "load_dutch", "load_file", "load_german", "load_law",
    "load_openml", "load_parquet", "load_student", "make_synthetic", "planted_positive_rates",
    "register_dataset", "train_test_split", "load_celeba", "load_colored_mnist",
    "load_digits_colored", "load_mnist", "read_idx", "split_images",
]
