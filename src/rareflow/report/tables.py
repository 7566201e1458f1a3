"""Tables of the report: headline figures, shortfall by sector, indicators and lever costs.

Each function returns a :class:`pandas.DataFrame` of display strings (median [5th..95th
percentile] over draws where a figure is uncertain) that the HTML builder and the dashboard show
as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.analysis.production import SectorValue
from rareflow.analysis.summary import format_spread, sector_summary, summary_rows
from rareflow.data.load import Dataset
from rareflow.errors import DataError
from rareflow.indicators.dataset_view import (
    import_concentration,
    net_import_reliance_by_stage,
    stage_concentration,
)

INR_CRORE = 1e7
"""Rupees in a crore."""
EXCLUDED_COSTS = frozenset({"import_cost"})
"""Cost variables that every run has and that are not the cost of a lever."""


def spread(values: np.ndarray, digits: int = 0, unit: str = "") -> str:
    """Return ``median [p5..p95]`` of values over draws."""
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    f = f"{{:,.{digits}f}}"
    return f"{f.format(p50)}{unit} [{f.format(p5)}..{f.format(p95)}]"


def _headline_column(results: xr.Dataset, inr_per_usd: float | None) -> dict[str, str]:
    short = results["shortfall"].sum(dims.SECTOR)
    req = results["requirement"].sum(dims.SECTOR)
    cum_short = short.sum(dims.TIME).to_numpy()
    cum_req = req.sum(dims.TIME).to_numpy()
    pct = 100 * np.divide(cum_short, cum_req, out=np.zeros_like(cum_short), where=cum_req > 0)
    ratio = (short / req.where(req > 0)).fillna(0.0)
    months_short = (ratio > 1e-3).sum(dims.TIME).to_numpy()
    cost = results["import_cost"].sum(dims.TIME).to_numpy()
    unpriced = str(results["import_cost"].attrs.get("unpriced", ""))
    out = {
        "magnet requirement over the horizon (t magnet)": spread(cum_req),
        "shortfall over the horizon (t magnet)": spread(cum_short),
        "shortfall over the horizon (% of requirement)": spread(pct, 1, "%"),
        "worst month's shortfall (t magnet)": spread(short.max(dims.TIME).to_numpy(), 1),
        "months with a shortfall": spread(months_short.astype(float)),
    }
    if float(np.abs(cost).max()) > 0:
        out["import bill at scarcity prices (US$ million)"] = spread(cost / 1e6, 1)
        if inr_per_usd:
            out["import bill at scarcity prices (₹ crore)"] = spread(
                cost * inr_per_usd / INR_CRORE, 0
            )
    else:
        out["import bill at scarcity prices"] = "not priced: the dataset has no price for these"
    out["imports the bill leaves out (no price in prices.csv)"] = unpriced or "none"
    return out


def headline_frame(
    shock: xr.Dataset, baseline: xr.Dataset | None, inr_per_usd: float | None = None
) -> pd.DataFrame:
    """Headline figures over all sectors, for the run and (if given) its baseline."""
    frame = pd.DataFrame({"with the shock": _headline_column(shock, inr_per_usd)})
    if baseline is not None:
        frame["without the shock"] = pd.Series(_headline_column(baseline, inr_per_usd))
    frame.index.name = "figure (median [5th..95th percentile] over draws)"
    return frame.reset_index()


def sector_frame(
    results: xr.Dataset, step_months: int = 1, values: Mapping[str, SectorValue] | None = None
) -> pd.DataFrame:
    """Shortfall by sector (:func:`rareflow.analysis.summary.sector_summary`).

    Units and value of output lost are filled where ``values``
    (:func:`rareflow.analysis.production.sector_values`) price the sector.
    """
    rows = summary_rows(sector_summary(results, step_months, values))
    return pd.DataFrame(rows)


def _fraction_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out


_INDICATORS: dict[tuple[str, str], dict[str, pd.DataFrame]] = {}
"""Indicator tables by (data version, country): they depend on nothing else."""


def indicator_frames(dataset: Dataset, country: str) -> dict[str, pd.DataFrame]:
    """Return :func:`compute_indicator_frames`, computed once per data version and country."""
    key = (dataset.version, country)
    if key not in _INDICATORS:
        _INDICATORS[key] = compute_indicator_frames(dataset, country)
    return {k: v.copy() for k, v in _INDICATORS[key].items()}


def compute_indicator_frames(dataset: Dataset, country: str) -> dict[str, pd.DataFrame]:
    """Concentration and import reliance on the dataset (:mod:`rareflow.indicators`).

    Returns
    -------
    dict of str to pandas.DataFrame
        By title: world supply concentration by stage, the country's import concentration and
        its net import reliance by stage; a table without data for the country is left out.
    """
    shares = ["hhi", "hhi_min", "top1_share", "top3_share", "residual_share"]
    out: dict[str, pd.DataFrame] = {
        "World supply concentration by stage (HHI on the 0-1 scale; stage_shares.csv)": (
            _fraction_columns(stage_concentration(dataset), shares)
        )
    }
    # No partner shares for the country: the table is left out, as documented.
    with contextlib.suppress(DataError):
        out[f"{country}'s import concentration by partner (trade.csv)"] = _fraction_columns(
            import_concentration(dataset, country), shares
        )
    reliance = net_import_reliance_by_stage(dataset, country)
    out[f"{country}'s net import reliance by stage (USGS method)"] = _fraction_columns(
        reliance, ["net_import_reliance", "net_import_reliance_low"]
    )
    return out


def lever_cost_frame(results: xr.Dataset) -> pd.DataFrame | None:
    """Costs of the scenario's levers, by lever and component, in US$ and ₹ crore, by year.

    A lever cost is a result variable with a ``lever`` dimension or whose name ends in ``_cost``
    (the import bill is not one). Totals over the horizon are the median [5th..95th] over
    draws; the yearly columns are medians (US$ million), so they need not add up to the total's
    median. Returns None when the results carry no lever cost.
    """
    names = [
        str(v)
        for v in results.data_vars
        if str(v) not in EXCLUDED_COSTS
        and (dims.LEVER in results[v].dims or str(v).endswith("_cost"))
    ]
    rows: list[dict[str, Any]] = []
    for name in names:
        da = results[name]
        rate = da.attrs.get("inr_per_usd")
        unit = str(da.attrs.get("unit", ""))
        levers = [str(x) for x in da[dims.LEVER].to_numpy()] if dims.LEVER in da.dims else [""]
        parts = [str(c) for c in da["component"].to_numpy()] if "component" in da.dims else [""]
        for lever in levers:
            for part in [*parts, "total"] if len(parts) > 1 else parts:
                sel = da.sel({dims.LEVER: lever}) if dims.LEVER in da.dims else da
                if part not in {"", "total"}:
                    sel = sel.sel(component=part)
                other = [d for d in sel.dims if d not in (dims.DRAW, dims.TIME)]
                per_time = sel.sum(other) if other else sel
                total = per_time.sum(dims.TIME) if dims.TIME in per_time.dims else per_time
                values = total.to_numpy().ravel()
                if part != "total" and not np.abs(values).max() > 0:
                    continue
                scale = 1e6 if unit.startswith("usd") else 1.0
                row: dict[str, Any] = {
                    "lever": lever or name,
                    "component": part or "all",
                    f"total ({'US$ million' if scale > 1 else unit})": spread(values / scale, 1),
                }
                if rate and unit.startswith("usd"):
                    row["total (₹ crore)"] = spread(values * float(rate) / INR_CRORE, 0)
                if dims.TIME in per_time.dims and scale > 1:
                    years = per_time[dims.TIME].dt.year
                    yearly = per_time.groupby(years).sum().median(dims.DRAW) / scale
                    for year, v in zip(yearly["year"].to_numpy(), yearly.to_numpy(), strict=True):
                        row[f"{year} (US$ million, median)"] = f"{float(v):,.1f}"
                rows.append(row)
    return pd.DataFrame(rows) if rows else None


EFFECT_ROWS = (
    ("shock_alone_shortfall_t", "shortfall of the shock alone (t magnet)", 0),
    ("avoided_t", "shortfall avoided (t magnet)", 0),
    ("physical_avoided_t", "physical shortfall avoided (t magnet sought, not available)", 0),
    ("value_saved_inr_crore", "value of output saved (Rs crore)", 0),
    ("lever_cost_inr_crore", "lever cost over the window (Rs crore)", 1),
    ("cost_per_t_avoided_inr_crore", "cost per t avoided (Rs crore)", 2),
    ("cost_per_inr_saved", "cost per Rs of output saved (Rs)", 3),
    ("benefit_cost_ratio", "benefit-cost ratio (value saved / cost)", 1),
)
"""The figures of :func:`rareflow.analysis.compare.paired_effect` a report shows, in order."""


def effect_frame(effect: dict[str, Any]) -> pd.DataFrame:
    """Return what the levers buy against the shock alone: a row per figure, median [5th..95th]."""
    rows = [
        {"figure": label, "median [5th..95th percentile] over paired draws": format_spread(
            effect[key], digits=digits)}
        for key, label, digits in EFFECT_ROWS
        if key in effect
    ]  # fmt: skip
    rows += [
        {
            "figure": f"{sector.replace('_', ' ')} saved ({units['unit']})",
            "median [5th..95th percentile] over paired draws": format_spread(units),
        }
        for sector, units in effect.get("units_saved", {}).items()
    ]
    if effect.get("unvalued_sectors"):
        rows.append(
            {
                "figure": "sectors short but without a unit value (not in the value saved)",
                "median [5th..95th percentile] over paired draws": ", ".join(
                    effect["unvalued_sectors"]
                ),
            }
        )
    return pd.DataFrame(rows)
