"""The example notebooks (jupytext percent scripts) run end to end, on a small ensemble."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def test_there_are_two_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {"india_april_2025", "policy_mix"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_is_a_notebook(path: Path) -> None:
    notebook = jupytext.read(path)
    assert sum(c.cell_type == "markdown" for c in notebook.cells) >= 3
    env = dict(os.environ, RAREFLOW_EXAMPLE_DRAWS="40", MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip()
