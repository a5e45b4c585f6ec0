"""The bad-input catalogue: every expected failure is one red line and exit 2 (no traceback),
found before any training; one reader for every table; messages that help."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairx.cli import app
from fairx.data import DatasetError, load_csv, make_synthetic


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def one_line_error(res, *words: str) -> str:
    """Exit 2, exactly one ``error:`` line on stderr naming ``words``, no traceback."""
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def train_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.csv"
    make_synthetic(400, seed=1).frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, train_csv):
    """A tiny fitted DECAF saved as config.json + weights.safetensors."""
    from fairx.models import get

    folder = tmp_path_factory.mktemp("model") / "decaf"
    get("decaf-dp", epochs=1, hidden=8).fit(make_synthetic(400, seed=1)).save(folder)
    return folder


# ---------------------------------------------------------------- outputs, checked before training
def test_generate_outputs_checked_before_training(tmp_path, train_csv):
    common = ["generate", str(train_csv), "-t", "hired", "-s", "group", "--model", "decaf-dp",
              "-n", "10"]
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    one_line_error(cli(*common, "-o", str(tmp_path / "d")), "is a directory")
    one_line_error(cli(*common, "-o", str(tmp_path / "f" / "x.csv")), "is a file, not a folder")
    before = train_csv.read_bytes()
    one_line_error(cli(*common, "-o", str(train_csv)), "is one of the inputs")
    assert train_csv.read_bytes() == before
    one_line_error(cli(*common, "-o", str(tmp_path / "o.csv"), "--save-model", str(tmp_path / "f")),
                   "--save-model", "is a file")
    res = cli(*common[:-1], "1000000000000", "-o", str(tmp_path / "o.csv"))
    line = one_line_error(res, "-n 1,000,000,000,000 needs about", "GiB", "available")
    assert "training" not in res.stdout  # refused before any training
    assert "at most about" in line


# ---------------------------------------------------------------- saved model folders
def _corrupt(src, dst, kind: str) -> None:
    shutil.copytree(src, dst)
    weights, config = dst / "weights.safetensors", dst / "config.json"
    conf = json.loads(config.read_text())
    if kind == "garbage":
        weights.write_bytes(np.random.default_rng(0).bytes(600))
    elif kind == "empty":
        weights.write_bytes(b"")
    elif kind == "missing":
        weights.unlink()
    elif kind == "array":
        config.write_text("[1, 2, 3]")
    elif kind in ("negative", "absurd", "shape"):
        conf["params"]["hidden"] = {"negative": -8, "absurd": 10**9, "shape": 16}[kind]
        config.write_text(json.dumps(conf))
    elif kind == "nan":
        from safetensors.numpy import load_file, save_file

        arrays = {k: v.copy() for k, v in load_file(str(weights)).items()}
        first = sorted(arrays)[0]
        arrays[first].flat[0] = np.nan
        save_file(arrays, str(weights))


@pytest.mark.parametrize("kind, words", [
    ("garbage", ("not a valid safetensors file",)),
    ("empty", ("not a valid safetensors file",)),
    ("missing", ("weights.safetensors is missing",)),
    ("array", ("not a fairx model config", "list")),
    ("negative", ("params.hidden = -8", "cannot be negative")),
    ("absurd", ("params.hidden = 1,000,000,000", "does not fit the weights file")),
    ("shape", ("does not match config.json", "size mismatch")),
    ("nan", ("NaN or infinite", "corrupt")),
])
def test_broken_model_folder(tmp_path, saved_model, kind, words):
    folder = tmp_path / kind
    _corrupt(saved_model, folder, kind)
    out = tmp_path / "o.csv"
    one_line_error(cli("generate", "--model-dir", str(folder), "-n", "5", "-o", str(out)), *words)
    assert not out.exists()


def test_intact_model_folder_still_samples(tmp_path, saved_model):
    out = tmp_path / "o.csv"
    res = cli("generate", "--model-dir", str(saved_model), "-n", "25", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) == 25


# ---------------------------------------------------------------- the spec, checked up front
_SPEC = """\
name: t
datasets:
  - name: synthetic
    options: {n_samples: 300}
