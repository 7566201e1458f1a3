"""From the dashboard's widgets to a scenario: defaults, edits and lever forms from the schema.

Every edit goes back through :func:`rareflow.scenario.load.parse_scenario`, so a bad value gets
the same message naming the field as a bad YAML file does.
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined

from rareflow import display
from rareflow.data import query
from rareflow.data.load import Dataset, load_dataset
from rareflow.scenario.compile import price_parameter
from rareflow.scenario.distributions import Number, bounds
from rareflow.scenario.levers import Lever
from rareflow.scenario.load import parse_scenario, preset_names, preset_text
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
    delay_days
        Licence delay range (days from application to decision) of each phase, by (shock
        index, phase index).
    headroom_scale
        Multiplier of every partner's headroom (supplier_headroom.csv), written as an
        ``uncertain:`` entry on that table: how far partners outside the controls can raise
        output.
    elasticity
        Price elasticity of demand.
    levers
        Levers to add, as scenario mappings (``type`` and fields).
    """

    draws: int
    seed: int
    cover_weeks: Range
    approval: dict[tuple[int, int], Range] = field(default_factory=dict)
    delay_days: dict[tuple[int, int], Range] = field(default_factory=dict)
    headroom_scale: float = 1.0
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
    approval, delay = {}, {}
    for i, shock in enumerate(scenario.shocks):
        for j, phase in enumerate(getattr(shock, "licence", [])):
            # Rounded to the sliders' steps, so an untouched slider returns the default.
            low, high = _range(phase.approval_probability)
            approval[i, j] = (round(low, 2), round(high, 2))
            low, high = _range(phase.delay_days)
            delay[i, j] = (float(round(low)), float(round(high)))
    return Controls(
        draws=min(scenario.draws, max_draws),
        seed=scenario.seed,
        cover_weeks=_dataset_cover(data, scenario.country) if cover is None else _range(cover),
        approval=approval,
        delay_days=delay,
        elasticity=_mid(elasticity),
    )


def _number(r: Range) -> float | dict[str, Any]:
    low, high = r
    return low if low == high else {"dist": "uniform", "low": low, "high": high}


def apply_controls(
    scenario: Scenario,
    controls: Controls,
    name: str | None = None,
    dataset: Dataset | None = None,
) -> Scenario:
    """Return the scenario with the controls' values, validated again.

    Only what differs from :func:`defaults` is written: an untouched range keeps the scenario's
    own distribution (a triangular delay stays triangular). A changed range is drawn uniformly.

    Parameters
    ----------
    scenario
        The scenario the controls start from.
    controls
        The widgets' values.
    name
        The edited scenario's name (default: :func:`run_name`).
    dataset
        The dataset of the defaults (the embedded one if None).

    Raises
    ------
    rareflow.errors.ScenarioError
        Naming the field, if a value is out of range.
    """
    start = defaults(scenario, max(controls.draws, scenario.draws), dataset)
    data = scenario.model_dump(mode="json", by_alias=True)
    data["name"] = name or run_name(scenario, controls, dataset)
    data["draws"] = controls.draws
    data["seed"] = controls.seed
    if controls.cover_weeks != start.cover_weeks:
        data["parameters"]["industry_cover_weeks"] = _number(controls.cover_weeks)
    if controls.headroom_scale != start.headroom_scale:
        data["uncertain"] = [
            *data["uncertain"],
            {"table": "supplier_headroom", "scale": controls.headroom_scale},
        ]
    if controls.elasticity != start.elasticity:
        data["prices"]["elasticity"] = controls.elasticity
    for (i, j), r in controls.approval.items():
        if r != start.approval.get((i, j)):
            data["shocks"][i]["licence"][j]["approval_probability"] = _number(r)
    for (i, j), r in controls.delay_days.items():
        if r != start.delay_days.get((i, j)):
            data["shocks"][i]["licence"][j]["delay_days"] = _number(r)
    data["levers"] = [*data["levers"], *controls.levers]
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "dashboard settings")


def changes(scenario: Scenario, controls: Controls, dataset: Dataset | None = None) -> list[str]:
    """Return what the controls change in the scenario, in a few words each (for run names)."""
    start = defaults(scenario, max(controls.draws, scenario.draws), dataset)
    out = [f"+{lever['type'].replace('_', '-')}" for lever in controls.levers]
    if controls.draws != scenario.draws:
        out.append(f"{controls.draws} draws")
    if controls.seed != start.seed:
        out.append(f"seed {controls.seed}")
    if controls.cover_weeks != start.cover_weeks:
        out.append("cover {:g}-{:g} wk".format(*controls.cover_weeks))
    if controls.headroom_scale != start.headroom_scale:
        out.append(f"headroom x{controls.headroom_scale:g}")
    if controls.elasticity != start.elasticity:
        out.append(f"elasticity {controls.elasticity:g}")
    for (i, j), r in controls.approval.items():
        if r != start.approval.get((i, j)):
            out.append(f"approval[{i}.{j}] {r[0]:g}-{r[1]:g}")
    for (i, j), r in controls.delay_days.items():
        if r != start.delay_days.get((i, j)):
            out.append(f"delay[{i}.{j}] {r[0]:g}-{r[1]:g} d")
    return out


