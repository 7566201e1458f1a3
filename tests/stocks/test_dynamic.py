"""Properties of the dynamic stock models: balance, signs, round trips, delays, dims, errors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rareflow.dims import COHORT, COUNTRY, DRAW, SECTOR, TIME, YEAR
from rareflow.errors import InputError
from rareflow.stocks import (
    FixedLifetime,
    Lifetime,
    LognormalLifetime,
    NormalLifetime,
    WeibullLifetime,
    inflow_driven,
    stock_driven,
)
from rareflow.stocks.dynamic import _check_balance, _prepare, _stock_change
from rareflow.stocks.lifetimes import Convention

RTOL = 1e-9


def series(values: np.ndarray, start: int = 2000) -> xr.DataArray:
    """Values ``(year, sector)`` as a labelled array."""
    years = np.arange(start, start + values.shape[0])
    sectors = [f"s{i}" for i in range(values.shape[1])]
    return xr.DataArray(values, dims=[YEAR, SECTOR], coords={YEAR: years, SECTOR: sectors})


@st.composite
def lifetimes(draw: st.DrawFn) -> Lifetime:
    kind = draw(st.sampled_from(["normal", "weibull", "lognormal", "fixed"]))
    mean = draw(st.floats(1.0, 30.0))
    if kind == "normal":
        return NormalLifetime(mean=mean, std=mean * draw(st.floats(0.05, 0.5)))
    if kind == "weibull":
        return WeibullLifetime(scale=mean, shape=draw(st.floats(0.8, 6.0)))
    if kind == "lognormal":
        return LognormalLifetime(mean=mean, std=mean * draw(st.floats(0.05, 1.0)))
    return FixedLifetime(lifetime=mean)


inflows = st.integers(1, 40).flatmap(
    lambda n: arrays(np.float64, (n, 3), elements=st.floats(0.0, 1e6, allow_subnormal=False))
)
conventions = st.sampled_from(["uniform", "flodym"])


def close(ours: np.ndarray, theirs: np.ndarray) -> bool:
    scale = np.abs(theirs).max(axis=0)
    return bool(np.all(np.abs(ours - theirs) <= RTOL * scale))


@settings(max_examples=150, deadline=None)
@given(values=inflows, lifetime=lifetimes(), convention=conventions)
def test_inflow_driven_balance_and_signs(
    values: np.ndarray, lifetime: Lifetime, convention: Convention
) -> None:
    result = inflow_driven(series(values), lifetime, convention=convention, by_cohort=True)
    balance = result.inflow - result.outflow - result.stock_change
    scale = np.maximum(result.inflow.max(YEAR), result.stock.max(YEAR))
    assert bool((abs(balance).max(YEAR) <= RTOL * scale).all())
    assert bool((result.stock >= 0).all())
    assert bool((result.outflow >= 0).all())
    # Nothing leaves before it entered, and cohorts add up to the totals.
    assert close(result.stock_by_cohort.sum(COHORT).values, result.stock.values)
    assert close(result.outflow_by_cohort.sum(COHORT).values, result.outflow.values)
    upper = np.triu(np.ones((values.shape[0],) * 2), k=1).astype(bool)
    assert bool((result.stock_by_cohort.values[upper] == 0).all())
    # Outflows never exceed everything that entered so far.
    assert bool((result.outflow.cumsum(YEAR) <= result.inflow.cumsum(YEAR) * (1 + RTOL)).all())


@settings(max_examples=150, deadline=None)
@given(values=inflows, lifetime=lifetimes())
def test_stock_driven_inverts_inflow_driven(values: np.ndarray, lifetime: Lifetime) -> None:
    forward = inflow_driven(series(values), lifetime)
    back = stock_driven(forward.stock, lifetime, by_cohort=True)
    scale = values.max(axis=0) + 1e-300
    assert np.all(np.abs(back.inflow.values - values).max(axis=0) <= 1e-8 * scale)
    assert close(back.outflow.values, forward.outflow.values)
    assert close(back.stock_by_cohort.sum(COHORT).values, forward.stock.values)
    assert close(back.outflow_by_cohort.sum(COHORT).values, forward.outflow.values)


@settings(max_examples=100, deadline=None)
@given(
    values=inflows,
    periods=st.integers(1, 12),
    convention=conventions,
)
def test_fixed_lifetime_is_a_pure_delay(
    values: np.ndarray, periods: int, convention: Convention
) -> None:
    result = inflow_driven(series(values), FixedLifetime(lifetime=periods), convention=convention)
    delayed = np.vstack([np.zeros((periods, 3)), values])[: values.shape[0]]
    assert np.array_equal(result.outflow.values, delayed)
    window = np.array(
        [values[max(0, t - periods + 1) : t + 1].sum(axis=0) for t in range(len(values))]
    )
    assert close(result.stock.values, window)


def test_monthly_grid_fixed_lifetime_delays_by_twelve_months() -> None:
    months = pd.date_range("2020-01-01", periods=36, freq="MS")
    inflow = xr.DataArray(np.arange(36.0), dims=[TIME], coords={TIME: months})
    result = inflow_driven(inflow, FixedLifetime(lifetime=1.0))
    assert result.attrs["periods_per_year"] == 12
    assert np.array_equal(result.outflow.values[12:], inflow.values[:-12])
    assert np.array_equal(result.outflow.values[:12], np.zeros(12))


@settings(max_examples=60, deadline=None)
@given(
    stock=arrays(np.float64, (30, 3), elements=st.floats(0.0, 1e4, allow_subnormal=False)),
    lifetime=lifetimes(),
)
def test_retire_never_needs_negative_inflows(stock: np.ndarray, lifetime: Lifetime) -> None:
    result = stock_driven(series(stock), lifetime, negative_inflow="retire", by_cohort=True)
    assert bool((result.inflow >= 0).all())
    assert bool((result.early_retirement >= 0).all())
    assert bool((result.early_retirement <= result.outflow * (1 + RTOL) + 1e-12).all())
    assert close(result.stock_by_cohort.sum(COHORT).values, stock)
    assert close(result.outflow_by_cohort.sum(COHORT).values, result.outflow.values)


def odym_negative_inflow_correct(stock: np.ndarray, sf: np.ndarray) -> tuple[np.ndarray, ...]:
    """ODYM's ``compute_stock_driven_model(NegativeInflowCorrect=True)`` for one series, as
    written in ODYM (T × T arrays, loops), to check rareflow's vectorised version."""
    n = len(stock)
    s_c = np.zeros((n, n))
    o_c = np.zeros((n, n))
    i = np.zeros(n)
    i[0] = stock[0] / sf[0, 0]
    s_c[:, 0] = i[0] * sf[:, 0]
    o_c[1:, 0] = i[0] * (sf[:-1, 0] - sf[1:, 0])
    o_c[0, 0] = i[0] - s_c[0, 0]
    for m in range(1, n):
        o_c[m, :m] = s_c[m - 1, :m] - s_c[m, :m]
        gap = stock[m] - s_c[m, :].sum()
        if gap < 0:
            share = -gap / s_c[m, :].sum()
            o_c[m, :] += s_c[m, :] * share
            s_c[m:, :m] *= 1 - share
        else:
            i[m] = gap / sf[m, m]
            s_c[m:, m] = i[m] * sf[m:, m]
            o_c[m, m] = i[m] * (1 - sf[m, m])
    return i, o_c.sum(axis=1), s_c


