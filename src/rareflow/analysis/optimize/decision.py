"""The decision: solve, trace the Pareto front, validate in the engine, shape the result."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.analysis.optimize.effects import (
    build_problem,
    run_cost,
    run_variant,
    sector_weights,
    value_weights,
    weighted_loss,
)
from rareflow.analysis.optimize.lp import Problem, Programme, Solution, cvar
from rareflow.analysis.optimize.options import PARETO_FRACTIONS, Option, default_options
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import InputError
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray
from rareflow.scenario.compile import Prepared, compile_scenario, prepare
from rareflow.scenario.schema import Scenario

BUDGET = "budget"
"""Dimension of the Pareto front's budgets."""


def horizon_months(scenario: Scenario, until: int) -> int:
    """Months from the scenario's start to the end of year ``until`` (whole steps)."""
    months = (until - scenario.start.year) * 12 + 13 - scenario.start.month
    if months < 1:
        raise InputError(f"--until {until} is before the scenario's start ({scenario.start})")
    step = scenario.step_months
    return math.ceil(months / step) * step


def with_mix(
    scenario: Scenario, options: Sequence[Option], levels: Mapping[str, float]
) -> Scenario:
    """Return the scenario with each option of a positive level added as a lever."""
    added = [
        lever
        for o in options
        if levels.get(o.name, 0.0) > 1e-9
        for lever in o.levers_at(levels[o.name])
    ]
    return with_overrides(scenario, levers=[*scenario.model_dump(mode="json")["levers"], *added])


@dataclass(frozen=True)
class Evaluation:
    """A mix simulated in the full engine.

    Parameters
    ----------
    risk
        CVaR (or mean) of the weighted cumulative shortfall, t.
    expected
        Mean weighted cumulative shortfall, t.
    cost_inr_crore
        Mean lever cost over the horizon.
    seed
        The draws' seed.
    losses
        Weighted cumulative shortfall per draw.
    """

    risk: float
    expected: float
    cost_inr_crore: float
    seed: int
    losses: FloatArray

    @classmethod
    def of(cls, losses: FloatArray, cost: float, alpha: float | None, seed: int) -> Evaluation:
        """Return the figures of a run's losses per draw and mean cost at a risk level."""
        return cls(cvar(losses, alpha), float(losses.mean()), cost, seed, losses)


def evaluate(
    scenario: Scenario,
    dataset: Dataset,
    weights: Mapping[str, float],
    alpha: float | None,
    seed: int,
    prepared: Prepared | None = None,
) -> Evaluation:
    """Run a scenario in the full engine with a seed and measure its risk and cost.

    ``prepared``: the phases before the levers of the scenario without the options, compiled
    once for this seed and shared (the network is the one a fresh compile gives).
    """
    sc = with_overrides(scenario, seed=seed)
    if prepared is None:
        res = run(sc, dataset=dataset, keep_partners=False).results
    else:
        res = run_variant(sc, dataset, prepared)[1]
    return Evaluation.of(weighted_loss(res, weights), float(run_cost(res).mean()), alpha, seed)


def probed(problem: Problem, name: str, alpha: float | None, seed: int) -> Evaluation | None:
    """Return the evaluation of option ``name`` alone at its upper level from its probe run.

    :func:`build_problem` ran exactly that scenario on the LP's draws (``seed``), so judging
    the option alone there needs no new run; None if the problem kept no probe figures.
    """
    if problem.alone_losses is None or problem.alone_cost is None:
        return None
    sel = {dims.LEVER: name}
    losses = np.asarray(problem.alone_losses.sel(sel).to_numpy(), dtype=np.float64)
    return Evaluation.of(losses, float(problem.alone_cost.sel(sel)), alpha, seed)


@dataclass(frozen=True)
class Candidate:
    """A mix the engine judged in sample before one was returned.

    Parameters
    ----------
    label
        What it is: the LP's mix, an option alone, or the LP's mix with one option more or less.
    levels
        Level of each option (absent: 0).
    cost_inr_crore
        Its cost at the LP's unit costs (what the budget bounds).
    evaluation
        The engine's figures on the LP's draws.
    """

    label: str
    levels: dict[str, float]
    cost_inr_crore: float
    evaluation: Evaluation


MORE_OF = 3
"""Options alone that beat the LP's mix in sample, best first, each tried added to it."""


