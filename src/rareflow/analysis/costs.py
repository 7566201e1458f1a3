"""Lever costs by year and in total, in US$ and ₹ crore of the price year.

The yearly figures are sums of the run's monthly cost lines, so the sum over years equals the
reported total exactly (tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims

INR_CRORE = 1e7


def cost_table(results: xr.Dataset) -> list[dict[str, Any]]:
    """Median (and 5th-95th percentile) cost per lever, component and year, plus totals.

    Returns one row per lever, component and year, then one 'total' row per lever and one
    overall total; each with ``usd_million`` and ``inr_crore`` medians and percentiles.
    """
    if "lever_cost" not in results:
        return []
    cost = results["lever_cost"]
    rate = float(cost.attrs["inr_per_usd"])
    years = cost[dims.TIME].dt.year
    by_year = cost.groupby(years).sum(dims.TIME)  # (draw, year, lever, component)
    rows: list[dict[str, Any]] = []

    def row(lever: str, component: str, year: str, values: np.ndarray) -> dict[str, Any]:
        p5, p50, p95 = np.percentile(values, [5, 50, 95])
        return {
            "lever": lever,
            "component": component,
            "year": year,
            "usd_million": float(p50) / 1e6,
            "usd_million_p5": float(p5) / 1e6,
            "usd_million_p95": float(p95) / 1e6,
            "inr_crore": float(p50) * rate / INR_CRORE,
            "inr_crore_p5": float(p5) * rate / INR_CRORE,
            "inr_crore_p95": float(p95) * rate / INR_CRORE,
        }

    for lever in cost[dims.LEVER].to_numpy():
        one = by_year.sel({dims.LEVER: lever})
        for component in cost["component"].to_numpy():
            for year in one["year"].to_numpy():
                values = one.sel(component=component, year=year).to_numpy()
                if np.any(values != 0):
                    rows.append(row(str(lever), str(component), str(int(year)), values))
        rows.append(row(str(lever), "all", "total", one.sum(["year", "component"]).to_numpy()))
    rows.append(
        row("all", "all", "total", by_year.sum(["year", dims.LEVER, "component"]).to_numpy())
    )
    return rows
