"""Substitution lever: schema, direction of effect, substitute tonnes and cost, the preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.ids import Element, Sector
from rareflow.model.network import COMMODITY_IDS, TRACKED_ELEMENTS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+substitution"
NDFEB = [COMMODITY_IDS.index(m) for m in ("magnet_ndfeb_sintered", "magnet_ndfeb_bonded")]
ND = TRACKED_ELEMENTS.index(Element.Nd)


def _scenario(levers: list[dict[str, Any]], draws: int = 4) -> Scenario:
    data = load_scenario("china-2025-april").model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 3, "levers": levers})
    return Scenario.model_validate(data)


def _lever(option: str = "ferrite", share: float = 0.5, **extra: Any) -> dict[str, Any]:
    adoption = {"max_share": share, "start": "2025-01", "years": 2, "curve": "logistic"}
    return {
        "type": "substitution",
        "option": option,
        "adoption": {"two_wheeler": adoption, "ev_car": {**adoption, "curve": "linear"}},
        **extra,
    }


def _ndfeb_and_nd(levers: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Run's total requirement, and the NdFeB requirement and its Nd content (t)."""
    sc = _scenario(levers)
    net = compile_scenario(sc).network
    res = run(sc).results
    years = np.arange(net.n_steps) * net.step_months / 12.0
    grow = (1.0 + net.growth[:, None, :]) ** years[None, :, None]  # (D, T, S)
    req = net.requirement0[None, None] * grow[..., None] * net.demand_multiplier  # (D,T,S,K)
    ndfeb = req[..., NDFEB].sum()
    nd = (req[..., NDFEB] * net.content[NDFEB, ND]).sum()
    return float(res.requirement.sum()), float(ndfeb), float(nd)


@settings(max_examples=8, deadline=None)
@given(
    low=st.floats(0.0, 1.0),
    extra=st.floats(0.0, 1.0),
    option=st.sampled_from(["ferrite", "iron_nitride", "nd_lean", "magnet_free"]),
)
def test_more_substitution_never_raises_nd_demand(low: float, extra: float, option: str) -> None:
    high = min(low + extra, 1.0)
    less = _ndfeb_and_nd([_lever(option, low)])
    more = _ndfeb_and_nd([_lever(option, high)])
    for a, b in zip(less, more, strict=True):
        assert b <= a * (1 + 1e-12) + 1e-9


def test_ferrite_cuts_only_the_adopting_sectors() -> None:
    levers = [_lever("ferrite", 0.4)]
    net = compile_scenario(_scenario(levers)).network
    s2w, sw = net.sectors.index(Sector.TWO_WHEELER), net.sectors.index(Sector.WIND)
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    assert net.demand_multiplier[0, 0, s2w, k] < 1.0
    assert net.demand_multiplier[0, -1, s2w, k] == pytest.approx(0.6)
    assert np.all(net.demand_multiplier[:, :, sw, :] == 1.0)
    # Bonded NdFeB is not replaced unless named.
    assert np.all(net.demand_multiplier[:, :, s2w, COMMODITY_IDS.index("magnet_ndfeb_bonded")] == 1)


def test_nd_lean_cuts_by_its_nd_saving_and_nothing_before_the_start() -> None:
    lever = _lever("nd_lean", 1.0)
    lever["adoption"]["two_wheeler"]["start"] = "2026-01"
    net = compile_scenario(_scenario([lever])).network
    s = net.sectors.index(Sector.TWO_WHEELER)
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    # NEDO/Toyota 2018: up to 50% less Nd (process_parameters.csv).
    assert net.demand_multiplier[0, -1, s, k] == pytest.approx(0.5)
    assert np.all(net.demand_multiplier[0, :12, s, k] == 1.0)


def test_uncertain_share_widens_per_draw() -> None:
    lever = _lever("magnet_free", 0.0)
    lever["adoption"]["two_wheeler"]["max_share"] = {"dist": "uniform", "low": 0.1, "high": 0.9}
    net = compile_scenario(_scenario([lever], draws=6)).network
    assert net.demand_multiplier.shape[0] == 6
    s = net.sectors.index(Sector.TWO_WHEELER)
    assert (
        len(
            set(
                np.round(
                    net.demand_multiplier[:, -1, s, COMMODITY_IDS.index("magnet_ndfeb_sintered")], 9
                )
            )
        )
        > 1
    )


def test_substitute_tonnes_and_purchase_cost_add_up() -> None:
    price = 2.0
    sc = _scenario([_lever("ferrite", 0.5, substitute_price_usd_per_kg=price)])
    res = run(sc).results
    cost = res["lever_cost"].sel(component="purchase").sum("lever")
    net = compile_scenario(sc).network
    removed = 0.0
    years = np.arange(net.n_steps) * net.step_months / 12.0
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    for sector in (Sector.TWO_WHEELER, Sector.EV_CAR):
        s = net.sectors.index(sector)
        base = net.requirement0[s, k] * (1 + net.growth[0, s]) ** years
        removed += float((base * (1 - net.demand_multiplier[0, :, s, k])).sum())
    # 1.82 x 0.653 t of ferrite per t of NdFeB replaced, at US$2/kg.
    expected = removed * 1.82 * 0.653 * price * 1000.0
    assert float(cost.isel(draw=0).sum()) == pytest.approx(expected, rel=1e-9)
    by_year = cost.groupby(cost["time"].dt.year).sum("time").sum("year")
    np.testing.assert_allclose(by_year, cost.sum("time"), rtol=1e-12)


def test_no_price_no_purchase_line_but_a_penalty() -> None:
    # Without a substitute price there is no purchase line; the penalty on the NdFeB replaced
    # (lever_costs.csv premium, 0-20%) is still a cost: no lever is free by default.
    res = run(_scenario([_lever("iron_nitride", 0.3)])).results
    cost = res["lever_cost"]
    assert list(cost["component"].to_numpy()) == ["penalty"]
    assert float(cost.sum()) > 0.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"adoption": {"wind": {"max_share": 1.5, "start": "2025-01", "years": 1}}}, "max_share"),
        ({"adoption": {"wind": {"max_share": 0.5, "start": "2025-01", "years": -1}}}, "years"),
        ({"adoption": {"moon": {"max_share": 0.5, "start": "2025-01", "years": 1}}}, "adoption"),
        ({"adoption": {}}, "adoption"),
        ({"option": "ferrite", "nd_reduction": 0.3}, "nd_reduction"),
        ({"price_acceleration": 0.5}, "price_acceleration"),
        ({"option": "unobtainium"}, "option"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_schema_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    lever = {**_lever(), **change}
    text = yaml.safe_dump({"name": "x", "levers": [lever]})
    with pytest.raises(ScenarioError, match=field):
        parse_scenario(text)


def test_preset_runs_and_lowers_shortfall() -> None:
    base = _scenario([], draws=8)
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data.update({"draws": 8, "seed": 3})
    with_lever = Scenario.model_validate(data)
    assert float(run(with_lever).results.shortfall.sum()) < float(run(base).results.shortfall.sum())
