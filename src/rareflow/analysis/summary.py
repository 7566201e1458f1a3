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


def spread(values: np.ndarray) -> dict[str, float | None]:
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


DRAW_SCALARS = {
    "requirement_t": ("t_magnet", "cumulative requirement over the horizon"),
    "first_month_short": ("step", "index of the first short step (-1: never short)"),
    "months_in_shortfall": ("months", "months in which the sector is short"),
    "peak_monthly_shortfall_t": ("t_magnet", "largest shortfall in one step"),
    "peak_monthly_shortfall_pct": ("%", "largest shortfall in one step, % of its requirement"),
    "cumulative_shortfall_t": ("t_magnet", "shortfall summed over the horizon"),
    "cumulative_shortfall_pct": ("%", "cumulative shortfall, % of cumulative requirement"),
}
"""Per-draw figures behind the summary, by sector: name -> (unit, description)."""


def _sum_over_time(values: np.ndarray) -> np.ndarray:
    """Sum (draw, time) over time in step order, so a draw's sum never depends on its chunk."""
    total = values[:, 0].copy()
    for t in range(1, values.shape[1]):
        total += values[:, t]
    return total


def draw_scalars(results: xr.Dataset, step_months: int = 1) -> xr.Dataset:
    """Per-draw shortfall figures by sector, from which :func:`summarise_draws` takes percentiles.

    Each draw's figures depend only on that draw, so the scalars of chunks of draws, put together,
    equal those of the whole ensemble bit for bit.

    Parameters
    ----------
    results
        A run's results (``requirement`` and ``shortfall`` with dims draw, time, sector).
    step_months
        Months per step, to count months in shortfall.

    Returns
    -------
    xarray.Dataset
        The variables of :data:`DRAW_SCALARS` with dims (draw, sector), and the run's ``time``
        coordinate (to label the first short month).
    """
    req = results["requirement"].transpose(dims.DRAW, dims.TIME, dims.SECTOR).to_numpy()
    short = results["shortfall"].transpose(dims.DRAW, dims.TIME, dims.SECTOR).to_numpy()
    columns: dict[str, list[np.ndarray]] = {name: [] for name in DRAW_SCALARS}
    for s in range(req.shape[2]):
        r, sf = req[:, :, s], short[:, :, s]
        ratio = np.divide(sf, r, out=np.zeros_like(sf), where=r > 0)
        is_short = ratio > THRESHOLD
        any_short = is_short.any(axis=1)
        cum_r = _sum_over_time(r)
        cum_sf = _sum_over_time(sf)
        columns["requirement_t"].append(cum_r)
        columns["first_month_short"].append(np.where(any_short, is_short.argmax(axis=1), -1))
        columns["months_in_shortfall"].append(is_short.sum(axis=1) * float(step_months))
        columns["peak_monthly_shortfall_t"].append(sf.max(axis=1))
        columns["peak_monthly_shortfall_pct"].append(100.0 * ratio.max(axis=1))
        columns["cumulative_shortfall_t"].append(cum_sf)
        columns["cumulative_shortfall_pct"].append(
            100.0 * np.divide(cum_sf, cum_r, out=np.zeros_like(cum_r), where=cum_r > 0)
        )
    by_sector = (dims.DRAW, dims.SECTOR)
    return xr.Dataset(
        {
            name: xr.Variable(
                by_sector,
                np.stack(columns[name], axis=1),
                attrs={"unit": DRAW_SCALARS[name][0], "description": DRAW_SCALARS[name][1]},
            )
            for name in DRAW_SCALARS
        },
        coords={
            dims.DRAW: results[dims.DRAW].to_numpy(),
            dims.SECTOR: results[dims.SECTOR].to_numpy(),
            dims.TIME: results[dims.TIME].to_numpy(),
        },
    )


