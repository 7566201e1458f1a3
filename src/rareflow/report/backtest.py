"""A backtest as one offline HTML page: the model's paths beside the cited observations."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from rareflow import display
from rareflow.analysis.backtest.periods import parse_period
from rareflow.analysis.backtest.result import BacktestResult
from rareflow.report.build import CSS, FIGURE_CONFIG, write_text_atomic
from rareflow.report.style import BASELINE, SHOCK, layout, rgba

# Which observed series each model subject is drawn beside.
_OBSERVED_FOR = {
    "Nd oxide price": ("price_nd_oxide",),
    "Dy oxide price": ("price_dy_oxide", "price_dy_peak_japan"),
    "China's exports": ("china_exports",),
}
_SCIPY = re.compile(r"`?(\w+)`? termination condition is satisfied\.?")


def plain_note(note: str) -> str:
    """Return a note with an optimizer's raw message put in words."""
    return _SCIPY.sub(r"the fit converged (\1 tolerance reached)", note).replace(".;", ";")


def _mid_month(label: str) -> str:
    period = parse_period(label)
    middle = period.first + (period.last - period.first) // 2
    return str(middle)


def _months_in(label: str) -> int:
    period = parse_period(label)
    return int((period.last - period.first).astype(int)) + 1


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks between two positive values, for readable log axes."""
    out = []
    for k in range(int(np.floor(np.log10(max(low, 1e-9)))), int(np.ceil(np.log10(high))) + 1):
        out += [m * 10.0**k for m in (1, 2, 5) if low <= m * 10.0**k <= high]
    return out


def _identical_panels(monthly: pd.DataFrame) -> list[str]:
    """Subjects whose model paths are identical to the first subject's (drawn once)."""
    subjects = list(dict.fromkeys(monthly["subject"]))
    first = monthly[monthly["subject"] == subjects[0]][["central", "p05", "p95"]].to_numpy()
    same = [subjects[0]]
    for subject in subjects[1:]:
        values = monthly[monthly["subject"] == subject][["central", "p05", "p95"]].to_numpy()
        if values.shape == first.shape and np.allclose(values, first):
            same.append(subject)
    return same


def backtest_figure(result: BacktestResult) -> go.Figure:
    """Model median path with its 5-95% band, and the observations, one panel per subject.

    Observed totals over a period longer than a month (a year's exports) are drawn as the
    period's monthly average across it, so the monthly axis holds for both. Price panels have a
    log axis with 1-2-5 ticks. Sectors with identical paths share one panel.
    """
    monthly = result.monthly
    same = _identical_panels(monthly)
    if len(same) > 1:
        monthly = monthly[~monthly["subject"].isin(same[1:])]
        rename = {same[0]: f"{same[0].split(',')[0]}, every sector (the same share in each)"}
        monthly = monthly.assign(subject=monthly["subject"].replace(rename))
    subjects = list(dict.fromkeys(monthly["subject"]))
    fig = make_subplots(
        rows=len(subjects), cols=1, subplot_titles=subjects, vertical_spacing=0.3 / len(subjects)
    )
    model = "model (fitted)" if result.fitted else "model (out of sample: not fitted)"
    shown: set[str] = set()

    def legend(name: str) -> bool:
        first = name not in shown
        shown.add(name)
        return first

    for i, subject in enumerate(subjects, start=1):
        part = monthly[monthly["subject"] == subject]
        unit = str(part["unit"].iloc[0])
        months = pd.to_datetime(part["month"])
        band = "model 5-95% of draws"
        fig.add_trace(
            go.Scatter(
                x=months, y=part["p95"], mode="lines", line={"width": 0}, showlegend=False,
                hoverinfo="skip", legendgroup=band,
            ),
            row=i, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=months, y=part["p05"], mode="lines", fill="tonexty", line={"width": 0},
                fillcolor=rgba(BASELINE, 0.2), name=band, legendgroup=band,
                showlegend=legend(band), hoverinfo="skip",
            ),
            row=i, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=months, y=part["central"], mode="lines", line={"color": BASELINE}, name=model,
                legendgroup=model, showlegend=legend(model),
                hovertemplate="%{x|%b %Y}: %{y:,.1f} " + display.unit(unit) + "<extra></extra>",
            ),
            row=i, col=1,
        )  # fmt: skip
        wanted = _OBSERVED_FOR.get(subject, ())
        per_month = "month" in unit
        if "series" in result.series.columns:
            obs = result.series[result.series["series"].isin(wanted)]
            for role, symbol in (("target", "circle"), ("context", "diamond-open")):
                pts = obs[obs["role"] == role]
                if pts.empty:
                    continue
                name = "observed (fitted to)" if role == "target" else "observed (not fitted)"
                if per_month:
                    _period_means(fig, pts, name, legend, i)
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=pd.to_datetime([_mid_month(str(p)) for p in pts["period"]]),
                        y=pts["observed"], mode="markers",
                        marker={"color": SHOCK, "symbol": symbol, "size": 9}, name=name,
                        legendgroup=name, showlegend=legend(name),
                        text=[f"{s} {p}: {src}" for s, p, src in zip(
                            pts["series"], pts["period"], pts["source_id"], strict=True)],
                    ),
                    row=i, col=1,
                )  # fmt: skip
        axis: dict[str, object] = {"title_text": display.unit(unit), "row": i, "col": 1}
        if "price" in subject:
            values = part[["p05", "p95", "central"]].to_numpy().ravel()
            ticks = _log_ticks(float(np.nanmin(values)) * 0.8, float(np.nanmax(values)) * 1.5)
            axis |= {"type": "log", "tickvals": ticks, "ticktext": [f"{t:,.0f}" for t in ticks]}
        fig.update_yaxes(**axis)
    height = 130 + 300 * len(subjects)
    frame = layout(result.title, height=height)
    frame["margin"] = {"l": 90, "r": 20, "t": 120, "b": 40}
    # The legend sits between the title and the first panel's title, in pixels.
    place = {"orientation": "h", "y": 1 + 40 / (height - 160), "yanchor": "bottom", "x": 0}
    fig.update_layout(**frame, legend=place)
    return fig


def _period_means(
    fig: go.Figure, pts: pd.DataFrame, name: str, legend: Callable[[str], bool], row: int
) -> None:
    """Draw observed totals as their monthly average, a segment across each period."""
    for n, (_, p) in enumerate(pts.iterrows()):
        period = parse_period(str(p["period"]))
        months = _months_in(str(p["period"]))
        mean = float(p["observed"]) / months
        label = f"{name}: total ÷ months"
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime([str(period.first), str(period.last)]), y=[mean, mean],
                mode="lines", line={"color": SHOCK, "width": 3}, name=label, legendgroup=label,
                showlegend=legend(label) if n == 0 else False,
                hovertemplate=f"{p['series']} {p['period']}: {float(p['observed']):,.0f} "
                f"{display.unit(str(p['unit']))} in all = {mean:,.0f} a month "
                f"({p['source_id']})<extra></extra>",
            ),
            row=row, col=1,
        )  # fmt: skip


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
        *(f"<li>{e(plain_note(n))}</li>" for n in result.notes),
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
