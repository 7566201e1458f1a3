"""Episode 2010-2014: China's export-quota cuts, held against the world market outside China.

Set-up (episode_series.csv, role ``input``): China's export quotas by half-year batch, the
pre-episode requirement outside China (China's 2009 exports plus 2009 mine output elsewhere),
the output of mines outside China as it happened (Mountain Pass, Lynas), and the 2009 average
prices of Nd and Dy oxide as the pre-episode level. The model is :mod:`rareflow.engine.market`,
whose price block is the engine's.

Fitted (role ``target``): the FOB China prices of Nd and Dy oxide, 2010-2014, in logs, all points
weighted alike. Parameters: the elasticity of each element's price, the monthly adjustment, and
the rate at which high prices move uses to substitutes and thrifted designs for good. Fixed by
labelled assumptions (role ``input``): the trend of the requirement at pre-episode prices and the
cap on the multiple. Not fitted (role ``context``, shown beside the model): China's actual exports,
the Dy price paid by Japanese buyers, the price index, thrifting and recycling rates.

What the model leaves out, and the record shows: smuggling (estimated at 1.2 times legal
exports in 2011), hoarding and speculation, export duties, and any recycling response (below
1% throughout, UNEP 2011).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rareflow import units
from rareflow.analysis.backtest.metrics import (
    ONSET_THRESHOLD,
    RECOVERY_LEVEL,
    Interval,
    Point,
    model_onset,
    model_peak,
    model_recovery,
    month_number,
    observed_onset,
    observed_peak,
    observed_recovery,
)
from rareflow.analysis.backtest.periods import Period, over_period, parse_period
from rareflow.analysis.backtest.result import BacktestResult, Comparison, spread_text
from rareflow.analysis.calibrate import Calibration, Parameter, calibrate
from rareflow.data.load import Dataset
from rareflow.engine.market import MarketParameters, MarketPath, WorldMarket, simulate_market
from rareflow.errors import InputError
from rareflow.model.network import FloatArray

EPISODE = "2010"
FIRST_MONTH = np.datetime64("2010-01", "M")
LAST_MONTH = np.datetime64("2014-12", "M")
ELEMENTS = ("Nd", "Dy")
PRICE_SERIES = {"Nd": "price_nd_oxide", "Dy": "price_dy_oxide"}
PARAMETER_NAMES = ("elasticity_nd", "elasticity_dy", "adjustment", "thrift")


@dataclass(frozen=True)
class Episode2010:
    """The episode's set-up and observations, read from the dataset.

    Parameters
    ----------
    market
        The world market outside China on the episode's months.
    base_price
        Pre-episode (2009 average) price of each element's oxide, US$/kg.
    targets
        Observed prices of each element fitted against, US$/kg.
    context
        Observations shown beside the model but not fitted: (series, point, unit).
    inputs
        The input rows used, for provenance.
    reo_factor
        How quota and export tonnes (basis not stated) are read as t REO (a labelled assumption).
    growth
        Trend of the requirement at pre-episode prices (fixed, not fitted).
    max_multiple
        Cap on the price multiple (fixed, not fitted).
    """

    market: WorldMarket
    reo_factor: float
    growth: float
    max_multiple: float
    base_price: dict[str, float]
    targets: dict[str, list[Point]]
    context: list[tuple[str, Point, str]]
    inputs: pd.DataFrame


def _rows(ds: Dataset, role: str) -> pd.DataFrame:
    table = ds.chosen("episode_series")
    return table[(table["episode"] == EPISODE) & (table["role"] == role)]


def _need(rows: pd.DataFrame, series: str) -> pd.DataFrame:
    got = rows[rows["series"] == series]
    if got.empty:
        raise InputError(
            f"episode_series.csv has no chosen input row for episode {EPISODE}, series "
            f"'{series}': the 2010 backtest needs it"
        )
    return got


def _value(rows: pd.DataFrame, series: str, unit: str) -> float:
    """Return the series' (first) value, converted from its row's unit to ``unit``."""
    row = _need(rows, series).iloc[0]
    return units.convert(float(row["value"]), str(row["unit"]), unit)


def _point(row: pd.Series, where: str) -> Point:
    return Point(
        period=parse_period(str(row["period"]), where),
        value=float(row["value"]),
        source_id=str(row["source_id"]),
        note=str(row["note"]),
    )


def _spread(rows: pd.DataFrame, grid: np.ndarray, unit: str, factor: float) -> FloatArray:
    """Monthly t REO from rows over periods: each value spread evenly over its months."""
    out = np.zeros(len(grid))
    for _, row in rows.iterrows():
        where = f"episode_series.csv line {row['_line']}, period"
        period = parse_period(str(row["period"]), where)
        tonnes = units.convert(float(row["value"]), str(row["unit"]), unit) * factor
        out[period.index(grid)] += tonnes / period.months
    return out


def load_episode(ds: Dataset) -> Episode2010:
    """Read the episode from the dataset (episode_series.csv, episode 2010).

    Raises
    ------
    rareflow.errors.InputError
        If an input the set-up needs is missing or a period cannot be read.
    """
    inputs = _rows(ds, "input")
    grid = np.arange(FIRST_MONTH, LAST_MONTH + np.timedelta64(1, "M"))
    factor = _value(inputs, "quota_tonnes_as_reo", "fraction")
    # Quotas and exports are stated in plain tonnes; the labelled factor reads them as t REO.
    # Each year's quota is spread over its months (see the export_quota rows' notes).
    quota = _spread(_need(inputs, "export_quota"), grid, "t", factor)
    exports_2009 = _value(inputs, "china_exports", "t") * factor
    elsewhere_2009 = _value(inputs, "world_mine_production", "t_reo") - _value(
        inputs, "china_mine_production", "t_reo"
    )
    other = np.full(len(grid), elsewhere_2009 / 12.0)
    for series in ("mountain_pass_supply", "lynas_supply"):
        other += _spread(_need(inputs, series), grid, "t_reo", 1.0)
    market = WorldMarket(
        months=grid,
        requirement0=(exports_2009 + elsewhere_2009) / 12.0,
        exporter_cap=quota,
        other_supply=other,
        elements=ELEMENTS,
    )
    base = {el: _value(inputs, PRICE_SERIES[el], "usd_per_kg") for el in ELEMENTS}
    targets_rows = _rows(ds, "target")
    targets = {
        el: [
            _point(r, f"episode_series.csv line {r['_line']}, period")
            for _, r in targets_rows[targets_rows["series"] == PRICE_SERIES[el]].iterrows()
        ]
        for el in ELEMENTS
    }
    for el, pts in targets.items():
        if len(pts) < 3:
            raise InputError(
                f"episode_series.csv: the 2010 backtest needs at least 3 target prices of "
                f"{PRICE_SERIES[el]}, found {len(pts)}"
            )
    context = [
        (str(r["series"]), _point(r, f"episode_series.csv line {r['_line']}"), str(r["unit"]))
        for _, r in _rows(ds, "context").iterrows()
    ]
    growth = _value(inputs, "requirement_growth", "fraction_per_year")
    max_multiple = _value(inputs, "price_cap", "index")
    return Episode2010(market, factor, growth, max_multiple, base, targets, context, inputs)


def parameters(ds: Dataset) -> tuple[Parameter, ...]:
    """Return the parameters fitted, started from the dataset's price block."""
    chosen = ds.chosen("price_parameters").set_index("parameter")["value"]
    e0 = float(np.clip(chosen.get("elasticity", -0.3), -3.0, -0.02))
    a0 = float(np.clip(chosen.get("adjustment", 0.5), 0.01, 1.0))
    return (
        Parameter("elasticity_nd", e0, -3.0, -0.02, "index", "elasticity of the Nd oxide price"),
        Parameter("elasticity_dy", e0, -3.0, -0.02, "index", "elasticity of the Dy oxide price"),
        Parameter("adjustment", a0, 0.01, 1.0, "fraction", "share of the gap closed per month"),
        Parameter("thrift", 0.0, 0.0, 5.0, "fraction_per_year", "uses moved away per log multiple"),
    )


