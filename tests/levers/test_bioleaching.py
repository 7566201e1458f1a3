"""Bioleaching: recovery gain to domestic concentrate, side figures, costs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.levers.bioleaching import side_figures
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+bioleaching"


def _scenario(changes: dict[str, Any], draws: int = 8) -> Scenario:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data["levers"][0].update(changes)
    data.update({"draws": draws, "seed": 10})
    return Scenario.model_validate(data)


def _conc(changes: dict[str, Any]) -> np.ndarray:
    return np.asarray(compile_scenario(_scenario(changes)).network.local_supply[:, :, 0])


def test_the_gain_is_ore_times_grade_times_extra_recovery() -> None:
    base = _conc({"ore_t_per_year": 0})
    gain = _conc({"recovery": 0.754, "baseline_recovery": 0.557, "ramp_months": 0})
    assert gain[0, -1] - base[0, -1] == pytest.approx(2000 * 0.55 * (0.754 - 0.557) / 12)


@pytest.mark.parametrize(("low", "high"), [(0.3, 0.6), (0.6, 0.754)])
def test_higher_recovery_never_lowers_supply(low: float, high: float) -> None:
    assert np.all(_conc({"recovery": high}) >= _conc({"recovery": low}) - 1e-12)


def test_side_figures_follow_the_laboratory_conditions() -> None:
    figures = side_figures(1.0)
    assert figures["medium_m3"] == pytest.approx(1 / 0.006)
    assert figures["citric_acid_t"] == pytest.approx(14.3 / 6)
    assert figures["thorium_in_residue_t"] == pytest.approx(0.08)


def test_opex_is_on_ore_treated() -> None:
    res = run(_scenario({"cost_usd_per_t_ore": 500, "ramp_months": 0}, draws=2)).results
    opex = res["lever_cost"].sel(component="opex").isel(draw=0).squeeze()
    assert float(opex[-1]) == pytest.approx(2000 / 12 * 500)


def test_schema_errors_name_the_field() -> None:
    text = "name: x\nlevers:\n  - type: bioleaching\n    ore_t_per_year: 5\n    start: 2026-01\n"
    # The leaching cost may be left out (lever_costs.csv gives it); the start may not.
    with pytest.raises(ScenarioError, match="start"):
        parse_scenario("name: x\nlevers:\n  - type: bioleaching\n    ore_t_per_year: 5\n")
    parse_scenario(text)
    with pytest.raises(ScenarioError, match="recovery"):
        parse_scenario(
            text + "    cost_usd_per_t_ore: 1\n    recovery: 0.2\n    baseline_recovery: 0.5\n"
        )