def test_retire_matches_odym_negative_inflow_correction() -> None:
    lifetime = NormalLifetime(mean=8.0, std=2.0)
    years = np.arange(40)
    stock = np.concatenate([np.linspace(1, 30, 20), np.linspace(30, 2, 20)])[:, None]
    result = stock_driven(series(stock), lifetime, negative_inflow="retire", by_cohort=True)
    table = lifetime.survival_table(pd.Index(years, name=YEAR)).values
    sf = np.tril(table[np.subtract.outer(years, years).clip(0)])
    inflow, outflow, s_c = odym_negative_inflow_correct(stock[:, 0], sf)
    assert (result.early_retirement > 0).any()
    assert close(result.inflow.values[:, 0], inflow)
    assert close(result.outflow.values[:, 0], outflow)
    stock_c = result.stock_by_cohort.isel({SECTOR: 0}).values
    assert np.allclose(stock_c, s_c, rtol=0, atol=RTOL * stock.max())


def test_draws_and_series_dims_broadcast() -> None:
    """Lifetime parameters over DRAW and COUNTRY add those dims; each slice is its own model."""
    values = np.random.default_rng(1).uniform(0, 10, size=(25, 2))
    inflow = series(values)
    means = xr.DataArray([5.0, 9.0, 14.0], dims=[DRAW], coords={DRAW: [0, 1, 2]})
    factor = xr.DataArray([1.0, 1.2], dims=[COUNTRY], coords={COUNTRY: ["IND", "CHN"]})
    lifetime = WeibullLifetime(scale=means * factor, shape=2.5)
    result = inflow_driven(inflow, lifetime)
    assert result.stock.dims == (YEAR, SECTOR, DRAW, COUNTRY)
    for d in range(3):
        for c, country in enumerate(["IND", "CHN"]):
            single = WeibullLifetime(scale=float(means[d] * factor[c]), shape=2.5)
            expected = inflow_driven(inflow, single).outflow
            got = result.outflow.sel({DRAW: d, COUNTRY: country})
            assert close(got.values, expected.values)


