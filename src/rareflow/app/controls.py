"""From the dashboard's widgets to a scenario: defaults, edits and lever forms from the schema.

Every edit goes back through :func:`rareflow.scenario.load.parse_scenario`, so a bad value gets
the same message naming the field as a bad YAML file does.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rareflow.data import query
from rareflow.data.load import Dataset, load_dataset
from rareflow.scenario.compile import price_parameter
from rareflow.scenario.distributions import bounds
from rareflow.scenario.levers import Lever
from rareflow.scenario.load import parse_scenario
from rareflow.scenario.schema import Scenario

Range = tuple[float, float]


@dataclass(frozen=True)
class Controls:
    """What the dashboard lets a user set.

    Parameters
    ----------
    draws, seed
        Ensemble size and seed.
    cover_weeks
        Industry magnet cover in weeks, drawn uniformly in (low, high) (fixed if equal).
    approval
        Approval probability range of each licence phase, by (shock index, phase index).
    nonchina_surge
        How far other partners can raise deliveries, as a share of their baseline.
    elasticity
        Price elasticity of demand.
    levers
        Levers to add, as scenario mappings (``type`` and fields).
    """

    draws: int
    seed: int
    cover_weeks: Range
    approval: dict[tuple[int, int], Range] = field(default_factory=dict)
    nonchina_surge: float = 0.3
    elasticity: float = -0.3
    levers: list[dict[str, Any]] = field(default_factory=list)


def _range(value: Any) -> Range:
    # Bounds come from inverse CDFs near 0 and 1; round off their last digits for the widgets.
    low, high = bounds(value)
    return round(low, 4), round(high, 4)


def _mid(value: Any) -> float:
    low, high = _range(value)
    return round((low + high) / 2, 4)


def _dataset_cover(dataset: Dataset, country: str) -> Range:
    """Return the dataset's industry cover range in weeks (inventories.csv)."""
    cover = query.industry_cover(dataset, country)
    low = cover.low if cover.low is not None else cover.value
    high = cover.high if cover.high is not None else cover.value
    return (low, high)


def defaults(scenario: Scenario, max_draws: int = 500, dataset: Dataset | None = None) -> Controls:
    """Return the controls as the scenario sets them (draws capped for an interactive run).

    A price elasticity or industry cover the scenario leaves empty is the dataset's (embedded
    unless given).
    """
    cover = scenario.parameters.industry_cover_weeks
    data = dataset or load_dataset()
    elasticity = price_parameter(data, "elasticity", scenario.prices.elasticity)
    approval = {}
    for i, shock in enumerate(scenario.shocks):
        for j, phase in enumerate(getattr(shock, "licence", [])):
            approval[i, j] = _range(phase.approval_probability)
    return Controls(
        draws=min(scenario.draws, max_draws),
        seed=scenario.seed,
        cover_weeks=_dataset_cover(data, scenario.country) if cover is None else _range(cover),
        approval=approval,
        nonchina_surge=_mid(scenario.parameters.nonchina_surge),
        elasticity=_mid(elasticity),
    )


def _number(r: Range) -> float | dict[str, Any]:
    low, high = r
    return low if low == high else {"dist": "uniform", "low": low, "high": high}


def apply_controls(scenario: Scenario, controls: Controls) -> Scenario:
    """Return the scenario with the controls' values, validated again.

    Raises
    ------
    rareflow.errors.ScenarioError
        Naming the field, if a value is out of range.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    data["draws"] = controls.draws
    data["seed"] = controls.seed
    data["parameters"]["industry_cover_weeks"] = _number(controls.cover_weeks)
    data["parameters"]["nonchina_surge"] = controls.nonchina_surge
    data["prices"]["elasticity"] = controls.elasticity
    for (i, j), r in controls.approval.items():
        data["shocks"][i]["licence"][j]["approval_probability"] = _number(r)
    data["levers"] = [*data["levers"], *controls.levers]
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "dashboard settings")


@dataclass(frozen=True)
class FieldSpec:
    """How to ask for one field of a lever.

    Parameters
    ----------
    name
        Field name in the scenario.
    kind
        ``choice``, ``number``, ``integer``, ``date`` or ``text``.
    default
        Starting value.
    choices
        Allowed values of a choice.
    """

    name: str
    kind: str
    default: Any
    choices: tuple[str, ...] = ()


def lever_models() -> list[type[BaseModel]]:
    """Return the lever classes of the scenario schema (the members of ``Lever``)."""
    inner = get_args(Lever)[0]
    members = get_args(inner) if get_origin(inner) in (Union, types.UnionType) else (inner,)
    return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]] | None:
    if get_origin(annotation) is Literal:
        return "choice", tuple(str(a) for a in get_args(annotation))
    options = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else ()
    options = tuple(get_args(o)[0] if get_origin(o) is Annotated else o for o in options)
    if annotation is float or float in options:
        return "number", ()
    if annotation is int:
        return "integer", ()
    if annotation is date:
        return "date", ()
    if annotation is str:
        return "text", ()
    return None


def _start(info: FieldInfo, kind: str, choices: tuple[str, ...], start: date) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    return {"choice": choices[0] if choices else "", "date": start, "text": ""}.get(kind, 0.0)


def lever_fields(model: type[BaseModel], start: date) -> list[FieldSpec] | None:
    """Return the widgets a lever needs, or None if a required field has no simple widget.

    Parameters
    ----------
    model
        A lever class.
    start
        Default for required dates (the scenario's start).
    """
    specs = []
    for name, info in model.model_fields.items():
        if name == "type":
            continue
        kind = _kind(info.annotation)
        if kind is None:
            if info.is_required():
                return None
            continue  # optional and not simple: the schema's default applies
        specs.append(FieldSpec(name, kind[0], _start(info, kind[0], kind[1], start), kind[1]))
    return specs


def lever_type(model: type[BaseModel]) -> str:
    """Return a lever class's ``type`` tag."""
    return str(model.model_fields["type"].default)
