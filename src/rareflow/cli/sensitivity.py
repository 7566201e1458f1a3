"""``rareflow sensitivity``: which uncertain inputs drive shortfall or cost (Sobol' or Morris)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from rareflow.analysis.sensitivity import COST, RANK_BY, TOTAL, analyse, scenario_model
from rareflow.cli.options import (
    SEED_MAX,
    CalibrationOption,
    DataDirOption,
    FormatOption,
    StoreOption,
)
from rareflow.cli.output import Format, emit, err_console
from rareflow.cli.progress import progress_bar
from rareflow.cli.run import QuietOption, scenario_text
from rareflow.data.load import load_dataset
from rareflow.engine.run import with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore
from rareflow.store.records import record_for

DEFAULT_SAMPLES = {"sobol": 256, "morris": 32}
"""Sobol' base sample (a power of 2) and Morris trajectories when ``--samples`` is not given."""


class MethodChoice(StrEnum):
    """Sensitivity methods."""

    SOBOL = "sobol"
    MORRIS = "morris"


def _cell(row: dict[str, Any], key: str) -> str:
    """Format a value with its confidence half-width: ``0.385 ± 0.103``."""
    conf = row.get(f"{key}_conf")
    return f"{row[key]:,.3g}" + (f" ± {conf:,.2g}" if conf is not None else "")


def register(app: typer.Typer) -> None:
    """Add the ``sensitivity`` command."""

    @app.command("sensitivity")
    def sensitivity_command(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        method: Annotated[
            MethodChoice, typer.Option("--method", "-m", help="sobol (S1, ST) or morris (mu*).")
        ] = MethodChoice.SOBOL,
        samples: Annotated[
            int | None,
            typer.Option(
                "--samples",
                "-n",
                min=2,
                help="Sobol' base sample (a power of 2; runs N x (k + 2) draws) or Morris "
                "trajectories (N x (k + 1) draws). Default 256 or 32.",
            ),
        ] = None,
        output: Annotated[
            str,
            typer.Option(
                "--output",
                "-o",
                help="What to explain: total (cumulative shortfall), a sector id, or cost "
                "(total lever cost).",
            ),
        ] = TOTAL,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed",
                "-s",
                min=0,
                max=SEED_MAX,
                help="Seed of the design (default: scenario's).",
            ),
        ] = None,
        fmt: FormatOption = Format.TABLE,
        store: StoreOption = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not keep the run.")] = False,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: QuietOption = False,
    ) -> None:
        """Rank a scenario's uncertain inputs by their effect on shortfall or cost."""
        started = datetime.now(UTC)
        sc = with_overrides(load_scenario(scenario), seed=seed)
        dataset = load_dataset(data, calibration)
        n = samples if samples is not None else DEFAULT_SAMPLES[method.value]
        with progress_bar(f"{sc.name}: {method.value} sensitivity", quiet) as bar:
            model = scenario_model(sc, dataset, outputs=(output,), progress=bar)
            result = analyse(model, method.value, samples=n, seed=sc.seed)
        ranking = result.ranking(output)
        run_id = None
        summary: dict[str, Any] = {
            "method": method.value,
            "output": output,
            "samples": n,
            "evaluations": result.evaluations,
            "ranking": ranking,
        }
        if not no_store:
            record = record_for(
                "sensitivity",
                sc,
                given=scenario_text(scenario),
                data_version=dataset.version,
                calibration=dataset.calibration,
                data_dir=dataset.user_dir,
                started_at=started,
                summary=summary,
            )
            run_id = RunStore(store).save(record, result.to_dataset())
        keys = ("S1", "ST") if method is MethodChoice.SOBOL else ("mu_star", "sigma")
        rows = [
            {
                "rank": r["rank"],
                "input": r["input"],
                "distribution": r["distribution"],
                **{k: _cell(r, k) for k in keys},
            }
            for r in ranking
        ]
        what = {TOTAL: "cumulative shortfall (t)", COST: "total lever cost (US$)"}.get(
            output, f"cumulative shortfall of {output} (t)"
        )
        title = (
            f"{sc.name}: drivers of {what} over {sc.horizon_months} months, {method.value}, "
            f"{result.evaluations:,} engine draws, ranked by {RANK_BY[method.value]} "
            f"(± {100 * result.conf_level:.0f}% bootstrap interval)"
        )
        emit(
            rows,
            fmt,
            title=title,
            document={"run_id": run_id, "scenario": sc.name, "seed": sc.seed, **summary},
        )
        if run_id and not quiet and fmt is Format.TABLE:
            err_console.print(f"stored as run {run_id} (see `rareflow runs show {run_id}`)")
