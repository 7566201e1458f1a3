"""Fixtures for the report's tests: a default run's report and a headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from rareflow.data.load import Dataset
from rareflow.engine.run import run
from rareflow.report import Report, baseline_for, build_report, from_result
from rareflow.report.source import ReportRun
from rareflow.scenario.load import load_scenario

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
def default_runs(dataset: Dataset) -> tuple[ReportRun, ReportRun]:
    """The April 2025 preset as `rareflow run` runs it (1,000 draws, seed 1) and its baseline."""
    shock = from_result(run(load_scenario("china-2025-april"), dataset=dataset))
    return shock, baseline_for(shock, dataset)


@pytest.fixture(scope="session")
def default_report(default_runs: tuple[ReportRun, ReportRun], dataset: Dataset) -> Report:
    return build_report(*default_runs, dataset)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium; .ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
