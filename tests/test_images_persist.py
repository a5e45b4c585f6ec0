"""Save / load of the fair-latent models trained on images (config.json + weights.safetensors,
never pickle), and folders saved by the image classes that existed before the codec layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fairx.data import load_dataset  # noqa: E402
from fairx.models.fair_latent.fair4free import Fair4Free  # noqa: E402
from fairx.models.fair_latent.fair_vae import FairVAE  # noqa: E402
from fairx.models.fair_latent.fairdistill import FairDistill  # noqa: E402
from fairx.models.fair_latent.fldgm import FLDGM  # noqa: E402
from fairx.models.persist import load_method  # noqa: E402
from fairx.models.registry import get_for  # noqa: E402

MODELS = {
    "fairdisco": ({"epochs": 2}, FairVAE),
    "fldgm": ({"teacher__epochs": 2, "latent_params": {"epochs": 4, "eval_every": 4}}, FLDGM),
    "fldgm-wgan-gp": ({"teacher__epochs": 2, "latent_params": {"epochs": 4, "eval_every": 4}},
                      FLDGM),
    "fair4free": ({"teacher__epochs": 2, "distill_epochs": 30, "chain_samples": 512}, Fair4Free),
    "fairdistill": ({"teacher__epochs": 2, "distill_epochs": 1}, FairDistill),
}


@pytest.fixture(scope="module")
def digits():
    # 500 of the 1258 training images: these tests check files, not quality (the five fits of
    # `saved` take ~5 s instead of ~10)
    return load_dataset("digits_colored", split="train", bias=0.95, seed=0, n=500)


@pytest.fixture(scope="module")
def saved(digits, tmp_path_factory):
    """Every image model fitted (fast preset, 2 epochs) and saved once."""
    root = tmp_path_factory.mktemp("image-models")
    out = {}
    for name, (params, _) in MODELS.items():
        model = get_for(digits, name, "fast", device="cpu", **params).fit(digits)
        model.save(root / name)
        out[name] = (model, root / name)
    return out


def _params(model) -> dict:
    """Hyper-parameters with a nested teacher as its own parameters (estimators compare by id)."""
    return {k: _params(v) if hasattr(v, "get_params") else v
            for k, v in model.get_params(deep=False).items()}


@pytest.mark.parametrize("name", list(MODELS))
def test_save_load_gives_identical_samples(saved, name):
    model, folder = saved[name]
    cls = MODELS[name][1]
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "image" and config["method"] == cls.name
    for loaded in (load_method(folder), cls.load(folder)):
        assert type(loaded) is cls
        assert _params(loaded) == _params(model)
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
    assert type(loaded) is FairVAE and loaded.data_kind == "image"


def test_expected_class_is_checked(saved):
    _, folder = saved["fairdisco"]
    assert type(FairVAE.load(folder)) is FairVAE
    with pytest.raises(TypeError, match="holds a FairVAE, not a Fair4Free"):
        Fair4Free.load(folder)


def _as_old_image_folder(folder, target, cls_name, params):
    """``folder`` rewritten in the format the image classes (ImageFairVAE, ImageFLDGM,
    ImageFairDistill, ImageFair4Free) wrote before the codec layer: flat teacher parameters, the
    layout under ``"layout"``, the fair VAE's arrays named ``net.*``."""
    import shutil

    from safetensors.numpy import load_file, save_file

    shutil.copytree(folder, target)
    config = json.loads((target / "config.json").read_text())
    state = config["state"]
    arrays = load_file(str(target / "weights.safetensors"))
    vae = {"ImageFairVAE": state, "ImageFLDGM": state.get("vae"),
           "ImageFairDistill": state.get("teacher"), "ImageFair4Free": state}[cls_name]
    layout = {k: v for k, v in vae.pop("codec").items() if k != "kind"}
    layout["z_dim"] = vae.pop("z_dim")
    prefix = "teacher.vae." if cls_name == "ImageFairDistill" else "vae."
    arrays = {("net." + k[len(prefix):] if k.startswith(prefix) else k): v
              for k, v in arrays.items()}
    if cls_name == "ImageFair4Free":
        for key in ("decoder_hidden", "decoder_width"):
            state.pop(key)
        state["layout"] = layout
    else:
        old = {"layout": layout, "history": vae["history"], "fit_seconds": 1.0}
        if cls_name == "ImageFLDGM":
            old.update(latent=state["latent"], latent_seconds=1.0)
        if cls_name == "ImageFairDistill":
            old.update(gmm_components=state["gmm_components"])
        state = old
    config.update({"class": f"fairx.models.fair_latent.images:{cls_name}", "params": params,
                   "state": state})
    (target / "config.json").write_text(json.dumps(config))
    save_file(arrays, str(target / "weights.safetensors"))
    return target


