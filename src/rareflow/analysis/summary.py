"""Per-sector summary of a run's shortfall, with its spread across draws.

For each sector with a requirement: the first month of shortfall, the months in shortfall, the
peak monthly shortfall (t and % of that month's requirement) and the cumulative shortfall (t and %
of the cumulative requirement), each as the median and the 5th-95th percentiles over draws. A
month counts as short when the shortfall exceeds ``THRESHOLD`` of its requirement, so rounding
dust never counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims

THRESHOLD = 1e-3
"""A month is short when more than 0.1% of its requirement is not delivered."""
PERCENTILES = (5.0, 50.0, 95.0)


def _spread(values: np.ndarray) -> dict[str, float | None]:
    """Median and 5th/95th percentiles over draws (None when no draw has a value)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"median": None, "p5": None, "p95": None}
    p5, p50, p95 = np.percentile(finite, PERCENTILES)
    return {"median": float(p50), "p5": float(p5), "p95": float(p95)}


def _month_spread(index: np.ndarray, months: np.ndarray) -> dict[str, str | None]:
    """Percentiles of a step index, as YYYY-MM labels (lower step for a percentile between)."""
    finite = index[index >= 0]
    if finite.size == 0:
        return {"median": None, "p5": None, "p95": None}
    picks = np.percentile(finite, PERCENTILES, method="lower").astype(int)
    labels = [str(np.datetime_as_string(months[i], unit="M")) for i in picks]
    return {"median": labels[1], "p5": labels[0], "p95": labels[2]}


def sector_summary(results: xr.Dataset, step_months: int = 1) -> list[dict[str, Any]]:
    """Summarise shortfall by sector.

    Parameters
    ----------
    results
        A run's results (``requirement`` and ``shortfall`` with dims draw, time, sector).
    step_months
        Months per step, to count months in shortfall.
    """
    req = results["requirement"].transpose(dims.DRAW, dims.TIME, dims.SECTOR).to_numpy()
    short = results["shortfall"].transpose(dims.DRAW, dims.TIME, dims.SECTOR).to_numpy()
    months = results[dims.TIME].to_numpy()
    out = []
    for s, sector in enumerate(results[dims.SECTOR].to_numpy()):
        r, sf = req[:, :, s], short[:, :, s]
        if not np.any(r > 0):
            continue
        ratio = np.divide(sf, r, out=np.zeros_like(sf), where=r > 0)
        is_short = ratio > THRESHOLD
        any_short = is_short.any(axis=1)
        first = np.where(any_short, is_short.argmax(axis=1), -1)
        cum_r = r.sum(axis=1)
        out.append(
            {
                "sector": str(sector),
                "requirement_t": float(np.median(cum_r)),
                "share_of_draws_short": float(any_short.mean()),
                "first_month": _month_spread(first, months),
                "months_in_shortfall": _spread(is_short.sum(axis=1) * float(step_months)),
                "peak_monthly_shortfall_t": _spread(sf.max(axis=1)),
                "peak_monthly_shortfall_pct": _spread(100.0 * ratio.max(axis=1)),
                "cumulative_shortfall_t": _spread(sf.sum(axis=1)),
                "cumulative_shortfall_pct": _spread(
                    100.0
                    * np.divide(sf.sum(axis=1), cum_r, out=np.zeros_like(cum_r), where=cum_r > 0)
                ),
            }
        )
    return out


def _fmt(spread: dict[str, Any], unit: str = "", digits: int = 0) -> str:
    if spread["median"] is None:
        return "never"
    if isinstance(spread["median"], str):
        return f"{spread['median']} [{spread['p5']}..{spread['p95']}]"
    f = f"{{:,.{digits}f}}"
    return (
        f"{f.format(spread['median'])}{unit} [{f.format(spread['p5'])}..{f.format(spread['p95'])}]"
    )


def summary_rows(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten a summary for a table: median [5th..95th percentile] in each cell."""
    return [
        {
            "sector": s["sector"],
            "requirement (t)": f"{s['requirement_t']:,.0f}",
            "draws short": f"{100 * s['share_of_draws_short']:.0f}%",
            "first month short": _fmt(s["first_month"]),
            "months short": _fmt(s["months_in_shortfall"]),
            "peak (t/month)": _fmt(s["peak_monthly_shortfall_t"], digits=1),
            "peak (%)": _fmt(s["peak_monthly_shortfall_pct"], "%"),
            "cumulative (t)": _fmt(s["cumulative_shortfall_t"]),
            "cumulative (%)": _fmt(s["cumulative_shortfall_pct"], "%", 1),
        }
        for s in summary
    ]
