"""Lifetime distributions: closed forms against numerical integration, tables, parsing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.integrate
import scipy.stats
import xarray as xr

from rareflow.dims import DRAW, TIME, YEAR
from rareflow.errors import InputError
from rareflow.stocks import (
    FixedLifetime,
    Lifetime,
    LognormalLifetime,
    NormalLifetime,
    WeibullLifetime,
    parse_lifetime,
)

CASES: list[tuple[Lifetime, scipy.stats.rv_continuous | None]] = [
    (NormalLifetime(mean=6.0, std=2.5), scipy.stats.norm(loc=6.0, scale=2.5)),
    (WeibullLifetime(scale=9.0, shape=0.7), scipy.stats.weibull_min(0.7, scale=9.0)),
    (WeibullLifetime(scale=9.0, shape=3.5), scipy.stats.weibull_min(3.5, scale=9.0)),
    (
        LognormalLifetime(mean=10.0, std=6.0),
        scipy.stats.lognorm(
            s=np.sqrt(np.log1p(0.36)), scale=np.exp(np.log(10.0) - 0.5 * np.log1p(0.36))
        ),
    ),
]
YEARS = pd.Index(np.arange(2000, 2040), name=YEAR)


@pytest.mark.parametrize(("lifetime", "dist"), CASES)
@pytest.mark.parametrize("periods_per_year", [1, 12])
def test_uniform_convention_is_the_mean_survival_over_the_period(
    lifetime: Lifetime, dist: scipy.stats.rv_continuous, periods_per_year: int
) -> None:
    step = 1.0 / periods_per_year
    table = lifetime.survival_table(YEARS, periods_per_year=periods_per_year).values
    for k in (0, 1, 5, 17, 39):
        integral, _ = scipy.integrate.quad(dist.sf, k * step, (k + 1) * step, epsabs=1e-14)
        assert table[k] == pytest.approx(integral / step, rel=1e-9, abs=1e-13)


@pytest.mark.parametrize(("lifetime", "dist"), CASES)
def test_flodym_convention_reads_the_survival_at_mid_period(
    lifetime: Lifetime, dist: scipy.stats.rv_continuous
) -> None:
    table = lifetime.survival_table(YEARS, convention="flodym").values
    expected = dist.sf(np.arange(40) + 0.5)
    assert np.allclose(table, expected, rtol=1e-12, atol=1e-300)


def test_leaving_and_surviving_add_up() -> None:
    lifetime = NormalLifetime(mean=3.0, std=2.0)
    leaving = lifetime.leaving_table(YEARS)
    surviving = lifetime.survival_table(YEARS)
    assert float(leaving.sum()) + float(surviving[-1]) == pytest.approx(1.0, abs=1e-15)
    # Untruncated normal: the mass below age 0 leaves in the entry period.
    negative = scipy.stats.norm(3.0, 2.0).cdf(0.0)
    assert float(leaving[0]) > negative


def test_fixed_lifetime_splits_over_two_periods_when_not_whole() -> None:
    table = FixedLifetime(lifetime=2.25).survival_table(YEARS).values
    assert table[:4].tolist() == [1.0, 1.0, 0.25, 0.0]
    flodym = FixedLifetime(lifetime=2.25).survival_table(YEARS, convention="flodym").values
    assert flodym[:4].tolist() == [1.0, 1.0, 0.0, 0.0]


def test_parameters_over_draws_give_a_table_per_draw() -> None:
    means = xr.DataArray([4.0, 8.0], dims=[DRAW], coords={DRAW: [0, 1]})
    table = WeibullLifetime(scale=means, shape=2.0).survival_table(YEARS)
    assert table.dims == (YEAR, DRAW)
    assert float(table.sel({DRAW: 1})[5]) > float(table.sel({DRAW: 0})[5])


def test_tables_are_non_increasing_even_in_the_far_tail() -> None:
    long = pd.Index(np.arange(400), name=YEAR)
    for lifetime in (
        NormalLifetime(mean=5.0, std=0.5),
        WeibullLifetime(scale=2.0, shape=4.0),
        LognormalLifetime(mean=3.0, std=0.2),
    ):
        leaving = lifetime.leaving_table(long).values
        assert (leaving >= 0).all()


def test_parse_lifetime_uses_the_discriminator() -> None:
    lifetime = parse_lifetime({"distribution": "weibull", "scale": 12, "shape": 2})
    assert isinstance(lifetime, WeibullLifetime)
    assert lifetime.scale == 12.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"distribution": "gamma", "mean": 3}, "distribution"),
        ({"distribution": "normal", "mean": 3}, "std"),
        ({"distribution": "normal", "mean": 3, "std": 1, "sd": 1}, "sd"),
    ],
)
def test_parse_lifetime_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_lifetime(data)


def test_parameters_must_be_positive_and_finite() -> None:
    with pytest.raises(InputError, match="must be finite and > 0"):
        NormalLifetime(mean=5.0, std=0.0)
    with pytest.raises(InputError, match="must be finite and > 0"):
        WeibullLifetime(scale=xr.DataArray([3.0, np.nan], dims=[DRAW]), shape=2.0)


def test_tables_need_a_named_time_grid() -> None:
    with pytest.raises(InputError, match="must be named"):
        FixedLifetime(lifetime=3).survival_table(pd.Index(np.arange(5)))


def test_parameters_over_time_are_refused() -> None:
    with pytest.raises(InputError, match="'cohort' dim"):
        FixedLifetime(lifetime=xr.DataArray([3.0, 4.0], dims=[TIME]))
