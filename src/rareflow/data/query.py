"""One place that answers the questions the model asks of the dataset.

The engine's compiler, the stress-test network, the stocks model and the faces all ask the same
few questions of the dataset: a country's industry cover, its plants of a status, its import
shares at a stage, the latest figure of a table, a unit conversion. Each is answered here, once,
with one rule, and the answer carries its value, unit, sources and note (:class:`Fact`,
:class:`Shares`, :class:`Plant`), so two layers can no longer disagree about the same fact.

The rules, and why (where the old readers differed, the rule kept is named):

- **latest figure**: of a table's chosen rows matching a key, the row(s) of the latest ``year``
  (a stable sort, so rows of the same year keep their file order). Five hand-written helpers did
  this with an unstable sort.
- **industry cover**: the latest year's chosen ``cover`` row of the country's industry, in
  weeks (any time unit converted). The compiler took the *first* row in file order and the
  stress-test network the latest; the latest is right (a newer survey supersedes an older one),
  and the two agree on the embedded data (one row).
- **plants**: the latest chosen row of each (facility, material, metric) whose status is one
  asked for; by default ``operating`` only. The stress-test network also counted plants
  ``under_construction`` at their stated capacity (Midwest Advanced Materials' 500 t/yr in
  India); a plant being built produces nothing during a disruption today, so only operating
  plants count unless a caller asks for more (``rareflow stress-test`` keeps the option).
- **import shares** at a stage: the importer's chosen trade rows of the stage's materials
  (materials.csv ``stage``), partner World excluded, in this order of preference: rows from the
  user's own data (``--data DIR``, e.g. written by ``rareflow data import-trade``) before the
  embedded ones; then the material (at the magnet stage rare-earth magnets proper, then HS
  8505.11, then all permanent magnets, which are mostly ferrite); then the metric
  (``share_of_quantity``, ``share_of_value``, then partner ``quantity`` and ``value`` rows, whose
  shares are computed); then the latest year. Without any, the stage's world output shares
  (stage_shares.csv, latest year). The compiler used this order without the user-data rule and
  without the computed shares, so imported Comtrade or BACI rows never reached the engine; the
  stress-test network read ``magnets_rare_earth`` alone at the magnet stage and world shares
  upstream. Both now read this, and on the embedded data both get what they got before.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from rareflow import units
from rareflow.data.load import EMBEDDED, LAYER, Dataset, records
from rareflow.errors import DataError, InputError, Problem

OPERATING: tuple[str, ...] = ("operating",)
"""Facility statuses whose capacity counts by default: plants that produce today."""
SHARE_METRICS: tuple[str, ...] = ("share_of_quantity", "share_of_value")
"""Trade metrics that are partner shares already, best first."""
FLOW_METRICS: tuple[str, ...] = ("quantity", "value")
"""Trade metrics of partner flows whose shares are computed, best first."""
MATERIAL_PREFERENCE: Mapping[str, tuple[str, ...]] = {
    "magnet": ("magnets_rare_earth", "hs850511_magnets_metal", "magnets_permanent_all"),
}
"""Trade classes preferred at a stage, best first (others follow in file order): rare-earth
magnets proper before HS 8505.11 (all metal magnets) before all permanent magnets (mostly
ferrite)."""
WORLD = "WLD"
"""Partner code of a world total (never a partner share)."""
REST_OF_WORLD = "ROW"


@dataclass(frozen=True)
class Fact:
    """One figure of the dataset, with where it comes from.

    Attributes
    ----------
    value
        The number, in ``unit``.
    unit
        Its unit (a symbol of :mod:`rareflow.units`).
    sources
        Source ids (sources.csv) of the rows behind it.
    note
        The rows used and any conversion, in words.
    year
        The year of the figure, where it has one.
    low, high
        Its published or assumed range, where the dataset gives one.
    """

    value: float
    unit: str
    sources: tuple[str, ...]
    note: str
    year: int | None = None
    low: float | None = None
    high: float | None = None

    def to(self, unit: str) -> Fact:
        """Return the figure converted to ``unit`` (:func:`rareflow.units.convert`).

        Raises
        ------
        ValueError
            If the units are of different kinds or mass bases.
        """
        if unit == self.unit:
            return self

        def conv(v: float | None) -> float | None:
            return None if v is None else units.convert(v, self.unit, unit)

        return Fact(
            units.convert(self.value, self.unit, unit),
            unit,
            self.sources,
            f"{self.note} ({self.unit} converted to {unit})",
            self.year,
            conv(self.low),
            conv(self.high),
        )


@dataclass(frozen=True)
class Shares:
    """A country's suppliers at one stage, as fractions that sum to 1.

    Attributes
    ----------
    importer
        The importing (focal) country.
    stage
        The chain stage.
    shares
        Partner (ISO alpha-3 or ``ROW``) -> share, normalised to sum to 1.
    basis
        ``imports`` (the importer's trade rows) or ``world output`` (stage_shares.csv).
    sources
        Source ids of the rows used.
    note
        Which rows were used, in words.
    material, metric, year
        The trade class and metric used (None for world shares), and the year.
    user_data
        Whether the rows come from the user's own data rather than the embedded dataset.
    parts
        Each partner's share as a :class:`Fact` with its own sources.
    """

    importer: str
    stage: str
    shares: Mapping[str, float]
    basis: Literal["imports", "world output"]
    sources: tuple[str, ...]
    note: str
    material: str | None = None
    metric: str | None = None
    year: int | None = None
    user_data: bool = False
    parts: Mapping[str, Fact] = field(default_factory=dict)
    unit: str = "fraction"


@dataclass(frozen=True)
class Plant:
    """One plant's figure (its latest chosen row of facilities.csv).

    Attributes
    ----------
    facility, country, stage, material, status
        What the plant is.
    figure
        Its capacity (or other metric) with unit, source and note.
    """

    facility: str
    country: str
    stage: str
    material: str
    status: str
    figure: Fact
    line: int | None = None


def _sources(values: Collection[Any]) -> tuple[str, ...]:
    """Distinct source ids in first-seen order."""
    return tuple(dict.fromkeys(str(v) for v in values))


def _optional(value: object) -> float | None:
    if value is None:
        return None
    number = float(str(value))
    return number if math.isfinite(number) else None


def latest_rows(df: pd.DataFrame, by: Collection[str] = ()) -> pd.DataFrame:
    """Return the row of the latest ``year`` of each group of ``by`` (all rows if ``by`` is empty).

    The sort is stable: rows of one year keep their file order, and the last of them is kept.
    """
    if df.empty:
        return df
    ordered = df.sort_values("year", kind="stable")
    if not by:
        return ordered.tail(1)
    return ordered.groupby(list(by), as_index=False, sort=False).tail(1)


def matching(dataset: Dataset, table: str, **where: object) -> pd.DataFrame:
    """Return a table's chosen rows whose columns equal the values given."""
    rows = dataset.chosen(table)
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows


def latest_row(dataset: Dataset, table: str, **where: object) -> dict[str, object] | None:
    """Return the latest chosen row of a table matching ``where`` (hidden columns kept), or None."""
    rows = latest_rows(matching(dataset, table, **where))
    return records(rows)[0] if not rows.empty else None


def fact_of(row: Mapping[str, object], table: str) -> Fact:
    """Return a dataset row as a :class:`Fact`."""
    year = row.get("year")
    return Fact(
        float(str(row["value"])),
        str(row["unit"]),
        (str(row["source_id"]),),
        f"{table}.csv: {row.get('note') or ''}".rstrip(": "),
        int(str(year)) if year is not None and _optional(year) is not None else None,
        _optional(row.get("low")),
        _optional(row.get("high")),
    )


def latest(dataset: Dataset, table: str, **where: object) -> Fact | None:
    """Return the latest chosen figure of a table matching ``where``, or None."""
    row = latest_row(dataset, table, **where)
    return None if row is None else fact_of(row, table)


def convert(value: float, unit: str, to: str) -> float:
    """Convert a value between units of the same kind and basis (:func:`rareflow.units.convert`).

    Raises
    ------
    rareflow.errors.InputError
        If the units are unknown or of different kinds or mass bases.
    """
    try:
        return units.convert(value, unit, to)
    except (KeyError, ValueError) as exc:
        raise InputError(f"cannot convert {unit} to {to}: {exc}") from None


def industry_cover(dataset: Dataset, country: str) -> Fact:
    """Return the weeks of magnet demand a country's industry holds in stock (inventories.csv).

    The latest year's chosen ``cover`` row of holder ``industry``, converted to weeks, with its
    range. For India: 13.5 weeks, 11-16, on 4 April 2025 (an assumption read from June 2025
    reports; the reported 'weeks left' are alternatives).

    Raises
    ------
    rareflow.errors.InputError
        If the country has no such row (the message says how to give one).
    rareflow.errors.DataError
        If the row's unit is not a time unit.
    """
    row = latest_row(dataset, "inventories", country=country, holder="industry", metric="cover")
    if row is None:
        raise InputError(
            f"the dataset has no industry magnet cover for {country} (inventories.csv): set "
            "parameters.industry_cover_weeks in the scenario, or add a row to your own "
            "inventories.csv (see README, 'Your own data')"
        )
    fact = fact_of(row, "inventories")
    try:
        weeks = fact.to("weeks")
    except (KeyError, ValueError):
        raise DataError(
            [
                Problem(
                    f"industry cover of {country} is in '{fact.unit}'; expected a time unit "
                    "(weeks, months, days, years)",
                    "inventories.csv",
                    int(str(row["_line"])),
                    "unit",
                )
            ]
        ) from None
    return Fact(
        weeks.value,
        "weeks",
        weeks.sources,
        f"inventories.csv {row['material']} cover {float(str(row['value'])):g} {fact.unit}"
        + (
            f" (range {weeks.low:g}-{weeks.high:g} weeks)"
            if weeks.low is not None and weeks.high is not None
            else ""
        )
        + f", {weeks.year}",
        weeks.year,
        weeks.low,
        weeks.high,
    )


def plants(
    dataset: Dataset,
    country: str,
    *,
    statuses: Collection[str] = OPERATING,
    stage: str | None = None,
    materials: Collection[str] | None = None,
    metric: str = "capacity",
) -> tuple[Plant, ...]:
    """Return a country's plants of some statuses: the latest chosen row of each.

    Parameters
    ----------
    dataset
        The dataset.
    country
        ISO alpha-3 code.
    statuses
        Facility statuses that count (default: operating only; see the module's docstring).
    stage, materials
        Keep only plants of this stage, or making these materials.
    metric
        ``capacity`` (current) or ``planned_capacity``.

    Returns
    -------
    tuple of Plant
        In file order; one per (facility, material).
    """
    rows = matching(dataset, "facilities", country=country, metric=metric)
    # A plant's latest row says what it is now: its status is read after the latest is chosen.
    rows = latest_rows(rows, ("facility", "material", "metric")).sort_index()
    rows = rows[rows["status"].isin(list(statuses))]
    if stage is not None:
        rows = rows[rows["stage"] == stage]
    if materials is not None:
        rows = rows[rows["material"].isin(list(materials))]
    return tuple(
        Plant(
            str(r["facility"]),
            str(r["country"]),
            str(r["stage"]),
            str(r["material"]),
            str(r["status"]),
            fact_of(r, "facilities"),
            int(str(r["_line"])) if r.get("_line") is not None else None,
        )
        for r in records(rows)
    )


def _stage_materials(dataset: Dataset, stage: str, present: Collection[str]) -> list[str]:
    """Materials of a stage found in ``present``, in order of preference."""
    materials = dataset.table("materials")
    of_stage = set(materials.loc[materials["stage"] == stage, "material"].astype(str))
    found = [m for m in dict.fromkeys(map(str, present)) if m in of_stage]
    preferred = MATERIAL_PREFERENCE.get(stage, ())
    rank = {m: i for i, m in enumerate(preferred)}
    return sorted(found, key=lambda m: rank.get(m, len(preferred)))


def _shares_of(rows: pd.DataFrame) -> dict[str, float]:
    """Partner -> value summed (rows of one material, metric and year)."""
    out: dict[str, float] = {}
    for partner, value in zip(rows["partner"].astype(str), rows["value"], strict=True):
        out[partner] = out.get(partner, 0.0) + float(value)
    return out


def import_shares(dataset: Dataset, importer: str, stage: str) -> Shares:
    """Return where a country's supply at a stage comes from (the module's rule).

    Parameters
    ----------
    dataset
        The dataset (with the user's own data overlaid, if any).
    importer
        The importing country.
    stage
        A chain stage (``mining``, ``separation``, ``metal``, ``magnet``).

    Returns
    -------
    Shares
        Normalised partner shares with their basis, sources and note; ``{"ROW": 1}`` when the
        dataset has neither import nor world shares for the stage (said in the note).
    """
    trade = matching(dataset, "trade", importer=importer)
    trade = trade[trade["partner"] != WORLD]
    candidates: list[tuple[tuple[int, int, int], pd.DataFrame, str, str]] = []
    for m_rank, material in enumerate(_stage_materials(dataset, stage, trade["material"])):
        of_material = trade[trade["material"] == material]
        for k_rank, metric in enumerate((*SHARE_METRICS, *FLOW_METRICS)):
            rows = of_material[of_material["metric"] == metric]
            if rows.empty:
                continue
            rows = rows[rows["year"] == rows["year"].max()]
            if metric in FLOW_METRICS and len(set(rows["unit"].astype(str))) > 1:
                continue  # flows in different units cannot be shared out
            from_user = bool((rows[LAYER] != EMBEDDED).any()) if LAYER in rows.columns else False
            candidates.append(((0 if from_user else 1, m_rank, k_rank), rows, material, metric))
    if candidates:
        _, rows, material, metric = min(candidates, key=lambda c: c[0])
        values = _shares_of(rows)
        total = math.fsum(values.values())
        if total > 0:
            year = int(rows["year"].iloc[0])
            from_user = bool((rows[LAYER] != EMBEDDED).any()) if LAYER in rows.columns else False
            srcs = _sources(rows["source_id"])
            computed = metric in FLOW_METRICS
            note = (
                f"import shares from {importer}'s imports of {material} ({metric}"
                + (" by partner, shares computed" if computed else "")
                + f", {year}; source {', '.join(srcs)}"
                + ("; from your data" if from_user else "")
                + ")"
            )
            return Shares(
                importer,
                stage,
                {p: v / total for p, v in values.items()},
                "imports",
                srcs,
                note,
                material,
                metric,
                year,
                from_user,
                _parts(rows, values, total, note),
            )
    world = matching(dataset, "stage_shares", stage=stage, metric="share_of_output")
    if not world.empty:
        world = world[world["year"] == world["year"].max()]
        values = {
            str(c): float(v)
            for c, v in zip(world["country"], world["value"], strict=True)
            if float(v) > 0
        }
        total = math.fsum(values.values())
        if total > 0:
            year = int(world["year"].iloc[0])
            srcs = _sources(world["source_id"])
            note = (
                f"no import split for {importer}; world {stage} shares ({year}, {', '.join(srcs)})"
            )
            world = world[world["value"] > 0].rename(columns={"country": "partner"})
            return Shares(
                importer,
                stage,
                {p: v / total for p, v in values.items()},
                "world output",
                srcs,
                note,
                None,
                "share_of_output",
                year,
                False,
                _parts(world, values, total, note),
            )
    return Shares(
        importer,
        stage,
        {REST_OF_WORLD: 1.0},
        "world output",
        (),
        f"no import or world shares of the {stage} stage in the dataset: all from ROW",
    )


def _parts(
    rows: pd.DataFrame, values: Mapping[str, float], total: float, note: str
) -> dict[str, Fact]:
    """Each partner's share as a Fact with the sources of its own rows."""
    out = {}
    for partner, value in values.items():
        mine = rows[rows["partner"].astype(str) == partner]
        out[partner] = Fact(
            value / total,
            "fraction",
            _sources(mine["source_id"]),
            note,
            int(mine["year"].iloc[0]),
        )
    return out
