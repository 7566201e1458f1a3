"""Indicators on real partners for a focal country (issue 18 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rareflow.cli import app
from rareflow.data.load import Dataset, load_dataset
from rareflow.indicators.geopolrisk import political_instability
from rareflow.indicators.partner_view import partner_indicators


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(from_env=False)


def test_india_magnets_concentration_and_geopolrisk_by_hand(dataset: Dataset) -> None:
    stages, partners = partner_indicators(dataset, "IND")
    magnet = next(s for s in stages if s.stage == "magnet")
    # ICRA 2025: China 0.85 of India's magnet imports; the rest split Japan 0.10, ROW 0.05.
    assert magnet.hhi == pytest.approx(0.85**2 + 0.10**2 + 0.05**2)
    assert magnet.top3_share == pytest.approx(1.0)
    assert magnet.china_share == pytest.approx(0.85)
    # WGI political stability 2022: China -0.441, Japan 1.074; ROW at the world mean 0.
    g = {"CHN": political_instability(-0.441), "JPN": political_instability(1.074), "ROW": 0.5}
    expected = magnet.world_hhi * (0.85 * g["CHN"] + 0.10 * g["JPN"] + 0.05 * g["ROW"])
    assert magnet.geopolrisk == pytest.approx(expected, rel=1e-3)
    rows = {p.partner: p for p in partners if p.stage == "magnet"}
    assert rows["ROW"].wgi_assumed
    assert not rows["CHN"].wgi_assumed
    assert sum(p.geopolrisk_part for p in rows.values()) == pytest.approx(magnet.geopolrisk)
    assert 0 < magnet.supply_risk <= 10
    assert magnet.import_reliance == pytest.approx(1.0, abs=0.01)


def test_a_users_wgi_changes_the_risk(dataset: Dataset, tmp_path: Path) -> None:
    (tmp_path / "partner_risk.csv").write_text(
        "country,metric,value,low,high,unit,year,source_id,choice,note\n"
        "CHN,wgi_political_stability,-2.0,,,index,2022,rareflow-assumption,chosen,test\n",
        encoding="utf-8",
    )
    base = {s.stage: s for s in partner_indicators(dataset, "IND")[0]}
    mine = {
        s.stage: s for s in partner_indicators(load_dataset(tmp_path, from_env=False), "IND")[0]
    }
    assert mine["magnet"].geopolrisk > base["magnet"].geopolrisk
    assert mine["magnet"].supply_risk > base["magnet"].supply_risk


def test_cli_partners_for_germany(dataset: Dataset) -> None:
    result = CliRunner().invoke(app, ["partners", "--country", "deu", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["country"] == "DEU"
    assert [s["stage"] for s in doc["stages"]] == ["mining", "separation", "metal", "magnet"]
    assert doc["economic_importance"] is None
    assert "value added" in doc["missing"][0]
    assert {p["partner"] for p in doc["partners"] if p["stage"] == "magnet"} >= {"CHN", "JPN"}
