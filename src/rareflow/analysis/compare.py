"""What a measure buys: each scenario against its shock alone, on one window.

A lever is judged against the same shock without it, never against the no-shock baseline: the
scenario is run twice, with its levers and with them removed, at the same seed, so draw *d* of
both runs sees the same shock (every uncertain number has its own stream, keyed by its path in
the scenario; :mod:`rareflow.scenario.sampling`). Effects are paired differences per draw, and
their bands are percentiles over draws of those differences.

All the scenarios compared share one window: the same start and step, and the longest horizon
among them (a shorter scenario runs on, its last shock and licence phase still in force). A
window that cannot be shared (different starts or steps) is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.analysis.costs import INR_CRORE, cost_table
from rareflow.analysis.summary import sector_summary, spread
from rareflow.engine.run import lever_label
from rareflow.errors import InputError
from rareflow.scenario.schema import Scenario

RunFn = Callable[[Scenario], xr.Dataset]
"""Runs a scenario and returns its results (with ``lever_cost`` when it has levers)."""


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


def common_window(scenarios: Sequence[Scenario]) -> Window:
    """Return the window all scenarios can share: same start and step, longest horizon.

    Raises
    ------
    InputError
        When the scenarios start in different months or use different steps; the message lists
        each scenario's start and step.
    """
    starts = {(sc.start.year, sc.start.month) for sc in scenarios}
    steps = {sc.step_months for sc in scenarios}
    if len(starts) > 1 or len(steps) > 1:
        listing = "; ".join(
            f"{sc.name}: start {sc.start:%Y-%m}, step {sc.step_months} month(s)" for sc in scenarios
        )
        raise InputError(
            "scenarios compared must share one window (the same start month and step), so "
            f"that tonnes and costs add up over the same months: {listing}. Set the same "
            "`start` and `step_months` in each scenario file."
        )
    first = scenarios[0]
    return Window(
        start=first.start,
        months=max(sc.horizon_months for sc in scenarios),
        step_months=first.step_months,
    )


def shock_alone(scenario: Scenario) -> Scenario:
    """Return the same scenario without its levers: the shock a lever is judged against."""
    data = scenario.model_dump(mode="json", by_alias=True)
    data["levers"] = []
    data["name"] = f"{scenario.name}-shock-alone"
    return Scenario.model_validate(data)


def on_window(scenario: Scenario, window: Window) -> Scenario:
    """Return the scenario set to run over the shared window (its horizon)."""
    if scenario.horizon_months == window.months:
        return scenario
    data = scenario.model_dump(mode="json", by_alias=True)
    data["horizon_months"] = window.months
    return Scenario.model_validate(data)


def _shock_key(scenario: Scenario) -> str:
    """Return what makes two runs the same: all but the scenario's name and description."""
    return scenario.model_dump_json(exclude={"name", "description"})


def _total_shortfall(results: xr.Dataset) -> np.ndarray:
    """Shortfall summed over sectors and the window, per draw (t magnet)."""
    return results["shortfall"].sum([dims.SECTOR, dims.TIME]).transpose(dims.DRAW).to_numpy()


def _total_requirement(results: xr.Dataset) -> np.ndarray:
    return results["requirement"].sum([dims.SECTOR, dims.TIME]).transpose(dims.DRAW).to_numpy()


def _total_cost_usd(results: xr.Dataset) -> tuple[np.ndarray, float]:
    """Lever cost summed over the window, per draw (US$), and the rupee rate."""
    if "lever_cost" not in results:
        return np.zeros(results.sizes[dims.DRAW]), 0.0
    cost = results["lever_cost"]
    total = cost.sum([dims.TIME, dims.LEVER, "component"]).transpose(dims.DRAW).to_numpy()
    return total, float(cost.attrs["inr_per_usd"])


def _cost_per_tonne(cost_inr_crore: np.ndarray, avoided_t: np.ndarray) -> dict[str, Any]:
    """Cost per tonne avoided over the draws where the lever avoids any shortfall."""
    helps = avoided_t > 1e-9
    per_t = np.full(avoided_t.shape, np.nan)
    np.divide(cost_inr_crore, avoided_t, out=per_t, where=helps)
    return spread(per_t)


def compare_to_shock(scenarios: Sequence[Scenario], run: RunFn) -> dict[str, Any]:
    """Each scenario against its shock alone, on one window.

    Parameters
    ----------
    scenarios
        Validated scenarios; those with levers are compared with themselves without levers.
    run
        Runs one scenario (the caller fixes the dataset, draws and seed, so pairs share draws).

    Returns
    -------
    dict
        ``window`` (its label, start, months) and ``rows``: per scenario, the shortfall with and
        without its levers, tonnes avoided, lever cost (US$ million and ₹ crore), cost per tonne
        avoided (₹ crore per t) and the share of draws in which the levers help, each as median
        and 5th-95th percentiles over draws; with the sector summary and the cost table of the
        scenario's own run on the window.
    """
    window = common_window(scenarios)
    shocks: dict[str, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    for scenario in scenarios:
        sc = on_window(scenario, window)
        results = run(sc)
        short = _total_shortfall(results)
        requirement = _total_requirement(results)
        cost_usd, rate = _total_cost_usd(results)
        row: dict[str, Any] = {
            "scenario": scenario.name,
            "levers": [lever_label(lever, i) for i, lever in enumerate(scenario.levers)],
            "requirement_t": spread(requirement),
            "shortfall_t": spread(short),
            "shortfall_pct": spread(100.0 * short / np.where(requirement > 0, requirement, 1.0)),
            "sectors": sector_summary(results, sc.step_months),
            "costs": cost_table(results),
        }
        if not scenario.levers:
            # A scenario without levers is the shock alone of any lever scenario sharing it.
            shocks.setdefault(_shock_key(sc), short)
        else:
            alone = shock_alone(sc)
            key = _shock_key(alone)
            if key not in shocks:
                shocks[key] = _total_shortfall(run(alone))
            avoided = shocks[key] - short
            cost_inr_crore = cost_usd * rate / INR_CRORE
            row |= {
                "shock_alone_shortfall_t": spread(shocks[key]),
                "avoided_t": spread(avoided),
                "avoided_pct_of_shock": spread(
                    100.0 * avoided / np.where(shocks[key] > 0, shocks[key], np.nan)
                ),
                "share_of_draws_helped": float(np.mean(avoided > 1e-9)),
                "lever_cost_usd_million": spread(cost_usd / 1e6),
                "lever_cost_inr_crore": spread(cost_inr_crore),
                "cost_per_t_avoided_inr_crore": _cost_per_tonne(cost_inr_crore, avoided),
            }
        rows.append(row)
    return {
        "window": {
            "label": window.label,
            "start": f"{window.start:%Y-%m}",
            "months": window.months,
        },
        "rows": rows,
    }
