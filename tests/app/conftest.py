"""Fixtures for the dashboard's browser tests: a streamlit server and a headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rareflow.cli.dashboard import streamlit_command
from rareflow.store.runstore import STORE_ENV

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
_SERVER_PIDS: dict[str, int] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def app_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboard's own run store."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="session")
def app_url(
    chromium: Any, app_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The dashboard on a free local port, with a run store of its own."""
    port = _free_port()
    env = dict(os.environ, **{STORE_ENV: str(app_store)})
    log = tmp_path_factory.mktemp("streamlit") / "log.txt"
    with log.open("w") as out:
        proc = subprocess.Popen(
            streamlit_command(port, "127.0.0.1"), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    _SERVER_PIDS[url] = proc.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start:\n{log.read_text()}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def app_pid(app_url: str) -> int:
    """The streamlit server's process id (the load test measures its memory)."""
    return _SERVER_PIDS[app_url]


@pytest.fixture
def page(chromium: Any, app_url: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    # A loaded machine (two test workers, streamlit, Chromium on two cores) needs more than 5 s.
    expect.set_options(timeout=60_000)
    pg.goto(app_url)
    pg.get_by_role("spinbutton", name="Draws").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield pg
    context.close()
