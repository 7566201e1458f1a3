"""``rareflow stress-test``: time-to-survive and performance impact of each node's disruption."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.cli.output import Format, emit
from rareflow.indicators.stress_test import load_network, stress_test

_COLUMNS = ("node", "tts", "ttr", "performance_impact", "exposed", "lost_demand")


def stress_test_command(
    network: Annotated[
        Path,
        typer.Option(
            "--network",
            help="Network JSON file: nodes, parts, recovery (see docs/indicators.md).",
        ),
    ],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
) -> None:
    """Disrupt each node of ``recovery`` in turn: TTS, performance impact, exposure (TTR > TTS).

    Method of Simchi-Levi et al. (2015), Interfaces 45(5):375-390. An infinite TTS (the
    network never runs short) is printed empty in the table and as null in JSON.
    """
    results = stress_test(load_network(network))
    emit(
        [r.as_row() for r in results],
        fmt,
        title=f"Stress test of {network.name}",
        columns=_COLUMNS,
    )


def register(app: typer.Typer) -> None:
    """Add the ``stress-test`` command to ``app``."""
    app.command("stress-test")(stress_test_command)
