"""Du & Graedel (2011): in-use stocks of Nd, Pr, Dy and Tb in NdFeB magnets in 2007.

Published (J. Ind. Ecol. 15(6):836-843, abstract): 62.6 Gg Nd, 15.7 Gg Pr, 15.7 Gg Dy, 3.1 Gg Tb.
Their inputs (magnet production by application since 1983, lifetimes, element contents) were
not found (see ``inputs`` in ``rareflow/stocks/data/du_graedel_2011.json``), so the stocks cannot
be recomputed here, and the magnitude of the stock is not tested. What is tested: the published
figures as stored, with a source and a note each; that the stock model, run on an illustrative
magnet inflow with the published composition as the element content, gives the stock that an
independent computation gives (a cohort sum of survival shares integrated numerically with
SciPy, not rareflow's closed form); and, as a property of any model linear in its inflow, that a
fixed element content keeps the published element shares (named for what it is).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import xarray as xr
from scipy.integrate import quad
from scipy.stats import norm

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


YEARS = np.arange(1983, 2008)
SECTORS = ["motors", "electronics"]
MEAN, STD = [15.0, 5.0], [4.0, 1.5]


def _inputs() -> tuple[xr.DataArray, xr.DataArray, NormalLifetime]:
    magnets = xr.DataArray(
        np.exp(0.2 * np.arange(len(YEARS)))[:, None] * [3.0, 1.0],
        dims=[YEAR, SECTOR],
        coords={YEAR: YEARS, SECTOR: SECTORS},
    )
    total = sum(PUBLISHED_GG.values())
    content = xr.DataArray(
        [v / total for v in PUBLISHED_GG.values()],
        dims=[ELEMENT],
        coords={ELEMENT: list(PUBLISHED_GG)},
    )
    lifetime = NormalLifetime(
        mean=xr.DataArray(MEAN, dims=[SECTOR], coords={SECTOR: SECTORS}),
        std=xr.DataArray(STD, dims=[SECTOR], coords={SECTOR: SECTORS}),
    )
    return magnets, content, lifetime


def _independent_stock(inflow: np.ndarray, mean: float, std: float) -> np.ndarray:
    """End-of-year stock: entries spread evenly over their year, survival integrated by quad.

    The share of a cohort in use ``k`` years after its entry year is the mean of the normal
    survival function over the ages ``[k, k + 1]`` it can have at the end of year ``k``.
    """
    n = len(inflow)
    share = [quad(lambda a: norm.sf(a, mean, std), k, k + 1)[0] for k in range(n)]
    return np.array([sum(inflow[c] * share[t - c] for c in range(t + 1)) for t in range(n)])


def test_stock_matches_an_independent_cohort_sum() -> None:
    magnets, content, lifetime = _inputs()
    stock = inflow_driven(magnets * content, lifetime).stock
    for s, sector in enumerate(SECTORS):
        for element in PUBLISHED_GG:
            inflow = (magnets * content).sel({SECTOR: sector, ELEMENT: element}).to_numpy()
            want = _independent_stock(inflow, MEAN[s], STD[s])
            got = stock.sel({SECTOR: sector, ELEMENT: element}).transpose(YEAR).to_numpy()
            np.testing.assert_allclose(got, want, rtol=1e-8)


def test_fixed_content_keeps_the_published_element_shares() -> None:
    # A property of any stock model linear in its inflow, not a check of Du and Graedel's
    # stock: with one content for every cohort, element stocks keep the content's shares.
    magnets, content, lifetime = _inputs()
    total = sum(PUBLISHED_GG.values())
    stock = inflow_driven(magnets * content, lifetime).stock.sel({YEAR: 2007}).sum(SECTOR)
    scaled = stock / stock.sum() * total
    for element, value in PUBLISHED_GG.items():
        assert np.isclose(float(scaled.sel({ELEMENT: element})), value, rtol=1e-12)
