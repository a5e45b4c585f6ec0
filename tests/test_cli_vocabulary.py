"""One CLI vocabulary: every command's --help, walked; shared options agree (issue #17)."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import typer
from typer.testing import CliRunner

from fairx.cli import app
from fairx.cli._options import CLASSIFIERS, PER_COMMAND, PRESETS, VOCABULARY

runner = CliRunner()


def _commands():
    root = typer.main.get_command(app)

    def walk(cmd, path):
        yield path, cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(root, []))


def _options(cmd):
    out = {}
    for p in cmd.params:
        if p.param_type_name != "option":
            continue
        longs = [o for o in p.opts if o.startswith("--")]
        choices = getattr(p.type_descriptor, "choices", None) \
            if getattr(p.type_descriptor, "is_choice", False) else None
        out[longs[0]] = {"flags": tuple(sorted(p.opts + p.secondary_opts)), "help": p.help,
                         "choices": tuple(choices) if choices else None}
    return out


COMMANDS = _commands()


def test_every_help_renders_without_type_noise():
    seen = 0
    for path, _ in COMMANDS:
        res = runner.invoke(app, [*path, "--help"], terminal_width=100)
        assert res.exit_code == 0, (path, res.output)
        # boolean flags and --help show no "<bool>"; every option has a help text
        assert "<bool>" not in res.output, path
        seen += 1
    assert seen >= 14


def test_shared_options_have_one_spelling_choices_and_help():
    by_name = defaultdict(dict)
    for path, cmd in COMMANDS:
        for name, info in _options(cmd).items():
            by_name[name][" ".join(path) or "fairx"] = info
    for name, uses in by_name.items():
        if len(uses) < 2 or name == "--help":
            continue
        flags = {u["flags"] for u in uses.values()}
        assert len(flags) == 1, f"{name} has different flags: {uses}"
        choices = {u["choices"] for u in uses.values()}
        assert len(choices) == 1, f"{name} has different choices: {uses}"
        if name in ("--output", "--n"):  # same flags; the help says what this command writes
            continue
        helps = {u["help"] for u in uses.values()}
        assert len(helps) == 1, f"{name} has different help texts: {uses}"


def test_vocabulary_is_used_where_promised():
    opts = {" ".join(p): _options(c) for p, c in COMMANDS}
    for cmd in ("run", "generate", "distill", "report", "demo", "images run", "images generate",
                "images distill", "images show"):
        assert opts[cmd]["--output"]["flags"] == tuple(sorted(PER_COMMAND["output"])), cmd
    assert "--option" in opts["datasets show"]
    assert "-o" not in opts["datasets show"]["--option"]["flags"]
    for flag in ("--dataset", "--model", "--n"):
        assert flag in opts["images run"], flag
    assert "-d" in opts["images run"]["--dataset"]["flags"]
    assert "-m" in opts["images run"]["--model"]["flags"]
    assert "--epochs" in opts["distill"] and "--epochs" in opts["images distill"]
    assert "--steps" not in opts["images distill"]
    for cmd in ("run", "generate", "distill", "explain", "images run", "images distill"):
        assert opts[cmd]["--preset"]["choices"] == PRESETS, cmd
    for cmd in ("run", "evaluate", "explain"):
        assert opts[cmd]["--classifier"]["choices"] == CLASSIFIERS, cmd
    for name, info in opts["images show"].items():
        assert info["help"], f"images show {name} has no help"


def test_classifier_choices_match_the_benchmark_spec():
    from fairx.benchmark._spec import CLASSIFIERS as SPEC_CLASSIFIERS

    assert CLASSIFIERS == SPEC_CLASSIFIERS
    assert VOCABULARY["preset"].help.endswith("paper | default | fast.")


def test_bad_choice_is_a_clear_usage_error():
    res = runner.invoke(app, ["run", "-m", "unmitigated", "-d", "synthetic",
                              "--classifier", "svm"])
    assert res.exit_code == 2
    assert "svm" in res.output and "hgb" in res.output


def test_init_spec_names_commands_that_exist():
    from fairx.benchmark import EXAMPLE_SPEC

    named = set(re.findall(r"`fairx ([a-z]+(?: [a-z]+)?)", EXAMPLE_SPEC))
    assert named, "the example spec names no command"
    paths = {" ".join(p) for p, _ in COMMANDS}
    for cmd in named:
        words = cmd.split()
        # "fairx datasets" or "fairx benchmark THIS_FILE": the leading words must be a command
        assert " ".join(words[:1]) in paths, cmd
        if len(words) > 1 and words[0] in ("datasets", "images"):
            assert cmd in paths, cmd


@pytest.mark.parametrize("command", [["datasets", "show", "--help"], ["images", "show", "--help"]])
def test_help_lists_option_help(command):
    res = runner.invoke(app, command, terminal_width=100)
    assert res.exit_code == 0
    assert "--option" in res.output or "--output" in res.output


def test_unreachable_dask_scheduler_is_one_line_and_exit_2(tmp_path):
    pytest.importorskip("distributed")
    spec = tmp_path / "s.yaml"
    spec.write_text("datasets: [{name: synthetic, options: {n_samples: 200}}]\n"
                    "methods: [unmitigated]\nseeds: [0]\n")
    res = runner.invoke(app, ["benchmark", str(spec), "--db", str(tmp_path / "r.db"),
                              "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9",
                              "--no-progress"], terminal_width=300)
    assert res.exit_code == 2, res.output
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in res.output
    assert "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if "error" in line]) == 1
