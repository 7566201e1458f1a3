"""CLI tables are written for readers (names, months, ₹ crore); JSON and CSV keep the ids."""

from __future__ import annotations

import json

import pytest

from rareflow import display
from rareflow.cli import output
from rareflow.cli.output import Format, emit
from rareflow.data.load import Dataset
from rareflow.ids import Sector
from rareflow.model.network import COMMODITY_IDS

ROWS = [
    {
        "sector": "ev_car",
        "partner": "CHN",
        "lever": "stockpile[0]",
        "first month short": "2025-05 [2025-05..2025-07]",
        "scenario": "china-2025-april",
        "value lost (Rs crore)": 1.5,
    }
]


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output.console, "width", 250)


def test_every_sector_material_and_country_has_a_name(dataset: Dataset) -> None:
    for identifier in [*(s.value for s in Sector), *COMMODITY_IDS]:
        assert identifier in display.NAMES, identifier
    for country in dataset.table("countries")["country"]:
        assert country in display.NAMES, country


def test_table_writes_names_months_and_rupees(
    wide: None, capsys: pytest.CaptureFixture[str]
) -> None:
    emit(ROWS, Format.TABLE, title="t")
    out = capsys.readouterr().out
    for shown in ("Electric cars", "China", "Government stockpile (lever 1)", "₹ crore"):
        assert shown in out
    assert "May 2025 [May 2025..Jul 2025]" in out
    assert "china-2025-april" in out  # not a month: a name that holds a year
    for raw in ("ev_car", "CHN", "stockpile[0]", "2025-05", "Rs crore"):
        assert raw not in out


def test_json_csv_and_id_tables_keep_the_ids(
    wide: None, capsys: pytest.CaptureFixture[str]
) -> None:
    emit(ROWS, Format.JSON)
    assert json.loads(capsys.readouterr().out)[0]["sector"] == "ev_car"
    emit(ROWS, Format.CSV)
    assert "ev_car,CHN,stockpile[0],2025-05" in capsys.readouterr().out
    emit(ROWS, Format.TABLE, ids=True)
    out = capsys.readouterr().out
    assert "ev_car" in out
    assert "Electric cars" not in out


def test_months_in_leaves_dates_and_ranges_of_years() -> None:
    assert display.months_in("2025-04-04, 2025-2030, 2025-13") == "2025-04-04, 2025-2030, 2025-13"
    assert display.months_in("from 2025-10 on") == "from Oct 2025 on"


@pytest.mark.parametrize(
    ("identifier", "written"),
    [
        ("ev_car", "electric cars"),
        ("appliances", "appliances (room ACs)"),
        ("magnet_smco", "SmCo magnets"),
        ("oxide_ndpr", "NdPr oxide"),
        ("magnet_ndfeb_sintered", "sintered NdFeB magnets"),
    ],
)
def test_names_inside_a_sentence_keep_their_abbreviations(identifier: str, written: str) -> None:
    assert display.in_sentence(identifier) == written
