"""Per-sector summary of a run's shortfall, with its spread across draws.

For each sector with a requirement: the first month of shortfall, the months in shortfall, the
peak monthly shortfall (t and % of that month's requirement) and the cumulative shortfall (t and %
of the cumulative requirement), each as the median and the 5th-95th percentiles over draws. A
month counts as short when the shortfall exceeds a threshold of its requirement (default
``SHORT_THRESHOLD``, 1%, stated in every output), so rounding dust never counts.

The shortfall (requirement not delivered) has two parts, reported apart:

- **physical shortfall**: magnets sought and not available (``demand - delivered``, at least 0);
- **demand forgone**: magnets not sought because prices rose (``requirement - demand``; the
  engine's price response, ``requirement x price_multiple ^ elasticity``), less what a
  government stockpile or a private buffer delivered of it: they serve need at pre-shock terms,
  so a maker takes more from them than it would buy at the scarcity price, and that part of
  the demand is not forgone (:func:`shortfall_parts`).

Both stop production, so both count in the units and the value of production lost
(:mod:`rareflow.analysis.production`), where the dataset values the sector's product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.analysis.production import INR_CRORE, SectorValue

SHORT_THRESHOLD = 0.01
"""By default a month is short when more than 1% of its requirement is not delivered."""
PERCENTILES = (5.0, 50.0, 95.0)


def shortfall_parts(
    requirement: np.ndarray, sought: np.ndarray, delivered: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split the shortfall (``requirement - delivered``) into its physical part and demand forgone.

    Physical: ``max(sought - delivered, 0)``. Forgone: ``requirement - max(sought, delivered)``.
    The two add up to the shortfall. Where a stockpile or buffer delivered more than the price
    left sought, the excess came out of the demand the price had rationed away.
    """
    physical = np.maximum(sought - delivered, 0.0)
    return physical, requirement - np.maximum(sought, delivered)


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
    "cumulative_physical_t": ("t_magnet", "magnets sought and not available, summed"),
    "peak_physical_pct": ("%", "largest physical shortfall in one step, % of its requirement"),
    "cumulative_forgone_t": ("t_magnet", "demand forgone at high prices, summed"),
    "units_lost": ("units", "units of product not made (MW for wind)"),
    "value_lost_inr_crore": ("inr_crore", "value of the production lost"),
}
"""Per-draw figures behind the summary, by sector: name -> (unit, description)."""


def _sum_over_time(values: np.ndarray) -> np.ndarray:
    """Sum (draw, time) over time in step order, so a draw's sum never depends on its chunk."""
    total = values[:, 0].copy()
    for t in range(1, values.shape[1]):
        total += values[:, t]
    return total


def _by_sector(results: xr.Dataset, name: str) -> np.ndarray:
    return results[name].transpose(dims.DRAW, dims.TIME, dims.SECTOR).to_numpy()


