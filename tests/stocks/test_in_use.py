"""In-use stocks of a country: inflows from cited activity, back-casts, stocks and outflows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import read_rows, write_table

from rareflow.data.load import Dataset, load_dataset
from rareflow.dims import DRAW, ELEMENT, SECTOR, YEAR
from rareflow.errors import DataError, InputError
from rareflow.model.demand import sector_demand
from rareflow.scenario.sampling import Sampler, design_sampler
from rareflow.stocks.in_use import (
    FIRST_YEAR,
    end_of_life,
    in_use_stocks,
    magnet_inflows,
    summary_rows,
)


def draws(n: int, seed: int) -> Sampler:
    """The scenario sampler over ``n`` random draws (the stocks model draws through it)."""
    return Sampler(seed, "random", n, np.arange(n))


def test_stocks_cover_sectors_elements_and_draws_with_sources(dataset: Dataset) -> None:
    result = in_use_stocks(dataset, "IND", 2025, draws(40, 3))
    stock = result.stocks["element_stock"]
    assert stock.dims == (SECTOR, ELEMENT, DRAW)
    assert list(stock[ELEMENT].to_numpy()) == ["Nd", "Pr", "Dy", "Tb"]
    assert {"wind", "electronics", "two_wheeler", "ice_vehicle"} <= set(stock[SECTOR].to_numpy())
    assert stock.sizes[DRAW] == 40
    assert float(stock.min()) >= 0.0
    # Element mass never exceeds the magnet that carries it.
    assert (stock.sum(ELEMENT) <= result.stocks["magnet_stock"]).all()
    bases = {s.basis for s in result.sources}
    assert bases == {"cited", "derived", "assumption"}
    assert all(dataset.source_of(s.source_id) for s in result.sources)


def test_nd_share_of_magnet_stock_stays_in_the_composition_range(dataset: Dataset) -> None:
    stocks = in_use_stocks(dataset, "IND", 2025, draws(200, 1)).stocks
    nd = stocks["element_stock"].sel({ELEMENT: "Nd"}) / stocks["magnet_stock"]
    # Defence also holds SmCo (no Nd): the range holds for the sectors using NdFeB alone.
    nd = nd.drop_sel({SECTOR: "defence"})
    # magnet_composition.csv: Nd low 0.2175, high 0.24375 (Nd+Pr 29-32.5% split 3:1).
    assert float(nd.min()) >= 0.2175 - 1e-12
    assert float(nd.max()) <= 0.24375 + 1e-12
    assert float(nd.std()) > 0.0  # the content is drawn, not fixed


def test_latest_inflow_equals_the_engine_requirement(dataset: Dataset) -> None:
    """One source of truth: the latest cited year's inflow is the sector demand of the engine."""
    inflow = magnet_inflows(dataset, "IND", 2025).inflow
    demand = sector_demand(dataset, "IND").demand.sum("material")
    kept = {"electronics": 1.0 - 0.3}  # 30% of phones made in India are exported (ICEA)
    for sector in ("ev_car", "two_wheeler", "three_wheeler", "ice_vehicle", "wind"):
        got = float(inflow.sel({YEAR: 2025, SECTOR: sector}).sum())
        assert got == pytest.approx(float(demand.sel(sector=sector)), rel=1e-12)
    # Electronics' latest cited year is 2024 (245 M phones a year, ICEA).
    got = float(inflow.sel({YEAR: 2024, SECTOR: "electronics"}).sum())
    expected = float(demand.sel(sector="electronics")) * kept["electronics"]
    assert got == pytest.approx(expected, rel=1e-12)


