"""``rareflow run``: run a scenario, store it, and print the shortfall summary by sector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.analysis.summary import sector_summary, summary_rows
from rareflow.cli.options import (
    CalibrationOption,
    DataDirOption,
    DrawsOption,
    FormatOption,
    SeedOption,
    StoreOption,
)
from rareflow.cli.output import Format, emit, err_console
from rareflow.cli.progress import progress_bar
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario, preset_names, preset_text
from rareflow.store import RunStore
from rareflow.store.records import record_of_run

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or notes.")]


def scenario_text(name_or_path: str) -> str:
    """Return the scenario's YAML as given: the preset's text or the file's."""
    if name_or_path in preset_names():
        return preset_text(name_or_path)
    return Path(name_or_path).read_text(encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the ``run`` command."""

    @app.command("run")
    def run_command(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        draws: DrawsOption = None,
        seed: SeedOption = None,
        fmt: FormatOption = Format.TABLE,
        store: StoreOption = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not keep the run.")] = False,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: QuietOption = False,
    ) -> None:
        """Run a scenario; print first month, months, peak and cumulative shortfall by sector."""
        sc = with_overrides(load_scenario(scenario), draws=draws, seed=seed)
        dataset = load_dataset(data, calibration)
        with progress_bar(f"{sc.name}: {sc.draws:,} draws", quiet) as bar:
            result = run(sc, dataset=dataset, progress=bar)
        summary = sector_summary(result.results, sc.step_months)
        run_id = None
        if not no_store:
            record = record_of_run(result, scenario_text(scenario), dataset.user_dir)
            run_id = RunStore(store).save(record, result.results)
        document = {
            "run_id": run_id,
            "scenario": sc.name,
            "country": sc.country,
            "draws": sc.draws,
            "seed": sc.seed,
            "data_version": result.data_version,
            "code_version": result.code_version,
            "sectors": summary,
            "notes": list(result.notes),
            "warnings": list(result.warnings),
        }
        title = (
            f"{sc.name}: shortfall by sector in {sc.country}, {sc.horizon_months} months "
            f"from {sc.start:%Y-%m}, {sc.draws:,} draws (median [5th..95th percentile])"
        )
        emit(summary_rows(summary), fmt, title=title, document=document)
        if not summary:
            err_console.print(
                f"no sector of {sc.country} has a magnet requirement in the dataset "
                "(sector_activity.csv x intensities.csv); add your own data to see shortfalls"
            )
        for warning in result.warnings:
            err_console.print(f"warning: {warning}", style="yellow", markup=False)
        if not quiet and fmt is Format.TABLE:
            for note in result.notes:
                err_console.print(f"[dim]data: {note}[/dim]")
            if run_id:
                err_console.print(f"stored as run {run_id} (see `rareflow runs show {run_id}`)")
