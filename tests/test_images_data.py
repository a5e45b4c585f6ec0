"""Image datasets: IDX reader + md5 check, colour bias, splits, CelebA lazy loader, registry."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from fairx.data import DatasetError, available_datasets, load_dataset
from fairx.data.images import (
    MNIST_FILES,
    PALETTE,
    ImageDataset,
    load_celeba,
    load_mnist,
    read_idx,
    resize_images,
)

needs_data = pytest.mark.needs_data


def _write_idx(path, array: np.ndarray, compress: bool = True) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)
    return raw


def test_idx_roundtrip_and_uncompressed_md5(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = _write_idx(tmp_path / "x-idx3-ubyte.gz", arr)
    md5 = hashlib.md5(raw).hexdigest()
    np.testing.assert_array_equal(read_idx(tmp_path / "x-idx3-ubyte.gz", md5=md5), arr)
    # the same content uncompressed has the same (content) md5
    _write_idx(tmp_path / "x-idx3-ubyte", arr, compress=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "x-idx3-ubyte", md5=md5), arr)
    with pytest.raises(DatasetError, match="md5"):
        read_idx(tmp_path / "x-idx3-ubyte.gz", md5="0" * 32)


def test_idx_bad_header(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(DatasetError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"abc")
    with pytest.raises(DatasetError, match="header says"):
        read_idx(tmp_path / "short")


@needs_data("colored_mnist")
def test_real_mnist_test_split_verified(data_home):
    # the md5s are of the uncompressed content (one offline .gz was recompressed)
    images, labels = load_mnist("test")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]  # canonical MNIST test counts
    assert set(MNIST_FILES) >= {"t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"}


@needs_data("colored_mnist")
@pytest.mark.parametrize("bias", [0.0, 0.5, 0.9])
def test_colour_bias_rate(bias):
    ds = load_dataset("colored_mnist", split="test", bias=bias, n=4000, seed=1)
    expected = bias + (1 - bias) / 10  # class colour, or a uniform draw that may hit it
    assert abs((ds.s == ds.y).mean() - expected) < 0.025
    assert ds.meta["p_class_colour"] == pytest.approx(expected)
    assert ds.is_lazy and ds.shape == (3, 28, 28)


@needs_data("colored_mnist")
def test_colouring_paints_digit_with_group_colour():
    ds = load_dataset("colored_mnist", split="test", bias=0.7, n=50, seed=0)
    imgs = ds.get_images(np.arange(50))
    assert imgs.dtype == np.float32 and imgs.min() >= 0 and imgs.max() <= 1
    # RGB at the brightest pixel is proportional to the palette colour of s
    for k in range(5):
        flat = imgs[k].reshape(3, -1)
        rgb = flat[:, flat.sum(0).argmax()]
        np.testing.assert_allclose(rgb / rgb.max(), PALETTE[ds.s[k]] / PALETTE[ds.s[k]].max(),
                                   atol=0.02)


@needs_data("colored_mnist")
def test_jitter_sd_and_size64():
    ds = load_dataset("colored_mnist", split="test", sd=0.05, n=2000, seed=0, size=64)
    assert ds.meta["bias"] == 1.0 and (ds.s == ds.y).all()  # sd variant: bias defaults to 1
    col = ds.images.colours  # the per-image painted colours
    resid = col - PALETTE[ds.s]
    inner = (PALETTE[ds.s] > 0.06) & (PALETTE[ds.s] < 0.94)  # channels not clipped
    assert abs(resid[inner].std() - 0.05) < 0.005
    assert ds.get_images([0, 1]).shape == (2, 3, 64, 64)


def test_digits_subset_binary_and_splits():
    tr = load_dataset("digits_colored", split="train", bias=0.9, digits=[3, 8])
    assert tr.classes == ("3", "8") and tr.n_groups == 2 and set(np.unique(tr.y)) == {0, 1}
    b = load_dataset("digits_colored", split="all", binary=True)
    assert b.n_classes == 2 and b.classes[1] == "digit in [5, 6, 7, 8, 9]"
    a, t = (load_dataset("digits_colored", split=s) for s in ("train", "test"))
    assert len(a) + len(t) == 1797 and not a.is_lazy and a.shape == (3, 8, 8)
    with pytest.raises(DatasetError, match="digits"):
        load_dataset("digits_colored", digits=[3])
    with pytest.raises(DatasetError, match="bias"):
        load_dataset("digits_colored", bias=1.5)


def test_image_dataset_split_subset_and_validation():
    ds = load_dataset("digits_colored", bias=0.5, seed=3)
    tr, te = ds.train_test_split(test_size=0.25, seed=0)
    tr2, _ = ds.train_test_split(test_size=0.25, seed=0)
    assert len(tr) + len(te) == len(ds) and np.array_equal(tr.y, tr2.y)
    assert abs(np.bincount(te.y, minlength=10) / len(te) - np.bincount(ds.y) / len(ds)).max() < 0.02
    img, y, s = ds[5]
    assert img.shape == (3, 8, 8) and (y, s) == (ds.y[5], ds.s[5])
    summary = ds.group_summary()
    assert summary.to_numpy().sum() == len(ds) and summary.shape == (10, 10)
    with pytest.raises(DatasetError, match=r"\[0, 1\]"):
        ImageDataset(np.full((2, 1, 2, 2), 2.0), [0, 1], [0, 0], ("a", "b"), ("g",))
    with pytest.raises(DatasetError, match="y values"):
        ImageDataset(np.zeros((2, 1, 2, 2)), [0, 2], [0, 0], ("a", "b"), ("g",))


def test_resize_constant_and_area_average():
    const = np.full((1, 28, 28), 0.4, dtype=np.float32)
    np.testing.assert_allclose(resize_images(const, 64), 0.4, atol=1e-6)
    checker = np.zeros((4, 4), np.float32)
    checker[::2, ::2] = checker[1::2, 1::2] = 1.0
    np.testing.assert_allclose(resize_images(checker, 2), 0.5)  # 2×2 box average


def _fake_celeba(root, n=6):
    from PIL import Image

    (root / "img_align_celeba").mkdir(parents=True)
    names = ["Male", "Smiling", "Young"]
    rng = np.random.default_rng(0)
    lines = [str(n), " ".join(names)]
    for i in range(n):
        fname = f"{i + 1:06d}.jpg"
        arr = (rng.random((218, 178, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(root / "img_align_celeba" / fname)
        vals = [1 if i % 2 else -1, 1 if i < 3 else -1, 1]
        lines.append(fname + " " + " ".join(f"{v:2d}" for v in vals))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text(
        "\n".join(f"{i + 1:06d}.jpg {0 if i < 4 else 2}" for i in range(n)) + "\n")


def test_celeba_lazy_loader(tmp_path):
    _fake_celeba(tmp_path)
    ds = load_celeba(root=tmp_path, target="Smiling", sensitive=["Male"], split="train")
    assert ds.is_lazy and len(ds) == 4 and ds.shape == (3, 64, 64)
    assert ds.y.tolist() == [1, 1, 1, 0] and ds.s.tolist() == [0, 1, 0, 1]  # ±1 -> 0/1
    assert ds.images.paths[0].endswith("000001.jpg")  # nothing read yet: only paths held
    imgs = ds.get_images([0, 3])
    assert imgs.shape == (2, 3, 64, 64) and 0 <= imgs.min() and imgs.max() <= 1
    test = load_dataset("celeba", root=tmp_path, split="test", sensitive="Male")
    assert len(test) == 2 and test.sensitive == "Male" and test.target == "Smiling"
    with pytest.raises(DatasetError, match="unknown"):
        load_celeba(root=tmp_path, target="Bald")


def test_celeba_missing_folder_says_what_to_download(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_celeba(root=tmp_path / "nowhere")
    msg = str(err.value)
    assert "list_attr_celeba.txt" in msg and "img_align_celeba" in msg
    assert "mmlab.ie.cuhk.edu.hk" in msg and str(tmp_path / "nowhere") in msg


def test_registry_lists_image_datasets():
    table = available_datasets().set_index("name")
    for name in ("colored_mnist", "celeba", "digits_colored"):
        assert table.loc[name, "kind"] == "image"
    with pytest.raises(DatasetError, match="sensitive"):
        load_dataset("digits_colored", sensitive="sex")
