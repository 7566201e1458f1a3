"""Policy-mix LP: known optima by hand, CVaR of known distributions, and a full small run."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow import dims
from rareflow.analysis.optimize import (
    PACKAGES,
    WEIGHT_CLASS,
    Evaluation,
    Option,
    Problem,
    Solution,
    calibrate,
    choose,
    cvar,
    decision_rows,
    default_options,
    horizon_months,
    optimise,
    parse_risk,
    solve,
    with_mix,
)
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.load import load_scenario


def problem(
    baseline: list[list[float]],
    effect: dict[str, list[list[float]]],
    cost: dict[str, float],
    upper: dict[str, float],
    release_rate: dict[str, float] | None = None,
    ready: dict[str, int] | None = None,
) -> Problem:
    """A small LP: baseline (draw, time), one weight class, effects per lever (draw, time)."""
    names = list(effect)
    base = np.asarray(baseline, dtype=np.float64)[None]
    lever = {dims.LEVER: names}
    dt = {dims.DRAW: np.arange(base.shape[1]), dims.TIME: np.arange(base.shape[2])}
    rates, starts = release_rate or {}, ready or {}
    return Problem(
        baseline=xr.DataArray(base, coords={WEIGHT_CLASS: [0], **dt}),
        weights=xr.DataArray([1.0], coords={WEIGHT_CLASS: [0]}),
        effect=xr.DataArray(
            np.array([effect[n] for n in names], dtype=float), coords={**lever, **dt}
        ),
        unit_cost=xr.DataArray([cost[n] for n in names], coords=lever),
        upper=xr.DataArray([upper[n] for n in names], coords=lever),
        release_rate=xr.DataArray([rates.get(n, 0.0) for n in names], coords=lever),
        ready=xr.DataArray([starts.get(n, 0) for n in names], coords=lever),
        efficiency=xr.DataArray(np.ones(len(names)), coords=lever),
    )


def test_cvar_of_a_known_discrete_distribution() -> None:
    losses = np.array([1.0, 2.0, 3.0, 4.0])
    assert cvar(losses, None) == pytest.approx(2.5)
    assert cvar(losses, 0.5) == pytest.approx(3.5)
    # VaR_0.6 = 3; CVaR = 3 + E[(L - 3)+] / 0.4 = 3 + 0.25 / 0.4.
    assert cvar(losses, 0.6) == pytest.approx(3.625)
    assert cvar(losses, 0.75) == pytest.approx(4.0)


def test_the_cheaper_lever_per_tonne_is_used_up_to_the_budget() -> None:
    lp = problem(
        [[100.0]], {"a": [[1.0]], "b": [[1.0]]}, {"a": 1.0, "b": 2.0}, {"a": 80.0, "b": 100.0}
    )
    sol = solve(lp, 50.0, None)
    assert sol.levels["a"] == pytest.approx(50.0)
    assert sol.levels["b"] == pytest.approx(0.0, abs=1e-9)
    assert sol.risk == pytest.approx(50.0)
    assert sol.cost_inr_crore == pytest.approx(50.0)
    # With more money: a up to its bound, then b with what is left (40 / 2 = 20 t).
    sol = solve(lp, 120.0, None)
    assert sol.levels == pytest.approx({"a": 80.0, "b": 20.0})
    assert sol.risk == pytest.approx(0.0, abs=1e-9)


def test_the_front_solves_only_where_the_answer_is_not_known() -> None:
    from rareflow.analysis.optimize import PARETO_FRACTIONS, Programme  # noqa: PLC0415

    # The whole loss (100 t) is avoided for 100: any budget from 100 up has that answer.
    lp = problem(
        [[100.0]], {"a": [[1.0]], "b": [[1.0]]}, {"a": 1.0, "b": 2.0}, {"a": 80.0, "b": 100.0}
    )
    programme = Programme(lp, 0.95)
    asked: list[float] = []
    solve_at = programme.solve

    def counted(budget: float) -> Solution:
        asked.append(budget)
        return solve_at(budget)

    programme.solve = counted  # type: ignore[method-assign]
    front = programme.front(1000.0, PARETO_FRACTIONS)
    for budget, known in front:
        fresh = solve(lp, budget, 0.95)
        assert known.levels == pytest.approx(fresh.levels, abs=1e-7), budget
        assert known.risk == pytest.approx(fresh.risk, abs=1e-7)
    # 1000 asked for; its optimum costs 100, so 500, 250 and 125 share it; 62.5, 31.25 and
    # 15.625 are solved (each optimum spends its whole budget); 0 buys nothing.
    assert asked == [1000.0, 62.5, 31.25, 15.625]


def test_cvar_hedges_where_the_expectation_does_not() -> None:
    # Two equiprobable draws; a helps only draw 0, b (twice as effective) only draw 1.
    lp = problem(
        [[100.0], [100.0]],
        {"a": [[1.0], [0.0]], "b": [[0.0], [2.0]]},
        {"a": 1.0, "b": 1.0},
        {"a": 100.0, "b": 100.0},
    )
    expected = solve(lp, 10.0, None)
    assert expected.levels == pytest.approx({"a": 0.0, "b": 10.0}, abs=1e-7)
    assert expected.risk == pytest.approx(90.0)
    # CVaR_0.5 of two draws is the worse one: equalise 100 - a = 80 + 2 a.
    worst = solve(lp, 10.0, 0.5)
    assert worst.levels["a"] == pytest.approx(20.0 / 3.0)
    assert worst.risk == pytest.approx(100.0 - 20.0 / 3.0)


def test_a_stockpile_releases_within_its_size_and_rate_after_it_is_full() -> None:
    lp = problem(
        [[50.0, 50.0, 50.0, 50.0]],
        {"pile": [[0.0, 0.0, 0.0, 0.0]]},
        {"pile": 1.0},
        {"pile": 1000.0},
        release_rate={"pile": 0.5},
        ready={"pile": 2},
    )
    # Full from step 2: two steps of release at most 0.5 x each, so x = 100 clears 100 t.
    sol = solve(lp, 1000.0, None)
    assert sol.levels["pile"] >= 100.0 - 1e-7
    assert sol.risk == pytest.approx(100.0)
    sol = solve(lp, 60.0, None)
    assert sol.risk == pytest.approx(200.0 - 60.0)


def test_risk_and_horizon_arguments() -> None:
    assert parse_risk("cvar95") == pytest.approx(0.95)
    assert parse_risk("expected") is None
    with pytest.raises(InputError, match="cvarNN"):
        parse_risk("var95")
    sc = load_scenario("china-2025-october")
    assert horizon_months(sc, 2030) == 72
    with pytest.raises(InputError, match="before the scenario's start"):
        horizon_months(sc, 2020)


def test_a_mix_is_written_back_as_levers() -> None:
    sc = load_scenario("china-2025-october")
    options = default_options(sc, 300.0)
    mixed = with_mix(sc, options, {"stockpile": 500.0, "contract": 0.0, "capacity": 100.0})
    assert [lv.name for lv in mixed.levers] == ["stockpile", "capacity"]
    assert mixed.levers[1].capex_inr_crore == pytest.approx(100.0 * 7280.0 / 6000.0)


def test_optimise_validates_on_fresh_draws(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("china-2025-october"), seed=3)
    decision = optimise(sc, dataset, budget=800.0, alpha=0.9, until=2026, draws=12)
    assert decision.solution.cost_inr_crore <= 800.0 + 1e-6
    assert decision.in_sample.seed == 3
    assert decision.out_of_sample.seed == 4
    assert decision.out_of_sample.risk < decision.baseline_out.risk
    risks = [s.risk for _, s in decision.pareto]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(risks))
    ds = decision.to_dataset()
    # Every lever type is offered: three at continuous levels, the rest whole or not at all.
    # (the cluster's plants come online after 2026: it is left out, and said so).
    named = {n.split(":")[0] for n in decision.left_out}
    assert named == {"magnet-cluster"}
    assert set(ds[dims.LEVER].to_numpy()) | named == {"stockpile", "contract", "capacity",
                                                      *PACKAGES}  # fmt: skip
    offered = {t for o in decision.options for t in o.kind.split("+")}
    assert offered == {c.type_tag() for c in LEVER_TYPES} - {"magnet_cluster"}
    lumpy = [decision.solution.levels[o.name] for o in decision.options if o.lumpy]
    assert all(min(abs(v), abs(v - 1.0)) < 1e-6 for v in lumpy)
    assert float(ds["efficiency"].min()) >= 0.0
    assert ds.attrs["loss_unit"] == "₹ crore"
    # Each single lever is checked out of sample against the mix, and the verdict is stated.
    singles = decision_rows(decision)["singles"]
    assert len(singles) >= 1 + len(decision.options)
    assert all(r["mix better"] for r in singles[1:])


def _judge_by(risks: dict[tuple[str, ...], float]) -> Callable[[Mapping[str, float]], Evaluation]:
    """An engine stand-in: each mix's risk by the names of its options."""

    def judge(levels: Mapping[str, float]) -> Evaluation:
        r = risks[tuple(sorted(levels))]
        return Evaluation(r, r, 0.0, 1, np.array([r]))

    return judge


