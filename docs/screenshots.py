"""Take the README's screenshots of the report and the dashboard from the current code and data.

Run with ``make screenshots``. It writes a report of the stockpile preset (the shock alone and
the no-shock baseline beside it) and opens it in Debian's Chromium, then starts the dashboard on
a free local port with a run store of its own, presses Run on the April 2025 preset, and takes
the map again with every request outside the dashboard blocked. Everything it stores goes to a
temporary directory; only the PNG files in ``docs/`` are kept.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
RAREFLOW = Path(sys.executable).with_name("rareflow")


def _report(page: Any, work: Path, draws: int) -> None:
    html = work / "report.html"
    command = [str(RAREFLOW), "report", "china-2025-april+stockpile", "--draws", str(draws)]
    command += ["--seed", "1", "--out", str(html), "--store", str(work / "store")]
    subprocess.run(command, check=True)
    page.goto(html.as_uri())
    page.wait_for_selector("#sankey_magnets .sankey-node", timeout=60_000)
    page.screenshot(path=str(DOCS / "report.png"))
    page.locator("#fan_shortfall").first.screenshot(path=str(DOCS / "report-shortfall.png"))
    page.locator("#what_helps").first.screenshot(path=str(DOCS / "report-what-helps.png"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dashboard(browser: Any, work: Path, draws: int) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, RAREFLOW_STORE=str(work / "app-store"))
    server = subprocess.Popen(
        [str(RAREFLOW), "app", "--port", str(port), "--address", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):  # noqa: S310 - http://127.0.0.1
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the dashboard did not start") from None
                time.sleep(0.3)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()

        def local_only(route: Any) -> None:
            if route.request.url.startswith(url):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", local_only)
        page.goto(url)
        spin = page.get_by_role("spinbutton", name="Draws")
        spin.fill(str(draws))
        spin.press("Enter")
        expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
        page.get_by_role("button", name="Run", exact=True).click()
        done = page.get_by_text(re.compile(r"Done: stored as run \S+"))
        expect(done.first).to_be_visible(timeout=120_000)
        expect(page.get_by_text("What the run shows")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stMetricValue").first).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=60_000)
        page.get_by_text("What the run shows").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS / "dashboard.png"))
        page.get_by_role("tab", name="Sources").click()
        geo = page.locator(".geo").first
        expect(geo.locator("path.choroplethlocation").first).to_be_attached()
        geo.scroll_into_view_if_needed()
        page.screenshot(path=str(DOCS / "dashboard-map.png"))
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Write the five PNG files of ``docs/``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500, help="draws of each run")
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        raise SystemExit("/usr/bin/chromium is missing (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _report(page, Path(tmp), args.draws)
        page.close()
        _dashboard(browser, Path(tmp), args.draws)
        browser.close()
    for name in ("report", "report-shortfall", "report-what-helps", "dashboard", "dashboard-map"):
        print(f"wrote docs/{name}.png")


if __name__ == "__main__":
    main()
