"""Light rare-earth grades: the heavy share falls after the lag, e-2W shortfall falls, the cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.levers.build import segment_magnet_split
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+light-re-grades"


def _scenario(levers: list[dict[str, Any]], draws: int = 6) -> Scenario:
    data = load_scenario("china-2025-april").model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 3, "levers": levers})
    return Scenario.model_validate(data)


def _lever(**extra: Any) -> dict[str, Any]:
    return {"type": "light_re_grades", "sectors": ["two_wheeler"], "start": "2025-04-01", **extra}


def test_heavy_share_falls_by_the_limit_after_the_lag_and_only_there() -> None:
    base = compile_scenario(_scenario([])).network
    net = compile_scenario(_scenario([_lever(lag_months=3, max_share=0.6)])).network
    two = [g for g, name in enumerate(net.segments) if name.startswith("two_wheeler/")]
    others = [g for g in range(len(net.segments)) if g not in two]
    h0 = np.broadcast_to(base.heavy_share, net.heavy_share.shape)
    np.testing.assert_allclose(net.heavy_share[:, :6, two], h0[:, :6, two])  # before July
    np.testing.assert_allclose(net.heavy_share[:, 6:, two], h0[:, 6:, two] * 0.4)
    np.testing.assert_allclose(net.heavy_share[:, :, others], h0[:, :, others])


def test_defaults_come_from_adaptation_csv_by_sector() -> None:
    net = compile_scenario(_scenario([_lever(sectors=["two_wheeler", "ev_car"])])).network
    base = compile_scenario(_scenario([])).network
    car = net.segments.index("ev_car/domestic_motor_oems")
    moved = (
        1
        - net.heavy_share[:, -1, car]
        / np.broadcast_to(base.heavy_share, net.heavy_share.shape)[:, -1, car]
    )
    assert 0.1 <= float(moved.min()) <= float(moved.max()) <= 0.5  # ev_car max_share 0.1-0.5
    with pytest.raises(ScenarioError, match=r"levers\[0\]\.lag_months: adaptation.csv has no"):
        compile_scenario(_scenario([_lever(sectors=["three_wheeler"])]))


def test_unknown_group_is_refused_by_path() -> None:
    with pytest.raises(ScenarioError, match=r"levers\[0\]\.groups: 'giants' is not a buyer group"):
        compile_scenario(_scenario([_lever(groups=["giants"])]))


def test_e2w_shortfall_falls_and_the_cost_is_the_premium_on_the_magnet_moved() -> None:
    sc = _scenario([_lever(lag_months=2, max_share=1, premium=0.1)], draws=8)
    base = run(_scenario([], draws=8)).results
    res = run(sc).results
    two = {"sector": "two_wheeler"}
    assert float(res.shortfall.sel(two).sum()) < float(base.shortfall.sel(two).sum())
    net = compile_scenario(sc).network
    h0 = np.broadcast_to(
        compile_scenario(_scenario([], draws=8)).network.heavy_share, net.heavy_share.shape
    )
    moved = h0 - net.heavy_share
    sintered = segment_magnet_split(net)[..., COMMODITY_IDS.index(SINTERED_NDFEB)]
    need = res["segment_requirement"].transpose("draw", "time", "segment").to_numpy()
    price = float(net.base_price[COMMODITY_IDS.index(SINTERED_NDFEB)]) * 1000
    expected = (need * sintered * moved).sum(axis=2) * price * 0.1
    got = res["lever_cost"].sum(["lever", "component"]).transpose("draw", "time").to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert float(got.sum()) > 0


def test_preset_runs_with_a_cost() -> None:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    res = run(Scenario.model_validate({**data, "draws": 4})).results
    assert float(res["lever_cost"].sum()) > 0
