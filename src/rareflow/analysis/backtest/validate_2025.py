"""Episode 2025 scored: the model's monthly losses against what was observed after April 2025.

**Observed** (episode_series.csv, episode 2025, role ``observed``; never used to set anything):
FADA's monthly retail of electric two-wheelers, passenger vehicles and three-wheelers and of all
passenger vehicles (the conventional-car proxy), MNRE's
wind additions, China's customs exports of rare-earth magnets, and India's imports of permanent
magnets. Each is read as a **loss** against the year before, corrected for the trend the series
showed before the controls:

``loss = max(0, 1 - r / r_pre)``, where ``r`` is the period's ratio to the same period a year
earlier (two stored figures, or a reported ratio) and ``r_pre`` the geometric mean of the
ratios of the months before April 2025 (1 where none was found, stated in the row). A rise
against trend is a loss of 0: a generous reading for the model, since retail also moves with
subsidies, weather and festivals that have nothing to do with magnets.

**Model** (the same months): each sector's shortfall as a share of its requirement; for the chain
series, the fall of magnet shipments from China (and of all magnet imports) against the months
before the controls, January-March 2025, in the same run.

**Naive rivals** on the same points: *no disruption* (loss 0: output as the year before, trend
included) and the *share rule* (loss = China's share of India's magnet imports x a full cut, from
the first whole month after the controls; China's share is the run's own, January-March).

Two presets are scored: ``backtest-2025-april`` on the dataset as of 1 April 2025 (out of sample)
and ``china-2025-april`` on the full dataset (set up with hindsight of the licence dates).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.analysis.backtest.episode_2025 import CUTOFF
from rareflow.analysis.backtest.episode_2025 import PRESET as OUT_OF_SAMPLE
from rareflow.analysis.backtest.metrics import month_number
from rareflow.analysis.backtest.periods import Period, parse_period
from rareflow.analysis.backtest.score import (
    LOSS_THRESHOLD,
    LossPoint,
    ScoreRow,
    SkillRow,
    first_above,
    mean_abs_error,
    month_band,
    month_text,
    month_verdict,
    observed_path,
    recovery,
    trough,
    value_verdict,
)
from rareflow.data.asof import as_of
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario

EPISODE = "2025"
HINDSIGHT = "china-2025-april"
PRESETS = (OUT_OF_SAMPLE, HINDSIGHT)
CONTROLS = np.datetime64("2025-04", "M")
FIRST_FULL = np.datetime64("2025-05", "M")
"""The share rule applies from the first whole month after the controls of 4 April 2025."""
LAST = np.datetime64("2025-12", "M")
PRE = (np.datetime64("2025-01", "M"), np.datetime64("2025-03", "M"))
MAGNETS = ("magnet_ndfeb_sintered", "magnet_ndfeb_bonded", "magnet_smco")
RATIO = "_ratio_year_before"

SECTOR_SERIES = {
    "two_wheeler": "retail_e2w",
    "ev_car": "retail_epv",
    "three_wheeler": "retail_e3w",
    "wind": "wind_additions",
    "ice_vehicle": "retail_pv",
}
"""Which observed series speaks to which sector of the model."""
CHAIN_SERIES = {
    "china_magnet_exports": "magnet shipments from China",
    "india_magnet_imports": "magnet imports, all partners",
}
"""Observed flows of the chain and the model flow each is held against."""


def _year_before(label: str) -> str:
    return re.sub(r"\d{4}", lambda m: str(int(m.group()) - 1), label)


def observed_losses(ds: Dataset, series: str) -> tuple[list[LossPoint], str]:
    """Return the observed losses of a series after the controls, and how its trend was read."""
    table = ds.chosen("episode_series")
    rows = table[(table["episode"] == EPISODE) & (table["role"] == "observed")]
    values = rows[rows["series"] == series].set_index("period")
    ratios = rows[rows["series"] == series + RATIO].set_index("period")
    by_period: dict[str, tuple[float, str, tuple[str, ...]]] = {}
    for label, row in values.iterrows():
        before = _year_before(str(label))
        if str(label).startswith("2025") and before in values.index:
            prev = values.loc[before]
            ratio = float(row["value"]) / float(prev["value"])  # type: ignore[arg-type]
            detail = f"{row['value']:,.0f} against {prev['value']:,.0f} a year before"
            by_period[str(label)] = (
                ratio,
                detail,
                (str(row["source_id"]), str(prev["source_id"])),
            )
    for label, row in ratios.iterrows():
        if str(label) not in by_period:
            ratio = float(row["value"])
            by_period[str(label)] = (
                ratio,
                f"{100 * (ratio - 1):+.1f}% on a year before",
                (str(row["source_id"]),),
            )
    periods = {label: parse_period(label, f"episode_series.csv, {series}") for label in by_period}
    pre = [by_period[k][0] for k, p in periods.items() if p.last < CONTROLS]
    r_pre = float(np.exp(np.mean(np.log(pre)))) if pre else 1.0
    trend = (
        f"trend before the controls: {100 * (r_pre - 1):+.1f}% a year ({len(pre)} months)"
        if pre
        else "no ratio before the controls found: trend taken as flat"
    )
    points = [
        LossPoint(
            period=p,
            loss=max(0.0, 1.0 - by_period[k][0] / r_pre),
            detail=by_period[k][1],
            sources=tuple(dict.fromkeys(by_period[k][2])),
        )
        for k, p in sorted(periods.items(), key=lambda kv: kv[1].first)
        if p.last >= CONTROLS and p.last <= LAST
    ]
    return points, trend


@dataclass
class ModelLoss:
    """The model's loss by draw: a monthly path and the loss over any period."""

    months: np.ndarray
    path: np.ndarray  # (D, T) loss by month, CONTROLS..LAST
    over: Callable[[Period], np.ndarray]  # (D,) loss over a period


