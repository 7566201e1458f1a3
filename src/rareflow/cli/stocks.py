"""``rareflow stocks``: magnets and rare earths in use in a country, and what recycling returns.

Stocks by sector and element come from :func:`rareflow.stocks.in_use.in_use_stocks`, with each
input's source and basis; ``--recycling-target`` adds a grid of recycling rates run on a scenario
(:func:`rareflow.analysis.recycling.rates_for_target`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from rareflow.analysis.recycling import TargetPoint, rates_for_target, secondary_resources
from rareflow.analysis.summary import format_spread
from rareflow.cli.options import SEED_MAX, CountryOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, console, emit, err_console
from rareflow.cli.progress import progress_bar
from rareflow.data.load import load_dataset
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario
from rareflow.scenario.sampling import design_sampler
from rareflow.stocks.in_use import FIRST_YEAR, LAST_YEAR, InputUse, in_use_stocks, summary_rows

TARGET_SCENARIO = "recycling-quarter-2035"
COLLECTIONS: tuple[float | None, ...] = (None, 0.25, 0.5, 0.75, 1.0)
"""Collection rates of the grid (None: as the scenario sets them)."""
RECOVERIES: tuple[float | None, ...] = (None, 1.0)
PREPROCESSING: tuple[float | None, ...] = (None, 1.0)
NOTES = (
    "Stocks are t of magnet and t of element metal at the end of the year; the spread comes from "
    "draws over every input's published or assumed range (triangular, chosen value as mode).",
    "Tb is 0: the typical sintered NdFeB of magnet_composition.csv lists no Tb (Dy carries the "
    "heavy rare earths); add a Tb row to give it a stock.",
    "Dy's range is wide: 0.6-1.2% is typical, high-temperature grades carry up to 4% "
    "(magnet_composition.csv), and draws span that range.",
)


class Design(StrEnum):
    """Designs of the draws (:class:`rareflow.scenario.sampling.Sampler`)."""

    RANDOM = "random"
    LHS = "lhs"
    SOBOL = "sobol"


def _stock_rows(rows: list[dict[str, Any]], elements: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "sector": r["sector"],
            "magnet (t)": format_spread(r["magnet"]),
            **{f"{e} (t)": format_spread(r[e], digits=1) for e in elements},
        }
        for r in rows
    ]


def _flat_rows(rows: list[dict[str, Any]], elements: list[str]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        for item in ["magnet", *elements]:
            unit = "t_magnet" if item == "magnet" else "t_metal"
            out.append({"sector": r["sector"], "item": item, "unit": unit, **r[item]})
    return out


def _source_rows(sources: tuple[InputUse, ...]) -> list[dict[str, Any]]:
    """Group the inputs by what, source and basis, with the sectors they serve."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for s in sources:
        grouped.setdefault((s.input, s.source_id, s.basis), [])
        if s.sector not in grouped[(s.input, s.source_id, s.basis)]:
            grouped[(s.input, s.source_id, s.basis)].append(s.sector)
    return [
        {"input": what, "sectors": ", ".join(sectors), "source_id": source, "basis": basis}
        for (what, source, basis), sectors in grouped.items()
    ]


def _verdict(points: list[TargetPoint], target: float, by: int) -> str:
    reached = [p for p in points if p.first_month is not None and p.first_month <= f"{by}-12"]
    as_given = next(
        (
            p
            for p in points
            if p.collection is None and p.preprocessing is None and p.recovery is None
        ),
        None,
    )
    given = ""
    if as_given is not None:
        share = format_spread(_pct(as_given.share_in_year), "%", 1)
        given = f"; the rates as the scenario sets them give {share} in {by}"
    if not reached:
        best = max(points, key=lambda p: p.share_in_year["median"] or 0.0)
        return (
            f"{target:.0%} of needs is not reached by {by} at any point of the grid{given}. The "
            f"most it gives is {format_spread(_pct(best.share_in_year), '%', 1)} in {by} "
            f"({_rates(best)})."
        )
    first = min(reached, key=lambda p: str(p.first_month))
    return (
        f"{target:.0%} of needs is reached by {by} at {len(reached)} of {len(points)} points; "
        f"first at {_rates(first)} in {first.first_month}{given}."
    )


def _pct(spread: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else 100.0 * v for k, v in spread.items()}


def _rates(p: TargetPoint) -> str:
    row = p.as_row()
    return ", ".join(f"{k} {row[k]}" for k in ("collection", "preprocessing", "recovery"))