def summarise_draws(scalars: xr.Dataset) -> list[dict[str, Any]]:
    """Summarise per-draw scalars by sector: median and 5th-95th percentiles over draws.

    Parameters
    ----------
    scalars
        Per-draw figures from :func:`draw_scalars` (of one run, or of its chunks put together).

    Returns
    -------
    list of dict
        One entry per sector with a requirement, as :func:`sector_summary` describes.
    """
    months = scalars[dims.TIME].to_numpy()
    values = {
        name: scalars[name].transpose(dims.DRAW, dims.SECTOR).to_numpy() for name in DRAW_SCALARS
    }
    out = []
    for s, sector in enumerate(scalars[dims.SECTOR].to_numpy()):
        cum_r = values["requirement_t"][:, s]
        if not np.any(cum_r > 0):
            continue
        first = values["first_month_short"][:, s]
        out.append(
            {
                "sector": str(sector),
                "requirement_t": float(np.median(cum_r)),
                "share_of_draws_short": float((first >= 0).mean()),
                "first_month": _month_spread(first, months),
                **{
                    name: spread(values[name][:, s])
                    for name in (
                        "months_in_shortfall",
                        "peak_monthly_shortfall_t",
                        "peak_monthly_shortfall_pct",
                        "cumulative_shortfall_t",
                        "cumulative_shortfall_pct",
                    )
                },
            }
        )
    return out


def sector_summary(results: xr.Dataset, step_months: int = 1) -> list[dict[str, Any]]:
    """Summarise shortfall by sector.

    Parameters
    ----------
    results
        A run's results (``requirement`` and ``shortfall`` with dims draw, time, sector).
    step_months
        Months per step, to count months in shortfall.
    """
    return summarise_draws(draw_scalars(results, step_months))


def format_spread(spread: dict[str, Any], unit: str = "", digits: int = 0) -> str:
    """Return ``median [p5..p95]`` (with a unit and digits), or ``never`` when there is none."""
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
            "first month short": format_spread(s["first_month"]),
            "months short": format_spread(s["months_in_shortfall"]),
            "peak (t/month)": format_spread(s["peak_monthly_shortfall_t"], digits=1),
            "peak (%)": format_spread(s["peak_monthly_shortfall_pct"], "%"),
            "cumulative (t)": format_spread(s["cumulative_shortfall_t"]),
            "cumulative (%)": format_spread(s["cumulative_shortfall_pct"], "%", 1),
        }
        for s in summary
    ]


def partner_additions(results: xr.Dataset) -> list[dict[str, Any]]:
    """Magnets each partner ships above its first-step rate, summed over the horizon.

    Which partners fill a gap, and by how much: for each partner, the magnets shipped (t magnet,
    all magnet kinds) above what it shipped in the run's first step, summed over the steps and
    given as the median and 5th-95th percentiles over draws; ``share`` is the partner's part of
    all partners' medians. A partner whose shipments fell (the controlling exporter) adds
    nothing. Empty when the run kept no shipments by partner.
    """
    if "shipped" not in results or dims.PARTNER not in results.coords:
        return []
    units = results.coords["material_unit"].to_numpy()
    magnets = [
        m
        for m, u in zip(results.coords[dims.MATERIAL].to_numpy(), units, strict=True)
        if u == "t_magnet"
    ]
    shipped = results["shipped"].sel({dims.MATERIAL: magnets}).sum(dims.MATERIAL)
    values = shipped.transpose(dims.DRAW, dims.PARTNER, dims.TIME).to_numpy()
    above = np.maximum(values - values[:, :, :1], 0.0)
    added = np.zeros(above.shape[:2])
    for t in range(above.shape[2]):
        added += above[:, :, t]
    medians = {}
    spreads = {}
    for p, partner in enumerate(results.coords[dims.PARTNER].to_numpy()):
        spreads[str(partner)] = spread(added[:, p])
        medians[str(partner)] = spreads[str(partner)]["median"] or 0.0
    total = sum(medians.values())
    order = sorted(medians, key=lambda p: -medians[p])
    return [
        {
            "partner": p,
            "added_t": spreads[p],
            "share": medians[p] / total if total > 0 else 0.0,
        }
        for p in order
    ]
