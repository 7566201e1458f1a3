"""The atheris harness runs on both entry points and finds nothing (its corpus is copied)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3000


@pytest.mark.parametrize("target", ["scenario", "csv"])
def test_atheris_harness_finds_nothing(
    target: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "fuzz" / "corpus" / target, corpus)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "harness.py"),
            target,
            f"-runs={RUNS}",
            "-max_total_time=120",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Done {RUNS} runs" in done.stderr
    record_property(f"fuzz_cases:atheris {target}", RUNS)