def market_parameters(episode: Episode2010, sets: FloatArray) -> MarketParameters:
    """Turn (D, 4) parameter sets (order of :data:`PARAMETER_NAMES`) into market parameters."""
    d_n = len(sets)
    return MarketParameters(
        elasticity=sets[:, 0:2],
        adjustment=sets[:, 2],
        max_multiple=np.full(d_n, episode.max_multiple),
        growth=np.full(d_n, episode.growth),
        thrift=sets[:, 3],
    )


def simulate(episode: Episode2010, sets: FloatArray) -> MarketPath:
    """Run the market for (D, 4) parameter sets."""
    return simulate_market(episode.market, market_parameters(episode, sets))


def model_at(episode: Episode2010, path: MarketPath, element: str, period: Period) -> FloatArray:
    """(D,) model price of an element's oxide over a period, US$/kg."""
    k = ELEMENTS.index(element)
    multiple = over_period(path.price[:, :, k], episode.market.months, period, "mean")
    return multiple * episode.base_price[element]


def residuals(episode: Episode2010, sets: FloatArray) -> FloatArray:
    """(D, R) log residuals, model minus observed, of every target price."""
    path = simulate(episode, sets)
    cols = [
        np.log(model_at(episode, path, el, p.period)) - np.log(p.value)
        for el in ELEMENTS
        for p in episode.targets[el]
    ]
    return np.stack(cols, axis=1)