def _months(results: xr.Dataset) -> np.ndarray:
    return np.asarray(results["time"].to_numpy().astype("datetime64[M]"))


def sector_loss(results: xr.Dataset, sector: str) -> ModelLoss:
    """Return a sector's shortfall as a share of its requirement."""
    months = _months(results)
    req = results["requirement"].sel(sector=sector).to_numpy()
    short = results["shortfall"].sel(sector=sector).to_numpy()
    keep = (months >= CONTROLS) & (months <= LAST)
    with np.errstate(invalid="ignore", divide="ignore"):
        path = np.nan_to_num(short[:, keep] / req[:, keep])

    def over(period: Period) -> np.ndarray:
        idx = period.index(months)
        return np.asarray(short[:, idx].sum(axis=1) / np.maximum(req[:, idx].sum(axis=1), 1e-12))

    return ModelLoss(months[keep], path, over)


def flow_loss(flow: np.ndarray, months: np.ndarray) -> ModelLoss:
    """Return the fall of a (D, T) flow against its mean over January-March 2025."""
    base = flow[:, (months >= PRE[0]) & (months <= PRE[1])].mean(axis=1)
    keep = (months >= CONTROLS) & (months <= LAST)
    safe = np.maximum(base, 1e-12)[:, None]
    path = np.clip(1.0 - flow[:, keep] / safe, 0.0, 1.0)

    def over(period: Period) -> np.ndarray:
        idx = period.index(months)
        return np.asarray(np.clip(1.0 - flow[:, idx].mean(axis=1) / safe[:, 0], 0.0, 1.0))

    return ModelLoss(months[keep], path, over)


def chain_loss(results: xr.Dataset, series: str) -> ModelLoss:
    """Return the model flow a chain series is held against (see :data:`CHAIN_SERIES`)."""
    months = _months(results)
    if series == "china_magnet_exports":
        flow = results["shipped"].sel(partner="CHN", material=list(MAGNETS)).sum("material")
    else:
        flow = results["imports"].sel(material=list(MAGNETS)).sum("material")
    return flow_loss(flow.to_numpy(), months)


def china_share(results: xr.Dataset) -> float:
    """China's share of the magnets India imported in January-March 2025, in the run (median)."""
    months = _months(results)
    pre = (months >= PRE[0]) & (months <= PRE[1])
    shipped = results["shipped"].sel(material=list(MAGNETS)).sum("material").to_numpy()
    chn = list(results["partner"].to_numpy()).index("CHN")
    total = shipped[:, pre, :].sum(axis=(1, 2))
    return float(np.median(shipped[:, pre, chn].sum(axis=1) / np.maximum(total, 1e-12)))


def share_rule(period: Period, exposure: float) -> float:
    """Return the share rule over a period: exposure x the share of its months under the cut."""
    cut = np.arange(period.first, period.last + np.timedelta64(1, "M")) >= FIRST_FULL
    return exposure * float(cut.mean())


@dataclass
class Scorecard:
    """A preset's scorecard: metric rows, skill rows, and the paths for the report."""

    preset: str
    rows: list[ScoreRow] = field(default_factory=list)
    skill: list[SkillRow] = field(default_factory=list)
    paths: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _pct(values: np.ndarray) -> str:
    lo, hi = np.percentile(values, [5, 95])
    return f"{100 * lo:.0f}..{100 * hi:.0f}"


