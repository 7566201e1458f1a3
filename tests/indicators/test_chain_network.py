"""Stress-test network built from rareflow's chain (rareflow.indicators.chain_network).

Checks the structure, the units (weeks; tonnes per week), the exposure logic against hand
calculations, and that every figure traces to a source of sources.csv or a labelled assumption.
"""

from __future__ import annotations

import json
import math

import pytest
import typer
from typer.testing import CliRunner

from rareflow.cli import stress_test as stress_cli
from rareflow.data.load import Dataset, load_dataset
from rareflow.indicators.chain_network import (
    ASSUMPTION,
    WEEKS_PER_YEAR,
    ChainNetwork,
    build_stress_network,
    multi_period_rows,
    provenance,
    stress_rows,
)
from rareflow.model import build_chain
from rareflow.model.chain import Chain


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="module")
def chain(dataset: Dataset) -> Chain:
    return build_chain("IND", dataset)


@pytest.fixture(scope="module")
def cn(chain: Chain, dataset: Dataset) -> ChainNetwork:
    # Midwest's NdFeB plant (under construction) counted, so India has a home magnet node.
    return build_stress_network(chain, dataset, statuses=("operating", "under_construction"))


@pytest.fixture(scope="module")
def operating(chain: Chain, dataset: Dataset) -> ChainNetwork:
    return build_stress_network(chain, dataset)


def test_default_counts_operating_plants_only_as_the_engine(operating: ChainNetwork) -> None:
    # The engine and the stress test count the same plants (rareflow.data.query.plants): a plant
    # under construction (Midwest, 500 t/yr) makes nothing during a disruption today.
    assert "magnet_IND" not in operating.nodes
    assert "separation_IND" in operating.nodes  # IREL's NdPr oxide (no Indian metal plant)
    counted = build_stress_network(
        build_chain("IND", load_dataset()), load_dataset(), statuses=("operating",)
    )
    assert set(counted.nodes) == set(operating.nodes)


def _app() -> typer.Typer:
    app = typer.Typer()
    stress_cli.register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from flattening the app
        """Do nothing."""

    return app


def test_nodes_follow_the_chain(cn: ChainNetwork, chain: Chain) -> None:
    ids = {n.id for n in cn.network.nodes}
    for stage in ("mining", "separation", "metal", "magnet"):
        assert {f"{stage}_CHN", f"{stage}_ROW"} <= ids
    # Partners by name (the engine's split; under 0.02 pooled into ROW): USGS MCS 2026 miners,
    # Malaysia's separation (IEA), Japan's magnets (ICRA's rest split by world output).
    assert {"mining_USA", "mining_AUS", "mining_MMR", "separation_MYS", "magnet_JPN"} <= ids
    assert "mining_THA" not in ids
    sectors = [str(s) for s in chain.demand.demand["sector"].values]
    assert {f"{s}_IND" for s in sectors} <= ids
    parts = {(p.node, p.part): p.suppliers for p in cn.network.parts}
    assert parts["magnet_CHN", "metal"] == ["metal_CHN", "metal_ROW"]
    assert parts["metal_CHN", "oxide"] == ["separation_CHN", "separation_MYS", "separation_ROW"]
    assert parts["separation_CHN", "concentrate"] == [
        "mining_CHN",
        "mining_USA",
        "mining_AUS",
        "mining_MMR",
        "mining_ROW",
    ]
    # Home plants buy at home first and may buy abroad; plants abroad never buy from home. India
    # makes no metal (IREL's 'neodymium' is stored as oxide), so its magnet plant buys abroad.
    assert "metal_IND" not in ids
    assert parts["magnet_IND", "metal"] == ["metal_CHN", "metal_ROW"]
    assert all("IND" not in s for (n, _), sup in parts.items() if "IND" not in n for s in sup)
    assert parts[f"{sectors[0]}_IND", "magnet"] == [
        "magnet_CHN",
        "magnet_JPN",
        "magnet_ROW",
        "magnet_IND",
    ]
    # Every supplier node is stressed; end products are not.
    supply = {
        n for n, i in cn.nodes.items() if i.stage in ("mining", "separation", "metal", "magnet")
    }
    assert set(cn.network.recovery) == supply
    assert {"mining_IND", "separation_IND", "magnet_IND"} <= supply


