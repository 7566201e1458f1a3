"""Shared fixtures: the embedded dataset and helpers to write user data tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from rareflow.data.load import Dataset, embedded_dir, load_dataset
from rareflow.data.schema import TABLES_BY_NAME


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return load_dataset()


def read_rows(name: str) -> list[dict[str, str]]:
    """The embedded table's rows as text."""
    with (embedded_dir() / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_table(directory: Path, name: str, rows: list[dict[str, str]]) -> Path:
    """Write rows as a table file in a user data directory."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = [c.name for c in TABLES_BY_NAME[name].all_columns]
    path = directory / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


FUZZ_COUNTS: dict[str, int] = {}
"""Cases each fuzz test ran, reported at the end of the session."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how many cases each fuzz test ran (workers' counts arrive via their reports)."""
    counts = dict(FUZZ_COUNTS)
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            if name.startswith("fuzz_cases:"):
                counts[name.removeprefix("fuzz_cases:")] = int(value)
    if counts:
        terminalreporter.write_sep("-", "fuzzing")
        for name, n in sorted(counts.items()):
            terminalreporter.write_line(f"{name}: {n:,} inputs tried, 0 crashes")
