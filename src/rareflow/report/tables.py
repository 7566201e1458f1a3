"""Tables of the report: headline figures, shortfall by sector, indicators and lever costs.

Each function returns a :class:`pandas.DataFrame` of display strings (median [5th..95th
percentile] over draws where a figure is uncertain) that the HTML builder and the dashboard show
as they are.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.analysis.summary import sector_summary, summary_rows
from rareflow.data.load import Dataset
from rareflow.errors import DataError
from rareflow.indicators.dataset_view import (
    import_concentration,
    net_import_reliance_by_stage,
    stage_concentration,
)

EXCLUDED_COSTS = frozenset({"import_cost"})
"""Cost variables that every run has and that are not the cost of a lever."""


def spread(values: np.ndarray, digits: int = 0, unit: str = "") -> str:
    """Return ``median [p5..p95]`` of values over draws."""
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    f = f"{{:,.{digits}f}}"
    return f"{f.format(p50)}{unit} [{f.format(p5)}..{f.format(p95)}]"


def _headline_column(results: xr.Dataset) -> dict[str, str]:
    short = results["shortfall"].sum(dims.SECTOR)
    req = results["requirement"].sum(dims.SECTOR)
    cum_short = short.sum(dims.TIME).to_numpy()
    cum_req = req.sum(dims.TIME).to_numpy()
    pct = 100 * np.divide(cum_short, cum_req, out=np.zeros_like(cum_short), where=cum_req > 0)
    ratio = (short / req.where(req > 0)).fillna(0.0)
    months_short = (ratio > 1e-3).sum(dims.TIME).to_numpy()
    cost = results["import_cost"].sum(dims.TIME).to_numpy() / 1e6
    unpriced = str(results["import_cost"].attrs.get("unpriced", ""))
    return {
        "magnet requirement, cumulative (t)": spread(cum_req),
        "shortfall, cumulative (t)": spread(cum_short),
        "shortfall, cumulative (% of requirement)": spread(pct, 1, "%"),
        "peak monthly shortfall (t)": spread(short.max(dims.TIME).to_numpy(), 1),
        "steps with a shortfall": spread(months_short.astype(float)),
        "import bill at scarcity prices (USD million)": spread(cost, 1),
        "imports the bill leaves out (no price in prices.csv)": unpriced or "none",
    }


def headline_frame(shock: xr.Dataset, baseline: xr.Dataset | None) -> pd.DataFrame:
    """Headline figures over all sectors, for the run and (if given) its baseline."""
    frame = pd.DataFrame({"shock": _headline_column(shock)})
    if baseline is not None:
        frame["baseline"] = pd.Series(_headline_column(baseline))
    frame.index.name = "figure (median [5th..95th percentile] over draws)"
    return frame.reset_index()


def sector_frame(results: xr.Dataset, step_months: int = 1) -> pd.DataFrame:
    """Shortfall by sector (:func:`rareflow.analysis.summary.sector_summary`)."""
    rows = summary_rows(sector_summary(results, step_months))
    return pd.DataFrame(rows)


def _fraction_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out


def indicator_frames(dataset: Dataset, country: str) -> dict[str, pd.DataFrame]:
    """Concentration and import reliance on the dataset (:mod:`rareflow.indicators`).

    Returns
    -------
    dict of str to pandas.DataFrame
        By title: world supply concentration by stage, the country's import concentration and
        its net import reliance by stage; a table without data for the country is left out.
    """
    shares = ["hhi", "hhi_min", "top1_share", "top3_share", "residual_share"]
    out: dict[str, pd.DataFrame] = {
        "World supply concentration by stage (HHI on the 0-1 scale; stage_shares.csv)": (
            _fraction_columns(stage_concentration(dataset), shares)
        )
    }
    # No partner shares for the country: the table is left out, as documented.
    with contextlib.suppress(DataError):
        out[f"{country}'s import concentration by partner (trade.csv)"] = _fraction_columns(
            import_concentration(dataset, country), shares
        )
    reliance = net_import_reliance_by_stage(dataset, country)
    out[f"{country}'s net import reliance by stage (USGS method)"] = _fraction_columns(
        reliance, ["net_import_reliance", "net_import_reliance_low"]
    )
    return out


def lever_cost_frame(results: xr.Dataset) -> pd.DataFrame | None:
    """Costs of the scenario's levers, or None when the results carry none.

    A lever cost is a result variable with a ``lever`` dimension or whose name ends in ``_cost``
    (the import bill is not one); each is totalled over time.
    """
    names = [
        str(v)
        for v in results.data_vars
        if str(v) not in EXCLUDED_COSTS
        and (dims.LEVER in results[v].dims or str(v).endswith("_cost"))
    ]
    rows: list[dict[str, Any]] = []
    for name in names:
        da = results[name]
        if dims.TIME in da.dims:
            da = da.sum(dims.TIME)
        unit = str(da.attrs.get("unit", results[name].attrs.get("unit", "")))
        labels = [str(x) for x in da[dims.LEVER].to_numpy()] if dims.LEVER in da.dims else [""]
        for label in labels:
            part = da.sel({dims.LEVER: label}) if dims.LEVER in da.dims else da
            other = [d for d in part.dims if d != dims.DRAW]
            values = (part.sum(other) if other else part).to_numpy().ravel()
            rows.append(
                {
                    "cost": name,
                    "lever": label,
                    "unit": unit,
                    "total over the horizon (median [5th..95th])": spread(values, 1),
                }
            )
    return pd.DataFrame(rows) if rows else None
