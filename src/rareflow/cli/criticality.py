"""``rareflow criticality``: EU criticality indicators (JRC 2017 methodology)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.cli.output import Format, emit
from rareflow.indicators.eu_supply_risk import eu_supply_risk, load_materials

app = typer.Typer(
    help="EU criticality indicators (JRC 2017 methodology, used for the 2020 and 2023 EU lists).",
    no_args_is_help=True,
)

_COLUMNS = (
    "material",
    "supply_risk",
    "hhi_wgi_t_global",
    "hhi_wgi_t_sourcing",
    "sourcing",
    "note",
)


@app.command("eu-sr")
def eu_sr(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            help="JSON list of materials with shares, WGI, trade factors, IR, EoL-RIR, SI.",
        ),
    ],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
) -> None:
    """Supply risk SR of each material by the EU (JRC 2017) methodology.

    SR = [HHI_GS * IR/2 + HHI_EU * (1 - IR/2)] * (1 - EoL_RIR) * SI_SR, with
    HHI = sum_c S_c^2 * WGI_c * t_c / 10,000 (shares in percent, WGI scaled 0..10).
    Shares adding up to at most 2 points over 100 % (rounding in published tables) are scaled to
    100 % and the note says so; more is refused.
    """
    results = [eu_supply_risk(m) for m in load_materials(input_path)]
    emit(
        [r.as_row() for r in results],
        fmt,
        title=f"EU supply risk ({input_path.name})",
        columns=_COLUMNS,
    )
