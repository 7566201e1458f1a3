"""Parameter sweeps: a grid of values at dotted paths of a scenario, each point an ensemble.

A setting names a path in the scenario as written (``levers[0].target_months``,
``parameters.restock_months``, ``shocks[0].licence[1].approval_probability``) and the values to
try. The grid is every combination of the settings' values; each point is the scenario with
those values, validated like any scenario, then run as a chunked ensemble
(:func:`rareflow.analysis.ensemble.run_ensemble`). A path that does not exist, or a value the
scenario rejects, is an error that names the path before anything runs.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from rareflow.analysis.ensemble import (
    DEFAULT_CHUNK,
    EnsembleResult,
    Keep,
    run_ensemble,
)
from rareflow.data.load import Dataset, load_dataset
from rareflow.errors import InputError, ScenarioError
from rareflow.scenario.load import parse_scenario
from rareflow.scenario.schema import Scenario

if TYPE_CHECKING:
    from distributed import Client

_STEP = re.compile(r"\A([A-Za-z_][A-Za-z0-9_]*)((?:\[[0-9]+\])*)\Z")


@dataclass(frozen=True)
class Setting:
    """Values to try at one path of the scenario.

    Parameters
    ----------
    path
        Dotted path with list indices, e.g. ``levers[0].target_months``.
    values
        The values, in order (numbers, strings, booleans, or mappings such as distributions).
    """

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class GridPoint:
    """One point of a sweep: the values set and the scenario they give."""

    values: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class SweepPoint:
    """A grid point and its ensemble's result."""

    values: dict[str, Any]
    result: EnsembleResult


def path_steps(path: str) -> list[str | int]:
    """Split a dotted path into field names and list indices.

    Raises
    ------
    InputError
        If the path is not of the form ``name[i].name...``.
    """
    steps: list[str | int] = []
    for part in path.split("."):
        match = _STEP.match(part)
        if match is None:
            raise InputError(
                f"--set {path}: not a scenario path; expected names and list indices such as "
                "levers[0].target_months"
            )
        steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[([0-9]+)\]", match.group(2)))
    return steps


def parse_setting(text: str) -> Setting:
    """Parse ``PATH=V1,V2,...``; each value is read as YAML (``0.3``, ``true``, ``CHN``).

    Raises
    ------
    InputError
        If there is no ``=``, the path is malformed, or a value is empty or not valid YAML.
    """
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise InputError(
            f"--set {text!r}: expected PATH=VALUE[,VALUE...], "
            "e.g. parameters.restock_months=0.1,0.3"
        )
    path_steps(path)
    values = []
    for item in raw.split(","):
        if not item.strip():
            raise InputError(f"--set {path}: empty value in {raw!r}")
        try:
            values.append(yaml.safe_load(item))
        except yaml.YAMLError:
            raise InputError(f"--set {path}: value {item!r} is not a number or word") from None
    return Setting(path=path, values=tuple(values))


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` of a scenario's data; the path must exist already."""
    node: Any = data
    where = ""
    steps = path_steps(path)
    for i, step in enumerate(steps):
        if isinstance(step, int):
            if not isinstance(node, list):
                raise ScenarioError(f"--set {path}: '{where}' is not a list")
            if step >= len(node):
                raise ScenarioError(
                    f"--set {path}: '{where}' has {len(node)} entries, so there is no [{step}]"
                )
            here = f"{where}[{step}]"
        else:
            if not isinstance(node, dict) or step not in node:
                known = ", ".join(node) if isinstance(node, dict) else "none"
                parent = f"'{where}'" if where else "the scenario"
                raise ScenarioError(
                    f"--set {path}: no field '{step}' in {parent} (fields: {known})"
                )
            here = f"{where}.{step}" if where else step
        if i == len(steps) - 1:
            node[step] = value
        else:
            node = node[step]
        where = here


def apply_values(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    """Return the scenario with values set at paths, validated again.

    Raises
    ------
    ScenarioError
        Naming the path if it does not exist or its value fails validation.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    for path, value in values.items():
        _set(data, path, value)
    origin = "--set " + ", ".join(f"{p}={v}" for p, v in values.items())
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), origin)


def grid(scenario: Scenario, settings: list[Setting]) -> list[GridPoint]:
    """Every combination of the settings' values, each validated as a scenario.

    Raises
    ------
    InputError
        If no setting is given or a path is set twice.
    ScenarioError
        If a path does not exist or a value fails validation (naming the path).
    """
    if not settings:
        raise InputError("give at least one --set PATH=VALUE[,VALUE...]")
    paths = [s.path for s in settings]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise InputError(f"--set {twice[0]} is given more than once; list its values once")
    points = []
    for combo in itertools.product(*(s.values for s in settings)):
        values = dict(zip(paths, combo, strict=True))
        points.append(GridPoint(values=values, scenario=apply_values(scenario, values)))
    return points


def run_sweep(
    points: list[GridPoint],
    *,
    dataset: Dataset | None = None,
    chunk: int = DEFAULT_CHUNK,
    keep: Keep = Keep.SUMMARY,
    client: Client | None = None,
    run_point: Callable[[GridPoint, Dataset], EnsembleResult] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SweepPoint]:
    """Run every grid point as a chunked ensemble, one after another.

    Parameters
    ----------
    points
        The grid (see :func:`grid`).
    dataset
        The dataset; the embedded one by default.
    chunk, keep, client
        As for :func:`rareflow.analysis.ensemble.run_ensemble`.
    run_point
        Runs one grid point instead of the in-memory ensemble, e.g. storing it
        (:func:`rareflow.store.ensembles.store_sweep_point`); ``chunk``, ``keep`` and ``client``
        are then its business.
    progress
        Called with (grid points done, grid points in all) as each point finishes.

    Returns
    -------
    list of SweepPoint
        One per grid point, in grid order.
    """
    ds = dataset if dataset is not None else load_dataset()
    out = []
    for i, point in enumerate(points):
        if run_point is None:
            result = run_ensemble(point.scenario, dataset=ds, chunk=chunk, keep=keep, client=client)
        else:
            result = run_point(point, ds)
        out.append(SweepPoint(values=point.values, result=result))
        if progress is not None:
            progress(i + 1, len(points))
    return out


def sweep_rows(points: list[SweepPoint]) -> list[dict[str, Any]]:
    """One row per grid point and sector: the values set, then median shortfall and lever cost."""
    rows: list[dict[str, Any]] = []
    for point in points:
        lever = point.result.lever_cost
        cost = None if lever is None or lever["median"] is None else lever["median"] / 1e6
        rows.extend(
            {
                **{path: _show(v) for path, v in point.values.items()},
                "sector": s["sector"],
                "months short": s["months_in_shortfall"]["median"],
                "peak (%)": s["peak_monthly_shortfall_pct"]["median"],
                "cumulative (t)": s["cumulative_shortfall_t"]["median"],
                "cumulative (%)": s["cumulative_shortfall_pct"]["median"],
                "lever cost (US$ m)": cost,
            }
            for s in point.result.summary
        )
    return rows


def _show(value: Any) -> str:
    """Return a set value as the user would write it."""
    return value if isinstance(value, str) else json.dumps(value)
