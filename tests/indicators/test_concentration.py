"""Concentration indicators: HHI (Herfindahl 1950; DOJ/FTC 2010 scale), top-1 and top-3 shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.dims import COUNTRY, ELEMENT, PARTNER, STAGE, TIME
from rareflow.errors import DataError
from rareflow.indicators.concentration import Scale, concentration_dataset, concentration_table


def _world() -> pd.DataFrame:
    return pd.DataFrame(
        {
            STAGE: ["mining"] * 3 + ["magnet"] * 2,
            ELEMENT: ["Nd"] * 5,
            COUNTRY: ["CHN", "AUS", "USA", "CHN", "JPN"],
            "value": [70.0, 20.0, 10.0, 90.0, 10.0],
        }
    )


def test_hand_worked_by_stage_and_element() -> None:
    # mining: 0.7^2 + 0.2^2 + 0.1^2 = 0.49 + 0.04 + 0.01 = 0.54; magnet: 0.81 + 0.01 = 0.82
    table = concentration_table(_world(), by=[STAGE, ELEMENT])
    assert table.loc[("mining", "Nd"), "hhi"] == pytest.approx(0.54)
    assert table.loc[("magnet", "Nd"), "hhi"] == pytest.approx(0.82)
    assert table.loc[("mining", "Nd"), "top1"] == "CHN"
    assert table.loc[("mining", "Nd"), "top1_share"] == pytest.approx(0.7)
    assert table.loc[("magnet", "Nd"), "n_suppliers"] == 2


def test_points_scale() -> None:
    table = concentration_table(_world(), by=[STAGE, ELEMENT], scale=Scale.POINTS)
    assert table.loc[("mining", "Nd"), "hhi"] == pytest.approx(5400.0)


def test_import_shares_over_partner_and_time() -> None:
    # India's imports of magnets from partners, two years: 2024 all from CHN (HHI 1);
    # 2025 CHN 60, JPN 30, VNM 10: 0.36 + 0.09 + 0.01 = 0.46, top-3 = 1.
    imports = pd.DataFrame(
        {
            TIME: [2024, 2025, 2025, 2025],
            PARTNER: ["CHN", "CHN", "JPN", "VNM"],
            "value": [100.0, 60.0, 30.0, 10.0],
        }
    )
    table = concentration_table(imports, over=PARTNER)
    assert table.loc[2024, "hhi"] == pytest.approx(1.0)
    assert table.loc[2025, "hhi"] == pytest.approx(0.46)
    assert table.loc[2025, "top3_share"] == pytest.approx(1.0)


def test_xarray_matches_pandas() -> None:
    df = _world()
    da = df.set_index([STAGE, ELEMENT, COUNTRY])["value"].to_xarray().fillna(0.0)
    ds = concentration_dataset(da)
    table = concentration_table(df, by=[STAGE, ELEMENT])
    for stage in ("mining", "magnet"):
        assert float(ds["hhi"].sel({STAGE: stage, ELEMENT: "Nd"})) == pytest.approx(
            table.loc[(stage, "Nd"), "hhi"]
        )
        assert float(ds["top3_share"].sel({STAGE: stage, ELEMENT: "Nd"})) == pytest.approx(
            table.loc[(stage, "Nd"), "top3_share"]
        )


def test_zero_total_gives_nan() -> None:
    da = xr.DataArray(np.zeros((1, 2)), dims=(TIME, COUNTRY))
    assert np.isnan(float(concentration_dataset(da)["hhi"][0]))


def test_negative_quantity_is_a_data_error() -> None:
    bad = _world().assign(value=[-1.0, 1, 1, 1, 1])
    with pytest.raises(DataError, match="non-negative"):
        concentration_table(bad, by=[STAGE, ELEMENT])


def test_missing_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="column 'partner'"):
        concentration_table(_world(), over=PARTNER, by=[STAGE])


quantities = st.lists(st.floats(0.01, 1e6), min_size=1, max_size=12)


# No deadline: the first call pays for pandas' and xarray's lazy imports.
@settings(deadline=None)
@given(quantities)
def test_hhi_bounds_and_share_order(q: list[float]) -> None:
    n = len(q)
    df = pd.DataFrame({COUNTRY: [f"C{i}" for i in range(n)], "value": q})
    row = concentration_table(df).iloc[0]
    assert 1 / n - 1e-9 <= row["hhi"] <= 1 + 1e-9
    assert row["top1_share"] <= row["top3_share"] + 1e-12 <= 1 + 1e-9
    assert row["top1_share"] ** 2 <= row["hhi"] + 1e-12


@settings(deadline=None)
@given(st.lists(st.lists(st.floats(0.01, 1e3), min_size=4, max_size=4), min_size=1, max_size=5))
def test_xarray_vectorised_over_time(rows: list[list[float]]) -> None:
    arr = np.array(rows)
    da = xr.DataArray(arr, dims=(TIME, COUNTRY))
    ds = concentration_dataset(da)
    shares = arr / arr.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ds["hhi"].values, (shares**2).sum(axis=1))
    np.testing.assert_allclose(ds["top3_share"].values, np.sort(shares, axis=1)[:, 1:].sum(axis=1))
