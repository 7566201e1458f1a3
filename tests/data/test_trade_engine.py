"""Imported trade statistics reach the engine, and the mirror check lines up both sides.

Each import path (UN Comtrade, legacy Comtrade, CEPII BACI; the Python API and the CLI) is run
through to a changed result: the import shares the engine compiles, and the shortfall of a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rareflow.cli import app
from rareflow.data.load import load_dataset
from rareflow.data.mirror import mirror_check
from rareflow.data.trade import read_trade, write_user_trade
from rareflow.engine.run import run, with_overrides
from rareflow.errors import DataError, InputError
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario

PLUS_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,"
    "flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,"
    "classificationCode,cmdCode,cmdDesc,customsCode,motCode,qtyUnitAbbr,qty,netWgt,cifvalue,"
    "fobvalue,primaryValue,isAggregate"
)
LEGACY_HEADER = (
    "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,"
    "Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,"
    "Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,Netweight (kg),Gross weight (kg),"
    "Trade Value (US$),CIF Trade Value (US$),FOB Trade Value (US$),Flag"
)
#: India's magnet imports in the files below: China 55%, Japan 30%, Vietnam 15% by weight.
MAGNETS_KG = {"CHN": ("156", 550_000), "JPN": ("392", 300_000), "VNM": ("704", 150_000)}


def plus_row(
    reporter: str, flow: str, code: str, partner: str, cmd: str, kg: float, usd: float
) -> str:
    return (
        f"C,A,20240101,2024,52,2024,0,{reporter},R,{flow},F,{code},{partner},P,0,W00,World,H6,"
        f"{cmd},desc,C00,0,kg,{kg},{kg},{usd},,{usd},true"
    )


def comtrade_file(tmp_path: Path) -> Path:
    lines = [PLUS_HEADER]
    for partner, (code, kg) in MAGNETS_KG.items():
        lines.append(plus_row("IND", "M", code, partner, "850511", kg, kg * 40))
    lines.append(plus_row("IND", "M", "392", "JPN", "284690", 80_000, 900_000))
    lines.append(plus_row("IND", "M", "156", "CHN", "284690", 20_000, 100_000))
    path = tmp_path / "comtrade.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def legacy_file(tmp_path: Path) -> Path:
    lines = [LEGACY_HEADER]
    for partner, (code, kg) in MAGNETS_KG.items():
        lines.append(
            f"H5,2024,2024,2024,6,1,1,Import,699,India,IND,{code},P,{partner},"
            f'850511,"Magnets, permanent",8,kg,{kg},{kg},,{kg * 40},,,0'
        )
    path = tmp_path / "legacy.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def baci_files(tmp_path: Path) -> tuple[Path, Path]:
    codes = tmp_path / "country_codes_V202501.csv"
    codes.write_text(
        "country_code,country_name,country_iso2,country_iso3\n156,China,CN,CHN\n"
        "392,Japan,JP,JPN\n699,India,IN,IND\n704,Viet Nam,VN,VNM\n",
        encoding="utf-8",
    )
    lines = ["t,i,j,k,v,q"]
    for code, kg in MAGNETS_KG.values():
        lines.append(f"2024,{code},699,850511,{kg * 40 / 1000},{kg / 1000}")
    path = tmp_path / "baci.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, codes


@pytest.fixture(scope="module")
def embedded_run() -> tuple[np.ndarray, float]:
    scenario = with_overrides(load_scenario("china-2025-april"), draws=4)
    compiled = compile_scenario(scenario)
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    share = compiled.network.share[list(compiled.network.partners).index("CHN"), k]
    return share, float(run(scenario).results["shortfall"].sum())


def _check_reaches_engine(data_dir: Path, embedded: tuple[np.ndarray, float]) -> None:
    dataset = load_dataset(data_dir)
    scenario = with_overrides(load_scenario("china-2025-april"), draws=4)
    compiled = compile_scenario(scenario, dataset=dataset)
    net = compiled.network
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    shares = {p: float(net.share[i, k]) for i, p in enumerate(net.partners) if net.share[i, k]}
    # India's magnet imports now come from the file: 55/30/15, not ICRA's China 85%.
    assert shares == pytest.approx({"CHN": 0.55, "JPN": 0.30, "VNM": 0.15})
    assert shares["CHN"] != pytest.approx(float(embedded[0]))
    note = next(n for n in compiled.notes if n.startswith("magnet:"))
    assert "hs850511_magnets_metal" in note
    assert "from your data" in note
    # ... and so the run's result: less of the supply is cut by China's controls.
    shortfall = float(run(scenario, dataset=dataset).results["shortfall"].sum())
    assert shortfall < embedded[1]


def test_comtrade_rows_become_the_engines_import_shares(
    tmp_path: Path, embedded_run: tuple[np.ndarray, float]
) -> None:
    result = read_trade(comtrade_file(tmp_path), source_id="user-comtrade-2024")
    write_user_trade(result, tmp_path / "data")
    _check_reaches_engine(tmp_path / "data", embedded_run)
    # HS 2846 reaches the separation stage's shares (oxides): Japan 90% by weight.
    compiled = compile_scenario(
        with_overrides(load_scenario("china-2025-april"), draws=2),
        dataset=load_dataset(tmp_path / "data"),
    )
    k = COMMODITY_IDS.index("oxide_ndpr")
    jpn = list(compiled.network.partners).index("JPN")
    assert compiled.network.share[jpn, k] == pytest.approx(0.8)


def test_legacy_comtrade_rows_reach_the_engine(
    tmp_path: Path, embedded_run: tuple[np.ndarray, float]
) -> None:
    write_user_trade(read_trade(legacy_file(tmp_path), source_id="user-legacy"), tmp_path / "d")
    _check_reaches_engine(tmp_path / "d", embedded_run)


def test_baci_rows_reach_the_engine(tmp_path: Path, embedded_run: tuple[np.ndarray, float]) -> None:
    path, codes = baci_files(tmp_path)
    result = read_trade(path, source_id="user-baci", country_codes=codes, importers=["IND"])
    write_user_trade(result, tmp_path / "d")
    _check_reaches_engine(tmp_path / "d", embedded_run)


def test_cli_import_then_run_says_which_source(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    done = runner.invoke(
        app,
        [
            "data",
            "import-trade",
            str(comtrade_file(tmp_path)),
            "--source-id",
            "user-comtrade-2024",
            "--data-dir",
            str(data),
        ],
    )
    assert done.exit_code == 0, done.output
    args = ["run", "china-2025-april", "--draws", "4", "--format", "json", "--no-store"]
    before = runner.invoke(app, args)
    after = runner.invoke(app, [*args, "--data", str(data)])
    assert before.exit_code == 0, before.output
    assert after.exit_code == 0, after.output
    notes = json.loads(after.stdout)["notes"]
    magnet = next(n for n in notes if n.startswith("magnet:"))
    assert "user-comtrade-2024" in magnet
    assert "from your data" in magnet
    assert json.loads(before.stdout)["sectors"] != json.loads(after.stdout)["sectors"]


def mirror_file(tmp_path: Path) -> Path:
    lines = [
        PLUS_HEADER,
        # India's imports (CIF) ...
        plus_row("IND", "M", "156", "CHN", "850511", 550_000, 22_000_000),
        plus_row("IND", "M", "392", "JPN", "850511", 300_000, 12_000_000),
        plus_row("IND", "M", "704", "VNM", "850511", 150_000, 6_000_000),
        # ... and what the partners report exporting to India (FOB).
        plus_row("CHN", "X", "699", "IND", "850511", 500_000, 20_000_000),
        plus_row("JPN", "X", "699", "IND", "850511", 300_000, 11_500_000),
        # Rows that are not part of the mirror: China's exports elsewhere, a re-export.
        plus_row("CHN", "X", "842", "USA", "850511", 1, 1),
        plus_row("JPN", "RX", "699", "IND", "850511", 1, 1),
    ]
    path = tmp_path / "mirror.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mirror_check_shows_the_gap(tmp_path: Path) -> None:
    check = mirror_check(mirror_file(tmp_path), "IND")
    rows = {r.partner: r for r in check.rows}
    assert set(rows) == {"CHN", "JPN", "VNM"}
    assert rows["CHN"].gap_usd == pytest.approx(2_000_000)
    assert rows["CHN"].gap_share == pytest.approx(0.10)
    assert rows["JPN"].exports_t == pytest.approx(300.0)
    assert rows["VNM"].exports_usd is None  # Vietnam's side is not in the file
    assert rows["VNM"].gap_usd is None
    (total,) = check.totals()
    assert total.partners == 2
    assert total.gap_usd == pytest.approx(2_500_000)
    assert total.gap_share == pytest.approx(2_500_000 / 31_500_000)


def test_mirror_check_cli_and_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(
        app, ["data", "mirror", str(mirror_file(tmp_path)), "--country", "IND", "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert [t["gap_usd"] for t in document["totals"]] == [pytest.approx(2_500_000)]
    table = runner.invoke(app, ["data", "mirror", str(mirror_file(tmp_path))])
    assert "gap +7.9%" in table.output
    path, _ = baci_files(tmp_path)
    with pytest.raises(InputError, match="BACI has already reconciled"):
        mirror_check(path, "IND")
    with pytest.raises(DataError, match="no import rows reported by KOR"):
        mirror_check(mirror_file(tmp_path), "KOR")