def test_the_engine_overrules_an_lp_that_double_counts() -> None:
    # The LP takes a and b together (their effects add in its model); the engine finds they
    # serve the same shortfall, so together they are no better than b alone, and c alone
    # beats them: c is returned, and c with the LP's mix is tried where the budget allows.
    lp = problem(
        [[100.0]],
        {"a": [[1.0]], "b": [[1.0]], "c": [[1.0]]},
        {"a": 1.0, "b": 1.0, "c": 2.0},
        {"a": 10.0, "b": 10.0, "c": 10.0},
    )
    options = [Option(n, {"type": "supply_contract"}, "t_per_year", 10.0) for n in "abc"]
    risks = {("a", "b"): 50.0, ("a",): 60.0, ("b",): 50.0, ("c",): 40.0, ("a", "b", "c"): 45.0}
    judge = _judge_by(risks)
    lp_mix = judge({"a": 10.0, "b": 10.0})
    best, judged = choose(lp, options, {"a": 10.0, "b": 10.0, "c": 0.0}, lp_mix, 30.0, judge)
    assert best.label == "c alone"
    assert best.levels == {"c": pytest.approx(10.0)}
    assert best.cost_inr_crore == pytest.approx(20.0)
    labels = [c.label for c in judged]
    assert labels[0] == "the LP's mix"
    # a and b alone at the level the budget buys (their bound), c alone (its bound): each
    # alone at its bound is a mix judged once; the LP's mix less a (= b at 10) is b alone.
    assert "c alone" in labels
    assert "the LP's mix plus c" in labels
    plus = next(c for c in judged if c.label == "the LP's mix plus c")
    assert plus.levels["c"] == pytest.approx(5.0)  # the 10 left buys 5 of c
    assert all(c.cost_inr_crore <= 30.0 + 1e-9 for c in judged)


