"""Several runs on one chart: median monthly shortfall over all sectors, with the 25-75% band."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import xarray as xr

from rareflow import dims
from rareflow.report import style


def compare_figure(runs: Mapping[str, xr.Dataset]) -> go.Figure:
    """Overlay the shortfall of several runs (t magnet per step, all sectors).

    Parameters
    ----------
    runs
        Results by label.
    """
    palette = plotly.colors.qualitative.D3
    fig = go.Figure()
    for n, (label, res) in enumerate(runs.items()):
        colour = palette[n % len(palette)]
        total = res["shortfall"].sum(dims.SECTOR).transpose(dims.DRAW, dims.TIME).to_numpy()
        q25, q50, q75 = np.quantile(total, [0.25, 0.5, 0.75], axis=0)
        times = res[dims.TIME].to_numpy()
        fig.add_trace(
            go.Scatter(x=times, y=q25, mode="lines", line={"width": 0}, showlegend=False,
                       hoverinfo="skip", legendgroup=label)
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=times, y=q75, mode="lines", line={"width": 0}, fill="tonexty",
                       fillcolor=style.rgba(colour, 0.2), showlegend=False, hoverinfo="skip",
                       legendgroup=label)
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=times, y=q50, mode="lines", name=label, legendgroup=label,
                       line={"color": colour, "width": 2})
        )  # fmt: skip
    fig.update_layout(
        **style.layout("Shortfall, all sectors (t magnet per step): median and 25-75% of draws"),
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_yaxes(title_text="t magnet", rangemode="tozero")
    return fig