def fit(episode: Episode2010, ds: Dataset, *, starts: int = 8, seed: int = 0) -> Calibration:
    """Calibrate the market's parameters to the target prices."""
    return calibrate(lambda s: residuals(episode, s), parameters(ds), starts=starts, seed=seed)


def dataset_sets(ds: Dataset) -> FloatArray:
    """(1, 4) the dataset's own price block as a parameter set, with no substitution."""
    return np.array([[p.initial for p in parameters(ds)]])


def _month(grid: np.ndarray, index: float) -> str:
    return "never" if np.isnan(index) else str(grid[int(index)])


def _month_of(number: float) -> str:
    return str(np.datetime64(int(number), "M"))


def _price_comparisons(
    episode: Episode2010, path: MarketPath, prior: MarketPath, element: str
) -> list[Comparison]:
    """Onset, peak month, peak height and recovery of an element's price, model beside data."""
    k = ELEMENTS.index(element)
    grid = episode.market.months
    base = episode.base_price[element]
    points = episode.targets[element]
    m, mp = path.price[:, :, k], prior.price[:, :, k]
    first = month_number(grid[0])
    subject = f"{element} oxide price (FOB China)"
    out = []

    onset, onset_prior = model_onset(m), model_onset(mp)
    obs = observed_onset(points, base)
    if obs is not None:
        used = [p for p in points if obs.low <= month_number(p.period.last) <= obs.high]
        out.append(
            Comparison(
                subject,
                "onset",
                "months",
                f"{_month_of(obs.low)}..{_month_of(obs.high)}",
                _month(grid, onset[0]),
                _span(onset, grid),
                obs.error(onset[0] + first),
                obs.error(onset_prior[0] + first),
                tuple(p.source_id for p in used),
                f"first month above {ONSET_THRESHOLD:g} x the 2009 average ({base:g} US$/kg)",
            )
        )
    top, peak_months = observed_peak(points)
    peak_idx, peak_height = model_peak(m)
    prior_idx, prior_height = model_peak(mp)
    out.append(
        Comparison(
            subject,
            "peak month",
            "months",
            top.period.label,
            _month(grid, peak_idx[0]),
            _span(peak_idx, grid),
            peak_months.error(peak_idx[0] + first),
            peak_months.error(prior_idx[0] + first),
            (top.source_id,),
            "month of the highest observed price",
        )
    )
    observed_height = Interval(top.value, top.value)
    out.append(
        Comparison(
            subject,
            "peak height",
            "usd_per_kg",
            f"{top.value:,.0f}",
            f"{peak_height[0] * base:,.0f}",
            spread_text(peak_height * base, "{:,.0f}"),
            observed_height.error(peak_height[0] * base),
            observed_height.error(prior_height[0] * base),
            (top.source_id,),
            f"error {100 * (peak_height[0] * base / top.value - 1):+.0f}% of the observed peak",
        )
    )
    recovery, recovery_prior = model_recovery(m), model_recovery(mp)
    obs_rec = observed_recovery(points, base)
    if obs_rec is not None:
        out.append(
            Comparison(
                subject,
                "recovery",
                "months",
                obs_rec.text(),
                "never" if np.isnan(recovery[0]) else f"{recovery[0]:.0f}",
                spread_text(recovery),
                obs_rec.error(recovery[0]),
                obs_rec.error(recovery_prior[0]),
                tuple(sorted({p.source_id for p in points if p.period.last > top.period.last})),
                f"months from the peak until half-way back to the 2009 price "
                f"(observed points bracket it; recovery level {RECOVERY_LEVEL:g})",
            )
        )
    return out


