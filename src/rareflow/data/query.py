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
  8505.11, then all permanent magnets, which are mostly ferrite; never HS 8505.19 alone, other
  permanent magnets, mostly ferrite: :data:`NOT_RARE_EARTH`); then the metric
  (``share_of_quantity``, ``share_of_value``, then partner ``quantity`` and ``value`` rows, whose
  shares are computed); then the latest year. Without any, the stage's world output shares
  (stage_shares.csv, latest year), the importer's own output left out. Where the import rows
  name only some partners and a rest (``ROW``, e.g. ICRA's "85% from China"), the rest is split
  over the stage's other world producers in proportion to their world output (issue 18: the
  engine sees Japan, Malaysia, the US... rather than one rest of the world). The compiler used
  this order without the user-data rule and without the computed shares, so imported Comtrade
  or BACI rows never reached the engine; the stress-test network read ``magnets_rare_earth``
  alone at the magnet stage and world shares upstream. Both now read this.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pandas as pd

from rareflow import units
from rareflow.data.load import EMBEDDED, LAYER, Dataset, memo, records
from rareflow.data.schema import record_read
from rareflow.errors import DataError, InputError, Problem

ACTIVITY_METRIC_PREFERENCE: tuple[str, ...] = ("production", "sales", "installed")
"""Production is what needs magnets; sales or installations stand in where it is not known."""
INTENSITY_UNIT_FOR_ACTIVITY: Mapping[str, tuple[str, float]] = {
    "units_per_year": ("kg_magnet_per_unit", 1e-3),
    "mw_per_year": ("t_magnet_per_mw", 1.0),
    "t_magnet_per_year": ("fraction", 1.0),
}
"""Which intensity unit matches an activity unit, and the factor to tonnes of magnet.

A sector counted directly in t of magnet a year (no unit count published, e.g. defence) splits
that need by magnet type with fractions."""
ALL_SECTORS = "all"
"""``demand_growth.csv`` sector of a country's economy-wide rate, the fallback of every sector."""
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
NOT_RARE_EARTH: frozenset[str] = frozenset({"hs850519_magnets_other"})
"""Trade classes that never stand in for a rare-earth stage: HS 8505.19, other permanent magnets,
is mostly ferrite (no rare earth), so its partners say nothing about where NdFeB comes from."""
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
    line
        The row's line in facilities.csv, for messages that name it.
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
    """Return the latest chosen row of a table matching ``where`` (hidden columns kept), or None.

    Looked up once per dataset and question (:func:`rareflow.data.load.memo`); each call hands
    out its own copy of the row.
    """
    key = ("latest_row", table, *sorted(where.items()))
    store = memo(dataset)
    if key not in store:
        rows = latest_rows(matching(dataset, table, **where))
        store[key] = records(rows)[0] if not rows.empty else None
    row = cast("dict[str, object] | None", store[key])
    return None if row is None else dict(row)


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


def policy(dataset: Dataset, policy: str, parameter: str) -> Fact:
    """Return a policy's figure (``policies.csv``), its latest chosen row.

    The key asked for is recorded (:class:`rareflow.data.schema.Reads`): the schema declares the
    (policy, parameter) keys the model reads, and a user's row with another is refused at load.

    Raises
    ------
    KeyError
        If the key is not one the schema declares as read (a programming error).
    rareflow.errors.InputError
        If the dataset has no chosen row for it.
    """
    record_read("policies", policy, parameter)
    found = latest(dataset, "policies", policy=policy, parameter=parameter)
    if found is None:
        raise InputError(f"policies.csv has no chosen row with policy={policy}, {parameter=}")
    return found


def control_row(
    dataset: Dataset, control_id: str, destination: str, parameter: str
) -> dict[str, object] | None:
    """Return how an export control was applied to a destination (``control_parameters.csv``).

    The latest chosen row (hidden columns kept), or None. The key asked for is recorded, as for
    :func:`policy`.

    Raises
    ------
    KeyError
        If the key is not one the schema declares as read (a programming error).
    """
    record_read("control_parameters", control_id, parameter, destination=destination)
    return latest_row(
        dataset,
        "control_parameters",
        control_id=control_id,
        destination=destination,
        parameter=parameter,
    )


