"""Load and validate the dataset: the embedded tables, overlaid by a user's own.

Every rule of :mod:`rareflow.data.schema` is checked here, and every problem names the file, the
row (1-based line, the header being line 1) and the column, with what was expected. All problems of
a load are collected and raised together as one :class:`rareflow.errors.DataError`.

A user refreshes or corrects data by putting tables of the same layout in a directory (``--data
DIR`` or the ``RAREFLOW_DATA`` environment variable). A user row replaces the embedded figure with
the same key: the embedded rows of that key are kept as ``alternative`` rows with a note, so the
provenance of every change stays visible.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import weakref
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import pandas as pd

from rareflow import units
from rareflow.data.schema import ENTITY_TABLES, TABLES, TABLES_BY_NAME, Column, ColumnType, Table
from rareflow.errors import DataError, Problem
from rareflow.ids import Choice

LINE = "_line"
"""Hidden column: the row's 1-based line in its file, for messages raised after loading."""
ORIGIN = "_origin"
"""Hidden column: the file a row came from (embedded table or the user's file)."""
LAYER = "_layer"
"""Hidden column: the layer a row came from (``embedded``, ``calibration NAME``, ``user data``)."""
HIDDEN = (LINE, ORIGIN, LAYER)
"""The hidden bookkeeping columns of every loaded table."""
EMBEDDED = "embedded"
"""Layer of the embedded tables."""
MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest table file accepted: bigger is refused, not parsed."""
USER_DATA_ENV = "RAREFLOW_DATA"
MAX_VALUE = 1e12
"""Largest magnitude of a number in a table. The dataset's largest figure is 1.6e9 (t of
secondary resources); beyond 1e12 a figure is a typo or an attack that would make a requirement
infinite, so it is refused."""
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
"""A number with thousands separators (1,800 or 12,400.5): the only commas read in a number."""


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as plain dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


@dataclass(frozen=True)
class RawTable:
    """A table's text as read, before validation; ``layer`` names what an overlay came from."""

    table: Table
    origin: str
    text: str
    layer: str = EMBEDDED


