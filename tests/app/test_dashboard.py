"""The dashboard in a real browser, as an analyst uses it; each test guards a defect once found.

Runs use few draws; the server caches results per scenario, so tests that ask for the same
settings share one run.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from rareflow.app.main import SHORTFALL_METRIC
from rareflow.store import RunStore

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DRAWS = "30"


def _metric(page: Any, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return str(box.get_by_test_id("stMetricValue").inner_text())


def _set_draws(page: Any, value: str) -> None:
    draws = page.get_by_role("spinbutton", name="Draws")
    draws.fill(value)
    draws.press("Enter")
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
    expect(draws).to_have_value(value)


def _run(page: Any) -> str:
    """Press Run and return the id of the run it stored.

    The previous run's "Done" line stays on the page until the new run replaces it, so the id is
    read only once a "Done" line naming a different run is shown.
    """
    done = page.get_by_text(re.compile(r"Done: stored as run \S+"))
    before = done.first.inner_text() if done.count() else None
    page.get_by_role("button", name="Run", exact=True).click()
    if before is None:
        expect(done.first).to_be_visible()
    else:
        expect(done.first).not_to_have_text(before)
    return str(re.search(r"run (\S+)", done.first.inner_text()).group(1))  # type: ignore[union-attr]


def _choose_preset(page: Any, preset: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text="Preset").click()
    page.keyboard.type(preset)
    page.get_by_role("option", name=preset, exact=True).click()
    expect(page.get_by_text(f"{preset} (IND)")).to_be_visible()
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()


@pytest.mark.browser
def test_run_change_a_parameter_and_download(page: Any, tmp_path: Path, app_store: Path) -> None:
    _set_draws(page, DRAWS)
    _run(page)
    expect(page.get_by_text("What the run shows")).to_be_visible()
    expect(page.get_by_text("Headline figures, all sectors")).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".js-plotly-plot")).to_be_visible()
    expect(chart).to_contain_text("Magnet shortfall peaks in")
    before = _metric(page, SHORTFALL_METRIC)
    assert float(before.replace(",", "")) > 0
    page.screenshot(path=str(SCREENSHOTS / "dashboard-run.png"), full_page=True)

    # Let partners outside the control triple their headroom: the shortfall must fall.
    headroom = page.get_by_test_id("stSlider").filter(has_text="Partner headroom")
    headroom.get_by_role("slider").press("End")
    expect(headroom).to_contain_text("3.00")
    run_id = _run(page)
    expect(page.get_by_test_id("stMetric").filter(has_text=SHORTFALL_METRIC)).not_to_contain_text(
        before
    )
    after = _metric(page, SHORTFALL_METRIC)
    assert float(after.replace(",", "")) < float(before.replace(",", ""))
    # The run is stored under a name that says what was changed.
    name = RunStore(app_store).get(run_id).record.name
    assert name == f"china-2025-april ({DRAWS} draws, headroom x3)"

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the report (HTML)").click()
    target = tmp_path / "report.html"
    info.value.save_as(target)
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Key findings" in html
    assert "supplier_headroom" in html

    page.get_by_role("tab", name="Compare stored runs").click()
    page.get_by_test_id("stMultiSelect").filter(has_text="Stored runs").click()
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    expect(page.get_by_text("Magnet shortfall, all sectors (t magnet a month)")).to_be_visible()
    table = page.get_by_test_id("stDataFrame").last
    expect(table).to_contain_text("shortfall over the horizon (t magnet)")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-compare.png"), full_page=True)


@pytest.mark.browser
def test_a_new_preset_marks_the_results_out_of_date(page: Any) -> None:
    _set_draws(page, DRAWS)
    _run(page)
    expect(page.get_by_text("Results: china-2025-april")).to_be_visible()
    figure = _metric(page, SHORTFALL_METRIC)
    _choose_preset(page, "china-2025-october")
    expect(page.get_by_text("Out of date")).to_be_visible()
    expect(page.get_by_text("Results: china-2025-april")).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    assert figure not in page.inner_text("body")
    # A setting changed back to what ran shows the results again, without a rerun.
    _choose_preset(page, "china-2025-april")
    _set_draws(page, DRAWS)
    expect(page.get_by_text("Out of date")).to_have_count(0)


@pytest.mark.browser
def test_map_renders_with_the_network_blocked(page: Any, app_url: str) -> None:
    blocked: list[str] = []

    def local_only(route: Any) -> None:
        if route.request.url.startswith(app_url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.reload()
    _set_draws(page, DRAWS)
    _run(page)
    page.get_by_role("tab", name="Sources").click()
    countries = page.locator(".geo path.choroplethlocation")
    expect(countries.first).to_be_attached()
    assert countries.count() >= 2  # the partners and the focal country are drawn
    page.locator(".geo").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-map-offline.png"))
    assert blocked == []


@pytest.mark.browser
def test_run_button_stays_while_a_lever_field_is_empty(page: Any) -> None:
    form = page.get_by_test_id("stExpander").filter(has_text="Add a lever: government stockpile")
    form.get_by_text("Add a lever: government stockpile").click()
    form.get_by_text("Add this lever").click()
    months = form.get_by_role("spinbutton", name="target months (months)")
    expect(months).to_be_visible()
    months.fill("")
    months.press("Enter")
    expect(page.get_by_test_id("stAlert").filter(has_text="target_months")).to_be_visible()
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_visible()
    expect(run).to_be_disabled()
    months.fill("3")
    months.press("Enter")
    expect(run).to_be_enabled()


@pytest.mark.browser
def test_a_link_reproduces_the_view(page: Any, chromium: Any) -> None:
    _set_draws(page, DRAWS)
    delay = page.get_by_test_id("stSlider").filter(has_text="Licence delay").first
    delay.get_by_role("slider").last.press("End")
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
    _run(page)
    expect(page.get_by_text("Results: china-2025-april")).to_be_visible()
    # The page writes its state into its address when a script run ends.
    # (every part of the state, in any order: results are drawn before the address is written)
    expect(page).to_have_url(re.compile(rf"(?=.*delay0\.0=)(?=.*draws={DRAWS}\b)(?=.*run=1)"))
    url = page.url
    assert "run=1" in url
    figure = _metric(page, SHORTFALL_METRIC)
    page.close()  # one page at a time: the link is opened as a new visitor would
    other = chromium.new_context(viewport={"width": 1400, "height": 1000})
    try:
        second = other.new_page()
        second.set_default_timeout(120_000)
        second.goto(url)
        expect(second.get_by_role("spinbutton", name="Draws")).to_have_value(DRAWS)
        expect(second.get_by_text("Results: china-2025-april")).to_be_visible()
        assert _metric(second, SHORTFALL_METRIC) == figure
    finally:
        other.close()


@pytest.mark.browser
def test_each_chart_downloads_as_csv_and_png_and_the_workbook(page: Any, tmp_path: Path) -> None:
    _set_draws(page, DRAWS)
    _run(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV", exact=True).first.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Magnet shortfall peaks in")
    assert "data version" in text.splitlines()[1]
    with page.expect_download() as info:
        page.get_by_role("button", name="PNG", exact=True).first.click()
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the workbook (Excel)").click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert {"About", "Monthly paths", "Headline", "Sources"} <= set(book.sheetnames)


@pytest.mark.browser
def test_bad_upload_names_the_field(page: Any) -> None:
    page.get_by_text("Upload a scenario YAML").click()
    bad = b"name: bad\nhorizon_months: -3\nsurprise: 1\n"
    page.locator("input[type=file]").set_input_files(
        {"name": "bad.yaml", "mimeType": "application/x-yaml", "buffer": bad}
    )
    alert = page.get_by_test_id("stAlert").filter(has_text="invalid scenario")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("bad.yaml")
    expect(alert).to_contain_text("field 'horizon_months'")
    expect(alert).to_contain_text("field 'surprise'")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-bad-upload.png"), full_page=True)
