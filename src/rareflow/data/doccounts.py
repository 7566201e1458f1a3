"""Counts of the embedded dataset quoted in the documentation, generated from the data.

The README and ``docs/dataset.md`` quote how many sources, tables and rows the dataset has. So
that they cannot go stale, each count in prose sits between markers (``<!-- count:sources -->``
before it, ``<!-- /count -->`` after it; rendered Markdown shows only the number), and
``docs/dataset.md``'s coverage table gives each table's rows in its second column.
:func:`update` rewrites both from the data, and a test fails when a document differs from what it
would write.

Run ``python -m rareflow.data.doccounts README.md docs/dataset.md`` to rewrite the files.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

from rareflow.data.load import Dataset, load_dataset

_MARKER = re.compile(r"<!-- count:(?P<name>[a-z_]+) -->(?P<value>[0-9,]*)<!-- /count -->")
_TABLE_ROW = re.compile(r"^\| (?P<table>[a-z_]+) \| (?P<rows>[0-9,]+) \|", re.MULTILINE)


def counts(dataset: Dataset | None = None) -> dict[str, int]:
    """Return the counts the documents quote: ``sources``, ``tables``, ``rows`` and each table's.

    Parameters
    ----------
    dataset
        The dataset; by default the embedded one.

    Returns
    -------
    dict
        ``sources`` (rows of ``sources.csv``), ``tables`` (tables in the dataset), ``rows`` (rows
        of every table), and ``rows_<table>`` for each table.
    """
    ds = dataset if dataset is not None else load_dataset(from_env=False)
    found = {
        "sources": len(ds.tables["sources"]),
        "tables": len(ds.tables),
        "rows": sum(len(df) for df in ds.tables.values()),
    }
    found.update({f"rows_{name}": len(df) for name, df in ds.tables.items()})
    return found


def update(text: str, facts: Mapping[str, int]) -> str:
    """Return ``text`` with every marked count and every coverage-table row count from ``facts``.

    Parameters
    ----------
    text
        A Markdown document.
    facts
        What :func:`counts` returns.

    Raises
    ------
    KeyError
        If a marker names a count that :func:`counts` does not give.
    """

    def marker(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in facts:
            raise KeyError(f"unknown count {name!r}; known: {', '.join(sorted(facts))}")
        return f"<!-- count:{name} -->{facts[name]:,}<!-- /count -->"

    def table_row(match: re.Match[str]) -> str:
        key = f"rows_{match['table']}"
        if key not in facts:
            return match[0]
        return f"| {match['table']} | {facts[key]:,} |"

    return _TABLE_ROW.sub(table_row, _MARKER.sub(marker, text))


def main(paths: list[str]) -> int:
    """Rewrite the counts in each file; return 1 if any file changed (0 if all were current)."""
    facts = counts()
    changed = 0
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        new = update(text, facts)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated counts in {path}")
            changed += 1
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
