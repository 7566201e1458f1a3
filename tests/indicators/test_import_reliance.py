"""Net import reliance (USGS Mineral Commodity Summaries definitions)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rareflow.errors import DataError
from rareflow.indicators.import_reliance import (
    NET_EXPORTER,
    apparent_consumption,
    net_import_reliance,
    net_import_reliance_table,
)


def test_hand_worked() -> None:
    # production 10, imports 100, exports 20: consumption 90; NIR = 80 / 90 = 0.8889
    assert apparent_consumption(10, 100, 20) == 90
    assert net_import_reliance(10, 100, 20) == pytest.approx(80 / 90)


def test_stock_release_enters_numerator_and_consumption() -> None:
    # + 10 released from stocks: (100 - 20 + 10) / (10 + 100 - 20 + 10) = 90 / 100
    assert net_import_reliance(10, 100, 20, stock_release=10) == pytest.approx(0.9)


def test_net_exporter_is_e() -> None:
    assert net_import_reliance(100, 10, 50) == NET_EXPORTER


def test_no_consumption_is_a_data_error() -> None:
    with pytest.raises(DataError, match="apparent consumption"):
        net_import_reliance(0, 0, 0)


def test_table() -> None:
    table = net_import_reliance_table(
        pd.DataFrame(
            {"production": [10.0, 100.0], "imports": [100.0, 10.0], "exports": [20.0, 50.0]},
            index=pd.Index(["IND", "CHN"], name="country"),
        )
    )
    assert table.loc["IND", "net_import_reliance"] == pytest.approx(80 / 90)
    assert math.isnan(table.loc["CHN", "net_import_reliance"])
    assert bool(table.loc["CHN", "net_exporter"])


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1e6))
def test_nir_between_zero_and_one(p: float, i: float, e: float) -> None:
    if i - e < 0:
        assert net_import_reliance(p, i, e) == NET_EXPORTER
    elif p + i - e > 0:
        nir = net_import_reliance(p, i, e)
        assert isinstance(nir, float)
        assert 0 <= nir <= 1 + 1e-12
