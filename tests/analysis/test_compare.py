"""Fair comparison: each scenario against its own shock alone, on one shared window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import xarray as xr

from rareflow import dims
from rareflow.analysis.compare import common_window, compare_to_shock, paired_effect, shock_alone
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import draw_scalars
from rareflow.data.load import load_dataset
from rareflow.engine.run import run
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario, preset_names
from rareflow.scenario.schema import Scenario


def _scenario(name: str, draws: int = 6, **changes: Any) -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 3, **changes})
    return Scenario.model_validate(data)


def _runner(log: list[Scenario]) -> Any:
    def run_one(sc: Scenario) -> xr.Dataset:
        log.append(sc)
        return run(sc).results

    return run_one


def test_window_is_the_longest_horizon_and_every_run_uses_it() -> None:
    shock = _scenario("china-2025-april")  # 36 months
    lever = _scenario("china-2025-april+magnet-scheme")  # 60 months
    log: list[Scenario] = []
    doc = compare_to_shock([shock, lever], _runner(log))
    assert doc["window"] == {
        "label": "2025-01 to 2029-12 (60 months)",
        "start": "2025-01",
        "months": 60,
        "aligned": ["china-2025-april: 60 months (its own horizon 36)"],
    }
    assert {sc.horizon_months for sc in log} == {60}
    # The plain shock, run on the window, serves as the lever scenario's shock alone.
    assert len(log) == 2


def test_shock_alone_keeps_the_shock_and_drops_the_levers() -> None:
    lever = _scenario("china-2025-april+magnet-scheme")
    log: list[Scenario] = []
    compare_to_shock([lever], _runner(log))
    alone = [sc for sc in log if sc.name.endswith("-shock-alone")]
    assert len(alone) == 1
    assert not alone[0].levers
    assert alone[0].shocks == lever.shocks


def test_effect_is_the_paired_difference_with_the_shock_alone() -> None:
    lever = _scenario("china-2025-april+stockpile")
    doc = compare_to_shock([lever], _runner([]))
    row = doc["rows"][0]
    with_lever = run(lever).results["shortfall"].sum([dims.SECTOR, dims.TIME]).to_numpy()
    without = run(shock_alone(lever)).results["shortfall"].sum([dims.SECTOR, dims.TIME])
    avoided = without.to_numpy() - with_lever
    assert row["avoided_t"]["median"] == pytest.approx(float(np.median(avoided)))
    assert row["shock_alone_shortfall_t"]["median"] == pytest.approx(
        float(np.median(without.to_numpy()))
    )
    # A stockpile released into a shortfall avoids some of it, at a cost.
    assert row["avoided_t"]["median"] > 0
    assert row["lever_cost_inr_crore"]["median"] > 0
    per_t = row["cost_per_t_avoided_inr_crore"]["median"]
    assert per_t is not None
    assert per_t > 0


def test_a_shock_shared_by_several_lever_scenarios_runs_once() -> None:
    names = ["china-2025-april", "china-2025-april+stockpile", "china-2025-april+supply-contract"]
    log: list[Scenario] = []
    compare_to_shock([_scenario(n) for n in names], _runner(log))
    assert len(log) == 3  # the plain shock serves as the shock alone of both lever scenarios


def test_different_starts_are_aligned_onto_one_window() -> None:
    a = _scenario("china-2025-april")  # 2025-01, 36 months
    # The same scenario written to start a year later, for 24 months: on the window it is a.
    b = a.model_copy(update={"name": "later", "start": a.start.replace(year=2026),
                             "horizon_months": 24})  # fmt: skip
    window = common_window([a, b])
    assert (window.start.isoformat(), window.months) == ("2025-01-01", 36)
    log: list[Scenario] = []
    doc = compare_to_shock([a, b], _runner(log))
    assert doc["window"]["label"] == "2025-01 to 2027-12 (36 months)"
    assert doc["window"]["aligned"] == [
        "later: run from 2025-01 (its own start 2026-01; its shocks and levers keep their "
        "dates), 36 months (its own horizon 24)"
    ]
    assert {(sc.start.isoformat(), sc.horizon_months) for sc in log} == {("2025-01-01", 36)}
    first, second = doc["rows"]
    assert first["shortfall_t"] == second["shortfall_t"]
    assert first["requirement_t"] == second["requirement_t"]


def test_window_runs_from_the_earliest_start_to_the_latest_end() -> None:
    a = _scenario("china-2025-april", horizon_months=12)  # 2025-01 to 2025-12
    b = a.model_copy(update={"name": "b", "start": a.start.replace(year=2027),
                             "horizon_months": 6})  # fmt: skip
    window = common_window([a, b])
    assert window.label == "2025-01 to 2027-06 (30 months)"


def test_different_steps_are_refused_with_each_step() -> None:
    a = _scenario("china-2025-april")
    b = a.model_copy(update={"name": "quarterly", "step_months": 3})
    with pytest.raises(InputError, match=r"china-2025-april: step 1.*quarterly: step 3"):
        common_window([a, b])


def test_forward_presets_exist_with_levers_on_the_repeat() -> None:
    names = set(preset_names())
    assert {"repeat-2029", "ndpr-2028", "embargo-2030"} <= names
    levers = {n.split("+", 1)[1] for n in names if n.startswith("china-2025-april+")}
    assert {n.split("+", 1)[1] for n in names if n.startswith("repeat-2029+")} == levers


def test_ndpr_control_reaches_the_magnet_schemes_feed() -> None:
    """Under an Nd/Pr licence, the scheme's plants wait for NdPr oxide like magnet importers do."""
    scheme = _scenario("ndpr-2028+magnet-scheme", draws=4)
    free = _scenario("ndpr-2028+magnet-scheme", draws=4, shocks=[])
    refused = run(scheme).results["refused"].sum([dims.DRAW, dims.TIME])
    assert float(refused.sel({dims.MATERIAL: "oxide_ndpr"})) > 0
    assert float(run(free).results["refused"].sum()) == 0


