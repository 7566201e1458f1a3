"""A backtest as one offline HTML page: the model's paths beside the cited observations."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from rareflow.analysis.backtest.periods import parse_period
from rareflow.analysis.backtest.result import BacktestResult
from rareflow.report.build import CSS, FIGURE_CONFIG, write_text_atomic
from rareflow.report.style import BASELINE, SHOCK, layout, rgba, unit_label

# Which observed series each model subject is drawn beside.
_OBSERVED_FOR = {
    "Nd oxide price": ("price_nd_oxide",),
    "Dy oxide price": ("price_dy_oxide", "price_dy_peak_japan"),
    "China's exports": ("china_exports",),
}


def _mid_month(label: str) -> str:
    period = parse_period(label)
    middle = period.first + (period.last - period.first) // 2
    return str(middle)


def backtest_figure(result: BacktestResult) -> go.Figure:
    """Model median path with its 5-95% band, and the observations as markers, per subject."""
    subjects = list(dict.fromkeys(result.monthly["subject"]))
    fig = make_subplots(rows=len(subjects), cols=1, subplot_titles=subjects, vertical_spacing=0.08)
    for i, subject in enumerate(subjects, start=1):
        part = result.monthly[result.monthly["subject"] == subject]
        unit = str(part["unit"].iloc[0])
        months = pd.to_datetime(part["month"])
        first = i == 1
        fig.add_trace(
            go.Scatter(
                x=months, y=part["p95"], line={"width": 0}, showlegend=False, hoverinfo="skip"
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=part["p05"],
                fill="tonexty",
                line={"width": 0},
                fillcolor=rgba(BASELINE, 0.2),
                name="model 5-95%",
                showlegend=first,
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=part["central"],
                line={"color": BASELINE},
                name="model (fit)",
                showlegend=first,
            ),
            row=i,
            col=1,
        )
        wanted = _OBSERVED_FOR.get(subject, ())
        if "series" not in result.series.columns:  # a table of model results, no observations
            continue
        obs = result.series[result.series["series"].isin(wanted)]
        for role, symbol in (("target", "circle"), ("context", "diamond-open")):
            pts = obs[obs["role"] == role]
            if pts.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime([_mid_month(str(p)) for p in pts["period"]]),
                    y=pts["observed"],
                    mode="markers",
                    marker={"color": SHOCK, "symbol": symbol, "size": 9},
                    name="observed (fitted)" if role == "target" else "observed (not fitted)",
                    text=[
                        f"{s} {p}: {src}"
                        for s, p, src in zip(
                            pts["series"], pts["period"], pts["source_id"], strict=True
                        )
                    ],
                    showlegend=first or role == "context",
                ),
                row=i,
                col=1,
            )
        fig.update_yaxes(
            title_text=unit_label(unit),
            row=i,
            col=1,
            type="log" if "price" in subject else "linear",
        )
    fig.update_layout(**layout(result.title, height=320 * len(subjects)))
    return fig


def render_backtest_html(result: BacktestResult) -> str:
    """Render the whole backtest (figure, comparisons, fit, series, notes) as one HTML page."""
    e = html.escape
    table = pd.DataFrame([c.row() for c in result.comparisons])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(result.title)}</title><style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>Backtest {e(result.episode)}: {e(result.title)}</h1>",
        pio.to_html(
            backtest_figure(result),
            full_html=False,
            include_plotlyjs=False,
            config=FIGURE_CONFIG,
            div_id="backtest",
        ),
        "<h2>Model beside observation</h2>",
        table.to_html(index=False, border=0, na_rep="", escape=True),
    ]
    if result.fitted:
        parts += [
            "<h2>Fitted parameters (90% intervals)</h2>",
            pd.DataFrame(result.fitted).to_html(index=False, border=0, escape=True),
            "<h2>Fit error</h2>",
            pd.DataFrame(result.fit_errors).to_html(index=False, border=0, escape=True),
        ]
    parts += [
        f"<h2>{e(result.series_title)}</h2>",
        result.series.to_html(index=False, border=0, na_rep="", escape=True),
        "<h2>Set-up and what the model leaves out</h2><ul>",
        *(f"<li>{e(n)}</li>" for n in result.notes),
        "</ul></body></html>",
    ]
    return "\n".join(parts)


def write_backtest_html(result: BacktestResult, path: Path) -> Path:
    """Write the backtest page atomically.

    Raises
    ------
    rareflow.errors.InputError
        If the file cannot be written.
    """
    return write_text_atomic(render_backtest_html(result), path, "the backtest report")
