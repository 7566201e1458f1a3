"""Shared fixtures: the embedded dataset and helpers to write user data tables.

Hypothesis runs with the ``ci`` profile by default: a fixed seed (derandomised) and at most
100 examples per test unless a test asks for more, so `make test` is reproducible and bounded.
``HYPOTHESIS_PROFILE=long`` (``make test-long``) draws fresh random examples, ten times as many.
"""

from __future__ import annotations

import csv
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from rareflow.cli import output
from rareflow.data.load import Dataset, embedded_dir, load_dataset
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.errors import DataError

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


settings.register_profile(
    "ci", derandomize=True, max_examples=100, deadline=None, print_blob=True, database=None
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _wide_results_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every test the width a piped run gets (200 columns).

    The results console fixes its width when ``rareflow.cli.output`` is first imported, and the
    CLI loads its commands lazily: in a worker whose first import happened inside
    ``CliRunner.invoke`` (which sets ``COLUMNS=80``), every later table would wrap its headers.
    """
    monkeypatch.setattr(output.console, "width", 200)


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
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - browser tests only

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs file systems (a full or a read-only disk) under ``tmp_path``.

    The fixture is a function of the mount options (``"size=3m"``, ``"ro,size=1m"``) returning
    the mount point; every mount is undone after the test. Skips where mounting needs root or is
    not allowed (CI runs as root).
    """
    mounts: list[Path] = []

    def mount(options: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root (CI runs as root)")
        point = tmp_path / f"tmpfs-{len(mounts)}"
        point.mkdir()
        made = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
        mounts.append(point)
        return point

    yield mount
    for point in reversed(mounts):
        # A file a test left open keeps the mount busy: detach it lazily then.
        if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


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


def load_refusal(directory: Path) -> str:
    """The message with which loading a user data directory is refused (it must be refused)."""
    with pytest.raises(DataError) as info:
        load_dataset(directory)
    return info.value.user_message()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report the counts each fuzz and hostile-input test recorded (workers' arrive in reports)."""
    cases: dict[str, int] = {}
    outcomes: dict[str, str] = {}
    hostile: dict[str, str] = {}
    for key in ("passed", "failed"):
        for report in terminalreporter.stats.get(key, []):
            for name, value in getattr(report, "user_properties", []):
                if name.startswith("fuzz_cases:"):
                    cases[name.removeprefix("fuzz_cases:")] = int(value)
                elif name.startswith("fuzz_outcomes:"):
                    outcomes[name.removeprefix("fuzz_outcomes:")] = str(value)
                elif name.startswith("hostile:"):
                    hostile[name.removeprefix("hostile:")] = str(value)
    if cases:
        terminalreporter.write_sep("-", "fuzzing")
        for name, n in sorted(cases.items()):
            detail = f" ({outcomes[name]})" if name in outcomes else ""
            terminalreporter.write_line(f"{name}: {n:,} inputs{detail}")
    if hostile:
        terminalreporter.write_sep("-", "hostile inputs")
        for name, line in sorted(hostile.items()):
            terminalreporter.write_line(f"{name}: {line}")
