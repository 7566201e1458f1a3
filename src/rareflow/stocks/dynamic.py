"""Cohort-based dynamic stock models, vectorised over series and draws.

Two models share one discretisation (see :mod:`rareflow.stocks.lifetimes`):

- :func:`inflow_driven`: given the inflow ``I(t)`` into use, the stock ``S(t)`` and the outflow
  ``O(t)`` to end of life;
- :func:`stock_driven`: given the stock in use ``S(t)``, the inflow and the outflow.

Maths
-----
With ``s_k`` the share of a cohort still in use ``k`` periods after its entry period and
``p_k = s_{k-1} - s_k`` (``s_{-1} = 1``) the share leaving in that period,

``S(t) = Σ_{c≤t} s_{t-c} I(c)``,  ``O(t) = Σ_{c≤t} p_{t-c} I(c)``,  ``I(t) - O(t) = S(t) - S(t-1)``

with ``S(-1) = 0`` [1]_. For lifetimes that do not depend on the cohort these sums are
convolutions: rareflow evaluates them as products of the ``T × T`` lower-triangular Toeplitz
matrices of ``s`` and ``p`` with the ``T × n`` matrix of the ``n`` series that share a lifetime
(BLAS ``trmm``, which skips the zeros above the diagonal; series are grouped by their lifetime
parameters, and the groups' matrices share one buffer), so no ``T × T × series`` array is
built. flodym and ODYM instead
build ``T × T × series`` survival, leaving-probability, stock-by-cohort and outflow-by-cohort
arrays [2]_ [3]_. The stock-driven model solves the same triangular system, ``S = L I``, by
forward substitution (LAPACK ``trtrs``). Lifetimes over the ``COHORT`` dim (changing with the
entry year) make ``L`` a general lower-triangular matrix, built per group of series; stocks and
outflows by cohort (``T × T × series``) are built only when asked for.

Conventions compared with flodym 1.1.0
--------------------------------------
- Time: flodym places each period between the midpoints of its time labels and, by default,
  all inflow at the middle of the period; rareflow's default spreads inflow uniformly over the
  period (exact integral of the survival function), and ``convention="flodym"`` reproduces
  flodym. Both count stocks at the end of the period and let a cohort leave in its own entry
  period.
- Units: rareflow's flows are amounts per period (per year on a yearly grid, per month on a
  monthly grid); flodym's flows are annual rates and it multiplies inflows by the period length
  for the stock only. On a yearly grid the two are the same.
- Normal lifetimes: neither truncates; the probability of a negative lifetime leaves in the
  entry period.
- Stock-driven, first period: as in flodym and ODYM, the whole stock of the first period is
  taken to be the first cohort's inflow (``I(0) = S(0) / s_0``). Start the series early enough
  (a few lifetimes before the years of interest) or expect a spike of inflow in the first period
  and a wave of outflow one lifetime later.
- Stock-driven, falling stocks: a stock that falls faster than its cohorts leave needs a negative
  inflow. ``negative_inflow="allow"`` keeps it (flodym's behaviour, mass balance holds);
  ``negative_inflow="retire"`` sets the inflow to zero and retires the surplus early from all
  cohorts in proportion to their stock, as ODYM's ``NegativeInflowCorrect=True`` [3]_.

References
----------
.. [1] D. B. Müller, "Stock dynamics for forecasting material flows—Case study for housing in
   The Netherlands", Ecol. Econ. 59(1):142-156, 2006.
.. [2] flodym 1.1.0, ``flodym/stocks.py`` (https://github.com/pik-piam/flodym).
.. [3] S. Pauliuk and N. Heeren, "ODYM—An open software framework for studying dynamic material
   systems", J. Ind. Ecol. 24(3):446-458, 2020; ``ODYM/modules/dynamic_stock_model.py``,
   ``compute_stock_driven_model``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from scipy.linalg import blas, lapack

from rareflow.dims import COHORT, TIME, YEAR
from rareflow.errors import InputError
from rareflow.stocks.lifetimes import Convention, FloatArray, Lifetime

NegativeInflow = Literal["allow", "retire"]

BALANCE_RTOL = 1e-9
"""Largest mass-balance residual allowed, relative to the largest flow or stock of a series."""


@dataclass(frozen=True)
class _Grid:
    """Inputs flattened to ``(time, series)`` arrays, and what is needed to label the results."""

    time_dim: str
    time_index: pd.Index
    series_dims: tuple[str, ...]
    series_shape: tuple[int, ...]
    series_coords: dict[str, pd.Index]
    input_coords: xr.Coordinates
    """The input's own coordinates, reused as they are for the results (cheaper to label)."""
    values: FloatArray
    params: dict[str, FloatArray]
    """Parameter name -> array ``(cohort or 1, series)``."""
    periods_per_year: int

    @property
    def n_time(self) -> int:
        return len(self.time_index)


