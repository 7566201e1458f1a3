"""The calibration library recovers known parameters, and its uncertainty behaves."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.analysis.calibrate import Parameter, calibrate
from rareflow.errors import InputError

T = np.linspace(0.0, 4.0, 40)


def _model(sets: np.ndarray) -> np.ndarray:
    """(D, 2) sets of (a, b) -> (D, 40) values of a * exp(-b t)."""
    return sets[:, :1] * np.exp(-sets[:, 1:] * T[None, :])


PARAMS = (
    Parameter("a", 1.0, 0.1, 10.0, "index", "scale"),
    Parameter("b", 0.1, 0.0, 5.0, "index", "decay"),
)


def test_recovers_exact_parameters() -> None:
    observed = _model(np.array([[3.0, 0.7]]))[0]
    fit = calibrate(lambda s: _model(s) - observed[None, :], PARAMS, starts=3)
    assert fit.success
    np.testing.assert_allclose(fit.values, [3.0, 0.7], rtol=1e-6)
    assert fit.cost < 1e-12


def test_noise_gives_standard_errors_that_cover_the_truth() -> None:
    rng = np.random.default_rng(5)
    sigma = 0.05
    observed = _model(np.array([[3.0, 0.7]]))[0] + rng.normal(0, sigma, T.size)
    fit = calibrate(lambda s: (_model(s) - observed[None, :]) / sigma, PARAMS, starts=3)
    se = fit.standard_errors
    assert np.all(se > 0)
    # Within three standard errors of the truth, and the errors are of the right size: with
    # residuals scaled by the true sigma, s^2 should be near 1.
    assert np.all(np.abs(fit.values - [3.0, 0.7]) < 3 * se)
    assert 0.5 < 2 * fit.cost / (T.size - 2) < 1.6
    lo, hi = fit.interval(0.9).T
    assert np.all(lo < fit.values)
    assert np.all(fit.values < hi)


def test_ensemble_starts_with_the_fit_and_stays_in_bounds() -> None:
    observed = _model(np.array([[3.0, 0.7]]))[0] + 0.3 * np.sin(7 * T)
    fit = calibrate(lambda s: _model(s) - observed[None, :], PARAMS, starts=2)
    sets = fit.ensemble(500, seed=1)
    assert sets.shape == (500, 2)
    np.testing.assert_array_equal(sets[0], fit.values)
    assert np.all(sets[:, 0] >= 0.1)
    assert np.all(sets[:, 1] >= 0.0)
    assert np.all(sets[:, 0] <= 10.0)
    assert np.all(sets[:, 1] <= 5.0)
    np.testing.assert_array_equal(sets, fit.ensemble(500, seed=1))


def test_multistart_escapes_a_local_minimum() -> None:
    # a * sin(b t) has many local minima in b: from b = 1 one start stalls far from b = 6.
    def wave(sets: np.ndarray) -> np.ndarray:
        return sets[:, :1] * np.sin(sets[:, 1:] * T[None, :])

    observed = wave(np.array([[1.0, 6.0]]))[0]
    params = (
        Parameter("a", 1.0, 0.1, 3.0, "index", "amplitude"),
        Parameter("b", 1.0, 0.0, 10.0, "index", "frequency"),
    )
    one = calibrate(lambda s: wave(s) - observed[None, :], params, starts=1)
    assert abs(one.value("b") - 6.0) > 1.0
    many = calibrate(lambda s: wave(s) - observed[None, :], params, starts=12, seed=2)
    np.testing.assert_allclose(many.values, [1.0, 6.0], rtol=1e-6)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InputError, match="outside"):
        Parameter("x", 2.0, 0.0, 1.0, "index", "")
    with pytest.raises(InputError, match="not finite"):
        calibrate(lambda s: np.full((len(s), 5), np.nan), PARAMS)
    with pytest.raises(InputError, match="cannot pin down"):
        calibrate(lambda s: s[:, :1], PARAMS)
