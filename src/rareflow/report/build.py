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

from rareflow import __version__, display, outputs
from rareflow.analysis.compare import Window, paired_effect
from rareflow.analysis.production import sector_values
from rareflow.data import query
from rareflow.data.load import Dataset
from rareflow.errors import InputError
from rareflow.report import fan, geo, sankey, story, tables
from rareflow.report.source import ReportRun
from rareflow.scenario.levers.base import PRICE_YEAR

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
    messages
        Key messages, each linked to the figure that shows it.
    notes
        Each figure's note: unit, source and data version (also drawn under the figure).
    data
        Each figure's data as a table (for CSV downloads).
    sections
        The page's sections (anchor, heading, figures); None: a single run's sections.
    """

    title: str
    figures: dict[str, go.Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    lever_costs: pd.DataFrame | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    scenario_yaml: str = ""
    messages: list[story.Message] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    data: dict[str, pd.DataFrame] = field(default_factory=dict)
    sections: list[tuple[str, str, list[str]]] | None = None


def provenance(shock: ReportRun, baseline: ReportRun | None, dataset: Dataset) -> dict[str, str]:
    """Return what a report's runs were made from, for the record and the reader."""
    sc = shock.scenario
    out = {
        "scenario": sc.name,
        "focal country": sc.country,
        "run id": shock.run_id or "not stored",
        "draws": f"{shock.draws:,}",
        "seed": str(sc.seed),
        "horizon": f"{sc.horizon_months} months from {sc.start:%b %Y}"
        + ("" if sc.step_months == 1 else f", computed in steps of {sc.step_months} months"),
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


def _notes(shock: ReportRun, alone: bool) -> dict[str, str]:
    """Each figure's unit, source and data version, in one line."""
    run = f"rareflow run {shock.run_id}" if shock.run_id else "rareflow run (not stored)"
    src = (
        f"Source: {run}, {shock.draws:,} draws, seed {shock.scenario.seed}; "
        f"data version {shock.data_version}"
    )
    base = "dashed: the same scenario without the shock"
    notes = {
        "fan_shortfall": f"Unit: t magnet a month. Median, 25-75% and 5-95% of draws; {base}. "
        f"Dotted lines: events of the scenario. {src}",
        "sector_shortfall": f"Unit: % of each sector's magnet requirement over the horizon. {src}",
        "sankey_magnets": f"Unit: t magnet over the horizon, mean of draws. {src}",
        "sankey_ndpr": f"Units: t oxide and t metal over the horizon, mean of draws. {src}",
        "fan_prices": f"Unit: multiple of the pre-shock price (prices: USGS, prices.csv). {src}",
        "fan_stocks": f"Units: each material on its own mass basis, end of month. {src}",
        "map_imports": f"Unit: t magnet shipped over the horizon, mean of draws (trade.csv). {src}",
    }
    if alone:
        notes["what_helps"] = (
            "Unit: t magnet a month, median of draws; the same draws and seed with and "
            f"without the levers. {src}"
        )
    return notes


def figure_data(fig: go.Figure) -> pd.DataFrame:
    """Return a figure's drawn data as one long table (trace, x, y, and z or labels)."""
    frames = []
    for trace in fig.data:
        name = getattr(trace, "name", None) or trace.type
        if trace.type == "sankey":
            labels = list(trace.node.label)
            frames.append(
                pd.DataFrame(
                    {
                        "trace": name,
                        "from": [labels[i] for i in trace.link.source],
                        "to": [labels[i] for i in trace.link.target],
                        "value": list(trace.link.value),
                    }
                )
            )
        elif trace.type == "choropleth":
            frames.append(
                pd.DataFrame({"trace": name, "location": trace.locations, "value": trace.z})
            )
        elif getattr(trace, "x", None) is not None and getattr(trace, "y", None) is not None:
            frames.append(pd.DataFrame({"trace": name, "x": list(trace.x), "y": list(trace.y)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def inr_per_usd(dataset: Dataset) -> float | None:
    """Return the dataset's ₹ per US$ for the price year (exchange_rates.csv), or None."""
    return query.inr_per_usd(dataset, PRICE_YEAR)


def build_report(
    shock: ReportRun,
    baseline: ReportRun | None,
    dataset: Dataset,
    shock_alone: ReportRun | None = None,
) -> Report:
    """Build every figure and table of a run's report, and its key messages.

    Parameters
    ----------
    shock
        The run.
    baseline
        Its baseline (see :func:`rareflow.report.source.baseline_for`), or None.
    dataset
        The dataset for the indicators and the processes' recipes.
    shock_alone
        The run without its levers (:func:`rareflow.report.source.shock_alone_for`), for
        "what helps"; None when the run has no levers.
    """
    sc = shock.scenario
    res = shock.results
    base = None if baseline is None or baseline is shock else baseline.results
    alone = None if shock_alone is None else shock_alone.results
    recipes = sankey.process_recipes(sc, dataset)
    marks = story.events(sc)
    rate = inr_per_usd(dataset)
    report = Report(title=f"rareflow: {sc.name}, {sc.country}")
    report.figures = {
        "fan_shortfall": fan.shortfall_fan(res, base, sc.step_months, marks),
        "sector_shortfall": story.sector_figure(res, base),
    }
    if alone is not None:
        report.figures["what_helps"] = story.what_helps_figure(res, alone, base)
    report.figures |= {
        "sankey_magnets": sankey.magnet_sankey(res, base, recipes, (sc.name, "without the shock")),
        "sankey_ndpr": sankey.ndpr_sankey(res, recipes, sc.name),
        "fan_prices": fan.price_fan(res, base, marks),
        "fan_stocks": fan.stock_fan(res, base, marks),
        "map_imports": geo.import_map(res),
    }
    report.notes = _notes(shock, alone is not None)
    report.data = {name: figure_data(fig) for name, fig in report.figures.items()}
    for name, fig in report.figures.items():
        story.stamp(fig, report.notes[name])
    report.messages = story.key_messages(res, base, alone, rate)
    report.tables = {
        "Headline figures, all sectors": tables.headline_frame(res, base, rate),
        "Shortfall by sector (median [5th..95th percentile] over draws)": tables.sector_frame(
            res, sc.step_months, sector_values(dataset, sc.country)
        ),
        **tables.indicator_frames(dataset, sc.country),
    }
    if alone is not None:
        effect = paired_effect(res, alone, sc.step_months, sector_values(dataset, sc.country))
        window = Window(sc.start, sc.horizon_months, sc.step_months).label
        report.tables[f"What the levers buy against the shock alone, {window}"] = (
            tables.effect_frame(effect)
        )
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
ol.findings li { font-size: 16px; margin: 6px 0; }
"""

_SECTIONS = (
    ("shortfall", "Who is hit, when, how deep", ["fan_shortfall", "sector_shortfall"]),
    ("helps", "What helps", ["what_helps"]),
    ("chain", "The chain: mines to magnets", ["sankey_magnets", "sankey_ndpr"]),
    ("prices", "Prices and stocks", ["fan_prices", "fan_stocks"]),
    ("sources", "Import sources", ["map_imports"]),
)


def _table_html(frame: pd.DataFrame) -> str:
    return display.frame(frame).to_html(index=False, border=0, na_rep="–", escape=True)


def _figure_html(report: Report, name: str) -> str:
    return str(
        pio.to_html(
            report.figures[name],
            full_html=False,
            include_plotlyjs=False,
            config=FIGURE_CONFIG,
            div_id=name,
        )
    )


def render_html(report: Report) -> str:
    """Render a report as one HTML document with plotly.js and all data inline.

    The page opens with the key messages, each a link to the chart that shows it.
    """
    e = html.escape
    full = report.sections is None
    wanted = _SECTIONS if report.sections is None else tuple(report.sections)
    sections = [s for s in wanted if any(f in report.figures for f in s[2])]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title><style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        geo.geo_assets_script(),
        "</head><body>",
        f"<h1>{e(report.title)}</h1>",
        '<nav><a href="#findings">Key findings</a>'
        + "".join(f'<a href="#{key}">{e(name)}</a>' for key, name, _ in sections)
        + ('<a href="#indicators">Indicators</a><a href="#levers">Levers</a>' if full else "")
        + '<a href="#scenario">Scenario and provenance</a></nav>',
        '<h2 id="findings">Key findings</h2><ol class="findings">',
        *(
            f'<li>{e(m.text)} <a href="#{e(m.anchor)}">See the chart.</a></li>'
            for m in report.messages
        ),
        "</ol>",
        '<p class="note">Each uncertain figure is the median over draws with the 5th-95th '
        "percentile range in brackets. Magnet tonnages are t magnet; upstream materials are each "
        "on their own basis (t oxide, t metal), never added together. Money is in US$ of 2025 "
        "with ₹ crore beside it (exchange_rates.csv).</p>",
    ]
    headings = list(report.tables)
    for heading in headings[:2]:
        parts += [f"<h3>{e(heading)}</h3>", _table_html(report.tables[heading])]
    for key, name, figures in sections:
        parts.append(f'<h2 id="{key}">{e(name)}</h2>')
        parts += [_figure_html(report, f) for f in figures if f in report.figures]
    if full:
        parts.append('<h2 id="indicators">Indicators on the dataset</h2>')
    for heading in headings[2:]:
        parts += [f"<h3>{e(heading)}</h3>", _table_html(report.tables[heading])]
    if full:
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


def write_bytes_atomic(data: bytes, path: Path, what: str) -> Path:
    """Write bytes to a file atomically (a partial file never has the final name).

    Raises
    ------
    rareflow.errors.InputError
        If the file cannot be written.
    """
    target = outputs.output_file(path, what)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {what} to {target}: {exc.strerror}") from None
    return target