def _time_dim(data: xr.DataArray, what: str) -> str:
    found = [d for d in (TIME, YEAR) if d in data.dims]
    if len(found) != 1:
        raise InputError(f"{what} must have exactly one of the dims '{TIME}' or '{YEAR}'")
    if COHORT in data.dims:
        raise InputError(f"{what} must not have the '{COHORT}' dim")
    return found[0]


def _periods_per_year(index: pd.Index, time_dim: str, periods_per_year: int | None) -> int:
    """Return the periods per year of evenly spaced labels (checked against the caller's)."""
    if len(index) < 2:
        return periods_per_year or 1
    if index.dtype.kind == "M":  # datetimes, with or without a time zone
        months = pd.DatetimeIndex(index).to_period("M").astype("int64")
        gaps = np.unique(np.diff(months))
        inferred = {1: 12, 12: 1}.get(int(gaps[0])) if len(gaps) == 1 else None
    else:
        labels = np.asarray(index, dtype=float)
        steps = labels[1:] - labels[:-1]
        # The unique steps are needed only for the error message.
        inferred = 1 if bool((steps == 1).all()) else None
        gaps = np.unique(steps) if inferred is None else steps[:1]
    if inferred is None:
        raise InputError(
            f"the '{time_dim}' labels must be consecutive years or months, got steps {gaps[:5]}"
        )
    if periods_per_year is not None and periods_per_year != inferred:
        raise InputError(
            f"periods_per_year={periods_per_year} does not match the '{time_dim}' labels, "
            f"which have {inferred} per year"
        )
    return inferred


def _pandas_indexes(data: xr.DataArray) -> dict[Hashable, pd.Index]:
    """Return ``dict(data.indexes)`` at half the cost (xarray rebuilds it on every access)."""
    return {name: index.to_pandas_index() for name, index in data.xindexes.items()}


def _prepare(
    data: xr.DataArray, lifetime: Lifetime, periods_per_year: int | None, what: str
) -> _Grid:
    """Check and flatten the inputs; series dims are the data's, then the parameters' new ones.

    Plain NumPy rather than ``xr.align``/``xr.broadcast``: for small models their overhead
    would cost more than the model itself. Shared dims must match exactly (no reindexing).
    """
    time_dim = _time_dim(data, what)
    data_indexes = _pandas_indexes(data)
    if time_dim not in data_indexes:
        raise InputError(f"{what} needs coordinates on its '{time_dim}' dim")
    time_index = data_indexes[time_dim]
    if time_index.name != time_dim:
        time_index = time_index.rename(time_dim)
    per_year = _periods_per_year(time_index, time_dim, periods_per_year)
    sizes = {str(d): n for d, n in zip(data.dims, data.shape, strict=True)}
    del sizes[time_dim]
    series_dims = list(sizes)
    indexes = {d: data_indexes[d] for d in series_dims if d in data_indexes}
    params: dict[str, tuple[FloatArray, tuple[str, ...]]] = {}
    # The parameters as given: wrapping numbers in DataArrays would cost more than a small model.
    for name, value in lifetime._raw_parameters().items():
        if not isinstance(value, xr.DataArray):
            params[name] = (np.asarray(value, dtype=float), ())
            continue
        da_dims = tuple(map(str, value.dims))
        da_indexes = _pandas_indexes(value)
        for dim, size in zip(da_dims, value.shape, strict=True):
            index = da_indexes.get(dim)
            if dim == COHORT:
                if index is None or not index.equals(time_index):
                    raise InputError(
                        f"lifetime parameter '{name}' must label its '{COHORT}' dim with the "
                        f"'{time_dim}' labels of {what}"
                    )
                continue
            if dim not in sizes:
                series_dims.append(dim)
                sizes[dim] = size
            known = indexes.get(dim)
            if size != sizes[dim] or (
                known is not None and index is not None and not known.equals(index)
            ):
                raise InputError(
                    f"lifetime parameter '{name}' and {what} differ along the '{dim}' dim"
                )
            if known is None and index is not None:
                indexes[dim] = index
        params[name] = (np.asarray(value.values, dtype=float), da_dims)
    shape = tuple(sizes[d] for d in series_dims)
    n_series = math.prod(shape)

    def flat(values: FloatArray, dims: tuple[str, ...], lead: str) -> FloatArray:
        """Return ``values`` over ``dims`` as ``(lead or 1, series)``."""
        order = [d for d in [lead, *series_dims] if d in dims]
        # NumPy's transpose: xarray's costs more than a small model's whole computation.
        values = values.transpose([dims.index(d) for d in order])
        n_lead = values.shape[0] if lead in dims else 1
        expanded = values.reshape(n_lead, *(sizes[d] if d in dims else 1 for d in series_dims))
        if expanded.shape[1:] != shape:
            expanded = np.broadcast_to(expanded, (n_lead, *shape))
        return expanded.reshape(n_lead, n_series)

    values = flat(np.asarray(data.values, dtype=float), tuple(map(str, data.dims)), time_dim)
    if not np.isfinite(values).all():
        raise InputError(f"{what} has missing or infinite values")
    return _Grid(
        time_dim=time_dim,
        time_index=time_index,
        series_dims=tuple(series_dims),
        series_shape=shape,
        series_coords=indexes,
        input_coords=data.coords,
        values=values,
        params={n: flat(v, dims, COHORT) for n, (v, dims) in params.items()},
        periods_per_year=per_year,
    )


