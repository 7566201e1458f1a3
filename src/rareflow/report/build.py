"""Assemble the report's figures and tables and write them as one self-contained HTML file.

plotly.js (about 4.8 MB) is embedded once in the page's head and every figure is a ``<div>``
with its data inline; the world geometry for the map is embedded too (:mod:`.geo`). The page
loads nothing from the network, so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from rareflow import __version__, outputs
from rareflow.data.load import Dataset
from rareflow.report import fan, geo, sankey, tables
from rareflow.report.source import ReportRun

FIGURE_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass
class Report:
    """A report's content, ready to render as HTML or to show in the dashboard.

    Parameters
    ----------
    title
        Page title.
    figures
        Figures by file-safe name, in the order shown.
    tables
        Tables by heading, in the order shown.
    lever_costs
        Lever costs, or None when the run has no lever costs.
    provenance
        What the runs were made from, by label.
    scenario_yaml
        The resolved scenario.
    """

    title: str
    figures: dict[str, go.Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    lever_costs: pd.DataFrame | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    scenario_yaml: str = ""


def provenance(shock: ReportRun, baseline: ReportRun | None, dataset: Dataset) -> dict[str, str]:
    """Return what a report's runs were made from, for the record and the reader."""
    sc = shock.scenario
    out = {
        "scenario": sc.name,
        "focal country": sc.country,
        "run id": shock.run_id or "not stored",
        "draws": f"{shock.draws:,}",
        "seed": str(sc.seed),
        "horizon": f"{sc.horizon_months} months from {sc.start:%Y-%m}, steps of {sc.step_months}",
        "data version": shock.data_version,
        "code version": shock.code_version,
        "run started (UTC)": f"{shock.started_at:%Y-%m-%d %H:%M:%S}",
        "run finished (UTC)": f"{shock.finished_at:%Y-%m-%d %H:%M:%S}",
    }
    if baseline is None:
        out["baseline"] = "none"
    elif baseline is shock:
        out["baseline"] = "the run itself (it has no shocks or levers)"
    else:
        out["baseline"] = (
            f"the scenario without its shocks and levers, same draws and seed, data version "
            f"{baseline.data_version}, run {baseline.finished_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    if dataset.version != shock.data_version:
        out["note"] = (
            f"the run used data version {shock.data_version}; the indicators and the baseline "
            f"use the current dataset, version {dataset.version}"
        )
    out["report made (UTC)"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} by rareflow {__version__}"
    return out


def build_report(shock: ReportRun, baseline: ReportRun | None, dataset: Dataset) -> Report:
    """Build every figure and table of a run's report.

    Parameters
    ----------
    shock
        The run.
    baseline
        Its baseline (see :func:`rareflow.report.source.baseline_for`), or None.
    dataset
        The dataset for the indicators and the processes' recipes.
    """
    sc = shock.scenario
    res = shock.results
    base = None if baseline is None or baseline is shock else baseline.results
    recipes = sankey.process_recipes(sc, dataset)
    report = Report(title=f"rareflow: {sc.name}, {sc.country}")
    report.figures = {
        "sankey_magnets": sankey.magnet_sankey(res, base, recipes, (sc.name, "baseline")),
        "sankey_ndpr": sankey.ndpr_sankey(res, recipes, sc.name),
        "fan_shortfall": fan.shortfall_fan(res, base, sc.step_months),
        "fan_prices": fan.price_fan(res, base),
        "fan_stocks": fan.stock_fan(res, base),
        "map_imports": geo.import_map(res, sc.name),
    }
    report.tables = {
        "Headline figures, all sectors": tables.headline_frame(res, base),
        "Shortfall by sector (median [5th..95th percentile] over draws)": tables.sector_frame(
            res, sc.step_months
        ),
        **tables.indicator_frames(dataset, sc.country),
    }
    report.lever_costs = tables.lever_cost_frame(res)
    report.provenance = provenance(shock, baseline, dataset)
    report.scenario_yaml = shock.scenario_yaml
    return report


CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 24px 48px; color: #222; }
h1 { font-size: 26px; margin-top: 28px; } h2 { font-size: 20px; margin-top: 36px;
     border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin-top: 22px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 10px; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; }
pre { background: #f7f7f7; padding: 12px; overflow-x: auto; font-size: 12px; }
.note { color: #555; font-size: 13px; }
nav a { margin-right: 14px; }
"""

_SECTIONS = (
    ("chain", "The chain: mines to magnets", ["sankey_magnets", "sankey_ndpr"]),
    ("shortfall", "Shortfall over time", ["fan_shortfall"]),
    ("prices", "Prices and stocks", ["fan_prices", "fan_stocks"]),
    ("sources", "Import sources", ["map_imports"]),
)


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, na_rep="", escape=True)


def render_html(report: Report) -> str:
    """Render a report as one HTML document with plotly.js and all data inline."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title><style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        geo.geo_assets_script(),
        "</head><body>",
        f"<h1>{e(report.title)}</h1>",
        '<nav><a href="#summary">Summary</a>'
        + "".join(f'<a href="#{key}">{e(name)}</a>' for key, name, _ in _SECTIONS)
        + '<a href="#indicators">Indicators</a><a href="#levers">Levers</a>'
        '<a href="#scenario">Scenario and provenance</a></nav>',
        '<h2 id="summary">Summary</h2>',
        '<p class="note">Each uncertain figure is the median over draws with the 5th-95th '
        "percentile range in brackets. Magnet tonnages are t magnet; upstream materials are each "
        "on their own basis (t oxide, t metal), never added together.</p>",
    ]
    headings = list(report.tables)
    for heading in headings[:2]:
        parts += [f"<h3>{e(heading)}</h3>", _table_html(report.tables[heading])]
    for key, name, figures in _SECTIONS:
        parts.append(f'<h2 id="{key}">{e(name)}</h2>')
        for fig_name in figures:
            parts.append(
                pio.to_html(
                    report.figures[fig_name],
                    full_html=False,
                    include_plotlyjs=False,
                    config=FIGURE_CONFIG,
                    div_id=fig_name,
                )
            )
    parts.append('<h2 id="indicators">Indicators on the dataset</h2>')
    for heading in headings[2:]:
        parts += [f"<h3>{e(heading)}</h3>", _table_html(report.tables[heading])]
    parts.append('<h2 id="levers">Levers and their costs</h2>')
    if report.lever_costs is None:
        parts.append('<p class="note">No levers with costs in this scenario.</p>')
    else:
        parts.append(_table_html(report.lever_costs))
    parts.append('<h2 id="scenario">Scenario and provenance</h2><table>')
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in report.provenance.items()]
    parts += [
        "</table>",
        "<h3>The scenario as run (every default filled in)</h3>",
        f"<pre>{e(report.scenario_yaml)}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_text_atomic(text: str, path: Path, what: str = "the report") -> Path:
    """Write a file atomically (a partial file never has the final name).

    See :func:`rareflow.outputs.write_text_atomic`, which checks the path under rareflow's one
    rule for outputs (the parent folder must exist).

    Raises
    ------
    rareflow.errors.InputError
        If the file cannot be written.
    """
    return outputs.write_text_atomic(text, path, what)


def write_html(report: Report, path: Path) -> Path:
    """Write a report's HTML to a file, atomically (a partial file never has the final name).

    Raises
    ------
    rareflow.errors.InputError
        If the file cannot be written.
    """
    return write_text_atomic(render_html(report), path)