class FrozenTables(Mapping[str, pd.DataFrame]):
    """A dataset's tables, immutable once loaded: each lookup hands out a copy.

    The copy is shallow: pandas' copy-on-write (the default from pandas 3) copies a column only
    when the copy is written to, so a caller that edits what it got never changes the dataset
    that other callers (and the cached embedded dataset) share, and reading costs no copy of the
    data. The mapping itself cannot be assigned to.
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self._tables = {name: df.copy(deep=False) for name, df in tables.items()}

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._tables[name].copy(deep=False)

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


@dataclass(frozen=True)
class Dataset:
    """The validated dataset, immutable once loaded (:class:`FrozenTables`).

    Parameters
    ----------
    tables
        One DataFrame per table, typed by the schema, with the hidden columns ``_line``,
        ``_origin`` and ``_layer`` naming where each row came from.
    version
        A hash of every table's content: runs record it, so a result can be traced to its data.
    user_dir
        The user data directory that was overlaid, if any.
    calibration
        The calibration overlaid (a dataset version of fitted parameters), if any.
    """

    tables: Mapping[str, pd.DataFrame]
    version: str
    user_dir: Path | None = None
    calibration: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tables, FrozenTables):
            object.__setattr__(self, "tables", FrozenTables(self.tables))

    def table(self, name: str) -> pd.DataFrame:
        """Return a table (all rows, alternatives included)."""
        if name not in self.tables:
            known = ", ".join(sorted(self.tables))
            raise KeyError(f"no table '{name}'; tables are: {known}")
        return self.tables[name]

    def chosen(self, name: str) -> pd.DataFrame:
        """Return a value table's chosen rows (an entity table as it is).

        Selected once per table (compiles ask thousands of times); each call hands out a
        copy-on-write copy, as :class:`FrozenTables` does.
        """
        found = memo(self).get(("chosen", name))
        if found is None:
            df = self.table(name)
            found = df if "choice" not in df.columns else df[df["choice"] == Choice.CHOSEN.value]
            memo(self)[("chosen", name)] = found
        return cast("pd.DataFrame", found).copy(deep=False)

    def public(self, name: str) -> pd.DataFrame:
        """Return a table without the hidden bookkeeping columns, for display and export."""
        df = self.table(name)
        return df.drop(columns=[c for c in HIDDEN if c in df.columns])

    def source_of(self, source_id: str) -> Mapping[str, object]:
        """Return the sources row for an id."""
        src = self.tables["sources"]
        hit = src[src["source_id"] == source_id]
        if hit.empty:
            raise KeyError(source_id)
        return dict(hit.iloc[0])


_MEMO: dict[int, tuple[weakref.ref[Dataset], dict[Hashable, object]]] = {}
"""What was read from each live dataset, by its id (its tables never change once loaded)."""


def memo(dataset: Dataset) -> dict[Hashable, object]:
    """Return the store of what has been read from a dataset, kept while the dataset lives.

    A dataset is immutable once loaded, so what is derived from its tables alone can be read
    once and reused (the optimiser compiles a scenario tens of times). Keys name what is kept;
    values are shared, so a caller must copy a mutable value before handing it out.
    """
    key = id(dataset)
    known = _MEMO.get(key)
    if known is None or known[0]() is not dataset:
        known = (weakref.ref(dataset, lambda _ref: _MEMO.pop(key, None)), {})
        _MEMO[key] = known
    return known[1]


def embedded_dir() -> Path:
    """Return the directory of the embedded tables."""
    return Path(str(resources.files("rareflow.data") / "tables"))


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(
            [Problem(f"file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are accepted", path.name)]
        )
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError([Problem(f"not UTF-8 text ({exc.reason})", path.name)]) from None


def _parse_cell(
    text: str, column: Column, origin: str, line: int, problems: list[Problem]
) -> object:
    """Parse one cell by its column's type; record a problem and return None when it is bad."""
    text = text.strip()
    if text == "":
        if column.required:
            message = (
                "no source: every figure needs a source_id from sources.csv"
                if column.name == "source_id"
                else "is empty; a value is required"
            )
            problems.append(Problem(message, origin, line, column.name))
        return None
    if column.allowed is not None and text not in column.allowed:
        shown = ", ".join(column.allowed[:20])
        problems.append(
            Problem(f"'{text}' is not allowed; expected one of: {shown}", origin, line, column.name)
        )
        return None
    try:
        if column.type is ColumnType.INTEGER:
            whole = int(text)
            if abs(whole) > MAX_VALUE:
                raise ValueError(text)
            return whole
        if column.type is ColumnType.NUMBER:
            if "," in text and not _THOUSANDS.fullmatch(text):
                problems.append(
                    Problem(
                        f"'{text[:40]}' is not a number: a comma is read only as a thousands "
                        "separator (1,800); write decimals with a point (1.8)",
                        origin,
                        line,
                        column.name,
                    )
                )
                return None
            number = float(text.replace(",", ""))
            if not math.isfinite(number) or abs(number) > MAX_VALUE:
                raise ValueError(text)
            return number
        if column.type is ColumnType.DATE:
            return date.fromisoformat(text)
    except ValueError:
        expected = {
            ColumnType.INTEGER: f"a whole number within +-{MAX_VALUE:g}",
            ColumnType.NUMBER: f"a finite number within +-{MAX_VALUE:g}",
            ColumnType.DATE: "a date YYYY-MM-DD",
        }[column.type]
        problems.append(Problem(f"'{text[:40]}' is not {expected}", origin, line, column.name))
        return None
    return text


def _parse(raw: RawTable, problems: list[Problem]) -> pd.DataFrame:
    """Parse a table's text into typed rows, checking the header and each cell."""
    table = raw.table
    reader = csv.reader(io.StringIO(raw.text), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem("file is empty; a header row is expected", raw.origin, 1))
        return pd.DataFrame()
    except csv.Error as exc:
        problems.append(Problem(f"not valid CSV: {exc}", raw.origin, 1))
        return pd.DataFrame()
    expected = [c.name for c in table.all_columns]
    # An optional column may be left out (older files stay valid); a required one may not.
    missing = [c.name for c in table.all_columns if c.required and c.name not in header]
    unknown = [c for c in header if c not in expected]
    problems.extend(Problem("column is missing from the header", raw.origin, 1, c) for c in missing)
    problems.extend(
        Problem(f"unknown column; expected: {', '.join(expected)}", raw.origin, 1, c)
        for c in unknown
    )
    if missing or unknown:
        return pd.DataFrame()
    position = {name: header.index(name) for name in expected if name in header}
    records: list[dict[str, object]] = []
    try:
        last = 1
        for fields in reader:
            first, line = last + 1, reader.line_num
            last = line
            if not any(f.strip() for f in fields):
                continue
            if line > first or any("\n" in f or "\r" in f for f in fields):
                problems.append(
                    Problem(
                        f"a quoted cell runs from line {first} to line {line}: a stray quote "
                        "joins rows into one (close the quote, or double it inside a cell)",
                        raw.origin,
                        first,
                    )
                )
                continue
            if len(fields) != len(header):
                problems.append(
                    Problem(
                        f"has {len(fields)} fields; the header has {len(header)}", raw.origin, line
                    )
                )
                continue
            record: dict[str, object] = {
                c.name: _parse_cell(
                    fields[position[c.name]] if c.name in position else "",
                    c,
                    raw.origin,
                    line,
                    problems,
                )
                for c in table.all_columns
            }
            record[LINE] = line
            record[ORIGIN] = raw.origin
            record[LAYER] = raw.layer
            records.append(record)
    except csv.Error as exc:
        problems.append(Problem(f"not valid CSV: {exc}", raw.origin, reader.line_num))
    columns = [*expected, *HIDDEN]
    return pd.DataFrame.from_records(records, columns=columns)