def test_units_are_weeks_and_tonnes_per_week(cn: ChainNetwork, chain: Chain) -> None:
    # lead_times.csv: magnet_plant 2.2 years (Neo Narva, groundbreaking to opening), processing
    # plant 8 years (IEA 2025).
    assert cn.network.recovery["magnet_CHN"] == pytest.approx(2.2 * 365.25 / 7)
    assert cn.network.recovery["separation_CHN"] == pytest.approx(8 * 365.25 / 7)
    assert cn.network.recovery["metal_ROW"] == pytest.approx(8 * 365.25 / 7)
    assert cn.network.recovery["mining_CHN"] == pytest.approx(15.7 * 365.25 / 7)
    # The network carries sintered NdFeB only (defence's SmCo is left out, and said so).
    yearly = chain.demand.demand.sel(material="magnet_ndfeb_sintered")
    for sector in yearly["sector"].values:
        node = cn.network.node(f"{sector}_IND")
        assert node.demand is not None
        assert node.demand == pytest.approx(float(yearly.sel(sector=sector)) / WEEKS_PER_YEAR)
        # inventories.csv: Indian industry held 11-16 weeks of magnets on 4 April 2025 (13.5).
        assert node.inventory == pytest.approx(13.5 * node.demand)
        assert node.margin == 1.0


def test_baseline_supply_equals_demand(cn: ChainNetwork) -> None:
    # No spare capacity abroad: magnet suppliers together make exactly what the sectors need.
    demand = sum(n.demand or 0.0 for n in cn.network.nodes)
    magnet_nodes = ("magnet_CHN", "magnet_JPN", "magnet_ROW", "magnet_IND")
    magnets = sum(cn.network.node(n).capacity for n in magnet_nodes)
    assert magnets == pytest.approx(demand)
    # ICRA 2025: 85% of India's rare-earth magnet imports come from China; the rest split by
    # world output, Japan 0.10 and the rest 0.05.
    capacity = {n: cn.network.node(n).capacity for n in magnet_nodes}
    assert capacity["magnet_CHN"] / capacity["magnet_JPN"] == pytest.approx(0.85 / 0.10)
    assert capacity["magnet_CHN"] / capacity["magnet_ROW"] == pytest.approx(0.85 / 0.05)


def test_magnet_china_tts_by_hand(operating: ChainNetwork) -> None:
    # Operating plants only: no Indian NdFeB plant, so China supplies 85% of the magnets. With
    # China's magnets gone, 13.5 weeks of stock drain at 0.85 x demand: TTS = 13.5 / 0.85 weeks.
    rows = {r["node"]: r for r in stress_rows(operating)}
    assert "magnet_IND" not in rows
    assert rows["magnet_CHN"]["tts_weeks"] == pytest.approx(13.5 / 0.85, rel=1e-6)
    assert rows["magnet_JPN"]["tts_weeks"] == pytest.approx(13.5 / 0.10, rel=1e-6)
    assert rows["magnet_ROW"]["tts_weeks"] == pytest.approx(13.5 / 0.05, rel=1e-6)
    # Loss over TTR: the shortfall 0.85 x demand x TTR, less the stock.
    demand = sum(n.demand or 0.0 for n in operating.network.nodes)
    ttr = rows["magnet_CHN"]["ttr_weeks"]
    assert rows["magnet_CHN"]["performance_impact"] == pytest.approx(
        0.85 * demand * ttr - 13.5 * demand, rel=1e-6
    )


def test_exposure_is_ttr_above_tts(cn: ChainNetwork) -> None:
    rows = stress_rows(cn)
    for r in rows:
        assert r["exposed"] == (r["ttr_weeks"] > r["tts_weeks"])
        assert r["performance_impact"] >= 0
    by_node = {r["node"]: r for r in rows}
    # China upstream of magnets also feeds the magnet plants of the rest of the world and India,
    # so its separation outage runs India out sooner than its magnet outage.
    assert by_node["separation_CHN"]["tts_weeks"] < by_node["magnet_CHN"]["tts_weeks"]
    assert by_node["magnet_CHN"]["exposed"]


def test_home_nodes_feed_nothing_without_a_home_magnet_plant(operating: ChainNetwork) -> None:
    rows = {r["node"]: r for r in stress_rows(operating)}
    assert rows["separation_IND"]["tts_weeks"] == math.inf
    assert not rows["separation_IND"]["exposed"]
    assert rows["separation_IND"]["performance_impact"] == 0


