"""What a click on Run computes, apart from the page, so that it can be timed and tested.

A run's report needs three runs of the engine on the same draws (the scenario, its baseline
and, with levers, the shock alone) and the run saved in the store. They overlap: the baseline
runs beside the scenario, and the run is written while the shock alone runs; the report's
figures are drawn once both are done. What is kept for the page (:class:`Shown`) is the report
and the headline figures, not the results: those are in the store, read again only when a
download asks for them, so a cache of shown results stays small.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.data.load import Dataset
from rareflow.engine.run import RunResult, run, with_overrides
from rareflow.report.build import Report, build_report
from rareflow.report.source import baseline_scenario, from_result, shock_alone_for
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.records import record_of_run

Progress = Callable[[float, str], None]
"""Called with the share done (0-1) and what is being done."""


@dataclass(frozen=True)
class Headline:
    """The three figures above a run's charts, medians over draws.

    Parameters
    ----------
    shortfall_t
        Shortfall over the horizon, all sectors (t magnet).
    unmet_pct
        Share of the requirement unmet over the horizon (%).
    worst_month_t
        The worst month's shortfall, all sectors (t magnet).
    """

    shortfall_t: float
    unmet_pct: float
    worst_month_t: float


@dataclass(frozen=True)
class Shown:
    """A result on the page: the key of the scenario that made it, and what it shows.

    Parameters
    ----------
    key
        The scenario's fingerprint (:func:`rareflow.app.cache.fingerprint`).
    name
        The scenario's name.
    run_id
        The stored run (its results are read from the store for downloads).
    headline
        The figures above the charts.
    report
        The report's figures, tables and key messages.
    """

    key: str
    name: str
    run_id: str
    headline: Headline
    report: Report


def headline(results: xr.Dataset) -> Headline:
    """Return a run's headline figures (medians over draws)."""
    short = results["shortfall"].sum([dims.SECTOR, dims.TIME]).to_numpy()
    need = results["requirement"].sum([dims.SECTOR, dims.TIME]).to_numpy()
    worst = results["shortfall"].sum(dims.SECTOR).max(dims.TIME).to_numpy()
    unmet = np.divide(100.0 * short, need, out=np.zeros_like(short), where=need > 0)
    return Headline(float(np.median(short)), float(np.median(unmet)), float(np.median(worst)))


RUNS_AT_ONCE = max(2, os.cpu_count() or 2)
"""How many sessions' runs compute at the same time; the others wait their turn.

More runs than cores at once finish no sooner, and each holds its engine arrays: twenty
sessions clicking Run together would hold twenty runs' memory (the load test's 4 GB goal).
"""
_RUNS = threading.BoundedSemaphore(RUNS_AT_ONCE)


def _save(store: RunStore, result: RunResult, given: str, dataset: Dataset) -> str:
    return store.save(record_of_run(result, given, dataset.user_dir), result.results)


def compute(
    scenario: Scenario,
    given: str,
    key: str,
    *,
    dataset: Dataset,
    store: RunStore,
    progress: Progress | None = None,
) -> Shown:
    """Run a scenario with its baseline (and its shock alone), store it, and build its report.

    Parameters
    ----------
    scenario
        The scenario as set on the page.
    given
        The scenario's text as given (recorded with the run).
    key
        Its fingerprint.
    dataset
        The dataset.
    store
        Where the run is saved.
    progress
        Told how far the work is; called from the calling thread only.
    """
    tell = progress or (lambda _share, _text: None)
    step = scenario.step_months

    def months(done: int, total: int) -> None:
        tell(0.7 * done / max(total, 1), f"{scenario.name}: month {done * step} of {total * step}")

    tell(0.0, f"{scenario.name}: waiting for a free worker (at most {RUNS_AT_ONCE} runs at once)")
    with _RUNS, ThreadPoolExecutor(max_workers=2, thread_name_prefix="rareflow-run") as pool:
        base_job = None
        if scenario.shocks or scenario.levers:
            base = with_overrides(baseline_scenario(scenario), draws=scenario.draws)
            base_job = pool.submit(run, base, dataset=dataset)
        result = run(scenario, dataset=dataset, progress=months)
        save_job = pool.submit(_save, store, result, given, dataset)
        shock = from_result(result)
        tell(0.75, "The shock without the levers" if scenario.levers else "Without the shock")
        alone = shock_alone_for(shock, dataset)
        baseline = shock if base_job is None else from_result(base_job.result())
        run_id = save_job.result()
    shock = replace(shock, run_id=run_id)
    tell(0.9, "Drawing the charts")
    report = build_report(shock, baseline, dataset, alone)
    return Shown(key, scenario.name, run_id, headline(shock.results), report)


def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Return freed memory to the system.

    A run's arrays are freed when its computation ends, but the C allocator keeps the pages in
    its per-thread arenas unless asked to give them back; a dashboard serving many sessions
    would otherwise hold the peak of its busiest moment for good.
    """
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)