def _groups(grid: _Grid) -> tuple[list[npt.NDArray[np.intp]], dict[str, FloatArray]]:
    """Return the groups of series that share a lifetime and each group's parameters."""
    names = list(grid.params)
    # A parameter over COHORT has a row per cohort, a constant one a single row: repeat it.
    n_lead = max(p.shape[0] for p in grid.params.values())
    stacked = np.concatenate(
        [np.broadcast_to(grid.params[n], (n_lead, grid.values.shape[1])) for n in names], axis=0
    )
    # Sort the series by their parameter columns; a new group starts where a column changes.
    # (np.unique(axis=1) and np.split do the same but cost more than a small model.)
    order = np.lexsort(stacked[::-1])
    ordered = stacked[:, order]
    starts = (np.flatnonzero((ordered[:, 1:] != ordered[:, :-1]).any(axis=0)) + 1).tolist()
    bounds = [0, *starts, len(order)]
    members = [order[a:b] for a, b in itertools.pairwise(bounds)]
    first = ordered[:, bounds[:-1]]
    return members, {n: first[i * n_lead : (i + 1) * n_lead] for i, n in enumerate(names)}


def _toeplitz_windows(surviving: FloatArray, leaving: FloatArray) -> npt.NDArray[np.float64]:
    """Return views ``W[g]`` ``(2, T, T)`` of group ``g``'s Toeplitz matrices ``L`` and ``P``.

    ``L[t, c] = surviving[t - c, g]`` and ``P[t, c] = leaving[t - c, g]`` (0 above the
    diagonal): sliding windows over the reversed, zero-padded columns, where row ``t`` is the
    window starting at ``T - 1 - t``, so copying a matrix out copies whole contiguous rows.
    """
    n, n_groups = surviving.shape
    reversed_padded = np.zeros((n_groups, 2, 2 * n - 1))
    reversed_padded[:, 0, :n] = surviving[::-1].T
    reversed_padded[:, 1, :n] = leaving[::-1].T
    # W[g, k, t, c] = reversed_padded[g, k, T - 1 - t + c]. as_strided: sliding_window_view
    # builds the same view at three times the cost.
    group, kind, step = reversed_padded.strides
    return np.lib.stride_tricks.as_strided(
        reversed_padded[:, :, n - 1 :],
        shape=(n_groups, 2, n, n),
        strides=(group, kind, -step, step),
        writeable=False,
    )


