"""`rareflow validate`: scores against what happened, out of sample, beside naive rivals.

Observed values asserted here are read from episode_series.csv or worked out by hand from its
rows, never typed in from the model.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from typer.testing import CliRunner

from rareflow.analysis import validation
from rareflow.analysis.backtest import episode_2010, validate_2010, validate_2025
from rareflow.analysis.backtest.metrics import Interval, month_number
from rareflow.analysis.backtest.periods import parse_period
from rareflow.analysis.backtest.score import (
    LossPoint,
    SkillRow,
    first_above,
    month_verdict,
    observed_path,
    recovery,
    trough,
    value_verdict,
)
from rareflow.cli import app
from rareflow.data.asof import as_of, source_dates
from rareflow.data.load import Dataset, load_dataset
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.errors import InputError


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="module")
def quick(ds: Dataset) -> validation.Validation:
    return validation.validate(ds, validation.QUICK)


def _value(ds: Dataset, series: str, period: str) -> float:
    t = ds.chosen("episode_series")
    row = t[(t["episode"] == "2025") & (t["series"] == series) & (t["period"] == period)]
    return float(row["value"].iloc[0])


def test_observed_loss_is_the_fall_against_the_year_before_net_of_the_pre_control_trend(
    ds: Dataset,
) -> None:
    points, trend = validate_2025.observed_losses(ds, "retail_e2w")
    july = next(p for p in points if p.period.label == "2025-07")
    r_jan = _value(ds, "retail_e2w_ratio_year_before", "2025-01")
    r_feb = _value(ds, "retail_e2w", "2025-02") / _value(ds, "retail_e2w", "2024-02")
    r_jul = _value(ds, "retail_e2w", "2025-07") / _value(ds, "retail_e2w", "2024-07")
    assert july.loss == pytest.approx(1 - r_jul / np.sqrt(r_jan * r_feb))
    assert "2 months" in trend
    # A rise against trend is no loss; months before the controls are not scored.
    assert all(p.loss >= 0 for p in points)
    assert all(p.period.last >= np.datetime64("2025-04") for p in points)
    # A reported ratio is used where the year before is not stored (China's exports, May).
    exports, flat = validate_2025.observed_losses(ds, "china_magnet_exports")
    may = next(p for p in exports if p.period.label == "2025-05")
    assert may.loss == pytest.approx(
        1 - _value(ds, "china_magnet_exports_ratio_year_before", "2025-05")
    )
    assert "flat" in flat


def test_loss_metrics_on_a_path_worked_by_hand() -> None:
    loss = np.array([[0.0, 0.1, 0.4, 0.2, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    assert first_above(loss)[0] == 1
    assert np.isnan(first_above(loss)[1])
    idx, depth = trough(loss)
    assert idx[0] == 2
    assert np.isnan(idx[1])
    assert depth[0] == 0.4
    assert recovery(loss)[0] == 4
    assert np.isnan(recovery(loss)[1])
    start = np.datetime64("2025-04", "M")
    pts = [
        LossPoint(parse_period(m), v, "", ("s",))
        for m, v in (("2025-05", 0.0), ("2025-07", 0.3), ("2025-10", 0.0))
    ]
    obs = observed_path(pts, start)
    assert obs.onset == Interval(
        month_number(np.datetime64("2025-06")), month_number(np.datetime64("2025-07"))
    )
    assert obs.trough == Interval(
        month_number(np.datetime64("2025-07")), month_number(np.datetime64("2025-07"))
    )
    assert obs.recovery == Interval(
        month_number(np.datetime64("2025-08")), month_number(np.datetime64("2025-10"))
    )
    july = float(month_number(np.datetime64("2025-07")))
    assert month_verdict(obs.onset, np.full(10, july), obs.last)[0] == "inside band"
    verdict, error = month_verdict(obs.onset, np.full(10, july - 3), obs.last)
    assert verdict.startswith("outside band: model 2 months early")
    assert error == -2
    assert value_verdict(30, np.linspace(20, 40, 50))[0] == "inside band"
    assert value_verdict(30, np.linspace(0, 90, 50))[0].startswith("inside band, but")
    assert value_verdict(80, np.full(50, 30.0))[0].startswith("outside band: model 50 points below")


def test_skill_is_bounded_and_signed() -> None:
    def skill(model: float, rival: float) -> float:
        return SkillRow("e", "p", "s", "x", 1, "u", model, "r", rival).skill

    assert skill(0.0, 10.0) == 1.0
    assert skill(10.0, 0.0) == -1.0
    assert skill(5.0, 5.0) == 0.0
    assert skill(0.0, 0.0) == 0.0
    assert skill(5.0, 10.0) == pytest.approx(0.5)


def test_2025_set_up_uses_nothing_published_after_the_cutoff(ds: Dataset) -> None:
    past, log = as_of(ds, validate_2025.CUTOFF)
    dates = source_dates(ds)
    for name, table in past.tables.items():
        if not TABLES_BY_NAME[name].is_values or table.empty:
            continue  # definitions (sources, materials, ...) are kept whole by design
        for sid, year in zip(
            table["source_id"], table.get("year", [None] * len(table)), strict=True
        ):
            when = dates.get(str(sid))
            if str(sid) == "rareflow-derived":
                assert date(int(year) + 1, 12, 31) < validate_2025.CUTOFF
            elif when is not None:
                assert when < validate_2025.CUTOFF, (name, sid, when)
    # Every observed row scored after the controls was published after the cutoff: none is
    # in the set-up's dataset.
    observed = past.chosen("episode_series")
    observed = observed[(observed["episode"] == "2025") & (observed["role"] == "observed")]
    assert all(parse_period(p).last < np.datetime64("2025-04") for p in observed["period"])
    assert sum(log.dropped.values()) > 0


def test_observed_rows_never_move_the_model(ds: Dataset) -> None:
    full = validate_2025.scorecard(ds, validate_2025.OUT_OF_SAMPLE, draws=40, seed=3)
    table = ds.tables["episode_series"]
    blind = Dataset(
        {**ds.tables, "episode_series": table[table["role"] != "observed"]},
        ds.version,
        ds.user_dir,
        ds.calibration,
    )
    without = validate_2025.scorecard(blind, validate_2025.OUT_OF_SAMPLE, draws=40, seed=3)
    for a, b in zip(full.paths, without.paths, strict=True):
        assert a["median"] == b["median"]
        assert a["p95"] == b["p95"]
    assert all(not p["observed"] for p in without.paths)


def test_both_presets_scored_per_sector_with_both_rivals(quick: validation.Validation) -> None:
    assert [c.preset for c in quick.cards] == ["backtest-2025-april", "china-2025-april"]
    for card in quick.cards:
        subjects = {r.subject for r in card.rows}
        assert {"two_wheeler", "ev_car", "three_wheeler", "wind"} <= subjects
        metrics = {r.metric for r in card.rows if r.subject == "two_wheeler"}
        assert {"onset", "trough month", "recovery month", "depth"} <= metrics
        rivals = {s.rival.split(" (")[0] for s in card.skill}
        assert rivals == {"no disruption", "share rule"}
        assert all(-1 <= s.skill <= 1 for s in card.skill)
    # The hindsight preset's depth for two-wheelers: since the corrected cover (11-16 weeks on
    # 4 April 2025) and the buyer groups, the observed depth falls inside its band.
    hind = quick.cards[1]
    depth = next(r for r in hind.rows if r.subject == "two_wheeler" and r.metric == "depth")
    assert depth.verdict.startswith("inside band")


def test_2010_is_scored_out_of_sample(ds: Dataset) -> None:
    episode = episode_2010.load_episode(ds)
    train, test = validate_2010.split(episode, lambda p: bool(p.period.last > validate_2010.CUTOFF))
    assert train
    assert test
    assert all(p.period.last <= validate_2010.CUTOFF for _, p in train)
    v = validate_2010.variant(ds, episode, ())
    fitted = validate_2010.fit_on(ds, episode, v, train, starts=2).values
    # The fit never sees the test prices: changing them leaves it unchanged.
    moved = {
        el: [
            type(p)(
                p.period,
                p.value * (10 if p.period.last > validate_2010.CUTOFF else 1),
                p.source_id,
                p.note,
            )
            for p in pts
        ]
        for el, pts in episode.targets.items()
    }
    other = type(episode)(**{**episode.__dict__, "targets": moved})
    tr2, _ = validate_2010.split(other, lambda p: bool(p.period.last > validate_2010.CUTOFF))
    np.testing.assert_allclose(validate_2010.fit_on(ds, other, v, tr2, starts=2).values, fitted)


def test_2010_blocks_and_redated_peaks(quick: validation.Validation, ds: Dataset) -> None:
    variants = [e["variant"] for e in quick.episode_2010.errors]
    assert variants[0] == "base"
    assert len(variants) == len(validate_2010.VARIANTS)
    for e in quick.episode_2010.errors:
        assert e["fit"]["points"] + e["test"]["points"] == 16
    peaks = [r for r in quick.episode_2010.rows if r.metric == "peak month"]
    assert {r.observed for r in peaks} == {"2011-07", "2011-08"}  # not October 2011
    stock = next(e for e in quick.episode_2010.errors if e["variant"] == "stock_building")
    assert "stock_building" in stock["fitted"]
    # Duties scale Nd's FOB price from 2011 by (1 + 25%) / (1 + 15%), read from the data.
    episode = episode_2010.load_episode(ds)
    duty = validate_2010.variant(ds, episode, ("export_duties",)).duty
    assert duty[-1, 0] == pytest.approx(1.25 / 1.15)
    assert duty[0, 0] == 1.0
    assert np.all(duty[:, 1] == 1.0)


def test_quick_scores_are_no_worse_than_stored(quick: validation.Validation) -> None:
    stored = validation.stored_scores()
    check = validation.compare(quick.scores(), stored["scores"])
    assert check.ok, check.worse + check.gone


def test_compare_flags_worse_and_gone() -> None:
    check = validation.compare({"a": 2.0, "c": 1.0}, {"a": 1.0, "b": 1.0})
    assert not check.ok
    assert check.worse
    assert check.gone == ["b"]
    assert check.new == ["c"]
    assert validation.compare({"a": 0.5}, {"a": 1.0}).better


@pytest.fixture
def fake_validate(monkeypatch: pytest.MonkeyPatch, quick: validation.Validation) -> None:
    monkeypatch.setattr("rareflow.cli.validate.validate", lambda ds, settings: quick)


@pytest.mark.usefixtures("fake_validate")
def test_cli_fails_when_a_score_gets_worse_unrecorded(tmp_path) -> None:
    page = tmp_path / "v.html"
    good = tmp_path / "scores.json"
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "validate",
            "--quick",
            "--update-scores",
            "--scores-file",
            str(good),
            "--report",
            str(page),
        ],
    )
    assert out.exit_code == 0, out.output
    stored = json.loads(good.read_text())
    assert stored["scores"]
    assert "update-scores" in stored["about"]
    out = runner.invoke(
        app, ["validate", "--quick", "--scores-file", str(good), "--report", str(page)]
    )
    assert out.exit_code == 0, out.output
    key = next(iter(stored["scores"]))
    stored["scores"][key] = stored["scores"][key] / 2 - 0.1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(stored))
    out = runner.invoke(
        app, ["validate", "--quick", "--scores-file", str(bad), "--report", str(page)]
    )
    assert out.exit_code == 1
    assert "worse than stored" in out.output
    assert key in out.output
    html = page.read_text()
    assert "backtest-2025-april" in html
    assert "china-2025-april" in html
    assert "2010-2014" in html
    refused = runner.invoke(app, ["validate", "--update-scores", "--report", str(page)])
    assert refused.exit_code == 2


def test_cli_validate_quick_against_the_embedded_scores(tmp_path) -> None:
    """What CI checks: the real quick run, scored against analysis/validation_scores.json."""
    page = tmp_path / "validation.html"
    out = CliRunner().invoke(
        app, ["validate", "--quick", "--report", str(page), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert page.stat().st_size > 100_000  # offline: plotly is inlined


def test_bad_scores_file_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    with pytest.raises(InputError, match="expected an object"):
        validation.stored_scores(bad)


def test_a_span_of_months_is_a_period() -> None:
    half = parse_period("2025-04..2025-09")
    assert half.months == 6
    assert str(half.first) == "2025-04"
    assert str(half.last) == "2025-09"
    with pytest.raises(InputError, match="not a span of months"):
        parse_period("2025-09..2025-04", "episode_series.csv, row 3")
    with pytest.raises(InputError, match="not a span of months"):
        parse_period("2025-Q2..2025-09")