def test_lifetime_by_cohort_equal_to_constant_gives_the_same_result() -> None:
    values = np.random.default_rng(2).uniform(0, 10, size=(30, 2))
    inflow = series(values)
    cohort = xr.DataArray(np.ones(30), dims=[COHORT], coords={COHORT: inflow[YEAR].values})
    constant = LognormalLifetime(mean=7.0, std=3.0)
    varying = LognormalLifetime(mean=7.0 * cohort, std=3.0 * cohort)
    for model in (inflow_driven, stock_driven):
        a = model(inflow, constant)
        b = model(inflow, varying)
        assert close(b.outflow.values, a.outflow.values)
        assert close(b.inflow.values, a.inflow.values)


def test_lifetime_by_cohort_with_a_constant_parameter() -> None:
    """Only the mean changes with the cohort: the std stays a number."""
    values = np.random.default_rng(3).uniform(0, 10, size=(30, 2))
    inflow = series(values)
    cohort = xr.DataArray(np.ones(30), dims=[COHORT], coords={COHORT: inflow[YEAR].values})
    constant = NormalLifetime(mean=7.0, std=2.0)
    varying = NormalLifetime(mean=7.0 * cohort, std=2.0)
    for model in (inflow_driven, stock_driven):
        a = model(inflow, constant)
        b = model(inflow, varying)
        assert close(b.outflow.values, a.outflow.values)
        assert close(b.inflow.values, a.inflow.values)


def test_longer_lifetimes_for_later_cohorts_keep_them_longer() -> None:
    values = np.zeros((40, 1))
    values[[0, 20], 0] = 1.0
    inflow = series(values)
    cohort = xr.DataArray(
        np.where(np.arange(40) < 20, 5.0, 10.0),
        dims=[COHORT],
        coords={COHORT: inflow[YEAR].values},
    )
    result = inflow_driven(inflow, FixedLifetime(lifetime=cohort), by_cohort=True)
    assert result.outflow.values[5, 0] == 1.0
    assert result.outflow.values[30, 0] == 1.0
    assert result.outflow.values.sum() == 2.0


def test_first_period_stock_is_the_first_cohort() -> None:
    """A constant stock starts as one cohort: replacements come in a wave a lifetime later."""
    lifetime = NormalLifetime(mean=5.0, std=1.0)
    result = stock_driven(series(np.full((10, 1), 100.0)), lifetime)
    surviving = float(lifetime.survival_table(pd.Index([0], name=YEAR))[0])
    assert result.inflow.values[0, 0] == pytest.approx(100.0 / surviving, rel=1e-12)
    assert int(result.outflow.values[:, 0].argmax()) in (4, 5)


def test_falling_stock_gives_negative_inflow_when_allowed() -> None:
    stock = series(np.array([[10.0], [10.0], [1.0]]))
    result = stock_driven(stock, NormalLifetime(mean=20.0, std=2.0))
    assert result.inflow.values[2, 0] < 0