def _span(index: FloatArray, grid: np.ndarray) -> str:
    """5th..95th percentile of month indexes on the grid, as months."""
    finite = index[np.isfinite(index)]
    if finite.size == 0:
        return "never"
    lo, hi = np.percentile(finite, [5, 95])
    return f"{grid[int(np.floor(lo))]}..{grid[int(np.ceil(hi))]}"


def _series_rows(episode: Episode2010, path: MarketPath) -> pd.DataFrame:
    """Every target and context observation beside the model over the same period."""
    grid = episode.market.months
    rows = [
        _row(PRICE_SERIES[el], p, "target", "usd_per_kg", model_at(episode, path, el, p.period))
        for el in ELEMENTS
        for p in episode.targets[el]
    ]
    # The rise of mines outside China, as observed: inputs of the run, shown with the rest.
    for _, r in episode.inputs[
        episode.inputs["series"].isin(["mountain_pass_supply", "lynas_supply"])
    ].iterrows():
        point = _point(r, f"episode_series.csv line {r['_line']}, period")
        rows.append(_row(str(r["series"]), point, "input", str(r["unit"]), None))
    for series, p, unit in episode.context:
        model: FloatArray | None = None
        inside = len(p.period.index(grid)) == p.period.months
        if series == "china_exports" and inside:
            model = over_period(path.exporter_shipped, grid, p.period, "sum") / episode.reo_factor
        rows.append(_row(series, p, "context", unit, model))
    return pd.DataFrame(rows)


def _row(series: str, p: Point, role: str, unit: str, model: FloatArray | None) -> dict[str, Any]:
    fmt = "{:,.0f}" if unit.startswith("t") else "{:,.1f}"
    return {
        "series": series,
        "period": p.period.label,
        "role": role,
        "unit": unit,
        "observed": p.value,
        "model": None if model is None else round(float(model[0]), 3),
        "model_5_95": None if model is None else spread_text(model, fmt),
        "source_id": p.source_id,
    }


def _monthly(episode: Episode2010, path: MarketPath) -> pd.DataFrame:
    frames = []
    for k, el in enumerate(ELEMENTS):
        values = path.price[:, :, k] * episode.base_price[el]
        frames.append(_bands(episode.market.months, f"{el} oxide price", "usd_per_kg", values))
    shipped = path.exporter_shipped
    frames.append(_bands(episode.market.months, "China's exports", "t_reo per month", shipped))
    return pd.concat(frames, ignore_index=True)


def _bands(grid: np.ndarray, subject: str, unit: str, values: FloatArray) -> pd.DataFrame:
    p05, p95 = np.percentile(values, [5, 95], axis=0)
    return pd.DataFrame(
        {
            "month": grid.astype(str),
            "subject": subject,
            "unit": unit,
            "central": values[0],
            "p05": p05,
            "p95": p95,
        }
    )