def run_name(scenario: Scenario, controls: Controls, dataset: Dataset | None = None) -> str:
    """Return the name a dashboard run is stored under: the scenario, its levers and settings."""
    parts = changes(scenario, controls, dataset)
    text = scenario.name + (f" ({', '.join(parts)})" if parts else "")
    return text if len(text) <= 120 else text[:119] + "…"


@dataclass(frozen=True)
class FieldSpec:
    """How to ask for one field of a lever.

    Parameters
    ----------
    name
        Field name in the scenario.
    kind
        ``choice``, ``multichoice``, ``number``, ``integer``, ``date``, ``text``, ``keyed``
        (a mapping from chosen keys to one number) or ``keyed_form`` (a mapping from chosen keys
        to the fields of ``nested``).
    default
        Starting value (None: the lever's own default applies unless a value is given).
    choices
        Allowed values of a choice, or the keys of a mapping.
    label
        The field as a reader sees it, with its unit.
    unit
        Its unit, from the field's name (``_t``: tonnes, ``_months``, ``_usd_per_kg``, ...).
    help
        Its description, from the lever's docstring.
    required
        Whether the lever needs a value.
    nested
        The fields asked for each key of a ``keyed_form``.
    low, high
        Bounds of a number, as the lever declares them (None: none declared).
    """

    name: str
    kind: str
    default: Any
    choices: tuple[str, ...] = ()
    label: str = ""
    unit: str = ""
    help: str = ""
    required: bool = False
    nested: tuple[FieldSpec, ...] = ()
    low: float | None = None
    high: float | None = None


def _bound(value: float | None) -> str:
    return "any" if value is None else f"{value:,g}"


def lever_models() -> list[type[BaseModel]]:
    """Return the lever classes of the scenario schema (the members of ``Lever``)."""
    inner = get_args(Lever)[0]
    members = get_args(inner) if get_origin(inner) in (Union, types.UnionType) else (inner,)
    return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]


def lever_type(model: type[BaseModel]) -> str:
    """Return a lever class's ``type`` tag."""
    return str(model.model_fields["type"].default)


_UNIT_SUFFIXES = (
    ("_t_per_year", "t a year"),
    ("_usd_per_kg", "US$/kg"),
    ("_inr_per_kg", "₹/kg"),
    ("_inr_crore", "₹ crore"),
    ("_usd_million", "US$ million"),
    ("_per_year", "share a year"),
    ("_months", "months"),
    ("months", "months"),
    ("_days", "days"),
    ("_weeks", "weeks"),
    ("years", "years"),
    ("_kg_per_kg", "kg per kg"),
    ("_share", "share, 0-1"),
    ("share", "share, 0-1"),
    ("_probability", "share, 0-1"),
    ("_trigger", "share of requirement, 0-1"),
    ("_cut", "share, 0-1"),
    ("_reduction", "share, 0-1"),
    ("_t", "t"),
    ("_mw", "MW"),
)


def field_unit(name: str) -> str:
    """Return a lever field's unit from its name's suffix (the schema's naming rule), or ''."""
    exact = {"t_per_year": "t a year", "reliability": "share, 0-1", "premium": "share of price"}
    if name in exact:
        return exact[name]
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def parameter_docs(model: type) -> dict[str, str]:
    """Return each parameter's description from a numpydoc ``Parameters`` section."""
    lines = (model.__doc__ or "").splitlines()
    out: dict[str, str] = {}
    try:
        first = next(i for i, line in enumerate(lines) if line.strip() == "Parameters")
    except StopIteration:
        return out
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        for n in names:
            out[n] = " ".join(text).strip()

    for line in lines[first + 2 :]:
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("---") or (indent <= 4 and stripped in {"Returns", "Raises"}):
            break
        if indent <= 4:
            flush()
            names, text = [n.strip() for n in stripped.split(",")], []
        else:
            text.append(stripped)
    flush()
    return {k: v.replace("``", "") for k, v in out.items()}


