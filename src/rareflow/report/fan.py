"""Fan charts: the 5-95% and 25-75% bands over draws and the median, one panel per item.

Shortfall is drawn by sector (t magnet per month), prices by material (multiple of the baseline
price) and stocks by material, each material on its own mass basis (the ``material_unit``
coordinate): a panel never mixes bases. Where a baseline run is given, its median is drawn as a
dashed line in each panel.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from plotly.subplots import make_subplots

from rareflow import dims, display
from rareflow.report import story, style

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles over draws that the bands are drawn from."""
COLUMNS = 3


def _bands(values: np.ndarray) -> np.ndarray:
    """Quantiles over draws (first axis) of a (draw, time) array: shape (5, time)."""
    q: np.ndarray = np.quantile(values, QUANTILES, axis=0)
    return q


def fan_grid(
    shock: xr.DataArray,
    facet: str,
    items: list[str],
    title: str,
    y_titles: dict[str, str],
    baseline: xr.DataArray | None = None,
    subplot_titles: bool = True,
) -> go.Figure:
    """Draw one fan panel per item of a (draw, time, facet) array.

    Parameters
    ----------
    shock
        Values with dims ``draw``, ``time`` and ``facet``.
    facet
        The dimension with one panel per label.
    items
        Labels of ``facet`` to draw, in order.
    title
        Figure title.
    y_titles
        The y-axis title of each item (its unit).
    baseline
        The baseline run's values on the same labels; its median is drawn dashed.
    subplot_titles
        Title each panel with its item's name.

    Returns
    -------
    plotly.graph_objects.Figure
        The grid of panels.
    """
    rows = max(1, math.ceil(len(items) / COLUMNS))
    cols = min(COLUMNS, max(1, len(items)))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[style.label(i) for i in items] if subplot_titles else None,
        vertical_spacing=0.22 / rows if rows > 1 else 0.1,
        horizontal_spacing=0.08,
    )
    times = shock[dims.TIME].to_numpy()
    for n, item in enumerate(items):
        row, col = divmod(n, cols)
        values = shock.sel({facet: item}).transpose(dims.DRAW, dims.TIME).to_numpy()
        q = _bands(values)
        first = n == 0
        for lo, hi, alpha, name in ((0, 4, 0.18, "5-95%"), (1, 3, 0.35, "25-75%")):
            fig.add_trace(
                go.Scatter(
                    x=times, y=q[lo], mode="lines", line={"width": 0}, hoverinfo="skip",
                    showlegend=False, legendgroup=name,
                ),
                row=row + 1, col=col + 1,
            )  # fmt: skip
            fig.add_trace(
                go.Scatter(
                    x=times, y=q[hi], mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor=style.rgba(style.SHOCK, alpha), name=name, legendgroup=name,
                    showlegend=first, hoverinfo="skip",
                ),
                row=row + 1, col=col + 1,
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=times, y=q[2], mode="lines", line={"color": style.SHOCK, "width": 2},
                name="median", legendgroup="median", showlegend=first,
                hovertemplate="%{x|%b %Y}: %{y:,.2f} " + y_titles[item] + "<extra>median</extra>",
            ),
            row=row + 1, col=col + 1,
        )  # fmt: skip
        if baseline is not None:
            base = baseline.sel({facet: item}).transpose(dims.DRAW, dims.TIME).to_numpy()
            fig.add_trace(
                go.Scatter(
                    x=times, y=np.median(base, axis=0), mode="lines",
                    line={"color": style.BASELINE, "width": 1.5, "dash": "dash"},
                    name="without the shock (median)", legendgroup="baseline", showlegend=first,
                ),
                row=row + 1, col=col + 1,
            )  # fmt: skip
        fig.update_yaxes(title_text=y_titles[item], row=row + 1, col=col + 1, rangemode="tozero")
    height = 110 + 260 * rows
    frame = style.layout(title, height=height)
    frame["margin"] = {"l": 60, "r": 20, "t": 110, "b": 40}
    # The legend sits between the title and the panels' own titles, in pixels above the plots.
    fig.update_layout(
        **frame,
        legend={"orientation": "h", "y": 1 + 45 / (height - 150), "yanchor": "bottom", "x": 0.0},
    )
    fig.update_annotations(font_size=12)
    return fig


