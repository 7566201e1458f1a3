"""Ensembles of any size: chunks of draws, run in-process or on Dask workers, streamed to the store.

The draws ``0 .. N-1`` are cut into chunks of global draw indices. Each chunk is run with
:func:`rareflow.engine.run.run` (in this process, or as a task on a ``dask.distributed`` cluster)
and reduced where it ran to what the caller keeps:

- ``summary``: per-draw scalars only (:func:`rareflow.analysis.summary.draw_scalars`, by sector,
  plus the total lever cost), a few hundred bytes a draw, so a million draws fit in memory;
- ``sectors``: the (draw, time, sector) variables of the results;
- ``full``: every variable, shipments by partner included.

Every uncertain number is drawn from a stream keyed by (seed, path, global draw index), and
LHS and Sobol designs are sized by the scenario's total draws, never by the chunk, so a draw's
results do not depend on how the ensemble is chunked or spread over workers: the same seed gives
bit-identical results in one process or on any number of workers (tested).

Chunks are submitted in a bounded window and handed on in draw order, so memory stays bounded
however many draws run: at most ``window`` chunks are computing or waiting for an earlier one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import draw_scalars, spread, summarise_draws
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import run
from rareflow.errors import InputError
from rareflow.provenance import code_version
from rareflow.scenario.schema import Scenario

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

DEFAULT_CHUNK = 10_000
"""Draws per chunk: about 0.4 GB of full results at 36 months, a few seconds of work."""
LEVER_COST = "lever_cost_usd"
"""Per-draw scalar: cost of all levers over the horizon, US$ of the levers' price year."""
BY_SECTOR = (dims.DRAW, dims.TIME, dims.SECTOR)


class Keep(StrEnum):
    """What an ensemble keeps (and stores) of each chunk."""

    SUMMARY = "summary"
    SECTORS = "sectors"
    FULL = "full"


@dataclass(frozen=True)
class ChunkOutput:
    """What one chunk hands back: per-draw scalars for the summary, and what is kept."""

    scalars: xr.Dataset
    kept: xr.Dataset
    notes: tuple[str, ...]


@dataclass(frozen=True)
class EnsembleResult:
    """A finished ensemble: its per-draw scalars, summary and provenance.

    Parameters
    ----------
    scenario
        The scenario as run (its ``draws`` is the ensemble size).
    scalars
        Per-draw scalars by sector for every draw (and ``lever_cost_usd`` when there are levers).
    summary
        Per sector: median and 5th-95th percentiles (as
        :func:`rareflow.analysis.summary.sector_summary`).
    lever_cost
        Median and 5th-95th percentiles of the total lever cost (US$), or None without levers.
    chunks
        Number of chunks run.
    data_version, code_version
        Hash of the dataset and rareflow's version.
    started_at, finished_at
        UTC times.
    notes
        Where baseline figures came from.
    run_id
        The stored run's id, if stored.
    """

    scenario: Scenario
    scalars: xr.Dataset
    summary: list[dict[str, Any]]
    lever_cost: dict[str, float | None] | None
    chunks: int
    data_version: str
    code_version: str
    started_at: datetime
    finished_at: datetime
    notes: tuple[str, ...]
    run_id: str | None = field(default=None)

    def document(self) -> dict[str, Any]:
        """Return the summary and provenance as a JSON-serialisable dict."""
        sc = self.scenario
        return {
            "run_id": self.run_id,
            "scenario": sc.name,
            "country": sc.country,
            "draws": sc.draws,
            "seed": sc.seed,
            "chunks": self.chunks,
            "data_version": self.data_version,
            "code_version": self.code_version,
            "sectors": self.summary,
            "lever_cost_usd": self.lever_cost,
            "notes": list(self.notes),
        }


def chunk_indices(draws: int, chunk: int) -> list[np.ndarray]:
    """Cut draws ``0 .. draws-1`` into consecutive chunks of at most ``chunk`` global indices.

    Raises
    ------
    InputError
        If ``draws`` or ``chunk`` is not positive.
    """
    if draws < 1 or chunk < 1:
        raise InputError(f"draws ({draws}) and chunk ({chunk}) must be at least 1")
    return [np.arange(a, min(a + chunk, draws), dtype=np.int64) for a in range(0, draws, chunk)]