def _check_values(table: Table, df: pd.DataFrame, problems: list[Problem]) -> None:
    """Check units, signs and ranges of a value table."""
    for r in records(df):
        origin, line = str(r[ORIGIN]), int(r[LINE])
        symbol = r["unit"]
        unit = units.UNITS.get(symbol) if isinstance(symbol, str) else None
        if isinstance(symbol, str) and unit is None:
            problems.append(Problem(f"unknown unit '{symbol}'", origin, line, "unit"))
        elif unit is not None:
            if table.units and symbol not in table.units:
                problems.append(
                    Problem(
                        f"unit mismatch: '{symbol}' is not allowed in {table.name}; expected "
                        f"{' or '.join(table.units)}",
                        origin,
                        line,
                        "unit",
                    )
                )
            elif table.unit_kinds and unit.kind not in table.unit_kinds:
                kinds = ", ".join(k.value for k in table.unit_kinds)
                problems.append(
                    Problem(
                        f"unit mismatch: '{symbol}' measures {unit.kind.value}; "
                        f"{table.name} takes units of kind {kinds}",
                        origin,
                        line,
                        "unit",
                    )
                )
        for name in ("value", "low", "high"):
            v = r[name]
            if isinstance(v, float) and v < 0 and not table.allow_negative:
                problems.append(
                    Problem(f"negative quantity {v:g}; expected a value >= 0", origin, line, name)
                )
        value, low, high = r["value"], r["low"], r["high"]
        if isinstance(low, float) and isinstance(value, float) and low > value:
            problems.append(Problem(f"low {low:g} is above value {value:g}", origin, line, "low"))
        if isinstance(high, float) and isinstance(value, float) and high < value:
            problems.append(
                Problem(f"high {high:g} is below value {value:g}", origin, line, "high")
            )
        if symbol == "fraction" and isinstance(value, float) and value > 1 + 1e-12:
            problems.append(
                Problem(
                    f"fraction {value:g} is above 1; expected a share in 0..1",
                    origin,
                    line,
                    "value",
                )
            )


def _check_keys(table: Table, df: pd.DataFrame, problems: list[Problem]) -> None:
    """Entity ids are unique; a value table has exactly one chosen row per key."""
    if df.empty:
        return
    key = list(table.key)
    if table.is_values:
        chosen = df[df["choice"] == Choice.CHOSEN.value]
        dup = chosen[chosen.duplicated(subset=key, keep="first")]
        message = "a second chosen row for the same {key}; mark one 'alternative'"
        for d in records(dup):
            k = ", ".join(f"{c}={d[c]}" for c in key)
            problems.append(Problem(message.format(key=k), str(d[ORIGIN]), int(d[LINE]), "choice"))
        keys_with_chosen = set(map(tuple, chosen[key].astype(str).to_numpy().tolist()))
        for d in records(df[df["choice"] != Choice.CHOSEN.value]):
            if tuple(str(d[c]) for c in key) not in keys_with_chosen:
                k = ", ".join(f"{c}={d[c]}" for c in key)
                problems.append(
                    Problem(
                        f"an alternative with no chosen row for {k}",
                        str(d[ORIGIN]),
                        int(d[LINE]),
                        "choice",
                    )
                )
    else:
        dup = df[df.duplicated(subset=key, keep="first")]
        for d in records(dup):
            k = ", ".join(f"{c}={d[c]}" for c in key)
            problems.append(Problem(f"duplicate id {k}", str(d[ORIGIN]), int(d[LINE]), key[0]))


