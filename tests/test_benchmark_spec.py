"""Benchmark spec: YAML <-> typed config, errors that name the key and its line, --init."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fairx.benchmark import EXAMPLE_SPEC, SpecError, expand_grid, load_spec, loads_spec

GOOD = """\
name: t
datasets:
  - name: synthetic
    sensitive: group
    options: {n_samples: 500}
  - name: mine
    path: data.csv
    target: y
    sensitive: [a, [a, b]]
methods:
  - unmitigated
  - name: reweighing
    label: RW
seeds: 3
protocol:
  test_size: 0.25
metrics: [utility, dpr]
"""


@pytest.fixture(autouse=True)
def _data_file(tmp_path, monkeypatch):
    """The spec's ``path: data.csv`` exists (file datasets are checked when the spec is read)."""
    monkeypatch.chdir(tmp_path)
    Path("data.csv").write_text("y,a,b\n1,x,u\n0,z,v\n")


def test_valid_spec_types_and_grid():
    spec = loads_spec(GOOD)
    assert spec.seeds == [0, 1, 2] and spec.protocol.test_size == 0.25
    assert spec.datasets[0].sensitive == [["group"]]
    assert spec.datasets[1].sensitive == [["a"], ["a", "b"]]
    assert [m.display for m in spec.methods] == ["unmitigated", "RW"]
    cells = expand_grid(spec)
    assert len(cells) == (1 + 2) * 2 * 3  # (sensitive sets) x methods x seeds
    assert len({c.key for c in cells}) == len(cells)
    # the YAML round trip gives the same config (and so the same cell keys)
    again = loads_spec(spec.to_yaml())
    assert again.to_dict() == spec.to_dict()
    assert [c.key for c in expand_grid(again)] == [c.key for c in cells]


def test_changing_the_protocol_changes_cell_keys():
    a = expand_grid(loads_spec(GOOD))
    b = expand_grid(loads_spec(GOOD.replace("test_size: 0.25", "test_size: 0.3")))
    assert not {c.key for c in a} & {c.key for c in b}


@pytest.mark.parametrize("edit, key, line, words", [
    (("    sensitive: group\n", "    sensitve: group\n"), "datasets[0].sensitve", 4, "did you mean 'sensitive'"),
    (("seeds: 3", "seeds: [1, x]"), "seeds[1]", 14, "integer seed"),
    (("  - name: reweighing", "  - name: reweighin"), "methods[1].name", 12, "unknown method"),
    (("  test_size: 0.25", "  test_size: 1.5"), "protocol.test_size", 16, "(0, 1)"),
    (("metrics: [utility, dpr]", "metrics: [utility, dpx]"), "metrics[1]", 17, "dpr"),
    (("    target: y\n", ""), "datasets[1].path", 7, "needs 'target'"),
    (("  - name: synthetic", "  - name: synthetik"), "datasets[0].name", 3, "unknown dataset"),
    (("    sensitive: group", "    sensitive: race"), "datasets[0].sensitive", 4, "no sensitive attribute"),
    (("name: t", "name: t\nclassifer: hgb"), "classifer", 2, "did you mean 'classifier'"),
])
def test_errors_name_key_and_line(edit, key, line, words):
    text = GOOD.replace(*edit)
    assert text != GOOD
    with pytest.raises(SpecError) as info:
        loads_spec(text, source="bench.yaml")
    err = info.value
    assert err.key == key and err.line == line
    assert str(err).startswith(f"bench.yaml:{line}: {key}: ")
    assert words in str(err)


def test_method_preset_and_params_are_checked_against_the_registry():
    with pytest.raises(SpecError, match=r"methods\[1\]\.params\.nope: .*no parameter 'nope'"):
        loads_spec(GOOD.replace("    label: RW", "    params: {nope: 1}"))
    with pytest.raises(SpecError, match=r"methods\[1\]\.preset: .*no preset 'turbo'"):
        loads_spec(GOOD.replace("    label: RW", "    preset: turbo"))
    with pytest.raises(SpecError, match=r"methods\[1\]: two methods are shown as 'unmitigated'"):
        loads_spec(GOOD.replace("  - name: reweighing\n    label: RW", "  - unmitigated"))
    # nested estimator parameters (the fair-latent teacher) are checked the same way
    fair = "  - name: fair4free\n    params: {teacher__epochs: 5}"
    assert loads_spec(GOOD.replace("  - name: reweighing\n    label: RW", fair)).methods[1].params \
        == {"teacher__epochs": 5}
    with pytest.raises(SpecError, match=r"no parameter 'teacher__gamma'"):
        loads_spec(GOOD.replace("  - name: reweighing\n    label: RW",
                                fair.replace("teacher__epochs", "teacher__gamma")))


def test_yaml_syntax_error_has_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("datasets:\n  - name: [synthetic\nmethods: []\n")
    with pytest.raises(SpecError, match=r"bad.yaml:\d+: not valid YAML"):
        load_spec(p)
    with pytest.raises(FileNotFoundError, match="--init"):
        load_spec(tmp_path / "missing.yaml")


def test_example_spec_validates_and_init_writes_it(tmp_path):
    from typer.testing import CliRunner

    from fairx.cli import app

    spec = loads_spec(EXAMPLE_SPEC)
    assert [d.name for d in spec.datasets] == ["adult", "synthetic"]
    assert spec.datasets[0].sensitive == [["sex"], ["race"], ["sex", "race"]]
    target = tmp_path / "bench.yaml"
    result = CliRunner().invoke(app, ["benchmark", "--init", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == EXAMPLE_SPEC and "# " in EXAMPLE_SPEC
    again = CliRunner().invoke(app, ["benchmark", "--init", str(target)])
    assert again.exit_code == 2 and "exists" in again.output


def test_repo_example_spec_validates():
    path = Path(__file__).resolve().parents[1] / "examples" / "adult_benchmark.yaml"
    spec = load_spec(path)
    assert len(spec.methods) == 10 and spec.seeds == [0, 1, 2]
    assert all(m.preset in (None, "fast") for m in spec.methods)


def test_cli_reports_spec_error_with_line(tmp_path):
    from typer.testing import CliRunner

    from fairx.cli import app

    p = tmp_path / "b.yaml"
    p.write_text(textwrap.dedent("""\
        datasets: [synthetic]
        methods:
          - name: unmitigated
            preset: [x]
        """))
    result = CliRunner().invoke(app, ["benchmark", str(p), "--db", str(tmp_path / "r.db")])
    assert result.exit_code == 2
    assert "b.yaml:4: methods[0].preset" in " ".join(result.output.split())
