"""rareflow's dynamic stock model against flodym 1.1.0 on the same inputs.

Conventions (see ``rareflow.stocks.lifetimes``): flodym puts each period's inflow at the middle of
the period and reads the survival function at one point, ``S(k + 1/2)``; rareflow's default
integrates it over the period (inflow spread uniformly). Both count stocks at the end of the
period, let a cohort leave in its entry period, and do not truncate normal lifetimes. The
equivalence tests therefore run rareflow with ``convention="flodym"`` and ask for agreement to
1e-9 relative to the largest value of each series; the last test documents how far the default
convention is from flodym's own integration over the period (Gauss-Lobatto, 10 points).
"""

from __future__ import annotations

import flodym as fd
import numpy as np
import pytest
import xarray as xr

from rareflow.dims import COHORT, SECTOR, YEAR
from rareflow.stocks import (
    FixedLifetime,
    Lifetime,
    LognormalLifetime,
    NormalLifetime,
    WeibullLifetime,
    inflow_driven,
    stock_driven,
)

RTOL = 1e-9
N_YEARS = 80
YEARS = np.arange(1950, 1950 + N_YEARS)
SECTORS = ["wind", "ev", "hdd", "audio"]
MEAN = np.array([20.0, 12.0, 5.0, 8.0])
SPREAD = np.array([6.0, 3.0, 1.5, 4.0])