def _score_series(
    card: Scorecard,
    series: str,
    subject: str,
    model: ModelLoss,
    points: list[LossPoint],
    trend: str,
    exposure: float,
) -> None:
    monthly = [p for p in points if p.period.months == 1]
    sources = tuple(dict.fromkeys(s for p in points for s in p.sources))
    first = month_number(model.months[0])
    obs = observed_path(monthly, CONTROLS)
    coverage = f"{obs.months} of {len(model.months)} months observed; {trend}"
    if monthly:
        for metric, numbers, observed in (
            ("onset", first_above(model.path) + first, obs.onset),
            ("trough month", trough(model.path)[0] + first, obs.trough),
            ("recovery month", recovery(model.path) + first, obs.recovery),
        ):
            verdict, error = month_verdict(observed, numbers, obs.last)
            median, lo, hi, never = month_band(numbers)
            band = "never" if np.isnan(lo) else f"{month_text(lo)}..{month_text(hi)}"
            if never:
                band += f" ({never} of {numbers.size} never)"
            card.rows.append(
                ScoreRow(
                    EPISODE,
                    card.preset,
                    series,
                    subject,
                    metric,
                    "month",
                    "none observed" if observed is None else _interval_text(observed),
                    month_text(median),
                    band,
                    verdict,
                    error,
                    sources,
                    coverage,
                )
            )
        depth = trough(model.path)[1]
        verdict, error = value_verdict(100 * obs.depth, 100 * depth)
        card.rows.append(
            ScoreRow(
                EPISODE,
                card.preset,
                series,
                subject,
                "depth",
                "% lost",
                f"{100 * obs.depth:.1f}",
                f"{100 * np.median(depth):.1f}",
                _pct(depth),
                verdict,
                error,
                sources,
                "largest monthly loss; " + coverage,
            )
        )
    for p in points:
        if p.period.months == 1:
            continue
        values = model.over(p.period)
        verdict, error = value_verdict(100 * p.loss, 100 * values)
        card.rows.append(
            ScoreRow(
                EPISODE,
                card.preset,
                series,
                subject,
                f"loss over {p.period.label}",
                "% lost",
                f"{100 * p.loss:.1f}",
                f"{100 * np.median(values):.1f}",
                _pct(values),
                verdict,
                error,
                p.sources,
                f"{p.detail}; {trend}",
            )
        )
    model_points = [100 * float(np.median(model.over(p.period))) for p in points]
    observed_loss = [100 * p.loss for p in points]
    if points:
        e_model = mean_abs_error(model_points, observed_loss)
        rivals: list[tuple[str, list[float]]] = [
            ("no disruption", [0.0] * len(points)),
            (
                f"share rule (China {100 * exposure:.0f}% x full cut)",
                [100 * share_rule(p.period, exposure) for p in points],
            ),
        ]
        for rival, rival_values in rivals:
            card.skill.append(
                SkillRow(
                    EPISODE,
                    card.preset,
                    series,
                    subject,
                    len(points),
                    "points of % lost",
                    e_model,
                    rival,
                    mean_abs_error(rival_values, observed_loss),
                )
            )
    p05, p50, p95 = np.percentile(model.path, [5, 50, 95], axis=0)
    card.paths.append(
        {
            "preset": card.preset,
            "series": series,
            "subject": subject,
            "months": [str(m) for m in model.months],
            "p05": (100 * p05).round(2).tolist(),
            "median": (100 * p50).round(2).tolist(),
            "p95": (100 * p95).round(2).tolist(),
            "observed": [
                {
                    "first": str(p.period.first),
                    "last": str(p.period.last),
                    "label": p.period.label,
                    "loss": round(100 * p.loss, 2),
                }
                for p in points
            ],
        }
    )


def _interval_text(interval: Any) -> str:
    low, high = month_text(interval.low), month_text(interval.high)
    return low if low == high else f"{low}..{high}"


def scorecard(ds: Dataset, preset: str, *, draws: int, seed: int) -> Scorecard:
    """Run a preset and score every observed series it can speak to.

    The out-of-sample preset runs on the dataset as of 1 April 2025; the hindsight preset on the
    full dataset.
    """
    data = as_of(ds, CUTOFF)[0] if preset == OUT_OF_SAMPLE else ds
    scenario = with_overrides(load_scenario(preset), draws=draws, seed=seed)
    results = run(scenario, dataset=data).results
    card = Scorecard(preset)
    exposure = china_share(results)
    card.notes.append(
        f"{preset}: {'dataset as of ' + str(CUTOFF) if data is not ds else 'full dataset'}, "
        f"{draws} draws, seed {seed}; China's share of India's magnet imports in the run "
        f"(January-March 2025): {100 * exposure:.0f}%"
    )
    sectors = set(results["sector"].to_numpy().tolist())
    for sector, series in SECTOR_SERIES.items():
        points, trend = observed_losses(ds, series)
        if sector not in sectors or float(results["requirement"].sel(sector=sector).max()) <= 0:
            card.notes.append(f"{series}: sector {sector} is not in the {preset} run; not scored")
            continue
        _score_series(card, series, sector, sector_loss(results, sector), points, trend, exposure)
    for series, subject in CHAIN_SERIES.items():
        points, trend = observed_losses(ds, series)
        rival_exposure = 1.0 if series == "china_magnet_exports" else exposure
        _score_series(
            card, series, subject, chain_loss(results, series), points, trend, rival_exposure
        )
    card.notes.append(
        f"loss threshold for onset and recovery: {100 * LOSS_THRESHOLD:g}%; observed losses are "
        "against the year before, corrected for the trend before the controls"
    )
    return card


def observed_table(ds: Dataset) -> pd.DataFrame:
    """Every observed and context row of the episode, for the report's provenance table."""
    table = ds.chosen("episode_series")
    rows = table[(table["episode"] == EPISODE) & table["role"].isin(["observed", "context"])]
    return rows[["series", "period", "role", "value", "unit", "source_id", "note"]].reset_index(
        drop=True
    )
