"""Exploration pipeline: binomial mines, lead times, local supply, separation, outlay."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+exploration-pipeline"


def _scenario(changes: dict[str, Any], draws: int = 32, extra: list[Any] | None = None) -> Scenario:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data["levers"][0].update(changes)
    data["levers"] += extra or []
    data.update({"draws": draws, "seed": 4})
    return Scenario.model_validate(data)


def _conc(sc: Scenario) -> np.ndarray:
    return np.asarray(compile_scenario(sc).network.local_supply[:, :, 0])


def test_more_projects_never_lower_domestic_supply() -> None:
    few, many = (_conc(_scenario({"projects": n})) for n in (300, 1200))
    assert np.all(many >= few - 1e-9)
    assert many.sum() > few.sum()


def test_no_success_adds_nothing_and_certain_success_adds_every_mine() -> None:
    none = _conc(_scenario({"discovery_probability": 0.0}))
    base = _conc(_scenario({"projects": 0}))
    np.testing.assert_allclose(none, base)
    sure = {
        "projects": 10,
        "rare_earth_share": 1.0,
        "discovery_probability": 1.0,
        "feasibility_probability": 1.0,
        "permit_probability": 1.0,
        "construction_probability": 1.0,
        "lead_years": 1.0,
        "t_reo_per_mine": 120.0,
        "ramp_months": 0,
    }
    conc = _conc(_scenario(sure, draws=2))
    # Ten mines of 120 t/yr, the last found within 7 years and online a year later.
    assert conc[0, -1] - base[0, -1] == pytest.approx(10 * 120 / 12)


def test_a_reform_brings_mines_forward() -> None:
    slow = _conc(_scenario({"permit_months": 60}))
    fast = _conc(_scenario({"permit_months": 60}, extra=[{"type": "regulatory_reform"}]))
    assert np.all(fast.cumsum(axis=1) >= slow.cumsum(axis=1) - 1e-9)
    assert fast.sum() > slow.sum()


def test_outlay_is_the_missions_share_and_adds_up() -> None:
    res = run(_scenario({}, draws=4)).results
    cost = res["lever_cost"].sel(component="mission_outlay").sum("time").squeeze()
    usd = (16300 + 18000) * 0.4167 * 1e7 / res["lever_cost"].attrs["inr_per_usd"]
    np.testing.assert_allclose(cost, usd, rtol=1e-9)


def test_schema_errors_name_the_field() -> None:
    text = "name: x\nlevers:\n  - type: exploration_pipeline\n"
    with pytest.raises(ScenarioError, match="permit_probability"):
        parse_scenario(text + "    permit_probability: 1.5\n")
