"""The engine on the default chain: reproducible, chunk-invariant, and sensible in direction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario


def _run(name: str, draws: int = 20, seed: int = 1) -> xr.Dataset:
    return run(with_overrides(load_scenario(name), draws=draws, seed=seed)).results


def _variant(name: str, **changes: object) -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    return Scenario.model_validate(data)


def test_baseline_has_no_shortfall() -> None:
    res = _run("baseline")
    assert float(res.shortfall.max()) < 1e-9 * float(res.requirement.max())
    assert float(res.price_multiple.max()) == pytest.approx(1.0)


def test_same_seed_same_results_different_seed_different_draws() -> None:
    a = _run("china-2025-april", seed=3)
    b = _run("china-2025-april", seed=3)
    c = _run("china-2025-april", seed=4)
    xr.testing.assert_identical(a, b)
    assert not np.allclose(a.shortfall.sum(["time", "sector"]), c.shortfall.sum(["time", "sector"]))


def test_draws_do_not_depend_on_chunking() -> None:
    sc = with_overrides(load_scenario("china-2025-october"), draws=12, seed=9)
    whole = run(sc).results
    parts = xr.concat(
        [run(sc, draws=np.arange(a, b)).results for a, b in ((0, 5), (5, 12))], dim="draw"
    )
    xr.testing.assert_identical(whole, parts)


def test_april_controls_cut_supply_after_april_2025() -> None:
    res = _run("china-2025-april")
    monthly = res.shortfall.sum("sector").median("draw").to_series()
    assert monthly[:"2025-04"].max() == 0.0
    # Industry's 11-16 weeks of cover (inventories.csv) carry it into the summer.
    assert monthly["2025-09":"2025-12"].min() > 0.0
    refused = res.refused.sel(material="magnet_ndfeb_sintered").sum("time")
    assert float(refused.min()) > 0
    # Bonded NdFeB carries no Dy in its typical composition, so it needs no licence.
    assert float(res.refused.sel(material="magnet_ndfeb_bonded").max()) == 0.0


def test_priority_tiers_are_served_first() -> None:
    # A short cover (3 weeks) so that every draw is short; ev_car first.
    sc = _variant(
        "china-2025-april",
        allocation={"priority": [["ev_car"]]},
        parameters={"industry_cover_weeks": 3.0},
        draws=10,
    )
    res = run(sc).results
    short = res.shortfall.sum("time") / res.requirement.sum("time")
    assert float(short.sel(sector="ev_car").max()) < float(short.sel(sector="two_wheeler").min())


def test_longer_stock_cover_never_raises_shortfall() -> None:
    totals = []
    for weeks in (1.0, 4.0, 12.0):
        sc = _variant("china-2025-april", parameters={"industry_cover_weeks": weeks}, draws=5)
        totals.append(float(run(sc).results.shortfall.sum()))
    assert totals[0] >= totals[1] >= totals[2]


def test_run_command_json_gives_shortfall_by_sector(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rareflow",
            "run",
            "china-2025-april",
            "--draws",
            "50",
            "--seed",
            "1",
            "--format",
            "json",
            "--store",
            store,
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    sectors = {s["sector"]: s for s in doc["sectors"]}
    assert "ev_car" in sectors
    assert "two_wheeler" in sectors
    ev = sectors["ev_car"]
    for key in (
        "first_month",
        "months_in_shortfall",
        "peak_monthly_shortfall_t",
        "peak_monthly_shortfall_pct",
        "cumulative_shortfall_t",
        "cumulative_shortfall_pct",
    ):
        assert set(ev[key]) == {"median", "p5", "p95"}
    assert ev["first_month"]["median"] >= "2025-04"
    listed = subprocess.run(
        [sys.executable, "-m", "rareflow", "runs", "list", "--store", store, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert doc["run_id"] in listed.stdout
