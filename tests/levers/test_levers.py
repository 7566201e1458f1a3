"""Levers: each preset runs, effects point the right way, and the cost accounting adds up."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import read_rows

from rareflow.analysis.costs import cost_table
from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.load import load_scenario, parse_scenario, preset_names
from rareflow.scenario.schema import Scenario

LEVER_PRESETS = [p for p in preset_names() if p.startswith("china-2025-april+")]


def _scenario(name: str, draws: int = 8, **changes: Any) -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 5, **changes})
    return Scenario.model_validate(data)


def _cumulative(sc: Scenario) -> float:
    res = run(sc).results
    return float(res.shortfall.sum())


def test_every_lever_type_has_a_preset() -> None:
    types = {str(c.model_fields["type"].default) for c in LEVER_TYPES}
    named = {p.split("+", 1)[1].replace("-", "_") for p in LEVER_PRESETS}
    assert types <= named


def _inr_per_usd_2025() -> float:
    """The 2025 rate read straight from exchange_rates.csv (not through the cost code)."""
    rows = [
        r for r in read_rows("exchange_rates") if r["year"] == "2025" and r["choice"] == "chosen"
    ]
    assert len(rows) == 1
    return float(rows[0]["value"])


@pytest.mark.slow
@pytest.mark.parametrize("preset", LEVER_PRESETS)
def test_lever_presets_run_and_state_costs_at_the_2025_rate(preset: str) -> None:
    res = run(_scenario(preset)).results
    assert float(res.shortfall.min()) >= 0.0
    assert "lever_cost" in res  # every lever preset has levers, so a cost table
    rate = _inr_per_usd_2025()
    assert res["lever_cost"].attrs["inr_per_usd"] == rate
    total = next(r for r in cost_table(res) if r["lever"] == "all")
    assert total["inr_crore"] == pytest.approx(total["usd_million"] * 1e6 * rate / 1e7)


def test_capacity_capex_is_paid_over_the_year_before_first_output() -> None:
    # Derived from the lever's documented rule, not its code: capex_inr_crore is paid evenly
    # over the twelve months before `online`, converted at the 2025 rate.
    sc = _scenario(
        "china-2025-april+capacity",
        draws=2,
        levers=[
            {"type": "capacity", "process": "metal_ndpr", "t_per_year": 100,
             "online": "2026-04", "capex_inr_crore": 120.0},
        ],
    )  # fmt: skip
    capex = run(sc).results["lever_cost"].sel(component="capex").isel(lever=0)
    per_month = 120.0 * 1e7 / _inr_per_usd_2025() / 12
    months = capex["time"].dt.strftime("%Y-%m").to_numpy()
    paying = {m for m, v in zip(months, capex.isel(draw=0).to_numpy(), strict=True) if v > 0}
    assert paying == {f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(4, 13)]
                      + [(2026, m) for m in range(1, 4)]}  # fmt: skip
    np.testing.assert_allclose(capex.sel(time=capex["time"].dt.strftime("%Y-%m").isin(
        sorted(paying))).to_numpy(), per_month, rtol=1e-12)  # fmt: skip


def _stockpile_shortfall(months: float) -> float:
    """Mean cumulative shortfall per draw of the April stockpile preset at a target, 100 draws."""
    sc = load_scenario("china-2025-april+stockpile").model_dump(mode="json", by_alias=True)
    sc["levers"][0]["target_months"] = months
    return (
        _cumulative(_scenario("china-2025-april+stockpile", draws=100, levers=sc["levers"])) / 100
    )


def test_a_larger_stockpile_up_to_three_months_lowers_cumulative_shortfall() -> None:
    # Over 100 draws (8 draws' paths cross the release trigger by chance, so a handful of draws
    # can order two close targets either way; the earlier property test drew such a pair).
    shortfalls = [_stockpile_shortfall(m) for m in (0.0, 1.0, 2.0, 3.0)]
    assert all(b < a for a, b in itertools.pairwise(shortfalls)), shortfalls


@pytest.mark.xfail(
    strict=True,
    reason="known defect (README Status): a stockpile still filling when the control starts keeps "
    "buying while stocks cover need, drawing down the industry's own buffer, and releases only "
    "below the trigger, so 6 months of target leave more shortfall than 3",
)
def test_a_six_month_stockpile_is_no_worse_than_three_months() -> None:
    assert _stockpile_shortfall(6.0) <= _stockpile_shortfall(3.0)


@settings(max_examples=5, deadline=None)
@given(offset=st.integers(1, 12))
def test_capacity_that_arrives_earlier_never_raises_shortfall(offset: int) -> None:
    levers = [
        {
            "type": "magnet_scheme",
            "award": "2025-06",
            "build_years": 0.5,
            "capacity_t_per_year": 2000,
        }
    ]
    late = _cumulative(_scenario("china-2025-april", levers=levers))
    levers[0]["award"] = f"{2025 - (1 if offset > 5 else 0)}-{(6 - offset - 1) % 12 + 1:02d}"
    early = _cumulative(_scenario("china-2025-april", levers=levers))
    assert early <= late * (1 + 1e-9) + 1e-9


def test_supply_contract_partner_reliability_follows_groupings() -> None:
    levers = [
        {
            "type": "supply_contract",
            "partner": "JPN",
            "t_per_year": 120,
            "start": "2025-01",
            "ramp_months": 0,
        }
    ]
    net = compile_scenario(_scenario("baseline", draws=2, levers=levers)).network
    jpn = net.partners.index("JPN")
    # Japan shares the Quad and the MSP with India: 95% of 10 t a month arrives.
    assert net.contract[0, 0, jpn].sum() == pytest.approx(10 * 0.95)


def test_bad_lever_fields_are_named() -> None:
    text = "name: x\nlevers:\n  - type: supply_contract\n    partner: CHN\n    t_per_year: 5\n"
    with pytest.raises(ScenarioError, match=r"levers\[0\]"):
        parse_scenario(text + "    start: 2025-01\n")
    with pytest.raises(ScenarioError, match="target_months and target_t"):
        parse_scenario("name: x\nlevers:\n  - type: stockpile\n")


def test_compare_and_lever_commands() -> None:
    env = {**os.environ, "COLUMNS": "250"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rareflow",
            "compare",
            "china-2025-april",
            "china-2025-april+stockpile",
            "--draws",
            "10",
            "--format",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)["rows"]
    assert [d["scenario"] for d in doc] == ["china-2025-april", "china-2025-april+stockpile"]
    assert doc[1]["costs"]
    assert not doc[0]["costs"]
    listed = subprocess.run(
        [sys.executable, "-m", "rareflow", "lever", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert {"stockpile", "supply_contract", "magnet_scheme", "capacity"} <= {
        r["lever"] for r in json.loads(listed.stdout)
    }
    shown = subprocess.run(
        [sys.executable, "-m", "rareflow", "lever", "show", "stockpile", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    params = {r["parameter"]: r for r in json.loads(shown.stdout)}
    assert params["release_trigger"]["default"] == 0.9
    assert "supply falls" in params["release_trigger"]["meaning"]


def test_two_contracts_with_one_partner_each_pay_on_their_own_volume() -> None:
    one = {
        "type": "supply_contract",
        "partner": "JPN",
        "t_per_year": 120,
        "start": "2025-01",
        "ramp_months": 0,
        "price_usd_per_kg": 50,
        "premium": 0.2,
    }
    alone = run(_scenario("baseline", draws=2, levers=[one])).results["lever_cost"]
    both = run(_scenario("baseline", draws=2, levers=[one, {**one, "t_per_year": 360}]))
    cost = both.results["lever_cost"].sel(component="premium").sum(["draw", "time"])
    first = float(alone.sel(component="premium").sum())
    assert float(cost.isel(lever=0)) == pytest.approx(first)
    assert float(cost.isel(lever=1)) == pytest.approx(3 * first)


def test_separation_capacity_is_stated_in_oxide() -> None:
    net = compile_scenario(_scenario("baseline", draws=2)).network
    sep = next(p for p in net.processes if p.id == "separation_ndpr")
    made = net.capacity[0, 0, 0] * 12 * sep.outputs["oxide_ndpr"]
    # IREL: about 40 t/yr of NdPr oxide (facilities.csv; the 500 t/yr is the scheme's allocation).
    assert made == pytest.approx(40.0)
