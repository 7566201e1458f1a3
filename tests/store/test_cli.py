"""``rareflow runs`` through typer's test runner."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
import xarray as xr
from typer.testing import CliRunner

from rareflow import __version__
from rareflow.cli import runs
from rareflow.errors import StoreError
from rareflow.provenance import code_version, git_commit, sources_hash
from rareflow.store import RunRecord, RunStore

MakeRecord = Callable[..., RunRecord]

app = typer.Typer()
app.add_typer(runs.app, name="runs")
runner = CliRunner()


@pytest.fixture
def saved(store: RunStore, make_record: MakeRecord, dataset: xr.Dataset) -> list[str]:
    return [store.save(make_record(name=n), dataset) for n in ("baseline", "ban")]


def invoke(*args: str) -> str:
    result = runner.invoke(app, ["runs", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_list_formats(store: RunStore, saved: list[str]) -> None:
    rows = json.loads(invoke("list", "--store", str(store.path), "--format", "json"))
    assert [r["id"] for r in rows] == saved
    assert [r["name"] for r in rows] == ["baseline", "ban"]
    table = list(
        csv.DictReader(io.StringIO(invoke("list", "--store", str(store.path), "--format", "csv")))
    )
    assert [r["id"] for r in table] == saved
    assert "baseline" in invoke("list", "--store", str(store.path))


def test_store_from_environment(
    store: RunStore, saved: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAREFLOW_STORE", str(store.path))
    assert [r["id"] for r in json.loads(invoke("list", "--format", "json"))] == saved


def test_show(store: RunStore, saved: list[str]) -> None:
    doc = json.loads(invoke("show", saved[1], "--store", str(store.path), "--format", "json"))
    assert doc["id"] == saved[1]
    assert doc["record"]["name"] == "ban"
    assert doc["record"]["summary"] == {"shortfall_t": 12.5, "years": [2030, 2035]}
    assert "sha256" in doc["files"][0]
    assert "scenario_given" in invoke("show", saved[1], "--store", str(store.path))


def test_unknown_and_hostile_ids_raise_store_errors(store: RunStore) -> None:
    result = runner.invoke(
        app, ["runs", "show", "20261130T050904123456Z-1a2b3c4d", "--store", str(store.path)]
    )
    assert isinstance(result.exception, StoreError)
    assert "no run" in str(result.exception)
    result = runner.invoke(app, ["runs", "delete", "../x", "--yes", "--store", str(store.path)])
    assert isinstance(result.exception, StoreError)
    assert "invalid run id" in str(result.exception)


def test_export(store: RunStore, saved: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("export", saved[0], "--to", str(out), "--store", str(store.path))
    assert (out / "data" / "supply.parquet").is_file()
    result = runner.invoke(
        app, ["runs", "export", saved[0], "--to", str(out), "--store", str(store.path)]
    )
    assert isinstance(result.exception, StoreError)
    invoke("export", saved[0], "--to", str(out), "--overwrite", "--store", str(store.path))


def test_verify(store: RunStore, saved: list[str]) -> None:
    assert json.loads(invoke("verify", "--store", str(store.path), "--format", "json")) == []
    (store.path / "runs" / saved[0] / "run.json").write_text("{}")
    result = runner.invoke(app, ["runs", "verify", "--store", str(store.path), "--format", "json"])
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)
    assert problem["run_id"] == saved[0]
    assert problem["problem"].startswith("checksum mismatch")


def test_delete(store: RunStore, saved: list[str]) -> None:
    result = runner.invoke(
        app, ["runs", "delete", saved[0], "--store", str(store.path)], input="n\n"
    )
    assert result.exit_code == 1
    assert len(store.list()) == 2
    invoke("delete", saved[0], "--yes", "--store", str(store.path))
    assert [i.id for i in store.list()] == [saved[1]]


def test_show_table_prints_bracketed_yaml_as_written(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    given = 'name: "[/]"\nshocks:\n  - forms: [oxide, metal, alloy, magnet]\n    note: "[bold]x"\n'
    run_id = store.save(make_record(name="[/]", scenario_given=given), dataset)
    out = invoke("show", run_id, "--store", str(store.path))
    assert "forms: [oxide, metal, alloy, magnet]" in out
    assert 'note: "[bold]x"' in out
    assert 'name: "[/]"' in out
    assert "[/]" in invoke("list", "--store", str(store.path))


def test_runs_record_the_code_they_were_made_with(tmp_path: Path) -> None:
    version = code_version()
    assert version.startswith(f"{__version__} ")
    assert version.endswith(f"sources:sha256:{sources_hash()[:16]}")
    package = Path(runs.__file__).resolve().parents[1]
    head = subprocess.run(
        ["git", "-C", str(package), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode == 0:
        assert f"git:{head.stdout.strip()}" in version
    # A copy of the sources outside any repository: no commit, and its own hash.
    copy = tmp_path / "pkg"
    copy.mkdir()
    (copy / "__init__.py").write_text("x = 1\n")
    assert git_commit(copy) is None
    first = sources_hash(copy)
    (copy / "__init__.py").write_text("x = 2\n")
    assert sources_hash(copy) != first
