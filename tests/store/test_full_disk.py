"""A full disk (a small tmpfs) loses no finished run, shows no partial one, and says so clearly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rareflow.engine.run import run, with_overrides
from rareflow.errors import StoreError
from rareflow.scenario.load import load_scenario
from rareflow.store import RunRecord, RunStore


@pytest.fixture
def tiny_disk(tmpfs: Callable[[str], Path]) -> Path:
    """A 3 MB file system that fills up."""
    return tmpfs("size=3m")


def test_full_disk_keeps_finished_runs_and_hides_the_failed_one(tiny_disk: Path) -> None:
    result = run(with_overrides(load_scenario("china-2025-april"), draws=30))
    record = RunRecord(
        kind="run",
        name="full-disk",
        scenario_given="",
        scenario_resolved=result.resolved_yaml,
        data_version=result.data_version,
        code_version=result.code_version,
        seed=1,
        started_at=result.started_at,
        finished_at=result.finished_at,
        summary={},
    )
    store = RunStore(tiny_disk / "store")
    saved: list[str] = []

    def fill() -> None:
        while len(saved) < 50:
            saved.append(store.save(record, result.results))

    with pytest.raises(StoreError, match="this run was not saved"):
        fill()
    assert saved, "at least one run should fit before the disk fills"
    assert [info.id for info in store.list()] == saved
    assert store.verify() == []
    for run_id in saved:
        assert float(store.results(run_id)["shortfall"].sum()) == pytest.approx(
            float(result.results["shortfall"].sum())
        )
    assert not any((tiny_disk / "store" / "tmp").iterdir())