def recycling_row(
    dataset: Dataset, country: str, route: str, sector: str, parameter: str
) -> dict[str, object] | None:
    """Return the chosen ``recycling.csv`` row that applies, the most specific first, or None.

    A row for the country beats one for ``WLD``, a sector's row beats ``all``, a route's row
    beats ``any``. The (parameter, sector) keys asked for, the sector's and ``all``, are
    recorded, as for :func:`policy`.

    Raises
    ------
    KeyError
        If the key is not one the schema declares as read (a programming error).
    """
    for each in dict.fromkeys((sector, "all")):
        record_read("recycling", parameter, each)
    table = dataset.chosen("recycling")
    rows = table[
        (table["parameter"] == parameter)
        & table["country"].isin([country, WORLD])
        & table["route"].isin([route, "any"])
        & table["sector"].isin([sector, "all"])
    ]
    if rows.empty:
        return None
    ranked = sorted(
        records(rows),
        key=lambda r: (r["country"] != country, r["sector"] != sector, r["route"] != route),
    )
    return ranked[0]


def inr_per_usd(dataset: Dataset, year: int) -> float | None:
    """Return ₹ per US$ of a year (exchange_rates.csv; the latest year's if that year has none).

    None when the dataset has no exchange rate.
    """
    try:
        rates = dataset.chosen("exchange_rates")
    except (KeyError, ValueError):
        return None
    row = rates[rates["year"] == year]
    if row.empty:
        row = latest_rows(rates)
    return None if row.empty else float(row["value"].iloc[0])


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


def activity_rows(dataset: Dataset, country: str, sector: str | None = None) -> pd.DataFrame:
    """Return a country's sector activity: one chosen row per (sector, year), the preferred metric.

    Production is what needs magnets; sales, then installations, stand in where it is not known
    (:data:`ACTIVITY_METRIC_PREFERENCE`). The engine's demand takes each sector's latest year of
    these rows and the stock model the whole series, so both rest on one rule.
    """
    rows = matching(dataset, "sector_activity", country=country)
    if sector is not None:
        rows = rows[rows["sector"] == sector]
    rank = {m: i for i, m in enumerate(ACTIVITY_METRIC_PREFERENCE)}
    ranked = rows.assign(_rank=rows["metric"].map(rank).fillna(len(rank)))
    ranked = ranked.sort_values(["sector", "year", "_rank"], kind="stable")
    return ranked.groupby(["sector", "year"], sort=False).head(1).drop(columns="_rank")


def growth_rows(
    dataset: Dataset, country: str, sectors: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Return the growth row each sector uses: its own latest chosen row, else the country's 'all'.

    ``demand_growth.csv`` holds each sector's rate (observed years, and a forward rate in the
    latest year); a sector without a row of its own grows at the country's economy-wide rate, the
    row with sector ``all`` (for India, magnet consumption doubling 2025-2030, PIB 2025: 14.87% a
    year). A sector with neither is left out (the caller holds it constant and says so). The
    engine's demand and the in-use stock model both read this.
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


@dataclass(frozen=True)
class Intensity:
    """A sector's magnet intensity, its share of units, and the factor to t magnet per unit.

    Attributes
    ----------
    sector, material
        The sector and the magnet it uses.
    intensity
        The intensities.csv row of metric ``intensity`` (hidden columns kept, for messages).
    share
        The row of metric ``share_of_units`` for the same magnet, or None (all units use it).
    to_tonnes
        Factor from the intensity's unit to t magnet per unit of activity.
    """

    sector: str
    material: str
    intensity: dict[str, object]
    share: dict[str, object] | None
    to_tonnes: float


