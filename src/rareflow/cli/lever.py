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
    for field, info in cls.model_fields.items():
        if field == "type":
            continue
        default = info.get_default(call_default_factory=True) if not info.is_required() else None
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
