"""Probability distributions for uncertain numbers, and seeded, chunk-invariant sampling.

Any number in a scenario may be given as a plain number or as a distribution. Draws are made by
the inverse-CDF method from uniforms, so that random, Latin-hypercube and Sobol designs share one
path (McKay, Beckman and Conover 1979; Sobol' 1967).

Uniforms for plain random sampling come from a counter-based generator: the value for draw ``d``
of parameter stream ``s`` is a hash of ``(seed, s, d)`` by the SplitMix64 finaliser (Steele, Lea and
Flood 2014, 'Fast splittable pseudorandom number generators', OOPSLA). Each draw therefore has its
own stream, and a draw's values do not depend on how the ensemble is cut into chunks or spread
over workers: draws 7..9 of a 10-draw run equal draws 7..9 computed alone.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float64]

MAX_MAGNITUDE = 1e12
"""Largest magnitude of any number a scenario states. Every quantity rareflow models (tonnes,
months, days, US$ million, shares) lies far inside it, so a larger one is a typo or an attack:
refused, like NaN and infinities, before it can make a requirement infinite."""
Finite = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
"""A finite number within +-:data:`MAX_MAGNITUDE`."""
Positive = Annotated[float, Field(gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
"""A positive finite number within :data:`MAX_MAGNITUDE`."""

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser (Steele et al. 2014), vectorised; uint64 arithmetic wraps."""
    with np.errstate(over="ignore"):
        z = (x + _GOLDEN) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return z ^ (z >> np.uint64(31))


def uniforms(seed: int, stream: int, draws: NDArray[np.int64]) -> FloatArray:
    """Uniforms in (0, 1) for the given draw indices of one stream.

    Parameters
    ----------
    seed
        The scenario's seed.
    stream
        Index of the parameter (each uncertain number has its own stream).
    draws
        Global draw indices (not positions within a chunk).
    """
    key = _splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    key = _splitmix64(key ^ np.uint64(stream))
    bits = _splitmix64(key ^ _splitmix64(draws.astype(np.uint64)))
    # 53 high bits -> (0, 1): never exactly 0 or 1, so every inverse CDF stays finite.
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


_TAIL = 1e-12
"""Quantile taken as a distribution's lowest (and 1 - it as its highest) value in range checks."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF: map uniforms to values."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides

    def extremes(self) -> tuple[float, float]:
        """Return the values at the 1e-12 and 1 - 1e-12 quantiles (for range checks)."""
        lo, hi = self.ppf(np.array([_TAIL, 1 - _TAIL]))
        return float(lo), float(hi)

    @property
    def central(self) -> float:
        """A central value (the median), used for deterministic runs and reports."""
        return float(self.ppf(np.array([0.5]))[0])


class Fixed(_Dist):
    """A known value (the same in every draw)."""

    dist: Literal["fixed"] = "fixed"
    value: Finite

    def ppf(self, u: FloatArray) -> FloatArray:
        """Return the value for every uniform."""
        return np.full(u.shape, self.value)


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"] = "uniform"
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        """Map uniforms linearly onto [low, high]."""
        return self.low + (self.high - self.low) * u


class Triangular(_Dist):
    """Triangular with ``low``, ``mode`` and ``high``."""

    dist: Literal["triangular"] = "triangular"
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF of the triangular distribution."""
        from scipy import stats  # noqa: PLC0415 - slow import, needed only when sampling

        c = (self.mode - self.low) / (self.high - self.low)
        return np.asarray(
            stats.triang.ppf(u, c, loc=self.low, scale=self.high - self.low), dtype=np.float64
        )

    def extremes(self) -> tuple[float, float]:
        """Return the 1e-12 and 1 - 1e-12 quantiles in closed form (no scipy import to parse)."""
        span, left, right = self.high - self.low, self.mode - self.low, self.high - self.mode
        return (
            self.low + math.sqrt(_TAIL * span * left),
            self.high - math.sqrt(_TAIL * span * right),
        )


class Normal(_Dist):
    """Normal with ``mean`` and ``sd``, optionally truncated to [``low``, ``high``]."""

    dist: Literal["normal"] = "normal"
    mean: Finite
    sd: Positive
    low: Finite | None = None
    high: Finite | None = None

    @model_validator(mode="after")
    def _order(self) -> Normal:
        if self.low is not None and self.high is not None and self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be > low ({self.low})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF, truncated when bounds are given."""
        from scipy import stats  # noqa: PLC0415 - slow import, needed only when sampling

        a = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        b = np.inf if self.high is None else (self.high - self.mean) / self.sd
        return np.asarray(
            stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd), dtype=np.float64
        )

    def extremes(self) -> tuple[float, float]:
        """Return the 1e-12 and 1 - 1e-12 quantiles by the standard library's normal."""
        unit = NormalDist()
        cdf_a = 0.0 if self.low is None else unit.cdf((self.low - self.mean) / self.sd)
        cdf_b = 1.0 if self.high is None else unit.cdf((self.high - self.mean) / self.sd)
        lo, hi = (
            self.mean + self.sd * unit.inv_cdf(cdf_a + q * (cdf_b - cdf_a))
            for q in (_TAIL, 1 - _TAIL)
        )
        return lo, hi


class LogNormal(_Dist):
    """Log-normal given by its ``median`` and the ``sigma`` of the log."""

    dist: Literal["lognormal"] = "lognormal"
    median: Positive
    sigma: float = Field(gt=0, le=5, allow_inf_nan=False)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        from scipy import stats  # noqa: PLC0415 - slow import, needed only when sampling

        return np.asarray(stats.lognorm.ppf(u, self.sigma, scale=self.median), dtype=np.float64)

    def extremes(self) -> tuple[float, float]:
        """Return the 1e-12 and 1 - 1e-12 quantiles by the standard library's normal."""
        z = NormalDist().inv_cdf(1 - _TAIL)
        return self.median * math.exp(-self.sigma * z), self.median * math.exp(self.sigma * z)


class Beta(_Dist):
    """Beta(``a``, ``b``) on [0, 1], for probabilities and shares."""

    dist: Literal["beta"] = "beta"
    a: float = Field(ge=0.01, le=1e4, allow_inf_nan=False)
    b: float = Field(ge=0.01, le=1e4, allow_inf_nan=False)

    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF."""
        from scipy import stats  # noqa: PLC0415 - slow import, needed only when sampling

        return np.asarray(stats.beta.ppf(u, self.a, self.b), dtype=np.float64)


Distribution = Annotated[
    Fixed | Uniform | Triangular | Normal | LogNormal | Beta, Field(discriminator="dist")
]
"""Any distribution, chosen by its ``dist`` field."""

DIST_TAGS = frozenset({"fixed", "uniform", "triangular", "normal", "lognormal", "beta"})
"""The ``dist`` tags of :data:`Distribution`."""

Number = Finite | Distribution
"""A scenario number: plain, or uncertain."""


def as_distribution(value: float | _Dist) -> _Dist:
    """Wrap a plain number as a fixed distribution."""
    return value if isinstance(value, _Dist) else Fixed(value=float(value))


def bounds(value: float | _Dist) -> tuple[float, float]:
    """Return the smallest and largest value a number can take (for range checks)."""
    return as_distribution(value).extremes()
