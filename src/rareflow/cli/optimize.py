"""``rareflow optimize``: the lever mix that minimises shortfall risk within a budget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from rareflow.analysis.optimize import choice_note, decision_rows, optimise, parse_risk
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
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore
from rareflow.store.records import record_for


def _weights(pairs: list[str]) -> dict[str, float]:
    """Parse ``SECTOR=WEIGHT`` pairs."""
    out = {}
    for pair in pairs:
        sector, _, value = pair.partition("=")
        try:
            out[sector.strip()] = float(value)
        except ValueError:
            raise InputError(
                f"--weight expects SECTOR=NUMBER (e.g. defence=10); got '{pair}'"
            ) from None
    return out


def register(app: typer.Typer) -> None:
    """Add the ``optimize`` command."""

    @app.command("optimize")
    def optimize_command(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        budget: Annotated[
            float, typer.Option("--budget", "-b", min=0, help="Budget, ₹ crore over the horizon.")
        ] = 5000.0,
        risk: Annotated[
            str,
            typer.Option("--risk", help="cvarNN (e.g. cvar95) or expected weighted shortfall."),
        ] = "cvar95",
        until: Annotated[
            int, typer.Option("--until", help="Last year of the horizon.", min=1900, max=2200)
        ] = 2030,
        draws: Annotated[
            int, typer.Option("--draws", "-n", min=2, help="Sampled draws of the LP.")
        ] = 200,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed", "-s", min=0, max=SEED_MAX - 1, help="Seed (default: scenario's)."
            ),
        ] = None,
        validation_seed: Annotated[
            int | None,
            typer.Option(
                "--validation-seed",
                min=0,
                max=SEED_MAX,
                help="Seed of fresh draws (default seed+1).",
            ),
        ] = None,
        weight: Annotated[
            list[str] | None,
            typer.Option("--weight", "-w", help="SECTOR=WEIGHT (repeat; defence 10, others 1)."),
        ] = None,
        objective: Annotated[
            str,
            typer.Option(
                "--objective", help="value (of production lost, ₹ crore) or tonnes (weighted)."
            ),
        ] = "value",
        fmt: FormatOption = Format.TABLE,
        store: StoreOption = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not keep the run.")] = False,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: QuietOption = False,
    ) -> None:
        """Choose the mix of every lever within a budget; validate on fresh draws.

        The stockpile, contract and capacity are chosen at continuous levels; every other lever
        type (its preset's levers) is taken whole or not at all. The objective is the CVaR (or
        expected value) of the value of production lost, or of weighted tonnes short.
        """
        started = datetime.now(UTC)
        alpha = parse_risk(risk)
        sc = with_overrides(load_scenario(scenario), seed=seed)
        dataset = load_dataset(data, calibration)
        weights = _weights(weight or [])
        with progress_bar(f"{sc.name}: optimising the mix", quiet) as bar:
            decision = optimise(
                sc,
                dataset,
                budget=budget,
                alpha=alpha,
                until=until,
                draws=draws,
                validation_seed=validation_seed,
                weights=weights,
                objective=objective,
                progress=bar,
            )
        tables = decision_rows(decision)
        summary: dict[str, Any] = {
            "budget_inr_crore": budget,
            "risk": risk,
            "until": until,
            "draws": draws,
            "weights": weights,
            "seed_in_sample": decision.in_sample.seed,
            "seed_out_of_sample": decision.out_of_sample.seed,
            "objective": objective,
            "loss_unit": decision.unit,
            "lp_columns": decision.lp_size[0],
            "lp_rows": decision.lp_size[1],
            "lp_integer_columns": decision.lp_size[2],
            "lp_build_seconds": decision.solution.build_seconds,
            "lp_solve_seconds": decision.solution.solve_seconds,
            "options": [{"name": o.name, "basis": o.basis} for o in decision.options],
            "left_out": list(decision.left_out),
            "choice_note": choice_note(decision),
            **tables,
        }
        run_id = None
        if not no_store:
            record = record_for(
                "optimize",
                sc,
                given=scenario_text(scenario),
                data_version=dataset.version,
                calibration=dataset.calibration,
                data_dir=dataset.user_dir,
                started_at=started,
                summary=summary,
            )
            run_id = RunStore(store).save(record, decision.to_dataset())
        if fmt is Format.JSON:
            emit([], fmt, document={"run_id": run_id, "scenario": sc.name, **summary})
            return
        if fmt is Format.CSV:
            # One CSV holds the five tables: a `table` column says which each row belongs to.
            rows = [
                {"table": name, **row}
                for name in ("mix", "validation", "choice", "singles", "pareto")
                for row in tables[name]
            ]
            columns = list(dict.fromkeys(key for row in rows for key in row))
            emit(rows, fmt, columns=columns)
            return
        emit(
            tables["mix"],
            fmt,
            title=f"{sc.name}: chosen mix within ₹{budget:,.0f} crore to {until}, {risk} of "
            f"{'value of production lost' if objective == 'value' else 'weighted t short'}, "
            f"{draws:,} draws (seed {decision.in_sample.seed}); LP {decision.lp_size[0]:,} "
            f"columns x {decision.lp_size[1]:,} rows, {decision.lp_size[2]} integer",
        )
        emit(tables["validation"], fmt, title="in sample and out of sample (fresh draws)")
        emit(
            tables["choice"],
            fmt,
            title=f"in sample: the mixes the engine judged (seed {decision.in_sample.seed}); "
            "the lowest risk is returned",
        )
        if not quiet:
            err_console.print(choice_note(decision))
        emit(
            tables["singles"],
            fmt,
            title=f"out of sample: the mix against each lever alone at the same cost "
            f"(seed {decision.out_of_sample.seed})",
        )
        emit(tables["pareto"], fmt, title="Pareto front: cost against risk (LP, in sample)")
        if not quiet:
            for o in decision.options:
                err_console.print(f"{o.name}: {o.basis}", style="dim")
            for note in decision.left_out:
                err_console.print(note)
            if run_id:
                err_console.print(f"stored as run {run_id} (see `rareflow runs show {run_id}`)")
