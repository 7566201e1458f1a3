"""Technology tie lever: schema, yields that keep the balance, the licence fee, the preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from rareflow.data.load import Dataset
from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+technology-tie"


def _scenario(levers: list[dict[str, Any]], name: str = "china-2025-april") -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": 4, "seed": 2, "levers": levers})
    return Scenario.model_validate(data)


def _lever(cut: float, process: str = "metal_ndpr", **extra: Any) -> dict[str, Any]:
    return {
        "type": "technology_tie",
        "partner": "MYS",
        "loss_cut": {process: cut},
        "start": "2025-06",
        **extra,
    }


@pytest.mark.parametrize("process", ["metal_ndpr", "magnet_ndfeb_sintered", "metal_dy"])
def test_losses_fall_by_the_cut_and_the_balance_holds(process: str) -> None:
    base = compile_scenario(_scenario([])).network
    tied = compile_scenario(_scenario([_lever(0.25, process)])).network
    j = [p.id for p in base.processes].index(process)
    taken_base = base.proc_in[j] @ base.content
    taken = tied.proc_in[j] @ tied.content
    assert np.all(taken <= taken_base + 1e-15)
    # Element balance: in = out + loss, with losses never negative.
    out = tied.proc_out[j] @ tied.content
    np.testing.assert_allclose(taken, out + tied.proc_loss[j], atol=1e-12)
    assert np.all(tied.proc_loss[j] >= 0)
    shares = [base.proc_loss[j][e] / taken_base[e] for e in range(len(taken)) if taken_base[e] > 0]
    assert tied.proc_in[j].sum() == pytest.approx(base.proc_in[j].sum() * (1 - 0.25 * min(shares)))


def test_the_least_lost_element_loses_a_quarter_less_per_tonne_of_metal() -> None:
    base = compile_scenario(_scenario([])).network
    tied = compile_scenario(_scenario([_lever(0.25)])).network
    j = [p.id for p in tied.processes].index("metal_ndpr")
    taken = base.proc_in[j] @ base.content
    e = int(np.argmin(np.where(taken > 0, base.proc_loss[j] / np.maximum(taken, 1e-300), 2)))
    assert tied.proc_loss[j][e] == pytest.approx(0.75 * base.proc_loss[j][e])
    # The other element loses less too, never more.
    assert np.all(tied.proc_loss[j] <= base.proc_loss[j] + 1e-15)


def test_higher_yield_makes_more_metal_from_the_same_oxide() -> None:
    levers = [{"type": "capacity", "process": "metal_ndpr", "t_per_year": 600, "online": "2025-01"}]
    base = run(_scenario(levers)).results
    tied = run(_scenario([*levers, _lever(0.5)])).results
    made = {
        r: float(x.production.sel(process="metal_ndpr").sum())
        for r, x in (("b", base), ("t", tied))
    }
    assert made["t"] >= made["b"]


def test_fee_and_royalty_add_up() -> None:
    sc = _scenario([_lever(0.25, upfront_inr_crore=10, royalty_usd_per_kg=2)])
    res = run(sc).results
    cost = res["lever_cost"].sum("lever")
    fee = cost.sel(component="licence_fee")
    assert float(fee.isel(draw=0).sum()) == pytest.approx(10 * 1e7 / cost.attrs["inr_per_usd"])
    june = fee.time.dt.strftime("%Y-%m") == "2025-06"
    assert float(fee.where(~june, 0).sum()) == 0.0
    made = res.production.sel(process="metal_ndpr").transpose("draw", "time")
    np.testing.assert_allclose(cost.sel(component="royalty"), made * 2000.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loss_cut": {"metal_ndpr": 1.5}}, "loss_cut.metal_ndpr"),
        ({"loss_cut": {"smelter": 0.1}}, "loss_cut"),
        ({"loss_cut": {}}, "loss_cut"),
        ({"partner": "Malaysia"}, "partner"),
        ({"royalty_usd_per_kg": -1}, "royalty_usd_per_kg"),
    ],
)
def test_schema_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    text = yaml.safe_dump({"name": "x", "levers": [{**_lever(0.2), **change}]})
    with pytest.raises(ScenarioError, match=field):
        parse_scenario(text)


def test_unknown_partner_is_named() -> None:
    with pytest.raises(ScenarioError, match=r"levers\[0\]\.partner"):
        compile_scenario(_scenario([_lever(0.2, partner="XXX")]))


def test_preset_runs_with_a_cost() -> None:
    res = run(_scenario(load_scenario(PRESET).model_dump()["levers"], PRESET)).results
    assert float(res["lever_cost"].sum()) > 0


def test_default_royalty_is_a_share_of_the_products_value(dataset: Dataset) -> None:
    from rareflow.data.lever_costs import lever_cost  # noqa: PLC0415

    plant = {"type": "capacity", "process": "metal_ndpr", "t_per_year": 600, "online": "2025-01"}
    sc = _scenario([plant, _lever(0.25, upfront_inr_crore=10)])
    res = run(sc).results
    royalty = res["lever_cost"].sum("lever").sel(component="royalty")
    made = res.production.sel(process="metal_ndpr").transpose("draw", "time")
    row = lever_cost(dataset, "technology_tie", "royalty")
    price = compile_scenario(sc).network.base_price[COMMODITY_IDS.index("metal_ndpr")]
    # Drawn triangular over the row's range: per kg, between its low and high share of the price.
    per_kg = (royalty.sum("time") / (made.sum("time") * 1000.0)).to_numpy()
    assert made.sum() > 0
    assert np.all(per_kg >= row.low * price - 1e-9)
    assert np.all(per_kg <= row.high * price + 1e-9)
    assert float(np.ptp(per_kg)) > 0  # drawn, not fixed


def test_royalty_share_and_fixed_royalty_are_not_both_given() -> None:
    text = yaml.safe_dump(
        {"name": "x", "levers": [_lever(0.2, royalty_share=0.05, royalty_usd_per_kg=1)]}
    )
    with pytest.raises(ScenarioError, match="not both"):
        parse_scenario(text)
