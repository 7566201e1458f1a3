"""Load scenarios from YAML files or presets, safely, with errors that name the field.

YAML is read with PyYAML's safe loader (LibYAML's C parser where installed), so ``!!python`` and
other tags cannot build objects or run code. Every bound is checked on the stream of parser
events, before a single object is built: files over :data:`MAX_BYTES`, more than
:data:`MAX_ALIASES` aliases, more than :data:`MAX_NODES` values once aliases are expanded (a
'billion laughs' bomb expands nine aliases nine times over) and nesting deeper than
:data:`MAX_DEPTH` are refused. A key given twice in one mapping is refused (YAML would keep the
last value silently), and the top level must be a mapping. Messages name each bad field by its
path (``levers[0].t_per_year``), without pydantic's internal names, and are kept short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rareflow.errors import ScenarioError
from rareflow.scenario.distributions import DIST_TAGS
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks import SHOCK_TYPES

MAX_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_NODES = 100_000
"""Most scalars and collections a document may hold once its aliases are expanded."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and sequences (a scenario needs six)."""
MAX_PROBLEMS = 20
"""Most problems listed in one message; the rest are counted."""
MAX_SHOWN = 60
"""Most characters of a bad value quoted in a message."""

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAGS = frozenset(
    {str(cls.model_fields["type"].default) for cls in (*LEVER_TYPES, *SHOCK_TYPES)} | DIST_TAGS
)
"""Discriminator values of the scenario's tagged unions: a union member, never a field."""
_INTERNAL = re.compile(
    r"^(tagged-union|function-(after|before|wrap|plain)|list|dict|tuple|set|literal|str-enum|"
    r"int-enum|enum|nullable|union|default|json-or-python|lax-or-strict|chain)\[|"
    r"^(float|int|str|bool|date|datetime|none|bytes|decimal|constrained-(float|int|str)|is-instance\[.*\])$"
)
"""Names pydantic gives union members and validators in an error's location."""


class _UniqueKeyLoader(_Loader):  # type: ignore[misc]
    """The safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the safe constructor names it below
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {_short(key)} is given twice in one mapping",
                    key_node.start_mark,
                )  # fmt: skip
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _check_events(events: Iterable[yaml.Event], origin: str) -> None:
    """Refuse too many aliases, too many expanded values or too deep a nesting, while parsing."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # (anchor, values so far) per open collection
    aliases = 0
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > MAX_DEPTH:
                raise ScenarioError(f"{origin}: {_TOO_DEEP}")
            stack.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, n = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, n = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise ScenarioError(f"{origin}: more than {MAX_ALIASES} YAML aliases; refused")
            anchor, n = None, sizes.get(str(event.anchor), 1)
        else:
            continue
        if anchor is not None:
            sizes[str(anchor)] = n
        stack[-1][1] += n
        if stack[-1][1] > MAX_NODES:
            raise ScenarioError(
                f"{origin}: more than {MAX_NODES:,} values once YAML aliases are expanded; refused"
            )


_TOO_DEEP = f"nested too deeply (more than {MAX_DEPTH} levels); refused"