def test_wind_backcast_reproduces_cumulative_capacity(dataset: Dataset) -> None:
    inflow = magnet_inflows(dataset, "IND", 2025).inflow.sel({SECTOR: "wind"}).sum("material")
    t_per_mw = 0.2 * 0.15  # intensities.csv: 0.2 t/MW (medium speed) on 15% of new MW with PM
    cumulative_mw = float(inflow.sel({YEAR: slice(FIRST_YEAR, 2016)}).sum()) / t_per_mw
    assert cumulative_mw == pytest.approx(26904.16, rel=1e-9)  # IWTMA, end of FY2015-16
    assert float(inflow.sel({YEAR: 2016})) / t_per_mw == pytest.approx(3423.0)


def test_years_between_cited_ones_are_interpolated_log_linearly(dataset: Dataset) -> None:
    inflow = (
        magnet_inflows(dataset, "IND", 2025).inflow.sel({SECTOR: "two_wheeler"}).sum("material")
    )
    a, b = float(inflow.sel({YEAR: 2017})), float(inflow.sel({YEAR: 2021}))
    assert float(inflow.sel({YEAR: 2019})) == pytest.approx(np.sqrt(a * b), rel=1e-12)
    assert a == pytest.approx(27888 * 0.6 / 1000)  # SMEV FY2017 sales x 0.6 kg


def test_a_draw_does_not_depend_on_how_many_run() -> None:
    ds = load_dataset()
    few = in_use_stocks(ds, "IND", 2025, draws(4, 9)).stocks
    many = in_use_stocks(ds, "IND", 2025, draws(9, 9)).stocks
    np.testing.assert_allclose(
        few["element_stock"], many["element_stock"].isel({DRAW: slice(0, 4)}), rtol=1e-12
    )


@settings(max_examples=4, deadline=None)
@given(year=st.integers(1990, 2040))
def test_outflows_never_exceed_inflows_and_stocks_stay_non_negative(year: int) -> None:
    ds = load_dataset()
    inflow = magnet_inflows(ds, "IND", year).inflow.sum("material")
    eol = end_of_life(ds, "IND", year)
    assert float(eol.min()) >= 0.0
    # What entered and has not left is still in use: never negative, year after year.
    in_use = (inflow - eol).cumsum(YEAR)
    assert float(in_use.min()) >= -1e-9 * float(inflow.max())
    stocks = in_use_stocks(ds, "IND", year, draws(2, year)).stocks
    assert float(stocks["magnet_stock"].min()) >= 0.0
    assert float(stocks["element_stock"].min()) >= 0.0


def test_long_lived_magnets_stay_in_use_and_phone_magnets_leave(dataset: Dataset) -> None:
    inflow = magnet_inflows(dataset, "IND", 2030).inflow.sum("material")
    left = 1.0 - end_of_life(dataset, "IND", 2030).sum(YEAR) / inflow.sum(YEAR)
    # Wind lasts 20-30 years, phones 2-3 (lifetimes.csv, Yang et al. 2017).
    assert float(left.sel({SECTOR: "wind"})) > 0.5 > float(left.sel({SECTOR: "electronics"}))


def test_summary_rows_add_a_total_over_sectors_per_draw(dataset: Dataset) -> None:
    stocks = in_use_stocks(dataset, "IND", 2025, draws(20, 0)).stocks
    by = {r["sector"]: r for r in summary_rows(stocks)}
    per_draw = stocks["element_stock"].sel({ELEMENT: "Nd"}).sum(SECTOR)
    assert by["total"]["Nd"]["median"] == pytest.approx(float(per_draw.median()))
    assert by["total"]["Nd"]["p5"] <= by["total"]["Nd"]["median"] <= by["total"]["Nd"]["p95"]
    assert set(by) == {*map(str, stocks[SECTOR].to_numpy()), "total"}


def test_bad_country_year_and_draws_are_input_errors(dataset: Dataset) -> None:
    with pytest.raises(InputError, match="unknown country 'XYZ'"):
        in_use_stocks(dataset, "XYZ", 2025, draws(1, 0))
    with pytest.raises(InputError, match="no sector activity for BRA"):
        in_use_stocks(dataset, "BRA", 2025, draws(1, 0))
    with pytest.raises(InputError, match="outside 1983"):
        in_use_stocks(dataset, "IND", 1970, draws(1, 0))
    with pytest.raises(InputError, match="draws"):
        in_use_stocks(dataset, "IND", 2025, draws(0, 0))


