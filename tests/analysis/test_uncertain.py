"""The scenario's ``uncertain:`` section: dataset numbers scaled per draw, or clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.analysis.sensitivity import scenario_model
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import ScenarioError
from rareflow.ids import Sector
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

UNIFORM = {"dist": "uniform", "low": 0.5, "high": 1.5}


def _with(entries: list[dict[str, Any]], draws: int = 6) -> Scenario:
    return with_overrides(
        load_scenario("china-2025-april"), draws=draws, horizon_months=12, uncertain=entries
    )


def test_no_uncertain_section_leaves_results_bit_identical(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("china-2025-october"), draws=8, horizon_months=24)
    a = run(sc, dataset=dataset).results
    b = run(with_overrides(sc, uncertain=[]), dataset=dataset).results
    for name in ("shortfall", "stock", "imports", "price_multiple"):
        np.testing.assert_array_equal(a[name].to_numpy(), b[name].to_numpy())


def test_activity_scales_the_sectors_requirement_per_draw(dataset: Dataset) -> None:
    base = run(_with([]), dataset=dataset).results
    entry = {"table": "sector_activity", "where": {"sector": "ev_car"}, "scale": UNIFORM}
    res = run(_with([entry]), dataset=dataset).results
    ratio = (res.requirement / base.requirement).isel(time=0)
    ev = ratio.sel(sector="ev_car").to_numpy()
    assert ev.std() > 0.05
    assert ((ev >= 0.5) & (ev <= 1.5)).all()
    np.testing.assert_allclose(ratio.sel(sector="wind").to_numpy(), 1.0)


def test_intensity_growth_capacity_and_cover_enter_the_network(dataset: Dataset) -> None:
    base = compile_scenario(_with([]), None, dataset).network
    net = compile_scenario(
        _with(
            [
                {"table": "intensities", "where": {"sector": "wind"}, "scale": 2.0},
                {"table": "demand_growth", "where": {"sector": "ev_car"}, "scale": UNIFORM},
                {"table": "facilities", "where": {"facility": "irel-ndpr"}, "scale": 0.5},
                {"table": "inventories", "where": {"country": "IND"}, "scale": 2.0},
            ]
        ),
        None,
        dataset,
    ).network
    wind = list(Sector).index(Sector.WIND)
    ev = list(Sector).index(Sector.EV_CAR)
    assert net.demand_multiplier[0, 0, wind].max() == 2.0
    assert net.growth.shape == (6, len(Sector))
    assert np.unique(net.growth[:, ev]).size == 6
    j = [p.id for p in net.processes].index("separation_ndpr")
    np.testing.assert_allclose(net.capacity[:, :, j], 0.5 * base.capacity[:, :, j])
    magnet = 9
    # The magnet cover is the need-weighted cover of the buyer groups: groups without a cover of
    # their own (buyer_groups.csv) take the industry's, which the overlay doubles; the others
    # keep theirs, so the national figure rises by less than double.
    assert (net.cover_steps[:, magnet] > base.cover_steps[:, magnet]).all()
    doubled = np.isclose(net.segment_cover, 2.0 * base.segment_cover)
    kept = np.isclose(net.segment_cover, base.segment_cover)
    assert doubled.any()
    assert (doubled | kept).all()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"table": "facilities", "where": {"facility": "nowhere"}, "scale": 2}, "no chosen row"),
        (
            {"table": "facilities", "where": {"facility": "in-repm-scheme"}, "scale": 2},
            "feeds IND's network",
        ),
        ({"table": "demand_growth", "where": {"sector": "all"}, "scale": 2}, "feeds"),
    ],
)
def test_rows_that_do_not_feed_the_network_are_refused(
    dataset: Dataset, entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        compile_scenario(_with([entry]), None, dataset)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{table: prices, scale: 1}", "cannot be made uncertain"),
        ("{table: lifetimes, scale: 1}", "supported: sector_activity"),
        ("{table: nowhere, scale: 1}", "unknown table"),
        ("{table: intensities, where: {colour: red}, scale: 1}", "no column 'colour'"),
        ("{table: intensities, where: {metric: weight}, scale: 1}", "not an allowed value"),
        ("{table: intensities, scale: -1}", "scale must lie in"),
    ],
)
def test_bad_entries_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as err:
        parse_scenario(f"name: x\nuncertain: [{text}]")
    assert "uncertain[0]" in str(err.value)


def test_sensitivity_sees_the_scaled_dataset_numbers(dataset: Dataset) -> None:
    entry = {"table": "sector_activity", "where": {"sector": "ev_car"}, "scale": UNIFORM}
    model = scenario_model(_with([entry]), dataset, outputs=("ev_car",))
    assert "uncertain[0].scale" in model.inputs
