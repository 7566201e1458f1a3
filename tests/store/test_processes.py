"""Several processes at once, and writers killed with SIGKILL at random points."""

from __future__ import annotations

import importlib.util
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
import xarray as xr

from rareflow.store import RunStore

WORKER = Path(__file__).with_name("worker.py")


def _worker_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("store_worker", WORKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start(store: Path, tag: str, count: int, size: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(store), tag, str(count), str(size)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _entries(path: Path) -> set[Path]:
    """What the store holds, less quarantine and DuckDB's write-ahead log of the catalogue (a
    writer killed mid-commit leaves ``catalogue.duckdb.wal``, which DuckDB folds into the
    catalogue when it next opens it: the database's own journal, not an entry)."""
    return {
        p.relative_to(path)
        for p in path.rglob("*")
        if "quarantine" not in p.parts and p.name != "catalogue.duckdb.wal"
    }


def _check_store(path: Path, size: int) -> list[str]:
    """Open the store and check that every listed run is complete, correct and verified.

    A killed writer leaves its staging (or, killed between the rename and the catalogue, a
    complete run outside the catalogue): opening deletes neither, verify reports them, and repair
    quarantines the staging and puts the complete run back.
    """
    before = _entries(path)
    store = RunStore(path)
    for problem in store.verify():
        assert problem.severity == "warning" or (
            "interrupted write" in problem.message or "not in the catalogue" in problem.message
        ), problem
    assert _entries(path) == before
    store = RunStore(path, repair=True)
    worker = _worker_module()
    infos = store.list()
    for info in infos:
        xr.testing.assert_identical(
            store.results(info.id), worker.expected_results(info.record.seed, size)
        )
    assert [p for p in store.verify() if p.severity == "error"] == []
    assert list((path / "tmp").iterdir()) == []
    assert sorted(p.name for p in (path / "runs").iterdir()) == [i.id for i in infos]
    return [i.id for i in infos]


def test_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "store"
    writers = [_start(path, f"w{i}", 6, 20) for i in range(3)]
    saved = []
    for proc in writers:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        saved += [line.split()[1] for line in out.splitlines() if line.startswith("saved")]
    assert len(saved) == 18
    assert sorted(saved) == _check_store(path, 20)


def _kill_writers(path: Path, kills: int, size: int) -> None:
    rng = random.Random(1234)
    committed: list[str] = []
    for _ in range(kills):
        proc = _start(path, "killed", 1000, size)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # A kill can cut the last line short: count only whole lines.
        committed += [
            line.split()[1]
            for line in out.splitlines(keepends=True)
            if line.startswith("saved") and line.endswith("\n") and len(line.split()) == 3
        ]
        listed = _check_store(path, size)
        # Every commit the writer reported survives the kill.
        assert set(committed) <= set(listed)


def test_writer_killed_at_random_points(tmp_path: Path) -> None:
    _kill_writers(tmp_path / "store", kills=4, size=400)


def test_writer_killed_mid_write_leaves_what_repair_quarantines(tmp_path: Path) -> None:
    path = tmp_path / "store"
    proc = _start(path, "killed", 1000, 400)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    # Wait until the writer has saved a run and is in the middle of the next one.
    assert proc.stdout.readline().startswith("saved")
    deadline = time.monotonic() + 60
    while not any(p.suffix != ".lock" for p in (path / "tmp").iterdir()):
        assert proc.poll() is None, "the writer ended before staging a second run"
        assert time.monotonic() < deadline, "no staging directory within 60 s"
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert any(p.severity == "error" for p in RunStore(path).verify())
    _check_store(path, 400)
    assert any((path / "quarantine").iterdir())


@pytest.mark.slow
def test_writer_killed_many_times(tmp_path: Path) -> None:
    _kill_writers(tmp_path / "store", kills=25, size=2000)