@pytest.mark.parametrize(
    ("inflow", "message"),
    [
        (xr.DataArray(np.ones((3, 2)), dims=["t", SECTOR]), "exactly one of the dims"),
        (xr.DataArray(np.ones(3), dims=[YEAR]), "needs coordinates"),
        (series(np.array([[1.0], [np.nan]])), "missing or infinite"),
        (series(np.ones((3, 1))).assign_coords({YEAR: [2000, 2001, 2003]}), "consecutive"),
    ],
)
def test_bad_inputs_are_named(inflow: xr.DataArray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        inflow_driven(inflow, NormalLifetime(mean=5.0, std=1.0))


def test_misaligned_lifetime_parameters() -> None:
    mean = xr.DataArray([5.0, 6.0], dims=[SECTOR], coords={SECTOR: ["x", "y"]})
    with pytest.raises(InputError, match="differ along the 'sector' dim"):
        inflow_driven(series(np.ones((5, 2))), NormalLifetime(mean=mean, std=1.0))
    cohort = xr.DataArray(np.full(5, 5.0), dims=[COHORT], coords={COHORT: np.arange(5)})
    with pytest.raises(InputError, match="'cohort' dim"):
        inflow_driven(series(np.ones((5, 2))), NormalLifetime(mean=cohort, std=1.0))


def test_periods_per_year_must_match_labels() -> None:
    with pytest.raises(InputError, match="does not match"):
        inflow_driven(series(np.ones((5, 1))), FixedLifetime(lifetime=2), periods_per_year=12)


def test_stock_driven_needs_survival_in_the_entry_period() -> None:
    with pytest.raises(InputError, match="nothing in use"):
        stock_driven(series(np.ones((5, 1))), FixedLifetime(lifetime=0.4), convention="flodym")


def test_retire_needs_non_negative_stock() -> None:
    with pytest.raises(InputError, match="non-negative"):
        stock_driven(
            series(np.array([[1.0], [-1.0]])), FixedLifetime(lifetime=2), negative_inflow="retire"
        )


def test_balance_failure_is_reported() -> None:
    huge = series(np.array([[1e308], [1e308], [1e308]]))
    with np.errstate(all="ignore"), pytest.raises(InputError, match="mass balance fails"):
        inflow_driven(huge, FixedLifetime(lifetime=10))


@pytest.mark.parametrize("by_cohort", [False, True])
@pytest.mark.parametrize("negative_inflow", [None, "allow", "retire"])
def test_result_is_what_the_dataset_constructor_builds(
    by_cohort: bool, negative_inflow: str | None
) -> None:
    """Results are put together without ``xr.Dataset``'s alignment and merge: the same object.

    The input has an unlabelled series dim and an extra coordinate; the lifetime adds a
    labelled DRAW dim and a labelled COUNTRY dim the input lacks.
    """
    values = np.random.default_rng(4).uniform(0, 10, size=(12, 2, 3))
    inflow = xr.DataArray(
        values,
        dims=[YEAR, SECTOR, "unlabelled"],
        coords={YEAR: np.arange(2000, 2012), SECTOR: ["a", "b"], "note": (SECTOR, ["x", "y"])},
    )
    inflow[YEAR].attrs["units"] = "year"
    draws = xr.DataArray([5.0, 9.0], dims=[DRAW], coords={DRAW: [0, 1]})
    factor = xr.DataArray([1.0, 1.2], dims=[COUNTRY], coords={COUNTRY: ["IND", "CHN"]})
    lifetime = NormalLifetime(mean=draws * factor, std=2.0)
    if negative_inflow is None:
        result = inflow_driven(inflow, lifetime, by_cohort=by_cohort)
    else:
        result = stock_driven(
            inflow, lifetime, by_cohort=by_cohort, negative_inflow=negative_inflow
        )
    added = {DRAW: draws.indexes[DRAW], COUNTRY: factor.indexes[COUNTRY]}
    if by_cohort:
        added[COHORT] = inflow.indexes[YEAR].rename(COHORT)
    expected = xr.Dataset(
        {name: result[name].variable for name in result.data_vars},
        coords=inflow.coords,
        attrs=result.attrs,
    ).assign_coords(added)
    xr.testing.assert_identical(result, expected)
    assert list(result.variables) == list(expected.variables)
    assert list(result.sizes.items()) == list(expected.sizes.items())
    assert list(result.xindexes) == list(expected.xindexes)
    # As with the constructor, the result's coordinates are copies: the input is untouched.
    result[YEAR].attrs["units"] = "changed"
    assert inflow[YEAR].attrs["units"] == "year"


def test_balance_is_relative_to_the_largest_flow_not_only_the_stock() -> None:
    """The check first compares with the stock alone; a residual within the flows' scale passes."""
    grid = _prepare(series(np.ones((3, 1))), FixedLifetime(lifetime=1), None, "the inflow")
    stock = np.ones((3, 1))
    change = _stock_change(stock)
    inflow = np.full((3, 1), 1e6)
    outflow = inflow - change - 1e-4  # 1e-4 of a stock of 1, 1e-10 of the flows
    _check_balance(grid, inflow, outflow, stock, change)
    with pytest.raises(InputError, match="mass balance fails"):
        _check_balance(grid, inflow, outflow - 1.0, stock, change)


@pytest.mark.parametrize("model", [inflow_driven, stock_driven])
def test_small_and_large_groups_agree(model: Callable[..., xr.Dataset]) -> None:
    """A group of one series uses ``@``, one of 60 the triangular BLAS products (T² × 60 is
    above SMALL_PRODUCT): the same results."""
    values = np.random.default_rng(5).uniform(1, 10, size=(100, 1)).cumsum(axis=0)
    lifetime = NormalLifetime(mean=12.0, std=4.0)
    one = model(series(values), lifetime)
    many = model(series(np.repeat(values, 60, axis=1)), lifetime)
    for name in ("inflow", "outflow", "stock"):
        expected = one[name].values
        assert close(many[name].values, np.repeat(expected, 60, axis=1))
