"""``rareflow exposure``: who is really short - each sector's routes, grades and buyer groups.

The figures come from the query layer (:mod:`rareflow.data.query`: magnet_routes, magnet_grades,
buyer_groups, adaptation) with their sources; the requirement per sector from
:func:`rareflow.model.demand.sector_demand`. The engine does not use these tables yet (issue 16):
the view says so on every format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from rareflow.cli.options import CountryOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, console, emit
from rareflow.data import query
from rareflow.data.load import Dataset, load_dataset
from rareflow.errors import InputError
from rareflow.model.demand import sector_demand

ENGINE_NOTE = (
    "The engine steps these buyer groups, routes and grades (`rareflow run ... --by buyer`): "
    "each group holds its own cover, only bare magnets in grades a control reaches wait for "
    "its licence, and components are reached only by a content rule. Shares, covers, grades "
    "and intensities are drawn over their ranges in every ensemble."
)
BARE = "bare_import"
GRADES_WITH_CONTENT = ("ndfeb_heavy", "ndfeb_light")
"""Grade classes whose Dy and Tb content the view shows."""


@dataclass(frozen=True)
class Exposure:
    """What the query layer says about a country's sectors, with the requirement per sector.

    Attributes
    ----------
    country, data_version
        Whose exposure, and the dataset's version.
    need
        Sector -> magnet requirement, t per year (the engine's bottom-up demand).
    routes, grades
        Sector -> its split by route and by grade class.
    groups
        Sector -> its buyer groups.
    content
        (grade class, element) -> Dy or Tb mass fraction.
    mechanisms
        Adaptation mechanisms by name.
    recorded_bare
        The latest recorded bare rare-earth magnet imports (trade.csv), if any.
    """

    country: str
    data_version: str
    need: dict[str, float]
    routes: dict[str, query.SectorSplit]
    grades: dict[str, query.SectorSplit]
    groups: dict[str, tuple[query.BuyerGroup, ...]]
    content: dict[tuple[str, str], query.Fact]
    mechanisms: dict[str, query.Mechanism]
    recorded_bare: query.Fact | None

    @property
    def sectors(self) -> list[str]:
        """Sectors with any figure, routes' order first."""
        return list(dict.fromkeys([*self.routes, *self.grades, *self.groups, *self.need]))

    def sources(self, sector: str) -> tuple[str, ...]:
        """Distinct sources of a sector's routes, grades and buyer groups."""
        facts: list[query.Fact] = []
        for split in (self.routes.get(sector), self.grades.get(sector)):
            facts.extend(split.parts.values() if split else ())
        for g in self.groups.get(sector, ()):
            facts.extend(f for f in (g.share, g.cover, g.adaptation_lag) if f is not None)
        return tuple(dict.fromkeys(s for f in facts for s in f.sources))

    def implied_bare(self) -> dict[str, float]:
        """Bare-magnet imports implied by the route shares: t per year, central, low and high."""
        out = {"value": 0.0, "low": 0.0, "high": 0.0}
        for sector, tonnes in self.need.items():
            split = self.routes.get(sector)
            share = split.parts.get(BARE) if split else None
            if share is None:
                continue
            out["value"] += tonnes * share.value
            out["low"] += tonnes * (share.value if share.low is None else share.low)
            out["high"] += tonnes * (share.value if share.high is None else share.high)
        return out


def exposure_of(dataset: Dataset, country: str) -> Exposure:
    """Read a country's routes, grades, buyer groups and adaptation mechanisms.

    Raises
    ------
    rareflow.errors.InputError
        If the dataset has no route, grade or buyer-group rows for the country.
    """
    routes = query.magnet_routes(dataset, country)
    grades = query.magnet_grades(dataset, country)
    groups = query.buyer_groups(dataset, country)
    if not (routes or grades or groups):
        raise InputError(
            f"the dataset has no magnet_routes, magnet_grades or buyer_groups rows for {country}: "
            "add them to your own tables (see docs/dataset.md) or choose a country that has them "
            "(IND)"
        )
    demand = sector_demand(dataset, country).demand
    need = {str(s): float(demand.sel(sector=s).sum()) for s in demand.coords["sector"].values}
    content: dict[tuple[str, str], query.Fact] = {}
    for grade in GRADES_WITH_CONTENT:
        for element in ("Dy", "Tb"):
            try:
                content[(grade, element)] = query.grade_content(dataset, grade, element, country)
            except InputError:
                continue
    recorded = query.latest(
        dataset,
        "trade",
        importer=country,
        partner=query.WORLD,
        material="magnets_rare_earth",
        metric="quantity",
    )
    return Exposure(
        country,
        dataset.version,
        need,
        routes,
        grades,
        groups,
        content,
        query.adaptation(dataset, country),
        recorded,
    )


def _fact(fact: query.Fact | None) -> dict[str, Any] | None:
    """Return a figure as JSON: value, range, unit, year, sources, note."""
    if fact is None:
        return None
    return {
        "value": fact.value,
        "low": fact.low,
        "high": fact.high,
        "unit": fact.unit,
        "year": fact.year,
        "sources": list(fact.sources),
        "note": fact.note,
    }


def document(e: Exposure) -> dict[str, Any]:
    """Return the JSON document: per sector need, routes, grades, buyer groups, sources."""
    return {
        "country": e.country,
        "data_version": e.data_version,
        "engine_uses_these": False,
        "note": ENGINE_NOTE,
        "sectors": [
            {
                "sector": sector,
                "requirement_t_per_year": e.need.get(sector),
                "routes": {k: _fact(f) for k, f in _parts(e.routes, sector).items()},
                "grades": {k: _fact(f) for k, f in _parts(e.grades, sector).items()},
                "buyer_groups": [
                    {
                        "group": g.group,
                        "route": g.route,
                        "share": _fact(g.share),
                        "cover_weeks": _fact(g.cover),
                        "adaptation_lag_months": _fact(g.adaptation_lag),
                    }
                    for g in e.groups.get(sector, ())
                ],
                "sources": list(e.sources(sector)),
            }
            for sector in e.sectors
        ],
        "grade_content": [
            {"grade": grade, "element": element, **(_fact(f) or {})}
            for (grade, element), f in e.content.items()
        ],
        "adaptation": [
            {"mechanism": m.mechanism, "sector": sector, "parameter": parameter, **(_fact(f) or {})}
            for m in e.mechanisms.values()
            for (sector, parameter), f in m.figures.items()
        ],
        "bare_import_check": {
            "implied_bare_imports_t_per_year": e.implied_bare(),
            "recorded_bare_imports": _fact(e.recorded_bare),
            "covered_sectors": [s for s in e.need if s in e.routes],
        },
    }


def _parts(splits: dict[str, query.SectorSplit], sector: str) -> dict[str, query.Fact]:
    split = splits.get(sector)
    return dict(split.parts) if split else {}


def _pct(fact: query.Fact, digits: int = 0) -> str:
    """Return a share as '60% (40-80)'."""
    text = f"{100 * fact.value:.{digits}f}%"
    if fact.low is not None and fact.high is not None:
        text += f" ({100 * fact.low:.{digits}f}-{100 * fact.high:.{digits}f})"
    return text


def _amount(fact: query.Fact | None) -> str:
    """Return a figure as '12 (8-16) weeks', or '' when missing."""
    if fact is None:
        return ""
    text = f"{fact.value:,.4g}"
    if fact.low is not None and fact.high is not None:
        text += f" ({fact.low:,.4g}-{fact.high:,.4g})"
    elif fact.low is not None:
        text += f" (at least {fact.low:,.4g})"
    return f"{text} {fact.unit}"


def _split_text(parts: dict[str, query.Fact]) -> str:
    if not parts:
        return "no rows"
    return "; ".join(f"{part} {_pct(f)}" for part, f in parts.items() if f.value > 0)


def sector_rows(e: Exposure) -> list[dict[str, Any]]:
    """One row per sector: requirement, routes, grades, sources."""
    return [
        {
            "sector": sector,
            "need (t/yr)": f"{e.need[sector]:,.0f}" if sector in e.need else "",
            "routes": _split_text(_parts(e.routes, sector)),
            "grades": _split_text(_parts(e.grades, sector)),
            "sources": ", ".join(e.sources(sector)),
        }
        for sector in e.sectors
    ]


def group_rows(e: Exposure) -> list[dict[str, Any]]:
    """One row per buyer group: route, share, cover, lag, sources."""
    return [
        {
            "sector": sector,
            "group": g.group,
            "route": g.route,
            "share": _pct(g.share),
            "cover": _amount(g.cover),
            "lag": _amount(g.adaptation_lag),
            "sources": ", ".join(
                dict.fromkeys(
                    s for f in (g.share, g.cover, g.adaptation_lag) if f for s in f.sources
                )
            ),
        }
        for sector in e.sectors
        for g in e.groups.get(sector, ())
    ]


def mechanism_rows(e: Exposure) -> list[dict[str, Any]]:
    """One row per adaptation figure."""
    return [
        {
            "mechanism": m.mechanism,
            "sector": sector,
            "parameter": parameter,
            "value": _amount(f),
            "sources": ", ".join(f.sources),
        }
        for m in e.mechanisms.values()
        for (sector, parameter), f in m.figures.items()
    ]


def long_rows(e: Exposure) -> list[dict[str, Any]]:
    """Every figure of the view, one a row (the CSV format)."""
    rows: list[dict[str, Any]] = []

    def add(sector: str, what: str, item: str, f: query.Fact | None, detail: str = "") -> None:
        if f is not None:
            rows.append(
                {
                    "sector": sector,
                    "what": what,
                    "item": item,
                    "detail": detail,
                    "value": f.value,
                    "low": f.low,
                    "high": f.high,
                    "unit": f.unit,
                    "year": f.year,
                    "sources": ";".join(f.sources),
                }
            )

    for sector in e.sectors:
        if sector in e.need:
            need = query.Fact(e.need[sector], "t_magnet_per_year", (), "bottom-up requirement")
            add(sector, "requirement", "magnet", need, "intensities.csv x sector_activity.csv")
        for k, f in _parts(e.routes, sector).items():
            add(sector, "route", k, f)
        for k, f in _parts(e.grades, sector).items():
            add(sector, "grade", k, f)
        for g in e.groups.get(sector, ()):
            add(sector, "buyer_group_share", g.group, g.share, g.route)
            add(sector, "buyer_group_cover", g.group, g.cover, g.route)
            add(sector, "buyer_group_lag", g.group, g.adaptation_lag, g.route)
    for (grade, element), f in e.content.items():
        add("all", "grade_content", f"{grade}:{element}", f)
    for m in e.mechanisms.values():
        for (sector, parameter), f in m.figures.items():
            add(sector, "adaptation", f"{m.mechanism}:{parameter}", f)
    return rows


def check_line(e: Exposure) -> str:
    """Return the bare imports the route shares imply, against the recorded ones."""
    implied = e.implied_bare()
    covered = [s for s in e.need if s in e.routes]
    line = (
        f"Bare magnets implied by the route shares: {implied['value']:,.0f} t/yr "
        f"({implied['low']:,.0f}-{implied['high']:,.0f}) over {len(covered)} sectors"
    )
    if e.recorded_bare is not None:
        r = e.recorded_bare
        line += (
            f"; recorded bare rare-earth magnet imports: {r.value:,.0f} {r.unit} "
            f"(FY{r.year}, {', '.join(r.sources)}"
            + (
                "; UNVERIFIED: the report behind it was not found, see the source"
                if "UNVERIFIED" in r.note
                else ""
            )
            + ")"
        )
    return line + "."


def register(app: typer.Typer) -> None:
    """Add the ``exposure`` command to the root app."""

    @app.command("exposure")
    def exposure(
        country: CountryOption = "IND",
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
    ) -> None:
        """Who is short: each sector's magnet routes, grades and buyer groups, with sources."""
        e = exposure_of(load_dataset(data), country.upper())
        if fmt is Format.JSON:
            emit([], fmt, document=document(e))
            return
        if fmt is Format.CSV:
            emit(long_rows(e), fmt)
            return
        emit(
            sector_rows(e),
            fmt,
            title=f"{e.country}: how magnets reach each sector (data version {e.data_version})",
        )
        emit(group_rows(e), fmt, title="Buyer groups: share of the sector, stock cover, lag")
        content = [
            {
                "grade": grade,
                "element": element,
                "mass fraction": _pct(f, 1),
                "sources": ", ".join(f.sources),
            }
            for (grade, element), f in e.content.items()
        ]
        if content:
            emit(content, fmt, title="Dy and Tb content of the grade classes")
        emit(mechanism_rows(e), fmt, title="Adaptation mechanisms: lag, capacity, cost")
        console.print(check_line(e))
        console.print(ENGINE_NOTE)
