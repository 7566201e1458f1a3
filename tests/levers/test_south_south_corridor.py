"""South-South corridor: African concentrate arrives after the links are built."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+south-south-corridor"


def _scenario(changes: dict[str, Any], draws: int = 8) -> Scenario:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data["levers"][0].update(changes)
    data.update({"draws": draws, "seed": 9})
    return Scenario.model_validate(data)


def test_concentrate_arrives_after_the_links_with_separation_to_treat_it() -> None:
    net = compile_scenario(_scenario({"build_years": 2, "ramp_months": 0})).network
    mdg = net.partners.index("MDG")
    monthly = net.contract[0, :, mdg, 0]
    assert monthly[:36].sum() == 0.0  # invested 2026-01, two years to build
    assert monthly[36] == pytest.approx(1000 * 0.85 / 12)  # not in the MSP or the Quad
    assert net.capacity[0, 36, 0] - net.capacity[0, 0, 0] == pytest.approx(monthly[36])


def test_more_concentrate_never_lowers_separation_output() -> None:
    made = []
    for t in (200, 2000):
        res = run(_scenario({"t_reo_per_year": t})).results
        made.append(res["production"].sel(process="separation_ndpr").sum("time").to_numpy())
    assert np.all(made[1] >= made[0] - 1e-9)
    assert made[1].sum() > made[0].sum()


def test_premium_is_on_delivered_volume() -> None:
    res = run(_scenario({"build_years": 2, "ramp_months": 0}, draws=2))
    cost = res.results["lever_cost"].sel(component="premium").isel(draw=0).squeeze()
    net = compile_scenario(res.scenario).network
    per_kg = net.proc_out[0, 1] * net.base_price[1] * 0.2
    assert float(cost[-1]) == pytest.approx(1000 * 0.85 / 12 * 1000 * per_kg)


def test_schema_errors_name_the_field() -> None:
    text = "name: x\nlevers:\n  - type: south_south_corridor\n    t_reo_per_year: 5\n"
    text += "    investment: 2026-01\n"
    with pytest.raises(ScenarioError, match="producer"):
        parse_scenario(text + "    producer: CHN\n")
    with pytest.raises(ScenarioError, match="premium"):
        parse_scenario(text + "    producer: TZA\n    premium: -1\n")
