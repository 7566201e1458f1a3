"""Product lifetime distributions on a discrete time grid.

Four distributions share one small interface: :class:`NormalLifetime`, :class:`WeibullLifetime`,
:class:`LognormalLifetime` and :class:`FixedLifetime`. Each is a pydantic model with a
``distribution`` discriminator, so a lifetime can be read from JSON or YAML with
:func:`parse_lifetime`. Parameters are in years and are either a number or an
:class:`xarray.DataArray` over named dimensions of :mod:`rareflow.dims`, for example ``DRAW``
(an ensemble of uncertain lifetimes), ``SECTOR`` and ``COUNTRY`` (series), or ``COHORT``
(lifetimes that change with the year of entry).

Discretisation conventions
--------------------------
A product of cohort ``c`` enters use during period ``c``; the stock is counted at the end of each
period. The share of the cohort still in use ``k`` periods after its entry period (``k = 0`` is
the end of the entry period itself) is, with a period of ``Δ`` years and ``S`` the survival
function of the lifetime ``L``:

``"uniform"`` (rareflow's default)
    Entries are spread uniformly over the entry period, so the share is the mean of ``S`` over
    the ages the cohort can have at the end of period ``k``:
    ``s_k = (1/Δ) ∫_{kΔ}^{(k+1)Δ} S(a) da = (U(kΔ) - U((k+1)Δ)) / Δ`` with the closed-form tail
    integral ``U(a) = ∫_a^∞ S(u) du = E[(L - a)^+]``. This is the limit of flodym's
    Gauss-Lobatto integration over the entry period (``n_pts_per_interval`` → ∞).
``"flodym"``
    All entries happen at the middle of the period and ``S`` is read at one point:
    ``s_k = S((k + 1/2) Δ)``. This is flodym 1.1.0's default (``inflow_at="middle"``,
    ``n_pts_per_interval=1``, time bounds halfway between the grid's labels; see
    ``flodym.lifetime_models.LifetimeModel.compute_survival_factor``).

In both, the share leaving during period ``k`` after entry is ``s_{k-1} - s_k`` with
``s_{-1} = 1``: a cohort can leave in its own entry period. The normal distribution is not
truncated (as in flodym's ``NormalLifetime`` and ODYM's ``DynamicStockModel``): the probability
of a negative lifetime leaves in the entry period, so mass balance holds. Choose a ratio of mean
to standard deviation of about 3 or more, or a Weibull or lognormal distribution, to keep it small.

References
----------
.. [1] S. Pauliuk and N. Heeren, "ODYM—An open software framework for studying dynamic material
   systems: Principles, implementation, and data structures", J. Ind. Ecol. 24(3):446-458, 2020.
.. [2] flodym 1.1.0, ``flodym/lifetime_models.py`` (https://github.com/pik-piam/flodym).
.. [3] D. B. Müller, "Stock dynamics for forecasting material flows—Case study for housing in
   The Netherlands", Ecol. Econ. 59(1):142-156, 2006.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.special as sc
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from rareflow.dims import COHORT, TIME, YEAR
from rareflow.errors import InputError

FloatArray = npt.NDArray[np.float64]
Convention = Literal["uniform", "flodym"]
Param = float | xr.DataArray
"""A lifetime parameter in years: a number, or an array over named dims (not ``TIME``/``YEAR``)."""

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


class _LifetimeModel(BaseModel, abc.ABC):
    """Shared behaviour of the lifetime distributions (not for direct use)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    _param_names: ClassVar[tuple[str, ...]] = ()
    _durations: ClassVar[tuple[str, ...]] = ()
    """Parameters measured in years (the others, like a Weibull shape, have no unit)."""

    @model_validator(mode="after")
    def _check_params(self) -> _LifetimeModel:
        for name in self._param_names:
            value = getattr(self, name)
            if isinstance(value, xr.DataArray):
                bad_dims = {TIME, YEAR} & set(map(str, value.dims))
                if bad_dims:
                    raise InputError(
                        f"lifetime parameter '{name}' has dim {sorted(bad_dims)}: lifetimes "
                        f"that change with the entry year use the '{COHORT}' dim"
                    )
                values = np.asarray(value.values, dtype=float)
            else:
                values = np.asarray(value, dtype=float)
            if not (np.all(np.isfinite(values)) and np.all(values > 0)):
                raise InputError(
                    f"lifetime parameter '{name}' of a {type(self).__name__} must be finite "
                    f"and > 0, got min {np.nanmin(values)!r}"
                )
        return self

    def _raw_parameters(self) -> dict[str, float | xr.DataArray]:
        """Return each parameter as given, a number or a DataArray."""
        return {name: getattr(self, name) for name in self._param_names}

    def parameters(self) -> dict[str, xr.DataArray]:
        """Return each parameter as a DataArray (a number becomes a 0-d array)."""
        return {
            name: value if isinstance(value, xr.DataArray) else xr.DataArray(float(value))
            for name in self._param_names
            for value in [getattr(self, name)]
        }

    @abc.abstractmethod
    def _survival(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        """Return ``S(age) = P(L > age)``; ``p`` holds parameters broadcastable with ``age``."""

    @abc.abstractmethod
    def _tail_integral(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        """Return ``U(age) = ∫_age^∞ S(u) du`` for ``age >= 0``."""

    def in_periods(
        self, p: Mapping[str, FloatArray], periods_per_year: int
    ) -> dict[str, FloatArray]:
        """Return the parameters with durations counted in periods instead of years.

        Ages are then whole numbers of periods, so a lifetime of whole periods stays exact.
        """
        return {k: v * periods_per_year if k in self._durations else v for k, v in p.items()}

    def period_survival(
        self, lag: FloatArray, p: Mapping[str, FloatArray], convention: Convention
    ) -> FloatArray:
        """Return the share of a cohort in use at the end of the ``lag``-th period after entry.

        Parameters
        ----------
        lag
            Whole periods since the entry period (0 = end of the entry period), ``>= 0``.
        p
            Parameter values with durations in periods (see :meth:`in_periods`),
            broadcastable with ``lag``.
        convention
            ``"uniform"`` or ``"flodym"``; see the module docstring.

        Returns
        -------
        numpy.ndarray
            Shares in [0, 1], with the broadcast shape of ``lag`` and ``p``.
        """
        if convention == "flodym":
            return self._survival(lag + 0.5, p)
        return np.clip(self._tail_integral(lag, p) - self._tail_integral(lag + 1.0, p), 0.0, 1.0)

    def survival_by_lag(
        self, n_periods: int, p: Mapping[str, FloatArray], convention: Convention
    ) -> FloatArray:
        """Return the shares in use 0, 1, ..., ``n_periods - 1`` periods after entry (axis 0).

        Rounding can make the closed forms rise by an ulp from one lag to the next; the running
        minimum keeps the leaving probabilities non-negative and changes nothing else.
        """
        shape = (n_periods,) + (1,) * max((np.ndim(v) for v in p.values()), default=0)
        lag = np.arange(n_periods, dtype=float).reshape(shape)
        return np.minimum.accumulate(self.period_survival(lag, p, convention), axis=0)

    def _table(
        self, index: pd.Index, periods_per_year: int, convention: Convention
    ) -> tuple[FloatArray, list[str], dict[str, pd.Index]]:
        if index.name not in (TIME, YEAR):
            raise InputError(f"the time grid's index must be named '{TIME}' or '{YEAR}'")
        das = list(self.parameters().values())
        broadcast = xr.broadcast(*das)
        p = {
            name: np.asarray(da.values, dtype=float)
            for name, da in zip(self._param_names, broadcast, strict=True)
        }
        table = self.survival_by_lag(len(index), self.in_periods(p, periods_per_year), convention)
        dims = [str(d) for d in broadcast[0].dims]
        coords = {d: broadcast[0].indexes[d] for d in dims if d in broadcast[0].indexes}
        return table, dims, coords

    def survival_table(
        self, index: pd.Index, *, periods_per_year: int = 1, convention: Convention = "uniform"
    ) -> xr.DataArray:
        """Return the survival of a unit cohort entering in the first period of a time grid.

        Parameters
        ----------
        index
            The grid's labels, named ``TIME`` or ``YEAR`` (for example a model's time index).
        periods_per_year
            1 for a yearly grid, 12 for a monthly one.
        convention
            ``"uniform"`` or ``"flodym"``; see the module docstring.

        Returns
        -------
        xarray.DataArray
            Share still in use at the end of each period, over the grid's dim and the
            parameters' dims.
        """
        table, dims, coords = self._table(index, periods_per_year, convention)
        name = str(index.name)
        return xr.DataArray(table, dims=[name, *dims], coords={name: index, **coords})

    def leaving_table(
        self, index: pd.Index, *, periods_per_year: int = 1, convention: Convention = "uniform"
    ) -> xr.DataArray:
        """Return the probability that a cohort entering in the first period leaves in each one.

        Parameters and the result's dims are those of :meth:`survival_table`; the result sums
        to one minus the survival at the end of the grid.
        """
        table, dims, coords = self._table(index, periods_per_year, convention)
        leaving = -np.diff(table, axis=0, prepend=1.0)
        name = str(index.name)
        return xr.DataArray(leaving, dims=[name, *dims], coords={name: index, **coords})


class NormalLifetime(_LifetimeModel):
    """Normally distributed lifetime (not truncated; see the module docstring).

    Parameters
    ----------
    mean
        Mean lifetime in years.
    std
        Standard deviation in years.
    """

    distribution: Literal["normal"] = "normal"
    mean: Param
    std: Param

    _param_names: ClassVar[tuple[str, ...]] = ("mean", "std")
    _durations: ClassVar[tuple[str, ...]] = ("mean", "std")

    def _survival(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        # Same expression as scipy.stats.norm.sf, which flodym calls.
        z = (age - p["mean"]) / p["std"]
        return np.asarray(sc.ndtr(-z), dtype=float)

    def _tail_integral(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        # ∫_a^∞ Φc((u-μ)/σ) du = σ (φ(z) - z Φc(z)), z = (a-μ)/σ.
        z = (age - p["mean"]) / p["std"]
        return np.asarray(p["std"] * (np.exp(-0.5 * z * z) / _SQRT_2PI - z * sc.ndtr(-z)))


class WeibullLifetime(_LifetimeModel):
    """Weibull distributed lifetime, ``S(a) = exp(-(a/scale)^shape)``.

    Parameters
    ----------
    scale
        Scale parameter in years (flodym's ``weibull_scale``).
    shape
        Shape parameter (flodym's ``weibull_shape``); below 1 early failures dominate.
    """

    distribution: Literal["weibull"] = "weibull"
    scale: Param
    shape: Param

    _param_names: ClassVar[tuple[str, ...]] = ("scale", "shape")
    _durations: ClassVar[tuple[str, ...]] = ("scale",)

    def _survival(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        return np.asarray(np.exp(-((age / p["scale"]) ** p["shape"])))

    def _tail_integral(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        # ∫_a^∞ exp(-(u/λ)^k) du = λ Γ(1 + 1/k) Q(1/k, (a/λ)^k), Q the upper regularised gamma.
        scale, shape = p["scale"], p["shape"]
        inv = 1.0 / shape
        return np.asarray(
            scale * sc.gamma(1.0 + inv) * sc.gammaincc(inv, (age / scale) ** shape), dtype=float
        )


class LognormalLifetime(_LifetimeModel):
    """Lognormally distributed lifetime, given by the mean and standard deviation of the lifetime.

    As flodym's ``LogNormalLifetime``: ``mean`` and ``std`` are those of the lifetime itself, not
    of its logarithm.

    Parameters
    ----------
    mean
        Mean lifetime in years.
    std
        Standard deviation in years.
    """

    distribution: Literal["lognormal"] = "lognormal"
    mean: Param
    std: Param

    _param_names: ClassVar[tuple[str, ...]] = ("mean", "std")
    _durations: ClassVar[tuple[str, ...]] = ("mean", "std")

    @staticmethod
    def _log_params(p: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
        var_log = np.log1p((p["std"] / p["mean"]) ** 2)
        return np.log(p["mean"]) - 0.5 * var_log, np.sqrt(var_log)

    def _survival(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        mu, sigma = self._log_params(p)
        with np.errstate(divide="ignore"):
            return np.asarray(sc.ndtr((mu - np.log(age)) / sigma), dtype=float)

    def _tail_integral(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        # E[(L - a)^+] = m Φc((ln a - μ - σ²)/σ) - a Φc((ln a - μ)/σ), the Black-Scholes form.
        mu, sigma = self._log_params(p)
        with np.errstate(divide="ignore"):
            log_age = np.log(age)
        return np.asarray(
            p["mean"] * sc.ndtr((mu + sigma**2 - log_age) / sigma)
            - age * sc.ndtr((mu - log_age) / sigma),
            dtype=float,
        )


class FixedLifetime(_LifetimeModel):
    """Every product leaves at the same age.

    Parameters
    ----------
    lifetime
        The age in years at which products leave use. With a lifetime of ``n`` whole periods,
        both conventions give a pure delay: a cohort leaves exactly ``n`` periods after entry.
    """

    distribution: Literal["fixed"] = "fixed"
    lifetime: Param

    _param_names: ClassVar[tuple[str, ...]] = ("lifetime",)
    _durations: ClassVar[tuple[str, ...]] = ("lifetime",)

    def _survival(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        return np.asarray(age < p["lifetime"], dtype=float)

    def _tail_integral(self, age: FloatArray, p: Mapping[str, FloatArray]) -> FloatArray:
        return np.asarray(np.maximum(p["lifetime"] - age, 0.0), dtype=float)


Lifetime = Annotated[
    NormalLifetime | WeibullLifetime | LognormalLifetime | FixedLifetime,
    Field(discriminator="distribution"),
]
"""Any lifetime distribution, told apart by its ``distribution`` field."""

_ADAPTER: TypeAdapter[NormalLifetime | WeibullLifetime | LognormalLifetime | FixedLifetime] = (
    TypeAdapter(Lifetime)
)


def parse_lifetime(
    data: Mapping[str, object],
) -> NormalLifetime | WeibullLifetime | LognormalLifetime | FixedLifetime:
    """Build a lifetime from a mapping such as ``{"distribution": "weibull", "scale": 12, ...}``.

    Raises
    ------
    rareflow.errors.InputError
        If the distribution is unknown, a parameter is missing, unknown or invalid.
    """
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'lifetime'}: {e['msg']}" for e in err.errors()
        )
        raise InputError(f"invalid lifetime: {problems}") from None
