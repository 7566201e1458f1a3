"""Recycling: end-of-life magnets from the in-use stock model come back as secondary supply."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.analysis.recycling import recycling_indicators
from rareflow.data.load import Dataset
from rareflow.data.query import recycling_row
from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.ids import Sector
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.sampling import Sampler
from rareflow.scenario.schema import Scenario
from rareflow.stocks.in_use import end_of_life


def _scenario(**lever: object) -> Scenario:
    data = load_scenario("china-2025-april+recycling").model_dump(mode="json", by_alias=True)
    data["levers"] = [{**data["levers"][0], **lever}]
    return Scenario.model_validate({**data, "draws": 4, "seed": 3})


def test_recycled_magnets_grow_as_more_reach_end_of_life() -> None:
    res = run(_scenario(collection_rate=0.3, ramp_months=0)).results
    back = res["local_supply"].sel(material="magnet_ndfeb_sintered").isel(draw=0)
    assert float(back.sel(time="2025-12").sum()) == 0.0
    assert float(back.sel(time="2034-12").sum()) > float(back.sel(time="2026-06").sum()) > 0.0


@settings(max_examples=5, deadline=None)
@given(low=st.floats(0.0, 0.5), extra=st.floats(0.05, 0.5))
def test_collecting_more_never_raises_shortfall(low: float, extra: float) -> None:
    totals = [
        float(run(_scenario(collection_rate=rate)).results.shortfall.sum())
        for rate in (low, low + extra)
    ]
    assert totals[1] <= totals[0] * (1 + 1e-9) + 1e-9


def test_hydromet_route_returns_oxide_and_costs_add_up() -> None:
    res = run(_scenario(route="hydromet_to_oxide", cost_usd_per_kg=5.0, ramp_months=0)).results
    oxide = res["local_supply"].sel(material="oxide_dy").sum()
    assert float(oxide) > 0.0
    cost = res["lever_cost"].sel(component="processing")
    assert float(cost.sum()) > 0.0


def test_bad_recycling_fields_are_named() -> None:
    with pytest.raises(ScenarioError, match=r"levers\[0\].*collection_rate"):
        parse_scenario(
            "name: x\nlevers:\n  - type: recycling\n    start: 2026-01\n    collection_rate: 1.5\n"
        )


def _lever_only(**lever: object) -> Scenario:
    """A baseline 2025-2035 with one recycling lever (no shock)."""
    return Scenario.model_validate(
        {
            "name": "recycling-test",
            "start": "2025-01",
            "horizon_months": 132,
            "draws": 2,
            "seed": 5,
            "levers": [{"type": "recycling", **lever}],
        }
    )


def test_defaults_come_from_the_dataset_and_the_stock_model(dataset: Dataset) -> None:
    """Electronics: formal 32.92% + half of the informal 67.08%, from in-use end of life."""
    sc = _lever_only(
        start="2025-01",
        ramp_months=0,
        sectors=["electronics"],
        informal_channelled=0.5,
        preprocessing_yield=0.1,
        route="hydromet_to_oxide",
    )
    compiled = compile_scenario(sc, dataset=dataset)
    net = compiled.network
    flows = net.recycled_ledger["levers[0]"]
    # The end-of-life flows are drawn through the scenario's sampler: the same seed and draws
    # give the stock model's own draws.
    sampler = Sampler(sc.seed, sc.sampling, sc.draws, np.arange(sc.draws))
    eol = end_of_life(dataset, "IND", 2035, sampler=sampler).sel(sector="electronics")
    years = net.time.astype("datetime64[Y]").astype(int) + 1970
    outflow = eol.sel(year=years).transpose("draw", "year").to_numpy()
    expected = outflow / 12.0 * (0.3292 + 0.5 * 0.6708) * 0.1
    np.testing.assert_allclose(flows.processed, expected, rtol=1e-12)
    assert not np.allclose(flows.processed[0], flows.processed[1])  # uncertain, draw by draw
    # Between the central values' low and high: the draws stay near them.
    central = end_of_life(dataset, "IND", 2035).sel(sector="electronics", year=years).to_numpy()
    assert np.all(outflow.mean(axis=0) < 3 * central + 1e-9)
    assert any(p.startswith("stocks.") for p in compiled.sampler.distributions)
    assert flows.sectors == (Sector.ELECTRONICS,)


def test_each_route_delivers_at_its_own_stage_and_keeps_element_mass(dataset: Dataset) -> None:
    for route in ("magnet_to_magnet", "hydromet_to_oxide"):
        net = compile_scenario(
            _lever_only(start="2026-01", route=route, collection_rate=0.5), dataset=dataset
        ).network
        flows = net.recycled_ledger["levers[0]"]
        recovered = np.broadcast_to(flows.recovered, (2, net.n_steps, len(COMMODITY_IDS)))
        got = {COMMODITY_IDS[k] for k in np.flatnonzero(recovered.sum(axis=(0, 1)) > 0)}
        if route == "magnet_to_magnet":
            assert got == {"magnet_ndfeb_sintered"}
            recovery = 0.994  # recycling.csv, Mo et al. 2025
        else:
            assert got == {"oxide_ndpr", "oxide_dy"}
            recovery = 0.97  # recycling.csv, Chowdhury et al. 2021
        # Rare-earth metal recovered = metal in the scrap processed x recovery.
        k_mag = COMMODITY_IDS.index("magnet_ndfeb_sintered")
        metal_out = (recovered @ net.content).sum(axis=2)
        metal_in = np.broadcast_to(flows.processed, metal_out.shape) * net.content[k_mag].sum()
        np.testing.assert_allclose(metal_out, metal_in * recovery, rtol=1e-12, atol=1e-12)
        assert np.all(np.broadcast_to(net.local_supply, recovered.shape) >= recovered - 1e-12)


def test_a_decided_plant_starts_after_the_routes_lead_time(dataset: Dataset) -> None:
    net = compile_scenario(_lever_only(decision="2026-01"), dataset=dataset).network
    flows = net.recycled_ledger["levers[0]"]
    # Decision at step 12 (2026-01) + 2.2 years (HyProMag USA's plan) = step 38.4 -> 2028-03.
    assert float(flows.online[0]) == pytest.approx(12 + 2.2 * 12)
    processed = np.broadcast_to(flows.processed, (2, 132))
    assert not processed[:, :38].any()
    assert processed[:, 38:].all()


def test_capital_cost_is_the_reference_plant_per_tonne_spread_before_output() -> None:
    sc = _lever_only(decision="2026-01", capacity_t_per_year=750.0)
    cost = run(sc).results["lever_cost"].sel(component="capex").sum("lever")
    # HyProMag USA: US$125 M for 750 t/yr (recycling.csv), spent over the 26.4 months before.
    assert float(cost.sum("time").isel(draw=0)) == pytest.approx(125e6, rel=1e-9)
    assert float(cost.sel(time=slice("2028-03", None)).sum()) == 0.0


def test_hydromet_capital_cost_is_the_separation_capex_per_tonne(dataset: Dataset) -> None:
    from rareflow.data.lever_costs import lever_cost  # noqa: PLC0415

    sc = _lever_only(route="hydromet_to_oxide", decision="2026-01", capacity_t_per_year=500.0)
    cost = run(sc).results["lever_cost"].sel(component="capex").sum("lever").sum("time")
    row = lever_cost(dataset, "recycling", "separation_capex")
    per_t = cost.to_numpy() / 500.0
    assert np.all(per_t >= row.low * (1 - 1e-9))
    assert np.all(per_t <= row.high * (1 + 1e-9))
    assert float(np.ptp(per_t)) > 0.0  # drawn over the row's range


def test_two_levers_may_not_collect_the_same_sector() -> None:
    data = _lever_only(start="2026-01").model_dump(mode="json")
    data["levers"].append({"type": "recycling", "start": "2027-01", "sectors": ["wind"]})
    with pytest.raises(ScenarioError, match=r"levers\[0\] and levers\[1\] both collect.*wind"):
        run(Scenario.model_validate(data))


def test_start_or_decision_is_required_once() -> None:
    with pytest.raises(ScenarioError, match="exactly one of start"):
        parse_scenario("name: x\nlevers:\n  - type: recycling\n    route: magnet_to_magnet\n")
    with pytest.raises(ScenarioError, match="exactly one of start"):
        parse_scenario(
            "name: x\nlevers:\n  - type: recycling\n    start: 2026-01\n    decision: 2025-06\n"
        )


def test_the_most_specific_recycling_row_applies(dataset: Dataset) -> None:
    formal = recycling_row(dataset, "IND", "magnet_to_magnet", "wind", "collection_rate_formal")
    assert formal is not None
    assert (formal["country"], formal["route"], formal["sector"]) == ("IND", "any", "wind")
    recovery = recycling_row(dataset, "IND", "hydromet_to_oxide", "all", "recovery")
    assert recovery is not None
    assert (recovery["country"], recovery["route"], recovery["sector"]) == (
        "WLD",
        "hydromet_to_oxide",
        "all",
    )
    # A sector without its own row takes the 'all' row (a labelled assumption, recycling.csv).
    row = recycling_row(dataset, "IND", "magnet_to_magnet", "medical", "preprocessing_yield")
    assert row is not None
    assert (row["country"], row["sector"]) == ("WLD", "all")


@settings(max_examples=3, deadline=None)
@given(low=st.floats(0.0, 0.6), extra=st.floats(0.05, 0.4))
def test_collecting_more_never_lowers_the_recycled_share(low: float, extra: float) -> None:
    shares = [
        recycling_indicators(
            run(_lever_only(decision="2025-06", collection_rate=rate)).results, yearly=True
        )["recycled_share"].fillna(0.0)
        for rate in (low, low + extra)
    ]
    assert (shares[1] >= shares[0] - 1e-12).all()  # draw by draw, year by year
    assert (shares[1].sel(year=2035) > shares[0].sel(year=2035)).all()
