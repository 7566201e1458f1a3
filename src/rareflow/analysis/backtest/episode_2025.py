"""Episode 2025: China's April 2025 export controls as they reached India, out of sample.

The run is set up only from information published before 1 April 2025:

- the dataset as it stood on that date (:func:`rareflow.data.asof.as_of`): rows whose source
  was published on or after it are dropped, older alternatives take their place (FADA's 2023
  and FY2023-24 EV sales, SIAM's FY2023-24 release, MNRE's 2024 wind additions), and rareflow's
  own labelled assumptions are kept and counted;
- the preset ``backtest-2025-april``: the shock as announced on 4 April 2025, one licence phase
  from the statutory review time and pre-April precedents, and wide labelled assumptions for
  what nobody had published (India's approval rate, industry magnet cover).

Nothing is fitted to what happened after April 2025. What was reported later is shown beside
the model as context, never fed back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rareflow import dims
from rareflow.analysis.backtest.result import BacktestResult, Comparison, spread_text
from rareflow.data import query
from rareflow.data.asof import AsOfLog, as_of
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import InputError
from rareflow.model.demand import sector_demand
from rareflow.scenario.distributions import as_distribution
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks.export_control import ExportControl

EPISODE = "2025"
CUTOFF = date(2025, 4, 1)
PRESET = "backtest-2025-april"
FIRST, LAST = np.datetime64("2025-04", "M"), np.datetime64("2025-12", "M")
QUANTILES = np.array([0.05, 0.5, 0.95])


def _check_set_up(scenario: Scenario, full: Dataset, past: Dataset) -> list[str]:
    """Refuse a set-up that uses later information; return what the filter changed, in words.

    A sector whose activity or magnet intensity was only published later drops out of the run;
    it is named in the notes, never dropped silently.

    Raises
    ------
    rareflow.errors.InputError
        If a licence phase is dated after the shock's start.
    """
    for shock in scenario.shocks:
        if not isinstance(shock, ExportControl):
            continue
        for phase in shock.licence:
            if phase.start > shock.start:
                raise InputError(
                    f"{scenario.name}: licence phase from {phase.start} is dated after the shock "
                    f"({shock.start}); a backtest set up before {CUTOFF} cannot know it"
                )
    now = set(sector_demand(full, scenario.country).detail.get(dims.SECTOR, []))
    then = set(sector_demand(past, scenario.country).detail.get(dims.SECTOR, []))
    lines = []
    activity = past.chosen("sector_activity")
    for sector in sorted(str(s) for s in now - then):
        has_activity = not activity[
            (activity["country"] == scenario.country) & (activity["sector"] == sector)
        ].empty
        table = "intensities.csv" if has_activity else "sector_activity.csv"
        lines.append(
            f"{sector} left out: nothing in {table} was published before {CUTOFF} "
            "(add a dated row to bring it in)"
        )
    demand = sector_demand(past, scenario.country)
    growth = dict(zip(demand.growth[dims.SECTOR].to_numpy(), demand.growth.to_numpy(), strict=True))
    first = demand.detail.drop_duplicates(dims.SECTOR)
    return lines + [
        f"{r[dims.SECTOR]}: activity {r['activity']:,.0f} {r['activity_unit']} "
        f"({r['activity_metric']}, {r['activity_year']}, {r['activity_source']}), growth "
        f"{growth.get(r[dims.SECTOR], 0.0):g} per year"
        for _, r in first.iterrows()
    ]


def _licence_comparison(scenario: Scenario, full: Dataset) -> list[Comparison]:
    """Set what was assumed before April beside what was reported later (context only)."""
    out = []
    control = next(s for s in scenario.shocks if isinstance(s, ExportControl))
    delay = control.licence[0].delay_days
    row = query.control_row(full, "cn-2025-04", "IND", "first_licence_delay")
    if row is not None:
        days = query.fact_of(row, "control_parameters").to("days").value
        lo, mid, hi = as_distribution(delay).ppf(QUANTILES)
        out.append(
            Comparison(
                "licences for India",
                "days from the controls to a decision",
                "days",
                f"{days:.0f} (reported later)",
                f"{mid:.0f}",
                f"{lo:.0f}..{hi:.0f}",
                mid - days,
                None,
                (str(row["source_id"]),),
                "the model's licence delay as assumed before April 2025 (not fitted); "
                "observed: " + str(row["note"])[:160],
            )
        )
    cover = scenario.parameters.industry_cover_weeks
    try:
        reported: query.Fact | None = query.industry_cover(full, "IND")
    except InputError:
        reported = None
    if cover is not None and reported is not None:
        lo, mid, hi = as_distribution(cover).ppf(QUANTILES)
        low = reported.low if reported.low is not None else reported.value
        high = reported.high if reported.high is not None else reported.value
        out.append(
            Comparison(
                "industry magnet cover",
                "weeks of requirement held",
                "weeks",
                f"{low:g}..{high:g} (reported later)",
                f"{mid:.1f}",
                f"{lo:.1f}..{hi:.1f}",
                float("nan"),
                None,
                reported.sources,
                "assumed wide before April 2025 (no earlier figure); the later report is shown, "
                "not used",
            )
        )
    return out


def _monthly(results: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """India's shortfall by sector and month, April-December 2025: table and long form."""
    months = results["time"].to_numpy().astype("datetime64[M]")
    keep = (months >= FIRST) & (months <= LAST)
    req = results["requirement"].isel(time=np.flatnonzero(keep))
    short = results["shortfall"].isel(time=np.flatnonzero(keep))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 100.0 * short / req.where(req > 0)
    labels = [str(m) for m in months[keep]]
    table_rows, long_rows = [], []
    for sector in results["sector"].to_numpy().tolist():
        s_req = req.sel(sector=sector)
        if float(s_req.max()) <= 0:
            continue
        row: dict[str, Any] = {"sector": sector}
        s_share = share.sel(sector=sector).to_numpy()  # (draw, month)
        for j, label in enumerate(labels):
            values = s_share[:, j]
            median = float(np.nanmedian(values))
            row[label] = f"{median:.0f}% [{spread_text(values, '{:.0f}')}]"
            p05, p95 = np.nanpercentile(values, [5, 95])
            long_rows.append(
                {
                    "month": label,
                    "subject": f"shortfall, {sector}",
                    "unit": "percent of requirement",
                    "central": median,
                    "p05": float(p05),
                    "p95": float(p95),
                    "requirement_t": float(np.median(s_req.to_numpy()[:, j])),
                }
            )
        table_rows.append(row)
    return pd.DataFrame(table_rows), pd.DataFrame(long_rows)