def _lever_cost_per_draw(results: xr.Dataset) -> np.ndarray:
    cost = results["lever_cost"]
    values = cost.transpose(dims.DRAW, ...).to_numpy()
    # Each draw's row is contiguous and summed alone, so its total does not depend on the chunk.
    rows = np.ascontiguousarray(values, dtype=np.float64).reshape(values.shape[0], -1)
    return np.asarray(rows.sum(axis=1), dtype=np.float64)


def run_chunk(
    scenario: Scenario, draws: np.ndarray, keep: Keep, dataset: Dataset, check: bool = True
) -> ChunkOutput:
    """Run one chunk of global draw indices and reduce it to what is kept.

    Runs where it is called: in this process or on a Dask worker.

    Parameters
    ----------
    scenario
        The scenario; its ``draws`` is the ensemble's total (LHS and Sobol depend on it).
    draws
        Global draw indices of the chunk.
    keep
        What to keep of the results.
    dataset
        The dataset.
    check
        Check mass balance at every node and step.
    """
    result = run(
        scenario, dataset=dataset, draws=draws, check=check, keep_partners=keep is Keep.FULL
    )
    res = result.results
    scalars = draw_scalars(res, scenario.step_months, sector_values(dataset, scenario.country))
    if "lever_cost" in res:
        scalars[LEVER_COST] = xr.Variable(
            (dims.DRAW,),
            _lever_cost_per_draw(res),
            attrs={
                "unit": res["lever_cost"].attrs["unit"],
                "description": "cost of all levers over the horizon (negative: revenue)",
            },
        )
    scalars.attrs.update(res.attrs)
    if keep is Keep.SUMMARY:
        kept = scalars
    elif keep is Keep.SECTORS:
        names = [str(n) for n, v in res.data_vars.items() if v.dims == BY_SECTOR]
        kept = res[names]
    else:
        kept = res
    return ChunkOutput(scalars=scalars, kept=kept, notes=result.notes)


def local_cluster(workers: int) -> LocalCluster:
    """Start a local Dask cluster of ``workers`` single-threaded worker processes.

    The engine steps in a Python loop of NumPy calls, so threads of one process contend for the
    GIL: one thread per process is what scales. The scheduler's HTTP endpoint takes a free port
    (no dashboard), so several clusters can run side by side.
    """
    import dask  # noqa: PLC0415 - slow import, cluster runs only
    from distributed import LocalCluster  # noqa: PLC0415

    # distributed starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's
    # adaptive mmap threshold: every step's temporary arrays are then mapped and faulted in
    # afresh, and the engine ran 4x slower on a worker than here (measured). The other
    # defaults (one BLAS thread per worker) stay.
    environ = {
        key: value
        for key, value in dask.config.get("distributed.nanny.pre-spawn-environ").items()
        if key != "MALLOC_TRIM_THRESHOLD_"
    }
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster: LocalCluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        )
    return cluster


def _in_process(
    scenario: Scenario, chunks: list[np.ndarray], keep: Keep, dataset: Dataset, check: bool
) -> Iterator[ChunkOutput]:
    for idx in chunks:
        yield run_chunk(scenario, idx, keep, dataset, check)


def _on_cluster(
    client: Client,
    scenario: Scenario,
    chunks: list[np.ndarray],
    keep: Keep,
    dataset: Dataset,
    check: bool,
    window: int,
) -> Iterator[ChunkOutput]:
    """Run chunks on a cluster; yield them in draw order with at most ``window`` outstanding."""
    from distributed import as_completed  # noqa: PLC0415 - only ensembles on a cluster need it

    # distributed's API is only partly typed.
    cluster: Any = client
    # The scenario and dataset go to every worker once, not with every chunk; unhashed keys, so
    # that an ensemble never shares them with an earlier one still being released.
    sc_f, ds_f = cluster.scatter([scenario, dataset], broadcast=True, hash=False)
    running: Any = as_completed()  # type: ignore[no-untyped-call]
    outstanding: dict[Any, tuple[int, Any]] = {}
    ready: dict[int, ChunkOutput] = {}
    submitted = handed = 0
    try:
        while handed < len(chunks):
            # Chunks still computing or waiting for an earlier one count against the window.
            while submitted < len(chunks) and submitted - handed < window:
                fut = cluster.submit(
                    run_chunk, sc_f, chunks[submitted], keep, ds_f, check, pure=False
                )
                outstanding[fut.key] = (submitted, fut)
                running.add(fut)
                submitted += 1
            fut = next(running)
            index, _ = outstanding.pop(fut.key)
            ready[index] = fut.result()
            fut.release()
            while handed in ready:
                yield ready.pop(handed)
                handed += 1
    finally:
        # On an error or an abandoned run, nothing is left computing on the cluster.
        running.clear()
        cluster.cancel([fut for _, fut in outstanding.values()])
        sc_f.release()
        ds_f.release()