def magnet_intensities(dataset: Dataset, sector: str) -> tuple[Intensity, ...]:
    """Return a sector's magnet intensities in the unit its activity needs (intensities.csv).

    The intensity of a sector counted in units per year is in kg magnet per unit, of one counted
    in MW per year in t magnet per MW (:data:`INTENSITY_UNIT_FOR_ACTIVITY`); an REO-basis figure
    (``kg_reo_*``) is kept for reference and skipped. The engine's demand and the stock model
    both read this, so a row in the wrong unit is refused by both (the stock model used to pass
    over it).

    Raises
    ------
    rareflow.errors.DataError
        Naming each intensity row whose unit does not fit its sector's activity.
    """
    sectors = dataset.table("sectors").set_index("sector")
    activity_unit = str(sectors.loc[sector, "activity_unit"])
    wanted, to_tonnes = INTENSITY_UNIT_FOR_ACTIVITY[activity_unit]
    rows = matching(dataset, "intensities", sector=sector)
    shares = {str(r["material"]): r for r in records(rows[rows["metric"] == "share_of_units"])}
    out: list[Intensity] = []
    problems: list[Problem] = []
    for it in records(rows[rows["metric"] == "intensity"]):
        unit = str(it["unit"])
        if unit.startswith("kg_reo"):
            continue
        if unit != wanted:
            problems.append(
                Problem(
                    f"unit mismatch: {sector} activity is in {activity_unit}, so its magnet "
                    f"intensity must be in {wanted}; got '{unit}'",
                    str(it["_origin"]),
                    int(str(it["_line"])),
                    "unit",
                )
            )
            continue
        material = str(it["material"])
        out.append(Intensity(sector, material, it, shares.get(material), to_tonnes))
    if problems:
        raise DataError(problems)
    return tuple(out)


def process_parameter(dataset: Dataset, name: str, stage: str) -> Fact:
    """Return a chosen figure of process_parameters.csv (a yield, loss or ratio of a stage).

    Raises
    ------
    rareflow.errors.InputError
        If the table has no chosen row of that parameter at that stage.
    """
    row = latest_row(dataset, "process_parameters", parameter=name, stage=stage)
    if row is None:
        raise InputError(f"process_parameters.csv has no chosen row {name} at stage {stage}")
    return fact_of(row, "process_parameters")


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
    found = [
        m for m in dict.fromkeys(map(str, present)) if m in of_stage and m not in NOT_RARE_EARTH
    ]
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
    world = _world_shares(dataset, importer, stage)
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
            parts = _parts(rows, values, total, note)
            shares = {p: v / total for p, v in values.items()}
            if REST_OF_WORLD in shares and world is not None:
                shares, parts, note, srcs = _split_rest(shares, parts, note, srcs, world)
            return Shares(
                importer,
                stage,
                shares,
                "imports",
                srcs,
                note,
                material,
                metric,
                year,
                from_user,
                parts,
            )
    if world is not None:
        rows, values, total = world
        year = int(rows["year"].iloc[0])
        srcs = _sources(rows["source_id"])
        note = f"no import split for {importer}; world {stage} shares ({year}, {', '.join(srcs)})"
        if importer in set(rows["partner"].astype(str)):
            note += f"; {importer}'s own output left out"
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
            _parts(rows, values, total, note),
        )
    return Shares(
        importer,
        stage,
        {REST_OF_WORLD: 1.0},
        "world output",
        (),
        f"no import or world shares of the {stage} stage in the dataset: all from ROW",
    )


def _world_shares(
    dataset: Dataset, importer: str, stage: str
) -> tuple[pd.DataFrame, dict[str, float], float] | None:
    """Return the stage's world output shares of the latest year, the importer's own left out.

    Returns the rows (``country`` renamed ``partner``), partner -> share (positive only) and
    their sum; None if the dataset has none (or only the importer's own).
    """
    world = matching(dataset, "stage_shares", stage=stage, metric="share_of_output")
    if world.empty:
        return None
    world = world[world["year"] == world["year"].max()]
    world = world[world["value"] > 0].rename(columns={"country": "partner"})
    values = {
        str(c): float(v)
        for c, v in zip(world["partner"], world["value"], strict=True)
        if str(c) != importer
    }
    total = math.fsum(values.values())
    if total <= 0:
        return None
    return world, values, total


