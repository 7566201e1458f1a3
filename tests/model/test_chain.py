"""The value-chain model built from the dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import read_rows, write_table

from rareflow.data.load import Dataset, load_dataset
from rareflow.errors import DataError, InputError
from rareflow.model import build_chain, chain_view
from rareflow.model.composition import metal_fraction_of_oxide
from rareflow.model.view import chain_rows


def test_metal_fraction_of_oxide_follows_stoichiometry(dataset: Dataset) -> None:
    frac = metal_fraction_of_oxide(dataset)
    # Nd2O3: 2 x 144.242 / (2 x 144.242 + 3 x 15.999) = 0.8574
    assert float(frac.sel(element="Nd")) == pytest.approx(0.8574, abs=5e-4)
    # CeO2: 140.116 / (140.116 + 2 x 15.999) = 0.8141
    assert float(frac.sel(element="Ce")) == pytest.approx(0.8141, abs=5e-4)


def test_india_chain_has_named_dimensions_and_balanced_ore_shares(dataset: Dataset) -> None:
    chain = build_chain("IND", dataset)
    assert chain.ore_shares.dims == ("country", "element")
    np.testing.assert_allclose(chain.ore_shares.sum("element"), 1.0, rtol=1e-12)
    assert chain.demand.demand.dims == ("sector", "material")
    assert float(chain.demand.demand.sum()) > 0
    assert (chain.demand.demand >= 0).all()
    assert chain.stage_share.sel(country="CHN").max() > 0.5


def test_unknown_focal_country_is_refused(dataset: Dataset) -> None:
    with pytest.raises(InputError, match="unknown country 'ATL'"):
        build_chain("ATL", dataset)


def test_intensity_in_the_wrong_unit_for_its_sector_is_named(tmp_path: Path) -> None:
    rows = [
        r
        for r in read_rows("intensities")
        if r["sector"] == "ev_car"
        and r["metric"] == "intensity"
        and r["choice"] == "chosen"
        and r["unit"] == "kg_magnet_per_unit"
    ]
    assert rows, "the dataset should give an EV magnet intensity per vehicle"
    write_table(tmp_path, "intensities", [{**rows[0], "unit": "t_magnet_per_mw"}])
    with pytest.raises(DataError, match=r"intensities.csv, row 2, column 'unit': unit mismatch"):
        build_chain("IND", load_dataset(tmp_path))


def test_chain_view_covers_key_items_with_china_share_and_sources(dataset: Dataset) -> None:
    view = chain_view("IND", dataset)
    items = {e["item"] for e in view["entries"]}
    assert {"Nd", "Pr", "Dy", "Tb", "Sm", "magnet_ndfeb_sintered"} <= items
    magnet = next(
        e
        for e in view["entries"]
        if e["stage"] == "magnet" and e["item"] == "magnet_ndfeb_sintered"
    )
    assert magnet["china_share_world"]["value"] > 0.8
    assert magnet["china_share_imports"], "China's share of India's magnet imports"
    partners = {p["partner"] for imp in magnet["imports"] for p in imp["partners"]}
    assert "CHN" in partners
    for e in view["entries"]:
        for d in e["domestic"]:
            assert d["source_id"]


def test_world_stage_shares_come_from_one_year_and_sum_to_one(dataset: Dataset) -> None:
    chain = build_chain("IND", dataset)
    np.testing.assert_allclose(chain.stage_share.sum("country"), 1.0, atol=0.011)


def test_chain_rows_say_which_split_the_engine_uses_without_trade_rows(dataset: Dataset) -> None:
    # Germany has no trade rows: the chain says so and names the world shares the engine uses.
    rows = chain_rows(chain_view("DEU", dataset))
    mining = next(r for r in rows if r["stage"] == "mining" and r["item"] == "Nd")
    assert mining["imports_by_source"].startswith("none reported; the engine uses world output")
    assert "CHN 69%" in mining["imports_by_source"]
    assert "rareflow-derived" in mining["sources"]