def _matrices(
    lifetime: Lifetime,
    params: dict[str, FloatArray],
    n_time: int,
    ppy: int,
    convention: Convention,
) -> Iterator[FloatArray]:
    """Yield each group's stacked ``[L; P]``, two ``T × T`` lower-triangular matrices.

    ``L[t, c]`` is the share of cohort ``c`` in use at the end of period ``t`` and ``P[t, c]``
    the share of it leaving during period ``t``. Every group is written into the same buffer,
    so memory stays at ``2 T²`` however many lifetimes there are (and page faults from fresh
    allocations, which cost more than the copy itself, happen once): use each matrix before
    asking for the next.
    """
    n_groups = next(iter(params.values())).shape[1]
    cohort_varying = next(iter(params.values())).shape[0] > 1
    buffer = np.empty((2 * n_time, n_time))
    if not cohort_varying:
        # One evaluation of the distribution for all groups: T values each.
        table = lifetime.survival_by_lag(
            n_time, lifetime.in_periods({k: v[0] for k, v in params.items()}, ppy), convention
        )
        # -np.diff(table, axis=0, prepend=1.0), bit for bit, without its concatenation.
        leaving = np.empty_like(table)
        leaving[0] = 1.0 - table[0]
        np.subtract(table[:-1], table[1:], out=leaving[1:])
        windows = _toeplitz_windows(table, leaving)
        for g in range(n_groups):
            np.copyto(buffer.reshape(2, n_time, n_time), windows[g])
            yield buffer
        return
    t = np.arange(n_time)
    lag = (t[:, None] - t[None, :]).astype(float)
    entered = lag >= 0
    for g in range(n_groups):
        p = lifetime.in_periods({k: v[None, :, g] for k, v in params.items()}, ppy)
        share = lifetime.period_survival(np.maximum(lag, 0.0), p, convention)
        # Running minimum down each cohort's column from its entry, as in survival_by_lag.
        share = np.minimum.accumulate(np.where(entered, share, 1.0), axis=0) * entered
        buffer[:n_time] = share
        buffer[n_time] = 0.0
        buffer[n_time + 1 :] = share[:-1]
        buffer[n_time:] += np.eye(n_time) - share
        yield buffer


SMALL_PRODUCT = 500_000
"""Multiply-adds (``T² × series`` of a group) below which a full product with ``@`` beats the
triangular one: there the fixed cost of the BLAS calls and the kernels for thin matrices weigh
more than the halved arithmetic (measured with one OpenBLAS thread: 2.5 vs 6.5 µs at
T = 100 for one series, 8.6 vs 11.8 µs for 10; 76 vs 152 µs at T = 300 for 10 series)."""


def _is_small(n_time: int, n_series: int) -> bool:
    return n_time * n_time * n_series < SMALL_PRODUCT


def _lower_product(lower: FloatArray, block: FloatArray) -> FloatArray:
    """Return ``lower @ block`` for a C-ordered lower-triangular ``lower`` (BLAS ``trmm``).

    Half the multiplications of ``@``, which also multiplies the zeros above the diagonal.
    ``lower.T`` is the same memory read as an upper-triangular Fortran matrix; ``block`` is best
    Fortran-ordered too (else it is copied).
    """
    return blas.dtrmm(1.0, lower.T, block, lower=0, trans_a=1)


def _lower_solve(lower: FloatArray, block: FloatArray) -> FloatArray:
    """Return ``x`` with ``lower @ x = block``, as ``scipy.linalg.solve_triangular`` does.

    The same LAPACK ``trtrs`` call without scipy's per-call checks (``lower`` has a positive
    diagonal, checked by the caller, and finite values).
    """
    solved: FloatArray
    solved, info = lapack.dtrtrs(lower.T, block, lower=0, trans=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"LAPACK trtrs failed (info {info})")
    return solved


def _stock_change(stock: FloatArray) -> FloatArray:
    """Return ``S(t) - S(t-1)`` with ``S(-1) = 0`` (``np.diff(stock, prepend=0)``, cheaper)."""
    change = np.empty_like(stock)
    change[0] = stock[0]
    np.subtract(stock[1:], stock[:-1], out=change[1:])
    return change


