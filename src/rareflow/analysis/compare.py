"""What a measure buys: each scenario against its shock alone, on one window.

A lever is judged against the same shock without it, never against the no-shock baseline: the
scenario is run twice, with its levers and with them removed, at the same seed, so draw *d* of
both runs sees the same shock (every uncertain number has its own stream, keyed by its path in
the scenario; :mod:`rareflow.scenario.sampling`). Effects are paired differences per draw, and
their bands are percentiles over draws of those differences.

All the scenarios compared share one window: from the earliest start among them to the latest
end. A scenario that starts later is run from the window's start (its shocks and levers keep
their own dates; the months before its own start run without them), and a shorter one runs on
to the window's end, its last shock and licence phase still in force; the output names the
window and each scenario moved onto it. Scenarios with different steps are refused with the
reason (their months cannot be added up step by step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import xarray as xr
from pydantic import ValidationError

from rareflow import dims
from rareflow.analysis.costs import INR_CRORE, cost_table
from rareflow.analysis.production import SectorValue
from rareflow.analysis.summary import draw_scalars, sector_summary, shortfall_parts, spread
from rareflow.engine.run import lever_label
from rareflow.errors import InputError
from rareflow.scenario.schema import Scenario

RunFn = Callable[[Scenario], xr.Dataset]
"""Runs a scenario and returns its results (with ``lever_cost`` when it has levers)."""
ValuesFn = Callable[[Scenario], Mapping[str, SectorValue]]
"""Units per tonne of magnet and value per unit by sector, for a scenario's country."""


@dataclass(frozen=True)
class Window:
    """The span every compared scenario is run on.

    Parameters
    ----------
    start
        First month.
    months
        Length in months.
    step_months
        Months per step.
    """

    start: date
    months: int
    step_months: int

    @property
    def label(self) -> str:
        """``YYYY-MM to YYYY-MM (N months)``."""
        last = self.start.year * 12 + self.start.month - 1 + self.months - 1
        return f"{self.start:%Y-%m} to {last // 12:04d}-{last % 12 + 1:02d} ({self.months} months)"


def _month(day: date) -> int:
    """Months since year 0 of a day's month."""
    return day.year * 12 + day.month - 1


def common_window(scenarios: Sequence[Scenario]) -> Window:
    """Return the window all scenarios are run on: earliest start to latest end, one step.

    The window's length is a whole number of steps.

    Raises
    ------
    InputError
        When the scenarios use different steps; the message lists each scenario's step.
    """
    steps = {sc.step_months for sc in scenarios}
    if len(steps) > 1:
        listing = "; ".join(f"{sc.name}: step {sc.step_months} month(s)" for sc in scenarios)
        raise InputError(
            "scenarios compared must share one step, so that tonnes and costs add up over the "
            f"same months: {listing}. Set the same `step_months` in each scenario file."
        )
    step = scenarios[0].step_months
    first = min(scenarios, key=lambda sc: _month(sc.start)).start
    end = max(_month(sc.start) + sc.horizon_months for sc in scenarios)
    months = end - _month(first)
    return Window(
        start=date(first.year, first.month, 1),
        months=-(-months // step) * step,
        step_months=step,
    )


def moved(scenario: Scenario, window: Window) -> str | None:
    """Say how a scenario was moved onto the window, or None if it was run as it is."""
    own = _month(scenario.start) != _month(window.start)
    longer = scenario.horizon_months != window.months
    if not own and not longer:
        return None
    parts = []
    if own:
        parts.append(
            f"run from {window.start:%Y-%m} (its own start {scenario.start:%Y-%m}; its shocks "
            "and levers keep their dates)"
        )
    if longer:
        parts.append(f"{window.months} months (its own horizon {scenario.horizon_months})")
    return f"{scenario.name}: " + ", ".join(parts)


def shock_alone(scenario: Scenario) -> Scenario:
    """Return the same scenario without its levers: the shock a lever is judged against."""
    data = scenario.model_dump(mode="json", by_alias=True)
    data["levers"] = []
    data["name"] = f"{scenario.name}-shock-alone"
    return Scenario.model_validate(data)


def on_window(scenario: Scenario, window: Window) -> Scenario:
    """Return the scenario set to run over the shared window (its start and horizon)."""
    if moved(scenario, window) is None:
        return scenario
    data = scenario.model_dump(mode="json", by_alias=True)
    data["horizon_months"] = window.months
    data["start"] = window.start.isoformat()
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]) for e in exc.errors())
        raise InputError(
            f"{scenario.name} cannot run over the shared window {window.label}: {reasons}"
        ) from exc


