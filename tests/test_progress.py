"""fairx.progress: when bars are shown, nesting into one display, the quality pass count;
``fairx --version`` / ``fairx doctor``."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

from fairx import __version__
from fairx import progress as fp
from fairx.cli import app


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_enabled_follows_verbose_then_verbosity_then_the_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert not fp.is_enabled() and fp.is_enabled(True)
    monkeypatch.setattr("sys.stdout", _Tty())
    assert fp.is_enabled() and not fp.is_enabled(False)
    with fp.quiet():
        assert not fp.is_enabled() and fp.is_enabled(True)
        with fp.verbosity(True):
            assert fp.is_enabled()
        with fp.verbosity(None):  # None changes nothing
            assert not fp.is_enabled()
    assert fp.is_enabled()


def test_uses_verbosity_applies_the_keyword_to_bars_inside(monkeypatch):
    monkeypatch.setattr("sys.stdout", io.StringIO())

    @fp.uses_verbosity
    def work(*, verbose=None):
        return fp.is_enabled()

    assert work(verbose=True) and not work(verbose=False) and not work()


def test_disabled_bar_does_nothing_and_nested_bars_share_one_display():
    with fp.progress(3, "off", verbose=False) as bar:
        assert not bar.enabled
        bar.advance(loss=1.0)
        bar(info="old-style call")
    with fp.progress(2, "outer", verbose=True) as outer:
        display = fp._LIVE["progress"]
        with fp.progress(5, "inner", verbose=True) as inner:
            assert fp._LIVE["progress"] is display and len(display.tasks) == 2
            for _ in range(5):
                inner.advance(loss=0.25)
            assert display.tasks[1].completed == 5
            assert display.tasks[1].fields["info"] == "loss 0.25"
        assert len(display.tasks) == 1  # the inner line is gone when its work ends
        outer.advance(failed=1, last="a · b: FAILED")
        assert display.tasks[0].fields["info"] == "failed 1  last a · b: FAILED"
    assert fp._LIVE["progress"] is None


def test_bar_is_closed_on_errors():
    with pytest.raises(RuntimeError), fp.progress(2, "boom", verbose=True):
        raise RuntimeError("x")
    assert fp._LIVE["progress"] is None


@pytest.mark.parametrize(("metrics", "holdout"), [
    (None, True), (None, False), (["prdc_precision"], False), (["alpha_precision"], True),
    (["dcr_share"], True), (["ks_complement", "correlation_similarity"], False),
])
def test_quality_bar_total_is_the_number_of_passes(biased, metrics, holdout):
    from fairx.metrics import synthetic_quality
    from fairx.metrics._quality import _n_passes

    real, other = biased.subset(range(0, 200)), biased.subset(range(200, 400))
    timings: dict[str, float] = {}
    synthetic_quality(real, other, holdout=other if holdout else None, metrics=metrics,
                      embedding="naive", c2st_folds=2, timings=timings, verbose=False, n_threads=1)
    assert len(timings) == _n_passes(metrics, other if holdout else None)


def test_version_and_doctor(monkeypatch, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"fairx {__version__}"
    monkeypatch.setenv("FAIRX_DATA_HOME", str(tmp_path))
    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    for name in ("fairx", "torch", "numpy", "pandas", "scikit-learn", "fairlearn", "[dask]"):
        assert f"\n{name} " in "\n" + out
    assert f"data cache: {tmp_path} ($FAIRX_DATA_HOME)" in out
    assert "datasets in the cache: none" in out and "fairx datasets fetch" in out


def test_quiet_flag_hides_bars_for_the_command():
    try:
        result = CliRunner().invoke(app, ["--quiet", "datasets", "where"])
        assert result.exit_code == 0
        assert fp._MODE.get() is False and not fp.is_enabled()
        CliRunner().invoke(app, ["datasets", "where"])
        assert fp._MODE.get() is None  # without --quiet: back to the terminal test
    finally:
        fp.set_verbosity(None)
