"""Recycled share of magnet needs, EoL-RIR, the rates a target takes, secondary resources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rareflow.analysis.recycling import (
    first_month_reaching,
    indicator_rows,
    rates_for_target,
    recycling_indicators,
    secondary_resources,
    yearly_rows,
)
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError, ScenarioError
from rareflow.scenario.load import load_scenario


def _results(months: int = 24) -> xr.Dataset:
    """Two draws, two magnets and an oxide, with known flows (t per step)."""
    time = pd.date_range("2030-01-01", periods=months, freq="MS")
    materials = ["magnet_ndfeb_sintered", "oxide_ndpr", "concentrate_mixed"]
    elements = ["Nd", "Pr", "Dy", "Tb", "Sm"]
    content = np.array(
        [
            [0.2325, 0.0775, 0.009, 0.0, 0.0],  # magnet
            [0.642, 0.214, 0.0, 0.0, 0.0],  # NdPr oxide
            [0.1, 0.03, 0.002, 0.0, 0.0],  # concentrate (t metal per t REO)
        ]
    )
    shape = (2, months, 3)
    recycled = np.zeros(shape)
    recycled[:, :, 0] = 2.0  # 2 t of magnets a month
    recycled[1, :, 1] = 1.0  # draw 1 also 1 t of NdPr oxide
    imports = np.zeros(shape)
    imports[:, :, 0] = 18.0
    local = recycled.copy()
    local[:, :, 2] = 10.0  # mine feed
    requirement = np.full((2, months, 1), 20.0)
    return xr.Dataset(
        {
            "recycled": (("draw", "time", "material"), recycled),
            "imports": (("draw", "time", "material"), imports),
            "local_supply": (("draw", "time", "material"), local),
            "requirement": (("draw", "time", "sector"), requirement),
        },
        coords={
            "draw": [0, 1],
            "time": time,
            "material": materials,
            "sector": ["ev_car"],
            "element": elements,
            "element_content": (("material", "element"), content),
        },
    )


def test_share_and_eol_rir_follow_their_definitions() -> None:
    res = _results()
    ind = recycling_indicators(res)
    # Draw 0: 2 t magnets recycled of 20 t required.
    np.testing.assert_allclose(ind["recycled_share"].isel(draw=0), 0.1)
    # Draw 1 adds 1 t NdPr oxide: (0.642 + 0.214) t of Nd+Pr = that many t metal, counted as
    # magnets at the magnet's rare-earth content (0.2325 + 0.0775 + 0.009 = 0.319).
    extra = (0.642 + 0.214) / 0.319
    np.testing.assert_allclose(ind["recycled_share"].isel(draw=1), (2.0 + extra) / 20.0)
    # EoL-RIR of Nd, draw 0: recycled 2 x 0.2325 over imports 18 x 0.2325 + local (2 x 0.2325 +
    # 10 x 0.1) = Nd from old scrap over all Nd entering the system.
    nd = ind["eol_rir"].sel(element="Nd").isel(draw=0)
    np.testing.assert_allclose(nd, 2 * 0.2325 / (18 * 0.2325 + 2 * 0.2325 + 10 * 0.1))
    assert list(ind["eol_rir"]["element"].to_numpy()) == ["Nd", "Pr", "Dy", "Tb"]


def test_yearly_values_are_ratios_of_yearly_sums() -> None:
    res = _results()
    res["requirement"][:, :12] = 10.0  # first year's needs halved
    yearly = recycling_indicators(res, yearly=True)["recycled_share"].isel(draw=0)
    np.testing.assert_allclose(yearly.sel(year=2030), 24 / 120)
    np.testing.assert_allclose(yearly.sel(year=2031), 24 / 240)
    rows = yearly_rows(res)
    assert [r["year"] for r in rows] == [2030, 2031]
    first = rows[0]["recycled_share"]
    assert 0.2 - 1e-12 <= first["p5"] <= first["median"] <= first["p95"]


def test_first_month_uses_the_trailing_year() -> None:
    res = _results(36)
    res["recycled"][:, :, 1] = 0.0  # magnets only, the same in both draws
    res["recycled"][:, :, 0] = np.where(np.arange(36) >= 12, 6.0, 0.0)[None, :]
    # 6 t of 20 t a month from 2031-01: the trailing 12 months reach 25% when 10 of them have
    # recycling (10 x 6 = 60 of 240).
    assert first_month_reaching(res, 0.25) == "2031-10"
    assert first_month_reaching(res, 0.31) is None


def test_indicator_rows_match_the_run_view_layout() -> None:
    rows = indicator_rows(_results())
    assert {r["indicator"] for r in rows} == {"recycled_share", "eol_rir"}
    share = next(r for r in rows if r["indicator"] == "recycled_share")
    assert set(share) == {
        "material",
        "indicator",
        "mean",
        "first_month",
        "last_month",
        "min_month",
        "max_month",
    }
    empty = _results()
    empty["recycled"][:] = 0.0
    assert indicator_rows(empty) == []


def test_old_results_without_recycling_are_named() -> None:
    with pytest.raises(InputError, match="lack recycled"):
        recycling_indicators(_results().drop_vars("recycled"))


def test_rates_grid_rises_with_collection_and_names_bad_requests(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("recycling-quarter-2035"), draws=2)
    points = rates_for_target(sc, 0.25, 2035, [0.5, 1.0], [1.0], preprocessing=(1.0,), draws=2)
    half, full = (p.share_in_year["median"] for p in points)
    assert half is not None
    assert full is not None
    assert full == pytest.approx(2 * half, rel=1e-9)  # no capacity limit: linear in collection
    assert points[0].first_month is None
    with pytest.raises(InputError, match="share in"):
        rates_for_target(sc, 1.5, 2035, [1.0], [1.0], draws=1)
    with pytest.raises(ScenarioError, match="before the end of 2036"):
        rates_for_target(sc, 0.25, 2036, [1.0], [1.0], draws=1)
    with pytest.raises(ScenarioError, match="no recycling lever"):
        rates_for_target(load_scenario("baseline"), 0.25, 2027, [1.0], [1.0], draws=1)


def test_secondary_resources_derive_contained_rare_earths(dataset: Dataset) -> None:
    rows = {(r["resource"], r["metric"]): r for r in secondary_resources(dataset, "IND")}
    fly = rows[("fly_ash", "contained_ree")]
    assert fly["value"] == pytest.approx(226e6 * 0.000425)  # CEA via CSE; IGCAR 350-500 mg/kg
    assert fly["basis"] == "derived"
    assert rows[("fly_ash", "recoverable_ree")]["value"] == pytest.approx(fly["value"] * 0.34)
    assert rows[("red_mud", "recovery")]["basis"] == "assumption"
    assert rows[("e_waste", "generated")]["year"] == 2024
    assert secondary_resources(dataset, "USA") == []
