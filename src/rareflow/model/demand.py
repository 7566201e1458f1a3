"""Magnet demand of the focal country's sectors, from activity and intensity.

Demand (t of magnet per year) = activity (units or MW per year) x intensity (kg of magnet per unit,
or t per MW) x the share of units that use that magnet. Units are checked, not assumed: an
activity counted in MW needs an intensity in t per MW, and an intensity on an REO basis is not a
magnet intensity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.data.load import LINE, ORIGIN, Dataset, records
from rareflow.data.query import activity_rows, growth_rows, latest_rows, magnet_intensities
from rareflow.errors import DataError, Problem


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


def sector_demand(dataset: Dataset, country: str) -> SectorDemand:
    """Compute the focal country's magnet demand by sector and material.

    Raises
    ------
    rareflow.errors.DataError
        If an intensity's unit does not match its sector's activity unit.
    """
    sectors = dataset.table("sectors").set_index("sector")
    # Each sector's latest year, at the preferred metric of that year.
    activity = latest_rows(activity_rows(dataset, country), ["sector"])

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
        try:
            found = magnet_intensities(dataset, str(act["sector"]))
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        for one in found:
            it, share = one.intensity, one.share
            share_value = float(str(share["value"])) if share is not None else 1.0
            rows.append(
                {
                    dims.SECTOR: act["sector"],
                    dims.MATERIAL: it["material"],
                    "activity": float(act["value"]),
                    "activity_unit": act["unit"],
                    "activity_metric": act["metric"],
                    "activity_year": int(act["year"]),
                    "activity_source": act["source_id"],
                    "intensity": float(str(it["value"])),
                    "intensity_unit": it["unit"],
                    "intensity_source": it["source_id"],
                    "share_of_units": share_value,
                    "share_source": share["source_id"] if share is not None else None,
                    "t_magnet_per_year": float(act["value"])
                    * float(str(it["value"]))
                    * one.to_tonnes
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
