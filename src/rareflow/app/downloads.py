"""Files the dashboard offers: the results as CSV (quantiles) and Parquet (every draw)."""

from __future__ import annotations

import io

import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.outputs import neutralise

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


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
    # Labels come from scenarios (lever names) and data: none may run as a spreadsheet formula.
    for column in table.columns:
        if pd.api.types.is_object_dtype(table[column]) or pd.api.types.is_string_dtype(
            table[column]
        ):
            table[column] = table[column].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return table.to_csv(index=False).encode("utf-8")