def _mix_cost(problem: Problem, levels: Mapping[str, float]) -> float:
    """Cost of a mix at the LP's unit costs, ₹ crore."""
    return sum(
        float(problem.unit_cost.sel({dims.LEVER: n})) * v for n, v in levels.items() if v > 0
    )


def _within(problem: Problem, option: Option, money: float) -> float:
    """Return the level of an option that ``money`` buys: whole, or up to its bound."""
    unit = float(problem.unit_cost.sel({dims.LEVER: option.name}))
    if option.lumpy:
        return 1.0 if unit <= money + 1e-9 else 0.0
    return option.upper if unit <= 0 else max(0.0, min(option.upper, money / unit))


def choose(
    problem: Problem,
    options: Sequence[Option],
    lp_levels: Mapping[str, float],
    lp_mix: Evaluation,
    budget: float,
    judge: Callable[[Mapping[str, float]], Evaluation],
) -> tuple[Candidate, tuple[Candidate, ...]]:
    """Return the best of a few mixes by the engine's in-sample risk, and all those judged.

    The LP adds the options' effects, probed one at a time; options that serve the same
    shortfall (a stockpile and a private buffer) are counted twice, so its optimum can be worse
    in the engine than an option alone. The engine, on the LP's own draws, judges: the LP's mix,
    each option alone at the level the budget buys, the LP's mix less each option it chose, and
    the LP's mix plus each of the best :data:`MORE_OF` options alone that beat it (at the level
    the rest of the budget buys). The lowest risk wins (a tie: the cheaper). The out-of-sample
    draws take no part: they only check the choice.

    Parameters
    ----------
    problem, options
        The LP's data and the options.
    lp_levels, lp_mix
        The LP's optimum and its engine evaluation in sample.
    budget
        ₹ crore over the horizon.
    judge
        Simulates a mix on the LP's draws.
    """
    chosen = {n: v for n, v in lp_levels.items() if v > 1e-9}
    seen: dict[tuple[tuple[str, float], ...], Candidate] = {}

    def add(label: str, levels: Mapping[str, float], ev: Evaluation | None = None) -> None:
        levels = {n: v for n, v in levels.items() if v > 1e-9}
        key = tuple(sorted((n, round(v, 6)) for n, v in levels.items()))
        if key not in seen:
            ev = judge(levels) if ev is None else ev
            seen[key] = Candidate(label, dict(levels), _mix_cost(problem, levels), ev)

    add("the LP's mix", chosen, lp_mix)
    alone: list[tuple[float, Option]] = []
    for option in options:
        level = _within(problem, option, budget)
        if level > 1e-9:
            add(f"{option.name} alone", {option.name: level})
            key = ((option.name, round(level, 6)),)
            alone.append((seen[key].evaluation.risk, option))
    if len(chosen) > 1:
        for name in chosen:
            add(f"the LP's mix less {name}", {n: v for n, v in chosen.items() if n != name})
    better = sorted((r, o.name) for r, o in alone if r < lp_mix.risk and o.name not in chosen)[
        :MORE_OF
    ]
    left = budget - _mix_cost(problem, chosen)
    by_name = {o.name: o for o in options}
    for _, name in better:
        level = _within(problem, by_name[name], left)
        if level > 1e-9:
            add(f"the LP's mix plus {name}", {**chosen, name: level})
    judged = tuple(seen.values())
    best = min(judged, key=lambda c: (c.evaluation.risk, c.cost_inr_crore))
    return best, judged


