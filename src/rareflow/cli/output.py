"""Render command results as a table, JSON or CSV.

Every command that prints results takes ``--format table|json|csv`` and hands its rows here, so
the three formats always carry the same content.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rareflow import display
from rareflow.outputs import neutralise

# Piped output (make run, CI logs) gets wide tables unless COLUMNS says otherwise. Console markup
# is off: printed text holds user input (scenario names, YAML, paths) that may contain brackets, so
# "[/]" or "[oxide, metal]" must print as it is. Style with ``style=``, never with markup tags.
console = Console(
    soft_wrap=False,
    markup=False,
    width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "200") or 200),
)
"""Standard output, for results."""
err_console = Console(stderr=True, markup=False)
"""Standard error, for messages and progress."""


class Format(StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


Row = Mapping[str, Any]


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _clean(value.item())
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def _csv_cell(value: Any) -> str:
    """Return a CSV cell: plain numbers (no thousands separators), nested values as JSON.

    Text that a spreadsheet would run as a formula is neutralised (:func:`neutralise`).
    """
    value = _clean(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(value, ".10g")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | dict):
        return neutralise(json.dumps(value, ensure_ascii=False))
    return neutralise(str(value))


def emit(
    rows: Sequence[Row],
    fmt: Format,
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    document: Any = None,
    ids: bool = False,
) -> None:
    """Print rows in the chosen format.

    JSON and CSV keep ids and plain values for machines. The table is for readers: headers,
    ids in id columns and months are written as :mod:`rareflow.display` writes them
    (``ev_car`` -> ``Electric cars``, ``2025-05`` -> ``May 2025``, ``Rs crore`` -> ``₹ crore``),
    unless ``ids`` is set.

    Parameters
    ----------
    rows
        One mapping per row.
    fmt
        Output format.
    title
        Table title (table format only).
    columns
        Column order; defaults to the keys of the first row.
    document
        For JSON, print this structure instead of the rows (for nested results).
    ids
        Keep ids and headers as they are in the table too (tables a user reads ids from, to
        type them into a scenario or a command).
    """
    cols = list(columns) if columns is not None else (list(rows[0].keys()) if rows else [])
    if fmt is Format.JSON:
        payload = document if document is not None else [dict(r) for r in rows]
        console.file.write(json.dumps(_clean(payload), indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is Format.CSV:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: _csv_cell(r.get(c)) for c in cols})
        console.file.write(buf.getvalue())
        return
    # Text, not str: a table's title and cells would otherwise be read as console markup.
    table = Table(
        title=Text(title) if title is not None else None, show_lines=False, header_style="bold"
    )
    for c in cols:
        table.add_column(Text(c if ids else display.header(c)), overflow="fold")
    for r in rows:
        cells = [_cell(r.get(c)) for c in cols]
        if not ids:
            cells = [display.text(c, v) for c, v in zip(cols, cells, strict=True)]
        table.add_row(*(Text(v) for v in cells))
    console.print(table)