def _check_reads(table: Table, df: pd.DataFrame, problems: list[Problem]) -> None:
    """Refuse a user's row whose key the model does not read (:class:`~.schema.Reads`).

    A row nothing reads would change no result: it is refused, saying which keys are read.
    """
    reads = table.reads
    if reads is None or df.empty:
        return
    a, b = reads.columns
    context = f"; {reads.context}" if reads.context else ""
    for d in records(df):
        first, second = str(d[a]), str(d[b])
        other = [c for c, v in reads.where.items() if str(d[c]) != v]
        if reads.allows(first, second) and not other:
            continue
        column = other[0] if reads.allows(first, second) else b
        what = f" {column} '{d[column]}'" if column != b else ""
        problems.append(
            Problem(
                f"the model reads no {a} '{first}' {b} '{second}'{what} row, so this row "
                f"would change no result ({reads.reader} read {table.filename}: "
                f"{reads.expected(first)}{context}); remove the row or use a key that is read",
                str(d[ORIGIN]),
                int(d[LINE]),
                column,
            )
        )


def _check_references(tables: Mapping[str, pd.DataFrame], problems: list[Problem]) -> None:
    """Every reference names an existing id; every row has a source."""
    ids: dict[str, set[str]] = {}
    for name in ENTITY_TABLES:
        df = tables.get(name)
        key = TABLES_BY_NAME[name].key[0]
        ids[name] = set(df[key].dropna().astype(str)) if df is not None and not df.empty else set()
    for table in TABLES:
        df = tables.get(table.name)
        if df is None or df.empty:
            continue
        for column in table.all_columns:
            if column.references is None:
                continue
            known = ids[column.references]
            bad = df[df[column.name].notna() & ~df[column.name].astype(str).isin(known)]
            for d in records(bad):
                what = "no source" if column.name == "source_id" else "unknown id"
                problems.append(
                    Problem(
                        f"{what}: '{d[column.name]}' is not in {column.references}.csv",
                        str(d[ORIGIN]),
                        int(d[LINE]),
                        column.name,
                    )
                )


def _check_shares(table: Table, df: pd.DataFrame, problems: list[Problem]) -> None:
    """Chosen shares within each group sum to 1 within the group's tolerance."""
    if df.empty:
        return
    chosen = df[(df["choice"] == Choice.CHOSEN.value) & df["value"].notna()]
    for group in table.shares:
        rows = chosen
        for column, wanted in group.where.items():
            rows = rows[rows[column] == wanted]
        for key, g in rows.groupby(list(group.by), sort=True, dropna=False):
            total = float(g["value"].sum())
            if abs(total - 1.0) > group.tolerance:
                labels = key if isinstance(key, tuple) else (key,)
                which = ", ".join(f"{c}={v}" for c, v in zip(group.by, labels, strict=True))
                lines = ", ".join(str(x) for x in g[LINE].tolist())
                problems.append(
                    Problem(
                        f"shares for {which} sum to {total:.4g}; expected 1 "
                        f"(±{group.tolerance:g}); rows {lines}",
                        str(g[ORIGIN].iloc[0]),
                        int(g[LINE].iloc[0]),
                        "value",
                    )
                )


def _overlay(base: pd.DataFrame, user: pd.DataFrame, table: Table, layer: str) -> pd.DataFrame:
    """Overlay rows: same key replaces (the replaced rows of that key become alternatives)."""
    if user.empty:
        return base
    if base.empty:
        return user
    key = list(table.key)
    user_keys = set(map(tuple, user[key].astype(str).to_numpy().tolist()))
    hit = base[key].astype(str).apply(tuple, axis=1).isin(user_keys)
    if not table.is_values:
        return pd.concat([base[~hit], user], ignore_index=True)
    kept = base.copy()
    kept.loc[hit, "choice"] = Choice.ALTERNATIVE.value
    kept.loc[hit, "note"] = kept.loc[hit, "note"].fillna("").astype(str) + (
        f" [superseded by {layer}]"
    )
    return pd.concat([kept, user], ignore_index=True)


def read_raw(
    directory: Path, names: Iterable[str] | None = None, layer: str = EMBEDDED
) -> list[RawTable]:
    """Read the table files present in a directory (missing ones are skipped)."""
    out = []
    for name in names or [t.name for t in TABLES]:
        table = TABLES_BY_NAME[name]
        path = directory / table.filename
        if path.is_file():
            out.append(RawTable(table, path.name, _read_text(path), layer))
    return out


def check_table(raw: RawTable) -> pd.DataFrame:
    """Parse and check one table on its own: header, cells, keys, units, ranges and shares.

    References to other tables are not checked (see :func:`validate` for the whole dataset).

    Raises
    ------
    rareflow.errors.DataError
        Listing every problem, each with file, row and column.
    """
    problems: list[Problem] = []
    df = _parse(raw, problems)
    _check_keys(raw.table, df, problems)
    if raw.table.is_values and not df.empty:
        _check_values(raw.table, df, problems)
        _check_shares(raw.table, df, problems)
    if problems:
        raise DataError(problems)
    return df


