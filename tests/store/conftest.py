from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rareflow.store import RunRecord, RunStore

MakeRecord = Callable[..., RunRecord]


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "store")


@pytest.fixture(scope="session")
def make_record() -> MakeRecord:
    def make(**overrides: Any) -> RunRecord:
        fields: dict[str, Any] = {
            "kind": "run",
            "name": "baseline",
            "scenario_given": "name: baseline\n",
            "scenario_resolved": "name: baseline\nhorizon: 2035\n",
            "data_version": "sha256:0123abcd",
            "code_version": "0.1.0",
            "seed": 42,
            "started_at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
            "finished_at": datetime(2026, 1, 2, 3, 5, 0, tzinfo=UTC),
            "summary": {"shortfall_t": 12.5, "years": [2030, 2035]},
        }
        fields.update(overrides)
        return RunRecord(**fields)

    return make


@pytest.fixture
def dataset() -> xr.Dataset:
    rng = np.random.default_rng(0)
    time = pd.date_range("2030-01-01", periods=6, freq="MS").to_numpy().astype("datetime64[ns]")
    return xr.Dataset(
        {
            "supply": (("time", "country"), rng.random((6, 3)), {"units": "t REO"}),
            "price": (("time",), rng.random(6) * 100, {"units": "USD/kg", "basis": "metal"}),
        },
        coords={"time": time, "country": ["CHN", "IND", "USA"]},
        attrs={"scenario": "baseline"},
    )
