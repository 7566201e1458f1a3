"""Supply concentration: Herfindahl-Hirschman index (HHI), top-1 and top-3 shares.

``HHI = sum_i s_i^2`` over suppliers i, with ``s_i`` the share of supplier i in the group's total
(Herfindahl 1950; Hirschman 1945; as used by the U.S. Department of Justice and FTC, *Horizontal
Merger Guidelines*, 2010, section 5.3, on the 0..10,000 scale with shares in percent). On the
fraction scale HHI lies in [1/n, 1] for n suppliers; the points scale multiplies by 10,000.

The same functions give the concentration of world supply (suppliers along
:data:`rareflow.dims.COUNTRY`) and of a country's imports (suppliers along
:data:`rareflow.dims.PARTNER`), for each stage and element and, if present, each time step: every
dimension other than the supplier dimension is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.dims import COUNTRY
from rareflow.errors import DataError, Problem


class Scale(StrEnum):
    """Scale of the HHI."""

    FRACTION = "fraction"
    """Shares as fractions: HHI in [1/n, 1]."""
    POINTS = "points"
    """Shares in percent: HHI in [10,000/n, 10,000], the antitrust convention."""


_FACTOR = {Scale.FRACTION: 1.0, Scale.POINTS: 10_000.0}


def _check_values(values: pd.Series[Any] | np.ndarray[Any, Any], column: str) -> None:
    arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DataError(
            [Problem("supply quantities must be finite and non-negative", column=column)]
        )


def concentration_table(
    data: pd.DataFrame,
    *,
    over: str = COUNTRY,
    by: Sequence[str] | None = None,
    value: str = "value",
    scale: Scale = Scale.FRACTION,
) -> pd.DataFrame:
    """Return HHI, top-1 and top-3 shares of each group of a long table.

    Parameters
    ----------
    data
        Long table: one row per supplier (and group), quantities in ``value``.
    over
        The supplier column (``country`` for world supply, ``partner`` for import shares).
    by
        Group columns (e.g. ``stage``, ``element``, ``time``); default: every column but
        ``over`` and ``value``.
    value
        The quantity column; quantities are turned into shares within each group.
    scale
        HHI scale; top shares are always fractions.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``, with columns ``hhi``, ``top1_share``, ``top3_share``, ``top1`` (the
        largest supplier) and ``n_suppliers`` (suppliers with a positive quantity). A group with
        zero total has NaN indicators.

    Raises
    ------
    DataError
        If a column is missing or a quantity is negative or not finite.
    """
    keys = [c for c in data.columns if c not in (over, value)] if by is None else list(by)
    missing = [c for c in (over, value, *keys) if c not in data.columns]
    if missing:
        raise DataError([Problem("column not found in the table", column=c) for c in missing])
    _check_values(data[value], value)
    if not keys:  # one group: give it a constant key, then drop it
        table = concentration_table(
            data.assign(_all=0), over=over, by=["_all"], value=value, scale=scale
        )
        return table.reset_index(drop=True)
    frame = data[[*keys, over, value]].copy()
    frame["_share"] = frame[value] / frame.groupby(keys)[value].transform("sum")
    frame = frame.sort_values([*keys, "_share"], ascending=[True] * len(keys) + [False])
    frame["_rank"] = frame.groupby(keys).cumcount()
    grouped = frame.groupby(keys)
    return pd.DataFrame(
        {
            "hhi": grouped["_share"].apply(lambda s: (s**2).sum(min_count=1)) * _FACTOR[scale],
            "top1_share": grouped["_share"].max(),
            "top3_share": frame[frame["_rank"] < 3].groupby(keys)["_share"].sum(min_count=1),
            "top1": grouped[over].first(),
            "n_suppliers": grouped[value].apply(lambda s: int((s > 0).sum())),
        }
    )


def concentration_dataset(
    data: xr.DataArray, *, over: str = COUNTRY, scale: Scale = Scale.FRACTION
) -> xr.Dataset:
    """Return HHI, top-1 and top-3 shares along the supplier dimension of a labelled array.

    Parameters
    ----------
    data
        Quantities with a supplier dimension ``over`` and any others (stage, element, time...).
    over
        The supplier dimension.
    scale
        HHI scale; top shares are always fractions.

    Returns
    -------
    xarray.Dataset
        Variables ``hhi``, ``top1_share`` and ``top3_share`` over every dimension but ``over``.

    Raises
    ------
    DataError
        If ``over`` is not a dimension or a quantity is negative or not finite.
    """
    if over not in data.dims:
        raise DataError([Problem(f"dimension '{over}' not found in {tuple(data.dims)}")])
    _check_values(data.values, str(data.name or "value"))
    total = data.sum(over)
    share = data / total.where(total > 0)
    top3 = xr.apply_ufunc(
        lambda a: -np.sort(-a, axis=-1)[..., :3].sum(axis=-1),
        share,
        input_core_dims=[[over]],
    )
    return xr.Dataset(
        {
            "hhi": (share**2).sum(over, skipna=False) * _FACTOR[scale],
            "top1_share": share.max(over, skipna=False),
            "top3_share": top3,
        }
    )