def _members(annotation: Any) -> tuple[Any, ...]:
    """Members of a union (the annotation itself otherwise), with ``Annotated`` unwrapped."""
    members = (
        get_args(annotation)
        if get_origin(annotation) in (Union, types.UnionType)
        else (annotation,)
    )
    return tuple(get_args(m)[0] if get_origin(m) is Annotated else m for m in members)


def _literal_values(annotation: Any) -> tuple[str, ...]:
    out: list[str] = []
    for member in _members(annotation):
        if get_origin(member) is Literal:
            out += [str(a) for a in get_args(member)]
        elif isinstance(member, type) and issubclass(member, StrEnum):
            out += [str(v.value) for v in member]
    return tuple(out)


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]] | None:
    members = _members(annotation)
    if get_origin(annotation) is Literal or (
        isinstance(annotation, type) and issubclass(annotation, StrEnum)
    ):
        return "choice", _literal_values(annotation)
    lists = [m for m in members if get_origin(m) is list]
    if lists:
        keys = _literal_values(get_args(lists[0])[0])
        extra = tuple(str(a) for m in members if get_origin(m) is Literal for a in get_args(m))
        return ("multichoice", keys + extra) if keys else None
    if get_origin(annotation) is dict:
        key, value = get_args(annotation)
        keys = _literal_values(key)
        if value is float:
            return "keyed", keys
        if isinstance(value, type) and issubclass(value, BaseModel):
            return "keyed_form", keys
        return None
    if float in members:
        return "number", ()
    if annotation is int:
        return "integer", ()
    if annotation is date or date in members:
        return "date", ()
    if annotation is str:
        return "text", ()
    return None


@functools.cache
def _example(tag: str) -> dict[str, Any]:
    """Return the first preset lever of a type, as YAML data (examples for required fields)."""
    for name in preset_names():
        data = yaml.safe_load(preset_text(name))
        for lever in data.get("levers") or []:
            if lever.get("type") == tag:
                return dict(lever)
    return {}


def _plain(value: Any, kind: str, start: date) -> Any:
    """Return a preset's example value as a widget can show it (a distribution: its middle)."""
    if kind in {"number", "integer"} and isinstance(value, dict):
        low, high = _range(TypeAdapter(Number).validate_python(value))
        return round((low + high) / 2, 4)
    if kind == "date" and isinstance(value, str):
        text = value if len(value) > 7 else f"{value}-01"
        return date.fromisoformat(text)
    if kind == "date" and value is None:
        return start
    return value


def _specs(model: type[BaseModel], start: date, example: dict[str, Any]) -> list[FieldSpec] | None:
    docs = parameter_docs(model)
    # The lever protocol declares each number's unit and bounds (LeverBase.field_specs);
    # nested models (a substitution's adoption) fall back to the field's name and docstring.
    declared = {f.name: f for f in getattr(model, "field_specs", tuple)()}
    specs = []
    for name, info in model.model_fields.items():
        if name in {"type", "name"}:
            continue
        kind = _kind(info.annotation)
        if kind is None:
            if info.is_required():
                return None
            continue  # optional and not simple: the schema's default applies
        key = info.alias or name
        required = info.is_required()
        if info.default is not PydanticUndefined:
            default = info.default
        elif info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        else:
            default = _plain(example.get(key), kind[0], start)
        nested: tuple[FieldSpec, ...] = ()
        if kind[0] == "keyed_form":
            inner = get_args(info.annotation)[1]
            first: dict[str, Any] = next(iter(example.get(key, {}).values()), {})
            nested = tuple(_specs(inner, start, dict(first)) or [])
        protocol = declared.get(name)
        unit = field_unit(name)
        low = high = None
        if protocol is not None:
            unit = display.unit(protocol.unit) if protocol.unit else unit
            low, high = protocol.low, protocol.high
        helptext = protocol.help if protocol is not None and protocol.help else docs.get(name, "")
        if low is not None or high is not None:
            helptext += f" Allowed: {_bound(low)} to {_bound(high)}" + (
                f" {unit}." if unit else "."
            )
        specs.append(
            FieldSpec(
                name=key,
                kind=kind[0],
                default=default,
                choices=kind[1],
                label=name.replace("_", " ") + (f" ({unit})" if unit else ""),
                unit=unit,
                help=helptext,
                required=required,
                nested=nested,
                low=low,
                high=high,
            )
        )
    return specs


@functools.cache
def lever_fields(model: type[BaseModel], start: date) -> list[FieldSpec] | None:
    """Return the widgets a lever needs, or None if a required field has no widget.

    Labels carry the unit (from the field's name), help comes from the lever's docstring, and a
    required field starts at the value the lever's preset gives it.

    Parameters
    ----------
    model
        A lever class.
    start
        Default for required dates without an example (the scenario's start).
    """
    return _specs(model, start, _example(lever_type(model)))