def validate(
    raw_embedded: Sequence[RawTable], raw_user: Sequence[RawTable] = ()
) -> dict[str, pd.DataFrame]:
    """Parse and validate tables; raise one DataError listing every problem.

    Parameters
    ----------
    raw_embedded
        Every table of the base dataset.
    raw_user
        Tables that overlay the base, in order (a calibration, then a user's data directory).
    """
    problems: list[Problem] = []
    present = {r.table.name for r in raw_embedded}
    problems.extend(
        Problem(f"table {t.filename} is missing", t.filename)
        for t in TABLES
        if t.name not in present
    )
    parsed: dict[str, pd.DataFrame] = {}
    for raw in raw_embedded:
        base = _parse(raw, problems)
        _check_keys(raw.table, base, problems)
        parsed[raw.table.name] = base
    for raw in raw_user:
        mine = _parse(raw, problems)
        _check_keys(raw.table, mine, problems)
        _check_reads(raw.table, mine, problems)
        parsed[raw.table.name] = _overlay(
            parsed.get(raw.table.name, pd.DataFrame()), mine, raw.table, raw.layer
        )
    for table in TABLES:
        df = parsed.get(table.name)
        if df is None or df.empty or not table.is_values:
            continue
        _check_values(table, df, problems)
        _check_shares(table, df, problems)
    _check_references(parsed, problems)
    if problems:
        raise DataError(problems)
    return parsed


def _version(raws: Iterable[RawTable]) -> str:
    digest = hashlib.sha256()
    for raw in sorted(raws, key=lambda r: (r.table.name, r.origin, r.layer)):
        if raw.layer != EMBEDDED:  # an overlay's layer is part of the data's identity
            digest.update(raw.layer.encode())
        digest.update(raw.table.name.encode())
        digest.update(b"\0")
        digest.update(raw.text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def calibrations_dir() -> Path:
    """Return the directory of the embedded calibrations, one sub-directory each."""
    return Path(str(resources.files("rareflow.data") / "calibrations"))


def calibration_names() -> list[str]:
    """Return the names of the embedded calibrations (dataset versions of fitted parameters)."""
    root = calibrations_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _calibration_raw(name: str) -> list[RawTable]:
    if name not in calibration_names():
        known = ", ".join(calibration_names()) or "none"
        raise DataError(
            [Problem(f"no calibration named '{name}'; calibrations are: {known}", "--calibration")]
        )
    return read_raw(calibrations_dir() / name, layer=f"calibration {name}")


def load_dataset(
    user_dir: Path | str | None = None,
    calibration: str | None = None,
    *,
    from_env: bool = True,
) -> Dataset:
    """Load the embedded dataset, overlaid with a calibration and a user's tables if given.

    Parameters
    ----------
    user_dir
        A directory of user tables (same file names and columns as the embedded ones). Defaults to
        the ``RAREFLOW_DATA`` environment variable, if set.
    calibration
        The name of an embedded calibration (:func:`calibration_names`): tables of fitted
        parameters, written by ``rareflow calibrate``, that overlay the embedded figures they
        replace (kept as alternatives). A user's tables overlay both.
    from_env
        Read ``RAREFLOW_DATA`` when ``user_dir`` is None; False loads exactly what is given (a
        rerun of a run made without user tables).

    Raises
    ------
    rareflow.errors.DataError
        Listing every problem found, each with file, row and column.
    """
    if user_dir is None and from_env and os.environ.get(USER_DATA_ENV):
        user_dir = os.environ[USER_DATA_ENV]
    user_path = Path(user_dir) if user_dir is not None else None
    try:
        is_dir = user_path is None or user_path.is_dir()
    except (OSError, ValueError):  # a name too long, a NUL in it
        is_dir = False
    if user_path is not None and not is_dir:
        raise DataError([Problem("is not a directory of data tables", str(user_path)[:200])])
    if user_path is None and calibration is None:
        return _load_embedded()
    embedded = read_raw(embedded_dir())
    layers = _calibration_raw(calibration) if calibration is not None else []
    if user_path is not None:
        layers.extend(read_raw(user_path, layer="user data"))
    tables = validate(embedded, layers)
    return Dataset(tables, _version([*embedded, *layers]), user_path, calibration)


@cache
def _load_embedded() -> Dataset:
    embedded = read_raw(embedded_dir())
    return Dataset(validate(embedded), _version(embedded))
