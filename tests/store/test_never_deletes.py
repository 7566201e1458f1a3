"""Issue 21 A: opening a store never deletes; leftovers are reported, then quarantined; a lost or
damaged catalogue is rebuilt from the runs' own records; ``--store ""`` is refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import xarray as xr

from rareflow.cli import main
from rareflow.errors import StoreError
from rareflow.store import RunRecord, RunStore

MakeRecord = Callable[..., RunRecord]


def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``rareflow ARGS`` through the real entry point; return its exit code."""
    monkeypatch.setattr("sys.argv", ["rareflow", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 0


def tree(path: Path) -> dict[str, bytes | None]:
    """Every entry under ``path``: files with their bytes, directories as None."""
    return {
        p.relative_to(path).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(path.rglob("*"))
    }


@pytest.fixture
def two_runs(store: RunStore, make_record: MakeRecord, dataset: xr.Dataset) -> list[str]:
    return [store.save(make_record(name=n), dataset) for n in ("a", "b")]


def test_opening_deletes_nothing_it_does_not_know(
    store: RunStore,
    two_runs: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = store.path
    (path / "runs" / "notes").mkdir()
    (path / "runs" / "notes" / "mine.txt").write_text("a user's file")
    (path / "tmp" / "draft.csv").write_text("x,y\n")
    # A complete run that never reached the catalogue (a writer killed just after the rename).
    lost = "20261130T050904123456Z-1a2b3c4d"
    shutil.copytree(path / "runs" / two_runs[0], path / "runs" / lost)
    document = json.loads((path / "runs" / lost / "run.json").read_text())
    document["id"] = lost
    (path / "runs" / lost / "run.json").write_text(json.dumps(document))
    before = tree(path)
    assert cli(capsys, monkeypatch, "runs", "list", "--store", str(path), "--format", "json") == 0
    assert RunStore(path).list()
    after = tree(path)
    assert {k: v for k, v in before.items() if k != "lock"} == {
        k: v for k, v in after.items() if k != "lock"
    }
    problems = {p.path: p for p in store.verify()}
    assert problems["runs/notes"].severity == "warning"
    assert problems["tmp/draft.csv"].severity == "warning"
    assert "not written by rareflow" in problems["runs/notes"].message
    assert problems[f"runs/{lost}"].severity == "error"
    assert "not in the catalogue" in problems[f"runs/{lost}"].message
    # run.json changed, so its recorded checksum no longer matches: put back, then reported.
    store.repair()
    assert lost in {i.id for i in store.list()}
    assert (path / "runs" / "notes" / "mine.txt").read_text() == "a user's file"
    assert (path / "tmp" / "draft.csv").exists()
    assert any(
        p.run_id == lost and p.message.startswith("checksum mismatch") for p in store.verify()
    )


def test_lost_catalogue_is_refused_then_rebuilt(
    store: RunStore,
    two_runs: list[str],
    dataset: xr.Dataset,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = store.path
    infos = {i.id: i for i in store.list()}
    (path / "catalogue.duckdb").unlink()
    before = tree(path)
    assert cli(capsys, monkeypatch, "runs", "list", "--store", str(path)) == 2
    err = capsys.readouterr().err
    assert "lost its catalogue" in err
    assert "rareflow runs repair" in err
    assert "Traceback" not in err
    assert tree(path) == before
    assert cli(capsys, monkeypatch, "runs", "repair", "--store", str(path)) == 0
    rebuilt = RunStore(path)
    assert {i.id: i for i in rebuilt.list()} == infos
    assert rebuilt.verify() == []
    for run_id in two_runs:
        xr.testing.assert_identical(rebuilt.results(run_id), dataset)


def test_damaged_catalogue_is_a_clear_error_then_rebuilt(
    store: RunStore,
    two_runs: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = store.path
    catalogue = path / "catalogue.duckdb"
    data = bytearray(catalogue.read_bytes())
    for offset in range(4096, 4096 + 64):  # the first data block after the header
        data[offset] ^= 0xFF
    catalogue.write_bytes(bytes(data))
    assert cli(capsys, monkeypatch, "runs", "list", "--store", str(path)) == 2
    err = capsys.readouterr().err
    assert "cannot use the catalogue" in err
    assert "Traceback" not in err
    assert catalogue.read_bytes() == bytes(data)
    repaired = RunStore(path, repair=True)
    assert any("catalogue unreadable" in r.message for r in repaired.repairs)
    assert [i.id for i in repaired.list()] == two_runs
    [batch] = (path / "quarantine").iterdir()
    assert (batch / "catalogue.duckdb").read_bytes() == bytes(data)


def test_damaged_catalogue_row_is_a_clear_error(store: RunStore, two_runs: list[str]) -> None:
    import duckdb  # noqa: PLC0415 - only this test writes into a catalogue behind the store

    with duckdb.connect(str(store.path / "catalogue.duckdb")) as con:
        con.execute("UPDATE runs SET record = '{not json' WHERE id = ?", [two_runs[1]])
    with pytest.raises(StoreError, match="is damaged"):
        store.list()
    assert [i.id for i in RunStore(store.path, repair=True).list()] == two_runs


def test_interrupted_deletion_is_finished_into_quarantine(
    store: RunStore, two_runs: list[str]
) -> None:
    gone = two_runs[0]
    # A deletion killed after moving the run aside but before dropping its rows.
    (store.path / "runs" / gone).rename(store.path / "tmp" / f"deleted-{gone}")
    problems = store.verify()
    assert any("interrupted deletion" in p.message for p in problems)
    store.repair()
    assert [i.id for i in store.list()] == two_runs[1:]
    [batch] = (store.path / "quarantine").iterdir()
    assert (batch / "tmp" / f"deleted-{gone}" / "run.json").is_file()


def test_empty_store_path_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "precious.txt").write_text("keep me")
    for args in (("runs", "list", "--store", ""), ("runs", "verify", "--store", "  ")):
        assert cli(capsys, monkeypatch, *args) == 2
        assert "'--store': is empty" in capsys.readouterr().err
    with pytest.raises(StoreError, match="path is empty"):
        RunStore("")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]


def test_a_directory_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "runs").mkdir(parents=True)
    (home / "runs" / "thesis.tex").write_text("chapter 1")
    (home / "tmp").mkdir()
    (home / "tmp" / "scratch").write_text("x")
    before = tree(home)
    with pytest.raises(StoreError, match="is not a rareflow run store"):
        RunStore(home)
    assert tree(home) == before
    with pytest.raises(StoreError, match="is a file"):
        RunStore(home / "runs" / "thesis.tex")
    with pytest.raises(StoreError, match=r"parent directory .* does not exist"):
        RunStore(tmp_path / "missing" / "store")
