"""The dashboard in a real browser: run, change a parameter, upload a bad file, download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SHORTFALL = "Cumulative shortfall, median (t magnet)"


def _metric(page: Any, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return str(box.get_by_test_id("stMetricValue").inner_text())


def _run(page: Any) -> None:
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Done: stored as run")).to_be_visible()


@pytest.mark.browser
def test_run_change_a_parameter_and_download(page: Any, tmp_path: Path) -> None:
    draws = page.get_by_label("Draws")
    draws.fill("40")
    draws.press("Enter")
    _run(page)
    expect(page.get_by_text("Headline figures, all sectors")).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".js-plotly-plot")).to_be_visible()
    expect(chart).to_contain_text("Magnet shortfall by sector")
    before = _metric(page, SHORTFALL)
    assert float(before.replace(",", "")) > 0
    page.screenshot(path=str(SCREENSHOTS / "dashboard-run.png"), full_page=True)

    # Let other partners double their deliveries: the shortfall must fall.
    surge = page.get_by_test_id("stSlider").filter(has_text="Non-China surge")
    surge.get_by_role("slider").press("End")
    expect(surge).to_contain_text("2.00")
    _run(page)
    expect(page.get_by_test_id("stMetric").filter(has_text=SHORTFALL)).not_to_contain_text(before)
    after = _metric(page, SHORTFALL)
    assert float(after.replace(",", "")) < float(before.replace(",", ""))
    page.screenshot(path=str(SCREENSHOTS / "dashboard-surge.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the report (HTML)").click()
    target = tmp_path / "report.html"
    info.value.save_as(target)
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Scenario and provenance" in html
    assert "nonchina_surge: 2.0" in html

    page.get_by_role("tab", name="Compare stored runs").click()
    page.get_by_test_id("stMultiSelect").click()
    page.get_by_role("option").first.click()
    expect(page.get_by_text("Shortfall, all sectors (t magnet per step)")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-compare.png"), full_page=True)


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
