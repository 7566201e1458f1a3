"""The validation report: one offline HTML page, model against observation on the same axes."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from rareflow.analysis.validation import Validation
from rareflow.report.build import CSS, FIGURE_CONFIG, write_text_atomic
from rareflow.report.style import BASELINE, SHOCK, label, layout, rgba

_VARIANT_COLOURS = ("#2c7fb8", "#d95f02", "#7570b3", "#1b9e77", "#e7298a")


def _mid(first: str, last: str) -> pd.Timestamp:
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    return a + (b - a) / 2


def losses_figure(paths: list[dict[str, Any]], title: str) -> go.Figure:
    """Model loss (median and 5-95% band) and observed losses, one panel per series."""
    titles = [f"{label(p['subject'])} ({p['series']})" for p in paths]
    rows = (len(paths) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=titles, vertical_spacing=0.1)
    for i, p in enumerate(paths):
        row, col = i // 2 + 1, i % 2 + 1
        months = pd.to_datetime(p["months"])
        first = i == 0
        fig.add_trace(
            go.Scatter(
                x=months,
                y=p["p95"],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=p["p05"],
                mode="lines",
                fill="tonexty",
                line={"width": 0},
                fillcolor=rgba(BASELINE, 0.2),
                name="model 5-95%",
                showlegend=first,
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=p["median"],
                mode="lines",
                line={"color": BASELINE},
                name="model median",
                showlegend=first,
            ),
            row=row,
            col=col,
        )
        for j, o in enumerate(p["observed"]):
            if o["first"] == o["last"]:
                xs, mode = [pd.Timestamp(o["first"])], "markers"
                ys = [o["loss"]]
            else:
                xs, mode = [pd.Timestamp(o["first"]), pd.Timestamp(o["last"])], "lines+markers"
                ys = [o["loss"], o["loss"]]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode=mode,
                    marker={"color": SHOCK, "size": 9},
                    line={"color": SHOCK, "width": 3},
                    name="observed",
                    text=[o["label"]] * len(xs),
                    showlegend=first and j == 0,
                ),
                row=row,
                col=col,
            )
        fig.update_yaxes(title_text="% lost", range=[-3, 103], row=row, col=col)
    fig.update_layout(**layout(title, height=300 * rows + 80))
    return fig


def prices_figure(paths: list[dict[str, Any]], cutoff: str) -> go.Figure:
    """2010: each variant's price path (fit to June 2011) and the observed prices."""
    elements = list(dict.fromkeys(p["element"] for p in paths))
    fig = make_subplots(
        rows=len(elements), cols=1, subplot_titles=[f"{e} oxide, US$/kg" for e in elements]
    )
    variants = list(dict.fromkeys(p["variant"] for p in paths))
    for i, el in enumerate(elements, start=1):
        for p in (p for p in paths if p["element"] == el):
            k = variants.index(p["variant"])
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime(p["months"]),
                    y=p["price"],
                    line={"color": _VARIANT_COLOURS[k % len(_VARIANT_COLOURS)]},
                    name=p["variant"],
                    showlegend=i == 1,
                ),
                row=i,
                col=1,
            )
        obs = next(p for p in paths if p["element"] == el)["observed"]
        marks = ((True, "observed, fitted", "circle"), (False, "observed, test", "circle-open"))
        for train, name, symbol in marks:
            pts = [o for o in obs if o["train"] is train]
            fig.add_trace(
                go.Scatter(
                    x=[_mid(o["first"], o["last"]) for o in pts],
                    y=[o["value"] for o in pts],
                    mode="markers",
                    marker={"color": SHOCK, "size": 10, "symbol": symbol, "line": {"width": 2}},
                    name=name,
                    showlegend=i == 1,
                ),
                row=i,
                col=1,
            )
        end = pd.Timestamp(cutoff) + pd.offsets.MonthEnd(0)
        fig.add_vline(x=end, line_dash="dot", row=i, col=1)
        fig.update_yaxes(type="log", row=i, col=1)
    fig.update_layout(
        **layout("2010-2014: fitted on prices to June 2011 (dotted line), scored after it", 720)
    )
    return fig


def _table(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> str:
    frame = pd.DataFrame(rows)
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    return frame.to_html(index=False, border=0, na_rep="", escape=True)


def _figure(fig: go.Figure, div_id: str) -> str:
    return str(
        pio.to_html(
            fig, full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG, div_id=div_id
        )
    )


def _errors_2010(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        row: dict[str, Any] = {"variant": e["variant"]}
        for part in ("fit", "test", "leave_one_year_out", "in_sample_all"):
            if part in e:
                row[f"{part} points"] = e[part]["points"]
                row[f"{part} mean |log|"] = e[part]["mean_abs_log"]
                row[f"{part} median |error| %"] = e[part]["median_abs_error_pct"]
        row["fitted"] = ", ".join(f"{k} {v:g}" for k, v in e["fitted"].items())
        out.append(row)
    return out


def render_validation_html(result: Validation) -> str:
    """Render every episode's scorecard, skill and figures as one page."""
    e = html.escape
    doc = result.document()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>rareflow validation</title><style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        "<h1>Does it predict? rareflow against what happened</h1>",
        "<ul>",
        *(f"<li>{e(n)}</li>" for n in result.notes),
        "</ul>",
        "<h2>2025: China's April controls as they reached India</h2>",
    ]
    for i, card in enumerate(doc["episode_2025"]):
        parts += [
            f"<h3>{e(card['preset'])}</h3>",
            _figure(
                losses_figure(card["paths"], f"{card['preset']}: loss by month, model, observed"),
                f"losses-{i}",
            ),
            "<h4>Scorecard</h4>",
            _table(card["scorecard"], ("episode", "preset")),
            "<h4>Skill against naive rivals (mean absolute error, points of % lost)</h4>",
            _table(card["skill"], ("episode", "preset")),
            "<ul>",
            *(f"<li>{e(n)}</li>" for n in card["notes"]),
            "</ul>",
        ]
    ep = doc["episode_2010"]
    parts += [
        "<h2>2010-2014: China's export quotas, out of sample</h2>",
        _figure(prices_figure(ep["paths"], "2011-06"), "prices-2010"),
        "<h4>Errors: fit (to June 2011) beside test (after it)</h4>",
        _table(_errors_2010(ep["errors"])),
        "<h4>Peaks, dated to when they happened</h4>",
        _table(ep["scorecard"], ("episode", "model_5_95")),
        "<h4>Skill against persistence (test prices)</h4>",
        _table(ep["skill"], ("episode",)),
        "<ul>",
        *(f"<li>{e(n)}</li>" for n in ep["notes"]),
        "</ul>",
        "<h2>The 2025 observations and their sources</h2>",
        result.observed.to_html(index=False, border=0, na_rep="", escape=True),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_validation_html(result: Validation, path: Path) -> Path:
    """Write the validation page atomically.

    Raises
    ------
    rareflow.errors.InputError
        If the file cannot be written.
    """
    return write_text_atomic(render_validation_html(result), path, "the validation report")
