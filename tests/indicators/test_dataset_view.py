"""Concentration and net import reliance on rareflow's dataset (rareflow.indicators.dataset_view).

Expected values are worked by hand from the dataset rows they cite.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from rareflow.data.load import Dataset, load_dataset
from rareflow.indicators.dataset_view import (
    import_concentration,
    mine_concentration,
    net_import_reliance_by_stage,
    stage_concentration,
)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset()


def _rows(table: pd.DataFrame, *keys: str) -> dict[Any, dict[str, Any]]:
    """Rows keyed by one column's value, or a tuple of several."""
    out: dict[Any, dict[str, Any]] = {}
    for r in table.to_dict("records"):
        row = {str(k): v for k, v in r.items()}
        out[tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]] = row
    return out


def test_stage_concentration_by_year(dataset: Dataset) -> None:
    table = _rows(stage_concentration(dataset), "stage", "year")
    # IEA GCMO 2025: China ~94% of magnet output; Japan 0.04 (assumption), the rest a residual.
    magnet = table["magnet", 2024]
    assert magnet["hhi"] == pytest.approx(0.94**2 + 0.04**2 + 0.02**2)
    assert magnet["hhi_min"] == pytest.approx(0.94**2 + 0.04**2)
    assert magnet["top3_share"] == pytest.approx(1.0)
    assert magnet["top1"] == "CHN"
    # Separation 2023 (IEA GCMO 2024): CHN 0.92, MYS 0.05, AUS 0.01, ROW 0.02 - one year only,
    # never mixed with the 2024 row (CHN 0.91).
    sep = table["separation", 2023]
    assert sep["hhi"] == pytest.approx(0.92**2 + 0.05**2 + 0.01**2 + 0.02**2)
    assert sep["top3_share"] == pytest.approx(0.99)
    assert table["separation", 2024]["top1_share"] == pytest.approx(0.91)
    # Separation 2024: China 0.91 (IEA), Malaysia 0.05 (assumption), the rest 0.025, US 0.015.
    assert table["separation", 2024]["top3_share"] == pytest.approx(0.985)
    assert "rareflow-assumption" in table["metal", 2024]["sources"]


def test_mine_concentration_uses_country_rows(dataset: Dataset) -> None:
    row = _rows(mine_concentration(dataset), "edition", "year")["mcs2026", 2025]
    # USGS MCS 2026, 2025: China 270,000 of the listed countries' 389,310 t REO.
    assert row["top1_share"] == pytest.approx(270_000 / 389_310)
    assert row["top1"] == "CHN"
    assert row["residual_share"] == pytest.approx(550 / 389_310)


def test_import_concentration_india(dataset: Dataset) -> None:
    table = _rows(import_concentration(dataset, "IND"), "material")
    # ICRA 2025: China ~85% of India's rare-earth magnet imports.
    assert table["magnets_rare_earth"]["hhi"] == pytest.approx(0.85**2 + 0.15**2)
    assert table["magnets_rare_earth"]["hhi_min"] == pytest.approx(0.85**2)


def test_net_import_reliance_only_on_one_basis(dataset: Dataset) -> None:
    table = _rows(net_import_reliance_by_stage(dataset, "IND"), "stage")
    assert list(table) == ["mining", "separation", "metal", "magnet"]
    # No import tonnage in t REO, t oxide or t metal: skipped, never mixed with t magnet.
    assert all(table[s]["status"] == "skipped" for s in ("mining", "separation", "metal"))
    assert "usd_million" in table["separation"]["note"]
    magnet = table["magnet"]
    assert magnet["status"] == "computed"
    # 870 t imported (commerce data, FY2024-25); only IREL's 3 t/yr SmCo plant operates.
    assert magnet["net_import_reliance"] == pytest.approx(1.0)
    assert magnet["net_import_reliance_low"] == pytest.approx(870 / 873)
    assert "ASSUMPTION" in magnet["note"]