@dataclass(frozen=True)
class Decision:
    """The chosen mix, its Pareto front and its validation.

    Parameters
    ----------
    options
        The options offered.
    problem
        The LP's data.
    solution
        The LP's optimum at the budget asked for.
    pareto
        Optimum at each budget of the sweep.
    chosen
        The mix returned: the best in sample in the engine of the mixes judged (:func:`choose`).
    candidates
        The mixes judged, the LP's first.
    in_sample
        The returned mix in the full engine on the LP's draws.
    out_of_sample
        The returned mix re-simulated on fresh draws (another seed).
    baseline_out
        The scenario without the options, on the fresh draws.
    singles
        Each option alone on the fresh draws: at the mix's cost within its upper level and, where
        that bound binds, also at the mix's cost beyond it.
    alpha
        CVaR level, or None for the expected loss.
    budget
        The budget, ₹ crore over the horizon.
    unit
        Unit of the losses: ``₹ crore`` (value of production lost) or ``t`` (weighted tonnes).
    lp_size
        Columns, rows and integer columns of the programme.
    left_out
        Options that cannot be taken in this scenario and horizon, each with the reason.
    """

    options: tuple[Option, ...]
    problem: Problem
    solution: Solution
    pareto: tuple[tuple[float, Solution], ...]
    chosen: Candidate
    candidates: tuple[Candidate, ...]
    in_sample: Evaluation
    out_of_sample: Evaluation
    baseline_out: Evaluation
    singles: tuple[tuple[Option, float, Evaluation], ...]
    alpha: float | None
    budget: float
    unit: str = "t"
    lp_size: tuple[int, int, int] = (0, 0, 0)
    left_out: tuple[str, ...] = ()

    def to_dataset(self) -> xr.Dataset:
        """Return the decision's figures as an ``xarray.Dataset`` for the run store."""
        levers = self.problem.levers
        budgets = [b for b, _ in self.pareto]
        return xr.Dataset(
            {
                "level": (dims.LEVER, [self.chosen.levels.get(n, 0.0) for n in levers]),
                "lp_level": (dims.LEVER, [self.solution.levels[n] for n in levers]),
                "upper": (dims.LEVER, self.problem.upper.to_numpy()),
                "unit_cost_inr_crore": (dims.LEVER, self.problem.unit_cost.to_numpy()),
                "efficiency": (dims.LEVER, self.problem.efficiency.to_numpy()),
                "pareto_cost_inr_crore": (BUDGET, [s.cost_inr_crore for _, s in self.pareto]),
                "pareto_risk_t": (BUDGET, [s.risk for _, s in self.pareto]),
                "loss_in_sample_t": (dims.DRAW, self.in_sample.losses),
                "loss_out_of_sample_t": (dims.DRAW, self.out_of_sample.losses),
            },
            coords={
                dims.LEVER: levers,
                BUDGET: budgets,
                dims.DRAW: np.arange(self.in_sample.losses.size),
            },
            attrs={
                "alpha": -1.0 if self.alpha is None else self.alpha,
                "budget_inr_crore": self.budget,
                "seed_in_sample": self.in_sample.seed,
                "seed_out_of_sample": self.out_of_sample.seed,
                "loss_unit": self.unit,
            },
        )