def test_the_lp_mix_is_kept_when_the_engine_agrees() -> None:
    lp = problem(
        [[100.0]], {"a": [[1.0]], "b": [[1.0]]}, {"a": 1.0, "b": 1.0}, {"a": 5.0, "b": 5.0}
    )
    options = [Option(n, {"type": "supply_contract"}, "t_per_year", 5.0) for n in "ab"]
    judge = _judge_by({("a", "b"): 10.0, ("a",): 30.0, ("b",): 20.0})
    lp_mix = judge({"a": 5.0, "b": 5.0})
    best, _ = choose(lp, options, {"a": 5.0, "b": 5.0}, lp_mix, 10.0, judge)
    assert best.label == "the LP's mix"
    assert best.evaluation is lp_mix


@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    draws=st.integers(1, 3),
    steps=st.integers(1, 6),
    classes=st.integers(1, 3),
)
def test_a_stockpiles_calibration_is_the_lps_own_optimum(
    data: st.DataObject, draws: int, steps: int, classes: int
) -> None:
    # calibrate() takes the stockpile's gain alone from the greedy order over its nested caps;
    # the LP (built only where a class of positive weight is short) must find the same.
    short = st.sampled_from([0.0, 1e-12, 0.5, 7.5, 40.0, 100.0])  # 1e-12: rounding residue
    baseline = np.array(
        data.draw(
            st.lists(short, min_size=classes * draws * steps, max_size=classes * draws * steps)
        )
    ).reshape(classes, draws, steps)
    weights = data.draw(st.lists(st.sampled_from([0.0, 1.0, 3.0, 10.0]), min_size=classes,
                                 max_size=classes))  # fmt: skip
    size = data.draw(st.sampled_from([0.0, 0.3, 20.0, 75.0, 300.0]))
    rate = data.draw(st.sampled_from([0.05, 1.0 / 3.0, 1.0]))
    ready = data.draw(st.integers(0, steps))
    lever = {dims.LEVER: ["pile"]}
    dt = {dims.DRAW: np.arange(draws), dims.TIME: np.arange(steps)}
    lp = Problem(
        baseline=xr.DataArray(baseline, coords={WEIGHT_CLASS: np.arange(classes), **dt}),
        weights=xr.DataArray(weights, coords={WEIGHT_CLASS: np.arange(classes)}),
        effect=xr.DataArray(np.zeros((1, draws, steps)), coords={**lever, **dt}),
        unit_cost=xr.DataArray([1.0], coords=lever),
        upper=xr.DataArray([size], coords=lever),
        release_rate=xr.DataArray([rate], coords=lever),
        ready=xr.DataArray([ready], coords=lever),
        efficiency=xr.DataArray([1.0], coords=lever),
    )
    base = float(lp.losses().mean())
    gained = base - solve(lp, math.inf, None).expected
    # An engine that avoids 1 t: the efficiency is 1 over the stockpile's gain by calibrate's
    # own reckoning (0 when it gains nothing), which must be the LP's.
    factor = float(calibrate(lp, {"pile": base - 1.0}).efficiency.item())
    if gained > 1e-9:
        assert 1.0 / factor == pytest.approx(gained, rel=1e-6, abs=1e-6)
    else:
        assert factor == 0.0
