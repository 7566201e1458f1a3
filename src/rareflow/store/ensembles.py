"""Ensembles streamed into the run store, chunk by chunk (the storing half of an ensemble).

:mod:`rareflow.analysis.ensemble` runs the chunks and hands each to a sink; here the sink is a
staged run of the store, committed only when every chunk is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rareflow.analysis.ensemble import DEFAULT_CHUNK, EnsembleResult, Keep, run_ensemble
from rareflow.analysis.sweep import GridPoint
from rareflow.data.load import Dataset, load_dataset
from rareflow.scenario.schema import Scenario
from rareflow.store.records import record_for
from rareflow.store.runstore import RunStore

if TYPE_CHECKING:
    from dask.distributed import Client


def store_ensemble(
    scenario: Scenario,
    store: RunStore,
    *,
    scenario_given: str,
    kind: str = "ensemble",
    extra_summary: dict[str, Any] | None = None,
    dataset: Dataset | None = None,
    chunk: int = DEFAULT_CHUNK,
    keep: Keep = Keep.SUMMARY,
    client: Client | None = None,
    check: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> EnsembleResult:
    """Run an ensemble, streaming each chunk's kept results into the run store.

    The run becomes visible only when every chunk is written; if anything fails, the staged
    files are removed. Parameters are those of :func:`run_ensemble`, plus:

    Parameters
    ----------
    scenario
        A validated scenario; ``draws`` is the ensemble size.
    store
        The run store.
    scenario_given
        The scenario's text as the user gave it.
    kind
        The run's kind in the catalogue.
    extra_summary
        More entries for the stored summary (a sweep's grid values).
    dataset, chunk, keep, client, check, progress
        As for :func:`run_ensemble`.

    Returns
    -------
    EnsembleResult
        With the stored run's id.
    """
    ds = dataset if dataset is not None else load_dataset()
    now = datetime.now(UTC)
    record = record_for(
        kind,
        scenario,
        given=scenario_given,
        data_version=ds.version,
        calibration=ds.calibration,
        data_dir=ds.user_dir,
        started_at=now,
        finished_at=now,
    )
    with store.begin_run(record) as writer:
        result = run_ensemble(
            scenario,
            dataset=ds,
            chunk=chunk,
            keep=keep,
            client=client,
            sink=writer.append,
            check=check,
            progress=progress,
        )
        summary: dict[str, Any] = {
            "sectors": result.summary,
            "lever_cost_usd": result.lever_cost,
            "keep": keep.value,
            "chunks": result.chunks,
            "notes": list(result.notes),
            **(extra_summary or {}),
        }
        run_id = writer.commit(summary, finished_at=result.finished_at)
    return replace(result, run_id=run_id)


def store_sweep_point(
    store: RunStore,
    *,
    scenario_given: str,
    chunk: int = DEFAULT_CHUNK,
    keep: Keep = Keep.SUMMARY,
    client: Client | None = None,
) -> Callable[[GridPoint, Dataset], EnsembleResult]:
    """Return a sweep's point runner that stores each point as a run of kind ``sweep``.

    The point's grid values go into the stored summary; ``scenario_given`` is the base
    scenario's text as the user gave it.
    """

    def run_point(point: GridPoint, ds: Dataset) -> EnsembleResult:
        return store_ensemble(
            point.scenario,
            store,
            scenario_given=scenario_given,
            kind="sweep",
            extra_summary={"grid": point.values},
            dataset=ds,
            chunk=chunk,
            keep=keep,
            client=client,
        )

    return run_point
