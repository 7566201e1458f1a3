"""Indicators of a run over time: import concentration, China's share, import reliance.

How concentrated the focal country's imports are, how much comes from China, and how reliant on
imports it is, month by month and across draws.

They answer "how do the yardsticks move within a scenario, and with its levers?": the same
definitions as the dataset-level indicators (:mod:`rareflow.indicators.concentration`; net import
reliance as USGS defines it, :mod:`rareflow.indicators.import_reliance`), computed on the run's
flows instead of published shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.dims import PROCESS
from rareflow.indicators.concentration import concentration_dataset

CHINA = "CHN"
INDICATORS = ("import_hhi", "import_top1_share", "china_share_of_imports", "import_reliance")


def run_indicators(results: xr.Dataset) -> xr.Dataset:
    """Compute indicators by draw, time and material.

    Returns
    -------
    xarray.Dataset
        ``import_hhi`` and ``import_top1_share`` (concentration of shipments to the focal
        country across partners), ``china_share_of_imports`` (China's share of shipments), and
        ``import_reliance`` (imports / (imports + domestic output) of each material; NaN where
        the material is neither imported nor made).
    """
    if "shipped" not in results:
        raise ValueError("the run kept no shipments by partner (keep_partners=False)")
    shipped = results["shipped"]
    conc = concentration_dataset(shipped, over=dims.PARTNER)
    total = shipped.sum(dims.PARTNER)
    china = (
        shipped.sel({dims.PARTNER: CHINA})
        if CHINA in shipped[dims.PARTNER].to_numpy()
        else xr.zeros_like(total)
    )
    made = xr.zeros_like(results["imports"])
    production = results["production"]
    # Domestic output of each material: the process named after it, or separation's oxide.
    for process in production[PROCESS].to_numpy():
        material = "oxide_ndpr" if process == "separation_ndpr" else str(process)
        if material in made[dims.MATERIAL].to_numpy():
            made.loc[{dims.MATERIAL: material}] = made.sel({dims.MATERIAL: material}) + (
                production.sel({PROCESS: process})
            )
    imports = results["imports"]
    supply = imports + made
    return xr.Dataset(
        {
            "import_hhi": conc["hhi"],
            "import_top1_share": conc["top1_share"],
            "china_share_of_imports": china / total.where(total > 0),
            "import_reliance": imports / supply.where(supply > 0),
        }
    )


def summarise(indicators: xr.Dataset, materials: list[str]) -> list[dict[str, Any]]:
    """Median over draws of each indicator's mean over time, first and last month, by material."""
    rows = []
    for material in materials:
        for name in INDICATORS:
            series = indicators[name].sel({dims.MATERIAL: material})
            if not np.isfinite(series.to_numpy()).any():
                continue
            over_time = series.median(dims.DRAW, skipna=True)
            rows.append(
                {
                    "material": material,
                    "indicator": name,
                    "mean": float(series.mean(dims.TIME, skipna=True).median(skipna=True)),
                    "first_month": float(over_time.isel({dims.TIME: 0})),
                    "last_month": float(over_time.isel({dims.TIME: -1})),
                    "min_month": float(over_time.min(skipna=True)),
                    "max_month": float(over_time.max(skipna=True)),
                }
            )
    return rows
