"""Finance: NPV/IRR maths, the investment rule, and the lever's effect and cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.model.finance import Instruments, Project, appraise, irr, npv
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+finance"


def _scenario(levers: list[dict[str, Any]], draws: int = 16, horizon: int = 180) -> Scenario:
    data = load_scenario("china-2025-april").model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 3, "levers": levers, "horizon_months": horizon})
    return Scenario.model_validate(data)


def _lever(**changes: Any) -> dict[str, Any]:
    lever = load_scenario(PRESET).model_dump(mode="json", by_alias=True)["levers"][0]
    lever.update(changes)
    return dict(lever)


def _added(sc: Scenario) -> np.ndarray:
    net = compile_scenario(sc).network
    base = compile_scenario(_scenario([], sc.draws, sc.horizon_months)).network
    return np.asarray(net.capacity[:, :, 0] - base.capacity[:, :, 0])


def test_npv_and_irr_of_a_known_project() -> None:
    assert npv(np.array([[-100.0, 110.0]]), 0.1)[0] == pytest.approx(0.0, abs=1e-12)
    rates = irr(np.array([[-100.0, 110.0, 0.0, 0.0], [-100.0, 50.0, 50.0, 50.0]]))
    assert rates[0] == pytest.approx(0.10, abs=1e-9)
    # Three annual 50s on 100: r solves 50/(1+r) + 50/(1+r)^2 + 50/(1+r)^3 = 100.
    assert npv(np.array([[-100.0, 50.0, 50.0, 50.0]]), rates[1])[0] == pytest.approx(0, abs=1e-6)
    assert np.isnan(irr(np.array([[100.0, 10.0]])))[0]


def _project(d: dict[str, float]) -> tuple[Project, Instruments]:
    one = np.array
    project = Project(
        output_t=one([d["output"]]),
        capex_usd=one([d["capex"]]),
        opex_usd_per_kg=one([d["opex"]]),
        price_usd_per_kg=one([d["price"]]),
        price_growth=one([d["growth"]]),
        build_years=int(d["build"]),
        life_years=int(d["life"]),
        discount_rate=one([d["rate"]]),
    )
    tools = Instruments(
        price_floor_usd_per_kg=one([d["floor"]]),
        floor_years=int(d["floor_years"]),
        offtake_share=one([0.0]),
        utilisation=one([1.0]),
        capex_subsidy_share=one([0.0]),
        debt_share=one([0.0]),
        concessional_cut=one([0.0]),
        country_risk_premium=one([0.0]),
        risk_cover=False,
    )
    return project, tools


PROJECTS = st.fixed_dictionaries(
    {
        "output": st.floats(1, 5000),
        "capex": st.floats(1e6, 1e9),
        "opex": st.floats(0, 100),
        "price": st.floats(1, 200),
        "growth": st.floats(-0.1, 0.1),
        "build": st.integers(0, 8),
        "life": st.integers(1, 30),
        "rate": st.floats(0, 0.3),
        "floor": st.floats(0, 300),
        "floor_years": st.integers(0, 20),
    }
)


@settings(max_examples=200, deadline=None)
@given(d=PROJECTS, extra=st.floats(0, 300))
def test_a_higher_price_floor_never_lowers_the_npv_or_the_decision(
    d: dict[str, float], extra: float
) -> None:
    low = appraise(*_project(d))
    high = appraise(*_project({**d, "floor": d["floor"] + extra}))
    assert high.npv_usd[0] >= low.npv_usd[0] - 1e-6 * max(1.0, abs(low.npv_usd[0]))
    assert high.build[0] or not low.build[0]


@settings(max_examples=8, deadline=None)
@given(floor=st.floats(0, 200), extra=st.floats(0, 200), capex=st.floats(50, 800))
def test_a_higher_price_floor_never_lowers_the_capacity_built(
    floor: float, extra: float, capex: float
) -> None:
    built = [
        _added(_scenario([_lever(price_floor_usd_per_kg=f, capex_usd_million=capex)], 32))
        for f in (floor, floor + extra)
    ]
    assert np.all(built[1] >= built[0] - 1e-9)


def test_no_floor_costs_nothing_and_instruments_cost_the_exchequer() -> None:
    res = run(_scenario([_lever(price_floor_usd_per_kg=None)], 8)).results
    cost = res["lever_cost"].sum(["time", "draw"])
    assert float(cost.sel(component="floor_payout").sum()) == 0.0
    lever = _lever(capex_subsidy_share=0.3, debt_share=0.5, concessional_cut=0.03)
    res = run(_scenario([lever], 8)).results
    cost = res["lever_cost"]
    assert float(cost.min()) >= 0.0
    assert float(cost.sel(component="capital_subsidy").sum()) > 0.0
    # Cost lines add up: by year and in all equal.
    by_year = cost.groupby(cost["time"].dt.year).sum("time").sum("year")
    np.testing.assert_allclose(by_year, cost.sum("time"), rtol=1e-12)


def test_a_reform_brings_a_plant_with_permits_forward() -> None:
    lever = _lever(permit_months=36, price_floor_usd_per_kg=1000)
    slow = _added(_scenario([lever], 4))
    fast = _added(_scenario([lever, {"type": "regulatory_reform"}], 4))
    first = [int(np.argmax(a[0] > 0)) for a in (slow, fast)]
    assert first[0] - first[1] == 36 - 15  # CRMA's 15 months for processing


def test_schema_errors_name_the_field() -> None:
    base = "name: x\nlevers:\n  - type: finance\n    process: separation_ndpr\n"
    base += "    t_per_year: 5\n    decision: 2026-01\n    capex_usd_million: 10\n"
    with pytest.raises(ScenarioError, match="discount_rate"):
        parse_scenario(base + "    opex_usd_per_kg: 1\n    discount_rate: 3\n")
    with pytest.raises(ScenarioError, match="opex_usd_per_kg"):
        parse_scenario(base + "    opex_usd_per_kg: -1\n")
    parse_scenario(base)  # opex left out: lever_costs.csv gives it


def test_preset_runs_without_error_or_negative_shortfall() -> None:  # a smoke test
    sc = load_scenario(PRESET)
    res = run(Scenario.model_validate({**sc.model_dump(mode="json"), "draws": 8})).results
    assert float(res.shortfall.min()) >= 0.0
