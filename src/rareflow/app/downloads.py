"""Files the dashboard offers, each made only when its button is clicked.

The results as CSV (quantiles) and Parquet (every draw); each chart as PNG, SVG (kaleido on the
system's Chromium) and CSV (its drawn data, headed by its title and source note). Text cells
that a spreadsheet would read as a formula are neutralised.
"""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from rareflow import dims
from rareflow.outputs import neutralise
from rareflow.report.build import Report
from rareflow.report.export import ImageFormat, image_bytes

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a table whose text cells cannot run as spreadsheet formulas (a ``'`` is put first).

    The same rule as the command line's CSV (:func:`rareflow.outputs.neutralise`).
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return out


def _long(results: xr.Dataset) -> list[tuple[str, str, pd.DataFrame]]:
    """Each variable as a long frame (its dims as columns, ``value``), with its unit."""
    out = []
    for name in results.data_vars:
        da = results[name]
        frame = da.to_dataframe(name="value").reset_index()
        frame = frame.drop(columns=[c for c in frame if c == "material_unit"])
        unit = str(da.attrs.get("unit", ""))
        if dims.MATERIAL in da.dims:
            units = results["material_unit"].to_series()
            frame["unit"] = frame[dims.MATERIAL].map(units)
        else:
            frame["unit"] = unit
        out.append((str(name), unit, frame))
    return out


def results_parquet(results: xr.Dataset) -> bytes:
    """Every variable and draw in one long table (``variable``, dims, ``value``, ``unit``)."""
    frames = [f.assign(variable=name) for name, _, f in _long(results)]
    table = pd.concat(frames, ignore_index=True)
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    return buf.getvalue()


def results_csv(results: xr.Dataset) -> bytes:
    """Quantiles over draws of every variable by time and label, as CSV (small enough to open)."""
    frames = []
    for name in results.data_vars:
        da = results[name]
        q = da.quantile(list(QUANTILES), dim=dims.DRAW)
        keys = [str(d) for d in q.dims if d != "quantile"]
        frame = q.to_dataframe(name="value").reset_index()
        wide = frame.pivot_table(index=keys, columns="quantile", values="value", sort=False)
        wide.columns = [f"p{round(100 * float(c))}" for c in wide.columns]
        wide = wide.reset_index()
        if dims.MATERIAL in da.dims:
            wide["unit"] = wide[dims.MATERIAL].map(results["material_unit"].to_series())
        else:
            wide["unit"] = str(da.attrs.get("unit", ""))
        frames.append(wide.assign(variable=str(name)))
    table = pd.concat(frames, ignore_index=True)
    first = ["variable", dims.TIME]
    table = table[first + [c for c in table.columns if c not in first]]
    return csv_safe(table).to_csv(index=False).encode("utf-8")


def figure_image(fig: go.Figure, fmt: str) -> bytes:
    """Return a figure as PNG or SVG bytes, drawn by kaleido on the system's Chromium.

    The figure carries its title and its source note (see :func:`rareflow.report.story.stamp`).
    """
    return image_bytes(fig, ImageFormat(fmt))


def figure_csv(report: Report, name: str) -> bytes:
    """Return a figure's data as CSV, headed by its title and source note (``#`` lines)."""
    title = report.figures[name].layout.title.text or name
    head = f"# {title}\n# {report.notes.get(name, '')}\n"
    return (head + csv_safe(report.data[name]).to_csv(index=False)).encode("utf-8")