def _history_with(tmp_path: Path, extra: dict[str, str]) -> Dataset:
    rows = read_rows("in_use_history")
    rows.append(extra)
    write_table(tmp_path, "in_use_history", rows)
    return load_dataset(tmp_path)


def test_backcast_rules_that_conflict_or_cannot_fit_are_named(tmp_path: Path) -> None:
    both = _history_with(
        tmp_path / "both",
        {
            "country": "IND",
            "sector": "wind",
            "parameter": "backcast_growth",
            "value": "0.1",
            "unit": "fraction_per_year",
            "year": "2012",
            "source_id": "rareflow-assumption",
            "choice": "chosen",
        },
    )
    with pytest.raises(DataError, match=r"in_use_history\.csv.*both a backcast_growth"):
        magnet_inflows(both, "IND", 2025)
    rows = [r for r in read_rows("in_use_history") if r["parameter"] != "cumulative_activity"]
    rows.append(
        {
            "country": "IND",
            "sector": "wind",
            "parameter": "cumulative_activity",
            "value": "1000",
            "unit": "mw",
            "year": "2016",
            "source_id": "rareflow-assumption",
            "choice": "chosen",
        }
    )
    write_table(tmp_path / "small", "in_use_history", rows)
    with pytest.raises(DataError, match="is not above the activity cited"):
        magnet_inflows(load_dataset(tmp_path / "small"), "IND", 2025)


def test_stock_inputs_draw_through_the_scenario_sampler(dataset: Dataset) -> None:
    # Every uncertain stock input is a number of the scenario sampler, with its own path ...
    sampler = draws(16, 5)
    base = in_use_stocks(dataset, "IND", 2025, sampler).stocks["magnet_stock"].sum("sector")
    paths = [p for p in sampler.distributions if p.startswith("stocks.")]
    assert any(p.startswith("stocks.lifetimes:") for p in paths)
    assert any(p.startswith("stocks.intensities:") for p in paths)
    # ... so a design matrix (sensitivity analysis) moves it: every draw at the top of its range.
    path = next(p for p in paths if p.startswith("stocks.intensities:two_wheeler"))
    top = Sampler(5, "random", 16, np.arange(16), design_matrix={path: np.full(16, 1 - 1e-12)})
    high = in_use_stocks(dataset, "IND", 2025, top).stocks["magnet_stock"].sum("sector")
    assert (high.to_numpy() >= base.to_numpy() - 1e-9).all()
    assert float(high.mean()) > float(base.mean())


def test_stock_inputs_take_part_in_lhs_and_sobol(dataset: Dataset) -> None:
    n = 8
    lhs = design_sampler(3, "lhs", n, lambda s: in_use_stocks(dataset, "IND", 2025, s))
    in_use_stocks(dataset, "IND", 2025, lhs)
    path = next(p for p in lhs.distributions if p.startswith("stocks.intensities:"))
    dist = lhs.distributions[path]
    edges = dist.ppf(np.arange(n + 1) / n)  # type: ignore[attr-defined]
    edges[0], edges[-1] = -np.inf, np.inf
    # Latin hypercube: one draw in each of the n equal-probability strata.
    assert sorted(np.searchsorted(edges, lhs.drawn[path]) - 1) == list(range(n))
    sobol = design_sampler(3, "sobol", n, lambda s: in_use_stocks(dataset, "IND", 2025, s))
    assert path in sobol.uncertain_paths
    assert all(p.startswith("stocks.") for p in sobol.uncertain_paths)
    in_use_stocks(dataset, "IND", 2025, sobol)
    assert set(sobol.distributions) == set(sobol.uncertain_paths)