def _shock_key(scenario: Scenario) -> str:
    """Return what makes two runs the same: all but the scenario's name and description."""
    return scenario.model_dump_json(exclude={"name", "description"})


def is_shock_alone(alone: Scenario, scenario: Scenario) -> bool:
    """Whether ``alone`` is ``scenario`` without its levers: the same shock, draws and seed."""
    return bool(scenario.levers) and _shock_key(alone) == _shock_key(shock_alone(scenario))


def _total(results: xr.Dataset, name: str) -> np.ndarray:
    """Return a (draw, time, sector) variable summed over sectors and the window, per draw."""
    return results[name].sum([dims.SECTOR, dims.TIME]).transpose(dims.DRAW).to_numpy()


def _physical_total(results: xr.Dataset) -> np.ndarray:
    """Physical shortfall (magnets sought and not available) over sectors and the window."""
    req, sought, delivered = (
        results[name].transpose(dims.DRAW, dims.TIME, dims.SECTOR).to_numpy()
        for name in ("requirement", "demand", "delivered")
    )
    physical, _ = shortfall_parts(req, sought, delivered)
    return np.asarray(physical.sum(axis=(1, 2)))


def _total_cost_usd(results: xr.Dataset) -> tuple[np.ndarray, float]:
    """Lever cost summed over the window, per draw (US$), and the rupee rate."""
    if "lever_cost" not in results:
        return np.zeros(results.sizes[dims.DRAW]), 0.0
    cost = results["lever_cost"]
    total = cost.sum([dims.TIME, dims.LEVER, "component"]).transpose(dims.DRAW).to_numpy()
    return total, float(cost.attrs["inr_per_usd"])


RATIO_FLOOR = 1.0
"""A per-tonne or per-rupee ratio is taken over the draws where the levers avoid at least 1 t
(or save at least ₹1 crore): a draw that avoids a rounding error would give a meaningless
ratio."""


def _ratio(numerator: np.ndarray, denominator: np.ndarray, floor: float) -> dict[str, Any]:
    """Spread of a per-draw ratio over the draws where the denominator is at least ``floor``."""
    out = np.full(denominator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator >= floor)
    return spread(out)


def _lost(
    results: xr.Dataset, step_months: int, values: Mapping[str, SectorValue] | None
) -> xr.Dataset:
    """Per-draw units and value of production lost by sector (analysis/summary)."""
    return draw_scalars(results, step_months, values)[["units_lost", "value_lost_inr_crore"]]