class _Scalars:
    """Per-draw scalars of the whole ensemble, filled chunk by chunk into preallocated arrays."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.filled = 0
        self.arrays: dict[str, np.ndarray] = {}
        self.template: xr.Dataset | None = None

    def add(self, chunk: xr.Dataset) -> None:
        n = chunk.sizes[dims.DRAW]
        if self.template is None:
            self.template = chunk.isel({dims.DRAW: slice(0, 0)})
            self.arrays = {
                str(name): np.empty((self.total, *var.shape[1:]), dtype=var.dtype)
                for name, var in chunk.data_vars.items()
            }
        for name, arr in self.arrays.items():
            arr[self.filled : self.filled + n] = chunk[name].transpose(dims.DRAW, ...).to_numpy()
        self.filled += n

    def dataset(self) -> xr.Dataset:
        assert self.template is not None
        t = self.template
        return xr.Dataset(
            {
                name: xr.Variable(t[name].transpose(dims.DRAW, ...).dims, arr, attrs=t[name].attrs)
                for name, arr in self.arrays.items()
            },
            coords={
                **{str(k): v for k, v in t.coords.items() if k != dims.DRAW},
                dims.DRAW: np.arange(self.total),
            },
            attrs=t.attrs,
        )


def run_ensemble(
    scenario: Scenario,
    *,
    dataset: Dataset | None = None,
    chunk: int = DEFAULT_CHUNK,
    keep: Keep = Keep.SUMMARY,
    client: Client | None = None,
    sink: Callable[[xr.Dataset], None] | None = None,
    check: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> EnsembleResult:
    """Run all of a scenario's draws in chunks, in this process or on a Dask cluster.

    Parameters
    ----------
    scenario
        A validated scenario; ``draws`` is the ensemble size.
    dataset
        The dataset; the embedded one by default.
    chunk
        At most this many draws per chunk (on a cluster, fewer if that keeps every worker busy).
    keep
        What each chunk hands to ``sink``: ``summary``, ``sectors`` or ``full``.
    client
        A ``dask.distributed`` client; None runs the chunks here, one after another.
    sink
        Called with each chunk's kept results, in draw order (e.g. ``RunWriter.append``).
    check
        Check mass balance at every node and step.
    progress
        Called with (chunks done, chunks in all).

    Returns
    -------
    EnsembleResult
        Per-draw scalars, the per-sector summary and the provenance.
    """
    started = datetime.now(UTC)
    ds = dataset if dataset is not None else load_dataset()
    if client is None:
        chunks = chunk_indices(scenario.draws, chunk)
        outputs = _in_process(scenario, chunks, keep, ds, check)
    else:
        threads: dict[str, int] = client.nthreads()  # type: ignore[no-untyped-call]
        workers = max(sum(threads.values()), 1)
        chunks = chunk_indices(scenario.draws, min(chunk, math.ceil(scenario.draws / workers)))
        outputs = _on_cluster(client, scenario, chunks, keep, ds, check, 2 * workers)
    scalars = _Scalars(scenario.draws)
    notes: tuple[str, ...] = ()
    for done, out in enumerate(outputs, start=1):
        scalars.add(out.scalars)
        notes = out.notes
        if sink is not None:
            sink(out.kept)
        if progress is not None:
            progress(done, len(chunks))
    every = scalars.dataset()
    lever_cost = spread(every[LEVER_COST].to_numpy()) if LEVER_COST in every else None
    return EnsembleResult(
        scenario=scenario,
        scalars=every,
        summary=summarise_draws(every),
        lever_cost=lever_cost,
        chunks=len(chunks),
        data_version=ds.version,
        code_version=code_version(),
        started_at=started,
        finished_at=datetime.now(UTC),
        notes=notes,
    )
