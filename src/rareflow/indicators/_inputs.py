"""Read the indicators' JSON input files and turn validation failures into clear messages.

Every indicator that reads a file uses :func:`load_json_model`, so a bad file always yields a
:class:`rareflow.errors.InputError` naming the file, the item (by index and, where it has one, by
its id or material name) and the field, with what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rareflow.errors import InputError, display_path

M = TypeVar("M", bound=BaseModel)

_NAME_KEYS = ("material", "id", "node")


def _item_label(data: Any, loc: Sequence[int | str]) -> str:
    """Render a pydantic location as ``nodes[2] ('mine').capacity``, naming items by their id."""
    parts: list[str] = []
    current: Any = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            item = current[key] if isinstance(current, list) and key < len(current) else None
            if isinstance(item, dict):
                name = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str)), None)
                if name is not None:
                    label += f" ('{name}')"
            parts.append(label)
            current = item
        else:
            parts.append(f".{key}" if parts else key)
            current = current.get(key) if isinstance(current, dict) else None
    return "".join(parts)


def describe_validation_error(exc: ValidationError, data: Any) -> str:
    """Return one line per problem: where it is and what was expected."""
    lines = []
    for err in exc.errors(include_url=False):
        # A validator's own message already says where the problem is; drop pydantic's prefix.
        ctx_error = err.get("ctx", {}).get("error")
        msg = str(ctx_error) if err["type"] == "value_error" and ctx_error else err["msg"]
        where = _item_label(data, err["loc"])
        lines.append(f"  - {where}: {msg}" if err["loc"] else f"  - {msg}")
    return "\n".join(lines)


def validate_data(model: type[M], data: Any, source: str) -> M:
    """Validate already-parsed data against ``model``.

    Raises
    ------
    InputError
        Naming ``source`` and every problem's item and field.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            f"{source}: invalid input:\n{describe_validation_error(exc, data)}"
        ) from None


def load_json_model(model: type[M], path: Path) -> M:
    """Read a JSON file and validate it against ``model``.

    Raises
    ------
    InputError
        If the file is missing, is not JSON, or does not match the model.
    """
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return validate_data(model, data, name)
