"""Tests of the Comtrade and BACI trade loaders, on small files written by the tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rareflow.cli.trade import register
from rareflow.data.trade import (
    SOURCES_COLUMNS,
    TRADE_COLUMNS,
    Layout,
    read_baci_country_codes,
    read_trade,
    write_user_trade,
)
from rareflow.errors import DataError, InputError, Problem

PLUS_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,"
    "flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,"
    "classificationCode,cmdCode,cmdDesc,customsCode,motCode,qtyUnitAbbr,qty,netWgt,cifvalue,"
    "fobvalue,primaryValue,isAggregate"
)


def plus_row(
    partner_code: str,
    partner_iso: str,
    cmd: str,
    net_wgt: str,
    value: str,
    *,
    flow: str = "M",
    freq: str = "A",
    year: str = "2023",
    reporter: str = "IND",
    mot: str = "0",
) -> str:
    return (
        f"C,{freq},20230101,{year},52,{year},699,{reporter},India,{flow},Import,{partner_code},"
        f"{partner_iso},Partner,0,W00,World,H6,{cmd},desc,C00,{mot},kg,{net_wgt},{net_wgt},"
        f"{value},,{value},true"
    )


LEGACY_HEADER = (
    "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,"
    "Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,"
    "Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,Netweight (kg),Gross weight (kg),"
    "Trade Value (US$),CIF Trade Value (US$),FOB Trade Value (US$),Flag"
)


def legacy_row(flow: str, partner_code: str, partner_iso: str, cmd: str, kg: str, usd: str) -> str:
    return (
        f"H5,2019,2019,2019,6,1,{flow},Import,699,India,IND,{partner_code},P,{partner_iso},"
        f'{cmd},"Magnets, permanent",8,kg,{kg},{kg},,{usd},,,0'
    )


COUNTRY_CODES = (
    "country_code,country_name,country_iso2,country_iso3\n"
    "156,China,CN,CHN\n"
    "392,Japan,JP,JPN\n"
    '490,"Other Asia, nes",,S19\n'
    "699,India,IN,IND\n"
    "842,USA,US,USA\n"
)


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def one(df: pd.DataFrame, **where: object) -> pd.Series:
    hit = df
    for column, value in where.items():
        hit = hit[hit[column] == value]
    assert len(hit) == 1, f"{len(hit)} rows for {where}"
    return hit.iloc[0]


def problems_of(
    exc: pytest.ExceptionInfo[DataError],
) -> list[tuple[str | None, int | None, str | None]]:
    return [(p.file, p.row, p.column) for p in exc.value.problems]


@pytest.fixture
def plus_file(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "comtrade.csv",
        [
            PLUS_HEADER,
            plus_row("0", "W00", "850511", "5000", "250000"),  # World: the total of the rows below
            plus_row("156", "CHN", "850511", "4500", "200000"),
            plus_row("392", "JPN", "850511", "500", "50000"),
            plus_row("156", "CHN", "284690", "1000", "30000"),
            plus_row("156", "CHN", "284610", "2000", "10000"),
            plus_row("156", "CHN", "280530", "", "7000"),  # no weight: value only
            plus_row("156", "CHN", "850519", "9000", "9000"),  # ferrite: not kept by default
            plus_row("156", "CHN", "850511", "1", "1", flow="X"),  # export
            plus_row("156", "CHN", "850511", "1", "1", flow="RM"),  # re-import
            plus_row("156", "CHN", "850511", "1", "1", mot="2100"),  # by sea: a breakdown row
            plus_row("156", "CHN", "090111", "1", "1"),  # coffee
            plus_row("899", "_X", "850511", "100", "900"),  # areas nes
        ],
    )


def test_comtrade_plus_layout(plus_file: Path) -> None:
    result = read_trade(plus_file, source_id="user-comtrade-2025", citation_year=2025)
    df = result.trade
    assert result.layout is Layout.COMTRADE
    assert list(df.columns) == list(TRADE_COLUMNS)
    assert "W00" not in set(df["partner"])
    q = one(df, partner="CHN", material="hs850511_magnets_metal", metric="quantity")
    assert q["value"] == pytest.approx(4.5)  # 4500 kg
    assert q["unit"] == "t"
    assert q["year"] == 2023
    assert q["choice"] == "chosen"
    assert q["source_id"] == "user-comtrade-2025"
    v = one(df, partner="CHN", material="hs850511_magnets_metal", metric="value")
    assert v["value"] == 200000.0
    assert v["unit"] == "usd"
    # Both 2846 HS6 codes are one material.
    c = one(df, partner="CHN", material="hs2846_re_compounds", metric="quantity")
    assert c["value"] == pytest.approx(3.0)
    assert "284610+284690" in c["note"]
    # Without a net weight there is a value row but no quantity row.
    assert one(df, material="hs280530_re_metals", metric="value")["value"] == 7000.0
    assert df[(df["material"] == "hs280530_re_metals") & (df["metric"] == "quantity")].empty
    row = one(df, partner="ROW", metric="value")
    assert row["value"] == 900.0
    assert "_X" in row["note"]
    assert "hs850519_magnets_other" not in set(df["material"])
    assert result.skipped["partner World"] == 1
    assert result.skipped["not imports"] == 2
    assert result.skipped["breakdown rows"] == 1
    assert result.source["author"] == "UN Comtrade"
    assert result.source["kind"] == "dataset"
    assert result.source["year"] == 2025
    assert "comtrade.csv" in str(result.source["note"])
    # World is dropped, not added: the magnet total equals the sum of partners.
    magnets = df[(df["material"] == "hs850511_magnets_metal") & (df["metric"] == "value")]
    assert magnets["value"].sum() == 250900.0


def test_other_magnets_on_request(plus_file: Path) -> None:
    result = read_trade(plus_file, source_id="c", include_other_magnets=True)
    row = one(result.trade, material="hs850519_magnets_other", metric="quantity")
    assert row["value"] == pytest.approx(9.0)


def test_hs_codes_read_as_text(tmp_path: Path) -> None:
    # A code with a leading zero is kept as text: '090111' would be 90111.0 if pandas guessed.
    path = write(tmp_path, "t.csv", [PLUS_HEADER, plus_row("156", "CHN", "090111", "1", "1")])
    result = read_trade(path, source_id="c")
    assert result.trade.empty
    assert result.skipped["other products"] == 1


def test_hs4_2846_dropped_beside_hs6(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        [
            PLUS_HEADER,
            plus_row("156", "CHN", "2846", "3000", "40000"),
            plus_row("156", "CHN", "284610", "2000", "10000"),
            plus_row("156", "CHN", "284690", "1000", "30000"),
            plus_row("392", "JPN", "2846", "10", "100"),  # no HS6 rows for Japan: kept
        ],
    )
    df = read_trade(path, source_id="c").trade
    assert one(df, partner="CHN", metric="value")["value"] == 40000.0
    assert one(df, partner="JPN", metric="value")["value"] == 100.0


def test_comtrade_legacy_layout(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "legacy.csv",
        [
            LEGACY_HEADER,
            legacy_row("1", "0", "WLD", "850511", "2000", "90000"),
            legacy_row("1", "156", "CHN", "850511", "2000", "90000"),
            legacy_row("2", "156", "CHN", "850511", "7", "7"),
            legacy_row("4", "156", "CHN", "850511", "7", "7"),  # re-import
        ],
    )
    result = read_trade(path, source_id="legacy", layout=Layout.COMTRADE_LEGACY)
    assert result.layout is Layout.COMTRADE_LEGACY
    df = result.trade
    assert len(df) == 2
    assert one(df, metric="quantity")["value"] == pytest.approx(2.0)
    assert one(df, metric="value")["value"] == 90000.0
    assert set(df["importer"]) == {"IND"}


def test_baci_layout(tmp_path: Path) -> None:
    codes = write(tmp_path, "country_codes_V202501.csv", [COUNTRY_CODES.strip()])
    path = write(
        tmp_path,
        "BACI_HS22_Y2023_V202501.csv",
        [
            "t,i,j,k,v,q",
            "2023,156,699,850511,1234.5,10.25",
            "2023,156,699,284690,   2.5,         NA",
            "2023,490,699,850511,1,0.5",  # Other Asia, nes: ROW
            "2023,156,842,850511,99,9",  # another importer
            "2023,156,699,090111,5,5",
        ],
    )
    result = read_trade(
        path, source_id="user-baci", country_codes=codes, importers=["ind"], citation_year=2025
    )
    assert result.layout is Layout.BACI
    df = result.trade
    assert set(df["importer"]) == {"IND"}
    v = one(df, partner="CHN", material="hs850511_magnets_metal", metric="value")
    assert v["value"] == pytest.approx(1_234_500.0)  # thousand USD -> USD
    q = one(df, partner="CHN", material="hs850511_magnets_metal", metric="quantity")
    assert q["value"] == pytest.approx(10.25)  # already tonnes
    assert one(df, partner="CHN", material="hs2846_re_compounds", metric="value")["value"] == 2500
    assert df[(df["material"] == "hs2846_re_compounds") & (df["metric"] == "quantity")].empty
    assert one(df, partner="ROW", metric="value")["value"] == 1000.0
    assert result.skipped["importer not selected"] == 1
    assert result.source["author"] == "CEPII BACI"


def test_baci_needs_country_codes(tmp_path: Path) -> None:
    path = write(tmp_path, "baci.csv", ["t,i,j,k,v,q", "2023,156,699,850511,1,1"])
    with pytest.raises(InputError, match="country-codes"):
        read_trade(path, source_id="b")


def test_baci_unknown_country(tmp_path: Path) -> None:
    codes = write(tmp_path, "codes.csv", [COUNTRY_CODES.strip()])
    path = write(
        tmp_path, "baci.csv", ["t,i,j,k,v,q", "2023,156,699,850511,1,1", "2023,999,699,850511,1,1"]
    )
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="b", country_codes=codes)
    assert problems_of(exc) == [("baci.csv", 3, "i")]
    assert "unknown country code '999'" in str(exc.value)


def test_baci_country_codes_older_header(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "country_code_baci92.csv",
        [
            "country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,"
            "iso_3digit_alpha",
            "4,Afghanistan,Afghanistan,AF,AFG",
            "490,Other Asia nes,,,",
        ],
    )
    assert read_baci_country_codes(path) == {"4": "AFG", "490": "ROW"}


def test_negative_weight(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", [PLUS_HEADER, plus_row("156", "CHN", "850511", "-5", "10")])
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    assert problems_of(exc) == [("bad.csv", 2, "netWgt")]
    assert "negative" in exc.value.problems[0].message


def test_text_in_number(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        [
            PLUS_HEADER,
            plus_row("156", "CHN", "850511", "10", "10"),
            plus_row("392", "JPN", "850511", "10", "12abc"),
        ],
    )
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    assert problems_of(exc) == [("bad.csv", 3, "primaryValue")]
    assert "'12abc' is not a number" in str(exc.value)


@pytest.mark.parametrize("text", ["nan", "inf", "1_000", "0x10", "1e999"])
def test_numbers_are_parsed_strictly(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "bad.csv", [PLUS_HEADER, plus_row("156", "CHN", "850511", text, "1")])
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    assert problems_of(exc) == [("bad.csv", 2, "netWgt")]


def test_unknown_country_in_comtrade(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        [
            PLUS_HEADER,
            plus_row("156", "", "850511", "1", "1"),
            plus_row("156", "CHN", "850511", "1", "1", reporter="in"),
        ],
    )
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    assert problems_of(exc) == [("bad.csv", 2, "partnerISO"), ("bad.csv", 3, "reporterISO")]


def test_missing_column(tmp_path: Path) -> None:
    header = PLUS_HEADER.replace(",netWgt", "")
    row = plus_row("156", "CHN", "850511", "1", "1").replace(",1,1,1,", ",1,1,", 1)
    path = write(tmp_path, "bad.csv", [header, row])
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    assert problems_of(exc) == [("bad.csv", 1, "netWgt")]
    assert "missing" in str(exc.value)


def test_forced_layout_missing_columns(plus_file: Path) -> None:
    with pytest.raises(DataError) as exc:
        read_trade(plus_file, source_id="c", layout=Layout.BACI)
    assert {p.column for p in exc.value.problems} == {"t", "i", "j", "k", "v", "q"}


def test_unknown_layout(tmp_path: Path) -> None:
    path = write(tmp_path, "other.csv", ["a,b,c", "1,2,3"])
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    message = str(exc.value)
    assert "other.csv" in message
    assert "matches no known trade layout" in message
    assert "refYear" in message
    assert "Trade Flow Code" in message
    assert "t, i, j, k, v, q" in message


def test_non_import_rows_are_not_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        [
            PLUS_HEADER,
            plus_row("156", "CHN", "850511", "-1", "junk", flow="X"),
            plus_row("156", "CHN", "850511", "10", "100"),
        ],
    )
    result = read_trade(path, source_id="c")
    assert result.rows_kept == 1
    assert result.skipped["not imports"] == 1


def test_monthly_and_duplicate_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        [
            PLUS_HEADER,
            plus_row("156", "CHN", "850511", "1", "1", freq="M"),
            plus_row("156", "CHN", "850511", "1", "1"),
            plus_row("156", "CHN", "850511", "1", "1"),
        ],
    )
    with pytest.raises(DataError) as exc:
        read_trade(path, source_id="c")
    assert problems_of(exc) == [("t.csv", 2, "freqCode"), ("t.csv", 4, "cmdCode")]
    assert "duplicate of line 3" in str(exc.value)


def test_file_size_and_row_limits(plus_file: Path) -> None:
    with pytest.raises(DataError, match="at most 100 are accepted"):
        read_trade(plus_file, source_id="c", max_bytes=100)
    with pytest.raises(DataError, match="more than 3 data rows"):
        read_trade(plus_file, source_id="c", max_rows=3)


def test_bad_arguments(plus_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_trade(plus_file, source_id="../etc")
    with pytest.raises(InputError):
        read_trade(plus_file, source_id="c", importers=["INDIA"])
    with pytest.raises(DataError, match="file not found"):
        read_trade(tmp_path / "nope.csv", source_id="c")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_write_merges_and_replaces(plus_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "user"
    data_dir.mkdir()
    other = dict.fromkeys(TRADE_COLUMNS, "") | {
        "importer": "IND",
        "partner": "USA",
        "material": "hs850511_magnets_metal",
        "metric": "value",
        "value": "5",
        "unit": "usd",
        "year": "2023",
        "source_id": "mine",
        "choice": "chosen",
        "note": "typed in by hand",
    }
    stale = other | {"partner": "CHN", "value": "1", "note": "old figure"}
    with (data_dir / "trade.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(TRADE_COLUMNS))
        writer.writeheader()
        writer.writerows([other, stale])
    mine = dict.fromkeys(SOURCES_COLUMNS, "") | {
        "source_id": "mine",
        "kind": "dataset",
        "author": "A user",
        "title": "My own figures",
        "publisher": "none",
        "year": "2025",
    }
    with (data_dir / "sources.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SOURCES_COLUMNS))
        writer.writeheader()
        writer.writerow(mine)
    result = read_trade(plus_file, source_id="user-comtrade-2025", citation_year=2025)
    report = write_user_trade(result, data_dir)
    assert report.replaced == 1
    assert report.total == len(result.trade) + 1
    rows = read_csv(data_dir / "trade.csv")
    assert list(rows[0]) == list(TRADE_COLUMNS)
    chn = [
        r
        for r in rows
        if r["partner"] == "CHN"
        and r["metric"] == "value"
        and r["material"] == "hs850511_magnets_metal"
    ]
    assert [(r["value"], r["source_id"]) for r in chn] == [("200000", "user-comtrade-2025")]
    assert any(r["note"] == "typed in by hand" for r in rows)
    sources = read_csv(data_dir / "sources.csv")
    assert list(sources[0]) == list(SOURCES_COLUMNS)
    assert [s["source_id"] for s in sources] == ["mine", "user-comtrade-2025"]
    assert sources[1]["year"] == "2025"
    # A second import with the same source replaces its rows and its citation.
    again = write_user_trade(result, data_dir)
    assert again.added == 0
    assert again.total == report.total
    assert len(read_csv(data_dir / "sources.csv")) == 2
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in data_dir.iterdir()) == ["sources.csv", "trade.csv"]


def test_write_refuses_foreign_table(plus_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "user"
    data_dir.mkdir()
    (data_dir / "trade.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = read_trade(plus_file, source_id="c")
    with pytest.raises(DataError) as exc:
        write_user_trade(result, data_dir)
    assert problems_of(exc) == [("trade.csv", 1, None)]
    assert (data_dir / "trade.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert sorted(p.name for p in data_dir.iterdir()) == ["trade.csv"]


def test_write_refuses_symlink(plus_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "user"
    data_dir.mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_text("x\n", encoding="utf-8")
    (data_dir / "trade.csv").symlink_to(outside)
    with pytest.raises(InputError):
        write_user_trade(read_trade(plus_file, source_id="c"), data_dir)
    assert outside.read_text(encoding="utf-8") == "x\n"


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _group() -> None:
        """Group, so that the command is called by its name."""

    register(app)
    return app


def test_cli_json(plus_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "user"
    result = CliRunner().invoke(
        cli(),
        [
            "import-trade",
            str(plus_file),
            "--source-id",
            "user-comtrade-2025",
            "--data-dir",
            str(data_dir),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["layout"] == "comtrade"
    assert doc["rows_read"] == 12
    assert doc["rows_kept"] == 6
    magnets = next(m for m in doc["materials"] if m["material"] == "hs850511_magnets_metal")
    assert magnets["partners"] == 3
    assert doc["written"]["total"] > 0
    assert (data_dir / "trade.csv").is_file()


def test_cli_table_and_csv(plus_file: Path, tmp_path: Path) -> None:
    for fmt in ("table", "csv"):
        result = CliRunner().invoke(
            cli(),
            [
                "import-trade",
                str(plus_file),
                "--source-id",
                "c",
                "--data-dir",
                str(tmp_path / fmt),
                "--format",
                fmt,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "hs850511_magnets_metal" in result.stdout


def test_cli_bad_file_raises_data_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", [PLUS_HEADER, plus_row("156", "CHN", "850511", "-5", "10")])
    result = CliRunner().invoke(
        cli(), ["import-trade", str(path), "--source-id", "c", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError)
    assert not (tmp_path / "d").exists()


HEADERS = [PLUS_HEADER, LEGACY_HEADER, "t,i,j,k,v,q", "a,b"]
CELLS = st.sampled_from(
    [
        "",
        "0",
        "1",
        "-1",
        "1e3",
        "NA",
        "x",
        "2023",
        "M",
        "A",
        "1",
        "W00",
        "CHN",
        "_X",
        "156",
        "850511",
        "2846",
        "284690",
        '"',
        "nan",
        "1,5",
        "\x00",
        "é",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(header=st.sampled_from(HEADERS), rows=st.lists(st.lists(CELLS, max_size=30), max_size=8))
def test_junk_rows_give_only_data_errors(
    tmp_path: Path, header: str, rows: list[list[str]]
) -> None:
    codes = tmp_path / "codes.csv"
    codes.write_text(COUNTRY_CODES, encoding="utf-8")
    path = tmp_path / "junk.csv"
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]), encoding="utf-8")
    try:
        read_trade(path, source_id="c", country_codes=codes)
    except DataError as exc:
        files = {p.file for p in exc.problems}
    else:
        files = {"junk.csv"}
    assert files == {"junk.csv"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=400) | st.text(max_size=400))
def test_junk_content_gives_only_data_errors(tmp_path: Path, content: bytes | str) -> None:
    path = tmp_path / "junk.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    try:
        read_trade(path, source_id="c")
    except DataError as exc:
        problems = exc.problems
    else:
        problems = [Problem("read")]
    assert problems
