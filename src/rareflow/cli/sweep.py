"""``rareflow sweep``: a grid of scenario values, each point a chunked ensemble."""

from __future__ import annotations

from typing import Annotated

import typer

from rareflow.analysis.ensemble import DEFAULT_CHUNK, Keep
from rareflow.analysis.sweep import grid, parse_setting, run_sweep, sweep_rows
from rareflow.cli.ensemble import (
    ChunkOption,
    KeepOption,
    LocalClusterOption,
    NoStoreOption,
    SchedulerOption,
    dask_client,
)
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
from rareflow.cli.run import QuietOption, scenario_text
from rareflow.data.load import load_dataset
from rareflow.engine.run import with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_sweep_point

SetOption = Annotated[
    list[str],
    typer.Option(
        "--set",
        help="PATH=V1,V2,...: values to try at a path of the scenario, e.g. "
        "levers[0].target_months=1,2,3 (repeat for more paths; the grid is every combination).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command."""

    @app.command("sweep")
    def sweep_command(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        settings: SetOption,
        draws: DrawsOption = None,
        seed: SeedOption = None,
        chunk: ChunkOption = DEFAULT_CHUNK,
        scheduler: SchedulerOption = None,
        local_cluster: LocalClusterOption = None,
        keep: KeepOption = Keep.SUMMARY,
        fmt: FormatOption = Format.TABLE,
        store: StoreOption = None,
        no_store: NoStoreOption = False,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: QuietOption = False,
    ) -> None:
        """Run a grid of scenario values; print median shortfall and lever cost per point."""
        base = with_overrides(load_scenario(scenario), draws=draws, seed=seed)
        # Every point is validated before any runs, so a bad path or value costs nothing.
        points = grid(base, [parse_setting(text) for text in settings])
        dataset = load_dataset(data, calibration)
        label = f"{base.name}: {len(points)} grid points x {base.draws:,} draws"
        with dask_client(scheduler, local_cluster) as client, progress_bar(label, quiet) as bar:
            results = run_sweep(
                points,
                dataset=dataset,
                chunk=chunk,
                keep=keep,
                client=client,
                run_point=None
                if no_store
                else store_sweep_point(
                    RunStore(store),
                    scenario_given=scenario_text(scenario),
                    chunk=chunk,
                    keep=keep,
                    client=client,
                ),
                progress=bar,
            )
        document = {
            "scenario": base.name,
            "country": base.country,
            "draws": base.draws,
            "seed": base.seed,
            "points": [{"values": p.values, **p.result.document()} for p in results],
        }
        title = (
            f"{base.name}: median shortfall by sector in {base.country} and lever cost, "
            f"{base.horizon_months} months from {base.start:%Y-%m}, {base.draws:,} draws per point"
        )
        emit(sweep_rows(results), fmt, title=title, document=document)
        if not quiet and fmt is Format.TABLE:
            stored = [p.result.run_id for p in results if p.result.run_id]
            if stored:
                err_console.print(f"stored as runs {stored[0]} .. {stored[-1]} (kind sweep)")
