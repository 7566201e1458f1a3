"""Prices of the import bill: every commodity priced where the dataset can, the rest named."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile.baseline import base_prices
from rareflow.scenario.load import load_scenario


def test_magnets_are_priced_from_chinas_export_unit_value(dataset: Dataset) -> None:
    price, notes = base_prices(dataset)
    sintered = price[COMMODITY_IDS.index("magnet_ndfeb_sintered")]
    # prices.csv: USD 2.86 billion / 58,152 t of magnets exported by China in 2024 (Adamas).
    assert sintered == pytest.approx(49.2)
    assert price[COMMODITY_IDS.index("oxide_ndpr")] == pytest.approx(69.0)  # USGS 2025
    assert "china_export_unit_value 2024" in notes[0]


def test_a_commodity_without_a_price_is_named(dataset: Dataset) -> None:
    price, notes = base_prices(dataset)
    unpriced = [c for c, p in zip(COMMODITY_IDS, price, strict=True) if np.isnan(p)]
    assert "metal_sm" in unpriced
    assert all(c in notes[-1] for c in unpriced)


def test_a_rupee_price_is_converted_at_its_years_rate(dataset: Dataset) -> None:
    table = dataset.tables["prices"]
    keep = table[table["material"] != "magnet_ndfeb_sintered"].copy()
    row = table[table["material"] == "magnets_rare_earth"].iloc[[0]].copy()
    row["material"] = "magnet_ndfeb_sintered"  # India's unit value, Rs 3,517/kg in FY2025
    thinned = dataclasses.replace(
        dataset, tables={**dataset.tables, "prices": pd.concat([keep, row])}
    )
    price, _ = base_prices(thinned)
    # exchange_rates.csv: Rs 85.75 per USD in 2025.
    assert price[COMMODITY_IDS.index("magnet_ndfeb_sintered")] == pytest.approx(3517 / 85.75)


def test_the_run_names_arrivals_the_bill_leaves_out(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("china-2025-april"), draws=2, seed=1, horizon_months=12)
    results = run(sc, dataset=dataset).results
    assert float(results["import_cost"].sum()) > 0
    named = results["import_cost"].attrs["unpriced"].split(", ")
    price, _ = base_prices(dataset)
    arrived = results["imports"].sum(["draw", "time"]).to_series()
    for k, c in enumerate(COMMODITY_IDS):
        assert (c in named) == bool(np.isnan(price[k]) and arrived[c] > 0)
