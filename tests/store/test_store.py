"""Catalogue operations, verification, crash leftovers and path confinement."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import xarray as xr

from rareflow.errors import StoreError
from rareflow.store import RUN_ID_PATTERN, RunRecord, RunStore, default_store_path

MakeRecord = Callable[..., RunRecord]


def test_list_get_and_ids(store: RunStore, make_record: MakeRecord, dataset: xr.Dataset) -> None:
    first = store.save(make_record(name="a"), dataset)
    second = store.save(make_record(name="b", parent_id=first), dataset)
    assert RUN_ID_PATTERN.match(first)
    assert [info.id for info in store.list()] == sorted([first, second])
    info = store.get(second)
    assert info.record == make_record(name="b", parent_id=first)
    assert info.dims == {"time": 6, "country": 3}
    assert info.variables == ["supply", "price"]
    assert info.saved_at.tzinfo is not None
    assert info.size == sum(f.size for f in info.files) > 0
    run_json = json.loads((store.path / "runs" / second / "run.json").read_text())
    assert run_json["id"] == second
    assert run_json["record"]["name"] == "b"


def test_record_is_strict(make_record: MakeRecord) -> None:
    with pytest.raises(ValueError, match="extra"):
        make_record(colour="red")
    with pytest.raises(ValueError, match="timezone"):
        make_record(started_at="2026-01-01T00:00:00")
    with pytest.raises(ValueError, match="parent_id"):
        make_record(parent_id="../x")
    with pytest.raises(ValueError, match="summary"):
        make_record(summary={"x": object()})
    local = make_record(started_at="2026-01-01T05:30:00+05:30")
    assert local.started_at.utcoffset() is not None
    assert local.started_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_store_is_reopened_with_its_runs(
    tmp_path: Path, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    run_id = RunStore(tmp_path / "s").save(make_record(), dataset)
    again = RunStore(tmp_path / "s")
    assert [i.id for i in again.list()] == [run_id]
    xr.testing.assert_identical(again.results(run_id), dataset)


def test_default_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAREFLOW_STORE", str(tmp_path / "env-store"))
    assert default_store_path() == tmp_path / "env-store"
    assert RunStore().path == (tmp_path / "env-store").resolve()
    monkeypatch.delenv("RAREFLOW_STORE")
    assert default_store_path().name == "store"


@pytest.mark.parametrize(
    "run_id",
    ["../x", "/etc/passwd", "..", "", "20261130T050904123456Z-1a2b3c4d/../..", "x" * 40],
)
def test_hostile_ids_are_refused(store: RunStore, tmp_path: Path, run_id: str) -> None:
    for call in (store.get, store.results, store.delete):
        with pytest.raises(StoreError, match="invalid run id"):
            call(run_id)
    with pytest.raises(StoreError, match="invalid run id"):
        store.export(run_id, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_id(store: RunStore) -> None:
    with pytest.raises(StoreError, match="no run '20261130T050904123456Z-1a2b3c4d'"):
        store.get("20261130T050904123456Z-1a2b3c4d")
    with pytest.raises(StoreError, match="no run"):
        store.delete("20261130T050904123456Z-1a2b3c4d")


def test_export(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset, tmp_path: Path
) -> None:
    run_id = store.save(make_record(), dataset)
    out = tmp_path / "export"
    written = store.export(run_id, out)
    names = sorted(p.relative_to(out).as_posix() for p in written)
    assert names == [
        "SHA256SUMS",
        "coords/country.parquet",
        "coords/time.parquet",
        "data/price.parquet",
        "data/supply.parquet",
        "dataset.json",
        "run.json",
    ]
    assert all(p.resolve().is_relative_to(out.resolve()) for p in written)
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 6
    with pytest.raises(StoreError, match="refusing to overwrite"):
        store.export(run_id, out)
    assert store.export(run_id, out, overwrite=True) == written
    assert not list(out.rglob("*.part"))


def test_export_refuses_symlink_out_of_directory(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset, tmp_path: Path
) -> None:
    run_id = store.save(make_record(), dataset)
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "export"
    out.mkdir()
    (out / "data").symlink_to(outside)
    with pytest.raises(StoreError, match="lies outside"):
        store.export(run_id, out, overwrite=True)
    assert list(outside.iterdir()) == []
    with pytest.raises(StoreError, match="into the run store itself"):
        store.export(run_id, store.path / "runs" / run_id, overwrite=True)


def test_non_finite_summary_values_are_stored_as_null(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    run_id = store.save(make_record(summary={"p95": float("nan"), "max": [float("inf")]}), dataset)
    assert store.get(run_id).record.summary == {"p95": None, "max": [None]}

    def strict(constant: str) -> None:
        raise ValueError(constant)

    text = (store.path / "runs" / run_id / "run.json").read_text()
    assert json.loads(text, parse_constant=strict)["record"]["summary"]["p95"] is None


def test_verify_detects_corruption_and_results_refuse_it(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    good = store.save(make_record(), dataset)
    bad = store.save(make_record(), dataset)
    assert store.verify() == []
    parquet = store.path / "runs" / bad / "data" / "supply.parquet"
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0xFF
    parquet.write_bytes(bytes(data))
    (store.path / "runs" / bad / "data" / "extra.parquet").write_bytes(b"x")
    (store.path / "runs" / good / "coords" / "time.parquet").unlink()
    problems = store.verify()
    messages = {(p.run_id, p.path, p.message.split(":")[0]) for p in problems}
    assert messages == {
        (bad, f"runs/{bad}/data/supply.parquet", "checksum mismatch"),
        (bad, f"runs/{bad}/data/extra.parquet", "unexpected file"),
        (good, f"runs/{good}/coords/time.parquet", "cannot read file"),
    }
    with pytest.raises(StoreError, match="failed verification"):
        store.results(bad)
    # Corrupt runs are evidence: repair does not remove them.
    assert store.repair() == []
    assert len(store.verify()) == 3
    assert len(store.list()) == 2


def test_delete(store: RunStore, make_record: MakeRecord, dataset: xr.Dataset) -> None:
    keep = store.save(make_record(), dataset)
    gone = store.save(make_record(), dataset)
    store.delete(gone)
    assert [i.id for i in store.list()] == [keep]
    assert not (store.path / "runs" / gone).exists()
    assert list((store.path / "tmp").iterdir()) == []
    with pytest.raises(StoreError, match="no run"):
        store.results(gone)
    assert store.verify() == []


def test_crash_leftovers_are_invisible_reported_and_quarantined(
    tmp_path: Path, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    path = tmp_path / "s"
    store = RunStore(path)
    run_id = store.save(make_record(), dataset)
    # What a writer killed at each step leaves: a staging dir (with and without its lock file),
    # a lock file alone, and half a deletion.
    leftovers = {
        "tmp/" + "a" * 32: "dir",
        "tmp/" + "a" * 32 + ".lock": "file",
        "tmp/" + "b" * 32: "dir",
        "tmp/" + "c" * 32 + ".lock": "file",
        "tmp/deleted-20261130T050904123456Z-1a2b3c4d": "dir",
    }
    for rel, what in leftovers.items():
        if what == "dir":
            (path / rel / "data").mkdir(parents=True)
        else:
            (path / rel).touch()
    before = sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))
    assert [i.id for i in store.list()] == [run_id]
    RunStore(path)  # opening changes nothing
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*")) == before
    problems = store.verify()
    assert {p.path for p in problems} == set(leftovers)
    assert all(p.severity == "error" and "interrupted" in p.message for p in problems)
    repairs = store.repair()
    assert {r.path for r in repairs} == set(leftovers)
    assert list((path / "tmp").iterdir()) == []
    [batch] = (path / "quarantine").iterdir()
    for rel in leftovers:
        assert (batch / rel).exists(), rel
    reasons = json.loads((batch / "reasons.json").read_text())
    assert set(reasons["entries"]) == set(leftovers)
    # Quarantined entries stay reported, as warnings, until a person deletes them.
    [warning] = store.verify()
    assert warning.severity == "warning"
    assert warning.path == f"quarantine/{batch.name}"
    assert [i.id for i in store.list()] == [run_id]


def test_open_keeps_a_live_writers_staging(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    with store.begin_run(make_record(), append_dim="time") as writer:
        writer.append(dataset.isel(time=slice(0, 3)))
        other = RunStore(store.path, repair=True)  # this staging is locked: a live writer's
        assert other.repairs == []
        assert other.verify() == []
        writer.append(dataset.isel(time=slice(3, None)))
        run_id = writer.commit()
    xr.testing.assert_identical(store.results(run_id), dataset)


def test_busy_store_times_out(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s")
    fd = os.open(store.path / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="busy"):
            RunStore(tmp_path / "s", lock_timeout=0.1)
    finally:
        os.close(fd)
    assert RunStore(tmp_path / "s", lock_timeout=0.1).list() == []
