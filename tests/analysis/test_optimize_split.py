"""The optimiser's parts: effects from the levers' own effect models; one solver error."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import highspy
import numpy as np
import pytest
import xarray as xr

from rareflow import dims
from rareflow.analysis.optimize import (
    WEIGHT_CLASS,
    Option,
    Problem,
    Programme,
    build_problem,
    evaluate,
    lp,
    modelled_levers,
    probed,
    solve,
    with_mix,
)
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import RareflowError, SolverError
from rareflow.scenario.load import load_scenario


def test_the_levers_with_an_effect_model_are_the_ones_the_optimiser_takes() -> None:
    assert modelled_levers() == ["capacity", "stockpile", "supply_contract"]


def test_a_lever_without_an_effect_model_falls_back_to_the_simulation(dataset: Dataset) -> None:
    """A private buffer has no effect model: its effect is the shortfall it avoids in the engine,
    per unit of its level, draw by draw and month by month."""
    sc = with_overrides(load_scenario("china-2025-april"), draws=3, horizon_months=18)
    option = Option(
        "buffer",
        {"type": "private_buffer", "price_usd_per_kg": 60.0},
        "extra_weeks",
        4.0,
    )
    problem = build_problem(sc, dataset, [option], {})
    alone = run(sc, dataset=dataset).results["shortfall"].sum("sector")
    mixed = with_mix(sc, [option], {"buffer": 4.0})
    with_buffer = run(mixed, dataset=dataset).results["shortfall"].sum("sector")
    avoided = np.maximum((alone - with_buffer).transpose("draw", "time").to_numpy(), 0.0) / 4.0
    np.testing.assert_allclose(problem.effect.sel(lever="buffer").to_numpy(), avoided)
    assert float(problem.effect.sum()) > 0.0
    assert float(problem.unit_cost.sel(lever="buffer")) > 0.0
    # The probe run is the option alone at its upper level: judging it alone again would give
    # the same figures, so the optimiser reuses them.
    fresh = evaluate(mixed, dataset, {}, 0.9, sc.seed)
    known = probed(problem, "buffer", 0.9, sc.seed)
    assert known is not None
    np.testing.assert_array_equal(known.losses, fresh.losses)
    assert (known.risk, known.expected, known.cost_inr_crore) == (
        fresh.risk,
        fresh.expected,
        fresh.cost_inr_crore,
    )


def test_lumpy_options_are_integer_choices() -> None:
    """Two lumpy options worth 6 and 5 t, costing 4 and 3: a budget of 5 buys one whole (the
    better, 6 t), never fractions of both."""
    coords = {dims.DRAW: [0], dims.TIME: [0]}
    lever = {dims.LEVER: ["a", "b"]}
    problem = Problem(
        baseline=xr.DataArray(
            np.full((1, 1, 1), 100.0), coords={WEIGHT_CLASS: [0], **coords},
            dims=(WEIGHT_CLASS, *coords),
        ),
        weights=xr.DataArray([1.0], coords={WEIGHT_CLASS: [0]}),
        effect=xr.DataArray(np.array([[[6.0]], [[5.0]]]), coords={**lever, **coords}),
        unit_cost=xr.DataArray([4.0, 3.0], coords=lever),
        upper=xr.DataArray([1.0, 1.0], coords=lever),
        release_rate=xr.DataArray([0.0, 0.0], coords=lever),
        ready=xr.DataArray([0, 0], coords=lever),
        efficiency=xr.DataArray([1.0, 1.0], coords=lever),
        lumpy=xr.DataArray([True, True], coords=lever),
    )  # fmt: skip
    sol = solve(problem, 5.0, None)
    assert sol.levels == pytest.approx({"a": 1.0, "b": 0.0})
    assert sol.risk == pytest.approx(94.0)
    # Were they divisible, b (5/3 t per crore) would come first, then half of a: 8 t.
    continuous = solve(replace(problem, lumpy=None), 5.0, None)
    assert continuous.levels == pytest.approx({"a": 0.5, "b": 1.0})
    assert continuous.risk == pytest.approx(92.0)
    # One programme re-solved at several budgets gives what fresh programmes give.
    programme = Programme(problem, 0.5)
    for budget in (0.0, 3.0, 5.0, 7.0):
        assert programme.solve(budget).risk == pytest.approx(solve(problem, budget, 0.5).risk)
    assert programme.unused().risk == pytest.approx(programme.solve(0.0).risk)


def test_a_solver_failure_is_a_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # HiGHS reports a status that is not an optimum (here: no status counts as one).
    never = SimpleNamespace(kOptimal=object())
    monkeypatch.setattr(
        lp, "highspy", SimpleNamespace(kHighsInf=highspy.kHighsInf, HighsModelStatus=never)
    )
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
    with pytest.raises(SolverError, match="not solved: Optimal"):
        solve(problem, 1.0, None)
    assert issubclass(SolverError, RareflowError)
