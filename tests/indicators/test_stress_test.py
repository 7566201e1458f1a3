"""Stress test (Simchi-Levi et al. 2015, Interfaces 45(5):375-390) on networks worked by hand."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rareflow.cli import stress_test as stress_cli
from rareflow.errors import InputError
from rareflow.indicators.stress_test import (
    MultiPeriodNetwork,
    Network,
    load_multi_period_network,
    load_network,
    multi_period_stress_test,
    performance_impact,
    stress_test,
    time_to_survive,
)

DATA = Path(__file__).parent / "data"
TWO_SUPPLIERS = DATA / "network_two_suppliers.json"


def _two_suppliers() -> Network:
    # mine_cn (cap 10) and mine_au (cap 4) both supply oxide to magnet (1 oxide/magnet, cap 10,
    # 5 magnets in stock); motor (end product) needs 2 magnets each, cap 5, demand 5, margin 100.
    return load_network(TWO_SUPPLIERS)


def test_alternative_supplier_limits_tts() -> None:
    # mine_cn down: oxide only from mine_au, 4t; magnets made <= 4t; magnets shipped <= 4t + 5.
    # The motor needs 2 * 5t = 10t magnets: 10t <= 4t + 5  =>  t <= 5/6.
    assert time_to_survive(_two_suppliers(), "mine_cn") == pytest.approx(5 / 6)


def test_alternative_supplier_performance_impact() -> None:
    # mine_cn down for TTR = 3: magnets available 4*3 + 5 = 17 -> 8.5 motors; demand 5*3 = 15.
    # Lost 15 - 8.5 = 6.5 motors x margin 100 = 650.
    value, lost = performance_impact(_two_suppliers(), "mine_cn")
    assert value == pytest.approx(650.0)
    assert lost["motor"] == pytest.approx(6.5)


def test_backup_supplier_loss_is_harmless_and_tts_infinite() -> None:
    # mine_au down: mine_cn alone makes 10t oxide = 10t magnets >= 10t needed, for any t.
    # The TTS program is unbounded: TTS = inf, PI = 0, not exposed.
    net = _two_suppliers()
    assert math.isinf(time_to_survive(net, "mine_au"))
    assert performance_impact(net, "mine_au")[0] == pytest.approx(0.0)


def test_disrupted_node_inventory_still_ships() -> None:
    # magnet down: no magnets are made, but its 5 in stock ship: 10t <= 5 => TTS = 0.5.
    # PI over TTR = 2: 5 magnets -> 2.5 motors; demand 10; lost 7.5 x 100 = 750.
    results = {r.node: r for r in stress_test(_two_suppliers())}
    assert results["magnet"].tts == pytest.approx(0.5)
    assert results["magnet"].performance_impact == pytest.approx(750.0)
    assert results["magnet"].exposed
    assert results["mine_cn"].exposed
    assert not results["mine_au"].exposed


def _inventory_covers() -> Network:
    # supplier s (cap 10) feeds plant p (end product: 1 part/unit, cap 10, 30 units in stock,
    # demand 10/period, margin 50); s recovers in 2 periods.
    return Network.model_validate(
        {
            "nodes": [
                {"id": "s", "capacity": 10},
                {"id": "p", "capacity": 10, "inventory": 30, "demand": 10, "margin": 50},
            ],
            "parts": [{"node": "p", "part": "x", "per_unit": 1, "suppliers": ["s"]}],
            "recovery": {"s": 2},
        }
    )


def test_inventory_alone_covers_the_disruption() -> None:
    # s down: p makes nothing; its stock covers demand while 10t <= 30 => TTS = 3 > TTR = 2.
    (result,) = stress_test(_inventory_covers())
    assert result.tts == pytest.approx(3.0)
    assert result.performance_impact == pytest.approx(0.0)
    assert not result.exposed
    assert result.lost_demand == {}


def test_json_row_reports_infinite_tts_as_null() -> None:
    rows = [r.as_row() for r in stress_test(_two_suppliers())]
    assert next(r for r in rows if r["node"] == "mine_au")["tts"] is None


def _multi(horizon: int, stockpile: dict[str, object] | None = None) -> MultiPeriodNetwork:
    base = _inventory_covers().model_dump()
    return MultiPeriodNetwork.model_validate(
        {**base, "horizon": horizon, "stockpile": stockpile or {}}
    )


def test_multi_period_inventory_carried() -> None:
    # s down all horizon: stock 30 covers periods 1-3 (10 each); period 4 is short => TTS = 3.
    # PI with s down for periods 1-2: stock covers them, s is back in period 3 => no loss.
    (result,) = multi_period_stress_test(_multi(horizon=5)).nodes
    assert result.tts == 3
    assert not result.tts_censored
    assert result.performance_impact == pytest.approx(0.0)
    assert not result.exposed


def test_multi_period_stockpile_release_extends_tts() -> None:
    # A stockpile of 10 units of s's product, at most 5 released a period, adds 10 parts:
    # 30 + 10 = 40 units of demand covered => TTS = 4 periods of the horizon of 6.
    result = multi_period_stress_test(
        _multi(horizon=6, stockpile={"s": {"units": 10, "max_release_per_period": 5}})
    )
    assert result.nodes[0].tts == 4


def test_multi_period_tts_censored_at_horizon() -> None:
    # Horizon 2 < 3 periods of stock: no shortfall is seen; TTS is at least 2, not exposed.
    (result,) = multi_period_stress_test(_multi(horizon=2)).nodes
    assert result.tts == 2
    assert result.tts_censored
    assert not result.exposed


def test_multi_period_priority_sector_served_first() -> None:
    # s (cap 10) down for 2 periods; backup s2 makes 6 a period; products a (defence, weight 10)
    # and b (consumer, weight 1) each want 6 a period at margin 1. The 6 units go to a;
    # b loses 6 x 2 periods = 12 units, value 12. TTS = 0 (period 1 is already short).
    net = MultiPeriodNetwork.model_validate(
        {
            "nodes": [
                {"id": "s", "capacity": 10},
                {"id": "s2", "capacity": 6},
                {"id": "a", "capacity": 10, "demand": 6, "margin": 1, "sector": "defence"},
                {"id": "b", "capacity": 10, "demand": 6, "margin": 1, "sector": "consumer"},
            ],
            "parts": [
                {"node": "a", "part": "x", "per_unit": 1, "suppliers": ["s", "s2"]},
                {"node": "b", "part": "x", "per_unit": 1, "suppliers": ["s", "s2"]},
            ],
            "recovery": {"s": 2},
            "horizon": 3,
            "sector_weights": {"defence": 10},
        }
    )
    result = multi_period_stress_test(net)
    (node,) = result.nodes
    assert node.tts == 0
    assert node.lost_by_product == pytest.approx({"b": 12.0})
    assert node.lost_by_sector == pytest.approx({"consumer": 12.0})
    assert node.performance_impact == pytest.approx(12.0)
    assert result.exposure_map == ["s"]


def _app() -> typer.Typer:
    app = typer.Typer()
    stress_cli.register(app)

    @app.callback()
    def _root() -> None:
        """Test root (keeps stress-test a sub-command)."""

    return app


def test_cli_json_output() -> None:
    result = CliRunner().invoke(
        _app(), ["stress-test", "--network", str(TWO_SUPPLIERS), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["node"] for r in rows] == ["mine_cn", "mine_au", "magnet"]
    assert rows[0]["tts"] == pytest.approx(5 / 6)
    assert rows[0]["exposed"] is True


def test_cli_table_output() -> None:
    result = CliRunner().invoke(_app(), ["stress-test", "--network", str(TWO_SUPPLIERS)])
    assert result.exit_code == 0, result.output
    assert "mine_cn" in result.output
    # The table is for readers: column ids are written as names (JSON keeps the ids).
    assert "Performance impact" in result.output
    assert "performance_impact" not in result.output


def test_highs_banner_does_not_reach_stdout() -> None:
    # HiGHS prints a banner on file descriptor 1; JSON printed after solving must stay clean.
    code = (
        "import json; from pathlib import Path;"
        "from rareflow.indicators.stress_test import load_network, stress_test;"
        f"r = stress_test(load_network(Path({str(TWO_SUPPLIERS)!r})));"
        "print(json.dumps([x.node for x in r]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["mine_cn", "mine_au", "magnet"]


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ({"nodes": [{"id": "a", "capacity": -1}], "recovery": {}}, "nodes[0] ('a').capacity"),
        (
            {"nodes": [{"id": "a", "capacity": 1, "demand": 1}], "recovery": {}},
            "needs a margin",
        ),
        (
            {
                "nodes": [{"id": "a", "capacity": 1}],
                "parts": [{"node": "a", "part": "x", "per_unit": 1, "suppliers": ["zz"]}],
                "recovery": {},
            },
            "supplier 'zz' is not an id in nodes",
        ),
        ({"nodes": [{"id": "a", "capacity": 1}], "recovery": {"b": 1}}, "recovery: 'b'"),
        ({"nodes": [{"id": "a", "capacity": 1, "colour": 1}], "recovery": {}}, "colour"),
    ],
)
def test_bad_network_names_item_and_field(
    tmp_path: Path, network: dict[str, object], expected: str
) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(network))
    with pytest.raises(InputError) as info:
        load_network(path)
    assert "net.json" in str(info.value)
    assert expected in str(info.value)


def test_cli_bad_input_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = CliRunner().invoke(_app(), ["stress-test", "--network", str(path)])
    assert isinstance(result.exception, InputError)
    assert "broken.json: not valid JSON" in str(result.exception)


EXAMPLE = Path(__file__).parents[2] / "src/rareflow/indicators/data/stress_test_example.json"


def test_shipped_example_oxide_chn() -> None:
    # oxide_CHN down: its 20 t of oxide make 20 / 0.3 = 66.7 magnets at magnet_CHN; magnet_IND
    # makes 5t (oxide from Malaysia is ample); 12 magnets in stock. End products need
    # (20t - 40) + (10t - 15) magnets: 12 + 66.67 + 5t = 30t - 55  =>  t = 133.67 / 25 = 5.347.
    results = {r.node: r for r in stress_test(load_network(EXAMPLE))}
    assert results["oxide_CHN"].tts == pytest.approx((12 + 200 / 3 + 55) / 25)
    assert results["oxide_CHN"].exposed


def test_multi_period_file(tmp_path: Path) -> None:
    path = tmp_path / "multi.json"
    path.write_text(json.dumps({**_inventory_covers().model_dump(), "horizon": 5}))
    (result,) = multi_period_stress_test(load_multi_period_network(path)).nodes
    assert result.tts == 3