def backtest(ds: Dataset, *, draws: int = 200, seed: int = 0) -> BacktestResult:
    """Fit the episode, then compare the model with the observations.

    Parameters
    ----------
    ds
        The dataset (episode_series.csv holds the episode; price_parameters.csv the starting
        point of the fit and the "before calibration" column).
    draws
        Parameter sets drawn from the fit's uncertainty (the first is the fit itself).
    seed
        Seed of those draws.
    """
    episode = load_episode(ds)
    cal = fit(episode, ds)
    path = simulate(episode, cal.ensemble(draws, seed))
    prior = simulate(episode, dataset_sets(ds))
    comparisons = [c for el in ELEMENTS for c in _price_comparisons(episode, path, prior, el)]
    interval = cal.interval(0.90)
    fitted = [
        {
            "parameter": p.name,
            "value": round(float(v), 4),
            "low_90": round(float(lo), 4),
            "high_90": round(float(hi), 4),
            "unit": p.unit,
            "description": p.description,
        }
        for p, v, (lo, hi) in zip(cal.parameters, cal.values, interval, strict=True)
    ]
    n_nd = len(episode.targets["Nd"])
    fit_errors = []
    for el, part in (("Nd", cal.residuals[:n_nd]), ("Dy", cal.residuals[n_nd:])):
        fit_errors.append(
            {
                "series": PRICE_SERIES[el],
                "points": int(part.size),
                "rmse_log": round(float(np.sqrt(np.mean(part**2))), 3),
                "median_abs_error_pct": round(float(np.median(np.abs(np.expm1(part))) * 100), 1),
            }
        )
    market = episode.market
    notes = [
        f"requirement outside China before the episode: {market.requirement0 * 12:,.0f} t REO "
        "per year (China's 2009 exports plus 2009 mine output elsewhere), trend "
        f"{episode.growth:g} per year (assumption)",
        "China's export quota: each year's total spread over its months (2010: "
        f"{market.exporter_cap[0] * 12:,.0f} t)",
        "mines outside China as they produced (Mountain Pass, Lynas): "
        f"{market.other_supply[0] * 12:,.0f} t REO per year in 2010, "
        f"{market.other_supply[-1] * 12:,.0f} in late 2014",
        f"price multiples relative to the 2009 average; cap {episode.max_multiple:g} (assumption)",
        f"fitted by least squares on {int(cal.residuals.size)} log prices, {cal.message}; "
        f"uncertainty from the fit's covariance, {draws} parameter sets",
        "left out, and in the record: smuggling (about 1.2 x legal exports in 2011), hoarding, "
        "export duties, and a recycling response (below 1%, UNEP 2011)",
    ]
    return BacktestResult(
        episode=EPISODE,
        title="2010-2014: China's export-quota cuts, world market outside China",
        comparisons=comparisons,
        series=_series_rows(episode, path),
        fitted=fitted,
        fit_errors=fit_errors,
        notes=notes,
        monthly=_monthly(episode, path),
    )


CALIBRATION_SOURCE = "rareflow-calibration-2010"
ENGINE_PARAMETERS = {"elasticity": "elasticity_nd", "adjustment": "adjustment"}
"""Engine price parameters a calibration sets, and the fitted parameter each takes: the Nd oxide
price's elasticity stands for the magnet market's (Nd is the magnet element)."""


def calibration_table(ds: Dataset) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit the episode and return price_parameters rows for the engine, and the fit's record.

    The rows overlay the dataset's price block (a calibration: ``--calibration`` or ``--data``);
    the record lists every fitted parameter, the series fitted, the error and the data version.
    """
    episode = load_episode(ds)
    cal = fit(episode, ds)
    interval = cal.interval(0.90)
    rmse = float(np.sqrt(np.mean(cal.residuals**2)))
    rows = []
    for engine_name, fitted_name in ENGINE_PARAMETERS.items():
        i = cal.names.index(fitted_name)
        param = cal.parameters[i]
        rows.append(
            {
                "parameter": engine_name,
                "value": round(float(cal.values[i]), 4),
                "low": round(float(interval[i, 0]), 4),
                "high": round(float(interval[i, 1]), 4),
                "unit": param.unit,
                "year": 2014,
                "source_id": CALIBRATION_SOURCE,
                "choice": "chosen",
                "note": (
                    f"FITTED ({fitted_name}) to the 2010-2014 episode: FOB China prices of Nd and "
                    f"Dy oxide, {cal.residuals.size} points, RMSE {rmse:.3f} in logs; low-high is "
                    "the 90% interval. Written by `rareflow calibrate 2010`."
                ),
            }
        )
    record = {
        "episode": EPISODE,
        "data_version": ds.version,
        "fitted_against": sorted(PRICE_SERIES.values()),
        "points": int(cal.residuals.size),
        "rmse_log": round(rmse, 4),
        "optimizer": cal.message,
        "parameters": {
            p.name: {
                "value": round(float(v), 4),
                "standard_error": round(float(se), 4),
                "unit": p.unit,
                "description": p.description,
            }
            for p, v, se in zip(cal.parameters, cal.values, cal.standard_errors, strict=True)
        },
        "fixed": {"requirement_growth": episode.growth, "price_cap": episode.max_multiple},
        "engine": ENGINE_PARAMETERS,
    }
    return pd.DataFrame(rows), record
