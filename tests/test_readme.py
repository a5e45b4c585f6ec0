"""The README's Quick start is what CI runs: its test command is in .ci/run verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    install_demo, install_test = _quick_start()
    assert "constraints.txt" in install_demo and install_demo.endswith("fairx demo -o fairx-demo")
    assert '".[dev]"' in install_test and "pytest -m \"not slow\"" in install_test
    assert "--durations=" in install_test
    assert "-n auto --dist loadfile" in install_test  # one worker per core, a module per worker
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install_test in ci


def test_constraints_pin_the_cpu_torch():
    lines = [ln.strip() for ln in (ROOT / "constraints.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines == ["torch==2.13.0"]