def assert_close(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Equal to RTOL relative to the largest magnitude of each series (time is axis 0)."""
    scale = np.abs(theirs).max(axis=0)
    assert np.all(np.abs(ours - theirs) <= RTOL * scale), np.abs(ours - theirs).max()


def flodym_dims() -> fd.DimensionSet:
    return fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=[int(y) for y in YEARS]),
            fd.Dimension(name="sector", letter="s", items=SECTORS),
        ]
    )


def inflow_values() -> np.ndarray:
    rng = np.random.default_rng(7)
    trend = np.exp(0.05 * np.arange(N_YEARS))[:, None]
    return trend * rng.uniform(0.2, 1.8, size=(N_YEARS, len(SECTORS)))


def by_sector(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=[SECTOR], coords={SECTOR: SECTORS})


def pair(kind: str) -> tuple[Lifetime, fd.LifetimeModel]:
    """The same lifetime in rareflow and in flodym."""
    dims = flodym_dims()
    if kind == "normal":
        ours: Lifetime = NormalLifetime(mean=by_sector(MEAN), std=by_sector(SPREAD))
        theirs: fd.LifetimeModel = fd.NormalLifetime(dims=dims, mean=MEAN, std=SPREAD)
    elif kind == "weibull":
        shape = MEAN / SPREAD / 2.0
        ours = WeibullLifetime(scale=by_sector(MEAN), shape=by_sector(shape))
        theirs = fd.WeibullLifetime(dims=dims, weibull_scale=MEAN, weibull_shape=shape)
    elif kind == "lognormal":
        ours = LognormalLifetime(mean=by_sector(MEAN), std=by_sector(SPREAD))
        theirs = fd.LogNormalLifetime(dims=dims, mean=MEAN, std=SPREAD)
    else:
        ours = FixedLifetime(lifetime=by_sector(MEAN))
        theirs = fd.FixedLifetime(dims=dims, mean=MEAN)
    return ours, theirs


def inflow_da(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=[YEAR, SECTOR], coords={YEAR: YEARS, SECTOR: SECTORS})


@pytest.mark.parametrize("kind", ["normal", "weibull", "lognormal", "fixed"])
def test_inflow_driven_matches_flodym(kind: str) -> None:
    ours, theirs = pair(kind)
    dims = flodym_dims()
    values = inflow_values()
    dsm = fd.InflowDrivenDSM(
        dims=dims, lifetime_model=theirs, inflow=fd.StockArray(dims=dims, values=values.copy())
    )
    dsm.compute()
    result = inflow_driven(inflow_da(values), ours, convention="flodym", by_cohort=True)
    assert_close(result.stock.values, dsm.stock.values)
    assert_close(result.outflow.values, dsm.outflow.values)
    stock_c = result.stock_by_cohort.transpose(YEAR, COHORT, SECTOR).values
    outflow_c = result.outflow_by_cohort.transpose(YEAR, COHORT, SECTOR).values
    assert np.allclose(stock_c, dsm.get_stock_by_cohort(), rtol=0, atol=RTOL * values.max())
    assert np.allclose(outflow_c, dsm.get_outflow_by_cohort(), rtol=0, atol=RTOL * values.max())


@pytest.mark.parametrize("kind", ["normal", "weibull"])
def test_stock_driven_matches_flodym(kind: str) -> None:
    ours, theirs = pair(kind)
    dims = flodym_dims()
    # A stock that rises, then falls fast enough to need negative inflows in some sectors.
    shape = np.concatenate([np.linspace(1, 40, 50), np.linspace(40, 5, N_YEARS - 50)])
    stock = shape[:, None] * np.array([1.0, 2.0, 0.5, 3.0])
    dsm = fd.StockDrivenDSM(
        dims=dims, lifetime_model=theirs, stock=fd.StockArray(dims=dims, values=stock.copy())
    )
    dsm.compute()
    result = stock_driven(inflow_da(stock), ours, convention="flodym")
    assert (dsm.inflow.values < 0).any(), "the case should exercise negative inflows"
    assert_close(result.inflow.values, dsm.inflow.values)
    assert_close(result.outflow.values, dsm.outflow.values)
    assert_close(result.stock.values, dsm.stock.values)


def test_lifetime_by_cohort_matches_flodym_nature_factor() -> None:
    """A ``COHORT``-dependent mean is flodym's ``lt_factor_by_cohort`` (the T² path)."""
    dims = flodym_dims()
    factor = np.linspace(1.0, 1.5, N_YEARS)
    theirs = fd.NormalLifetime(
        dims=dims, mean=MEAN, std=SPREAD, lt_factor_by_cohort=factor[:, None]
    )
    cohort = xr.DataArray(factor, dims=[COHORT], coords={COHORT: YEARS})
    ours = NormalLifetime(mean=by_sector(MEAN) * cohort, std=by_sector(SPREAD) * cohort)
    values = inflow_values()
    dsm = fd.InflowDrivenDSM(
        dims=dims, lifetime_model=theirs, inflow=fd.StockArray(dims=dims, values=values.copy())
    )
    dsm.compute()
    result = inflow_driven(inflow_da(values), ours, convention="flodym")
    assert_close(result.stock.values, dsm.stock.values)
    assert_close(result.outflow.values, dsm.outflow.values)


def test_default_convention_is_the_limit_of_flodym_quadrature() -> None:
    """Not equal to flodym's default, but close to flodym's 10-point integration over the
    period: the difference between conventions is the discretisation, nothing else."""
    ours, _ = pair("weibull")
    dims = flodym_dims()
    shape = MEAN / SPREAD / 2.0
    theirs = fd.WeibullLifetime(
        dims=dims, weibull_scale=MEAN, weibull_shape=shape, n_pts_per_interval=10
    )
    values = inflow_values()
    dsm = fd.InflowDrivenDSM(
        dims=dims, lifetime_model=theirs, inflow=fd.StockArray(dims=dims, values=values.copy())
    )
    dsm.compute()
    uniform = inflow_driven(inflow_da(values), ours)
    midpoint = inflow_driven(inflow_da(values), ours, convention="flodym")
    scale = dsm.stock.values.max(axis=0)
    to_quadrature = np.abs(uniform.stock.values - dsm.stock.values).max(axis=0) / scale
    to_midpoint = np.abs(uniform.stock.values - midpoint.stock.values).max(axis=0) / scale
    assert np.all(to_quadrature < 1e-4)
    assert np.all(to_quadrature < to_midpoint / 10)
