"""Shared fixtures: the embedded dataset and helpers to write user data tables."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from rareflow.data.load import Dataset, embedded_dir, load_dataset
from rareflow.data.schema import TABLES_BY_NAME

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium (/usr/bin/chromium)")


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test process, shared by the report and dashboard tests.

    Playwright's sync API refuses a second instance in a thread while one is open, so the
    browser tests of every folder must share this one.
    """
    if not CHROMIUM.is_file():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium; .ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
