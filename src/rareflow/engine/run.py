"""Run a scenario: compile, simulate, label, with its provenance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.data.lever_costs import discount_rate
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.core import simulate
from rareflow.engine.results import to_dataset
from rareflow.provenance import code_version
from rareflow.scenario.compile import Compiled, compile_scenario
from rareflow.scenario.levers import CostContext, LeverBase
from rareflow.scenario.levers.base import PRICE_YEAR
from rareflow.scenario.load import resolved_yaml
from rareflow.scenario.schema import Scenario


@dataclass(frozen=True)
class RunResult:
    """A finished run: labelled results and everything needed to reproduce them.

    Parameters
    ----------
    scenario
        The scenario as validated (defaults filled in).
    results
        Labelled results (see :func:`rareflow.engine.results.to_dataset`).
    data_version
        Hash of the dataset used.
    calibration
        The calibration overlaid on the dataset, if any (``--calibration``).
    code_version
        rareflow's version.
    started_at, finished_at
        UTC times.
    notes
        Where baseline figures came from (dataset tables, proxies).
    warnings
        Inputs that cannot act within the horizon (see
        :attr:`rareflow.scenario.compile.Compiled.warnings`).
    """

    scenario: Scenario
    results: xr.Dataset
    data_version: str
    calibration: str | None
    code_version: str
    started_at: datetime
    finished_at: datetime
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def resolved_yaml(self) -> str:
        """The scenario with every default filled in, as YAML."""
        return resolved_yaml(self.scenario)


def lever_label(lever: LeverBase, index: int) -> str:
    """Return a lever's label in results: its name, or its type and position."""
    return lever.name or f"{getattr(lever, 'type', 'lever')}[{index}]"


def lever_costs(
    scenario: Scenario, compiled: Compiled, results: xr.Dataset, dataset: Dataset
) -> xr.DataArray | None:
    """Cost of each lever by draw, step and component, in US$ of the price year.

    Returns None when the scenario has no levers. The ``inr_per_usd`` attribute converts to
    rupees (₹ crore = US$ x rate / 1e7).
    """
    if not scenario.levers:
        return None
    network = compiled.network
    ctx = CostContext(
        network, results, dataset, compiled.sampler, compiled.modifiers, compiled.applied
    )
    lines = {
        lever_label(lever, i): lever.cost(ctx, f"levers[{i}]")
        for i, lever in enumerate(scenario.levers)
    }
    components = sorted({line.component for group in lines.values() for line in group})
    values = np.zeros((network.n_draws, network.n_steps, len(lines), len(components)))
    for li, group in enumerate(lines.values()):
        for line in group:
            values[:, :, li, components.index(line.component)] += np.broadcast_to(
                line.usd, (network.n_draws, network.n_steps)
            )
    rate, basis = discounting(scenario, dataset)
    return xr.DataArray(
        values,
        coords={
            dims.DRAW: results[dims.DRAW],
            dims.TIME: results[dims.TIME],
            dims.LEVER: list(lines),
            "component": components,
        },
        dims=(dims.DRAW, dims.TIME, dims.LEVER, "component"),
        attrs={
            "unit": f"usd_{PRICE_YEAR}",
            "inr_per_usd": ctx.inr_per_usd(),
            "discount_rate": rate,
            "discount_basis": basis,
            "description": "cost of each lever by component (negative: revenue)",
        },
    )


def discounting(scenario: Scenario, dataset: Dataset) -> tuple[float, str]:
    """Return the rate a scenario's lever costs are discounted at, and where it came from.

    The scenario's ``costs.discount_rate`` if set, else ``lever_costs.csv``'s default (India's
    social time preference rate).
    """
    if scenario.costs.discount_rate is not None:
        return scenario.costs.discount_rate, "scenario (costs.discount_rate)"
    row = discount_rate(dataset)
    label = "ASSUMPTION" if row.assumption else "cited"
    return row.value, (
        f"lever_costs.csv: {row.value:g}/yr ({row.low:g}-{row.high:g}; {row.source_id}, {label})"
    )