def _target(
    country: str, target: float, by: int, scenario: str, draws: int, data: Any, quiet: bool
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    sc = load_scenario(scenario)
    if sc.country != country:
        raise InputError(
            f"--scenario {scenario} is for {sc.country}, not {country}: give a scenario of "
            f"{country} with a recycling lever"
        )
    with progress_bar(f"{sc.name}: recycling rates", quiet) as bar:
        points = rates_for_target(
            sc,
            target,
            by,
            COLLECTIONS,
            RECOVERIES,
            preprocessing=PREPROCESSING,
            dataset=load_dataset(data),
            draws=draws,
            progress=bar,
        )
    verdict = _verdict(points, target, by)
    rows = [
        {
            "collection": p.as_row()["collection"],
            "preprocessing": p.as_row()["preprocessing"],
            "recovery": p.as_row()["recovery"],
            f"first month at {target:.0%}": p.first_month or "never",
            f"share in {by}": format_spread(_pct(p.share_in_year), "%", 1),
        }
        for p in points
    ]
    document = {
        "target": target,
        "by": by,
        "scenario": sc.name,
        "draws_per_point": draws,
        "share": "recycled rare earths as t of sintered NdFeB over the magnet requirement; first "
        "month: the median over draws of the trailing 12 months' share reaches the target",
        "points": [p.as_row() for p in points],
        "verdict": verdict,
    }
    return document, rows, verdict


def register(app: typer.Typer) -> None:
    """Add the ``stocks`` command to the root app."""

    @app.command("stocks")
    def stocks(
        country: CountryOption = "IND",
        year: Annotated[
            int,
            typer.Option(
                "--year", min=FIRST_YEAR, max=LAST_YEAR, help="Stocks at the end of this year."
            ),
        ] = 2025,
        draws: Annotated[
            int, typer.Option("--draws", "-n", min=1, max=100_000, help="Draws over the ranges.")
        ] = 1000,
        seed: Annotated[
            int, typer.Option("--seed", "-s", min=0, max=SEED_MAX, help="Seed of the draws.")
        ] = 0,
        sampling: Annotated[
            Design,
            typer.Option("--sampling", help="Design of the draws (the scenario sampler's)."),
        ] = Design.RANDOM,
        recycling_target: Annotated[
            float | None,
            typer.Option(
                "--recycling-target",
                help="Also find which collection, pre-processing and recovery rates bring "
                "recycling to this share of magnet needs (e.g. 0.25), and when.",
            ),
        ] = None,
        by: Annotated[
            int | None, typer.Option("--by", help="With --recycling-target: the year to reach it.")
        ] = None,
        scenario: Annotated[
            str,
            typer.Option(
                "--scenario",
                help="With --recycling-target: the scenario whose recycling levers are varied.",
            ),
        ] = TARGET_SCENARIO,
        target_draws: Annotated[
            int,
            typer.Option(
                "--target-draws", min=1, max=10_000, help="With --recycling-target: draws a point."
            ),
        ] = 20,
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")] = False,
    ) -> None:
        """Magnets and Nd, Pr, Dy, Tb in use by sector (median, 5-95%), with every source."""
        code = country.upper()
        if (recycling_target is None) != (by is None):
            raise InputError(
                "--recycling-target and --by go together, e.g. --recycling-target 0.25 --by 2035"
            )
        dataset = load_dataset(data)
        sampler = design_sampler(
            seed,
            sampling.value,
            draws,
            lambda trial: in_use_stocks(dataset, code, year, trial),
        )
        result = in_use_stocks(dataset, code, year, sampler)
        elements = [str(e) for e in result.stocks["element"].to_numpy()]
        rows = summary_rows(result.stocks)
        sources = [s.as_row() for s in result.sources]
        secondary = secondary_resources(dataset, code)
        document: dict[str, Any] = {
            "country": code,
            "year": year,
            "draws": draws,
            "seed": seed,
            "sampling": sampling.value,
            "data_version": dataset.version,
            "units": {"magnet": "t_magnet", "elements": "t_metal (element mass)"},
            "stocks": _flat_rows(rows, elements),
            "sources": sources,
            "secondary_resources": secondary,
            "notes": list(NOTES),
            "recycling_target": None,
        }
        target_rows: list[dict[str, Any]] = []
        verdict = ""
        if recycling_target is not None and by is not None:
            document["recycling_target"], target_rows, verdict = _target(
                code, recycling_target, by, scenario, target_draws, data, quiet
            )
        if fmt is not Format.TABLE:
            emit(_flat_rows(rows, elements), fmt, document=document)
            return
        emit(
            _stock_rows(rows, elements),
            fmt,
            title=f"Magnets and rare earths in use in {code} at the end of {year} (t; median "
            f"[5th..95th percentile] over {draws:,} draws)",
        )
        emit(_source_rows(result.sources), fmt, title="Inputs and their sources")
        if secondary:
            emit(
                secondary,
                fmt,
                title=f"Secondary sources in {code} (secondary_resources.csv; contained and "
                "recoverable REE are all rare earths, element mass, derived)",
                columns=("resource", "metric", "value", "unit", "year", "source_id", "basis"),
            )
        if target_rows:
            emit(
                target_rows,
                fmt,
                title=f"Recycled share of {code}'s magnet needs: rates that reach "
                f"{recycling_target:.0%} by {by} ({scenario}, {target_draws} draws a point)",
            )
            console.print(verdict)
        if not quiet:
            for note in NOTES:
                err_console.print(f"note: {note}", style="dim")