methods: [unmitigated]
seeds: [0, 1]
protocol: {quality: false}
"""


@pytest.mark.parametrize("edit, where, words", [
    (("seeds: [0, 1]", "seeds: [0, 100000000000000000000000]"), ":6: seeds[1]", "out of range"),
    (("seeds: [0, 1]", "seeds: [0, -3]"), ":6: seeds[1]", "out of range"),
    (("{quality: false}", "{quality: false, n_synthetic: -5}"), ":7: protocol.n_synthetic",
     "positive number of rows"),
    (("{n_samples: 300}", "{n_sample: 300}"), ":4: datasets[0].options.n_sample",
     "did you mean 'n_samples'"),
    (("  - name: synthetic\n", "  - name: mine\n    path: nowhere/data.csv\n    target: y\n"
      "    sensitive: s\n"), ":4: datasets[0].path", "not found"),
    (("  - name: synthetic\n", "  - name: mine\n    path: data.xlsx\n    target: y\n"
      "    sensitive: s\n"), ":4: datasets[0].path", "neither CSV"),
])
def test_spec_errors_found_before_running(tmp_path, edit, where, words):
    spec = tmp_path / "b.yaml"
    text = _SPEC.replace(*edit)
    assert text != _SPEC
    spec.write_text(text)
    db = tmp_path / "r.db"
    one_line_error(cli("benchmark", str(spec), "--db", str(db), "--no-progress"),
                   f"{spec}{where}", words)
    assert not db.exists()


def test_file_options_checked_against_the_reader(tmp_path, monkeypatch):
    from fairx.benchmark import SpecError, loads_spec

    monkeypatch.chdir(tmp_path)
    make_synthetic(300).frame.to_csv("d.csv", index=False)
    text = _SPEC.replace("  - name: synthetic\n    options: {n_samples: 300}\n",
                         "  - name: d\n    path: d.csv\n    target: hired\n    sensitive: group\n"
                         "    options: {delimiter: ';'}\n")
    with pytest.raises(SpecError, match=r"options.delimiter: the file reader has no option "
                                        r"'delimiter'.*sep"):
        loads_spec(text)


# ---------------------------------------------------------------- one reader for every table
def test_spec_explain_and_evaluate_share_one_reader(tmp_path):
    """Semicolons and '?' as missing: the spec dataset, explain's loader and load_csv agree."""
    from fairx.benchmark import loads_spec
    from fairx.cli._benchmark import _load_any

    frame = make_synthetic(300, seed=3).frame
    text = frame.to_csv(index=False, sep=";")
    lines = text.splitlines()
    lines[5] = lines[5].replace(lines[5].split(";")[4], "?")  # region of one row missing
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(lines) + "\n")
    direct = load_csv(path, target="hired", sensitive="group")
    assert len(direct) == 299  # the '?' row dropped, columns split on ';'
    spec = loads_spec(_SPEC.replace(
        "  - name: synthetic\n    options: {n_samples: 300}\n",
        f"  - name: semi\n    path: {path}\n    target: hired\n    sensitive: group\n"))
    from_spec = spec.datasets[0].load(["group"])
    from_explain = _load_any(str(path), ["group"], "hired")
    for ds in (from_spec, from_explain):
        pd.testing.assert_frame_equal(ds.frame, direct.frame)


def test_reader_messages(tmp_path, train_csv):
    xlsx = tmp_path / "book.csv"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(200))
    one_line_error(cli("evaluate", "--real", str(xlsx), "--synthetic", str(train_csv), "-t",
                       "hired", "-s", "group"), "Excel workbook", "save it as CSV")
    latin = tmp_path / "latin.csv"
    frame = make_synthetic(300, seed=0).frame
    frame["region"] = frame["region"] + "-Zürich"
    frame.to_csv(latin, index=False, encoding="latin-1")
    one_line_error(cli("evaluate", "--real", str(latin), "--synthetic", str(train_csv), "-t",
                       "hired", "-s", "group"), "not UTF-8 text", "--encoding latin-1")
    ds = load_csv(latin, target="hired", sensitive="group", encoding="latin-1")
    assert len(ds) == 300 and ds.frame["region"].str.endswith("-Zürich").all()


def test_nested_parquet_column_is_named(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"y": [0, 1] * 20, "s": ["a", "b"] * 20,
                      "address": [{"city": "x", "zip": 1}] * 40})
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    from fairx.data import load_parquet

    with pytest.raises(DatasetError, match=r"column 'address' \(struct<city: string, zip: int64>\) "
                                           "is nested"):
        load_parquet(path, target="y", sensitive="s")


