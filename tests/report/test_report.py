"""The report: content, balance of the Sankeys, offline HTML, figure export and the CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from rareflow.cli import report as report_cmd
from rareflow.data.load import Dataset
from rareflow.model.network import MAGNETS
from rareflow.report import Report, write_html
from rareflow.report.build import render_html
from rareflow.report.sankey import node_flows, process_recipes
from rareflow.report.source import ReportRun
from rareflow.report.tables import lever_cost_frame

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
ALLOWED = ("file://", "data:", "blob:", "about:")


FIGURES = {
    "sector_shortfall",
    "sankey_magnets",
    "sankey_ndpr",
    "fan_shortfall",
    "fan_prices",
    "fan_stocks",
    "map_imports",
}


def test_report_has_every_part(default_report: Report) -> None:
    assert set(default_report.figures) == FIGURES
    sectors = default_report.tables[
        "Shortfall by sector (median [5th..95th percentile] over draws)"
    ]
    assert "ev_car" in set(sectors["sector"])
    assert default_report.lever_costs is None
    assert default_report.provenance["seed"] == "1"
    assert "china-2025-april" in default_report.scenario_yaml
    html = render_html(default_report)
    assert "No levers with costs in this scenario." in html
    assert "Scenario and provenance" in html


def test_magnet_sankey_balances_and_keeps_bases_apart(
    default_runs: tuple[ReportRun, ReportRun], dataset: Dataset
) -> None:
    shock, _ = default_runs
    res = shock.results
    flows = node_flows(res, MAGNETS, process_recipes(shock.scenario, dataset), "IND magnets")
    assert flows.unit == "t_magnet"
    assert sum(flows.sources.values()) == pytest.approx(sum(flows.sinks.values()), rel=1e-9)
    delivered = float(res["delivered"].sum(["time", "sector"]).mean("draw"))
    assert sum(v for k, v in flows.sinks.items() if k in flows.unmet or k[0].isupper()) == (
        pytest.approx(delivered, rel=1e-9)
    )
    assert sum(flows.unmet.values()) == pytest.approx(
        float(res["shortfall"].sum(["time", "sector"]).mean("draw")), rel=1e-9
    )
    with pytest.raises(ValueError, match="different bases"):
        node_flows(res, ["oxide_ndpr", "metal_ndpr"], (), "mixed")


def test_lever_costs_appear_when_results_carry_them(
    default_runs: tuple[ReportRun, ReportRun],
) -> None:
    res = default_runs[0].results
    costed = res.assign(stockpile_cost=res["import_cost"] * 0 + 2e6)
    costed["stockpile_cost"].attrs["unit"] = "usd"
    table = lever_cost_frame(costed)
    assert table is not None
    assert list(table["lever"]) == ["stockpile_cost"]
    assert table["total (US$ million)"][0].startswith("72.0")


@pytest.mark.browser
def test_default_report_is_small_and_loads_nothing_external(
    default_report: Report, chromium: Any, tmp_path: Path
) -> None:
    path = write_html(default_report, tmp_path / "report.html")
    assert path.stat().st_size < 10_000_000
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?https?:", text, re.IGNORECASE)
    # plotly.js itself names CDNs as defaults (topojson, map styles) that the page never uses;
    # everything else in the page must name none.
    assert get_plotlyjs() in text
    assert "https://cdn" not in text.replace(get_plotlyjs(), "")
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("#map_imports .geo path.choroplethlocation", timeout=20_000)
    page.wait_for_selector("#sankey_magnets .sankey-node", timeout=20_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    page.close()
    assert [u for u in requests if not u.startswith(ALLOWED)] == []
    assert errors == []


def _cli() -> typer.Typer:
    app = typer.Typer()
    report_cmd.register(app)

    @app.callback()
    def _root() -> None:
        """Test app."""

    return app


@pytest.mark.browser
def test_cli_writes_report_from_scenario_then_from_run_id_with_figures(
    tmp_path: Path, chromium: Any
) -> None:
    store = tmp_path / "store"
    runner = CliRunner()
    first = runner.invoke(
        _cli(),
        ["report", "china-2025-april", "--draws", "20", "--out", str(tmp_path / "a.html"),
         "--store", str(store)],
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    run_id = re.search(r"stored as run (\S+)", first.output)
    assert run_id is not None
    assert (tmp_path / "a.html").is_file()
    second = runner.invoke(
        _cli(),
        ["report", run_id.group(1), "--store", str(store), "--out", str(tmp_path / "b.html"),
         "--figures", str(tmp_path / "figs"), "--image-format", "svg", "--quiet"],
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    svgs = {p.name for p in (tmp_path / "figs").iterdir()}
    assert svgs == {f"{name}.svg" for name in FIGURES}
    assert "<svg" in (tmp_path / "figs" / "map_imports.svg").read_text(encoding="utf-8")[:500]


def test_cli_unknown_run_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _cli(),
        ["report", "20200101T000000000000Z-00000000", "--store", str(tmp_path), "--quiet"],
    )
    assert result.exit_code != 0
    assert "no run" in str(result.exception)
