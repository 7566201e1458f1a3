"""Consortium lever: schema, backed contracts, the cost-of-capital hook, cost, the preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+consortium"
K = COMMODITY_IDS.index("magnet_ndfeb_sintered")
CONTRACT = {
    "type": "supply_contract",
    "partner": "JPN",
    "t_per_year": 120,
    "start": "2025-01",
    "ramp_months": 0,
    "price_usd_per_kg": 50,
}


def _scenario(levers: list[dict[str, Any]], name: str = "china-2025-april") -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": 4, "seed": 2, "levers": levers})
    return Scenario.model_validate(data)


def _consortium(**extra: Any) -> dict[str, Any]:
    return {"type": "consortium", "start": "2025-07", **extra}


def test_backed_contract_delivers_more_from_the_start() -> None:
    base = compile_scenario(_scenario([CONTRACT])).network
    backed = compile_scenario(_scenario([CONTRACT, _consortium(risk_share=0.5)])).network
    p = base.partners.index("JPN")
    # Japan shares the Quad and the MSP with India: reliability 0.95 becomes 0.975.
    np.testing.assert_allclose(base.contract[0, :6, p, K], backed.contract[0, :6, p, K])
    np.testing.assert_allclose(backed.contract[0, 6:, p, K], 10 * 0.975)


def test_more_risk_sharing_never_raises_shortfall() -> None:
    results = [
        float(run(_scenario([CONTRACT, _consortium(risk_share=s)])).results.shortfall.sum())
        for s in (0.0, 0.5, 1.0)
    ]
    assert results[2] <= results[1] * (1 + 1e-9) <= results[0] * (1 + 1e-9) ** 2


def test_the_contract_premium_covers_what_the_consortium_makes_arrive() -> None:
    plain = run(_scenario([CONTRACT])).results["lever_cost"]
    backed = run(_scenario([CONTRACT, _consortium(risk_share=1.0)])).results["lever_cost"]
    assert float(backed.sel(component="premium").sum()) > float(
        plain.sel(component="premium").sum()
    )


def test_cost_of_capital_cut_is_recorded_for_later_levers() -> None:
    compiled = compile_scenario(_scenario([CONTRACT, _consortium(discount_rate_cut=0.02)]))
    np.testing.assert_allclose(compiled.modifiers.discount_rate_cut, 0.02)
    plain = compile_scenario(_scenario([CONTRACT]))
    np.testing.assert_allclose(plain.modifiers.discount_rate_cut, 0.0)
    # Nothing reaches the sampler's drawn values under a made-up key (no phantom Sobol dimension):
    # scenario paths, and the dataset ranges importer competition draws (importers.csv,
    # supplier_headroom.csv).
    assert all(
        path.startswith(
            ("levers[", "shocks[", "parameters.", "prices.", "importers.", "supplier_headroom.")
        )
        for path in compiled.sampler.drawn
    )


def test_pooled_investment_is_paid_over_its_months() -> None:
    sc = _scenario([CONTRACT, _consortium(pooled_investment_inr_crore=120, investment_months=6)])
    cost = run(sc).results["lever_cost"].sel(component="investment").sum("lever")
    rate = cost.attrs["inr_per_usd"]
    assert float(cost.isel(draw=0).sum()) == pytest.approx(120 * 1e7 / rate)
    months = cost.time.dt.strftime("%Y-%m").to_numpy()
    paid = months[cost.isel(draw=0).to_numpy() > 0]
    assert list(paid) == [f"2025-{m:02d}" for m in range(7, 13)]
    by_year = cost.groupby(cost["time"].dt.year).sum("time").sum("year")
    np.testing.assert_allclose(by_year, cost.sum("time"), rtol=1e-12)


def test_nothing_to_back_is_refused() -> None:
    with pytest.raises(ScenarioError, match="list the consortium after"):
        compile_scenario(_scenario([_consortium(), CONTRACT]))
    with pytest.raises(ScenarioError, match=r"levers\[1\]\.backs"):
        compile_scenario(_scenario([CONTRACT, _consortium(backs=["AUS"])]))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"risk_share": 1.5}, "risk_share"),
        ({"reliability": 0}, "reliability"),
        ({"discount_rate_cut": 0.9}, "discount_rate_cut"),
        ({"investment_months": 0}, "investment_months"),
        ({"backs": ["japan"]}, "backs"),
        ({"partners": ["JPN"]}, "partners"),
    ],
)
def test_schema_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    text = yaml.safe_dump({"name": "x", "levers": [{**_consortium(), **change}]})
    with pytest.raises(ScenarioError, match=field):
        parse_scenario(text)


def test_preset_runs_and_backs_its_contract() -> None:
    levers = load_scenario(PRESET).model_dump(mode="json")["levers"]
    with_consortium = run(_scenario(levers, PRESET)).results
    without = run(_scenario(levers[:1], PRESET)).results
    assert float(with_consortium.shortfall.sum()) <= float(without.shortfall.sum())


def test_finance_after_a_consortium_appraises_at_the_cheaper_capital() -> None:
    finance = load_scenario("china-2025-april+finance").model_dump(mode="json", by_alias=True)
    plant = finance["levers"][0]
    cheap = _consortium(discount_rate_cut=0.05)
    backed = compile_scenario(_scenario([CONTRACT, cheap, plant]))
    assert backed.modifiers.discount_rate_read
    plain = compile_scenario(_scenario([CONTRACT, plant]))
    # A lower discount rate can only raise the plant's NPV, so it is built in at least as many
    # draws: its capacity is at least as large everywhere.
    assert np.all(backed.network.capacity >= plain.network.capacity - 1e-9)
    with pytest.raises(ScenarioError, match="list the consortium before the finance levers"):
        compile_scenario(_scenario([CONTRACT, plant, cheap]))
