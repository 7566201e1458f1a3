"""End-to-end: ``rareflow stocks`` and recycling in ``rareflow indicators``, as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from rareflow.cli import main


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Run the CLI's entry point in this process: exit code, standard output and error."""
    monkeypatch.setattr(sys, "argv", ["rareflow", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess with a wide terminal."""
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "rareflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_stocks_json_has_sectors_elements_spread_and_sources() -> None:
    result = run("stocks", "--country", "IND", "--format", "json", "--draws", "50")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["country"], doc["year"], doc["draws"]) == ("IND", 2025, 50)
    rows = doc["stocks"]
    sectors = {r["sector"] for r in rows}
    assert {"wind", "electronics", "two_wheeler", "total"} <= sectors
    for sector in sectors:
        items = {r["item"] for r in rows if r["sector"] == sector}
        assert items == {"magnet", "Nd", "Pr", "Dy", "Tb"}
    for r in rows:
        assert r["p5"] <= r["median"] <= r["p95"]
        assert r["unit"] in {"t_magnet", "t_metal"}
    nd_total = next(r for r in rows if r["sector"] == "total" and r["item"] == "Nd")
    assert nd_total["p5"] < nd_total["p95"]  # draws over the inputs' ranges spread it
    bases = {s["basis"] for s in doc["sources"]}
    assert bases == {"cited", "derived", "assumption"}
    assert all(s["source_id"] and s["input"] for s in doc["sources"])
    assert {r["resource"] for r in doc["secondary_resources"]} == {"e_waste", "fly_ash", "red_mud"}
    assert doc["recycling_target"] is None


def test_stocks_table_and_csv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = in_process(
        monkeypatch, capsys, "stocks", "--country", "ind", "--draws", "20", "--year", "2030"
    )
    assert code == 0, err
    assert "at the end of 2030" in out
    assert "Inputs and their sources" in out
    assert "note: Tb is 0" in err
    code, out, err = in_process(
        monkeypatch, capsys, "stocks", "--country", "IND", "--draws", "20", "--format", "csv"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"sector", "item", "unit", "median", "p5", "p95"} <= set(rows[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--country", "XYZ"), "unknown country 'XYZ'"),
        (("--country", "KOR"), "no sector activity for KOR"),
        (("--country", "IND", "--by", "2035"), "--recycling-target and --by go together"),
        (("--country", "IND", "--year", "1900"), "Invalid value for '--year'"),
    ],
)
def test_bad_input_is_one_clear_message(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    code, _, err = in_process(monkeypatch, capsys, "stocks", *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_recycling_target_grid_in_json() -> None:
    result = run(
        "stocks",
        "--country",
        "IND",
        "--draws",
        "10",
        "--recycling-target",
        "0.25",
        "--by",
        "2035",
        "--target-draws",
        "1",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    target = json.loads(result.stdout)["recycling_target"]
    assert (target["target"], target["by"], target["scenario"]) == (
        0.25,
        2035,
        "recycling-quarter-2035",
    )
    assert len(target["points"]) == 20
    ceiling = target["points"][-1]
    assert (ceiling["collection"], ceiling["preprocessing"], ceiling["recovery"]) == (1.0, 1.0, 1.0)
    as_given = target["points"][0]
    assert as_given["first_month"] is None
    assert ceiling["share_in_year"]["median"] > as_given["share_in_year"]["median"]
    assert "25%" in target["verdict"]


def test_indicators_report_recycled_share_and_eol_rir(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = in_process(
        monkeypatch,
        capsys,
        *("indicators", "recycling-quarter-2035", "--draws", "4", "--format", "json", "-q"),
    )
    assert code == 0, err
    doc = json.loads(out)
    rows = [r for r in doc["run_indicators"] if r["variant"] == "as given"]
    assert {"recycled_share", "eol_rir"} <= {r["indicator"] for r in rows}
    recycling = doc["recycling"]["as given"]
    years = [r["year"] for r in recycling["by_year"]]
    assert years == list(range(2025, 2036))
    assert recycling["by_year"][0]["recycled_share"]["median"] == 0.0
    assert recycling["by_year"][-1]["recycled_share"]["median"] > 0.0
    assert recycling["benchmark"] == 0.25
    assert "without levers" not in doc["recycling"]
