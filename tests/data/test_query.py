"""The query layer (rareflow.data.query): one rule per question, answers with their provenance."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from rareflow.data import query
from rareflow.data.load import Dataset, embedded_dir, load_dataset
from rareflow.errors import DataError, InputError


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset()


def _user_table(directory: Path, table: str, rows: list[dict[str, object]]) -> None:
    """Write a user table with the embedded header (empty cells for columns not given)."""
    with (embedded_dir() / f"{table}.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with (directory / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in header} for r in rows)


def test_latest_rows_keeps_the_last_row_of_the_latest_year_in_file_order() -> None:
    df = pd.DataFrame(
        {"k": ["a", "a", "a", "b"], "year": [2024, 2025, 2025, 2020], "value": [1, 2, 3, 4]}
    )
    got = query.latest_rows(df, ("k",)).sort_values("k")
    assert got["value"].tolist() == [3, 4]
    assert query.latest_rows(df)["value"].tolist() == [3]
    assert query.latest_rows(df.iloc[:0], ("k",)).empty


def test_industry_cover_in_weeks_with_range_and_source(dataset: Dataset) -> None:
    cover = query.industry_cover(dataset, "IND")
    # inventories.csv: Indian industry's cover on 4 April 2025, 11-16 weeks (an assumption read
    # from June 2025 reports; the Indian Express's 2-3 weeks left in June is an alternative).
    assert (cover.value, cover.low, cover.high, cover.unit) == (13.5, 11.0, 16.0, "weeks")
    assert cover.sources == ("rareflow-assumption",)
    assert cover.year == 2025
    with pytest.raises(InputError, match="no industry magnet cover for USA"):
        query.industry_cover(dataset, "USA")


def test_industry_cover_takes_the_latest_year_and_converts_its_unit(tmp_path: Path) -> None:
    # The compiler used to take the first row in file order: a newer survey must win, in any
    # time unit.
    base = {
        "country": "IND",
        "holder": "industry",
        "material": "magnets_rare_earth",
        "metric": "cover",
        "source_id": "indianexpress-2025-magnets",
        "choice": "chosen",
    }
    _user_table(
        tmp_path,
        "inventories",
        [
            {**base, "value": 1, "low": 0.5, "high": 2, "unit": "months", "year": 2026},
            {**base, "value": 9, "unit": "weeks", "year": 2019},
        ],
    )
    cover = query.industry_cover(load_dataset(tmp_path), "IND")
    assert cover.year == 2026
    assert cover.value == pytest.approx(365.25 / 12 / 7)
    assert cover.low == pytest.approx(0.5 * 365.25 / 12 / 7)
    assert "months" in cover.note


def test_industry_cover_refuses_a_unit_that_is_not_time(tmp_path: Path) -> None:
    _user_table(
        tmp_path,
        "inventories",
        [
            {
                "country": "IND",
                "holder": "industry",
                "material": "magnets_rare_earth",
                "metric": "cover",
                "value": 3,
                "unit": "t_magnet",
                "year": 2026,
                "source_id": "indianexpress-2025-magnets",
                "choice": "chosen",
            }
        ],
    )
    with pytest.raises(DataError, match="expected a time unit"):
        query.industry_cover(load_dataset(tmp_path), "IND")


def test_plants_count_operating_unless_asked(dataset: Dataset) -> None:
    magnets = query.plants(dataset, "IND", stage="magnet", materials={"magnet_ndfeb_sintered"})
    assert magnets == ()
    building = query.plants(
        dataset,
        "IND",
        statuses=("operating", "under_construction"),
        materials={"magnet_ndfeb_sintered"},
    )
    assert [(p.facility, p.figure.value, p.figure.unit) for p in building] == [
        ("midwest-hyderabad", 500.0, "t_magnet_per_year")
    ]
    # India makes no rare-earth metal (IREL's 'neodymium' is stored as oxide); its NdPr oxide
    # capacity is about 40 t/yr (27-53), not the 500 t/yr allocation nor the planned rows.
    assert query.plants(dataset, "IND", stage="metal") == ()
    oxide = query.plants(dataset, "IND", stage="separation", materials={"oxide_ndpr"})
    assert [(p.facility, p.figure.value, p.figure.low) for p in oxide] == [
        ("irel-ndpr", 40.0, 27.0)
    ]


def test_import_shares_of_the_embedded_data(dataset: Dataset) -> None:
    magnets = query.import_shares(dataset, "IND", "magnet")
    # ICRA 2025 (trade.csv): rare-earth magnets proper before all permanent magnets (ferrite).
    assert dict(magnets.shares) == pytest.approx({"CHN": 0.85, "ROW": 0.15})
    assert (magnets.basis, magnets.material, magnets.metric, magnets.year) == (
        "imports",
        "magnets_rare_earth",
        "share_of_value",
        2025,
    )
    assert not magnets.user_data
    oxide = query.import_shares(dataset, "IND", "separation")
    assert oxide.basis == "world output"
    assert sum(oxide.shares.values()) == pytest.approx(1.0)
    assert oxide.shares["CHN"] > 0.5
    assert oxide.parts["CHN"].sources


def test_user_trade_rows_win_and_flows_become_shares(tmp_path: Path) -> None:
    # Rows as `rareflow data import-trade` writes them: quantity and value by partner, HS 8505.11.
    base = {
        "importer": "IND",
        "material": "hs850511_magnets_metal",
        "year": 2024,
        "source_id": "usgs-mcs2026",
        "choice": "chosen",
    }
    _user_table(
        tmp_path,
        "trade",
        [
            {**base, "partner": "CHN", "metric": "quantity", "value": 600, "unit": "t"},
            {**base, "partner": "JPN", "metric": "quantity", "value": 300, "unit": "t"},
            {**base, "partner": "VNM", "metric": "quantity", "value": 100, "unit": "t"},
            {**base, "partner": "CHN", "metric": "value", "value": 9e6, "unit": "usd"},
            {**base, "partner": "JPN", "metric": "value", "value": 1e6, "unit": "usd"},
        ],
    )
    magnets = query.import_shares(load_dataset(tmp_path), "IND", "magnet")
    assert magnets.user_data
    assert (magnets.material, magnets.metric, magnets.year) == (
        "hs850511_magnets_metal",
        "quantity",
        2024,
    )
    assert dict(magnets.shares) == pytest.approx({"CHN": 0.6, "JPN": 0.3, "VNM": 0.1})
    assert "from your data" in magnets.note
    assert "shares computed" in magnets.note
