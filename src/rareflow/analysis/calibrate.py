"""Calibration: fit a vectorised model's parameters to observed series, with uncertainty.

The model is any function that maps a ``(D, P)`` array of parameter sets (one per draw) to a
``(D, R)`` array of weighted residuals, model minus observation. Because rareflow's models are
vectorised over draws, one call evaluates every finite-difference step of the Jacobian at once.

The fit is nonlinear least squares with bounds (SciPy's trust-region-reflective
``scipy.optimize.least_squares``), started from several points to avoid a local minimum. The
uncertainty is the usual asymptotic one: with ``J`` the Jacobian at the optimum and ``s^2 =
RSS / (n - p)`` the residual variance, ``cov = s^2 (J^T J)^+`` (pseudo-inverse, so a parameter the
data cannot pin down shows as a huge variance rather than an error); an ensemble of parameter
sets drawn from that normal law, clipped to the bounds, carries it into model paths
(Seber and Wild, *Nonlinear Regression*, Wiley 1989, ch. 2 and 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import norm

from rareflow.errors import InputError
from rareflow.model.network import FloatArray

Residuals = Callable[[FloatArray], FloatArray]
"""Maps (D, P) parameter sets to (D, R) weighted residuals."""


@dataclass(frozen=True)
class Parameter:
    """A parameter to fit.

    Parameters
    ----------
    name
        Identifier (used in stored calibrations).
    initial
        Starting value.
    lower, upper
        Bounds (inclusive).
    unit
        Unit symbol from :mod:`rareflow.units`.
    description
        Plain words.
    """

    name: str
    initial: float
    lower: float
    upper: float
    unit: str
    description: str

    def __post_init__(self) -> None:
        """Check that the start lies within the bounds."""
        if not self.lower <= self.initial <= self.upper:
            raise InputError(
                f"parameter {self.name}: initial {self.initial} is outside "
                f"[{self.lower}, {self.upper}]"
            )


@dataclass(frozen=True)
class Calibration:
    """A fitted parameter set.

    Parameters
    ----------
    parameters
        What was fitted.
    values
        (P,) fitted values.
    covariance
        (P, P) asymptotic covariance of the values.
    residuals
        (R,) weighted residuals at the optimum.
    cost
        Half the sum of squared weighted residuals at the optimum.
    success
        Whether the optimiser reported convergence.
    message
        The optimiser's message.
    """

    parameters: tuple[Parameter, ...]
    values: FloatArray
    covariance: FloatArray
    residuals: FloatArray
    cost: float
    success: bool
    message: str

    @property
    def names(self) -> list[str]:
        """Parameter names, in order."""
        return [p.name for p in self.parameters]

    @property
    def standard_errors(self) -> FloatArray:
        """(P,) square roots of the covariance's diagonal."""
        return np.sqrt(np.maximum(np.diag(self.covariance), 0.0))

    def value(self, name: str) -> float:
        """Return a fitted value by name."""
        return float(self.values[self.names.index(name)])

    def ensemble(self, draws: int, seed: int) -> FloatArray:
        """(draws, P) parameter sets drawn from the fit's normal law, clipped to the bounds.

        Draw 0 is the fitted set itself, so the central path is always among the draws.
        """
        rng = np.random.default_rng(seed)
        lower = np.array([p.lower for p in self.parameters])
        upper = np.array([p.upper for p in self.parameters])
        sets = rng.multivariate_normal(self.values, self.covariance, size=draws, method="eigh")
        sets[0] = self.values
        return np.clip(sets, lower, upper)

    def interval(self, level: float = 0.90) -> FloatArray:
        """(P, 2) central interval of each value at ``level``, normal, clipped to the bounds."""
        z = float(norm.ppf(0.5 + level / 2.0))
        se = self.standard_errors
        lower = np.array([p.lower for p in self.parameters])
        upper = np.array([p.upper for p in self.parameters])
        return np.stack(
            [np.maximum(self.values - z * se, lower), np.minimum(self.values + z * se, upper)],
            axis=1,
        )


def _jacobian(residuals: Residuals, x: FloatArray, upper: FloatArray) -> Any:
    """Forward differences, all steps in one vectorised call (backward at an upper bound)."""
    step = 1e-6 * np.maximum(np.abs(x), 1.0)
    step = np.where(x + step > upper, -step, step)
    sets = np.repeat(x[None, :], len(x) + 1, axis=0)
    sets[np.arange(1, len(x) + 1), np.arange(len(x))] += step
    r = residuals(sets)
    return (r[1:] - r[0][None, :]).T / step[None, :]


def calibrate(
    residuals: Residuals,
    parameters: Sequence[Parameter],
    *,
    starts: int = 8,
    seed: int = 0,
) -> Calibration:
    """Fit parameters by bounded nonlinear least squares from several starting points.

    Parameters
    ----------
    residuals
        Maps (D, P) parameter sets to (D, R) weighted residuals (model minus observed, each
        divided by its scale, so that they are comparable).
    parameters
        What to fit, with bounds and starting values.
    starts
        Starting points: the given initial values, then ``starts - 1`` points drawn uniformly
        within the bounds (seeded).
    seed
        Seed of those starting points.

    Raises
    ------
    rareflow.errors.InputError
        If the residuals are not finite at the starting values, or there are fewer residuals
        than parameters.
    """
    params = tuple(parameters)
    lower = np.array([p.lower for p in params], dtype=np.float64)
    upper = np.array([p.upper for p in params], dtype=np.float64)
    x0 = np.array([p.initial for p in params], dtype=np.float64)
    r0 = residuals(x0[None, :])[0]
    if not np.all(np.isfinite(r0)):
        raise InputError("the residuals are not finite at the initial parameter values")
    if r0.size < len(params):
        raise InputError(f"{r0.size} residuals cannot pin down {len(params)} parameters")
    rng = np.random.default_rng(seed)
    points = [x0, *(rng.uniform(lower, upper) for _ in range(starts - 1))]

    def fun(x: FloatArray) -> FloatArray:
        return np.asarray(residuals(x[None, :])[0], dtype=np.float64)

    def jac(x: FloatArray) -> Any:
        return _jacobian(residuals, x, upper)

    best = None
    for start in points:
        fit = least_squares(fun, start, jac=jac, bounds=(lower, upper), method="trf", x_scale="jac")
        if best is None or fit.cost < best.cost:
            best = fit
    if best is None:  # pragma: no cover - points always holds x0
        raise InputError("no starting point")
    j = np.asarray(jac(best.x))
    dof = max(best.fun.size - len(params), 1)
    s2 = float(best.fun @ best.fun) / dof
    covariance = s2 * np.linalg.pinv(j.T @ j)
    return Calibration(
        parameters=params,
        values=np.asarray(best.x, dtype=np.float64),
        covariance=covariance,
        residuals=np.asarray(best.fun, dtype=np.float64),
        cost=float(best.cost),
        success=bool(best.success),
        message=str(best.message),
    )