def _split_rest(
    shares: Mapping[str, float],
    parts: Mapping[str, Fact],
    note: str,
    sources: tuple[str, ...],
    world: tuple[pd.DataFrame, dict[str, float], float],
) -> tuple[dict[str, float], dict[str, Fact], str, tuple[str, ...]]:
    """Split an import split's unnamed rest (``ROW``) over the stage's other world producers.

    The rule (rareflow's): the rest of an importer's supply comes from the producers its trade
    rows do not name, in proportion to their share of world output at the stage (stage_shares.csv,
    latest year), the importer's own output left out; the world's own residual stays ``ROW``.
    Where every world producer is named, ``ROW`` is kept as it is.
    """
    rows, values, _ = world
    others = {p: v for p, v in values.items() if p not in shares or p == REST_OF_WORLD}
    others_total = math.fsum(others.values())
    if others_total <= 0 or set(others) == {REST_OF_WORLD}:
        return dict(shares), dict(parts), note, sources
    rest = shares[REST_OF_WORLD]
    out = {p: v for p, v in shares.items() if p != REST_OF_WORLD}
    out_parts = {p: f for p, f in parts.items() if p != REST_OF_WORLD}
    year = int(rows["year"].iloc[0])
    split_note = (
        f"{note}; the rest ({rest:.3g}) split over the other producers by world output shares "
        f"({year}, stage_shares.csv)"
    )
    for partner, value in others.items():
        share = rest * value / others_total
        out[partner] = out.get(partner, 0.0) + share
        mine = rows[rows["partner"].astype(str) == partner]
        out_parts[partner] = Fact(
            share,
            "fraction",
            (*parts[REST_OF_WORLD].sources, *_sources(mine["source_id"])),
            split_note,
            year,
        )
    world_srcs = _sources(rows.loc[rows["partner"].astype(str).isin(list(others)), "source_id"])
    return out, out_parts, split_note, _sources((*sources, *world_srcs))


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


@dataclass(frozen=True)
class Coverage:
    """What the dataset holds for a focal country, as the engine needs it.

    Attributes
    ----------
    country
        The focal country.
    missing
        Figures without which the country cannot be run, each naming its table (empty: it can).
    gaps
        Figures the run goes without, each naming its table and what the run assumes instead.
    """

    country: str
    missing: tuple[str, ...]
    gaps: tuple[str, ...]


def coverage(dataset: Dataset, country: str, *, cover_given: bool = False) -> Coverage:
    """Return what the dataset lacks to run ``country`` as a focal country.

    A focal country needs: a row of countries.csv; the activity of at least one sector
    (sector_activity.csv) whose magnets have an intensity (intensities.csv); its industry's magnet
    cover (inventories.csv, unless the scenario sets ``parameters.industry_cover_weeks``:
    ``cover_given``). Sectors without activity, sectors without growth (demand_growth.csv: the
    run holds their requirement flat) and stages without import shares (the world's output shares
    stand in) are gaps, not refusals.
    """
    missing: list[str] = []
    gaps: list[str] = []
    if country not in set(dataset.table("countries")["country"].astype(str)):
        missing.append(f"countries.csv: no row for {country} (ISO 3166-1 alpha-3 codes)")
    sectors = [str(s) for s in dataset.table("sectors")["sector"]]
    activity = matching(dataset, "sector_activity", country=country)
    with_activity = set(activity["sector"].astype(str))
    intensities = dataset.chosen("intensities")
    with_intensity = set(
        intensities.loc[intensities["metric"] == "intensity", "sector"].astype(str)
    )
    usable = with_activity & with_intensity
    if not usable:
        missing.append(
            f"sector_activity.csv: no chosen activity of any magnet-using sector of {country} "
            f"(sectors: {', '.join(sectors)})"
        )
    else:
        absent = [s for s in sectors if s not in with_activity]
        if absent:
            gaps.append(
                f"sector_activity.csv: no activity of {', '.join(absent)} in {country}: "
                "those sectors are left out"
            )
    growth = set(matching(dataset, "demand_growth", country=country)["sector"].astype(str))
    flat = sorted(usable - growth)
    if flat:
        gaps.append(
            f"demand_growth.csv: no growth of {', '.join(flat)} in {country}: requirement held flat"
        )
    if not cover_given:
        cover = matching(dataset, "inventories", country=country, holder="industry", metric="cover")
        if cover.empty:
            missing.append(
                f"inventories.csv: no industry magnet cover (holder industry, metric cover) for "
                f"{country}; or set parameters.industry_cover_weeks in the scenario"
            )
    trade = matching(dataset, "trade", importer=country)
    for stage in ("mining", "separation", "metal", "magnet"):
        materials = _stage_materials(dataset, stage, trade["material"])
        rows = trade[trade["material"].isin(materials) & (trade["partner"] != WORLD)]
        if rows.empty:
            gaps.append(
                f"trade.csv: no partner split of {country}'s {stage} imports: world output "
                "shares (stage_shares.csv) stand in"
            )
    return Coverage(country, tuple(missing), tuple(gaps))


