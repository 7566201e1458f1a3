"""Recycling: end-of-life magnets from the stock model come back as secondary supply."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario


def _scenario(**lever: object) -> Scenario:
    data = load_scenario("china-2025-april+recycling").model_dump(mode="json", by_alias=True)
    data["levers"] = [{**data["levers"][0], **lever}]
    return Scenario.model_validate({**data, "draws": 4, "seed": 3})


def test_recycled_magnets_grow_as_more_reach_end_of_life() -> None:
    res = run(_scenario(collection_rate=0.3, ramp_months=0)).results
    back = res["local_supply"].sel(material="magnet_ndfeb_sintered").isel(draw=0)
    assert float(back.sel(time="2025-12").sum()) == 0.0
    assert float(back.sel(time="2034-12").sum()) > float(back.sel(time="2026-06").sum()) > 0.0


@settings(max_examples=5, deadline=None)
@given(low=st.floats(0.0, 0.5), extra=st.floats(0.05, 0.5))
def test_collecting_more_never_raises_shortfall(low: float, extra: float) -> None:
    totals = [
        float(run(_scenario(collection_rate=rate)).results.shortfall.sum())
        for rate in (low, low + extra)
    ]
    assert totals[1] <= totals[0] * (1 + 1e-9) + 1e-9


def test_hydromet_route_returns_oxide_and_costs_add_up() -> None:
    res = run(_scenario(route="hydromet_to_oxide", cost_usd_per_kg=5.0, ramp_months=0)).results
    oxide = res["local_supply"].sel(material="oxide_dy").sum()
    assert float(oxide) > 0.0
    cost = res["lever_cost"].sel(component="processing")
    assert float(cost.sum()) > 0.0


def test_bad_recycling_fields_are_named() -> None:
    with pytest.raises(ScenarioError, match=r"levers\[0\].*collection_rate"):
        parse_scenario(
            "name: x\nlevers:\n  - type: recycling\n    start: 2026-01\n    collection_rate: 1.5\n"
        )
