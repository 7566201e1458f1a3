"""From tonnes of magnet short to production lost: units of product and their value.

A sector's magnet requirement is its activity (units or MW a year) times its magnets per unit
(:mod:`rareflow.model.demand`), so a tonne of magnet not delivered is ``activity / requirement``
units not made, on average over the sector's product mix. Each unit is valued at the dataset's
value of one unit of the sector's product (unit_values.csv: a vehicle's average selling price,
a MW of turbines' installed cost). A sector without a value is named, never valued at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from rareflow.data.load import Dataset
from rareflow.data.query import Fact, latest
from rareflow.model.demand import sector_demand

INR_CRORE = 1e7
"""Rupees in one crore."""
UNIT_LABELS = {"units_per_year": "units", "mw_per_year": "MW"}
"""What one unit of a sector's product is, by its activity unit (sectors.csv)."""
TO_INR = {"inr_per_unit": 1.0, "inr_crore_per_mw": INR_CRORE}
"""Rupees per unit of product, by the unit of a unit_values.csv row."""


@dataclass(frozen=True)
class SectorValue:
    """What a tonne of a sector's magnet makes, and what that is worth.

    Attributes
    ----------
    units_per_t
        Units of product (vehicles, devices, MW) made per tonne of magnet.
    unit_label
        What a unit is: ``units`` or ``MW``.
    inr_per_unit
        Value of one unit in rupees, or None where the dataset has none.
    value
        The unit value as a dataset figure (sources and note), or None.
    """

    units_per_t: float
    unit_label: str
    inr_per_unit: float | None
    value: Fact | None


def sector_values(dataset: Dataset, country: str) -> dict[str, SectorValue]:
    """Units per tonne of magnet and the value of a unit, for each sector with a requirement."""
    demand = sector_demand(dataset, country)
    activity_units = dict(
        zip(
            dataset.table("sectors")["sector"].astype(str),
            dataset.table("sectors")["activity_unit"].astype(str),
            strict=True,
        )
    )
    out: dict[str, SectorValue] = {}
    if demand.detail.empty:
        return out
    for sector, rows in demand.detail.groupby("sector"):
        tonnes = float(rows["t_magnet_per_year"].sum())
        if tonnes <= 0:
            continue
        activity = float(rows["activity"].iloc[0])
        fact = latest(dataset, "unit_values", country=country, sector=sector)
        out[str(sector)] = SectorValue(
            units_per_t=activity / tonnes,
            unit_label=UNIT_LABELS.get(activity_units.get(str(sector), ""), "units"),
            inr_per_unit=None if fact is None else fact.value * TO_INR[fact.unit],
            value=fact,
        )
    return out
