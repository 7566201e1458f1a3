"""The optimiser's parts: effects from the levers' own effect models; one solver error."""

from __future__ import annotations

import linopy
import numpy as np
import pytest
import xarray as xr

from rareflow import dims
from rareflow.analysis.optimize import (
    WEIGHT_CLASS,
    Option,
    Problem,
    build_problem,
    modelled_levers,
    solve,
)
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError, RareflowError, SolverError
from rareflow.scenario.load import load_scenario


def test_the_levers_with_an_effect_model_are_the_ones_the_optimiser_takes() -> None:
    assert modelled_levers() == ["capacity", "stockpile", "supply_contract"]


def test_a_lever_without_an_effect_model_is_refused(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("china-2025-april"), draws=2, horizon_months=12)
    option = Option(
        "buffer",
        {"type": "private_buffer", "price_usd_per_kg": 60.0},
        "extra_weeks",
        4.0,
    )
    with pytest.raises(InputError, match=r"effect model .*capacity, stockpile, supply_contract"):
        build_problem(sc, dataset, [option], {})


def test_a_solver_failure_is_a_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: object, *args: object, **kwargs: object) -> tuple[str, str]:
        del self, args, kwargs
        return "warning", "time_limit"

    monkeypatch.setattr(linopy.Model, "solve", fail)
    coords = {dims.DRAW: [0], dims.TIME: [0]}
    lever = {dims.LEVER: ["a"]}
    problem = Problem(
        baseline=xr.DataArray(
            np.ones((1, 1, 1)), coords={WEIGHT_CLASS: [0], **coords}, dims=(WEIGHT_CLASS, *coords)
        ),
        weights=xr.DataArray([1.0], coords={WEIGHT_CLASS: [0]}),
        effect=xr.DataArray(np.ones((1, 1, 1)), coords={**lever, **coords}),
        unit_cost=xr.DataArray([1.0], coords=lever),
        upper=xr.DataArray([1.0], coords=lever),
        release_rate=xr.DataArray([0.0], coords=lever),
        ready=xr.DataArray([0], coords=lever),
        efficiency=xr.DataArray([1.0], coords=lever),
    )
    with pytest.raises(SolverError, match="not solved: warning"):
        solve(problem, 1.0, None)
    assert issubclass(SolverError, RareflowError)