def _unit_factors(
    sectors: np.ndarray, values: Mapping[str, SectorValue] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Units per tonne and rupee crore per unit by sector (NaN where unknown)."""
    known = values or {}
    units = np.array([known[s].units_per_t if s in known else np.nan for s in sectors])
    rupees = [known[s].inr_per_unit if s in known else None for s in sectors]
    crore = np.array([np.nan if r is None else r / INR_CRORE for r in rupees])
    return units, crore


def draw_scalars(
    results: xr.Dataset,
    step_months: int = 1,
    values: Mapping[str, SectorValue] | None = None,
    threshold: float = SHORT_THRESHOLD,
) -> xr.Dataset:
    """Per-draw shortfall figures by sector, from which :func:`summarise_draws` takes percentiles.

    Each draw's figures depend only on that draw, so the scalars of chunks of draws, put together,
    equal those of the whole ensemble bit for bit.

    Parameters
    ----------
    results
        A run's results (``requirement`` and ``shortfall`` with dims draw, time, sector).
    step_months
        Months per step, to count months in shortfall.
    values
        Units per tonne of magnet and the value of a unit, by sector
        (:func:`rareflow.analysis.production.sector_values`); without them units and value
        lost are NaN.
    threshold
        Share of a month's requirement above which the month counts as short.

    Returns
    -------
    xarray.Dataset
        The variables of :data:`DRAW_SCALARS` with dims (draw, sector), and the run's ``time``
        coordinate (to label the first short month); ``threshold`` in its attributes.
    """
    req = _by_sector(results, "requirement")
    short = _by_sector(results, "shortfall")
    sought = _by_sector(results, "demand")
    delivered = _by_sector(results, "delivered")
    units_per_t, crore_per_unit = _unit_factors(results[dims.SECTOR].to_numpy(), values)
    columns: dict[str, list[np.ndarray]] = {name: [] for name in DRAW_SCALARS}
    for s in range(req.shape[2]):
        r, sf = req[:, :, s], short[:, :, s]
        physical, forgone = shortfall_parts(r, sought[:, :, s], delivered[:, :, s])
        ratio = np.divide(sf, r, out=np.zeros_like(sf), where=r > 0)
        is_short = ratio > threshold
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
        columns["cumulative_physical_t"].append(_sum_over_time(physical))
        columns["peak_physical_pct"].append(
            100.0 * np.divide(physical, r, out=np.zeros_like(r), where=r > 0).max(axis=1)
        )
        columns["cumulative_forgone_t"].append(_sum_over_time(forgone))
        columns["units_lost"].append(cum_sf * units_per_t[s])
        columns["value_lost_inr_crore"].append(cum_sf * units_per_t[s] * crore_per_unit[s])
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
        attrs={"threshold": threshold},
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
                    for name in DRAW_SCALARS
                    if name not in ("requirement_t", "first_month_short")
                },
            }
        )
    return out


def sector_summary(
    results: xr.Dataset,
    step_months: int = 1,
    values: Mapping[str, SectorValue] | None = None,
    threshold: float = SHORT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Summarise shortfall by sector (see :func:`draw_scalars` for the parameters)."""
    return summarise_draws(draw_scalars(results, step_months, values, threshold))


def monthly_by_sector(
    results: xr.Dataset, values: Mapping[str, SectorValue] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Return, month by month and per sector, the shortfall's parts and what it costs.

    Physical shortfall and demand forgone are in % of that month's requirement (0-100); units
    and value (₹ crore) of production lost are per month; each as the median and 5th-95th
    percentiles over draws.
    """
    req = _by_sector(results, "requirement")
    short = _by_sector(results, "shortfall")
    sought = _by_sector(results, "demand")
    delivered = _by_sector(results, "delivered")
    sectors = results[dims.SECTOR].to_numpy()
    units_per_t, crore_per_unit = _unit_factors(sectors, values)
    months = [str(np.datetime_as_string(t, unit="M")) for t in results[dims.TIME].to_numpy()]

    def pct(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
        share: np.ndarray = np.divide(part, whole, out=np.zeros_like(part), where=whole > 0)
        return 100.0 * share

    out: dict[str, list[dict[str, Any]]] = {}
    for s, sector in enumerate(sectors):
        if not np.any(req[:, :, s] > 0):
            continue
        physical, forgone = shortfall_parts(req[:, :, s], sought[:, :, s], delivered[:, :, s])
        series = {
            "physical_shortfall_pct": pct(physical, req[:, :, s]),
            "forgone_pct": pct(forgone, req[:, :, s]),
            "units_lost": short[:, :, s] * units_per_t[s],
            "value_lost_inr_crore": short[:, :, s] * units_per_t[s] * crore_per_unit[s],
        }
        out[str(sector)] = [
            {"month": month, **{k: spread(v[:, t]) for k, v in series.items()}}
            for t, month in enumerate(months)
        ]
    return out


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
            "physical (t)": format_spread(s["cumulative_physical_t"]),
            "forgone (t)": format_spread(s["cumulative_forgone_t"]),
            "units lost": (
                format_spread(s["units_lost"])
                if s["units_lost"]["median"] is not None
                else "not computed"
            ),
            "value lost (Rs crore)": (
                format_spread(s["value_lost_inr_crore"])
                if s["value_lost_inr_crore"]["median"] is not None
                else "not valued"
            ),
        }
        for s in summary
    ]


SPREADS = (
    "first_month",
    *(name for name in DRAW_SCALARS if name not in ("requirement_t", "first_month_short")),
)
"""The summary's spreads (median, 5th and 95th percentile), in table order."""


def summary_columns(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten a summary for CSV: one plain value per column (``<spread>_median``, ``_p5``, ...).

    Numbers stay numbers (the share of draws short as a fraction, percentages in percent); a
    first month short is ``YYYY-MM``; a spread without a value (never short) is empty.
    """
    rows = []
    for s in summary:
        row: dict[str, Any] = {
            "sector": s["sector"],
            "requirement_t": s["requirement_t"],
            "share_of_draws_short": s["share_of_draws_short"],
        }
        for key in SPREADS:
            for stat in ("median", "p5", "p95"):
                row[f"{key}_{stat}"] = s[key][stat]
        rows.append(row)
    return rows


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


def buyer_groups_view(
    results: xr.Dataset, values: Mapping[str, SectorValue] | None = None
) -> tuple[xr.Dataset, dict[str, SectorValue]]:
    """Lay the run's segment records out as sectors, one per buyer group (``sector/group``).

    The per-sector summaries then apply to buyer groups unchanged; each group takes its sector's
    units per tonne and value per unit.

    Returns
    -------
    tuple
        The results with ``requirement``, ``demand``, ``delivered`` and ``shortfall`` by buyer
        group on the ``sector`` dimension, and the values by group.
    """
    rename = {dims.SEGMENT: dims.SECTOR}
    data = {
        name: results[f"segment_{name}"].rename(rename).drop_vars("segment_sector")
        for name in ("requirement", "demand", "delivered")
    }
    view = xr.Dataset(data)
    view["shortfall"] = np.maximum(view["requirement"] - view["delivered"], 0.0)
    owner = results["segment_sector"].to_numpy()
    known = values or {}
    by_group = {
        str(g): known[str(s)]
        for g, s in zip(results[dims.SEGMENT].to_numpy(), owner, strict=True)
        if str(s) in known
    }
    return view, by_group
