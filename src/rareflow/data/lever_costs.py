"""Costs of the policy levers, read from ``lever_costs.csv``.

Each lever type has rows for what it costs (capital cost of a reference project and the capacity
it buys, operating or unit cost, a programme's outlay, a premium over the market, a holding cost).
A lever's timing is its own fields' (dates, build and lag months, with defaults from
lead_times.csv and adaptation.csv). Every row is cited or a labelled assumption with a range,
so that no lever is free by default. This module answers the queries; the levers read it
(:mod:`rareflow.scenario.levers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rareflow.data.load import Dataset, records
from rareflow.data.schema import LEVER_COST_PARAMETERS, LEVERS, record_read
from rareflow.errors import InputError

COST_PARAMETERS = ("capex", "opex", "unit_cost", "programme_cost", "premium", "holding_cost")
"""Parameters that put a price on a lever (the others scale or time it)."""
DERIVED = "rareflow-derived"
"""Source of values derived by arithmetic from cited figures (not an assumption)."""


@dataclass(frozen=True)
class LeverCost:
    """One chosen row of ``lever_costs.csv``.

    Parameters
    ----------
    lever, parameter
        The lever type and what the figure is (:data:`rareflow.data.schema.LEVER_COST_PARAMETERS`).
    value, low, high
        Central figure and its range (``low`` and ``high`` are ``value`` when no range is given).
    unit
        Unit symbol (:mod:`rareflow.units`).
    year, source_id, note
        Provenance.
    assumption
        Whether the row is a labelled assumption (a source of kind ``assumption`` other than
        ``rareflow-derived``, whose values are arithmetic on cited figures).
    """

    lever: str
    parameter: str
    value: float
    low: float
    high: float
    unit: str
    year: int
    source_id: str
    note: str
    assumption: bool


ALL_LEVERS = "all"
"""``lever`` of the rows that apply to every lever (the discount rate)."""


def _check_lever(lever: str) -> None:
    if lever not in LEVERS and lever != ALL_LEVERS:
        raise InputError(
            f"unknown lever type '{lever}' for lever_costs.csv: expected one of {', '.join(LEVERS)}"
        )


def lever_costs(dataset: Dataset, lever: str) -> dict[str, LeverCost]:
    """Return a lever type's chosen cost and timing rows, by parameter.

    Raises
    ------
    rareflow.errors.InputError
        If ``lever`` is not a lever type.
    """
    _check_lever(lever)
    table = dataset.chosen("lever_costs")
    kinds = dataset.table("sources").set_index("source_id")["kind"]
    out: dict[str, LeverCost] = {}
    for row in records(table[table["lever"] == lever]):
        value = float(row["value"])
        low = float(row["low"]) if not _missing(row["low"]) else value
        high = float(row["high"]) if not _missing(row["high"]) else value
        source = str(row["source_id"])
        out[str(row["parameter"])] = LeverCost(
            lever=lever,
            parameter=str(row["parameter"]),
            value=value,
            low=low,
            high=high,
            unit=str(row["unit"]),
            year=int(row["year"]),
            source_id=source,
            note="" if _missing(row["note"]) else str(row["note"]),
            assumption=source != DERIVED and str(kinds.get(source, "")) == "assumption",
        )
    return out


def lever_cost(dataset: Dataset, lever: str, parameter: str) -> LeverCost:
    """Return one chosen row of ``lever_costs.csv``.

    Every key asked for is recorded (:class:`rareflow.data.schema.Reads`): the schema declares
    the keys the model reads, and a user's row with another key is refused at load.

    Raises
    ------
    rareflow.errors.InputError
        If the lever type or parameter is unknown, or the dataset has no chosen row for them.
    KeyError
        If the key is not one the schema declares as read (a programming error).
    """
    _check_lever(lever)
    if parameter not in LEVER_COST_PARAMETERS:
        raise InputError(
            f"unknown lever cost parameter '{parameter}': expected one of "
            f"{', '.join(LEVER_COST_PARAMETERS)}"
        )
    record_read("lever_costs", lever, parameter)
    rows = lever_costs(dataset, lever)
    if parameter not in rows:
        have = ", ".join(sorted(rows)) or "none"
        raise InputError(
            f"lever_costs.csv has no chosen '{parameter}' row for lever '{lever}' (it has: "
            f"{have}): add one to your own lever_costs.csv, or set the cost in the scenario"
        )
    return rows[parameter]


def discount_rate(dataset: Dataset) -> LeverCost:
    """Return the rate lever costs are discounted at by default (``lever_costs.csv``).

    The row of lever ``all``: India's social time preference rate.

    Raises
    ------
    rareflow.errors.InputError
        If the dataset has no chosen row (set ``costs.discount_rate`` in the scenario).
    """
    return lever_cost(dataset, ALL_LEVERS, "discount_rate")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""
