"""User tables and trade imports that would corrupt data are refused (issue 21, items D and F).

A stray quote used to join a user's override to the row above it (and `data validate` said ok),
"1,8" was read as 18, 1e308 made a requirement infinite, and an imported partner the dataset
lacks was written into the overlay, so every later run failed on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import load_refusal

from rareflow.data.load import load_dataset
from rareflow.data.trade import read_trade, write_user_trade
from rareflow.errors import DataError

HEADER = "pair,value,low,high,unit,year,source_id,choice,note"


def _rates(tmp_path: Path, *rows: str) -> Path:
    folder = tmp_path / "user"
    folder.mkdir(exist_ok=True)
    (folder / "exchange_rates.csv").write_text("\n".join([HEADER, *rows]) + "\n", "utf-8")
    return folder


def test_a_stray_quote_does_not_swallow_the_next_row(tmp_path: Path) -> None:
    folder = _rates(
        tmp_path,
        'inr_per_usd,80,,,inr_per_usd,2024,rbi-fred-fx,chosen,"my note',
        "inr_per_usd,90,,,inr_per_usd,2025,rbi-fred-fx,chosen,my override",
        'inr_per_usd,91,,,inr_per_usd,2026,rbi-fred-fx,chosen,closing quote"',
    )
    message = load_refusal(folder)
    assert "exchange_rates.csv, row 2: a quoted cell runs from line 2 to line 4" in message


def test_an_unclosed_quote_at_the_end_is_refused(tmp_path: Path) -> None:
    folder = _rates(tmp_path, 'inr_per_usd,80,,,inr_per_usd,2024,rbi-fred-fx,chosen,"my note')
    assert "not valid CSV" in load_refusal(folder)


@pytest.mark.parametrize("cell", ['"1,8"', '"85,5"', '"1,80,000"'])
def test_a_decimal_comma_is_not_read_as_thousands(tmp_path: Path, cell: str) -> None:
    folder = _rates(tmp_path, f"inr_per_usd,{cell},,,inr_per_usd,2024,rbi-fred-fx,chosen,")
    assert "a comma is read only as a thousands separator" in load_refusal(folder)


def test_thousands_separators_are_still_read(tmp_path: Path) -> None:
    folder = _rates(tmp_path, 'inr_per_usd,"1,084.5",,,inr_per_usd,2024,rbi-fred-fx,chosen,')
    rates = load_dataset(folder).chosen("exchange_rates")
    assert rates.loc[rates["year"] == 2024, "value"].tolist() == [1084.5]


@pytest.mark.parametrize("value", ["1e308", "1e13", "-1e300", "nan", "inf"])
def test_an_absurd_value_is_refused(tmp_path: Path, value: str) -> None:
    folder = _rates(tmp_path, f"inr_per_usd,{value},,,inr_per_usd,2024,rbi-fred-fx,chosen,")
    message = load_refusal(folder)
    assert "column 'value'" in message
    assert "within +-1e+12" in message


COMTRADE = (
    "freqCode,refYear,reporterISO,flowCode,partnerCode,partnerISO,partner2Code,cmdCode,"
    "customsCode,motCode,netWgt,primaryValue"
)


def test_import_trade_refuses_a_partner_the_dataset_lacks_and_writes_nothing(
    tmp_path: Path,
) -> None:
    file = tmp_path / "comtrade.csv"
    file.write_text(
        "\n".join(
            [
                COMTRADE,
                "A,2023,IND,M,156,CHN,0,850511,C00,0,4500,200000",
                "A,2023,IND,M,56,BEL,0,850511,C00,0,10,900",
                "A,2024,IND,M,56,BEL,0,284690,C00,0,5,100",
            ]
        )
        + "\n",
        "utf-8",
    )
    result = read_trade(file, source_id="user-comtrade")
    data_dir = tmp_path / "user"
    with pytest.raises(DataError) as info:
        write_user_trade(result, data_dir)
    message = info.value.user_message()
    assert "partner 'BEL' is not a country of the dataset (4 row(s), 2023-2024" in message
    assert "nothing was written" in message
    assert not data_dir.exists()


def test_import_trade_accepts_a_partner_the_user_added(tmp_path: Path) -> None:
    file = tmp_path / "comtrade.csv"
    file.write_text(f"{COMTRADE}\nA,2023,IND,M,56,BEL,0,850511,C00,0,10,900\n", "utf-8")
    data_dir = tmp_path / "user"
    data_dir.mkdir()
    (data_dir / "countries.csv").write_text(
        "country,iso2,name,source_id,note\nBEL,BE,Belgium,iso-3166,\n", "utf-8"
    )
    write_user_trade(read_trade(file, source_id="user-comtrade"), data_dir)
    trade = load_dataset(data_dir).table("trade")
    assert "BEL" in set(trade["partner"])
