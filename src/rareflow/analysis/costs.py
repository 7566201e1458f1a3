"""Lever costs by year and in total, in US$ and ₹ crore of the price year, and their NPV.

The yearly figures are sums of the run's monthly cost lines, so the sum over years equals the
reported total exactly (tested). The net present value discounts each month's cost to the run's
first month at the run's discount rate (``lever_cost.attrs["discount_rate"]``, a scenario
setting): NPV = sum_t cost_t / (1 + r) ** (m_t / 12), m_t the months since the first month.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims

INR_CRORE = 1e7


def discount_factors(time: xr.DataArray, rate: float) -> xr.DataArray:
    """(time,) 1 / (1 + rate) ** (months since the first month / 12)."""
    months = time.to_numpy().astype("datetime64[M]").astype(np.int64)
    years = (months - months[0]) / 12.0
    return xr.DataArray((1.0 + rate) ** -years, coords={dims.TIME: time}, dims=[dims.TIME])


def present_value(results: xr.Dataset) -> xr.DataArray:
    """(draw, lever) NPV of each lever's costs in US$ at the run's discount rate."""
    cost = results["lever_cost"]
    rate = float(cost.attrs.get("discount_rate", 0.0))
    factors = discount_factors(cost[dims.TIME], rate)
    return (cost.sum("component") * factors).sum(dims.TIME)


def cost_table(results: xr.Dataset) -> list[dict[str, Any]]:
    """Median (and 5th-95th percentile) cost per lever, component and year, plus totals.

    Returns one row per lever, component and year, then one 'total' row per lever and one
    overall total; each with ``usd_million`` and ``inr_crore`` medians and percentiles, and the
    total rows with the NPV (``npv_usd_million``, ``npv_inr_crore``, with percentiles) at the
    run's discount rate (``discount_rate``).
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

    npv = present_value(results)
    discount = float(cost.attrs.get("discount_rate", 0.0))

    def with_npv(out: dict[str, Any], values: np.ndarray) -> dict[str, Any]:
        p5, p50, p95 = np.percentile(values, [5, 50, 95])
        out["discount_rate"] = discount
        for key, scale in (("npv_usd_million", 1e-6), ("npv_inr_crore", rate / INR_CRORE)):
            out[key] = float(p50) * scale
            out[f"{key}_p5"] = float(p5) * scale
            out[f"{key}_p95"] = float(p95) * scale
        return out

    for lever in cost[dims.LEVER].to_numpy():
        one = by_year.sel({dims.LEVER: lever})
        for component in cost["component"].to_numpy():
            for year in one["year"].to_numpy():
                values = one.sel(component=component, year=year).to_numpy()
                if np.any(values != 0):
                    rows.append(row(str(lever), str(component), str(int(year)), values))
        total = row(str(lever), "all", "total", one.sum(["year", "component"]).to_numpy())
        rows.append(with_npv(total, npv.sel({dims.LEVER: lever}).to_numpy()))
    overall = row("all", "all", "total", by_year.sum(["year", dims.LEVER, "component"]).to_numpy())
    rows.append(with_npv(overall, npv.sum(dims.LEVER).to_numpy()))
    return rows


def _spread(values: np.ndarray, scale: float = 1.0) -> dict[str, float | None]:
    """Median and 5th-95th percentiles of finite values (None when there are none)."""
    finite = values[np.isfinite(values)] * scale
    if finite.size == 0:
        return {"median": None, "p5": None, "p95": None}
    p5, p50, p95 = np.percentile(finite, [5, 50, 95])
    return {"median": float(p50), "p5": float(p5), "p95": float(p95)}


def investments(results: xr.Dataset) -> list[dict[str, Any]]:
    """Return, per ``finance`` lever, the share of draws in which the plant is built.

    With the investor's IRR (over the draws that have one) and NPV (US$ million), from the run's
    appraisals (:func:`rareflow.engine.run.appraisals`).
    """
    if "investment_built" not in results:
        return []
    out = []
    for lever in results["investment_built"][dims.LEVER].to_numpy():
        sel = {dims.LEVER: lever}
        out.append(
            {
                "lever": str(lever),
                "share_of_draws_built": float(results["investment_built"].sel(sel).mean()),
                "irr": _spread(results["investment_irr"].sel(sel).to_numpy()),
                "npv_usd_million": _spread(results["investment_npv"].sel(sel).to_numpy(), 1e-6),
            }
        )
    return out


def lever_cost_summary(results: xr.Dataset) -> dict[str, Any] | None:
    """Return a run's lever costs, or None when it has no levers.

    The discount rate and its basis, the cost table by lever, component and year with NPVs
    (:func:`cost_table`), and the finance levers' appraisals (:func:`investments`).
    """
    if "lever_cost" not in results:
        return None
    cost = results["lever_cost"]
    return {
        "discount_rate": float(cost.attrs.get("discount_rate", 0.0)),
        "discount_basis": str(cost.attrs.get("discount_basis", "")),
        "inr_per_usd": float(cost.attrs["inr_per_usd"]),
        "rows": cost_table(results),
        "investments": investments(results),
    }
