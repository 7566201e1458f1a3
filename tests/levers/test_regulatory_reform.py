"""Regulatory reform: it acts on the other levers, wherever it stands in the scenario."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+regulatory-reform"


def _scenario(levers: list[dict[str, Any]], draws: int = 8) -> Scenario:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 6, "levers": levers})
    return Scenario.model_validate(data)


def _levers() -> list[dict[str, Any]]:
    return list(load_scenario(PRESET).model_dump(mode="json", by_alias=True)["levers"])


def test_order_in_the_scenario_does_not_matter() -> None:
    # Fixed numbers, so that the levers' draws do not depend on their positions.
    blocks = {
        "type": "private_blocks",
        "blocks": 3,
        "auction": "2026-01",
        "t_reo_per_block": 600,
        "permit_months": 60,
        "thorium_t_per_t_reo": 0.1,
        "thorium_handling_usd_per_t": 100,
    }
    reform = {"type": "regulatory_reform", "licence_probability": 1.0}
    first = compile_scenario(_scenario([reform, blocks])).network
    last = compile_scenario(_scenario([blocks, reform])).network
    np.testing.assert_allclose(first.local_supply, last.local_supply)
    np.testing.assert_allclose(first.capacity, last.capacity)
    alone = compile_scenario(_scenario([blocks])).network
    # Permits of 27 months instead of 60: output starts 33 months earlier.
    start = [int(np.argmax(n.capacity[0, :, 0] > n.capacity[0, 0, 0])) for n in (first, alone)]
    assert start[1] - start[0] == 33


def test_the_reform_never_lowers_supply() -> None:
    levers = _levers()
    # The reform last, so that the other levers keep their positions (and draws).
    with_reform = compile_scenario(_scenario(levers[1:] + levers[:1])).network
    without = compile_scenario(_scenario(levers[1:])).network
    assert np.all(
        with_reform.local_supply.cumsum(axis=1) >= without.local_supply.cumsum(axis=1) - 1e-9
    )


def test_a_reform_alone_changes_nothing() -> None:
    alone = compile_scenario(_scenario(_levers()[:1])).network
    none = compile_scenario(_scenario([])).network
    np.testing.assert_allclose(alone.local_supply, none.local_supply)
    np.testing.assert_allclose(alone.capacity, none.capacity)


def test_preset_runs_with_finite_costs() -> None:  # a smoke test
    res = run(_scenario(_levers(), 4)).results
    assert np.isfinite(res["lever_cost"].to_numpy()).all()


def test_schema_errors_name_the_field() -> None:
    text = "name: x\nlevers:\n  - type: regulatory_reform\n"
    with pytest.raises(ScenarioError, match="licence_probability"):
        parse_scenario(text + "    licence_probability: 2\n")
