"""The query layer (rareflow.data.query): one rule per question, answers with their provenance."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from rareflow.data import query
from rareflow.data.load import Dataset, embedded_dir, load_dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import DataError, InputError
from rareflow.indicators.chain_network import build_stress_network
from rareflow.model import build_chain
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario


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
    with pytest.raises(InputError, match="no industry magnet cover for KOR"):
        query.industry_cover(dataset, "KOR")


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
    # ICRA's rest (0.15) is split over the other magnet makers by world output (stage_shares.csv:
    # Japan 0.04 and the rest 0.02 of 2024): Japan 0.10, the rest 0.05.
    assert dict(magnets.shares) == pytest.approx({"CHN": 0.85, "JPN": 0.10, "ROW": 0.05})
    assert "split over the other producers" in magnets.note
    assert set(magnets.parts) == {"CHN", "JPN", "ROW"}
    assert "rareflow-assumption" in magnets.parts["JPN"].sources
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
    assert {"MYS", "USA"} <= set(oxide.shares)


def test_world_shares_leave_out_the_importers_own_output(dataset: Dataset) -> None:
    # USGS MCS 2026: the US mined 51,000 of 390,000 t in 2025; the US does not import from itself.
    mining = query.import_shares(dataset, "USA", "mining")
    assert "USA" not in mining.shares
    assert sum(mining.shares.values()) == pytest.approx(1.0)
    assert mining.shares["AUS"] > mining.shares["MMR"] > 0
    assert "own output left out" in mining.note
    # India's mining partners are the world's miners but India.
    assert "IND" not in query.import_shares(dataset, "IND", "mining").shares


def test_a_named_rest_is_kept_when_every_producer_is_named(dataset: Dataset) -> None:
    # USGS's US import sources (China, Malaysia, Japan, Estonia, other): the world separation
    # shares name no producer the import rows leave out (the US's own is left out), so ROW stays.
    oxide = query.import_shares(dataset, "USA", "separation")
    assert dict(oxide.shares) == pytest.approx(
        {"CHN": 0.71, "MYS": 0.13, "JPN": 0.05, "EST": 0.05, "ROW": 0.06}
    )
    assert oxide.basis == "imports"


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


def test_coverage_names_every_missing_table_of_a_focal_country(dataset: Dataset) -> None:
    korea = query.coverage(dataset, "KOR")
    assert len(korea.missing) == 2
    assert any(m.startswith("sector_activity.csv") for m in korea.missing)
    assert any(m.startswith("inventories.csv") for m in korea.missing)
    # A scenario that sets the cover itself needs no inventories row.
    assert len(query.coverage(dataset, "KOR", cover_given=True).missing) == 1
    assert query.coverage(dataset, "XYZ").missing[0].startswith("countries.csv")
    # The US runs (Cox/KBB electric cars, ACP wind), with its gaps named.
    usa = query.coverage(dataset, "USA")
    assert usa.missing == ()
    assert any("demand_growth.csv: no growth of wind" in g for g in usa.gaps)
    assert any("ice_vehicle" in g for g in usa.gaps)


def test_engine_and_stress_test_read_the_same_facts(dataset: Dataset) -> None:
    # The compiler and the stress-test network ask the query layer, so they cannot disagree.
    compiled = compile_scenario(with_overrides(load_scenario("baseline"), draws=2), dataset=dataset)
    net = compiled.network
    cn = build_stress_network(build_chain("IND", dataset), dataset)
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    china = net.share[list(net.partners).index("CHN"), k]
    suppliers = [n for n in cn.nodes if n.startswith("magnet_") and n != "magnet_IND"]
    magnets = sum(cn.network.node(n).capacity for n in suppliers)
    assert cn.network.node("magnet_CHN").capacity / magnets == pytest.approx(china)
    # Nd metal: none operating in India (IREL's 'neodymium' is stored as oxide), in both.
    j = [p.id for p in net.processes].index("metal_ndpr")
    assert net.capacity[0, 0, j] == 0.0
    assert "metal_IND" not in cn.nodes
    # Industry cover: the engine draws between the range the stress test's figure states.
    cover = query.industry_cover(dataset, "IND")
    assert cn.nodes["ev_car_IND"].figures["inventory"].value == pytest.approx(
        cover.value * cn.network.node("ev_car_IND").demand
    )
    assert "industry magnet cover: 11-16 weeks" in " ".join(compiled.notes)


def test_ferrite_magnets_never_stand_in_for_rare_earth_magnets(tmp_path: Path) -> None:
    # HS 8505.19 (other permanent magnets, mostly ferrite) imported alone: the magnet shares stay
    # the embedded rare-earth magnets' (ICRA 2025), and the note says so.
    _user_table(
        tmp_path,
        "trade",
        [
            {
                "importer": "IND",
                "partner": "JPN",
                "material": "hs850519_magnets_other",
                "metric": "quantity",
                "value": 900,
                "unit": "t",
                "year": 2024,
                "source_id": "usgs-mcs2026",
                "choice": "chosen",
            }
        ],
    )
    magnets = query.import_shares(load_dataset(tmp_path), "IND", "magnet")
    assert magnets.material == "magnets_rare_earth"
    assert not magnets.user_data
    # Japan's share is ICRA's rest split by world magnet output (0.10), not the ferrite rows.
    assert magnets.shares["JPN"] == pytest.approx(0.10)
    assert "hs850519" not in magnets.note