def _check_balance(
    grid: _Grid, inflow: FloatArray, outflow: FloatArray, stock: FloatArray, change: FloatArray
) -> None:
    """Raise if ``inflow - outflow`` differs from the stock ``change`` by more than BALANCE_RTOL."""
    residual = inflow - outflow
    residual -= change
    residual = np.abs(residual, out=residual).max(axis=0)
    # The stock's largest value bounds the scale from below: almost always enough to pass.
    # (A finite bound and a residual within it imply finite flows, so a finite scale.)
    lower = np.abs(stock).max(axis=0)
    if bool((residual <= BALANCE_RTOL * lower).all() and np.isfinite(lower).all()):
        return
    scale = np.abs(inflow).max(axis=0)
    for flow in (outflow, stock):
        np.maximum(scale, np.abs(flow).max(axis=0), out=scale)
    # An overflow (infinite scale, NaN residual) fails too.
    bad = np.flatnonzero(~(np.isfinite(scale) & (residual <= BALANCE_RTOL * scale)))
    if bad.size:
        where = np.unravel_index(int(bad[0]), grid.series_shape)
        label = {
            d: grid.series_coords[d][int(i)] if d in grid.series_coords else int(i)
            for d, i in zip(grid.series_dims, where, strict=True)
        }
        raise InputError(
            f"mass balance fails for {bad.size} series, first {label}: residual "
            f"{residual[bad[0]]:.3g} vs largest value {scale[bad[0]]:.3g} (allowed relative "
            f"{BALANCE_RTOL:g}); check the inputs for extreme or cancelling values"
        )


def _result(
    grid: _Grid,
    flows: dict[str, FloatArray],
    cohorts: tuple[FloatArray, FloatArray] | None,
    attrs: dict[str, str | int | float],
) -> xr.Dataset:
    """Label ``(time, series)`` arrays, plus stock and outflow by cohort if given.

    The result is what ``xr.Dataset(variables, coords=input_coords, attrs=attrs)`` with the
    parameters' and cohort coordinates assigned would give (a test checks it), put together
    directly: the public constructor aligns and merges what is aligned already, which costs
    more than a small model's whole computation.
    """
    dims = (grid.time_dim, *grid.series_dims)
    shape = (grid.n_time, *grid.series_shape)
    sizes = dict(zip(dims, shape, strict=True))
    variables: dict[Hashable, xr.Variable] = {
        name: xr.Variable(dims, flow.reshape(shape)) for name, flow in flows.items()
    }
    added = {d: i for d, i in grid.series_coords.items() if d not in grid.input_coords}
    if cohorts is not None:
        cohort_dims = (grid.time_dim, COHORT, *grid.series_dims)
        cohort_shape = (grid.n_time, *shape)
        variables["stock_by_cohort"] = xr.Variable(cohort_dims, cohorts[0].reshape(cohort_shape))
        variables["outflow_by_cohort"] = xr.Variable(cohort_dims, cohorts[1].reshape(cohort_shape))
        sizes[COHORT] = grid.n_time
        added[COHORT] = grid.time_index.rename(COHORT)
    # Shallow copies of the input's coordinates (as the constructor makes), then the new ones
    # with default indexes.
    coords = {k: v.copy(deep=False) for k, v in grid.input_coords.variables.items()}
    indexes: dict[Hashable, xr.Index] = dict(grid.input_coords.xindexes)
    if added:
        new = xr.Coordinates(added)
        coords.update(new.variables)
        indexes.update(new.xindexes)
    variables.update(coords)
    return xr.Dataset._construct_direct(variables, set(coords), sizes, attrs=attrs, indexes=indexes)


