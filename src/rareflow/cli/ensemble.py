"""``rareflow ensemble``: a large ensemble in chunks, here or on Dask, streamed to the run store.

The options for chunking, the cluster and what is kept are shared with ``rareflow sweep``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rareflow import display
from rareflow.analysis.ensemble import (
    DEFAULT_CHUNK,
    EnsembleResult,
    Keep,
    local_cluster,
    run_ensemble,
)
from rareflow.analysis.summary import summary_columns, summary_rows
from rareflow.cli.focal import FocalCountryOption, focal
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
from rareflow.cli.run import QuietOption, ensemble_title, scenario_text
from rareflow.data.load import load_dataset
from rareflow.data.query import inr_per_usd
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError
from rareflow.scenario.levers.base import PRICE_YEAR
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_ensemble

if TYPE_CHECKING:
    from distributed import Client

CONNECT_TIMEOUT_S = 20
"""Seconds to wait for a Dask scheduler to answer."""

ChunkOption = Annotated[
    int,
    typer.Option(
        "--chunk",
        min=1,
        help="At most this many draws per chunk (on a cluster, fewer to keep every worker busy).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Run chunks on the Dask cluster at this address (tcp://HOST:PORT)."
    ),
]
LocalClusterOption = Annotated[
    int | None,
    typer.Option(
        "--local-cluster",
        min=1,
        max=512,
        help="Run chunks on a local Dask cluster of N single-threaded worker processes.",
    ),
]
KeepOption = Annotated[
    Keep,
    typer.Option(
        "--keep",
        help="What to store: per-draw scalars (summary), the (draw, time, sector) variables "
        "(sectors) or every variable (full).",
    ),
]
NoStoreOption = Annotated[bool, typer.Option("--no-store", help="Do not keep the run.")]


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Client | None]:
    """Yield a Dask client for ``--scheduler`` or ``--local-cluster``, or None to run here.

    Parameters
    ----------
    scheduler
        Address of a running scheduler.
    workers
        Number of worker processes of a local cluster to start (and stop afterwards).

    Raises
    ------
    InputError
        If both are given, or the scheduler cannot be reached.
    """
    if scheduler is not None and workers is not None:
        raise InputError("give --scheduler or --local-cluster, not both")
    if scheduler is None and workers is None:
        yield None
        return
    from distributed import Client  # noqa: PLC0415 - slow import, cluster runs only

    connect: Any = Client
    if workers is not None:
        with local_cluster(workers) as cluster, connect(cluster) as client:
            yield client
        return
    try:
        remote = connect(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {scheduler}: cannot reach it: {exc}") from None
    with remote:
        yield remote


def ensemble_rows(
    result: EnsembleResult, fmt: Format = Format.TABLE, inr_per_usd: float | None = None
) -> list[dict[str, Any]]:
    """Rows of ``rareflow run``'s layout, plus the cost of all levers when there are levers.

    For CSV, one plain number per column (as :func:`summary_columns`), the lever cost in US$.
    The table gives the cost in US$ million and, with an exchange rate, in ₹ crore beside it.
    """
    cost = result.lever_cost
    if fmt is Format.CSV:
        columns = summary_columns(result.summary)
        if cost is None or cost["median"] is None:
            return columns
        spread = {f"lever_cost_usd_{k}": cost[k] for k in ("median", "p5", "p95")}
        return [{**row, **spread} for row in columns]
    rows = summary_rows(result.summary)
    if cost is None or cost["median"] is None:
        return rows
    p5, p50, p95 = (float(cost[k] or 0.0) / 1e6 for k in ("p5", "median", "p95"))
    cells = {"lever cost (US$ million)": f"{p50:,.1f} [{p5:,.1f}..{p95:,.1f}]"}
    if inr_per_usd is not None:
        c5, c50, c95 = (display.crore(1e6 * v, inr_per_usd) for v in (p5, p50, p95))
        cells["lever cost (₹ crore)"] = f"{c50:,.0f} [{c5:,.0f}..{c95:,.0f}]"
    return [{**row, **cells} for row in rows]


def register(app: typer.Typer) -> None:
    """Add the ``ensemble`` command."""

    @app.command("ensemble")
    def ensemble_command(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
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
        country: FocalCountryOption = None,
    ) -> None:
        """Run a large ensemble in chunks (here or on Dask); print shortfall by sector."""
        sc = with_overrides(load_scenario(scenario), draws=draws, seed=seed)
        dataset = load_dataset(data, calibration)
        sc, gaps = focal(sc, country, dataset)
        label = f"{sc.name}: {sc.draws:,} draws, chunks"
        with dask_client(scheduler, local_cluster) as client, progress_bar(label, quiet) as bar:
            if no_store:
                result = run_ensemble(
                    sc, dataset=dataset, chunk=chunk, keep=keep, client=client, progress=bar
                )
            else:
                result = store_ensemble(
                    sc,
                    RunStore(store),
                    scenario_given=scenario_text(scenario),
                    dataset=dataset,
                    chunk=chunk,
                    keep=keep,
                    client=client,
                    progress=bar,
                )
        rate = inr_per_usd(dataset, PRICE_YEAR)
        title = ensemble_title(sc, result.chunks)
        emit(ensemble_rows(result, fmt, rate), fmt, title=title, document=result.document())
        if not quiet and fmt is Format.TABLE:
            for gap in gaps:
                err_console.print(f"gap: {gap}", style="dim", markup=False)
        _report(result, fmt, quiet)


def _report(result: EnsembleResult, fmt: Format, quiet: bool) -> None:
    """Print notes and where the run is stored, on standard error."""
    if not result.summary:
        err_console.print(
            f"no sector of {result.scenario.country} has a magnet requirement in the dataset "
            "(sector_activity.csv x intensities.csv); add your own data to see shortfalls"
        )
    if quiet or fmt is not Format.TABLE:
        return
    for note in result.notes:
        err_console.print(f"data: {note}", style="dim")
    if result.run_id:
        err_console.print(
            f"stored as run {result.run_id} (see `rareflow runs show {result.run_id}`)"
        )
