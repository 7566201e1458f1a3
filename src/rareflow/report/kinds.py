"""Reports of the stored runs that are not single runs: ensembles, sweeps, sensitivity, optimize.

A ``run`` keeps every variable by draw and month and gets the full report
(:func:`rareflow.report.build.build_report`). The other kinds keep less, and each tells its own
story from what it keeps:

- ``ensemble`` and ``sweep`` (per-draw figures by sector, :data:`DRAW_SCALARS`): which sectors
  are hit and how widely the draws spread, with the sweep's grid values;
- ``sensitivity``: which uncertain inputs move the result most;
- ``optimize``: the chosen mix of levers, the cost-risk frontier and the check on fresh draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from rareflow import dims, display
from rareflow.analysis.summary import DRAW_SCALARS, summarise_draws, summary_rows
from rareflow.errors import InputError
from rareflow.report import style
from rareflow.report.build import Report
from rareflow.report.story import Message, stamp
from rareflow.store.records import RunRecord

SUMMARY_KINDS = ("ensemble", "sweep")


def _note(record: RecordInfo) -> str:
    return (
        f"Source: rareflow {record.kind} run {record.run_id}, seed {record.record.seed}; "
        f"data version {record.record.data_version}"
    )


class RecordInfo:
    """A stored run's id and record (what the kind reports need besides the results)."""

    def __init__(self, run_id: str, record: RunRecord) -> None:
        self.run_id = run_id
        self.record = record
        self.kind = record.kind


def _provenance(info: RecordInfo, results: xr.Dataset) -> dict[str, str]:
    r = info.record
    out = {
        "kind": r.kind,
        "scenario": r.name,
        "run id": info.run_id,
        "seed": str(r.seed),
        "data version": r.data_version,
        "code version": r.code_version,
        "run started (UTC)": f"{r.started_at:%Y-%m-%d %H:%M:%S}",
        "run finished (UTC)": f"{r.finished_at:%Y-%m-%d %H:%M:%S}",
    }
    if dims.DRAW in results.sizes:
        out["draws"] = f"{results.sizes[dims.DRAW]:,}"
    return out


def summary_report(info: RecordInfo, results: xr.Dataset) -> Report:
    """Report an ensemble or a sweep point from its per-draw figures by sector."""
    missing = {"cumulative_shortfall_pct", "cumulative_shortfall_t"} - set(results.data_vars)
    if missing:
        raise InputError(
            f"run {info.run_id} ({info.kind}) keeps no per-draw shortfall "
            f"({', '.join(sorted(missing))}): nothing to report"
        )
    # The summary recorded with the run is what it printed; a run from an older rareflow may
    # lack a figure the current summary has, so the record is read first.
    summary = info.record.summary if isinstance(info.record.summary, dict) else {}
    recorded = summary.get("sectors")
    if isinstance(recorded, list):
        rows = [r for r in recorded if isinstance(r, dict)]
    elif set(DRAW_SCALARS) <= set(results.data_vars):
        rows = summarise_draws(results)
    else:
        rows = []
    pct = results["cumulative_shortfall_pct"]
    req = results["requirement_t"].median(dims.DRAW)
    sectors = [str(s) for s in results[dims.SECTOR].to_numpy() if float(req.sel(sector=s)) > 0]
    q = np.percentile(pct.sel(sector=sectors).to_numpy(), [5, 50, 95], axis=0)
    order = np.argsort(-q[1])
    names = [display.name(sectors[i]) for i in order][::-1]
    fig = go.Figure(
        go.Bar(
            x=q[1][order][::-1], y=names, orientation="h", marker_color=style.SHOCK,
            error_x={"type": "data", "symmetric": False,
                     "array": (q[2] - q[1])[order][::-1], "arrayminus": (q[1] - q[0])[order][::-1]},
            hovertemplate="%{y}: %{x:.1f}% unmet (median)<extra></extra>",
        )
    )  # fmt: skip
    top = sectors[order[0]] if sectors else ""
    title = (
        f"{display.name(top)} are hit hardest: {q[1][order[0]]:.1f}% of their requirement unmet"
        if sectors
        else "No sector has a requirement"
    )
    fig.update_layout(**style.layout(title, height=140 + 34 * max(len(sectors), 1)))
    fig.update_xaxes(title_text="% of requirement unmet over the horizon (median; bars 5-95%)")
    total = results["cumulative_shortfall_t"].sum(dims.SECTOR).to_numpy()
    hist = go.Figure(go.Histogram(x=total, marker_color=style.SHOCK, nbinsx=40))
    p5, p50, p95 = np.percentile(total, [5, 50, 95])
    hist.update_layout(
        **style.layout(
            f"Magnet shortfall over the horizon, all sectors: {p50:,.0f} t in the median draw "
            f"(5-95%: {p5:,.0f}-{p95:,.0f} t)"
        )
    )
    hist.update_xaxes(title_text="t magnet over the horizon, all sectors")
    hist.update_yaxes(title_text="draws")
    report = Report(title=f"rareflow {info.kind}: {info.record.name}")
    report.figures = {"sectors": fig, "spread": hist}
    report.sections = [("results", "Who is hit, across draws", ["sectors", "spread"])]
    note = _note(info)
    report.notes = {"sectors": f"Unit: % of requirement. {note}", "spread": f"Unit: t. {note}"}
    share_short = float((results["months_in_shortfall"].sum(dims.SECTOR) > 0).mean())
    report.messages = [
        Message(f"{100 * share_short:.0f}% of draws have a shortfall in some sector.", "spread"),
        Message(
            f"In the median draw {p50:,.0f} t of magnet is not delivered "
            f"(5-95% of draws: {p5:,.0f}-{p95:,.0f} t).",
            "spread",
        ),
    ]
    if sectors:
        report.messages.insert(0, Message(title + " (median of draws).", "sectors"))
    grid = summary.get("grid")
    if grid:
        report.messages.append(Message(f"Sweep point: {_grid_text(grid)}.", "sectors"))
    try:
        table = pd.DataFrame(summary_rows(rows))
    except KeyError as exc:  # a run from an older rareflow: its summary lacks a figure
        report.messages.append(
            Message(
                f"The per-sector table is left out: this run's summary has no {exc} (a run "
                "made by an older rareflow); the charts use its stored per-draw figures.",
                "sectors",
            )
        )
    else:
        report.tables = {"Shortfall by sector (median [5th..95th percentile] over draws)": table}
    _finish(report, info, results)
    return report


