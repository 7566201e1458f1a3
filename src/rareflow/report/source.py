"""The runs a report shows: the run itself and its baseline, each with its provenance.

The baseline is the run's own scenario with its shocks and levers removed, run with the same
country, horizon, parameters, draws and seed. For a preset left at its defaults this is the
``baseline`` preset; for an edited scenario it keeps the edits, so the difference between the
two runs is the shock (and the levers) alone. It is computed, not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import xarray as xr

from rareflow.data.load import Dataset
from rareflow.engine.run import RunResult, run, with_overrides
from rareflow.scenario.load import parse_scenario
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReportRun:
    """A run with everything the report shows about where it came from.

    Parameters
    ----------
    scenario
        The validated scenario.
    results
        The run's results.
    scenario_yaml
        The resolved scenario (every default filled in), as YAML.
    data_version, code_version
        Dataset hash and rareflow version of the run.
    started_at, finished_at
        When the run started and finished (UTC).
    run_id
        Its id in the run store, or None if it is not stored.
    """

    scenario: Scenario
    results: xr.Dataset
    scenario_yaml: str
    data_version: str
    code_version: str
    started_at: datetime
    finished_at: datetime
    run_id: str | None = None

    @property
    def draws(self) -> int:
        """Number of draws in the results."""
        return int(self.results.sizes["draw"])


def from_result(result: RunResult, run_id: str | None = None) -> ReportRun:
    """Wrap a fresh run (see :func:`rareflow.engine.run.run`)."""
    return ReportRun(
        scenario=result.scenario,
        results=result.results,
        scenario_yaml=result.resolved_yaml,
        data_version=result.data_version,
        code_version=result.code_version,
        started_at=result.started_at,
        finished_at=result.finished_at,
        run_id=run_id,
    )


def from_store(store: RunStore, run_id: str) -> ReportRun:
    """Load a stored run and its record.

    Raises
    ------
    rareflow.errors.StoreError
        If the run is not in the store.
    rareflow.errors.ScenarioError
        If its resolved scenario no longer validates (a run from an older rareflow).
    """
    info = store.get(run_id)
    record = info.record
    scenario = parse_scenario(record.scenario_resolved, f"run {run_id}")
    return ReportRun(
        scenario=scenario,
        results=store.results(run_id),
        scenario_yaml=record.scenario_resolved,
        data_version=record.data_version,
        code_version=record.code_version,
        started_at=record.started_at,
        finished_at=record.finished_at,
        run_id=run_id,
    )


def baseline_scenario(scenario: Scenario) -> Scenario:
    """Return the scenario without its shocks and levers (see the module's docstring)."""
    return with_overrides(
        scenario,
        name=f"{scenario.name} (baseline)"[:120],
        description=f"{scenario.name} without its shocks and levers",
        shocks=[],
        levers=[],
    )


def baseline_for(shock: ReportRun, dataset: Dataset, progress: Progress | None = None) -> ReportRun:
    """Run the baseline of a run with its draws and seed (the run itself if it has no shock).

    Parameters
    ----------
    shock
        The run to compare against.
    dataset
        The dataset to run the baseline on (the report notes it if its version differs).
    progress
        Called with (steps done, steps in all).
    """
    sc = shock.scenario
    if not sc.shocks and not sc.levers:
        return shock
    base = with_overrides(baseline_scenario(sc), draws=shock.draws)
    return from_result(run(base, dataset=dataset, progress=progress))


def shock_alone_for(
    shock: ReportRun, dataset: Dataset, progress: Progress | None = None
) -> ReportRun | None:
    """Run a run's scenario without its levers (the shock alone), or None if it has no levers.

    Same draws and seed, so the difference from the run is what the levers do.
    """
    sc = shock.scenario
    if not sc.levers:
        return None
    alone = with_overrides(
        sc,
        name=f"{sc.name} (shock alone)"[:120],
        description=f"{sc.name} without its levers",
        levers=[],
        draws=shock.draws,
    )
    return from_result(run(alone, dataset=dataset, progress=progress))