def test_compare_command_json_and_csv() -> None:
    env = {**os.environ, "COLUMNS": "250"}
    args = [sys.executable, "-m", "rareflow", "compare", "china-2025-april",
            "china-2025-april+stockpile", "--draws", "6", "--quiet"]  # fmt: skip
    out = subprocess.run([*args, "--format", "json"], capture_output=True, text=True, env=env,
                         check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["window"]["months"] == 36
    names = [r["scenario"] for r in doc["rows"]]
    assert names == ["china-2025-april", "china-2025-april+stockpile"]
    assert "avoided_t" in doc["rows"][1]
    assert "avoided_t" not in doc["rows"][0]
    out = subprocess.run([*args, "--format", "csv"], capture_output=True, text=True, env=env,
                         check=False)  # fmt: skip
    header, _first, second = out.stdout.strip().splitlines()
    assert "avoided_t_median" in header.split(",")
    float(second.split(",")[header.split(",").index("avoided_t_p95")])  # numeric


def test_value_saved_and_benefit_cost_are_paired_draw_by_draw() -> None:
    """Value saved is the paired difference of the summary's value lost; the ratios are taken
    draw by draw, so their medians are not ratios of medians."""
    lever = _scenario("china-2025-april+stockpile", draws=8)
    values = sector_values(load_dataset(), lever.country)
    doc = compare_to_shock([lever], _runner([]), values=lambda sc: values)
    row = doc["rows"][0]
    res, alone = run(lever).results, run(shock_alone(lever)).results

    def lost(r: xr.Dataset) -> np.ndarray:
        value = draw_scalars(r, lever.step_months, values)["value_lost_inr_crore"]
        return value.sum(dims.SECTOR, skipna=True).to_numpy()

    saved = lost(alone) - lost(res)
    assert row["value_saved_inr_crore"]["median"] == pytest.approx(float(np.median(saved)))
    cost = res["lever_cost"].sum(["time", "lever", "component"]).to_numpy()
    cost = cost * res["lever_cost"].attrs["inr_per_usd"] / 1e7
    assert row["benefit_cost_ratio"]["median"] == pytest.approx(float(np.median(saved / cost)))
    # Cost per rupee saved: over the draws where the lever saves something (since the 2026-12
    # data some draws are never short, and save nothing).
    helped = saved > 1e-9
    assert row["cost_per_inr_saved"]["median"] == pytest.approx(
        float(np.median(cost[helped] / saved[helped]))
    )
    assert row["benefit_cost_ratio"]["p5"] <= row["benefit_cost_ratio"]["p95"]
    # Units saved are by sector, each in its own unit, never summed across sectors.
    assert row["units_saved"]["wind"]["unit"] == "MW"
    assert row["units_saved"]["two_wheeler"]["unit"] == "units"
    # Physical shortfall avoided: magnets sought and not available.
    physical = (alone.demand - alone.delivered).sum() - (res.demand - res.delivered).sum()
    assert row["physical_avoided_t"]["median"] is not None
    assert float(physical) != 0.0
    effect = paired_effect(res, alone, lever.step_months, values)
    assert effect["value_saved_inr_crore"] == row["value_saved_inr_crore"]
    with pytest.raises(InputError, match="draw by draw on one window"):
        paired_effect(res, alone.isel(time=slice(0, 12)), lever.step_months, values)