@dataclass(frozen=True)
class SectorSplit:
    """A sector's magnet need split into parts: routes, grade classes or buyer groups.

    Attributes
    ----------
    country, sector
        Whose need.
    dimension
        ``route`` (magnet_routes.csv), ``grade`` (magnet_grades.csv) or ``buyer_group``
        (buyer_groups.csv).
    parts
        Part -> its share of the sector's need as a :class:`Fact` (fraction, with range and
        source), in file order. The shares sum to 1 within the table's stated tolerance (the
        loader checks it).
    """

    country: str
    sector: str
    dimension: Literal["route", "grade", "buyer_group"]
    parts: Mapping[str, Fact]

    @property
    def shares(self) -> dict[str, float]:
        """Part -> share (fraction)."""
        return {k: f.value for k, f in self.parts.items()}

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct source ids of the parts, in first-seen order."""
        return _sources([s for f in self.parts.values() for s in f.sources])


@dataclass(frozen=True)
class BuyerGroup:
    """One buyer group of a sector (buyer_groups.csv).

    Attributes
    ----------
    country, sector, group
        Which group.
    route
        Its main route (a route of magnet_routes.csv).
    share
        Its share of the sector's magnet need (fraction).
    cover
        Its stock cover when a control starts, in weeks (None: no row).
    adaptation_lag
        Time to its main adaptation, in months (None: no row).
    """

    country: str
    sector: str
    group: str
    route: str
    share: Fact
    cover: Fact | None
    adaptation_lag: Fact | None


def _splits(
    dataset: Dataset,
    table: str,
    country: str,
    part: str,
    dimension: Literal["route", "grade", "buyer_group"],
    **where: object,
) -> dict[str, SectorSplit]:
    """Sector -> its split over ``part``: the latest chosen row of each (sector, part)."""
    rows = latest_rows(matching(dataset, table, country=country, **where), ("sector", part))
    out: dict[str, dict[str, Fact]] = {}
    for r in records(rows.sort_index()):
        out.setdefault(str(r["sector"]), {})[str(r[part])] = fact_of(r, table)
    return {s: SectorSplit(country, s, dimension, parts) for s, parts in out.items()}


def magnet_routes(dataset: Dataset, country: str) -> dict[str, SectorSplit]:
    """Return how each sector's magnet need arrives (magnet_routes.csv), by sector.

    Routes are ``bare_import`` (magnets imported as such), ``embedded_import`` (inside imported
    motors, sub-assemblies and modules) and ``domestic``. For India the bare shares weighted by
    the bottom-up requirement come near the 870 t of bare rare-earth magnets imported in
    FY2024-25 (commerce data reported in October 2025); the shares themselves are labelled
    assumptions with ranges. Sectors without rows are absent.
    """
    return _splits(dataset, "magnet_routes", country, "route", "route")


def magnet_grades(dataset: Dataset, country: str) -> dict[str, SectorSplit]:
    """Return each sector's magnet need by grade class (magnet_grades.csv ``share_of_need``).

    Classes: ``ndfeb_heavy`` (Dy and/or Tb, high operating temperature), ``ndfeb_light``
    (Dy/Tb-free), ``ndfeb_bonded`` and ``smco``.
    """
    return _splits(dataset, "magnet_grades", country, "grade", "grade", metric="share_of_need")


def grade_content(dataset: Dataset, grade: str, element: str, country: str = WORLD) -> Fact:
    """Return the Dy or Tb mass fraction of a grade class (magnet_grades.csv, sector ``all``).

    The country's own row is used where it has one, else the world (``WLD``) row.

    Raises
    ------
    rareflow.errors.InputError
        If the element is not Dy or Tb, or no row gives the content.
    """
    metric = f"content_{element.lower()}"
    if element not in ("Dy", "Tb"):
        raise InputError(f"magnet_grades.csv gives Dy and Tb content only; got '{element}'")
    for where in dict.fromkeys((country, WORLD)):
        row = latest_row(
            dataset, "magnet_grades", country=where, sector="all", grade=grade, metric=metric
        )
        if row is not None:
            return fact_of(row, "magnet_grades")
    raise InputError(
        f"magnet_grades.csv has no chosen {metric} row of grade {grade} (country {country} or "
        f"{WORLD}, sector all)"
    )


def buyer_groups(dataset: Dataset, country: str) -> dict[str, tuple[BuyerGroup, ...]]:
    """Return each sector's buyer groups with share, route, cover and lag (buyer_groups.csv).

    Each group's latest chosen row of each metric; cover in weeks and lag in months (any time
    unit converted). Groups without a ``share_of_sector`` row are left out, since a group with
    no share of the need takes no part in an allocation.
    """
    rows = latest_rows(
        matching(dataset, "buyer_groups", country=country), ("sector", "group", "metric")
    ).sort_index()
    found: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    for r in records(rows):
        found.setdefault((str(r["sector"]), str(r["group"])), {})[str(r["metric"])] = r
    out: dict[str, list[BuyerGroup]] = {}
    for (sector, group), metrics in found.items():
        share = metrics.get("share_of_sector")
        if share is None:
            continue
        cover = metrics.get("cover")
        lag = metrics.get("adaptation_lag")
        out.setdefault(sector, []).append(
            BuyerGroup(
                country,
                sector,
                group,
                str(share["route"]),
                fact_of(share, "buyer_groups"),
                None if cover is None else fact_of(cover, "buyer_groups").to("weeks"),
                None if lag is None else fact_of(lag, "buyer_groups").to("months"),
            )
        )
    return {s: tuple(g) for s, g in out.items()}


@dataclass(frozen=True)
class Mechanism:
    """One adaptation mechanism's figures (adaptation.csv).

    Attributes
    ----------
    country, mechanism
        Which mechanism.
    figures
        (sector or ``all``, parameter) -> figure, in file order.
    """

    country: str
    mechanism: str
    figures: Mapping[tuple[str, str], Fact]

    def get(self, parameter: str, sector: str) -> Fact | None:
        """Return a parameter for a sector, falling back to the ``all`` row, or None.

        The key asked for is recorded (:class:`rareflow.data.schema.Reads`): the schema declares
        the (mechanism, parameter) keys the model reads, and a user's row with another is refused
        at load.

        Raises
        ------
        KeyError
            If the key is not one the schema declares as read (a programming error).
        """
        record_read("adaptation", self.mechanism, parameter)
        return self.figures.get((sector, parameter), self.figures.get(("all", parameter)))


def adaptation(dataset: Dataset, country: str) -> dict[str, Mechanism]:
    """Return the adaptation mechanisms of a country (adaptation.csv), by mechanism.

    Each (mechanism, sector, parameter)'s latest chosen row: lag, capacity, max_share,
    ndpr_share (see the schema).
    """
    rows = latest_rows(
        matching(dataset, "adaptation", country=country), ("mechanism", "sector", "parameter")
    ).sort_index()
    found: dict[str, dict[tuple[str, str], Fact]] = {}
    for r in records(rows):
        key = (str(r["sector"]), str(r["parameter"]))
        found.setdefault(str(r["mechanism"]), {})[key] = fact_of(r, "adaptation")
    return {m: Mechanism(country, m, figures) for m, figures in found.items()}
