"""The dataset loader: the embedded data is valid and cited; bad data is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import load_refusal, read_rows, write_table

import rareflow.data.load
from rareflow.data.load import Dataset, load_dataset
from rareflow.data.schema import TABLES


def test_embedded_dataset_loads(dataset: Dataset) -> None:
    for table in TABLES:
        assert not dataset.table(table.name).empty, f"{table.name} has no rows"


def test_every_row_of_every_table_has_an_existing_source(dataset: Dataset) -> None:
    known = set(dataset.table("sources")["source_id"])
    for table in TABLES:
        if table.name == "sources":
            continue
        ids = dataset.table(table.name)["source_id"]
        assert ids.notna().all(), f"{table.name}: a row has no source"
        missing = set(ids) - known
        assert not missing, f"{table.name}: unknown sources {missing}"


def test_dataset_cites_at_least_25_distinct_sources(dataset: Dataset) -> None:
    sources = dataset.table("sources")
    cited = sources[sources["kind"] != "assumption"]
    assert cited["source_id"].nunique() >= 25


def test_every_value_has_unit_year_and_choice(dataset: Dataset) -> None:
    for table in TABLES:
        if not table.is_values:
            continue
        df = dataset.table(table.name)
        for column in ("value", "unit", "year", "choice"):
            assert df[column].notna().all(), f"{table.name}.{column} has a blank"


def test_every_figure_resting_on_an_assumption_says_so_in_its_note(dataset: Dataset) -> None:
    # The project's rule: an assumption is labelled ASSUMPTION where it is used. A figure of a
    # value table citing rareflow's assumption source must say so in its note (read from the
    # CSV files, not through the loader). Derived and unverified figures are other kinds.
    kinds = {r["source_id"]: r["kind"] for r in read_rows("sources")}
    assert kinds.get("rareflow-assumption") == "assumption"
    figures = [
        (table.name, row.get("note", ""))
        for table in TABLES
        if table.is_values
        for row in read_rows(table.name)
        if row["source_id"] == "rareflow-assumption"
    ]
    assert len(figures) > 20
    unlabelled = [
        f"{name}.csv: {note[:60]!r}" for name, note in figures if "ASSUMPTION" not in note
    ]
    assert unlabelled == []


def test_usgs_editions_are_both_kept(dataset: Dataset) -> None:
    mines = dataset.table("mine_production")
    assert {"mcs2025", "mcs2026"} <= set(mines["edition"])
    ind = mines[(mines["country"] == "IND") & (mines["year"] == 2024)]
    assert set(ind["edition"]) == {"mcs2025", "mcs2026"}


def test_negative_capacity_is_named(tmp_path: Path) -> None:
    rows = read_rows("facilities")
    rows[0]["value"] = "-5"
    write_table(tmp_path, "facilities", rows[:1])
    msg = load_refusal(tmp_path)
    assert "facilities.csv, row 2, column 'value': negative quantity -5" in msg


def test_unknown_country_is_named(tmp_path: Path) -> None:
    rows = read_rows("mine_production")
    rows[0]["country"] = "XYZ"
    write_table(tmp_path, "mine_production", rows[:1])
    msg = load_refusal(tmp_path)
    assert "mine_production.csv, row 2, column 'country': unknown id: 'XYZ'" in msg


def test_shares_summing_to_1_3_are_named(tmp_path: Path) -> None:
    rows = read_rows("country_deposit_mix")
    country = rows[0]["country"]
    mine = [r for r in rows if r["country"] == country and r["choice"] == "chosen"]
    extra = dict(mine[0])
    # Re-state the country's mix as two deposit types summing to 1.3.
    types = [r["deposit_type"] for r in read_rows("deposit_types")]
    first = {**extra, "deposit_type": types[0], "value": "0.8", "low": "", "high": ""}
    second = {**extra, "deposit_type": types[1], "value": "0.5", "low": "", "high": ""}
    write_table(tmp_path, "country_deposit_mix", [first, second])
    msg = load_refusal(tmp_path)
    assert "country_deposit_mix.csv" in msg
    assert f"shares for country={country} sum to 1.3; expected 1" in msg


def test_missing_source_is_named(tmp_path: Path) -> None:
    rows = read_rows("prices")
    rows[0]["source_id"] = ""
    write_table(tmp_path, "prices", rows[:1])
    msg = load_refusal(tmp_path)
    assert "prices.csv, row 2, column 'source_id': no source" in msg


def test_unknown_source_is_named(tmp_path: Path) -> None:
    rows = read_rows("prices")
    rows[0]["source_id"] = "my-memory"
    write_table(tmp_path, "prices", rows[:1])
    msg = load_refusal(tmp_path)
    assert "prices.csv, row 2, column 'source_id': no source: 'my-memory'" in msg


def test_unit_mismatch_is_named(tmp_path: Path) -> None:
    rows = read_rows("mine_production")
    rows[0]["unit"] = "t_metal"
    write_table(tmp_path, "mine_production", rows[:1])
    msg = load_refusal(tmp_path)
    assert "mine_production.csv, row 2, column 'unit': unit mismatch: 't_metal'" in msg


def test_bad_number_and_unknown_column_are_named(tmp_path: Path) -> None:
    rows = read_rows("prices")
    rows[0]["value"] = "twelve"
    write_table(tmp_path, "prices", rows[:1])
    msg = load_refusal(tmp_path)
    assert "prices.csv, row 2, column 'value': 'twelve' is not a finite number" in msg
    (tmp_path / "prices.csv").write_text("material,value,colour\n", encoding="utf-8")
    msg = load_refusal(tmp_path)
    assert "column 'colour': unknown column" in msg
    assert "column 'unit': column is missing" in msg


def test_user_row_replaces_embedded_and_keeps_it_as_alternative(tmp_path: Path) -> None:
    rows = [r for r in read_rows("mine_production") if r["choice"] == "chosen"]
    row = {**rows[0], "value": "12345", "source_id": "rareflow-assumption", "note": "user"}
    write_table(tmp_path, "mine_production", [row])
    ds = load_dataset(tmp_path)
    key = (
        (ds.table("mine_production")["country"] == row["country"])
        & (ds.table("mine_production")["edition"] == row["edition"])
        & (ds.table("mine_production")["year"] == int(row["year"]))
    )
    chosen = ds.chosen("mine_production")[key.reindex(ds.chosen("mine_production").index)]
    assert chosen["value"].tolist() == [12345.0]
    assert ds.version != load_dataset().version
    old = ds.table("mine_production")[
        key & (ds.table("mine_production")["choice"] == "alternative")
    ]
    assert any("superseded by user data" in str(n) for n in old["note"])


def test_two_chosen_rows_for_one_key_are_refused(tmp_path: Path) -> None:
    rows = [r for r in read_rows("prices") if r["choice"] == "chosen"]
    write_table(tmp_path, "prices", [rows[0], {**rows[0], "value": "1"}])
    assert "a second chosen row" in load_refusal(tmp_path)


def test_oversized_file_is_refused_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_table(tmp_path, "prices", read_rows("prices")[:1])
    monkeypatch.setattr(rareflow.data.load, "MAX_FILE_BYTES", 10)
    assert "at most 10 are accepted" in load_refusal(tmp_path)