#: the conv fair VAE's parameters, flat in the old image classes
_OLD_VAE = ("z_dim", "beta", "epochs", "batch_size", "lr", "v2_rows", "label_weight",
            "s_injection", "max_images")


def _old_params(model, **own):
    teacher = model.teacher.get_params()
    return {**own, **{k: teacher[k] for k in _OLD_VAE}, "s_sampling": "marginal",
            "patience": None, "device": "cpu", "random_state": 0, "verbose": None}


def test_folders_of_the_old_image_classes_still_load(saved, digits, tmp_path):
    model, folder = saved["fairdisco"]
    old = {k: v for k, v in model.get_params().items() if k not in ("hidden", "numerical", "decode", "kl_weight")}
    loaded = load_method(_as_old_image_folder(folder, tmp_path / "vae", "ImageFairVAE", old))
    assert type(loaded) is FairVAE and loaded.data_kind == "image"
    np.testing.assert_array_equal(loaded.posterior(digits)[0], model.posterior(digits)[0])
    np.testing.assert_array_equal(loaded.sample(32, seed=3).to_numpy(),
                                  model.sample(32, seed=3).to_numpy())
    student, folder = saved["fair4free"]
    teacher = student.teacher.get_params()
    old = {"chain_steps": None, "max_chain_steps": 5, "chain_samples": 512, "noise_dim": 8,
           "distill_steps": 60, "distill_lr": 3e-3, "student_decoder": True,
           "student_width": 0.5, "student_hidden": 32, "decoder_steps": None,
           **{k: teacher[k] for k in ("z_dim", "beta", "epochs", "batch_size", "lr", "v2_rows",
                                      "label_weight", "s_injection", "max_images")},
           "s_sampling": "marginal", "device": "cpu", "random_state": 0, "verbose": None}
    loaded = load_method(_as_old_image_folder(folder, tmp_path / "f4f", "ImageFair4Free", old))
    assert type(loaded) is Fair4Free and loaded.data_kind == "image"
    # distill_steps = 60 optimiser steps of batch 256 on 512 latents = 30 passes
    assert (loaded.distill_epochs, loaded.distill_batch, loaded.teacher.epochs) == (30, 256, 2)
    np.testing.assert_array_equal(loaded.sample(32, seed=3).to_numpy(),
                                  student.sample(32, seed=3).to_numpy())
    model, folder = saved["fldgm"]
    old = _old_params(model, latent_model="ddpm", latent_preset="fast",
                      latent_params={"epochs": 4, "eval_every": 4})
    loaded = load_method(_as_old_image_folder(folder, tmp_path / "fldgm", "ImageFLDGM", old))
    assert type(loaded) is FLDGM and loaded.teacher.label_weight == model.teacher.label_weight
    np.testing.assert_array_equal(loaded.sample(32, seed=3).to_numpy(),
                                  model.sample(32, seed=3).to_numpy())
    model, folder = saved["fairdistill"]
    old = _old_params(model, width=0.25, student_epochs=1, lambda_u=1.0, max_components=4)
    loaded = load_method(_as_old_image_folder(folder, tmp_path / "fd", "ImageFairDistill", old))
    assert type(loaded) is FairDistill and loaded.distill_epochs == 1  # renamed student_epochs
    np.testing.assert_array_equal(loaded.student_posterior(digits)[0],
                                  model.student_posterior(digits)[0])
    np.testing.assert_array_equal(loaded.sample(32, seed=3).to_numpy(),
                                  model.sample(32, seed=3).to_numpy())


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
