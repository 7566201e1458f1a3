"""What a run's report says first: key messages, the events on its time axes, what helps.

:func:`key_messages` turns a run's results into three to five sentences (who is hit, when and
how deep, how much in all, what it costs, what helps), each naming the chart that shows it.
:func:`events` lists the dates a reader needs on a time axis (the controls, their licence
phases and suspensions, the levers' start dates); :func:`mark_events` draws them.
:func:`sector_figure` ranks the sectors by the share of their requirement left unmet, and
:func:`what_helps_figure` draws the run with its levers beside the shock alone and the no-shock
baseline, on the same axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from rareflow import dims, display
from rareflow.analysis.summary import SHORT_THRESHOLD
from rareflow.report import style
from rareflow.scenario.schema import Scenario

LEVER_DATES = ("start", "online", "award", "decision", "investment", "auction")
"""Lever fields that say when a lever starts to act."""


@dataclass(frozen=True)
class Message:
    """One key message and the chart that shows it.

    Parameters
    ----------
    text
        The message, with its numbers.
    anchor
        The figure's name (the id of its element in the page).
    """

    text: str
    anchor: str


def events(scenario: Scenario) -> list[tuple[date, str]]:
    """Return the dated events of a scenario: controls, licence phases, suspensions, levers."""
    out: list[tuple[date, str]] = []
    for shock in scenario.shocks:
        label = shock.name or display.name(shock.type)
        start = getattr(shock, "start", None)
        if isinstance(start, date):
            out.append((start, f"{label} starts"))
        end = getattr(shock, "end", None)
        if isinstance(end, date):
            out.append((end, f"{label} ends"))
        for a, b in getattr(shock, "suspended", []):
            out += [(a, f"{label} suspended"), (b, f"{label} resumes")]
        for phase in getattr(shock, "licence", [])[1:]:
            out.append((phase.start, "licence terms change"))
    for i, lever in enumerate(scenario.levers):
        for field in LEVER_DATES:
            when = getattr(lever, field, None)
            if isinstance(when, date):
                name = lever.name or display.name(getattr(lever, "type", f"lever {i}"))
                out.append((when, f"{name} ({field})"))
                break
    first = np.datetime64(scenario.start, "D")
    last = first + np.timedelta64(int(scenario.horizon_months * 30.44), "D")
    inside = {e for e in out if first <= np.datetime64(e[0], "D") <= last}
    return sorted(inside)


def mark_events(fig: go.Figure, marks: list[tuple[date, str]], rows: int = 1) -> None:
    """Draw each event as a dotted vertical line, labelled at the top of the first panel.

    In a grid, the line is drawn on every panel with data. The lines and labels are added in
    one layout update (plotly's ``add_vline`` validates the whole layout once per line).
    """
    if not marks:
        return
    if fig._grid_ref is not None:
        used = {trace.xaxis or "x" for trace in fig.data}
        panels = [
            (x, fig.layout[f"xaxis{x[1:]}"].anchor or f"y{x[1:]}")
            for x in sorted(used, key=lambda x: int(x[1:] or 1))
        ]
    else:
        panels = [("x", "y")]
    line = {"color": "#555", "width": 1, "dash": "dot"}
    shapes, labels = [], []
    for n, (when, label) in enumerate(marks):
        x = f"{when:%Y-%m-%d}"
        shapes += [
            {"type": "line", "x0": x, "x1": x, "xref": xr, "y0": 0, "y1": 1,
             "yref": f"{yr} domain", "line": line}
            for xr, yr in panels
        ]  # fmt: skip
        labels.append(
            {"x": x, "y": 1.0 - 0.07 * (n % 3) / rows, "xref": "x", "yref": "paper",
             "text": label, "showarrow": False, "xanchor": "left", "yanchor": "top",
             "font": {"size": 10, "color": "#444"}, "bgcolor": "rgba(255,255,255,0.7)"}
        )  # fmt: skip
    fig.update_layout(
        shapes=[*fig.layout.shapes, *shapes], annotations=[*fig.layout.annotations, *labels]
    )


def stamp(fig: go.Figure, note: str) -> go.Figure:
    """Put a chart's source note (unit, source, data version) under it, inside the figure.

    The note travels with the chart when it is downloaded as PNG or SVG.
    """
    margin = fig.layout.margin
    bottom = (margin.b or 40) + 44
    fig.add_annotation(
        text=note, xref="paper", yref="paper", x=0.0, y=0.0, xanchor="left", yanchor="top",
        yshift=-(bottom - 18), showarrow=False, align="left", font={"size": 10, "color": "#666"},
    )  # fmt: skip
    fig.update_layout(margin={"b": bottom}, height=(fig.layout.height or 420) + 44)
    return fig


def _total(results: xr.Dataset) -> np.ndarray:
    """Cumulative shortfall of all sectors per draw (t magnet)."""
    return np.asarray(results["shortfall"].sum([dims.SECTOR, dims.TIME]).to_numpy())


def sector_shares(results: xr.Dataset) -> list[tuple[str, float, float, float]]:
    """Return each sector's % of requirement unmet (median, p5, p95), largest first."""
    short = results["shortfall"].sum(dims.TIME)
    req = results["requirement"].sum(dims.TIME)
    out = []
    for s in results[dims.SECTOR].to_numpy():
        r = req.sel({dims.SECTOR: s}).to_numpy()
        if float(r.max()) <= 0:
            continue
        pct = 100 * np.divide(
            short.sel({dims.SECTOR: s}).to_numpy(), r, out=np.zeros_like(r), where=r > 0
        )
        p5, p50, p95 = np.percentile(pct, [5, 50, 95])
        out.append((str(s), float(p50), float(p5), float(p95)))
    return sorted(out, key=lambda row: -row[1])


def sector_figure(results: xr.Dataset, baseline: xr.Dataset | None) -> go.Figure:
    """Rank the sectors by the share of their requirement left unmet (median, 5-95% of draws)."""
    rows = sector_shares(results)
    names = [display.name(s) for s, *_ in rows][::-1]
    med = [r[1] for r in rows][::-1]
    fig = go.Figure(
        go.Bar(
            x=med, y=names, orientation="h", marker_color=style.SHOCK, name="median",
            error_x={"type": "data", "symmetric": False,
                     "array": [r[3] - r[1] for r in rows][::-1],
                     "arrayminus": [r[1] - r[2] for r in rows][::-1], "color": "#444"},
            hovertemplate="%{y}: %{x:.1f}% of requirement unmet (median)<extra></extra>",
        )
    )  # fmt: skip
    if baseline is not None:
        base = {s: m for s, m, *_ in sector_shares(baseline)}
        fig.add_trace(
            go.Scatter(
                x=[base.get(s, 0.0) for s, *_ in rows][::-1], y=names, mode="markers",
                marker={"color": style.BASELINE, "symbol": "line-ns-open", "size": 16,
                        "line": {"width": 3}},
                name="without the shock (median)",
                hovertemplate="%{y}: %{x:.1f}% without the shock<extra></extra>",
            )
        )  # fmt: skip
    if rows:
        top = rows[0]
        title = (
            f"{display.name(top[0])} are hit hardest: {top[1]:.1f}% of their magnet requirement "
            "unmet over the horizon"
        )
    else:
        title = "No sector has a magnet requirement"
    fig.update_layout(
        **style.layout(title, height=120 + 34 * max(len(rows), 1)),
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0.0},
    )
    fig.update_xaxes(
        title_text="% of the sector's magnet requirement unmet (median; bars: 5-95% of draws)",
        rangemode="tozero",
    )
    return fig