def backtest(ds: Dataset, *, draws: int = 1000, seed: int = 1) -> BacktestResult:
    """Run the April 2025 controls from the pre-April set-up; India's sectors, month by month.

    Parameters
    ----------
    ds
        The full dataset: filtered here to what was published before 1 April 2025; what was
        reported later is only shown beside the model.
    draws, seed
        Ensemble size and seed of the run.
    """
    past, log = as_of(ds, CUTOFF)
    scenario = with_overrides(load_scenario(PRESET), draws=draws, seed=seed)
    changes = _check_set_up(scenario, ds, past)
    result = run(scenario, dataset=past)
    table, long_form = _monthly(result.results)
    notes = [
        f"set up from the dataset as of {CUTOFF} and the preset {PRESET}; nothing fitted to "
        "outcomes after April 2025",
        *_log_lines(log),
        *changes,
        *(f"data: {n}" for n in result.notes),
        "the table: shortfall as a share of each sector's requirement, median "
        "[5th..95th percentile] over draws",
    ]
    return BacktestResult(
        episode=EPISODE,
        title="April 2025 controls as they reached India, from the pre-April set-up",
        comparisons=_licence_comparison(scenario, ds),
        series=table,
        notes=notes,
        monthly=long_form,
        series_title=(
            "India's shortfall by sector and month, % of requirement, median [5th..95th percentile]"
        ),
    )


def _log_lines(log: AsOfLog) -> list[str]:
    dropped = sum(log.dropped.values())
    kept = sum(log.project_rows.values())
    lines = [
        f"{dropped} dataset rows dropped (sources published on or after {log.cutoff}); "
        f"{kept} rows of rareflow's own labelled assumptions kept"
    ]
    lines += [f"older figure used instead: {p}" for p in log.promoted]
    return lines