def test_every_figure_traces_to_a_source_or_a_labelled_assumption(
    cn: ChainNetwork, dataset: Dataset
) -> None:
    known = set(dataset.table("sources")["source_id"])
    figures = [f for i in cn.nodes.values() for f in i.figures.values()] + list(cn.parts.values())
    for f in figures:
        assert f.sources, f.note
        assert set(f.sources) <= known, (set(f.sources) - known, f.note)
        assert f.assumption == (ASSUMPTION in f.sources)
        if f.assumption:
            assert "ASSUMPTION" in f.note
    for node in cn.network.nodes:
        fields = cn.nodes[node.id].figures
        assert fields["capacity"].value == pytest.approx(node.capacity)
        assert fields["inventory"].value == pytest.approx(node.inventory)
        if node.id in cn.network.recovery:
            assert fields["ttr"].value == cn.network.recovery[node.id]
            assert fields["ttr"].unit == "weeks"
        if node.demand is not None:
            assert fields["demand"].value == pytest.approx(node.demand)
            assert fields["margin"].assumption
    for p in cn.network.parts:
        assert cn.parts[p.node, p.part].value == pytest.approx(p.per_unit)
    json.dumps(provenance(cn))


def test_multi_period_stockpile(chain: Chain, dataset: Dataset) -> None:
    base = build_stress_network(chain, dataset, statuses=("operating",), horizon=20)
    piled = build_stress_network(
        chain,
        dataset,
        statuses=("operating",),
        horizon=20,
        stockpile_t=3000.0,
    )
    plain = {r["node"]: r for r in multi_period_rows(base)}
    helped = {r["node"]: r for r in multi_period_rows(piled)}
    # 13.5 / 0.85 = 15.9 weeks: fifteen whole weeks without loss.
    assert plain["magnet_CHN"]["tts_weeks"] == 15
    assert plain["magnet_CHN"]["exposed"]
    # A stockpile of 3,000 t covers what the stock leaves short (well under 100 t/week) to week 20.
    assert helped["magnet_CHN"]["tts_censored"]
    assert helped["magnet_CHN"]["performance_impact"] == pytest.approx(0.0, abs=1e-6)


def test_priority_protects_a_sector(chain: Chain, dataset: Dataset) -> None:
    cn = build_stress_network(
        chain, dataset, statuses=("operating",), horizon=20, sector_weights={"ev_car": 50.0}
    )
    rows = {r["node"]: r for r in multi_period_rows(cn)}
    assert rows["magnet_CHN"]["performance_impact"] > 0
    assert rows["magnet_CHN"]["lost_by_sector"].get("ev_car", 0.0) == pytest.approx(0.0, abs=1e-6)


def test_cli_country_table_and_json() -> None:
    runner = CliRunner()
    result = runner.invoke(_app(), ["stress-test", "--country", "IND", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["period"] == "week"
    assert {r["node"] for r in doc["nodes"]} >= {"magnet_CHN", "separation_CHN"}
    assert doc["provenance"]["nodes"]["magnet_CHN"]["ttr"]["sources"] == ["rareflow-derived"]
    table = runner.invoke(_app(), ["stress-test", "--country", "IND"])
    assert table.exit_code == 0, table.output
    assert "Time to survive (weeks)" in table.output
    assert "magnet_CHN" in table.output


def test_cli_rejects_mixed_options() -> None:
    runner = CliRunner()
    both = runner.invoke(_app(), ["stress-test"])
    assert both.exit_code != 0
    assert "exactly one of --network" in str(both.exception)
    pile = runner.invoke(_app(), ["stress-test", "--country", "IND", "--stockpile-t", "5"])
    assert "need --horizon" in str(pile.exception)
    bad = runner.invoke(
        _app(), ["stress-test", "--country", "IND", "--horizon", "2", "--priority", "defence"]
    )
    assert "SECTOR=WEIGHT" in str(bad.exception)


def test_a_sectors_other_magnets_are_left_out_and_said_so(cn: ChainNetwork) -> None:
    # intensities.csv: defence needs 50 t/yr, 40% of it SmCo, which this network does not carry.
    note = cn.nodes["defence_IND"].figures["demand"].note
    assert "leaves out 20.0 t/yr of magnet_smco" in note