def _grid_text(grid: Any) -> str:
    if isinstance(grid, dict):
        return ", ".join(f"{k} = {v}" for k, v in grid.items())
    return str(grid)


def sensitivity_report(info: RecordInfo, results: xr.Dataset) -> Report:
    """Report a sensitivity analysis: the inputs ranked by their effect."""
    index = "ST" if "ST" in results else "mu_star"
    conf = f"{index}_conf"
    output = str(results["output"].to_numpy()[0])
    values = results[index].sel(output=output).to_numpy()
    inputs = [str(i) for i in results["input"].to_numpy()]
    order = np.argsort(-values)
    fig = go.Figure(
        go.Bar(
            x=values[order][::-1], y=[inputs[i] for i in order][::-1], orientation="h",
            marker_color=style.BASELINE,
            error_x=None if conf not in results else {
                "type": "data", "array": results[conf].sel(output=output).to_numpy()[order][::-1]
            },
        )
    )  # fmt: skip
    what = "total Sobol' index ST" if index == "ST" else "Morris mu* (t magnet)"
    top = inputs[order[0]]
    title = f"{top} moves the {output} shortfall most ({what})"
    fig.update_layout(**style.layout(title, height=140 + 30 * len(inputs)))
    fig.update_xaxes(title_text=what + " (bars: confidence interval)")
    report = Report(title=f"rareflow sensitivity: {info.record.name}")
    report.figures = {"ranking": fig}
    report.sections = [("results", "Which inputs matter", ["ranking"])]
    report.notes = {"ranking": f"Unit: {what}. {_note(info)}"}
    share = values[order[0]] / values.sum() if values.sum() > 0 else 0.0
    report.messages = [
        Message(title + ".", "ranking"),
        Message(
            f"The top input carries {100 * share:.0f}% of the summed index; the next are "
            + ", ".join(inputs[i] for i in order[1:3])
            + ".",
            "ranking",
        ),
    ]
    summary = info.record.summary if isinstance(info.record.summary, dict) else {}
    ranking = summary.get("ranking")
    if isinstance(ranking, list):
        report.tables = {"Ranking": pd.DataFrame(ranking)}
    _finish(report, info, results)
    return report


