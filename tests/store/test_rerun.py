"""`rareflow runs rerun`: a stored run recomputes to identical results; changed data shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import read_rows, write_table

from rareflow.data.load import load_dataset
from rareflow.store import RunStore
from rareflow.store.rerun import rerun


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rareflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "250"},
    )


def test_rerun_is_identical_and_changed_data_is_reported(tmp_path: Path) -> None:
    store = tmp_path / "store"
    made = _cli(
        "run",
        "china-2025-april+stockpile",
        "--draws",
        "6",
        "--seed",
        "4",
        "--store",
        str(store),
        "--format",
        "json",
        "--quiet",
    )
    assert made.returncode == 0, made.stderr
    run_id = json.loads(made.stdout)["run_id"]
    again = _cli("runs", "rerun", run_id, "--store", str(store), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["identical"] is True

    # Other data (India's industry holds twice the stock cover) gives other results.
    rows = [r for r in read_rows("inventories") if r["country"] == "IND"]
    rows[0]["value"], rows[0]["low"], rows[0]["high"] = "5", "4", "6"
    write_table(tmp_path / "data", "inventories", rows)
    report = rerun(RunStore(store), run_id, load_dataset(tmp_path / "data"))
    assert not report.identical
    assert report.data_version_now != report.data_version_stored
    assert any(d.startswith("shortfall") for d in report.differences)
