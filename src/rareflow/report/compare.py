"""Several stored runs on one chart and in one table: median monthly shortfall over all sectors."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from rareflow import dims, display
from rareflow.analysis.compare import Window, is_shock_alone, paired_effect
from rareflow.analysis.production import sector_values
from rareflow.data.load import Dataset
from rareflow.report import style
from rareflow.report.source import ReportRun
from rareflow.report.tables import EFFECT_ROWS, effect_frame


def compare_figure(runs: Mapping[str, ReportRun]) -> go.Figure:
    """Overlay the shortfall of several runs (t magnet a month, all sectors).

    Parameters
    ----------
    runs
        Runs by label.
    """
    palette = plotly.colors.qualitative.D3
    fig = go.Figure()
    steps = set()
    for n, (label, run) in enumerate(runs.items()):
        res = run.results
        steps.add(run.scenario.step_months)
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
                       line={"color": colour, "width": 2},
                       hovertemplate="%{x|%b %Y}: %{y:,.1f} t magnet<extra>" + label + "</extra>")
        )  # fmt: skip
    per = "a month" if steps <= {1} else "per step of " + "/".join(map(str, sorted(steps)))
    fig.update_layout(
        **style.layout(f"Magnet shortfall, all sectors (t magnet {per}): median and 25-75%"),
        legend={"orientation": "h", "y": -0.15},
    )
    fig.update_yaxes(title_text=f"t magnet {per}", rangemode="tozero")
    fig.update_xaxes(title_text="month")
    return fig


def compare_frame(runs: Mapping[str, ReportRun]) -> pd.DataFrame:
    """Headline figures of several runs, formatted (median [5th..95th] over draws)."""
    rows = []
    for label, run in runs.items():
        res = run.results
        short = res["shortfall"].sum([dims.SECTOR, dims.TIME]).to_numpy()
        req = res["requirement"].sum([dims.SECTOR, dims.TIME]).to_numpy()
        pct = 100 * np.divide(short, req, out=np.zeros_like(short), where=req > 0)
        p5, p50, p95 = np.percentile(short, [5, 50, 95])
        q5, q50, q95 = np.percentile(pct, [5, 50, 95])
        rows.append(
            {
                "run": label,
                "draws": f"{int(res.sizes[dims.DRAW]):,}",
                "horizon": f"{run.scenario.horizon_months} months from "
                f"{display.month(run.scenario.start)}",
                "shortfall over the horizon (t magnet)": f"{p50:,.0f} [{p5:,.0f}..{p95:,.0f}]",
                "shortfall (% of requirement)": f"{q50:.1f}% [{q5:.1f}..{q95:.1f}]",
            }
        )
    return pd.DataFrame(rows)


def lever_effects(runs: Mapping[str, ReportRun], dataset: Dataset) -> pd.DataFrame | None:
    """Return what each run's levers buy against its shock alone, where both are given.

    The shock alone is a run of the same scenario without its levers, with the same draws, seed
    and window (:func:`rareflow.analysis.compare.is_shock_alone`), so the draws pair; the
    figures are those of ``rareflow compare`` (:func:`rareflow.analysis.compare.paired_effect`).
    Returns None when no run has its shock alone among the runs.
    """
    columns: dict[str, pd.Series] = {}
    for label, run in runs.items():
        alone = next((a for a in runs.values() if is_shock_alone(a.scenario, run.scenario)), None)
        if alone is None:
            continue
        sc = run.scenario
        effect = paired_effect(
            run.results, alone.results, sc.step_months, sector_values(dataset, sc.country)
        )
        frame = effect_frame(effect)
        window = Window(sc.start, sc.horizon_months, sc.step_months).label
        columns[f"{label}, {window}"] = frame.set_index("figure").iloc[:, 0]
    if not columns:
        return None
    order = [label for _, label, _ in EFFECT_ROWS]
    out = pd.DataFrame(columns)
    out = out.loc[[f for f in order if f in out.index] + [f for f in out.index if f not in order]]
    return out.rename_axis("against the shock alone (median [5th..95th] over paired draws)")