def paired_effect(
    results: xr.Dataset,
    alone: xr.Dataset,
    step_months: int,
    values: Mapping[str, SectorValue] | None = None,
) -> dict[str, Any]:
    """Return what a scenario's levers buy against the same shock without them, per draw.

    Parameters
    ----------
    results, alone
        Results of the scenario and of its shock alone, on the same window, draws and seed
        (draw *d* of both saw the same shock).
    step_months
        Months per step.
    values
        Units per tonne and value per unit by sector
        (:func:`rareflow.analysis.production.sector_values`); without them units and value
        saved are not reported.

    Returns
    -------
    dict
        Each figure as the median and 5th-95th percentiles over the paired draws: shortfall of
        the shock alone, tonnes of shortfall avoided (all of it, and its physical part: magnets
        sought and not available), its share of the shock's, lever cost (US$ million and ₹
        crore), cost per tonne avoided (₹ crore per t, over the draws avoiding at least
        :data:`RATIO_FLOOR` t) and, where sectors are valued, units of
        product saved by sector, value of output saved (₹ crore), cost per ₹ of output saved
        and benefit-cost ratio (value saved / cost); ``unvalued_sectors`` names sectors with a
        shortfall but no unit value (left out of the value, never counted as zero).
    """
    if (
        results.sizes[dims.DRAW] != alone.sizes[dims.DRAW]
        or results.sizes[dims.TIME] != alone.sizes[dims.TIME]
    ):
        raise InputError(
            "a lever is compared with its shock alone draw by draw on one window: the two runs "
            f"have {results.sizes[dims.DRAW]} and {alone.sizes[dims.DRAW]} draws, "
            f"{results.sizes[dims.TIME]} and {alone.sizes[dims.TIME]} steps"
        )
    short, shock = _total(results, "shortfall"), _total(alone, "shortfall")
    physical, physical_alone = _physical_total(results), _physical_total(alone)
    avoided = shock - short
    cost_usd, rate = _total_cost_usd(results)
    cost = cost_usd * rate / INR_CRORE
    out: dict[str, Any] = {
        "shock_alone_shortfall_t": spread(shock),
        "avoided_t": spread(avoided),
        "physical_avoided_t": spread(physical_alone - physical),
        "avoided_pct_of_shock": spread(100.0 * avoided / np.where(shock > 0, shock, np.nan)),
        "share_of_draws_helped": float(np.mean(avoided > 1e-9)),
        "lever_cost_usd_million": spread(cost_usd / 1e6),
        "lever_cost_inr_crore": spread(cost),
        "cost_per_t_avoided_inr_crore": _ratio(cost, avoided, RATIO_FLOOR),
    }
    if values:
        lost, lost_alone = _lost(results, step_months, values), _lost(alone, step_months, values)
        saved = lost_alone - lost
        sectors = [str(s) for s in saved[dims.SECTOR].to_numpy()]
        value = saved["value_lost_inr_crore"].transpose(dims.DRAW, dims.SECTOR).to_numpy()
        valued = np.isfinite(value).all(axis=0)
        shortfall_by_sector = alone["shortfall"].sum(dims.TIME).transpose(dims.DRAW, dims.SECTOR)
        any_short = [bool(v) for v in np.any(shortfall_by_sector.to_numpy() > 0, axis=0).tolist()]
        unvalued = [
            s
            for s, v, hit in zip(sectors, valued.tolist(), any_short, strict=True)
            if hit and not v
        ]
        value_saved = value[:, valued].sum(axis=1)
        out |= {
            "units_saved": {
                sector: {"unit": values[sector].unit_label, **spread(units)}
                for sector, units in zip(
                    sectors,
                    saved["units_lost"].transpose(dims.SECTOR, dims.DRAW).to_numpy(),
                    strict=True,
                )
                if sector in values
            },
            "value_saved_inr_crore": spread(value_saved),
            "cost_per_inr_saved": _ratio(cost, value_saved, RATIO_FLOOR),
            "benefit_cost_ratio": _ratio(value_saved, cost, 1e-9),
            "unvalued_sectors": unvalued,
        }
    return out


def compare_to_shock(
    scenarios: Sequence[Scenario],
    run: RunFn,
    values: ValuesFn | None = None,
) -> dict[str, Any]:
    """Each scenario against its shock alone, on one window.

    Parameters
    ----------
    scenarios
        Validated scenarios; those with levers are compared with themselves without levers.
    run
        Runs one scenario (the caller fixes the dataset, draws and seed, so pairs share draws).
    values
        Units per tonne and value per unit by sector for a scenario, for units and value saved.

    Returns
    -------
    dict
        ``window`` (its label, start, months, and ``aligned``: each scenario moved onto it,
        how) and ``rows``: per scenario, its requirement and
        shortfall over the window, the sector summary and the cost table of its own run and,
        for a scenario with levers, what they buy against its shock alone
        (:func:`paired_effect`), each as median and 5th-95th percentiles over draws.
    """
    window = common_window(scenarios)
    aligned = [note for note in (moved(sc, window) for sc in scenarios) if note is not None]
    shocks: dict[str, xr.Dataset] = {}
    rows: list[dict[str, Any]] = []
    for scenario in scenarios:
        sc = on_window(scenario, window)
        valued = values(sc) if values is not None else None
        results = run(sc)
        short = _total(results, "shortfall")
        requirement = _total(results, "requirement")
        row: dict[str, Any] = {
            "scenario": scenario.name,
            "levers": [lever_label(lever, i) for i, lever in enumerate(scenario.levers)],
            "requirement_t": spread(requirement),
            "shortfall_t": spread(short),
            "shortfall_pct": spread(100.0 * short / np.where(requirement > 0, requirement, 1.0)),
            "sectors": sector_summary(results, sc.step_months, valued),
            "costs": cost_table(results),
        }
        if not scenario.levers:
            # A scenario without levers is the shock alone of any lever scenario sharing it.
            shocks.setdefault(_shock_key(sc), results)
        else:
            alone = shock_alone(sc)
            key = _shock_key(alone)
            if key not in shocks:
                shocks[key] = run(alone)
            row |= paired_effect(results, shocks[key], sc.step_months, valued)
        rows.append(row)
    return {
        "window": {
            "label": window.label,
            "start": f"{window.start:%Y-%m}",
            "months": window.months,
            "aligned": aligned,
        },
        "rows": rows,
    }