# ---------------------------------------------------------------- messages that help
def test_continuous_sensitive_column_is_named_not_listed(tmp_path, train_csv):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"income": rng.normal(5e4, 1e4, 2000).round(2),
                          "x": rng.normal(size=2000), "y": rng.choice(["yes", "no"], 2000)})
    path = tmp_path / "cont.csv"
    frame.to_csv(path, index=False)
    line = one_line_error(cli("evaluate", "--real", str(path), "--synthetic", str(path), "-t", "y",
                              "-s", "income", "--no-quality"),
                          "'income' looks continuous", "2,000 distinct values", "pd.qcut")
    assert len(line) < 400


def test_tiny_synthetic_table_is_refused_and_small_one_flagged():
    from fairx.metrics import evaluate

    real = make_synthetic(600, seed=0)
    with pytest.raises(DatasetError, match="has 1 row.*at least 50 rows"):
        evaluate(real, make_synthetic(300, seed=1).frame.head(1), quality=False, classifier="logreg")
    res = evaluate(real, make_synthetic(120, seed=1).frame, quality=False, classifier="logreg")
    assert any("only 120 rows" in n and "noisy" in n for n in res.attrs["settings"]["notes"])


# ---------------------------------------------------------------- a real holdout with new categories
def test_unseen_holdout_categories_are_mapped_counted_and_scored():
    from fairx.metrics import evaluate
    from fairx.metrics._evaluate import UNSEEN

    real = make_synthetic(800, seed=0)
    synth = make_synthetic(800, seed=2).frame
    test = make_synthetic(400, seed=1).frame
    test.loc[:11, "region"] = "Atlantis"
    res = evaluate(real, synth, test=test, quality=False, classifier="logreg")
    notes = res.attrs["settings"]["notes"]
    assert any("'region': 12 test row(s)" in n and "'Atlantis'" in n and UNSEEN in n for n in notes)
    assert res.attrs["settings"]["n_test"] == 400  # every holdout row is scored
    acc = res[(res.group == "utility") & (res.metric == "accuracy")]["value"].iloc[0]
    assert 0.5 < acc <= 1.0
    # a generator's output that invents categories stays an error (documented policy)
    bad = synth.copy()
    bad.loc[:3, "region"] = "Atlantis"
    with pytest.raises(DatasetError, match="categories not in the real table.*Atlantis"):
        evaluate(real, bad, test=test, quality=False, classifier="logreg")


# ---------------------------------------------------------------- corrupt MNIST files
@pytest.fixture()
def mnist_home(tmp_path, monkeypatch, data_home):
    home = tmp_path / "home"
    (home / "mnist").mkdir(parents=True)
    good = tmp_path / "mirror"
    good.mkdir()
    name = "t10k-labels-idx1-ubyte.gz"
    src = data_home / "mnist" / name
    if not src.exists():
        pytest.skip("offline MNIST copy not found")  # pragma: no cover
    shutil.copy(src, home / "mnist" / name)
    shutil.copy(src, good / name)
    monkeypatch.setenv("FAIRX_DATA_HOME", str(home))
    return home / "mnist" / name, good


@pytest.mark.parametrize("damage", ["byte-flip", "truncated"])
def test_corrupt_mnist_is_reported_and_fetched_again(mnist_home, monkeypatch, damage):
    from fairx.data.images import idx as _images

    path, mirror = mnist_home
    raw = bytearray(path.read_bytes())
    if damage == "byte-flip":
        raw[0] ^= 0xFF  # gzip magic broken: BadGzipFile
    else:
        raw = raw[: len(raw) // 2]  # EOFError inside gzip
    path.write_bytes(bytes(raw))
    monkeypatch.setattr(_images, "MNIST_URL", "http://127.0.0.1:9/")  # offline: nothing answers
    with pytest.raises(DatasetError, match="was corrupt .* fetching it again failed"):
        _images._read_mnist_file(path.name)
    assert path.with_name(path.name + ".corrupt").exists()
    path.with_name(path.name + ".corrupt").replace(path)
    monkeypatch.setattr(_images, "MNIST_URL", mirror.as_uri() + "/")  # a mirror that answers
    labels = _images._read_mnist_file(path.name)
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    with gzip.open(path) as fh:  # the good file is back in place
        assert len(fh.read()) == 10008
