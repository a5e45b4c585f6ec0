"""Save / load of the image generators (config.json + weights.safetensors, never pickle)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fairx.data import load_dataset  # noqa: E402
from fairx.models.fair_latent.images import (  # noqa: E402
    ImageFair4Free,
    ImageFairDistill,
    ImageFairVAE,
    ImageFLDGM,
)
from fairx.models.persist import load_method  # noqa: E402
from fairx.models.registry import get_for  # noqa: E402

MODELS = {
    "fairdisco": ({}, ImageFairVAE),
    "fldgm": ({"latent_params": {"epochs": 4, "eval_every": 4}}, ImageFLDGM),
    "fldgm-wgan-gp": ({"latent_params": {"epochs": 4, "eval_every": 4}}, ImageFLDGM),
    "fair4free": ({"distill_steps": 60, "chain_samples": 512}, ImageFair4Free),
    "fairdistill": ({"distill_epochs": 1}, ImageFairDistill),
}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits_colored", split="train", bias=0.95, seed=0)


@pytest.fixture(scope="module")
def saved(digits, tmp_path_factory):
    """Every image model fitted (fast preset, 2 epochs) and saved once."""
    root = tmp_path_factory.mktemp("image-models")
    out = {}
    for name, (params, _) in MODELS.items():
        model = get_for(digits, name, "fast", epochs=2, device="cpu", **params).fit(digits)
        model.save(root / name)
        out[name] = (model, root / name)
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_save_load_gives_identical_samples(saved, name):
    model, folder = saved[name]
    cls = MODELS[name][1]
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "image" and config["method"] == cls.name
    for loaded in (load_method(folder), cls.load(folder)):
        assert type(loaded) is cls
        assert loaded.get_params() == model.get_params()
        for seed in (0, 11):
            a, b = model.sample(64, seed=seed), loaded.sample(64, seed=seed)
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
            np.testing.assert_array_equal(a.y, b.y)
            np.testing.assert_array_equal(a.s, b.s)
            assert (a.classes, a.groups, a.target, a.sensitive) == \
                (b.classes, b.groups, b.target, b.sensitive)
        # the same z decoded with every group: the decoder and its s-injection round-trip too
        z = np.random.default_rng(0).standard_normal((4, model.z_dim_)).astype(np.float32)
        np.testing.assert_array_equal(model.counterfactuals(z), loaded.counterfactuals(z))


def test_latent_parts_are_arrays_not_objects(saved):
    from safetensors.numpy import load_file

    model, folder = saved["fairdistill"]
    arrays = load_file(str(folder / "weights.safetensors"))
    k = model.gmm_components_
    assert arrays["gmm.means"].shape == (k, model.z_dim_)
    assert arrays["gmm.covariances"].shape == (k, model.z_dim_, model.z_dim_)
    np.testing.assert_allclose(arrays["gmm.weights"].sum(), 1.0, rtol=1e-6)
    model, folder = saved["fldgm"]
    arrays = load_file(str(folder / "weights.safetensors"))
    assert any(key.startswith("latent.") for key in arrays)
    assert json.loads((folder / "config.json").read_text())["state"]["latent"]["kind"] == "ddpm"
    assert not any(p.suffix in (".pkl", ".pt", ".pickle") for p in folder.iterdir())


def _tamper(folder, tmp_path, **changes):
    import shutil

    target = tmp_path / "tampered"
    shutil.copytree(folder, target)
    config = json.loads((target / "config.json").read_text())
    config.update(changes)
    (target / "config.json").write_text(json.dumps(config))
    return target


def test_tampered_config_gives_clear_errors(saved, tmp_path):
    _, folder = saved["fairdisco"]
    with pytest.raises(ValueError, match=r"config.json.*kind 'video'.*allowed: 'tabular', 'image'"):
        load_method(_tamper(folder, tmp_path / "a", kind="video"))
    with pytest.raises(ValueError, match=r"config.json.*unknown method 'no-such-model'"):
        load_method(_tamper(folder, tmp_path / "b", method="no-such-model"))
    with pytest.raises(ValueError, match="'reweighing' has no image variant"):
        load_method(_tamper(folder, tmp_path / "c", method="reweighing"))


def test_class_string_in_the_file_is_never_imported(saved, tmp_path):
    # the class is resolved from (method, kind) through the registry, not from "class"
    _, folder = saved["fairdisco"]
    loaded = load_method(_tamper(folder, tmp_path, **{"class": "subprocess:Popen"}))
    assert type(loaded) is ImageFairVAE


def test_expected_class_is_checked(saved):
    from fairx.models import FairVAE

    _, folder = saved["fairdisco"]
    with pytest.raises(TypeError, match="holds a ImageFairVAE, not a FairVAE"):
        FairVAE.load(folder)
    with pytest.raises(TypeError, match="not a ImageFair4Free"):
        ImageFair4Free.load(folder)


def test_tabular_files_without_kind_still_load(tmp_path):
    from fairx.data import make_synthetic
    from fairx.models import get

    ds = make_synthetic(400, bias=0.5, seed=0)
    model = get("reweighing").fit(ds)
    model.save(tmp_path / "rw")
    config = json.loads((tmp_path / "rw" / "config.json").read_text())
    assert config.pop("kind") == "tabular"
    (tmp_path / "rw" / "config.json").write_text(json.dumps(config))  # a pre-"kind" file
    loaded = load_method(tmp_path / "rw")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.transform(ds).weights, model.transform(ds).weights)
