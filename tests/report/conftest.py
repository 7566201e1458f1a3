"""Fixtures for the report's tests: a default run's report and a headless Chromium."""

from __future__ import annotations

import pytest

from rareflow.data.load import Dataset
from rareflow.engine.run import run
from rareflow.report import Report, baseline_for, build_report, from_result
from rareflow.report.source import ReportRun
from rareflow.scenario.load import load_scenario


@pytest.fixture(scope="session")
def default_runs(dataset: Dataset) -> tuple[ReportRun, ReportRun]:
    """The April 2025 preset as `rareflow run` runs it (1,000 draws, seed 1) and its baseline."""
    shock = from_result(run(load_scenario("china-2025-april"), dataset=dataset))
    return shock, baseline_for(shock, dataset)


@pytest.fixture(scope="session")
def default_report(default_runs: tuple[ReportRun, ReportRun], dataset: Dataset) -> Report:
    return build_report(*default_runs, dataset)
