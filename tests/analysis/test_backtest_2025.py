"""The 2025 backtest: out of sample, from the pre-April-2025 set-up alone."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rareflow.analysis.backtest import episode_2025
from rareflow.cli import app
from rareflow.data.asof import as_of
from rareflow.data.load import load_dataset
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario, parse_scenario


@pytest.fixture(scope="module")
def result() -> episode_2025.BacktestResult:
    return episode_2025.backtest(load_dataset(), draws=200, seed=1)


def test_month_by_month_shortfall_for_india_april_to_december(result) -> None:
    months = [c for c in result.series.columns if c != "sector"]
    assert months == [f"2025-{m:02d}" for m in range(4, 13)]
    assert {"ev_car", "two_wheeler", "three_wheeler", "wind", "electronics"} <= set(
        result.series["sector"]
    )
    long = result.monthly
    assert (long["p05"] <= long["central"] + 1e-9).all()
    assert (long["central"] <= long["p95"] + 1e-9).all()
    # Nothing is short before the controls' first licence decisions could fall due (51 days
    # at the earliest, plus shipping), and something is short later in the year.
    april = long[long["month"] == "2025-04"]
    assert (april["p95"] == 0).all()
    assert long[long["month"] == "2025-08"]["central"].max() > 0


def test_set_up_uses_no_later_information(result) -> None:
    text = "\n".join(result.notes)
    assert "as of 2025-04-01" in text
    assert "webdunia-2024-fada" in text  # the FY2023-24 EV figure, not FADA's January 2026 one
    assert "fada-2026-ev" not in text
    scenario = load_scenario(episode_2025.PRESET)
    for shock in scenario.shocks:
        for phase in shock.licence:
            assert phase.start <= shock.start


def test_a_phase_dated_after_the_shock_is_refused() -> None:
    sc = load_scenario(episode_2025.PRESET)
    data = sc.model_dump(mode="json", by_alias=True)
    data["shocks"][0]["licence"].append(
        {"from": "2025-10-30", "delay_days": 60, "approval_probability": 0.9}
    )
    later = parse_scenario(json.dumps(data), "test")
    full = load_dataset()
    past, _ = as_of(full, episode_2025.CUTOFF)
    with pytest.raises(InputError, match="cannot know it"):
        episode_2025._check_set_up(later, full, past)


def test_later_reports_are_shown_beside_the_model_not_used(result) -> None:
    subjects = {c.subject for c in result.comparisons}
    assert subjects == {"licences for India", "industry magnet cover"}
    for c in result.comparisons:
        assert "reported later" in c.observed


def test_cli_backtest_2025(tmp_path) -> None:
    page = tmp_path / "bt.html"
    out = CliRunner().invoke(
        app, ["backtest", "2025", "--draws", "100", "--format", "json", "--report", str(page)]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["episode"] == "2025"
    assert {r["sector"] for r in doc["series"]} >= {"ev_car", "wind"}
    # Sectors with the same path share one panel (report/backtest.py), named for all of them.
    text = page.read_text()
    assert "shortfall, ev_car" in text or "shortfall, every sector" in text
    bad = CliRunner().invoke(app, ["backtest", "1999"])
    assert bad.exit_code != 0
