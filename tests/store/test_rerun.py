"""`rareflow runs rerun`: a stored run recomputes to identical results on the data it was made
with; changed data shows, and failures exit non-zero (issue 21 B, 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import read_rows, write_table

from rareflow.cli import main
from rareflow.data.load import load_dataset
from rareflow.store import RunStore
from rareflow.store.rerun import rerun


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``rareflow ARGS`` through the real entry point in this process; return its exit code."""
    monkeypatch.setattr("sys.argv", ["rareflow", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 0


def _overlay(directory: Path, months: str) -> Path:
    # India's industry holds a different stock cover: enough to change the shortfalls.
    rows = [r for r in read_rows("inventories") if r["country"] == "IND"]
    rows[0]["value"], rows[0]["low"], rows[0]["high"] = months, months, months
    return write_table(directory, "inventories", rows).parent


def test_failures_exit_nonzero_and_rerun_reads_the_recorded_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    data = _overlay(tmp_path / "data", "5")
    monkeypatch.delenv("RAREFLOW_DATA", raising=False)
    args = ("--draws", "6", "--seed", "4", "--store", str(store), "--quiet", "--format", "json")
    assert _main(monkeypatch, "run", "china-2025-april+stockpile", *args, "--data", str(data)) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert RunStore(store).get(run_id).record.data_dir == str(data.resolve())

    # The rerun reads the overlay the run was made with (not the embedded data alone).
    assert _main(monkeypatch, "runs", "rerun", run_id, "--store", str(store), "-f", "json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True

    # Changed data gives other results, and the command says so with its exit code.
    _overlay(data, "1")
    assert _main(monkeypatch, "runs", "rerun", run_id, "--store", str(store), "-f", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["identical"] is False
    assert report["data_version_now"] != report["data_version_stored"]
    assert any(d.startswith("shortfall") for d in report["differences"])
    fresh = rerun(RunStore(store), run_id, load_dataset(data))
    assert fresh.differences == report["differences"]

    # The overlay moved: a clear message, and --data points at the copy.
    moved = _overlay(tmp_path / "moved", "5")
    shutil.rmtree(data)
    assert _main(monkeypatch, "runs", "rerun", run_id, "--store", str(store)) == 2
    assert "no longer a directory" in capsys.readouterr().err
    rerun_moved = ("runs", "rerun", run_id, "--store", str(store), "--data", str(moved))
    assert _main(monkeypatch, *rerun_moved) == 0

    # A checksum mismatch fails `runs verify` with exit code 1 through the real entry point.
    (store / "runs" / run_id / "run.json").write_text("{}")
    assert _main(monkeypatch, "runs", "verify", "--store", str(store)) == 1
    assert "checksum mismatch" in capsys.readouterr().out


@pytest.mark.slow
def test_every_kind_of_run_reruns_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    common = ("--store", str(store), "--quiet", "--format", "json")
    made = {
        "ensemble": ("ensemble", "china-2025-april", "-n", "12", "--chunk", "5", "--keep", "full"),
        "sensitivity": ("sensitivity", "china-2025-april", "-m", "morris", "-n", "2"),
        "optimize": ("optimize", "china-2025-april", "-n", "4"),
    }
    ids = {}
    for kind, args in made.items():
        assert _main(monkeypatch, *args, *common) == 0, kind
        ids[kind] = json.loads(capsys.readouterr().out)["run_id"]
    for kind, run_id in ids.items():
        assert RunStore(store).get(run_id).record.kind == kind
        assert _main(monkeypatch, "runs", "rerun", run_id, "--store", str(store), "-f", "json") == 0
        report = json.loads(capsys.readouterr().out)
        assert report["identical"] is True, (kind, report["differences"])
