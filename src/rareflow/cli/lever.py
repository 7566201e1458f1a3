"""``rareflow lever``: the policy levers, their parameters, defaults and presets."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rareflow import display
from rareflow.cli.options import FormatOption
from rareflow.cli.output import Format, emit
from rareflow.errors import InputError
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.levers.base import parameter_docs
from rareflow.scenario.load import preset_names

app = typer.Typer(help="Policy levers: list them, show one's parameters.", no_args_is_help=True)


def _type_name(cls: type) -> str:
    return str(cls.model_fields["type"].default)  # type: ignore[attr-defined]


def _summary(cls: type) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def _plain_default(default: Any) -> Any:
    """Return a default as plain data (a distribution as its fields)."""
    dump = getattr(default, "model_dump", None)
    return dump() if callable(dump) else default


def _cost_defaults(cls: type) -> dict[str, str]:
    """Return the ``lever_costs.csv`` row each cost field of a lever defaults to, as text."""
    from rareflow.data.lever_costs import lever_cost  # noqa: PLC0415 - pandas, only for `show`
    from rareflow.data.load import load_dataset  # noqa: PLC0415 - pandas, only for `show`

    specs = getattr(cls, "cost_defaults", {})
    if not specs:
        return {}
    dataset = load_dataset()
    out = {}
    for field, spec in specs.items():
        lever = spec.lever or _type_name(cls)
        row = lever_cost(dataset, lever, spec.parameter)
        text = f"lever_costs.csv: {lever} {spec.parameter} {row.value:,.4g} {row.unit}"
        if row.low < row.high:
            text += f" [{row.low:,.4g}..{row.high:,.4g}]"
        if spec.scale_by is not None:
            ref = lever_cost(dataset, lever, "reference_capacity")
            text += f" for {ref.value:,.4g} {ref.unit}, scaled by {spec.scale_by}"
        label = "ASSUMPTION" if row.assumption else "cited"
        out[field] = f"{text} ({row.source_id}, {label}; in {spec.unit})"
    return out


@app.command("list")
def list_levers(fmt: FormatOption = Format.TABLE) -> None:
    """List every lever with the presets that use it (on the 2025 controls and on repeat-2029)."""
    presets = preset_names()
    rows = []
    for cls in LEVER_TYPES:
        name = _type_name(cls)
        module = cls.__module__.rsplit(".", 1)[-1]
        matching = [
            p
            for p in presets
            if "+" in p
            and p.split("+", 1)[1]
            in (name, module, name.replace("_", "-"), module.replace("_", "-"))
        ]
        rows.append(
            {
                "lever": name,
                "name": display.name(name),
                "what": _summary(cls),
                "presets": ", ".join(matching),
            }
        )
    emit(rows, fmt, title="Policy levers", ids=True)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A lever type (see `rareflow lever list`).")],
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Show a lever's parameters: type, default and meaning."""
    by_name = {_type_name(c): c for c in LEVER_TYPES}
    if name not in by_name:
        raise InputError(f"unknown lever '{name}'; levers are: {', '.join(sorted(by_name))}")
    cls = by_name[name]
    meanings = parameter_docs(cls.__doc__ or "")
    rows: list[dict[str, Any]] = []
    costs = _cost_defaults(cls)
    for field, info in cls.model_fields.items():
        if field == "type":
            continue
        default = info.get_default(call_default_factory=True) if not info.is_required() else None
        if field in costs:
            default = costs[field]
        rows.append(
            {
                "parameter": field,
                "required": info.is_required(),
                "default": _plain_default(default),
                "meaning": meanings.get(field, ""),
            }
        )
    rules = getattr(cls, "rules", ())
    for rule in rules:
        what, _, text = rule.partition(": ")
        rows.append({"parameter": f"({what} rule)", "required": "", "default": "", "meaning": text})
    emit(rows, fmt, title=f"{name}: {_summary(cls)}", ids=True)
