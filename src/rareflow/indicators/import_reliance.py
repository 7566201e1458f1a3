"""Net import reliance, as the U.S. Geological Survey defines it.

U.S. Geological Survey, *Mineral Commodity Summaries* (annual), the appendix defining its terms
and the 'net import reliance' footnote of each commodity page::

    NIR = (imports - exports + adjustments for government and industry stock changes)
          / apparent consumption

    apparent consumption = production + imports - exports
                           + adjustments for government and industry stock changes

The stock adjustment is the net release from stocks (positive when stocks were drawn down,
negative when they were built up). A negative numerator makes the country a net exporter, which
the summaries mark 'E'.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from rareflow.errors import DataError, Problem

NET_EXPORTER: Literal["E"] = "E"
"""The Mineral Commodity Summaries' mark of a net exporter."""


def apparent_consumption(
    production: float, imports: float, exports: float, stock_release: float = 0.0
) -> float:
    """Return apparent consumption: production + imports - exports + stock release (USGS MCS)."""
    return production + imports - exports + stock_release


def net_import_reliance(
    production: float, imports: float, exports: float, stock_release: float = 0.0
) -> float | Literal["E"]:
    """Return the net import reliance (fraction of apparent consumption), or 'E'.

    USGS Mineral Commodity Summaries, definitions appendix (module docstring).

    Parameters
    ----------
    production
        Domestic production.
    imports, exports
        Gross imports and exports, in the same unit.
    stock_release
        Net release from government and industry stocks (negative for a build-up).

    Returns
    -------
    float or 'E'
        NIR in [0, 1] when production >= 0; 'E' for a net exporter.

    Raises
    ------
    DataError
        If apparent consumption is not positive while the country is a net importer.
    """
    numerator = imports - exports + stock_release
    if numerator < 0:
        return NET_EXPORTER
    consumption = apparent_consumption(production, imports, exports, stock_release)
    if consumption <= 0:
        raise DataError(
            [Problem(f"apparent consumption is {consumption:g}; net import reliance needs > 0")]
        )
    return numerator / consumption


def net_import_reliance_table(data: pd.DataFrame) -> pd.DataFrame:
    """Return apparent consumption and net import reliance for each row of a table.

    Parameters
    ----------
    data
        Columns ``production``, ``imports``, ``exports`` and optionally ``stock_release``, any
        index (e.g. country, element, year).

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``apparent_consumption``, ``net_import_reliance`` (fraction; NaN for a
        net exporter or a non-positive consumption) and ``net_exporter`` (bool, the USGS 'E').

    Raises
    ------
    DataError
        If a required column is missing.
    """
    missing = [c for c in ("production", "imports", "exports") if c not in data.columns]
    if missing:
        raise DataError([Problem("column not found in the table", column=c) for c in missing])
    release = data["stock_release"] if "stock_release" in data.columns else 0.0
    numerator = data["imports"] - data["exports"] + release
    consumption = data["production"] + numerator
    exporter = numerator < 0
    nir = (numerator / consumption.where(consumption > 0)).where(~exporter)
    return pd.DataFrame(
        {
            "apparent_consumption": consumption,
            "net_import_reliance": nir.astype(float),
            "net_exporter": np.asarray(exporter, dtype=bool),
        },
        index=data.index,
    )
