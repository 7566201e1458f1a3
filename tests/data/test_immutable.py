"""The loaded dataset is immutable, and module caches are bounded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rareflow.cache import BoundedCache
from rareflow.data.load import load_dataset
from rareflow.stocks import in_use


def test_editing_a_table_never_changes_the_dataset() -> None:
    ds = load_dataset()
    before = ds.table("trade").copy(deep=True)
    got = ds.table("trade")
    got.loc[got.index[0], "value"] = -1.0
    got["extra"] = 1
    direct = ds.tables["trade"]
    direct.loc[:, "value"] = 0.0
    chosen = ds.chosen("trade")
    chosen.iloc[0, chosen.columns.get_loc("value")] = 123.0
    pd.testing.assert_frame_equal(ds.table("trade"), before)
    # The embedded dataset is cached: a later load sees the same, untouched figures.
    pd.testing.assert_frame_equal(load_dataset().table("trade"), before)
    with pytest.raises(TypeError):
        ds.tables["trade"] = before  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        ds.table("trade")["value"].to_numpy()[0] = 5.0


def test_bounded_cache_forgets_the_least_recently_used() -> None:
    cache: BoundedCache[int, int] = BoundedCache(2)
    made: list[int] = []

    def make(k: int) -> int:
        made.append(k)
        return k * k

    assert cache.get(1, lambda: make(1)) == 1
    assert cache.get(2, lambda: make(2)) == 4
    assert cache.get(1, lambda: make(1)) == 1  # kept: 1 is now the most recent
    assert cache.get(3, lambda: make(3)) == 9  # 2 is forgotten
    assert len(cache) == 2
    assert cache.get(2, lambda: make(2)) == 4
    assert made == [1, 2, 3, 2]
    with pytest.raises(ValueError, match="at least 1"):
        BoundedCache(0)


def test_stock_caches_are_bounded() -> None:
    ds = load_dataset()
    for year in range(2026, 2026 + in_use._END_OF_LIFE.maxsize + 5):
        key = (ds.version, "IND", year)
        in_use._END_OF_LIFE.get(key, lambda: xr.DataArray(np.zeros(1)))
    assert len(in_use._END_OF_LIFE) == in_use._END_OF_LIFE.maxsize
    in_use._END_OF_LIFE.clear()
