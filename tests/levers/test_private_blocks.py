"""Private blocks: licensed blocks add concentrate; thorium handling is costed; reform helps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+private-blocks"


def _scenario(changes: dict[str, Any], draws: int = 16, extra: list[Any] | None = None) -> Scenario:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data["levers"][0].update(changes)
    data["levers"] += extra or []
    data.update({"draws": draws, "seed": 8})
    return Scenario.model_validate(data)


def _conc(sc: Scenario) -> np.ndarray:
    return np.asarray(compile_scenario(sc).network.local_supply[:, :, 0])


@pytest.mark.parametrize(("few", "many"), [(1, 4), (0, 2)])
def test_more_blocks_never_lower_supply(few: int, many: int) -> None:
    low, high = (_conc(_scenario({"blocks": n})) for n in (few, many))
    assert np.all(high >= low - 1e-9)


def test_the_licensed_cap_limits_output() -> None:
    capped = compile_scenario(_scenario({"licensed_cap_t_reo_per_year": 600})).network
    free = compile_scenario(_scenario({})).network
    added = (
        capped.capacity[:, :, 0]
        - compile_scenario(_scenario({"blocks": 0})).network.capacity[:, :, 0]
    )
    assert float(added.max()) <= 600 / 12 + 1e-9
    assert float(free.capacity.max()) >= float(capped.capacity.max())


def test_thorium_cost_follows_output_and_the_reform_halves_it() -> None:
    lever = {"licence_probability": 1.0, "thorium_handling_usd_per_t": 1000.0}
    lever |= {"thorium_t_per_t_reo": 0.1, "t_reo_per_block": 1200.0, "permit_months": 24}
    base = run(_scenario(lever, draws=2)).results["lever_cost"]
    # Four blocks of 1,200 t REO/yr at full output: 400 t REO a month, 40 t of thorium.
    assert float(base.isel(draw=0, time=-1).sum()) == pytest.approx(40 * 1000.0)
    reform = {"type": "regulatory_reform", "thorium_cost_factor": 0.5}
    half = run(_scenario(lever, draws=2, extra=[reform])).results["lever_cost"]
    assert float(half.isel(draw=0, time=-1).sum()) == pytest.approx(20 * 1000.0)


def test_schema_errors_name_the_field() -> None:
    text = "name: x\nlevers:\n  - type: private_blocks\n    blocks: 2\n    auction: 2026-01\n"
    with pytest.raises(ScenarioError, match="thorium_handling_usd_per_t"):
        parse_scenario(text)
    with pytest.raises(ScenarioError, match="licence_probability"):
        parse_scenario(text + "    thorium_handling_usd_per_t: 5\n    licence_probability: 3\n")
