"""``rareflow validate``: every episode scored against what happened, with a naive rival."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.analysis.validation import (
    FULL,
    QUICK,
    compare,
    scores_file_text,
    scores_path,
    stored_scores,
    validate,
)
from rareflow.cli.options import DataDirOption, FormatOption
from rareflow.cli.output import Format, console, emit, err_console
from rareflow.data.load import load_dataset
from rareflow.outputs import output_file
from rareflow.report.build import write_text_atomic
from rareflow.report.validation import write_validation_html

_SCORE_COLUMNS = (
    "preset",
    "series",
    "subject",
    "metric",
    "observed",
    "model",
    "model_5_95",
    "verdict",
)
_SKILL_COLUMNS = (
    "preset",
    "series",
    "subject",
    "points",
    "model_error",
    "rival",
    "rival_error",
    "skill",
)


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command."""

    @app.command("validate")
    def validate_command(
        quick: Annotated[
            bool,
            typer.Option(
                "--quick",
                help="Fewer draws and fits (under two minutes), and check the scores against "
                "the stored ones: exit 1 if any is worse.",
            ),
        ] = False,
        report: Annotated[
            Path,
            typer.Option("--report", help="Where to write the offline HTML validation report."),
        ] = Path("validation.html"),
        update_scores: Annotated[
            bool,
            typer.Option(
                "--update-scores",
                help="With --quick: rewrite the stored scores (analysis/validation_scores.json) "
                "from this run, to record a change of score.",
            ),
        ] = False,
        scores_file: Annotated[
            Path | None,
            typer.Option(
                "--scores-file",
                help="Stored scores to check against or rewrite (default: the embedded file).",
            ),
        ] = None,
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
    ) -> None:
        """Run every backtest episode and score it against what happened.

        2025: both presets (out of sample and with hindsight) against observed retail, wind
        additions and magnet trade; 2010: fitted on prices to June 2011 and scored on the later
        ones. Each series is scored beside a naive rival. Writes one HTML report.
        """
        if update_scores and not quick:
            raise typer.BadParameter("--update-scores records the quick run's scores: add --quick")
        report = output_file(report, "--report")
        if update_scores and scores_file is not None:
            output_file(scores_file, "--scores-file")
        ds = load_dataset(data)
        result = validate(ds, QUICK if quick else FULL)
        doc = result.document()
        rows = [r for card in doc["episode_2025"] for r in card["scorecard"]]
        emit(
            rows,
            fmt,
            title="Validation 2025: model against observed losses",
            columns=_SCORE_COLUMNS,
            document=doc,
        )
        if fmt is Format.TABLE:
            skill = [s for card in doc["episode_2025"] for s in card["skill"]]
            emit(
                skill,
                fmt,
                title="Skill against naive rivals (+1 model exact, -1 rival exact)",
                columns=_SKILL_COLUMNS,
            )
            emit(
                [
                    {
                        "variant": e["variant"],
                        "fit_mean_abs_log": e["fit"]["mean_abs_log"],
                        "test_mean_abs_log": e["test"]["mean_abs_log"],
                        "test_median_abs_pct": e["test"]["median_abs_error_pct"],
                        **(
                            {"in_sample_all_16": e["in_sample_all"]["mean_abs_log"]}
                            if "in_sample_all" in e
                            else {}
                        ),
                        **(
                            {"loyo_mean_abs_log": e["leave_one_year_out"]["mean_abs_log"]}
                            if "leave_one_year_out" in e
                            else {}
                        ),
                    }
                    for e in doc["episode_2010"]["errors"]
                ],
                fmt,
                title="Validation 2010: fit to June 2011, test after it (|log error|)",
            )
            emit(
                doc["episode_2010"]["skill"],
                fmt,
                title="2010 skill against persistence",
                columns=("preset", "model_error", "rival", "rival_error", "skill"),
            )
            for note in result.notes:
                console.print(f"- {note}")
        write_validation_html(result, report)
        err_console.print(f"validation report written to {report}")
        if not quick:
            return
        target = scores_file if scores_file is not None else scores_path()
        if update_scores:
            write_text_atomic(scores_file_text(result), target, "the stored scores")
            err_console.print(f"stored scores rewritten: {target}")
            return
        stored = stored_scores(scores_file)
        check = compare(result.scores(), stored["scores"])
        for line in check.better:
            err_console.print(f"better than stored: {line}")
        for key in check.new:
            err_console.print(f"new score, not stored: {key}")
        if check.ok:
            err_console.print(f"scores: none worse than stored ({len(stored['scores'])} checked)")
            return
        for line in check.worse:
            err_console.print(f"worse than stored: {line}", style="red")
        for key in check.gone:
            err_console.print(f"stored score gone: {key}", style="red")
        err_console.print(
            "a score got worse without being recorded; if the change is intended, record it "
            "with `rareflow validate --quick --update-scores` and commit the file "
            f"(stored data version {stored.get('data_version')}, now {result.data_version})"
        )
        raise typer.Exit(1)
