"""The report's story: key messages, events, what helps, readable tables, every run kind."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from rareflow import display
from rareflow.cli import ROOT
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.report import Report, baseline_for, build_report, from_result
from rareflow.report.build import render_html
from rareflow.report.source import ReportRun, shock_alone_for
from rareflow.report.story import events, key_messages
from rareflow.scenario.load import load_scenario


def test_key_messages_come_first_and_name_their_charts(default_report: Report) -> None:
    html = render_html(default_report)
    assert 3 <= len(default_report.messages) <= 5
    assert html.index("Key findings") < html.index('id="fan_shortfall"')
    for message in default_report.messages:
        assert message.anchor in default_report.figures
        assert f'href="#{message.anchor}"' in html


def test_messages_state_the_run_numbers(
    default_runs: tuple[ReportRun, ReportRun], default_report: Report
) -> None:
    shock, _ = default_runs
    total = float(np.median(shock.results["shortfall"].sum(["sector", "time"]).to_numpy()))
    assert any(
        f"{total:,.0f} t of magnet is not delivered" in m.text for m in default_report.messages
    )


def test_every_chart_has_unit_source_and_data_version(
    default_runs: tuple[ReportRun, ReportRun], default_report: Report
) -> None:
    version = default_runs[0].data_version
    for name, fig in default_report.figures.items():
        texts = " ".join(a.text or "" for a in fig.layout.annotations)
        assert f"data version {version}" in texts, name
        assert "Unit" in texts, name
        assert fig.layout.title.text, name


def test_events_of_the_april_controls_are_marked(default_report: Report) -> None:
    sc = load_scenario("china-2025-april")
    marks = events(sc)
    assert (date(2025, 4, 4), "cn-2025-04 starts") in marks
    assert any(when == date(2025, 10, 30) for when, _ in marks)
    fan = default_report.figures["fan_shortfall"]
    lines = [s.x0 for s in fan.layout.shapes]
    assert "2025-04-04" in lines
    assert "2025-10-30" in lines


def test_tables_read_as_words_not_ids(default_report: Report) -> None:
    html = render_html(default_report)
    for raw in (">ev_car<", ">two_wheeler<", ">None<", ">nan<", ">hhi_min<", ">top3_share<"):
        assert raw not in html, raw
    assert "Electric cars" in html
    assert "steps" not in re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)


def test_display_names_units_cells_and_money() -> None:
    assert display.name("ev_car") == "Electric cars"
    assert display.unit("t_magnet") == "t magnet"
    assert display.cell(2025.0) == "2,025"
    assert display.cell(None) == "–"
    assert display.cell(float("nan")) == "–"
    assert display.month(np.datetime64("2025-04-01")) == "Apr 2025"
    assert display.usd_inr(90_827_393.0, 85.0) == "US$90.8 million (₹772 crore)"


def test_what_helps_compares_levers_with_the_shock_alone(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("china-2025-april+stockpile"), draws=60)
    shock = from_result(run(sc, dataset=dataset))
    alone = shock_alone_for(shock, dataset)
    assert alone is not None
    assert not alone.scenario.levers
    assert alone.scenario.shocks == shock.scenario.shocks
    report = build_report(shock, baseline_for(shock, dataset), dataset, alone)
    fig = report.figures["what_helps"]
    names = [t.name for t in fig.data]
    assert names == ["the shock alone", "with the levers", "without the shock"]
    with_l = np.median(shock.results["shortfall"].sum(["sector", "time"]).to_numpy())
    without = np.median(alone.results["shortfall"].sum(["sector", "time"]).to_numpy())
    assert f"avoid {without - with_l:,.0f} t" in fig.layout.title.text
    text = " ".join(m.text for m in report.messages)
    assert "₹" in text
    assert "crore" in text
    assert report.lever_costs is not None
    assert "total (₹ crore)" in report.lever_costs.columns
    assert any(c.startswith("2025 (US$ million") for c in report.lever_costs.columns)
    # The fair comparison's figures, from the same analysis as `rareflow compare`.
    effect = next(f for t, f in report.tables.items() if t.startswith("What the levers buy"))
    figures = " ".join(effect["figure"])
    for part in ("shortfall avoided", "value of output saved", "benefit-cost ratio", "per t"):
        assert part in figures
    assert "2025-01 to 2027-12 (36 months)" in next(
        t for t in report.tables if t.startswith("What the levers buy")
    )


@pytest.mark.parametrize(
    ("kind", "args", "finding"),
    [
        ("ensemble", ["ensemble", "china-2025-april", "--draws", "30"], "are hit hardest"),
        ("sweep", ["sweep", "china-2025-april", "--set", "parameters.restock_months=0.1,0.5",
                   "--draws", "20"], "Sweep point"),
        ("sensitivity", ["sensitivity", "china-2025-april", "-m", "morris", "-n", "4"],
         "moves the total shortfall most"),
        ("optimize", ["optimize", "china-2025-april", "--draws", "8", "--until", "2026"],
         "The chosen mix costs"),
    ],
)  # fmt: skip
def test_report_of_every_run_kind(kind: str, args: list[str], finding: str, tmp_path: Path) -> None:
    store = tmp_path / "store"
    made = CliRunner().invoke(ROOT, [*args, "--store", str(store)])
    assert made.exit_code == 0, made.output
    run_id = re.findall(r"\d{8}T\d{12}Z-[0-9a-f]{8}", made.output)[-1]
    out = tmp_path / f"{kind}.html"
    done = CliRunner().invoke(
        ROOT, ["report", run_id, "--store", str(store), "--out", str(out), "--quiet"]
    )
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert f"rareflow {kind}" in html
    assert finding in html
    assert "Key findings" in html
    exported = CliRunner().invoke(
        ROOT,
        ["runs", "export", run_id, "--store", str(store), "--to", str(tmp_path / "x"),
         "--format", "xlsx"],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    book = load_workbook(tmp_path / "x" / f"{run_id}.xlsx")
    assert {"About", "Scenario", "Sources"} <= set(book.sheetnames)
    about = [c.value for c in book["About"]["A"]]
    assert "Key findings" in about


def test_a_shortfall_of_a_fraction_of_a_percent_names_no_sector_as_hit(
    default_runs: tuple[ReportRun, ReportRun],
) -> None:
    """Scaled down to a hundredth, the April shortfall is under the threshold: the messages
    say no sector loses 0.5% and no month is short by 1%, instead of "hardest hit: ... (0%)"."""
    res = default_runs[0].results.copy()
    res["shortfall"] = res["shortfall"] * 0.001
    texts = [m.text for m in key_messages(res, None, None, None)]
    assert texts[0].startswith("No sector loses 0.5% of its magnet requirement")
    assert texts[1].startswith("In the median draw no month is short by more than 1%")
    full = [m.text for m in key_messages(default_runs[0].results, None, None, None)]
    assert full[0].startswith("Hardest hit: ")
