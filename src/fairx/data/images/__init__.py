"""Image datasets: :class:`ImageDataset` and its loaders (Colored MNIST, ``digits_colored``,
CelebA, MNIST IDX files)."""

from .celeba import CELEBA_ATTRIBUTES, load_celeba, read_celeba_attributes
from .colored import COLOUR_NAMES, PALETTE, assign_colours, load_colored_mnist, load_digits_colored
from .dataset import (
    ColoredSource,
    FileSource,
    ImageDataset,
    ImageSource,
    data_home,
    resize_images,
    split_images,
)
from .idx import MNIST_FILES, load_mnist, read_idx

__all__ = [
    "CELEBA_ATTRIBUTES", "COLOUR_NAMES", "ColoredSource", "FileSource", "ImageDataset",
    "ImageSource", "MNIST_FILES", "PALETTE", "assign_colours", "data_home", "load_celeba",
    "load_colored_mnist", "load_digits_colored", "load_mnist", "read_celeba_attributes",
    "read_idx", "resize_images", "split_images",
]
