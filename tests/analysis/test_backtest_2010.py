"""The 2010-2014 backtest: set-up from cited inputs, a fit that can fail, and the CLI.

Observations are cited in episode_series.csv (sources in sources.csv); the values asserted here
are read from the dataset or worked out by hand from it, never typed in from the model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rareflow.analysis.backtest import calibrator, episode_2010, episode_runner
from rareflow.analysis.backtest.metrics import (
    Point,
    model_onset,
    model_peak,
    model_recovery,
    observed_onset,
    observed_peak,
    observed_recovery,
)
from rareflow.analysis.backtest.periods import parse_period
from rareflow.cli import app
from rareflow.data.load import calibration_names, load_dataset
from rareflow.errors import InputError
from rareflow.scenario.compile import price_parameter


@pytest.fixture(scope="module")
def result() -> episode_2010.BacktestResult:
    return episode_2010.backtest(load_dataset(), draws=50, seed=0)


def test_set_up_is_the_cited_inputs() -> None:
    ds = load_dataset()
    ep = episode_2010.load_episode(ds)
    rows = ds.chosen("episode_series")
    inp = rows[(rows["episode"] == "2010") & (rows["role"] == "input")].set_index(
        ["series", "period"]
    )["value"]
    # Requirement: China's 2009 exports plus world-minus-China mine output of 2009.
    expected = (
        inp["china_exports", "2009"]
        + inp["world_mine_production", "2009"]
        - inp["china_mine_production", "2009"]
    )
    assert ep.market.requirement0 * 12 == pytest.approx(expected)
    # Each year's quota is spread over its twelve months.
    assert ep.market.exporter_cap[:12].sum() == pytest.approx(inp["export_quota", "2010"])
    assert ep.market.exporter_cap[48:].sum() == pytest.approx(inp["export_quota", "2014"])
    # Mines outside China: the 2009 base plus Mountain Pass and Lynas as they produced.
    base = inp["world_mine_production", "2009"] - inp["china_mine_production", "2009"]
    lynas_2014 = inp["lynas_supply", "2014-H1"] + inp["lynas_supply", "2014-H2"]
    assert ep.market.other_supply[48:].sum() == pytest.approx(
        base + inp["mountain_pass_supply", "2014"] + lynas_2014
    )
    assert ep.base_price == {
        "Nd": inp["price_nd_oxide", "2009"],
        "Dy": inp["price_dy_oxide", "2009"],
    }


def test_fit_beats_the_uncalibrated_price_block_and_reports_its_error(result) -> None:
    ds = load_dataset()
    ep = episode_2010.load_episode(ds)
    prior = episode_2010.residuals(ep, episode_2010.dataset_sets(ds))[0]
    fitted_rmse = [e["rmse_log"] for e in result.fit_errors]
    assert max(fitted_rmse) < float(np.sqrt(np.mean(prior**2)))
    assert {e["series"] for e in result.fit_errors} == {"price_nd_oxide", "price_dy_oxide"}
    # Every fitted parameter is inside its bounds with a proper interval.
    for p in result.fitted:
        assert p["low_90"] <= p["value"] <= p["high_90"]
        assert p["parameter"] in episode_2010.PARAMETER_NAMES


def test_comparisons_cover_peak_timing_height_and_recovery_with_sources(result) -> None:
    metrics = {(c.subject.split()[0], c.metric) for c in result.comparisons}
    for el in ("Nd", "Dy"):
        assert {(el, "peak month"), (el, "peak height"), (el, "recovery")} <= metrics
    ds = load_dataset()
    known = set(ds.table("sources")["source_id"])
    for c in result.comparisons:
        assert c.sources
        assert set(c.sources) <= known
    # The observed peak is the highest cited FOB price of each element.
    rows = ds.chosen("episode_series")
    for el, series in episode_2010.PRICE_SERIES.items():
        top = rows[(rows["series"] == series) & (rows["role"] == "target")]["value"].max()
        height = next(
            c for c in result.comparisons if c.subject.startswith(el) and c.metric == "peak height"
        )
        assert float(height.observed.replace(",", "")) == top


def test_metrics_on_hand_worked_paths() -> None:
    path = np.array([[1.0, 1.2, 1.6, 3.0, 5.0, 4.0, 2.9, 2.0]])
    assert model_onset(path)[0] == 2  # first above 1.5
    idx, height = model_peak(path)
    assert (idx[0], height[0]) == (4, 5.0)
    # Half-way back from 5 to 1 is 3: reached at index 6, two months after the peak.
    assert model_recovery(path)[0] == 2
    assert np.isnan(model_recovery(np.array([[1.0, 2.0, 3.0]])))[0]
    pts = [
        Point(parse_period("2010"), 10.0, "s", ""),
        Point(parse_period("2011-Q2"), 12.0, "s", ""),
        Point(parse_period("2011-10"), 50.0, "s", ""),
        Point(parse_period("2011-12"), 40.0, "s", ""),
        Point(parse_period("2012-12"), 20.0, "s", ""),
    ]
    onset = observed_onset(pts, base=10.0)
    assert onset is not None
    # Above 15 first at 2011-10, after the 2011-Q2 point: onset between 2011-07 and 2011-10.
    assert str(np.datetime64(int(onset.low), "M")) == "2011-07"
    assert str(np.datetime64(int(onset.high), "M")) == "2011-10"
    top, months = observed_peak(pts)
    assert top.value == 50.0
    assert months.low == months.high
    rec = observed_recovery(pts, base=10.0)
    assert rec is not None
    # Half-way is 30: 40 at 2011-12 is above, 20 at 2012-12 below: 3..14 months after 2011-10.
    assert (rec.low, rec.high) == (3, 14)
    assert rec.error(10) == 0
    assert rec.error(20) == 6
    assert rec.error(1) == -2


def test_periods_are_parsed_and_bad_ones_named() -> None:
    q = parse_period("2011-Q3")
    assert (str(q.first), str(q.last), q.months) == ("2011-07", "2011-09", 3)
    assert parse_period("2012-H2").months == 6
    with pytest.raises(InputError, match="2011-13"):
        parse_period("2011-13")
    with pytest.raises(InputError, match="not a period"):
        parse_period("Q3 2011")


def test_embedded_calibration_is_what_calibrate_writes_now() -> None:
    """The stored calibration (a golden file) is reproduced by fitting the embedded data."""
    table, record = calibrator("2010")(load_dataset())
    assert "episode-2010" in calibration_names()
    stored = load_dataset(calibration="episode-2010")
    for _, row in table.iterrows():
        assert price_parameter(stored, str(row["parameter"])) == pytest.approx(
            row["value"], abs=2e-4
        )
    assert record["points"] == 16
    # The embedded values it replaces stay as alternatives, marked.
    alt = stored.table("price_parameters")
    alt = alt[alt["choice"] == "alternative"]
    assert set(alt["parameter"]) == {"elasticity", "adjustment"}
    assert all("superseded by calibration episode-2010" in n for n in alt["note"])
    assert stored.version != load_dataset().version


def test_unknown_episode_and_calibration_are_clear_errors() -> None:
    with pytest.raises(InputError, match="no backtest episode '1999'"):
        episode_runner("1999")
    runner = CliRunner()
    out = runner.invoke(app, ["run", "baseline", "--calibration", "nope", "--no-store"])
    assert out.exit_code != 0
    assert "no calibration named 'nope'" in str(out.exception) + out.output


def test_cli_backtest_2010_json_and_report(tmp_path) -> None:
    runner = CliRunner()
    page = tmp_path / "bt.html"
    out = runner.invoke(
        app, ["backtest", "2010", "--draws", "20", "--format", "json", "--report", str(page)]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["episode"] == "2010"
    assert {c["metric"] for c in doc["comparisons"]} >= {"peak month", "peak height", "recovery"}
    assert page.stat().st_size > 100_000
    assert "Backtest 2010" in page.read_text()
    table = runner.invoke(app, ["backtest", "2010", "--draws", "20"])
    assert table.exit_code == 0
    assert "Fitted parameters" in table.stdout
    csv_out = runner.invoke(app, ["backtest", "2010", "--draws", "20", "--format", "csv"])
    assert csv_out.exit_code == 0
    assert "Dy oxide price (FOB China),peak height," in csv_out.stdout
