"""``rareflow stress-test``: time-to-survive and performance impact of each node's disruption.

Either a network file (``--network``) or rareflow's own chain of a focal country (``--country``),
built by :mod:`rareflow.indicators.chain_network`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rareflow.cli.output import Format, emit
from rareflow.data.load import load_dataset
from rareflow.errors import InputError
from rareflow.indicators.chain_network import (
    DEFAULT_SECTOR_WEIGHTS,
    DEFAULT_STATUSES,
    ChainNetwork,
    build_stress_network,
    multi_period_rows,
    provenance,
    stress_rows,
)
from rareflow.indicators.stress_test import load_network, stress_test
from rareflow.model import build_chain

_COLUMNS = ("node", "tts", "ttr", "performance_impact", "exposed", "lost_demand")
_CHAIN_COLUMNS = (
    "node",
    "tts_weeks",
    "ttr_weeks",
    "exposed",
    "performance_impact",
)
_MULTI_COLUMNS = (
    "node",
    "tts_weeks",
    "tts_censored",
    "ttr_weeks",
    "exposed",
    "performance_impact",
    "weighted_impact",
)


def _parse_weights(items: list[str]) -> dict[str, float]:
    """Parse ``SECTOR=WEIGHT`` options into sector weights (defaults kept unless overridden)."""
    weights = dict(DEFAULT_SECTOR_WEIGHTS)
    for item in items:
        sector, sep, text = item.partition("=")
        try:
            weight = float(text)
        except ValueError:
            weight = -1.0
        if not sep or not sector or not weight > 0:
            raise InputError(
                f"--priority '{item}': expected SECTOR=WEIGHT with a positive weight, "
                "e.g. defence=10"
            )
        weights[sector] = weight
    return weights


def _emit_chain(cn: ChainNetwork, rows: list[dict[str, Any]], fmt: Format, multi: bool) -> None:
    title = (
        f"Stress test of {cn.country}'s chain "
        f"({'multi-period, ' + str(cn.network.horizon) + ' weeks' if multi else 'single-period'}"
        "; weeks; impact in t of magnet lost)"
    )
    if fmt is Format.JSON:
        document = {
            "country": cn.country,
            "model": "multi-period" if multi else "single-period",
            "period": "week",
            "performance_impact_unit": "t_magnet (margin 1 per t: no cited margin)",
            "horizon_weeks": cn.network.horizon if multi else None,
            "nodes": rows,
            "assumptions": cn.assumptions,
            "provenance": provenance(cn),
        }
        emit(rows, fmt, document=document)
        return
    if not multi:
        emit(rows, fmt, title=title, columns=_CHAIN_COLUMNS)
        return
    if fmt is Format.CSV:
        emit(rows, fmt, columns=(*_MULTI_COLUMNS, "lost_by_sector"))
        return
    emit(rows, fmt, title=title, columns=_MULTI_COLUMNS)
    sectors = sorted({s for r in rows for s in r["lost_by_sector"]})
    detail = [{"node": r["node"]} | r["lost_by_sector"] for r in rows if r["lost_by_sector"]]
    if detail:
        emit(
            detail,
            fmt,
            title="Magnets lost by sector (t); one optimal split among equally weighted sectors",
            columns=("node", *sectors),
        )


def stress_test_command(
    network: Annotated[
        Path | None,
        typer.Option(
            "--network",
            help="Network JSON file: nodes, parts, recovery (see docs/indicators.md).",
        ),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            help="Stress rareflow's own chain of this focal country (ISO alpha-3, e.g. IND).",
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            max=1000,
            help="With --country: run the multi-period model over this many weeks "
            "(stockpile release, sector priorities).",
        ),
    ] = None,
    stockpile_t: Annotated[
        float,
        typer.Option(
            "--stockpile-t", min=0.0, help="With --horizon: a magnet stockpile (t) to release."
        ),
    ] = 0.0,
    stockpile_release: Annotated[
        float | None,
        typer.Option(
            "--stockpile-release", min=0.0, help="With --horizon: most released per week (t)."
        ),
    ] = None,
    priority: Annotated[
        list[str] | None,
        typer.Option(
            "--priority",
            help="With --horizon: SECTOR=WEIGHT priority of a sector's losses (repeatable; "
            "default defence=10, others 1).",
        ),
    ] = None,
    under_construction: Annotated[
        bool,
        typer.Option(
            "--count-under-construction",
            help="With --country: also count home plants under construction at their stated "
            "capacity (by default only operating plants count, as in the engine).",
        ),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
) -> None:
    """Disrupt each node in turn: TTS, performance impact, exposure (TTR > TTS).

    Method of Simchi-Levi et al. (2015), Interfaces 45(5):375-390. With --network, the nodes of
    ``recovery`` in the file's own periods; an infinite TTS is printed empty in the table and as
    null in JSON. With --country, the chain's supplier nodes in weeks, impact in tonnes of magnet
    lost (see docs/indicators.md for every assumption).
    """
    if (network is None) == (country is None):
        raise InputError("give exactly one of --network FILE or --country CODE")
    multi_only = stockpile_t > 0 or stockpile_release is not None or bool(priority)
    if network is not None:
        if horizon is not None or multi_only or under_construction:
            raise InputError(
                "--horizon, --stockpile-t, --stockpile-release, --priority and "
                "--count-under-construction "
                "go with --country"
            )
        results = stress_test(load_network(network))
        emit(
            [r.as_row() for r in results],
            fmt,
            title=f"Stress test of {network.name}",
            columns=_COLUMNS,
        )
        return
    if multi_only and horizon is None:
        raise InputError(
            "--stockpile-t, --stockpile-release and --priority need --horizon WEEKS "
            "(the multi-period model)"
        )
    dataset = load_dataset()
    chain = build_chain(str(country), dataset)
    cn = build_stress_network(
        chain,
        dataset,
        statuses=(*DEFAULT_STATUSES, "under_construction")
        if under_construction
        else DEFAULT_STATUSES,
        sector_weights=_parse_weights(priority or []),
        stockpile_t=stockpile_t,
        stockpile_release_t_per_week=stockpile_release,
        horizon=horizon,
    )
    multi = horizon is not None
    rows = multi_period_rows(cn) if multi else stress_rows(cn)
    _emit_chain(cn, rows, fmt, multi)


def register(app: typer.Typer) -> None:
    """Add the ``stress-test`` command to ``app``."""
    app.command("stress-test")(stress_test_command)