def _monthly_median(results: xr.Dataset) -> np.ndarray:
    total = results["shortfall"].sum(dims.SECTOR).transpose(dims.DRAW, dims.TIME).to_numpy()
    return np.asarray(np.median(total, axis=0))


def what_helps_figure(
    with_levers: xr.Dataset, shock_alone: xr.Dataset, baseline: xr.Dataset | None
) -> go.Figure:
    """Draw the monthly shortfall with the levers, with the shock alone and without the shock."""
    times = with_levers[dims.TIME].to_numpy()
    avoided = float(np.median(_total(shock_alone)) - np.median(_total(with_levers)))
    alone = float(np.median(_total(shock_alone)))
    fig = go.Figure()
    lines = [("the shock alone", shock_alone, style.SHOCK, "solid")]
    lines.append(("with the levers", with_levers, "#1b9e77", "solid"))
    if baseline is not None:
        lines.append(("without the shock", baseline, style.BASELINE, "dash"))
    for name, res, colour, dash in lines:
        fig.add_trace(
            go.Scatter(
                x=times, y=_monthly_median(res), mode="lines", name=name,
                line={"color": colour, "width": 2, "dash": dash},
                hovertemplate="%{x|%b %Y}: %{y:,.1f} t magnet<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    share = 100 * avoided / alone if alone > 0 else 0.0
    title = (
        f"The levers avoid {avoided:,.0f} t of magnet shortfall ({share:.0f}% of the shock's)"
        if avoided > 0
        else "The levers avoid no shortfall within the horizon"
    )
    fig.update_layout(
        **style.layout(title), legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}
    )
    fig.update_yaxes(title_text="t magnet per month (median of draws)", rangemode="tozero")
    return fig


def lever_total_usd(results: xr.Dataset) -> tuple[np.ndarray, float | None]:
    """Total lever cost per draw (US$) and the ₹ per US$ rate, or zeros and None without levers."""
    if "lever_cost" not in results:
        return np.zeros(results.sizes[dims.DRAW]), None
    cost = results["lever_cost"]
    total = cost.sum([d for d in cost.dims if d != dims.DRAW]).to_numpy()
    rate = cost.attrs.get("inr_per_usd")
    return np.asarray(total), None if rate is None else float(rate)


def key_messages(
    results: xr.Dataset,
    baseline: xr.Dataset | None,
    shock_alone: xr.Dataset | None,
    inr_per_usd: float | None,
) -> list[Message]:
    """Return three to five messages from a run's results, each with the chart that shows it.

    Parameters
    ----------
    results
        The run's results.
    baseline
        The same scenario without shocks and levers, or None.
    shock_alone
        The same scenario without its levers (None when it has none).
    inr_per_usd
        Exchange rate for ₹ crore beside US$.
    """
    out: list[Message] = []
    short = results["shortfall"].sum(dims.SECTOR)
    req = results["requirement"].sum(dims.SECTOR)
    total = _total(results)
    cum_req = float(np.median(req.sum(dims.TIME).to_numpy()))
    med_total = float(np.median(total))
    rows = sector_shares(results)
    if med_total <= 1e-6:
        out.append(Message("No sector is short of magnets in the median draw.", "fan_shortfall"))
    else:
        hit = [r for r in rows if r[1] >= 100 * SHORT_THRESHOLD / 2]
        if hit:
            names = ", ".join(f"{display.in_sentence(s)} ({m:.0f}%)" for s, m, *_ in hit[:3])
            text = f"Hardest hit: {names} of their magnet requirement unmet over the horizon"
        else:
            # Rounding a fraction of a per cent to "0%" would name sectors that are not hit.
            text = (
                f"No sector loses {100 * SHORT_THRESHOLD / 2:.1f}% of its magnet requirement "
                f"over the horizon; the most exposed is {display.in_sentence(rows[0][0])} "
                f"({rows[0][1]:.2f}%)"
            )
        out.append(Message(text + " (median of draws).", "sector_shortfall"))
        monthly = np.median(short.transpose(dims.DRAW, dims.TIME).to_numpy(), axis=0)
        months = results[dims.TIME].to_numpy()
        first = int(np.argmax(monthly > 1e-3 * np.maximum(np.median(req.to_numpy(), axis=0), 1)))
        peak = int(np.argmax(monthly))
        req_peak = float(np.median(req.isel({dims.TIME: peak}).to_numpy()))
        peak_pct = 100 * monthly[peak] / max(req_peak, 1e-9)
        if peak_pct > 100 * SHORT_THRESHOLD:
            text = (
                f"The shortfall starts in {display.month(months[first])} and peaks in "
                f"{display.month(months[peak])} at {monthly[peak]:,.0f} t of magnet "
                f"({peak_pct:.0f}% of that month's need)."
            )
        else:
            text = (
                f"In the median draw no month is short by more than {100 * SHORT_THRESHOLD:.0f}% "
                f"of its need; the worst, {display.month(months[peak])}, lacks "
                f"{monthly[peak]:,.1f} t of magnet ({peak_pct:.1f}%)."
            )
        out.append(Message(text, "fan_shortfall"))
        p5, p95 = np.percentile(total, [5, 95])
        text = (
            f"In all, {med_total:,.0f} t of magnet is not delivered "
            f"({100 * med_total / max(cum_req, 1e-9):.1f}% of the requirement; "
            f"5-95% of draws: {p5:,.0f}-{p95:,.0f} t)"
        )
        if baseline is not None:
            text += f", against {float(np.median(_total(baseline))):,.0f} t without the shock"
        out.append(Message(text + ".", "fan_shortfall"))
    prices = results["price_multiple"].median(dims.DRAW).max(dims.TIME)
    top = str(prices.idxmax().item())
    if float(prices.max()) > 1.05:
        out.append(
            Message(
                f"The price of {display.in_sentence(top)} rises to "
                f"{float(prices.max()):.1f}× its pre-shock level (median of draws).",
                "fan_prices",
            )
        )
    costs, rate = lever_total_usd(results)
    if shock_alone is not None:
        avoided = float(np.median(_total(shock_alone)) - np.median(total))
        cost = float(np.median(costs))
        text = f"The levers avoid {avoided:,.0f} t of magnet shortfall (median)"
        if cost > 0:
            text += f" and cost {display.usd_inr(cost, rate or inr_per_usd)}"
            if avoided > 0:
                text += f": {display.usd_inr(cost / avoided, None)} per tonne avoided"
        out.append(Message(text + ".", "what_helps"))
    return out[:5]
