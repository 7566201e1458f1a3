"""``rareflow report``: one self-contained HTML report of a stored run or of a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.cli.options import SEED_MAX, CalibrationOption, DataDirOption, StoreOption
from rareflow.cli.output import err_console
from rareflow.cli.progress import progress_bar
from rareflow.cli.run import QuietOption, scenario_text
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.outputs import output_dir, output_file
from rareflow.report.build import Report, build_report, write_html
from rareflow.report.export import ImageFormat, write_figures
from rareflow.report.kinds import RecordInfo, kind_report
from rareflow.report.source import (
    ReportRun,
    baseline_for,
    from_result,
    from_store,
    shock_alone_for,
)
from rareflow.scenario.load import load_scenario, preset_names
from rareflow.store import RunStore
from rareflow.store.records import RUN_ID_PATTERN, record_of_run


def _run_and_store(
    scenario: str,
    draws: int | None,
    seed: int | None,
    store: RunStore | None,
    dataset: Dataset,
    quiet: bool,
) -> ReportRun:
    """Run a scenario as ``rareflow run`` does, and store it unless ``store`` is None."""
    sc = with_overrides(load_scenario(scenario), draws=draws, seed=seed)
    with progress_bar(f"{sc.name}: {sc.draws:,} draws", quiet) as bar:
        result = run(sc, dataset=dataset, progress=bar)
    run_id = None
    if store is not None:
        record = record_of_run(result, scenario_text(scenario), dataset.user_dir)
        run_id = store.save(record, result.results)
    return from_result(result, run_id)


def _write(
    report: Report, out: Path, figures: Path | None, image_format: ImageFormat, quiet: bool
) -> None:
    """Write the report's HTML (and its figures, if asked) and say where, unless quiet."""
    path = write_html(report, out)
    if figures is not None:
        write_figures(report.figures, figures, image_format)
    if not quiet:
        size = path.stat().st_size / 1e6
        err_console.print(f"report written to {path} ({size:.1f} MB, opens offline)")


def register(app: typer.Typer) -> None:
    """Add the ``report`` command."""

    @app.command("report")
    def report_command(
        source: Annotated[
            str, typer.Argument(help="A run id from the store, a preset name or a scenario YAML.")
        ],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="The HTML file to write.", dir_okay=False)
        ] = Path("report.html"),
        figures: Annotated[
            Path | None,
            typer.Option("--figures", help="Also write each figure to this directory."),
        ] = None,
        image_format: Annotated[
            ImageFormat, typer.Option("--image-format", help="Figure files: png or svg.")
        ] = ImageFormat.PNG,
        draws: Annotated[
            int | None,
            typer.Option("--draws", "-n", min=1, max=10_000_000, help="Draws, for a scenario."),
        ] = None,
        seed: Annotated[
            int | None,
            typer.Option("--seed", "-s", min=0, max=SEED_MAX, help="Seed, for a scenario."),
        ] = None,
        no_baseline: Annotated[
            bool, typer.Option("--no-baseline", help="Do not run the baseline beside the run.")
        ] = False,
        store: StoreOption = None,
        no_store: Annotated[
            bool, typer.Option("--no-store", help="Do not keep a scenario's run.")
        ] = False,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: QuietOption = False,
    ) -> None:
        """Write a self-contained HTML report (opens offline) of a run or a scenario.

        A scenario is run first and stored like `rareflow run` does. The baseline beside it is
        the same scenario without shocks and levers, with the same draws and seed; a scenario
        with levers is also run without them (the shock alone), to show what they avoid.
        Stored ensemble, sweep, sensitivity and optimize runs get a report of their own kind.
        """
        out = output_file(out, "--out")
        if figures is not None:
            output_dir(figures, "--figures", create=False)
        is_run_id = RUN_ID_PATTERN.match(source) is not None and source not in preset_names()
        if is_run_id:
            run_store = RunStore(store, create=False)
            info = run_store.get(source)
            if info.record.kind != "run":
                # Ensembles, sweeps, sensitivity and optimize runs keep other results.
                other = kind_report(RecordInfo(source, info.record), run_store.results(source))
                _write(other, out, figures, image_format, quiet)
                return
        dataset = load_dataset(data, calibration)
        if is_run_id:
            shock = from_store(run_store, source)
        else:
            shock = _run_and_store(
                source, draws, seed, None if no_store else RunStore(store), dataset, quiet
            )
        baseline = alone = None
        if not no_baseline:
            with progress_bar("baseline", quiet) as bar:
                baseline = baseline_for(shock, dataset, bar)
            with progress_bar("the shock without its levers", quiet) as bar:
                alone = shock_alone_for(shock, dataset, bar)
        _write(build_report(shock, baseline, dataset, alone), out, figures, image_format, quiet)
        if not quiet:
            if shock.run_id and not is_run_id:
                err_console.print(f"stored as run {shock.run_id}")
            if figures is not None:
                err_console.print(f"figures written to {figures}/ as {image_format.value}")
