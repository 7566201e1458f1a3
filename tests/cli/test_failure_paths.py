"""Issue 21 item 2: ordinary failure paths give one clear message naming the path or field and a
non-zero exit code, never a traceback; every output path follows one rule (its folder must exist).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from tests.data.test_trade import PLUS_HEADER, plus_row

from rareflow.cli import main
from rareflow.store import RunRecord, RunStore
from rareflow.store.codec import DatasetWriter

NO_RUN = "20200101T000000000000Z-00000000"


def _stored_run(store: Path) -> str:
    now = datetime.now(UTC)
    record = RunRecord(
        kind="run",
        name="tiny",
        scenario_given="",
        scenario_resolved="",
        data_version="test",
        code_version="test",
        seed=1,
        started_at=now,
        finished_at=now,
    )
    return RunStore(store).save(record, xr.Dataset({"x": ("draw", np.arange(3.0))}))


def cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``rareflow ARGS`` through the real entry point; any exception but SystemExit fails."""
    monkeypatch.setattr("sys.argv", ["rareflow", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 0


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


@pytest.fixture
def trade_file(tmp_path: Path) -> Path:
    path = tmp_path / "comtrade.csv"
    path.write_text("\n".join([PLUS_HEADER, plus_row("156", "CHN", "850511", "1000", "5000")]))
    return path


@pytest.fixture
def read_only(tmpfs: Callable[[str], Path]) -> Path:
    """A read-only file system (a tmpfs mounted ro); root ignores permission bits."""
    return tmpfs("ro,size=1m")


@pytest.fixture
def names(tmp_path: Path, a_file: Path, trade_file: Path) -> dict[str, object]:
    """What the commands' ``{placeholders}`` stand for; the store holds one run."""
    store = tmp_path / "store"
    run_id = _stored_run(store)
    return {"file": a_file, "tmp": tmp_path, "store": store, "trade": trade_file, "run": run_id}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("report", NO_RUN, "--out", "{file}/x.html"), "--out {file}/x.html: {file} is a file"),
        (("report", NO_RUN, "--out", "{tmp}/no/x.html"), "its folder {tmp}/no does not exist"),
        (("report", NO_RUN, "--figures", "{file}"), "--figures {file}: is a file, not a folder"),
        (("backtest", "2010", "--report", "{file}/x.html"), "--report {file}/x.html: {file} is"),
        (("calibrate", "2010", "--out", "{file}"), "Invalid value for '--out'"),
        (("calibrate", "2010", "--out", "{tmp}/no/c"), "--out {tmp}/no/c: its folder"),
        (("validate", "--report", "{tmp}/no/v.html"), "--report {tmp}/no/v.html: its folder"),
        (("runs", "export", "{run}", "--to", "{file}", "--store", "{store}"), "is a file"),
        (("runs", "export", "{run}", "--to", "{tmp}/no/x", "--store", "{store}"), "does not exist"),
        (("runs", "list", "--store", "{tmp}/no-store"), "there is no run store at {tmp}/no-store"),
        (("runs", "list", "--store", "{file}"), "is a file, not a directory"),
        (("run", "baseline", "--store", "{tmp}/no/s", "-n", "1"), "parent directory {tmp}/no"),
        (("run", "baseline", "--seed", "99999999999999999999"), "Invalid value for '--seed'"),
        (("sensitivity", "baseline", "--seed", str(2**63)), "Invalid value for '--seed'"),
        (("run", "{file}", "--no-store"), "a-file: expected a mapping"),
        (
            ("data", "import-trade", "{trade}", "--source-id", "x", "--data-dir", "{tmp}/no/d"),
            "its folder {tmp}/no does not exist",
        ),
        (
            ("data", "import-trade", "{trade}", "--source-id", "x", "--data-dir", "{file}"),
            "--data-dir {file}: is a file",
        ),
    ],
)
def test_failure_is_one_clear_message(
    args: tuple[str, ...],
    expected: str,
    names: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "store" not in p.parts)
    assert cli(monkeypatch, *(a.format(**names) for a in args)) == 2
    err = capsys.readouterr().err
    assert expected.format(**names) in " ".join(err.split()), err
    assert "Traceback" not in err
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "store" not in p.parts)
    assert after == before  # nothing written, no folder created


@pytest.mark.parametrize(
    "args",
    [
        ("data", "import-trade", "{trade}", "--source-id", "x", "--data-dir", "{ro}"),
        ("runs", "export", "{run}", "--to", "{ro}/out", "--store", "{store}"),
        ("report", "baseline", "-n", "1", "-q", "--no-store", "--out", "{ro}/r.html"),
        ("run", "baseline", "-n", "1", "--quiet", "--store", "{ro}"),
    ],
)
def test_read_only_disk_is_a_clear_error(
    args: tuple[str, ...],
    names: dict[str, object],
    read_only: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(monkeypatch, *(a.format(ro=read_only, **names) for a in args)) == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err, err
    assert str(read_only) in err
    assert list(read_only.iterdir()) == []


def test_full_disk_during_a_store_write_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert cli(monkeypatch, "run", "baseline", "-n", "2", "--quiet", "--store", str(store)) == 0
    capsys.readouterr()

    def full(self: DatasetWriter, chunk: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(store / "tmp" / "x"))

    monkeypatch.setattr(DatasetWriter, "write", full)
    for command in ("run", "ensemble"):
        args = (command, "baseline", "-n", "2", "--quiet", "--store", str(store))
        assert cli(monkeypatch, *args) == 2
        err = capsys.readouterr().err
        assert "No space left on device; this run was not saved" in err
    assert len(RunStore(store).list()) == 1
    assert list((store / "tmp").iterdir()) == []
    assert RunStore(store).verify() == []


def test_a_scenario_named_with_brackets_runs_and_prints_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text('name: "[/]"\ncountry: IND\nstart: 2025-01\nhorizon_months: 3\ndraws: 2\n')
    store = str(tmp_path / "store")
    assert cli(monkeypatch, "run", str(scenario), "--store", store) == 0
    out, err = capsys.readouterr()
    assert "[/]" in out + err
    assert [i.record.name for i in RunStore(store).list()] == ["[/]"]
    assert cli(monkeypatch, "runs", "list", "--store", store) == 0
    assert "[/]" in capsys.readouterr().out


def test_a_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        f"'{sys.executable}' -m rareflow data show trade --format csv | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert len(done.stdout) == 10
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
