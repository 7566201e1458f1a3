"""``rareflow backtest`` and ``rareflow calibrate``: the model held against history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rareflow.analysis.backtest import calibrator, episode_runner
from rareflow.cli.options import (
    CalibrationOption,
    DataDirOption,
    DrawsOption,
    FormatOption,
    SeedOption,
)
from rareflow.cli.output import Format, console, emit, err_console
from rareflow.data.load import calibration_names, load_dataset, records
from rareflow.errors import InputError
from rareflow.outputs import output_dir, output_file
from rareflow.report.backtest import write_backtest_html
from rareflow.report.build import write_text_atomic

EpisodeArgument = Annotated[str, typer.Argument(help="The episode: 2010 or 2025.")]
_COMPARISON_COLUMNS = (
    "subject",
    "metric",
    "observed",
    "model",
    "model_5_95",
    "error",
    "unit",
    "error_before_calibration",
    "sources",
)


def register(app: typer.Typer) -> None:
    """Add the ``backtest`` and ``calibrate`` commands."""

    @app.command("backtest")
    def backtest_command(
        episode: EpisodeArgument,
        draws: DrawsOption = None,
        seed: SeedOption = None,
        fmt: FormatOption = Format.TABLE,
        report: Annotated[
            Path | None,
            typer.Option("--report", help="Also write an offline HTML page: model beside data."),
        ] = None,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
    ) -> None:
        """Run an episode and compare the model with cited observations.

        2010: China's 2010-2014 export-quota cuts, world market outside China; the price block
        is fitted to the episode's prices (errors of the fit, and of the dataset's own price
        parameters beside them). 2025: the April 2025 controls as they reached India, set up
        only from information dated before April 2025 (out of sample).
        """
        if report is not None:
            report = output_file(report, "--report")
        runner = episode_runner(episode)
        given = {k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None}
        result = runner(load_dataset(data, calibration), **given)
        rows = [c.row() for c in result.comparisons]
        emit(
            rows,
            fmt,
            title=f"Backtest {result.episode}: {result.title}",
            columns=_COMPARISON_COLUMNS,
            document=result.document(),
        )
        if fmt is Format.TABLE:
            if result.fitted:
                emit(result.fitted, fmt, title="Fitted parameters (90% interval)")
                emit(result.fit_errors, fmt, title="Fit error by series")
            emit(
                records(result.series),
                fmt,
                title=result.series_title,
            )
            for note in result.notes:
                console.print(f"- {note}")
        if report is not None:
            write_backtest_html(result, report)
            err_console.print(f"backtest report written to {report}")

    @app.command("calibrate")
    def calibrate_command(
        episode: Annotated[
            str | None, typer.Argument(help="The calibration episode: 2010.")
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Write the calibration as a data directory (use it with --data DIR).",
                file_okay=False,
            ),
        ] = None,
        list_: Annotated[
            bool, typer.Option("--list", help="List the embedded calibrations.")
        ] = False,
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
    ) -> None:
        """Fit the engine's price parameters to an episode, and print (or write) them."""
        if list_:
            emit([{"calibration": n} for n in calibration_names()], fmt, title="Calibrations")
            return
        if episode is None:
            raise InputError("give an episode to calibrate on (2010), or --list")
        if out is not None:
            output_dir(out, "--out", create=False)
        table, record = calibrator(episode)(load_dataset(data))
        if out is not None:
            out = output_dir(out, "--out")
            write_text_atomic(
                table.to_csv(index=False, lineterminator="\n"),
                out / "price_parameters.csv",
                "the calibration",
            )
            write_text_atomic(
                json.dumps(record, indent=2) + "\n", out / "calibration.json", "the calibration"
            )
            err_console.print(f"calibration written to {out}/ (select it with --data {out})")
        rows = records(table)
        emit(
            rows,
            fmt,
            title=f"Calibration on episode {episode}",
            document={"rows": rows, "record": record},
        )
