"""``--country`` on ``rareflow run``: other focal countries, refusals, and the partners named."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from rareflow.analysis.summary import partner_additions
from rareflow.cli import app
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario

runner = CliRunner()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would (errors go through its handler)."""
    return subprocess.run(
        [sys.executable, "-m", "rareflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "250"},
    )


def _json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["run", *args, "--no-store", "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_the_us_runs_with_its_own_sectors_and_gaps() -> None:
    doc = _json("china-2025-april", "--country", "usa", "--draws", "8")
    assert doc["country"] == "USA"
    sectors = {row["sector"] for row in doc["sectors"]}  # type: ignore[attr-defined]
    # Cox/KBB electric cars and ACP wind are the US's cited sectors.
    assert sectors == {"ev_car", "wind"}
    gaps = doc["data_gaps"]
    assert any("demand_growth.csv" in g for g in gaps)  # type: ignore[attr-defined]
    india = _json("china-2025-april", "--draws", "8")
    assert india["sectors"] != doc["sectors"]


@pytest.mark.parametrize(
    ("code", "sectors", "region"), [("DEU", {"ev_car", "wind"}, "EUU"), ("JPN", {"ev_car"}, "JPN")]
)
def test_germany_and_japan_run_with_their_cited_sectors(
    code: str, sectors: set[str], region: str
) -> None:
    doc = _json("china-2025-april", "--country", code, "--draws", "8")
    assert {row["sector"] for row in doc["sectors"]} == sectors  # type: ignore[attr-defined]
    notes = " ".join(doc["notes"])  # type: ignore[arg-type]
    assert f"{code} competes as {region}" in notes
    # The preset's licence phases are India's: the run says so, with the region's 2025 delay.
    gaps = " ".join(doc["data_gaps"])  # type: ignore[arg-type]
    assert f"licence phases were written for IND and apply to {code}" in gaps
    assert f"{region}'s first licences came after" in gaps


def test_a_country_without_data_is_refused_with_every_missing_table() -> None:
    result = _cli("run", "china-2025-april", "--country", "KOR", "--no-store")
    assert result.returncode == 2
    assert "sector_activity.csv" in result.stderr
    assert "inventories.csv" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("code", ["US", "1ND", "INDIA"])
def test_a_code_that_is_not_alpha_3_is_refused(code: str) -> None:
    result = _cli("run", "china-2025-april", "--country", code, "--no-store")
    assert result.returncode == 2
    assert "alpha-3" in result.stderr


def test_india_names_the_partners_that_fill_the_gap() -> None:
    doc = _json("china-2025-april", "--draws", "8")
    added = {row["partner"]: row for row in doc["partners_adding"]}  # type: ignore[attr-defined]
    # Japan carries two thirds of the non-Chinese magnet supply (0.10 of 0.15) and so of the surge.
    assert added["JPN"]["added_t"]["median"] > added["ROW"]["added_t"]["median"] > 0
    assert sum(row["share"] for row in added.values()) == pytest.approx(1.0)


def test_small_partners_are_pooled_unless_a_scenario_names_them() -> None:
    base = with_overrides(load_scenario("china-2025-april"), draws=2)
    pooled = compile_scenario(base)
    assert "THA" not in pooled.network.partners
    assert any("pooled into ROW" in n and "THA" in n for n in pooled.notes)
    every = compile_scenario(
        base.model_copy(
            update={"parameters": base.parameters.model_copy(update={"partner_min_share": 0.0})}
        )
    )
    assert {"THA", "BRA", "MDG"} <= set(every.network.partners)
    # Pooling moves shares, never loses them: each commodity's shares still sum to one.
    np.testing.assert_allclose(pooled.network.share.sum(axis=0), every.network.share.sum(axis=0))


def test_partner_additions_is_empty_without_shipments() -> None:
    res = run(with_overrides(load_scenario("baseline"), draws=2), keep_partners=False).results
    assert partner_additions(res) == []