def inflow_driven(
    inflow: xr.DataArray,
    lifetime: Lifetime,
    *,
    periods_per_year: int | None = None,
    convention: Convention = "uniform",
    by_cohort: bool = False,
    check_balance: bool = True,
) -> xr.Dataset:
    """Compute stocks in use and outflows from inflows into use.

    Parameters
    ----------
    inflow
        Amount entering use in each period, over ``TIME`` (monthly labels) or ``YEAR`` and any
        series dims (``SECTOR``, ``COUNTRY``, ``DRAW``, ``ELEMENT``, ...).
    lifetime
        Lifetime distribution; its parameters may add dims (e.g. ``DRAW``) to the results.
    periods_per_year
        1 or 12; inferred from the time labels (consecutive years, or monthly or yearly
        datetimes) and checked against them if given.
    convention
        ``"uniform"`` (default) or ``"flodym"``; see :mod:`rareflow.stocks.lifetimes`.
    by_cohort
        Also return ``stock_by_cohort`` and ``outflow_by_cohort`` over ``COHORT``
        (``T × T × series`` values: ask only when needed).
    check_balance
        Check ``inflow - outflow = stock_change`` to ``BALANCE_RTOL`` per series.

    Returns
    -------
    xarray.Dataset
        ``inflow``, ``outflow``, ``stock`` (end of period) and ``stock_change``.

    Raises
    ------
    rareflow.errors.InputError
        On missing dims or coordinates, non-finite values, misaligned lifetime parameters, or a
        failed mass balance.

    References
    ----------
    Müller (2006), Ecol. Econ. 59(1):142-156; flodym 1.1.0 ``InflowDrivenDSM``.
    """
    grid = _prepare(inflow, lifetime, periods_per_year, "the inflow")
    members, params = _groups(grid)
    matrices = _matrices(lifetime, params, grid.n_time, grid.periods_per_year, convention)
    stock = np.empty_like(grid.values)
    outflow = np.empty_like(grid.values)
    cohorts = None
    if by_cohort:
        cohorts = (
            np.empty((grid.n_time, *grid.values.shape)),
            np.empty((grid.n_time, *grid.values.shape)),
        )
    n = grid.n_time
    for cols, stacked in zip(members, matrices, strict=True):
        surviving, leaving = stacked[:n], stacked[n:]
        if _is_small(n, len(cols)):
            # C order: NumPy's ``@`` is twice as slow on the F-ordered ``values[:, cols]``.
            block = np.take(grid.values, cols, axis=1)
            both = stacked @ block
            stock[:, cols], outflow[:, cols] = both[:n], both[n:]
        else:
            block = grid.values.T[cols].T  # Fortran order, as BLAS takes it
            stock[:, cols] = _lower_product(surviving, block)
            outflow[:, cols] = _lower_product(leaving, block)
        if cohorts is not None:
            cohorts[0][:, :, cols] = surviving[:, :, None] * block[None, :, :]
            cohorts[1][:, :, cols] = leaving[:, :, None] * block[None, :, :]
    change = _stock_change(stock)
    if check_balance:
        _check_balance(grid, grid.values, outflow, stock, change)
    attrs: dict[str, str | int | float] = {
        "model": "inflow-driven",
        "convention": convention,
        "lifetime": lifetime.distribution,
        "periods_per_year": grid.periods_per_year,
    }
    flows = {"inflow": grid.values, "outflow": outflow, "stock": stock, "stock_change": change}
    return _result(grid, flows, cohorts, attrs)