def optimise(
    scenario: Scenario,
    dataset: Dataset,
    *,
    budget: float,
    alpha: float | None,
    until: int,
    draws: int,
    validation_seed: int | None = None,
    options: Sequence[Option] | None = None,
    weights: Mapping[str, float] | None = None,
    objective: str = "value",
    progress: Callable[[int, int], None] | None = None,
) -> Decision:
    """Choose lever levels, trace the Pareto front and validate the mix out of sample.

    Parameters
    ----------
    scenario
        The scenario (its shocks; levers already in it stay in the baseline).
    dataset
        The dataset.
    budget
        ₹ crore over the horizon.
    alpha
        CVaR level (e.g. 0.95), or None for the expected loss.
    until
        Last year of the horizon.
    draws
        Sampled draws of the LP (and of each validation run).
    validation_seed
        Seed of the fresh draws (default: the scenario's seed + 1).
    options
        The levers to choose among (default: :func:`default_options`).
    weights
        Sector weights of the ``tonnes`` objective (default: defence 10, the rest 1); with the
        ``value`` objective, multipliers of each sector's value (default 1).
    objective
        ``value``: value of production lost, ₹ crore (tonnes short x units per tonne x value
        per unit, :mod:`rareflow.analysis.production`; a sector without a unit value counts
        zero and is named in ``basis`` of the result); ``tonnes``: weighted t of magnet short.
    progress
        Called with (stages done, stages in all).
    """
    if budget < 0:
        raise InputError(f"--budget must be >= 0 ₹ crore; got {budget:g}")
    if objective not in ("value", "tonnes"):
        raise InputError(f"--objective must be 'value' or 'tonnes'; got '{objective}'")
    sc = with_overrides(scenario, draws=draws, horizon_months=horizon_months(scenario, until))
    w = dict(weights or {})
    probe = compile_scenario(with_overrides(sc, draws=1), None, dataset).network
    if objective == "value":
        sectors = [str(s) for s in probe.sectors]
        sector_weights(sectors, w)  # refuses unknown sectors
        per_t = value_weights(dataset, sc.country, sectors)
        w = {s: per_t[s] * w.get(s, 1.0) for s in sectors}
    if options is None:
        magnets = [COMMODITY_IDS.index(m) for m in MAGNETS]
        per_month = float(probe.requirement0[:, magnets].sum()) / sc.step_months
        options = default_options(sc, per_month)
    stages = 2 * len(options) + 4

    def tick(done: int) -> None:
        if progress is not None:
            progress(done, stages)

    # The phases before the levers, compiled once per seed and shared by every run below.
    in_prep = prepare(sc, None, dataset)
    problem = build_problem(sc, dataset, options, w, lambda i, _n: tick(i), in_prep)
    tick(len(options))
    options = [o for o in options if o.name in problem.levers]  # those the horizon allows
    stages = 2 * len(options) + 4
    programme = Programme(problem, alpha)
    solution = programme.solve(budget)
    pareto = programme.front(budget, PARETO_FRACTIONS, solution)
    tick(len(options) + 1)
    fresh = sc.seed + 1 if validation_seed is None else validation_seed
    lp_mix = evaluate(with_mix(sc, options, solution.levels), dataset, w, alpha, sc.seed, in_prep)
    upper = {o.name: o.upper for o in options}

    def judge(levels: Mapping[str, float]) -> Evaluation:
        if len(levels) == 1:
            ((name, level),) = levels.items()
            known = probed(problem, name, alpha, sc.seed) if level == upper[name] else None
            if known is not None:  # the probe run: the same scenario on the same draws
                return known
        return evaluate(with_mix(sc, options, levels), dataset, w, alpha, sc.seed, in_prep)

    chosen, candidates = choose(problem, options, solution.levels, lp_mix, budget, judge)
    in_sample = chosen.evaluation
    mix = with_mix(sc, options, chosen.levels)
    tick(len(options) + 2)
    out_prep = prepare(with_overrides(sc, seed=fresh), None, dataset)
    out = evaluate(mix, dataset, w, alpha, fresh, out_prep)
    tick(len(options) + 3)
    baseline_out = evaluate(sc, dataset, w, alpha, fresh, out_prep)
    singles = []
    for i, option in enumerate(options):
        unit = float(problem.unit_cost.sel({dims.LEVER: option.name}))
        same_cost = math.inf if unit <= 0 else chosen.cost_inr_crore / unit
        # Within the option's bound (what the LP could choose), and, where the bound binds, at
        # the same cost beyond it, so no lever is favoured by the bound alone; a lumpy option
        # is taken whole.
        levels = [1.0] if option.lumpy else [min(same_cost, option.upper)]
        if not option.lumpy and math.isfinite(same_cost) and same_cost > option.upper:
            levels.append(same_cost)
        for level in levels:
            mixed = with_mix(sc, [option], {option.name: level})
            singles.append((option, level, evaluate(mixed, dataset, w, alpha, fresh, out_prep)))
        tick(len(options) + 4 + i)
    tick(stages)
    return Decision(
        tuple(options),
        problem,
        solution,
        pareto,
        chosen,
        candidates,
        in_sample,
        out,
        baseline_out,
        tuple(singles),
        alpha,
        budget,
        "₹ crore" if objective == "value" else "t",
        (programme.shape[0], programme.shape[1], programme.integers),
        problem.left_out,
    )


