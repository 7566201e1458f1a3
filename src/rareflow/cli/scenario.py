"""``rareflow scenario``: list, show and validate scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.cli.options import CalibrationOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, console, emit, err_console
from rareflow.scenario.load import load_scenario, preset_names, preset_text

app = typer.Typer(
    help="Scenarios: list presets, show one as YAML, validate a file.", no_args_is_help=True
)


@app.command("list")
def list_presets(fmt: FormatOption = Format.TABLE) -> None:
    """List the presets that ship with rareflow."""
    rows = []
    for name in preset_names():
        sc = load_scenario(name)
        rows.append(
            {
                "preset": name,
                "country": sc.country,
                "start": sc.start.isoformat(),
                "months": sc.horizon_months,
                "shocks": len(sc.shocks),
                "levers": len(sc.levers),
                "description": sc.description.strip(),
            }
        )
    emit(rows, fmt, title="Scenario presets", ids=True)


@app.command("show")
def show(
    preset: Annotated[str, typer.Argument(help="A preset name (see `scenario list`).")],
) -> None:
    """Print a preset's YAML, to start a scenario of your own from."""
    console.file.write(preset_text(preset))


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A scenario YAML file, or a preset name.")],
    data: DataDirOption = None,
    calibration: CalibrationOption = None,
) -> None:
    """Validate a scenario as `run` would: exit 0 and say so, or name every problem and exit 2.

    The scenario is checked field by field, then compiled against the dataset and run for one
    draw (countries, partners, table filters, prices a lever needs): what `run` refuses is refused
    here. Levers that cannot act within the horizon are warned about.
    """
    # The dataset and the engine load here, not with the module: `scenario list` stays light.
    from rareflow.data.load import load_dataset  # noqa: PLC0415
    from rareflow.engine.run import check_scenario  # noqa: PLC0415

    sc = load_scenario(file)
    warnings = check_scenario(sc, load_dataset(data, calibration))
    for warning in warnings:
        err_console.print(f"warning: {warning}", style="yellow", markup=False)
    typer.echo(
        f"ok: scenario '{sc.name}' for {sc.country}, {sc.horizon_months} months from "
        f"{sc.start:%Y-%m}, {len(sc.shocks)} shock(s), {len(sc.levers)} lever(s), "
        f"{sc.draws} draws, seed {sc.seed}" + (f"; {len(warnings)} warning(s)" if warnings else "")
    )
