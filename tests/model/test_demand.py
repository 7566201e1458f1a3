"""Sector demand: growth per sector with the economy-wide fallback, and directly given needs."""

from __future__ import annotations

import dataclasses

import pytest

from rareflow.data.load import Dataset
from rareflow.data.query import ALL_SECTORS, growth_rows
from rareflow.model.demand import sector_demand


def _without_growth_of(dataset: Dataset, sector: str) -> Dataset:
    table = dataset.tables["demand_growth"]
    tables = {**dataset.tables, "demand_growth": table[table["sector"] != sector]}
    return dataclasses.replace(dataset, tables=tables)


def test_each_sector_grows_at_its_own_rate(dataset: Dataset) -> None:
    growth = sector_demand(dataset, "IND").growth.to_series()
    # demand_growth.csv, 2030 rows: e-buses 35%/yr, passenger vehicles 4%/yr (assumptions).
    assert growth["ev_bus"] == pytest.approx(0.35)
    assert growth["ice_vehicle"] == pytest.approx(0.04)
    assert growth.nunique() > 5


def test_a_sector_without_a_row_grows_at_the_economy_wide_rate(dataset: Dataset) -> None:
    fallback = growth_rows(dataset, "IND", [ALL_SECTORS])[ALL_SECTORS]
    # PIB 2025: India's magnet consumption doubles 2025-2030, 2^(1/5) - 1.
    assert float(fallback["value"]) == pytest.approx(2 ** (1 / 5) - 1, abs=1e-4)
    thinned = _without_growth_of(dataset, "medical")
    growth = sector_demand(thinned, "IND").growth.to_series()
    assert growth["medical"] == pytest.approx(float(fallback["value"]))
    assert growth["ev_bus"] == pytest.approx(0.35)  # the others keep their own


def test_no_rate_at_all_holds_a_sector_constant(dataset: Dataset) -> None:
    thinned = _without_growth_of(_without_growth_of(dataset, "medical"), ALL_SECTORS)
    assert "medical" not in growth_rows(thinned, "IND", ["medical"])
    assert sector_demand(thinned, "IND").growth.to_series()["medical"] == 0.0


def test_defence_need_is_given_in_tonnes_and_split_by_magnet_type(dataset: Dataset) -> None:
    demand = sector_demand(dataset, "IND").demand.sel(sector="defence").to_series()
    # sector_activity.csv: 50 t/yr (assumption); intensities.csv: NdFeB 0.6, SmCo 0.4.
    assert demand["magnet_ndfeb_sintered"] == pytest.approx(30.0)
    assert demand["magnet_smco"] == pytest.approx(20.0)