def decision_rows(decision: Decision) -> dict[str, list[dict[str, Any]]]:
    """Return the decision as rows: mix, validation, choice in sample, single levers, front."""
    sol = decision.solution
    lv = decision.chosen.levels
    lp_mix = decision.candidates[0].evaluation
    unit = {o.name: float(decision.problem.unit_cost.sel({dims.LEVER: o.name})) for o in
            decision.options}  # fmt: skip
    mix = [
        {
            "option": o.name,
            "lever": o.kind,
            "level": lv.get(o.name, 0.0),
            "unit": "whole" if o.lumpy else ("t" if o.level_field == "target_t" else "t/yr"),
            "upper": o.upper,
            "inr_crore_per_unit": unit[o.name],
            "cost_inr_crore": unit[o.name] * lv.get(o.name, 0.0),
        }
        for o in decision.options
    ]
    risk = "expected" if decision.alpha is None else f"CVaR{100 * decision.alpha:g}"
    lost = "value lost" if decision.unit == "₹ crore" else "weighted shortfall"
    u = decision.unit
    validation = [
        {
            "figure": f"{risk} {lost} ({u})",
            "LP (in sample)": sol.risk,
            "LP's mix, engine in sample": lp_mix.risk,
            "engine, in sample": decision.in_sample.risk,
            "engine, out of sample": decision.out_of_sample.risk,
            "no levers, out of sample": decision.baseline_out.risk,
        },
        {
            "figure": f"expected {lost} ({u})",
            "LP (in sample)": sol.expected,
            "LP's mix, engine in sample": lp_mix.expected,
            "engine, in sample": decision.in_sample.expected,
            "engine, out of sample": decision.out_of_sample.expected,
            "no levers, out of sample": decision.baseline_out.expected,
        },
        {
            "figure": "cost (₹ crore)",
            "LP (in sample)": sol.cost_inr_crore,
            "LP's mix, engine in sample": lp_mix.cost_inr_crore,
            "engine, in sample": decision.in_sample.cost_inr_crore,
            "engine, out of sample": decision.out_of_sample.cost_inr_crore,
            "no levers, out of sample": 0.0,
        },
    ]
    mix_risk = decision.out_of_sample.risk
    singles = [
        {
            "lever": "optimised mix",
            "level": _levels_text(decision.options, lv),
            "cost_inr_crore": decision.out_of_sample.cost_inr_crore,
            f"{risk} ({u})": mix_risk,
            "expected": decision.out_of_sample.expected,
            "mix better": "",
        },
        *(
            {
                "lever": f"{o.name} alone",
                "level": "whole"
                if o.lumpy
                else f"{level:,.0f}"
                + (" (beyond its bound)" if level > o.upper + 1e-9 else "")
                + (" (its bound)" if abs(level - o.upper) <= 1e-9 else ""),
                "cost_inr_crore": ev.cost_inr_crore,
                f"{risk} ({u})": ev.risk,
                "expected": ev.expected,
                "mix better": _verdict(mix_risk, decision.out_of_sample.cost_inr_crore, ev),
            }
            for o, level, ev in decision.singles
        ),
    ]
    front = [
        {
            "budget_inr_crore": b,
            "cost_inr_crore": s.cost_inr_crore,
            f"{risk} ({u}, LP)": s.risk,
            **{o.name: s.levels[o.name] for o in decision.options},
        }
        for b, s in decision.pareto
    ]
    choice = [
        {
            "candidate": c.label,
            "level": _levels_text(decision.options, c.levels),
            "cost_inr_crore": c.cost_inr_crore,
            f"{risk} ({u}, engine in sample)": c.evaluation.risk,
            "expected": c.evaluation.expected,
            "chosen": "yes" if c is decision.chosen else "",
        }
        for c in decision.candidates
    ]
    return {
        "mix": mix,
        "validation": validation,
        "choice": choice,
        "singles": singles,
        "pareto": front,
    }


def choice_note(decision: Decision) -> str:
    """Say which mix was returned and why: the LP's prediction against the engine in sample."""
    lp, chosen = decision.candidates[0], decision.chosen
    text = (
        f"The LP predicted {_num(decision.solution.risk)} for its mix; the engine, on the same "
        f"draws, gives {_num(lp.evaluation.risk)} ({decision.unit}). "
    )
    if chosen is lp:
        return text + (
            f"It is the best of the {len(decision.candidates)} mixes judged in sample: returned."
        )
    return text + (
        f"Of the {len(decision.candidates)} mixes judged in sample, {chosen.label} "
        f"({_levels_text(decision.options, chosen.levels)}) gives {_num(chosen.evaluation.risk)} "
        f"for ₹{_num(chosen.cost_inr_crore)} crore, the lowest: returned instead."
    )


def _num(x: float) -> str:
    """Return a figure as text: whole units with separators, or 3 significant digits below 1."""
    return f"{x:,.0f}" if abs(x) >= 1 else f"{x:.3g}"


def _levels_text(options: Sequence[Option], levels: Mapping[str, float]) -> str:
    """Return a mix as text: lumpy options by name, the others with their level."""
    return (
        "; ".join(
            o.name if o.lumpy else f"{o.name} {levels[o.name]:,.0f}"
            for o in options
            if levels.get(o.name, 0.0) > 1e-9
        )
        or "none"
    )


def _verdict(mix_risk: float, mix_cost: float, single: Evaluation) -> str:
    """Whether the mix beats a single lever out of sample: lower risk, or as low for less."""
    if mix_risk < single.risk - 1e-9 * max(abs(single.risk), 1.0):
        return "yes"
    if mix_risk <= single.risk + 1e-9 * max(abs(single.risk), 1.0):
        return "tie" if mix_cost >= single.cost_inr_crore else "yes (cheaper)"
    return "no" if single.cost_inr_crore <= mix_cost * 1.01 else "no (costs more)"
