"""The dataset as it could have been known on a date: for out-of-sample backtests.

A value row is usable as of a cutoff ``D`` when its source was published strictly before ``D``.
A source's date is its ``published`` column (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``), else its
``year``, read as the **last possible day** of what is given: ``2025-04`` is 30 April 2025 and
``2025`` is 31 December 2025, so a source dated only by a year never passes a cutoff within that
year. Rows of rareflow's own sources (kinds ``assumption`` and ``calibration``) carry no
publication date; they are kept and listed, so a backtest states every assumption it rests on.
The exception is ``rareflow-derived``: arithmetic on published figures is as recent as its
inputs, which the rows do not record; a derived row about year ``Y`` is dated 31 December of
``Y + 1`` (figures about a year are published within the next, as USGS's are), so that a derived
2023 magnet composition passes a 2025 cutoff while derived 2024 and 2025 shares do not.

Where a key's chosen row is dropped, the surviving alternative from the most recently published
source becomes the chosen one (logged); then the engine's usual selection (latest year,
preferred metric) runs on what is left.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from rareflow.data.load import LINE, ORIGIN, Dataset
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.errors import DataError, Problem
from rareflow.ids import Choice

PROJECT_KINDS = frozenset({"assumption", "calibration"})
"""Source kinds that are rareflow's own: kept by the filter, and listed."""
DERIVED = "rareflow-derived"
"""rareflow's arithmetic on published figures: dated by the year after the year it describes."""
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def published_by(text: str, where: str) -> date:
    """Return the last possible day of a ``YYYY[-MM[-DD]]`` date.

    Raises
    ------
    rareflow.errors.DataError
        If the text is not such a date; ``where`` names the file and row.
    """
    m = _DATE.match(text.strip())
    try:
        if m is None:
            raise ValueError(text)
        year = int(m.group(1))
        if m.group(3):
            return date(year, int(m.group(2)), int(m.group(3)))
        if m.group(2):
            month = int(m.group(2))
            return date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 12, 31)
    except ValueError:
        raise DataError(
            [Problem(f"'{text}' is not a date; expected YYYY-MM-DD, YYYY-MM or YYYY", where)]
        ) from None


@dataclass
class AsOfLog:
    """What the filter did.

    Parameters
    ----------
    cutoff
        The date: sources published on or after it are not used.
    dropped
        Rows dropped per table.
    promoted
        Alternatives that became the chosen row, as text (table, key, source).
    project_rows
        Rows kept from rareflow's own sources (assumptions, calibrations), per table.
    """

    cutoff: date
    dropped: dict[str, int] = field(default_factory=dict)
    promoted: list[str] = field(default_factory=list)
    project_rows: dict[str, int] = field(default_factory=dict)


def source_dates(ds: Dataset) -> dict[str, date | None]:
    """Each source's last possible day of publication; None for rareflow's own sources."""
    out: dict[str, date | None] = {}
    for _, row in ds.table("sources").iterrows():
        sid = str(row["source_id"])
        if str(row["kind"]) in PROJECT_KINDS:
            out[sid] = None
            continue
        given = row.get("published")
        text = str(given) if isinstance(given, str) and given.strip() else str(row["year"])
        out[sid] = published_by(text, f"{row[ORIGIN]}, row {row[LINE]}, column 'published'")
    return out


def as_of(ds: Dataset, cutoff: date) -> tuple[Dataset, AsOfLog]:
    """Return the dataset restricted to what was published before ``cutoff``, and a log.

    Entity tables (sources, countries, materials, ...) are definitions and are kept whole.
    """
    dates = source_dates(ds)
    log = AsOfLog(cutoff)
    tables: dict[str, pd.DataFrame] = {}
    for name, df in ds.tables.items():
        table = TABLES_BY_NAME[name]
        if not table.is_values or df.empty:
            tables[name] = df
            continue
        derived = df["source_id"] == DERIVED
        when = df["source_id"].map(dates).where(~derived, None)
        when = when.where(~derived, df["year"].map(lambda y: date(int(y) + 1, 12, 31)))
        project = when.isna()
        keep = project | (when.notna() & (when < cutoff))
        log.dropped[name] = int((~keep).sum())
        if project.any():
            log.project_rows[name] = int(project.sum())
        kept = df[keep].copy()
        key = list(table.key)
        chosen_keys = set(
            map(
                tuple,
                kept.loc[kept["choice"] == Choice.CHOSEN.value, key]
                .astype(str)
                .to_numpy()
                .tolist(),
            )
        )
        orphans = kept[kept["choice"] != Choice.CHOSEN.value]
        for k, group in orphans.groupby(key, sort=False, dropna=False):
            k_tuple = tuple(str(v) for v in (k if isinstance(k, tuple) else (k,)))
            if k_tuple in chosen_keys:
                continue
            newest = (
                group.assign(_when=group["source_id"].map(dates))
                .sort_values("_when", na_position="first")
                .index[-1]
            )
            kept.loc[newest, "choice"] = Choice.CHOSEN.value
            chosen_keys.add(k_tuple)
            log.promoted.append(
                f"{name}: {', '.join(k_tuple)} -> {kept.loc[newest, 'value']} "
                f"({kept.loc[newest, 'source_id']})"
            )
        tables[name] = kept
    digest = hashlib.sha256(f"{ds.version}|as-of {cutoff.isoformat()}".encode()).hexdigest()
    return Dataset(tables, digest[:16], ds.user_dir, ds.calibration), log
