"""Issue 21 item 6: CSV is numeric with one value per column, `optimize` writes all its tables,
and no text cell can run as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rareflow.app.downloads import results_csv
from rareflow.cli import main
from rareflow.cli.output import Format, emit, neutralise

MONTH = re.compile(r"\A\d{4}-\d{2}\Z")


def csv_of(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> list[dict[str, str]]:
    monkeypatch.setattr("sys.argv", ["rareflow", *args, "--format", "csv"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in (0, None)
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_plain(rows: list[dict[str, str]], text_columns: set[str]) -> None:
    assert rows
    for row in rows:
        for column, cell in row.items():
            if column in text_columns:
                continue
            assert cell == "" or _is_number(cell) or MONTH.match(cell), (column, cell)


@pytest.mark.parametrize("command", ["run", "ensemble"])
def test_run_and_ensemble_csv_is_one_number_per_column(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = csv_of(
        monkeypatch, capsys, command, "china-2025-april+stockpile", "-n", "4", "--no-store", "-q"
    )
    assert_plain(rows, {"sector"})
    for spread in ("months_in_shortfall", "cumulative_shortfall_t", "cumulative_shortfall_pct"):
        for row in rows:
            low, mid, high = (float(row[f"{spread}_{s}"]) for s in ("p5", "median", "p95"))
            assert low <= mid <= high
    assert all(0 <= float(r["share_of_draws_short"]) <= 1 for r in rows)
    if command == "ensemble":  # a lever: its cost in US$, spread in three columns
        assert all(float(r["lever_cost_usd_median"]) > 0 for r in rows)


def test_optimize_csv_holds_all_five_tables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("optimize", "china-2025-april", "--until", "2026", "-n", "2", "--no-store", "-q")
    rows = csv_of(monkeypatch, capsys, *args)
    assert {r["table"] for r in rows} == {"mix", "validation", "choice", "singles", "pareto"}


def test_text_cells_never_run_as_formulas(capsys: pytest.CaptureFixture[str]) -> None:
    cells = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "-5", "+1e3", "plain"]
    emit([{"value": c, "number": -1.5} for c in cells], Format.CSV)
    out = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["value"] for r in out] == [
        "'=1+1",
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "-5",
        "+1e3",
        "plain",
    ]
    assert {r["number"] for r in out} == {"-1.5"}
    assert neutralise("a=b") == "a=b"


def test_dashboard_csv_neutralises_labels_from_scenarios() -> None:
    lever = '=HYPERLINK("http://example.com","x")'
    results = xr.Dataset(
        {"lever_cost": (("draw", "time", "lever"), np.ones((2, 2, 2)), {"unit": "USD"})},
        coords={
            "draw": [0, 1],
            "time": pd.date_range("2025-01-01", periods=2, freq="MS"),
            "lever": [lever, "stockpile"],
        },
    )
    rows = list(csv.DictReader(io.StringIO(results_csv(results).decode())))
    assert {r["lever"] for r in rows} == {f"'{lever}", "stockpile"}
    assert {r["p50"] for r in rows} == {"1.0"}