def appraisals(scenario: Scenario, compiled: Compiled, results: xr.Dataset) -> xr.Dataset:
    """Per draw, whether each ``finance`` lever's plant is built and its investor's IRR and NPV.

    Empty when the scenario has no ``finance`` lever.
    """
    labels, built, irr, npv = [], [], [], []
    d_n = compiled.network.n_draws
    for i, lever in enumerate(scenario.levers):
        record = compiled.applied.get(f"levers[{i}]")
        plan = None if record is None else record.outputs.get("appraisal")
        if plan is None:
            continue
        labels.append(lever_label(lever, i))
        built.append(np.broadcast_to(plan.build, (d_n,)))
        irr.append(np.broadcast_to(plan.irr, (d_n,)))
        npv.append(np.broadcast_to(plan.npv_usd, (d_n,)))
    if not labels:
        return xr.Dataset()
    coords = {dims.DRAW: results[dims.DRAW], dims.LEVER: labels}
    dim = (dims.DRAW, dims.LEVER)
    return xr.Dataset(
        {
            "investment_built": xr.DataArray(
                np.stack(built, axis=1),
                coords=coords,
                dims=dim,
                attrs={"unit": "bool", "description": "the investment rule builds the plant"},
            ),
            "investment_irr": xr.DataArray(
                np.stack(irr, axis=1),
                coords=coords,
                dims=dim,
                attrs={"unit": "fraction_per_year", "description": "investor's IRR (NaN: none)"},
            ),
            "investment_npv": xr.DataArray(
                np.stack(npv, axis=1),
                coords=coords,
                dims=dim,
                attrs={"unit": f"usd_{PRICE_YEAR}", "description": "investor's NPV"},
            ),
        }
    )


def with_overrides(scenario: Scenario, **fields: object) -> Scenario:
    """Return a copy of a scenario with some fields replaced, validated again."""
    data = scenario.model_dump(mode="json", by_alias=True)
    data.update({k: v for k, v in fields.items() if v is not None})
    return Scenario.model_validate(data)


def run(
    scenario: Scenario,
    *,
    dataset: Dataset | None = None,
    draws: np.ndarray | None = None,
    check: bool = True,
    keep_partners: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run a scenario (all its draws, or the given global draw indices).

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`rareflow.scenario.load.load_scenario`).
    dataset
        The dataset; the embedded one by default.
    draws
        Global draw indices to run; results for a draw do not depend on which others run with it.
    check
        Check mass balance at every node and step.
    keep_partners
        Keep shipments by partner in the results.
    progress
        Called with (steps done, steps in all).
    """
    started = datetime.now(UTC)
    ds = dataset if dataset is not None else load_dataset()
    compiled = compile_scenario(scenario, draws, ds)
    traj = simulate(compiled.network, check=check, keep_partners=keep_partners, progress=progress)
    results = to_dataset(traj, compiled.network)
    costs = lever_costs(scenario, compiled, results, ds)
    if costs is not None:
        results["lever_cost"] = costs
        results = results.merge(appraisals(scenario, compiled, results))
    results.attrs.update(
        {
            "scenario": scenario.name,
            "country": scenario.country,
            "seed": scenario.seed,
            "data_version": ds.version,
            "calibration": ds.calibration or "",
            "code_version": code_version(),
        }
    )
    return RunResult(
        scenario=scenario,
        results=results,
        data_version=ds.version,
        calibration=ds.calibration,
        code_version=code_version(),
        started_at=started,
        finished_at=datetime.now(UTC),
        notes=compiled.notes,
        warnings=compiled.warnings,
    )


CHECK_DRAWS = 1000
"""Draws compiled by :func:`check_scenario` to judge whether a lever can act."""


def check_scenario(scenario: Scenario, dataset: Dataset | None = None) -> tuple[str, ...]:
    """Run every check a run makes, on one draw, and return the warnings.

    The scenario is compiled against the dataset (countries, partners, tables its uncertain
    numbers name), simulated with the mass-balance check, and its levers' costs are computed
    (a magnet stockpile needs a price): what ``rareflow run`` would refuse is refused here.

    Raises
    ------
    rareflow.errors.RareflowError
        What a run of the scenario would raise.
    """
    ds = dataset if dataset is not None else load_dataset()
    run(scenario, dataset=ds, draws=np.arange(1), keep_partners=False)
    # A lever may act in some draws only (a licence granted with some probability): whether it
    # can act at all is judged over the run's draws, up to CHECK_DRAWS of them.
    draws = np.arange(min(scenario.draws, CHECK_DRAWS))
    return compile_scenario(scenario, draws, ds).warnings
