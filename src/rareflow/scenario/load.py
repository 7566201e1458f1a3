"""Load scenarios from YAML files or presets, safely, with errors that name the field.

YAML is parsed with PyYAML's safe loader, so ``!!python`` and other tags cannot build objects or
run code. Files over 1 MB and documents with more than 100 aliases are refused before parsing
(a 'billion laughs' bomb expands aliases), and the top level must be a mapping.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rareflow.errors import ScenarioError
from rareflow.scenario.schema import Scenario

MAX_BYTES = 1_000_000
MAX_ALIASES = 100


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


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("export_control", "supply_cut", "capacity") or part.startswith("function-"):
            continue  # discriminator tags and validator names are not fields
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(err: Any) -> str:
    where = _location(tuple(err["loc"]))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key; check the spelling (see `rareflow scenario show baseline`)"
    elif err["type"] == "literal_error" or err["type"] == "enum":
        msg = f"{msg} (got {err.get('input')!r})"
    elif err["type"] in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        msg = f"expected a date YYYY-MM-DD or YYYY-MM (got {err.get('input')!r})"
    return f"field '{where}': {msg}"


def parse_scenario(text: str, origin: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text.

    Raises
    ------
    rareflow.errors.ScenarioError
        Naming the origin, each bad field and what was expected.
    """
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ScenarioError(f"{origin}: larger than {MAX_BYTES:,} bytes; refused")
    try:
        aliases = sum(
            isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)
        )
        if aliases > MAX_ALIASES:
            raise ScenarioError(f"{origin}: {aliases} YAML aliases; at most {MAX_ALIASES} allowed")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{origin}:{where}: not valid YAML: {problem}") from None
    except (ValueError, OverflowError) as exc:
        # The safe loader builds dates and numbers itself: 2025-13-01 is a ValueError there.
        raise ScenarioError(f"{origin}: not valid YAML: a value cannot be read ({exc})") from None
    except RecursionError:
        raise ScenarioError(f"{origin}: not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ScenarioError(f"{origin}: invalid scenario:\n  - " + "\n  - ".join(lines)) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a preset by name, or a scenario YAML file by path."""
    text_name = str(name_or_path)
    if text_name in preset_names():
        return parse_scenario(preset_text(text_name), f"preset {text_name}")
    path = Path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            f"'{text_name}' is neither a preset ({', '.join(preset_names())}) nor a file"
        )
    if path.stat().st_size > MAX_BYTES:
        raise ScenarioError(f"{path.name}: larger than {MAX_BYTES:,} bytes; refused")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path.name}: not UTF-8 text") from None
    return parse_scenario(text, path.name)
