"""Emergency licences: the named groups' controlled need passes after the lag; the cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+emergency-licences"
NAMED = "two_wheeler/small_single_importer"


def _scenario(levers: list[dict[str, Any]], draws: int = 6) -> Scenario:
    data = load_scenario("china-2025-april").model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 6, "levers": levers})
    return Scenario.model_validate(data)


def _lever(**extra: Any) -> dict[str, Any]:
    return {
        "type": "emergency_licences",
        "sectors": ["two_wheeler"],
        "groups": ["small_single_importer"],
        "start": "2025-04-01",
        **extra,
    }


def test_exempt_share_of_the_named_group_after_the_lag() -> None:
    net = compile_scenario(_scenario([_lever(lag_months=2, share=0.8)])).network
    g = net.segments.index(NAMED)
    ex = np.broadcast_to(net.exempt, (net.n_draws, net.n_steps, len(net.segments)))
    np.testing.assert_allclose(ex[:, :5, g], 0.0)
    np.testing.assert_allclose(ex[:, 5:, g], 0.8)
    others = [i for i in range(len(net.segments)) if i != g]
    np.testing.assert_allclose(ex[:, :, others], 0.0)


def test_default_lag_is_the_observed_209_days() -> None:
    net = compile_scenario(_scenario([_lever()])).network
    ex = np.broadcast_to(net.exempt, (net.n_draws, net.n_steps, len(net.segments)))
    first = int(np.argmax(ex[0, :, net.segments.index(NAMED)] > 0))
    assert str(net.time[first])[:7] == "2025-10"  # 1 April + 6.9 months


def test_named_group_is_short_less_and_pays_the_premium() -> None:
    base = run(_scenario([])).results
    res = run(_scenario([_lever(lag_months=2, premium=0.1)])).results
    named = {"segment": NAMED}
    short = [
        float((r.segment_requirement - r.segment_delivered).sel(named).sum()) for r in (base, res)
    ]
    assert short[1] < short[0]
    assert float(res.lever_cost.sum()) > 0


def test_unknown_group_is_refused_with_the_known_ones() -> None:
    with pytest.raises(
        ScenarioError, match=r"levers\[0\]\.groups: 'nobody'.*small_single_importer"
    ):
        compile_scenario(_scenario([_lever(groups=["nobody"])]))


def test_preset_runs_with_a_cost() -> None:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    res = run(Scenario.model_validate({**data, "draws": 4})).results
    assert float(res["lever_cost"].sum()) > 0
