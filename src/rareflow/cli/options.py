"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.cli.output import Format

FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format: table, json or csv.")
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="A directory of user tables that overlay the embedded dataset "
        "(default: $RAREFLOW_DATA).",
        file_okay=False,
    ),
]
CalibrationOption = Annotated[
    str | None,
    typer.Option(
        "--calibration",
        help="Overlay a calibration: a dataset version of fitted parameters, e.g. episode-2010 "
        "(see `rareflow calibrate --list`).",
    ),
]
CountryOption = Annotated[
    str, typer.Option("--country", "-c", help="Focal country, ISO 3166-1 alpha-3 code.")
]
DrawsOption = Annotated[
    int | None,
    typer.Option(
        "--draws", "-n", min=1, max=10_000_000, help="Ensemble size (default: the scenario's)."
    ),
]
SEED_MAX = 2**63 - 1
"""The largest seed a scenario and a run record take (a signed 64-bit integer)."""
SeedOption = Annotated[
    int | None,
    typer.Option("--seed", "-s", min=0, max=SEED_MAX, help="Seed (default: the scenario's)."),
]


def _store_path(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise typer.BadParameter(
            "is empty (it would mean the current directory); give the run store's directory, "
            "or leave --store out for the default"
        )
    return value


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Run store directory (default: $RAREFLOW_STORE, else rareflow's user data directory).",
        callback=_store_path,
    ),
]
"""The run store's directory, as given (``rareflow.store.RunStore`` resolves it)."""