def optimize_report(info: RecordInfo, results: xr.Dataset) -> Report:
    """Report an optimisation: the chosen mix, the cost-risk frontier, the out-of-sample check."""
    levers = [str(x) for x in results[dims.LEVER].to_numpy()]
    level = results["level"].to_numpy()
    upper = results["upper"].to_numpy()
    unit_cost = results["unit_cost_inr_crore"].to_numpy()
    mix = go.Figure(
        go.Bar(x=levers, y=level, marker_color="#1b9e77", name="chosen level",
               customdata=np.stack([upper, level * unit_cost], axis=1),
               hovertemplate="%{x}: %{y:,.0f} (of at most %{customdata[0]:,.0f}); "
               "₹%{customdata[1]:,.0f} crore<extra></extra>")
    )  # fmt: skip
    cost = float((level * unit_cost).sum())
    title = f"The chosen mix costs ₹{cost:,.0f} crore: " + ", ".join(
        f"{display.name(k).lower()} {v:,.0f}" for k, v in zip(levers, level, strict=True) if v > 0
    )
    mix.update_layout(**style.layout(title))
    mix.update_yaxes(title_text="level (t for a stockpile, t a year for the others)")
    front = go.Figure(
        go.Scatter(
            x=results["pareto_cost_inr_crore"].to_numpy(), y=results["pareto_risk_t"].to_numpy(),
            mode="lines+markers", line={"color": style.SHOCK},
            hovertemplate="₹%{x:,.0f} crore: %{y:,.0f} t<extra></extra>",
        )
    )  # fmt: skip
    risk = results["pareto_risk_t"].to_numpy()
    front.update_layout(
        **style.layout(
            f"Spending more cuts the risk from {risk[0]:,.0f} t to {risk[-1]:,.0f} t of shortfall"
        )
    )
    front.update_xaxes(title_text="cost over the horizon (₹ crore)")
    front.update_yaxes(title_text="risk: weighted shortfall (t magnet)", rangemode="tozero")
    check = go.Figure()
    for var, name, colour in (
        ("loss_in_sample_t", "draws the mix was chosen on", style.BASELINE),
        ("loss_out_of_sample_t", "fresh draws", style.SHOCK),
    ):
        check.add_trace(
            go.Histogram(x=results[var].to_numpy(), name=name, marker_color=colour, opacity=0.6)
        )
    fresh = float(np.median(results["loss_out_of_sample_t"].to_numpy()))
    check.update_layout(
        **style.layout(f"On fresh draws the mix leaves {fresh:,.0f} t of shortfall (median)"),
        barmode="overlay",
    )
    check.update_xaxes(title_text="weighted shortfall (t magnet)")
    check.update_yaxes(title_text="draws")
    report = Report(title=f"rareflow optimize: {info.record.name}")
    report.figures = {"mix": mix, "frontier": front, "check": check}
    report.sections = [("results", "The chosen mix", ["mix", "frontier", "check"])]
    note = _note(info)
    report.notes = {
        "mix": f"Units: t or t a year; costs in ₹ crore. {note}",
        "frontier": f"Units: ₹ crore and t magnet. {note}",
        "check": f"Unit: t magnet (weighted). {note}",
    }
    report.messages = [
        Message(title + ".", "mix"),
        Message(front.layout.title.text + ".", "frontier"),
        Message(check.layout.title.text + ".", "check"),
    ]
    summary = info.record.summary if isinstance(info.record.summary, dict) else {}
    for key, heading in (
        ("mix", "Chosen mix"),
        ("validation", "Check on fresh draws"),
        ("choice", "Mixes judged in sample"),
    ):
        rows = summary.get(key)
        if isinstance(rows, list):
            report.tables[heading] = pd.DataFrame(rows)
    _finish(report, info, results)
    return report


def _finish(report: Report, info: RecordInfo, results: xr.Dataset) -> None:
    for name, fig in report.figures.items():
        stamp(fig, report.notes[name])
    report.provenance = _provenance(info, results)
    report.scenario_yaml = info.record.scenario_resolved


BUILDERS = {
    "ensemble": summary_report,
    "sweep": summary_report,
    "sensitivity": sensitivity_report,
    "optimize": optimize_report,
}
"""Report builder by run kind (``run`` has the full report)."""


def kind_report(info: RecordInfo, results: xr.Dataset) -> Report:
    """Return the report of a stored run that is not a single run.

    Raises
    ------
    rareflow.errors.InputError
        If the kind has no report.
    """
    builder = BUILDERS.get(info.kind)
    if builder is None:
        raise InputError(
            f"run {info.run_id} is a {info.kind} run; reports exist for run, "
            f"{', '.join(BUILDERS)} (backtests: rareflow backtest EPISODE --report FILE)"
        )
    return builder(info, results)