def _unit(results: xr.Dataset, material: str) -> str:
    return style.unit_label(str(results["material_unit"].sel({dims.MATERIAL: material}).item()))


def shortfall_fan(
    results: xr.Dataset,
    baseline: xr.Dataset | None = None,
    step_months: int = 1,
    marks: list[tuple[date, str]] | None = None,
) -> go.Figure:
    """Magnet shortfall of all sectors per month: bands over draws, median, baseline, events.

    The title states the finding: the peak month and its median shortfall.
    """
    short = results["shortfall"]
    total = short.sum(dims.SECTOR).expand_dims({dims.SECTOR: ["all sectors"]})
    base = None
    if baseline is not None:
        base = baseline["shortfall"].sum(dims.SECTOR).expand_dims({dims.SECTOR: ["all sectors"]})
    step = "a month" if step_months == 1 else f"per {step_months} months"
    median = np.median(total.sel({dims.SECTOR: "all sectors"}).transpose(dims.DRAW, dims.TIME), 0)
    if float(median.max()) > 0:
        peak = int(np.argmax(median))
        when = display.month(results[dims.TIME].to_numpy()[peak])
        title = f"Magnet shortfall peaks in {when} at {median[peak]:,.0f} t {step} (median)"
    else:
        title = "No magnet shortfall in the median draw"
    fig = fan_grid(
        total, dims.SECTOR, ["all sectors"], title,
        {"all sectors": f"t magnet {step}, all sectors"}, base, subplot_titles=False,
    )  # fmt: skip
    story.mark_events(fig, marks or [])
    return fig


def _moving(da: xr.DataArray, tol: float) -> list[str]:
    """Materials whose values are not constant (across time or draws) in a material array."""
    spread = da.max([dims.DRAW, dims.TIME]) - da.min([dims.DRAW, dims.TIME])
    return [str(m) for m in da[dims.MATERIAL].to_numpy() if float(spread.sel(material=m)) > tol]


def price_fan(
    results: xr.Dataset,
    baseline: xr.Dataset | None = None,
    marks: list[tuple[date, str]] | None = None,
) -> go.Figure:
    """Price multiples (price / pre-shock price) of the materials whose price moves."""
    prices = results["price_multiple"]
    items = _moving(prices, 1e-9) or [str(prices[dims.MATERIAL].to_numpy()[-3])]
    peak = prices.sel({dims.MATERIAL: items}).median(dims.DRAW).max(dims.TIME)
    top = str(peak.idxmax().item())
    title = (
        f"{display.name(top)} reaches {float(peak.max()):.1f}× its pre-shock price (median); "
        "prices by material"
    )
    fig = fan_grid(
        prices, dims.MATERIAL, items, title, dict.fromkeys(items, "× pre-shock price"),
        None if baseline is None else baseline["price_multiple"],
    )  # fmt: skip
    story.mark_events(fig, marks or [], rows=math.ceil(len(items) / COLUMNS))
    return fig


def stock_fan(
    results: xr.Dataset,
    baseline: xr.Dataset | None = None,
    marks: list[tuple[date, str]] | None = None,
) -> go.Figure:
    """Focal industry stocks at the end of each step, by material, each on its own basis."""
    stock = results["stock"]
    items = [m for m in _moving(stock, 0.0) if float(stock.sel(material=m).max()) > 0]
    if not items:
        items = [str(stock[dims.MATERIAL].to_numpy()[-3])]
    median = stock.sel({dims.MATERIAL: items}).median(dims.DRAW)
    opening = median.isel({dims.TIME: 0})
    share = (median.min(dims.TIME) / opening.where(opening > 0)).fillna(1.0)
    first = str(share.idxmin().item())
    title = (
        f"Industry stocks of {display.name(first)} fall to {100 * float(share.min()):.0f}% of "
        "their opening level at the lowest (median); end-of-month stocks by material"
    )
    fig = fan_grid(
        stock, dims.MATERIAL, items, title, {m: _unit(results, m) for m in items},
        None if baseline is None else baseline["stock"],
    )  # fmt: skip
    story.mark_events(fig, marks or [], rows=math.ceil(len(items) / COLUMNS))
    return fig