def _solve_retire(
    surviving: FloatArray, leaving: FloatArray, stock: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Solve for inflows with early retirement instead of negative ones (ODYM's correction).

    Returns the inflow, outflow, the early retirement (part of the outflow) and the factor
    ``f(t)`` by which every existing cohort is scaled in period ``t`` (1 where nothing is
    retired early).
    """
    n_time = stock.shape[0]
    weight = np.zeros_like(stock)  # each cohort's inflow times its scaling so far
    inflow = np.zeros_like(stock)
    outflow = np.zeros_like(stock)
    factor = np.ones_like(stock)
    retired = np.zeros_like(stock)
    for m in range(n_time):
        held = surviving[m, :m] @ weight[:m]
        natural = leaving[m, :m] @ weight[:m]
        gap = stock[m] - held
        short = gap < 0
        # held > 0 wherever gap < 0 because stocks are non-negative.
        f = np.where(short, stock[m] / np.where(short, held, 1.0), 1.0)
        weight[:m] *= f
        factor[m] = f
        inflow[m] = np.where(short, 0.0, gap / surviving[m, m])
        weight[m] = inflow[m]
        retired[m] = (1.0 - f) * held
        outflow[m] = natural + retired[m] + leaving[m, m] * inflow[m]
    return inflow, outflow, retired, factor


def _retire_cohorts(
    surviving: FloatArray, leaving: FloatArray, inflow: FloatArray, factor: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return stock and outflow by cohort ``(time, cohort, series)`` with early retirement."""
    n_time = surviving.shape[0]
    later = np.arange(n_time)[:, None] > np.arange(n_time)[None, :]
    # scale[t, c] = Π_{c < j ≤ t} f(j): the early retirements cohort c has seen by period t.
    scale = np.cumprod(np.where(later[:, :, None], factor[:, None, :], 1.0), axis=0)
    stock_c = surviving[:, :, None] * inflow[None, :, :] * scale
    before = np.concatenate([np.zeros((1, *scale.shape[1:])), scale[:-1]]) * inflow[None, :, :]
    early = (1.0 - factor[:, None, :]) * surviving[:, :, None] * later[:, :, None]
    outflow_c = before * (leaving[:, :, None] + early)
    diagonal = np.arange(n_time)
    outflow_c[diagonal, diagonal] = leaving[diagonal, diagonal, None] * inflow
    return stock_c, outflow_c


def stock_driven(
    stock: xr.DataArray,
    lifetime: Lifetime,
    *,
    periods_per_year: int | None = None,
    convention: Convention = "uniform",
    negative_inflow: NegativeInflow = "allow",
    by_cohort: bool = False,
    check_balance: bool = True,
) -> xr.Dataset:
    """Compute the inflows and outflows that keep a given stock in use.

    Parameters
    ----------
    stock
        Stock in use at the end of each period, dims as ``inflow`` of :func:`inflow_driven`.
    lifetime, periods_per_year, convention, by_cohort, check_balance
        As in :func:`inflow_driven`. The balance is checked against the given stock, so it
        also confirms that the solved cohorts reproduce it.
    negative_inflow
        ``"allow"`` (flodym): a stock falling faster than its cohorts leave gives a negative
        inflow. ``"retire"`` (ODYM's ``NegativeInflowCorrect``): the inflow is zero instead
        and the surplus leaves early from every cohort in proportion to its stock; the
        result then has ``early_retirement``. The stock must be non-negative.

    Returns
    -------
    xarray.Dataset
        As :func:`inflow_driven`. The first period's stock is all taken to be the first
        cohort's inflow (flodym and ODYM do the same).

    Raises
    ------
    rareflow.errors.InputError
        As :func:`inflow_driven`, and if nothing of a cohort survives its entry period (no
        stock can be held) or, with ``"retire"``, the stock is negative.
    """
    grid = _prepare(stock, lifetime, periods_per_year, "the stock")
    if negative_inflow == "retire" and bool((grid.values < 0).any()):
        raise InputError("the stock must be non-negative with negative_inflow='retire'")
    members, params = _groups(grid)
    matrices = _matrices(lifetime, params, grid.n_time, grid.periods_per_year, convention)
    inflow = np.empty_like(grid.values)
    outflow = np.empty_like(grid.values)
    early = np.zeros_like(grid.values)
    cohorts = None
    if by_cohort:
        cohorts = (
            np.empty((grid.n_time, *grid.values.shape)),
            np.empty((grid.n_time, *grid.values.shape)),
        )
    n = grid.n_time
    for cols, stacked in zip(members, matrices, strict=True):
        surviving, leaving = stacked[:n], stacked[n:]
        if not surviving.diagonal().min() > 0:
            raise InputError(
                "the lifetime leaves nothing in use at the end of the entry period, so no "
                "stock can be held: use a longer lifetime or the 'uniform' convention"
            )
        if negative_inflow == "retire":
            block = grid.values[:, cols]
            i, o, early[:, cols], factor = _solve_retire(surviving, leaving, block)
            if cohorts is not None:
                cohorts[0][:, :, cols], cohorts[1][:, :, cols] = _retire_cohorts(
                    surviving, leaving, i, factor
                )
        else:
            # Fortran order, as LAPACK and BLAS take it.
            i = _lower_solve(surviving, grid.values.T[cols].T)
            o = leaving @ i if _is_small(n, len(cols)) else _lower_product(leaving, i)
            if cohorts is not None:
                cohorts[0][:, :, cols] = surviving[:, :, None] * i[None, :, :]
                cohorts[1][:, :, cols] = leaving[:, :, None] * i[None, :, :]
        inflow[:, cols], outflow[:, cols] = i, o
    change = _stock_change(grid.values)
    if check_balance:
        # Outflows come from the solved cohorts, so this fails too if they miss the stock.
        _check_balance(grid, inflow, outflow, grid.values, change)
    attrs: dict[str, str | int | float] = {
        "model": "stock-driven",
        "convention": convention,
        "lifetime": lifetime.distribution,
        "periods_per_year": grid.periods_per_year,
        "negative_inflow": negative_inflow,
    }
    flows = {"inflow": inflow, "outflow": outflow, "stock": grid.values}
    if negative_inflow == "retire":
        flows["early_retirement"] = early
    flows["stock_change"] = change
    return _result(grid, flows, cohorts, attrs)