def _yaml_error(exc: yaml.YAMLError, origin: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    problem = str(problem)[:200]
    if "nesting depth" in problem:  # LibYAML's own limit, met before the event check
        return ScenarioError(f"{origin}:{where}: {_TOO_DEEP}")
    return ScenarioError(f"{origin}:{where}: not valid YAML: {problem}")


def load_yaml(text: str, origin: str) -> Any:
    """Parse YAML text within the bounds above.

    Raises
    ------
    rareflow.errors.ScenarioError
        Naming the origin and what was refused (too large, too many aliases, too deep, a
        repeated key) or where the YAML is malformed.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ScenarioError(f"{origin}: larger than {MAX_BYTES:,} bytes; refused")
    if "\x00" in text:
        raise ScenarioError(f"{origin}: not valid YAML: contains a NUL character")
    try:
        _check_events(yaml.parse(text, Loader=_Loader), origin)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, origin) from None
    except (ValueError, OverflowError) as exc:
        # The safe loader builds dates and numbers itself: 2025-13-01 is a ValueError there.
        raise ScenarioError(
            f"{origin}: not valid YAML: a value cannot be read ({str(exc)[:200]})"
        ) from None
    except RecursionError:
        raise ScenarioError(f"{origin}: {_TOO_DEEP}") from None


def resolved_yaml(scenario: Scenario) -> str:
    """Return a scenario with every default filled in, as YAML (what a run records)."""
    return yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False)


def preset_names() -> list[str]:
    """Names of the presets that ship with rareflow."""
    folder = resources.files("rareflow.scenario") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def preset_text(name: str) -> str:
    """Return the YAML text of a preset."""
    if name not in preset_names():
        raise ScenarioError(f"unknown preset '{name}'; presets are: {', '.join(preset_names())}")
    return (resources.files("rareflow.scenario") / "presets" / f"{name}.yaml").read_text(
        encoding="utf-8"
    )


def _is_internal(part: int | str) -> bool:
    return isinstance(part, str) and bool(_INTERNAL.match(part))


def _strip_tags(loc: tuple[int | str, ...]) -> list[int | str]:
    """Drop union tags (a lever's ``stockpile``, a distribution's ``uniform``) from a location."""
    out: list[int | str] = []
    for i, part in enumerate(loc):
        after = loc[i - 1] if i else None
        tag_place = isinstance(after, int) or (isinstance(after, str) and _is_internal(after))
        if isinstance(part, str) and part in _TAGS and tag_place:
            continue
        out.append(part)
    return out


def _pick_branches(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the union branch the input was meant for; drop the others' complaints.

    A number may be plain or a distribution: for ``{dist: uniform, low: 0.7, high: 0.6}``
    pydantic also reports that the mapping is not a number. A branch that got past its own type
    check (its errors lie deeper than the branch) is the one meant; when none did, the branches'
    complaints are merged into one line saying what was expected.
    """
    while True:
        cut = None
        for e in errors:
            idx = next((i for i, p in enumerate(e["loc"]) if _is_internal(p)), None)
            if idx is not None:
                cut = (e["loc"][:idx], idx)
                break
        if cut is None:
            return errors
        prefix, idx = cut
        group = [e for e in errors if e["loc"][:idx] == prefix and len(e["loc"]) > idx
                 and _is_internal(e["loc"][idx])]  # fmt: skip
        at = next(i for i, e in enumerate(errors) if e is group[0])
        before = [e for e in errors[:at] if not any(e is g for g in group)]
        after = [e for e in errors[at:] if not any(e is g for g in group)]
        deep = [e for e in group if len(_strip_tags(e["loc"][idx:])) > 1
                or e["type"] not in _TYPE_ERRORS]  # fmt: skip
        if deep:
            kept = [{**e, "loc": (*prefix, *_strip_tags(e["loc"][idx:])[1:])} for e in deep]
        else:
            wanted = sorted({_expected(e) for e in group}, key=lambda w: (w != "a number", w))
            first = group[0]
            kept = [{**first, "loc": prefix, "type": "union",
                     "msg": f"expected {' or '.join(wanted)}"}]  # fmt: skip
        errors = before + kept + after


_TYPE_ERRORS = frozenset(
    {
        "float_type", "float_parsing", "int_type", "int_parsing", "int_from_float", "string_type",
        "bool_type", "bool_parsing", "model_type", "model_attributes_type", "dict_type",
        "list_type", "tuple_type", "literal_error", "enum", "date_type", "date_parsing",
        "date_from_datetime_parsing", "none_required", "union_tag_invalid", "union_tag_not_found",
        "is_instance_of",
    }
)  # fmt: skip


def _expected(err: dict[str, Any]) -> str:
    kind = str(err["type"])
    if kind.startswith(("float", "int", "finite")):
        return "a number"
    if kind in ("model_type", "model_attributes_type", "dict_type", "union_tag_not_found"):
        return "a distribution such as {dist: uniform, low: 1, high: 2}"
    if kind in ("list_type", "tuple_type"):
        return "a list"
    return str(err["msg"]).removeprefix("Input should be ")


_LIMITS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _location(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _is_internal(part):
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    where = _location(_strip_tags(tuple(err["loc"])))
    msg = str(err["msg"]).removeprefix("Value error, ")
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = "unknown key; check the spelling (see `rareflow scenario show baseline`)"
    elif kind in ("literal_error", "enum", "union") or kind.endswith(("_type", "_parsing")):
        msg = f"{msg} (got {_short(err.get('input'))})"
    if kind in ("float_type", "float_parsing"):
        msg = f"expected a number (got {_short(err.get('input'))})"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        msg = f"expected a whole number (got {_short(err.get('input'))})"
    elif kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        msg = f"expected a date YYYY-MM-DD or YYYY-MM (got {_short(err.get('input'))})"
    elif kind == "finite_number":
        msg = f"expected a finite number (got {_short(err.get('input'))})"
    elif kind in _LIMITS and isinstance(limit := (err.get("ctx") or {}).get(_LIMITS[kind][1]),
                                        int | float):  # fmt: skip
        msg = f"expected a number {_LIMITS[kind][0]} {limit:g} (got {_short(err.get('input'))})"
    if len(msg) > 400:
        msg = msg[:397] + "..."
    return f"field '{where}': {msg}"


def scenario_problems(exc: ValidationError) -> list[str]:
    """One line per problem of a validation error: the field's path and what was expected."""
    lines: list[str] = []
    for line in map(_describe, _pick_branches([dict(e) for e in exc.errors()])):
        if line not in lines:
            lines.append(line)
    return lines


def _joined(lines: list[str]) -> str:
    shown = lines[:MAX_PROBLEMS]
    if len(lines) > MAX_PROBLEMS:
        shown.append(f"... and {len(lines) - MAX_PROBLEMS} more")
    return "\n  - ".join(shown)


def parse_scenario(text: str, origin: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text.

    Raises
    ------
    rareflow.errors.ScenarioError
        Naming the origin, each bad field and what was expected.
    """
    data = load_yaml(text, origin)
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = scenario_problems(exc)
        raise ScenarioError(f"{origin}: invalid scenario:\n  - {_joined(lines)}") from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a preset by name, or a scenario YAML file by path."""
    text_name = str(name_or_path)
    if text_name in preset_names():
        return parse_scenario(preset_text(text_name), f"preset {text_name}")
    path = Path(name_or_path)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):
        is_file = False
    if not is_file:
        raise ScenarioError(
            f"'{text_name[:200]}' is neither a preset ({', '.join(preset_names())}) nor a file"
        )
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ScenarioError(f"{path.name}: larger than {MAX_BYTES:,} bytes; refused")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path.name}: not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{path.name}: cannot be read ({exc.strerror})") from None
    return parse_scenario(text, path.name)
