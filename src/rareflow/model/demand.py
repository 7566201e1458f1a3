"""Magnet demand of the focal country's sectors, from activity and intensity.

Demand (t of magnet per year) = activity (units or MW per year) x intensity (kg of magnet per unit,
or t per MW) x the share of units that use that magnet. Units are checked, not assumed: an
activity counted in MW needs an intensity in t per MW, and an intensity on an REO basis is not a
magnet intensity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.data.load import LINE, ORIGIN, Dataset, records
from rareflow.data.query import latest_rows
from rareflow.errors import DataError, Problem

ACTIVITY_METRIC_PREFERENCE = ("production", "sales", "installed")
"""Production is what needs magnets; sales or installations stand in where it is not known."""
INTENSITY_UNIT_FOR_ACTIVITY = {
    "units_per_year": ("kg_magnet_per_unit", 1e-3),
    "mw_per_year": ("t_magnet_per_mw", 1.0),
    "t_magnet_per_year": ("fraction", 1.0),
}
"""Which intensity unit matches an activity unit, and the factor to tonnes of magnet.

A sector counted directly in t of magnet a year (no unit count published, e.g. defence) splits
that need by magnet type with fractions."""
ALL_SECTORS = "all"
"""``demand_growth.csv`` sector of a country's economy-wide rate, the fallback of every sector."""


@dataclass(frozen=True)
class SectorDemand:
    """Magnet demand by sector and material in a base year, with its provenance.

    Parameters
    ----------
    demand
        Dimensions ``sector``, ``material``; t_magnet per year.
    growth
        Dimension ``sector``; growth of activity per year (fraction).
    detail
        One row per sector and material: activity, intensity, share of units, their years and
        sources.
    """

    demand: xr.DataArray
    growth: xr.DataArray
    detail: pd.DataFrame


def growth_rows(
    dataset: Dataset, country: str, sectors: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Return the growth row each sector uses: its own latest chosen row, else the country's 'all'.

    ``demand_growth.csv`` holds each sector's rate (observed years, and a forward rate in the
    latest year); a sector without a row of its own grows at the country's economy-wide rate, the
    row with sector ``all`` (for India, magnet consumption doubling 2025-2030, PIB 2025: 14.87% a
    year). A sector with neither is left out (the caller holds it constant and says so).
    """
    table = dataset.chosen("demand_growth")
    table = latest_rows(table[table["country"] == country], ["sector"])
    by_sector = {str(r["sector"]): r for r in records(table)}
    fallback = by_sector.get(ALL_SECTORS)
    out: dict[str, dict[str, Any]] = {}
    for sector in sectors:
        row = by_sector.get(sector, fallback)
        if row is not None:
            out[sector] = row
    return out


def sector_demand(dataset: Dataset, country: str) -> SectorDemand:
    """Compute the focal country's magnet demand by sector and material.

    Raises
    ------
    rareflow.errors.DataError
        If an intensity's unit does not match its sector's activity unit.
    """
    sectors = dataset.table("sectors").set_index("sector")
    activity = dataset.chosen("sector_activity")
    activity = activity[activity["country"] == country].copy()
    activity["rank"] = activity["metric"].map(
        {m: i for i, m in enumerate(ACTIVITY_METRIC_PREFERENCE)}
    )
    # Latest year first, then the preferred metric within it.
    activity = activity.sort_values(["sector", "year", "rank"], ascending=[True, False, True])
    activity = activity.groupby("sector", as_index=False).head(1)

    intens = dataset.chosen("intensities")
    per_unit = intens[intens["metric"] == "intensity"]
    share = intens[intens["metric"] == "share_of_units"].set_index(["sector", "material"])
    problems: list[Problem] = []
    rows = []
    for act in records(activity):
        expected_activity_unit = str(sectors.loc[act["sector"], "activity_unit"])
        if act["unit"] != expected_activity_unit:
            problems.append(
                Problem(
                    f"unit mismatch: activity of {act['sector']} is counted in "
                    f"{expected_activity_unit} (sectors.csv); got '{act['unit']}'",
                    str(act[ORIGIN]),
                    int(act[LINE]),
                    "unit",
                )
            )
            continue
        wanted_unit, to_tonnes = INTENSITY_UNIT_FOR_ACTIVITY[expected_activity_unit]
        for it in records(per_unit[per_unit["sector"] == act["sector"]]):
            if it["unit"].startswith("kg_reo"):
                continue  # an REO-basis figure is kept for reference, not a magnet intensity
            if it["unit"] != wanted_unit:
                problems.append(
                    Problem(
                        f"unit mismatch: {act['sector']} activity is in {expected_activity_unit}, "
                        f"so its magnet intensity must be in {wanted_unit}; got '{it['unit']}'",
                        str(it[ORIGIN]),
                        int(it[LINE]),
                        "unit",
                    )
                )
                continue
            key = (act["sector"], it["material"])
            has_share = key in share.index
            share_value = float(share.loc[key, "value"]) if has_share else 1.0
            rows.append(
                {
                    dims.SECTOR: act["sector"],
                    dims.MATERIAL: it["material"],
                    "activity": float(act["value"]),
                    "activity_unit": act["unit"],
                    "activity_metric": act["metric"],
                    "activity_year": int(act["year"]),
                    "activity_source": act["source_id"],
                    "intensity": float(it["value"]),
                    "intensity_unit": it["unit"],
                    "intensity_source": it["source_id"],
                    "share_of_units": share_value,
                    "share_source": share.loc[key, "source_id"] if has_share else None,
                    "t_magnet_per_year": float(act["value"])
                    * float(it["value"])
                    * to_tonnes
                    * share_value,
                }
            )
    if problems:
        raise DataError(problems)
    detail = pd.DataFrame(rows)
    if detail.empty:
        demand = xr.DataArray(
            np.zeros((0, 0)),
            coords={dims.SECTOR: np.array([], dtype=str), dims.MATERIAL: np.array([], dtype=str)},
            dims=[dims.SECTOR, dims.MATERIAL],
        )
    else:
        table = detail.pivot_table(
            index=dims.SECTOR,
            columns=dims.MATERIAL,
            values="t_magnet_per_year",
            aggfunc="sum",
            fill_value=0.0,
        )
        demand = xr.DataArray(
            table.to_numpy(),
            coords={dims.SECTOR: table.index.to_numpy(), dims.MATERIAL: table.columns.to_numpy()},
            dims=[dims.SECTOR, dims.MATERIAL],
        )
    demand.attrs["unit"] = "t_magnet_per_year"

    sector_ids = demand.coords[dims.SECTOR].to_numpy()
    by_sector = growth_rows(dataset, country, map(str, sector_ids))
    growth = xr.DataArray(
        [float(by_sector[s]["value"]) if s in by_sector else 0.0 for s in map(str, sector_ids)],
        coords={dims.SECTOR: sector_ids},
        dims=[dims.SECTOR],
    )
    growth.attrs["unit"] = "fraction_per_year"
    return SectorDemand(demand, growth, detail)
