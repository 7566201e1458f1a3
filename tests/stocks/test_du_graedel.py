"""Du & Graedel (2011): in-use stocks of Nd, Pr, Dy and Tb in NdFeB magnets in 2007.

Published (J. Ind. Ecol. 15(6):836-843, abstract): 62.6 Gg Nd, 15.7 Gg Pr, 15.7 Gg Dy, 3.1 Gg Tb.
Their inputs (magnet production by application since 1983, lifetimes, element contents) were
not found (see ``inputs`` in ``rareflow/stocks/data/du_graedel_2011.json``), so the stocks cannot
be recomputed here. What is tested: the published figures as stored, with a source and a note
each; and that rareflow's model splits a magnet stock into element stocks the way their element
estimates do (fixed content, the same lifetimes for every element), which reproduces the
published composition exactly. The magnitude of the stock is not tested.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import xarray as xr

from rareflow.dims import ELEMENT, SECTOR, YEAR
from rareflow.stocks import NormalLifetime, inflow_driven

PUBLISHED_GG = {"Nd": 62.6, "Pr": 15.7, "Dy": 15.7, "Tb": 3.1}


def load() -> dict[str, Any]:
    text = resources.files("rareflow.stocks").joinpath("data/du_graedel_2011.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def test_published_stocks_are_stored_with_source_and_note() -> None:
    data = load()
    rows = data["published_in_use_stock_2007"]
    assert {r["element"]: r["value"] for r in rows} == PUBLISHED_GG
    for row in [*rows, *data["related_published"]]:
        assert row["source"] in data["sources"]
        assert row["note"]
        assert row["unit"] == "Gg"
    assert data["inputs"]["status"] == "not found"


def test_element_split_reproduces_published_composition() -> None:
    years = np.arange(1983, 2008)
    magnets = xr.DataArray(
        np.exp(0.2 * np.arange(len(years)))[:, None] * [3.0, 1.0],
        dims=[YEAR, SECTOR],
        coords={YEAR: years, SECTOR: ["motors", "electronics"]},
    )
    total = sum(PUBLISHED_GG.values())
    content = xr.DataArray(
        [v / total for v in PUBLISHED_GG.values()],
        dims=[ELEMENT],
        coords={ELEMENT: list(PUBLISHED_GG)},
    )
    lifetime = NormalLifetime(
        mean=xr.DataArray([15.0, 5.0], dims=[SECTOR], coords={SECTOR: ["motors", "electronics"]}),
        std=xr.DataArray([4.0, 1.5], dims=[SECTOR], coords={SECTOR: ["motors", "electronics"]}),
    )
    stock = inflow_driven(magnets * content, lifetime).stock.sel({YEAR: 2007}).sum(SECTOR)
    scaled = stock / stock.sum() * total
    for element, value in PUBLISHED_GG.items():
        assert np.isclose(float(scaled.sel({ELEMENT: element})), value, rtol=1e-12)
