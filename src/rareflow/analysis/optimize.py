"""The cheapest policy mix: lever levels that minimise shortfall risk within a budget.

A scenario-based linear programme (stochastic programming with equiprobable sampled scenarios,
Birge and Louveaux 2011, *Introduction to Stochastic Programming*, Springer) is built from engine
runs and solved with HiGHS (Huangfu and Hall 2018, Mathematical Programming Computation 10,
119-142) through linopy (Hofmann 2023, JOSS 8(84), 4823).

**Data from the engine.** For each sampled draw ``s`` and month ``t`` up to the horizon:

- ``B[c, s, t]``: the baseline shortfall (t magnet) of the scenario as given, summed over the
  sectors of weight class ``c`` (sectors with the same weight are interchangeable in the
  objective, so they are pooled exactly);
- ``E[l, s, t]``: extra magnet supply per unit of flow lever ``l``, from the lever's mechanics as
  compiled: a supply contract's contracted volume at its reliability and ramp, less any supply
  cut, arriving after the partner's lead time (per t/yr contracted); new magnet capacity's extra
  output as the engine simulates it, inputs permitting (per t/yr, from a run at the upper level);
- per stockpile ``p``: the step it is full (start plus fill months) and its release rate (share of
  its size per step);
- ``c_l``: expected cost per unit of each lever over the horizon, from the lever's own cost model
  in a run at its upper level (US$ of the price year, in ₹ crore at the dataset's rate).

**Programme.** Levels ``0 <= x_l <= U_l``; releases ``r[p, s, t] >= 0``, zero before the
stockpile is full, ``r <= x_p * rate_p`` and ``sum_t r[p, s, t] <= x_p``; magnets served beyond
the baseline ``0 <= v[c, s, t] <= B[c, s, t]`` with ``sum_c v <= sum_l E x + sum_p r``; budget
``sum_l c_l x_l <= budget``. The loss of a draw is its weighted cumulative shortfall
``L_s = sum_{c,t} w_c (B - v)``. Objective: the expected loss ``(1/S) sum_s L_s``, or the
conditional value at risk at level ``alpha`` by the Rockafellar-Uryasev linearisation
(Rockafellar and Uryasev 2000, Journal of Risk 2(3), 21-41):
``min eta + 1/((1 - alpha) S) sum_s z_s`` with ``z_s >= L_s - eta``, ``z_s >= 0``.

**Approximations** (see docs/decisions.md): effects are linear in levels (capacity is measured at
its upper level and interpolated through zero, which understates a concave response); lever
effects add without interaction and extra supply serves shortfall only in the month it arrives (no
carry-over in industry stock, no price feedback); magnet types are pooled; the stockpile is full
from its fill date, is not refilled, and its releases are chosen knowing the draw's path (the
engine releases by its trigger rule instead). So the chosen mix is written back as levers and
re-simulated in the full engine, in sample and on fresh draws (:func:`optimise`).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import linopy
import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.data.load import Dataset
from rareflow.engine.core import simulate
from rareflow.engine.results import to_dataset
from rareflow.engine.run import lever_costs, run, with_overrides
from rareflow.errors import InputError
from rareflow.ids import Sector
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray, Network
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.distributions import as_distribution
from rareflow.scenario.levers.base import INR_CRORE
from rareflow.scenario.schema import Scenario
from rareflow.solver import new_highs

WEIGHT_CLASS = "weight_class"
"""Dimension of the LP's sector weight classes (sectors with equal weight pooled)."""
BUDGET = "budget"
"""Dimension of the Pareto front's budgets."""
DEFAULT_WEIGHTS: dict[str, float] = {Sector.DEFENCE.value: 10.0}
"""Sector weights in the loss: defence first; every other sector 1 unless the user sets it."""
PARETO_FRACTIONS = (0.0, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
"""Budgets of the Pareto front, as shares of the budget asked for."""
MAGNET_PROCESSES = frozenset(MAGNETS)
"""Capacity levers the LP can take: processes whose output is a magnet."""
_RISK = re.compile(r"^cvar(\d{1,2}(?:\.\d+)?)$")


def parse_risk(text: str) -> float | None:
    """Return the CVaR level of ``cvarNN`` (``cvar95`` -> 0.95), or None for ``expected``."""
    if text == "expected":
        return None
    hit = _RISK.match(text)
    if hit is None or not 0 < float(hit.group(1)) < 100:
        raise InputError(f"--risk must be 'expected' or 'cvarNN' (e.g. cvar95); got '{text}'")
    return float(hit.group(1)) / 100.0


def cvar(losses: FloatArray, alpha: float | None) -> float:
    """Conditional value at risk of equiprobable losses (the mean when ``alpha`` is None).

    ``CVaR_alpha = VaR + E[(L - VaR)+] / (1 - alpha)``, with ``VaR`` the alpha-quantile (the
    smallest loss whose empirical distribution function reaches alpha): the minimum of the
    Rockafellar-Uryasev function, so it equals the LP's objective at its optimum.
    """
    values = np.asarray(losses, dtype=np.float64)
    if alpha is None:
        return float(values.mean())
    var = float(np.quantile(values, alpha, method="inverted_cdf"))
    return var + float(np.maximum(values - var, 0.0).mean()) / (1.0 - alpha)


@dataclass(frozen=True)
class Option:
    """A lever whose level the optimiser chooses.

    Parameters
    ----------
    name
        Its name in results (and the lever's name when written back).
    lever
        The lever's fields as in a scenario, without the level: type ``stockpile`` (of a magnet),
        ``supply_contract`` (of a magnet) or ``capacity`` (of a magnet process).
    level_field
        The field the level sets: ``target_t`` or ``t_per_year``.
    upper
        The largest level (t, or t/yr).
    per_unit
        Fields that scale with the level (e.g. ``capex_inr_crore`` per t/yr).
    basis
        Where the upper bound and per-unit figures come from.
    """

    name: str
    lever: Mapping[str, Any]
    level_field: str
    upper: float
    per_unit: Mapping[str, float] = field(default_factory=dict)
    basis: str = ""

    @property
    def kind(self) -> str:
        """The lever type."""
        return str(self.lever["type"])

    def lever_at(self, level: float) -> dict[str, Any]:
        """Return the lever's fields at a level."""
        fields = {**self.lever, "name": self.name, self.level_field: float(level)}
        fields.update({k: v * float(level) for k, v in self.per_unit.items()})
        return fields


def _months_after(day: date, months: int) -> str:
    n = day.year * 12 + day.month - 1 + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def default_options(scenario: Scenario, requirement_t_per_month: float) -> tuple[Option, ...]:
    """Return the default choices: a magnet stockpile, a contract with Japan, magnet capacity.

    Sizes, dates and prices are assumptions stated in each option's ``basis`` (docs/decisions.md).
    """
    price = {"dist": "uniform", "low": 40.0, "high": 80.0}
    return (
        Option(
            "stockpile",
            {
                "type": "stockpile",
                "material": "magnet_ndfeb_sintered",
                "start": scenario.start.isoformat(),
                "fill_months": 3,
                "release_trigger": 0.9,
                "release_months": 3,
                "sectors": "all",
                "price_usd_per_kg": price,
                "holding_cost_per_year": 0.05,
            },
            "target_t",
            6.0 * requirement_t_per_month,
            basis="up to 6 months of requirement, bought over 3 months from the start at "
            "US$40-80/kg (as the stockpile preset; assumption)",
        ),
        Option(
            "contract",
            {
                "type": "supply_contract",
                "partner": "JPN",
                "material": "magnet_ndfeb_sintered",
                "start": _months_after(scenario.start, 6),
                "ramp_months": 6,
                "premium": 0.2,
                "price_usd_per_kg": price,
            },
            "t_per_year",
            1200.0,
            basis="Japan (Quad, MSP), first deliveries 6 months after the start, up to "
            "1,200 t/yr at a 20% premium on US$40-80/kg (assumptions)",
        ),
        Option(
            "capacity",
            {
                "type": "capacity",
                "process": "magnet_ndfeb_sintered",
                "online": _months_after(scenario.start, 24),
                "ramp_months": 12,
            },
            "t_per_year",
            6000.0,
            per_unit={"capex_inr_crore": 7280.0 / 6000.0},
            basis="sintered NdFeB plants online 2 years after the start, up to the magnet "
            "scheme's 6,000 t/yr, at the scheme's outlay of ₹7,280 crore per 6,000 t/yr "
            "(policies.csv) as capital cost",
        ),
    )


@dataclass(frozen=True)
class Problem:
    """The LP's data (see the module docstring for the formulation).

    Parameters
    ----------
    baseline
        ``(weight_class, draw, time)`` shortfall without the options, t magnet.
    weights
        ``(weight_class,)`` loss weight per t.
    effect
        ``(lever, draw, time)`` extra magnet supply per unit level (0 for stockpiles).
    unit_cost
        ``(lever,)`` ₹ crore per unit level over the horizon.
    upper
        ``(lever,)`` largest level.
    release_rate
        ``(lever,)`` share of a stockpile's size it can release per step (0 for flow levers).
    ready
        ``(lever,)`` first step a stockpile can release (0 for flow levers).
    efficiency
        ``(lever,)`` share of a lever's supply (or releases) that reduces shortfall: 1 by
        mechanics, calibrated to the engine by :func:`build_problem`.
    """

    baseline: xr.DataArray
    weights: xr.DataArray
    effect: xr.DataArray
    unit_cost: xr.DataArray
    upper: xr.DataArray
    release_rate: xr.DataArray
    ready: xr.DataArray
    efficiency: xr.DataArray

    @property
    def levers(self) -> list[str]:
        """Option names."""
        return [str(v) for v in self.upper[dims.LEVER].to_numpy()]

    def losses(self, served: FloatArray | None = None) -> FloatArray:
        """Weighted cumulative shortfall per draw, less what is served beyond the baseline."""
        short = self.baseline.to_numpy() if served is None else self.baseline.to_numpy() - served
        return np.asarray(np.einsum("c,cst->s", self.weights.to_numpy(), short), dtype=np.float64)


@dataclass(frozen=True)
class Solution:
    """An optimum of the LP.

    Parameters
    ----------
    levels
        Level of each option.
    cost_inr_crore
        Expected cost of the mix over the horizon.
    risk
        The objective: CVaR (or expected value) of the weighted cumulative shortfall, t.
    expected
        The expected weighted cumulative shortfall at the optimum, t.
    build_seconds, solve_seconds
        Time to build the linopy model and to solve it with HiGHS.
    """

    levels: dict[str, float]
    cost_inr_crore: float
    risk: float
    expected: float
    build_seconds: float
    solve_seconds: float


def solve(problem: Problem, budget: float, alpha: float | None) -> Solution:
    """Solve the LP for a budget (₹ crore) and risk level (None: expected loss).

    Raises
    ------
    InputError
        If HiGHS does not report an optimum.
    """
    started = time.perf_counter()
    m = linopy.Model()
    x = m.add_variables(lower=0.0, upper=problem.upper, name="x")
    served = m.add_variables(lower=0.0, upper=problem.baseline, name="served")
    supply = (problem.effect * problem.efficiency * x).sum(dims.LEVER)
    stock = [n for n, r in zip(problem.levers, problem.release_rate.to_numpy(), strict=True) if r]
    if stock:
        steps = problem.baseline[dims.TIME]
        open_ = steps >= problem.ready.sel({dims.LEVER: stock})
        upper = open_.copy(data=np.where(open_.to_numpy(), np.inf, 0.0))
        upper = upper.broadcast_like(problem.baseline[dims.DRAW])
        release = m.add_variables(lower=0.0, upper=upper, name="release")
        x_stock = x.sel({dims.LEVER: stock})
        rate = problem.release_rate.sel({dims.LEVER: stock})
        m.add_constraints(release - rate * x_stock <= 0.0, name="release_rate")
        m.add_constraints(release.sum(dims.TIME) - x_stock <= 0.0, name="release_total")
        supply = supply + (problem.efficiency.sel({dims.LEVER: stock}) * release).sum(dims.LEVER)
    m.add_constraints(served.sum(WEIGHT_CLASS) - supply <= 0.0, name="supply")
    m.add_constraints((problem.unit_cost * x).sum() <= budget, name="budget")
    gain = (problem.weights * served).sum([WEIGHT_CLASS, dims.TIME])  # (draw,)
    base = xr.DataArray(problem.losses(), coords={dims.DRAW: problem.baseline[dims.DRAW]})
    n = base.size
    if alpha is None:
        m.add_objective(-gain.sum() / n)
    else:
        eta = m.add_variables(name="eta")
        excess = m.add_variables(
            lower=0.0, coords=[problem.baseline.indexes[dims.DRAW]], name="excess"
        )
        m.add_constraints(excess + eta + gain >= base, name="cvar")
        m.add_objective(eta + excess.sum() / ((1.0 - alpha) * n))
    built = time.perf_counter()
    new_highs()  # prints HiGHS's banner, once per process, away from standard output
    status, condition = m.solve(
        solver_name="highs", io_api="direct", output_flag=False, log_to_console=False
    )
    solved = time.perf_counter()
    if status != "ok":
        raise InputError(f"the policy-mix LP was not solved: {status} ({condition})")
    levels = np.maximum(np.asarray(x.solution.to_numpy(), dtype=np.float64), 0.0)
    served_s = np.asarray(served.solution.to_numpy(), dtype=np.float64)
    losses = problem.losses(served_s)
    return Solution(
        levels=dict(zip(problem.levers, map(float, levels), strict=True)),
        cost_inr_crore=float(problem.unit_cost.to_numpy() @ levels),
        risk=cvar(losses, alpha),
        expected=float(losses.mean()),
        build_seconds=built - started,
        solve_seconds=solved - built,
    )


def horizon_months(scenario: Scenario, until: int) -> int:
    """Months from the scenario's start to the end of year ``until`` (whole steps)."""
    months = (until - scenario.start.year) * 12 + 13 - scenario.start.month
    if months < 1:
        raise InputError(f"--until {until} is before the scenario's start ({scenario.start})")
    step = scenario.step_months
    return math.ceil(months / step) * step


def _engine(scenario: Scenario, dataset: Dataset) -> tuple[Network, xr.Dataset]:
    """Run a scenario as :func:`rareflow.engine.run.run` does, keeping the compiled network."""
    compiled = compile_scenario(scenario, None, dataset)
    res = to_dataset(simulate(compiled.network, keep_partners=False), compiled.network)
    costs = lever_costs(scenario, compiled, res, dataset)
    if costs is not None:
        res["lever_cost"] = costs
    return compiled.network, res


def sector_weights(sectors: Sequence[str], weights: Mapping[str, float]) -> FloatArray:
    """Weight of each sector: the user's, else the default (defence 10), else 1."""
    unknown = set(weights) - {s.value for s in Sector}
    if unknown:
        raise InputError(
            f"unknown sector in weights: {', '.join(sorted(unknown))}; expected "
            f"{', '.join(s.value for s in Sector)}"
        )
    full = {**DEFAULT_WEIGHTS, **weights}
    return np.array([float(full.get(s, 1.0)) for s in sectors])


def weighted_loss(results: xr.Dataset, weights: Mapping[str, float]) -> FloatArray:
    """Weighted cumulative shortfall of each draw of a run, t magnet."""
    short = results["shortfall"].sum(dims.TIME).transpose(dims.DRAW, dims.SECTOR)
    w = sector_weights([str(s) for s in short[dims.SECTOR].to_numpy()], weights)
    return np.asarray(short.to_numpy() @ w, dtype=np.float64)


def run_cost(results: xr.Dataset) -> FloatArray:
    """Total lever cost of each draw of a run, ₹ crore (0 without levers)."""
    if "lever_cost" not in results:
        return np.zeros(results.sizes[dims.DRAW])
    cost = results["lever_cost"]
    total = cost.sum([dims.TIME, dims.LEVER, "component"]).to_numpy()
    return np.asarray(total * float(cost.attrs["inr_per_usd"]) / INR_CRORE, dtype=np.float64)


def _central(value: object) -> float:
    return as_distribution(value).central  # type: ignore[arg-type]


def _lead_shift(volume: FloatArray, lead: int) -> FloatArray:
    """Volumes shipped at t arrive at t + lead (what arrives after the horizon is dropped)."""
    out = np.zeros_like(volume)
    out[:, lead:] = volume[:, : volume.shape[1] - lead]
    return out


def build_problem(
    scenario: Scenario,
    dataset: Dataset,
    options: Sequence[Option],
    weights: Mapping[str, float],
    progress: Callable[[int, int], None] | None = None,
) -> Problem:
    """Build the LP's data from engine runs of a scenario (its draws, horizon and seed).

    One run without the options gives the baseline; one run per option at its upper level gives
    its cost per unit, for capacity its output per unit, and the engine's loss that calibrates
    the option's efficiency (:func:`calibrate`).

    Raises
    ------
    InputError
        If an option is of an unsupported type or not about magnets.
    """
    names = [o.name for o in options]
    if len(set(names)) != len(names) or not names:
        raise InputError("options need distinct names, and at least one is needed")
    base_net, base = _engine(scenario, dataset)
    d_n, t_n = base_net.n_draws, base_net.n_steps
    short = base["shortfall"].transpose(dims.SECTOR, dims.DRAW, dims.TIME)
    sectors = [str(s) for s in short[dims.SECTOR].to_numpy()]
    w = sector_weights(sectors, weights)
    # Sectors never short in the baseline cannot gain, so their weights need no class.
    short_any = short.to_numpy().any(axis=(1, 2))
    classes = sorted(set(w[short_any].tolist()) or {1.0}, reverse=True)
    pooled = np.stack([short.to_numpy()[w == c].sum(axis=0) for c in classes])
    coords_dt = {dims.DRAW: base[dims.DRAW].to_numpy(), dims.TIME: np.arange(t_n)}
    effect = np.zeros((len(options), d_n, t_n))
    unit_cost = np.zeros(len(options))
    rate = np.zeros(len(options))
    ready = np.zeros(len(options), dtype=np.int64)
    engine_loss: dict[str, float] = {}
    for i, option in enumerate(options):
        if progress is not None:
            progress(i, len(options))
        probe_sc = with_overrides(
            scenario,
            levers=[*scenario.model_dump(mode="json")["levers"], option.lever_at(option.upper)],
        )
        lever = probe_sc.levers[-1]
        net, res = _engine(probe_sc, dataset)
        engine_loss[option.name] = float(weighted_loss(res, weights).mean())
        unit_cost[i] = float(
            run_cost(res.sel({dims.LEVER: [option.name]})).mean() / max(option.upper, 1e-12)
        )
        if option.kind == "stockpile" and getattr(lever, "material", "") in MAGNETS:
            step = scenario.step_months
            rate[i] = step / _central(getattr(lever, "release_months", 1.0))
            start = getattr(lever, "start", None) or scenario.start
            first = (start.year - scenario.start.year) * 12 + start.month - scenario.start.month
            fill = _central(getattr(lever, "fill_months", 0.0))
            ready[i] = max(math.ceil((first + fill) / step), 0)
        elif option.kind == "supply_contract" and getattr(lever, "material", "") in MAGNETS:
            p = net.partners.index(str(getattr(lever, "partner", "")))
            k = COMMODITY_IDS.index(str(getattr(lever, "material", "")))
            before = (
                base_net.contract[:, :, base_net.partners.index(net.partners[p]), k]
                if net.partners[p] in base_net.partners
                else np.zeros((1, t_n))
            )
            sent = (net.contract[:, :, p, k] - before) * (1.0 - net.cut[:, :, p, k])
            sent = np.broadcast_to(sent, (d_n, t_n))
            effect[i] = _lead_shift(sent, int(net.lead_steps[p])) / option.upper
        elif option.kind == "capacity" and getattr(lever, "process", "") in MAGNET_PROCESSES:
            process = str(getattr(lever, "process", ""))
            made = res["production"].sel(process=process) - base["production"].sel(process=process)
            effect[i] = made.transpose(dims.DRAW, dims.TIME).to_numpy() / option.upper
        else:
            raise InputError(
                f"option '{option.name}': the optimiser takes stockpiles and supply contracts of "
                f"a magnet ({', '.join(MAGNETS)}) and capacity of a magnet process"
            )
    lever_coord = {dims.LEVER: names}
    mechanical = Problem(
        baseline=xr.DataArray(
            pooled,
            coords={WEIGHT_CLASS: np.arange(len(classes)), **coords_dt},
            dims=(WEIGHT_CLASS, dims.DRAW, dims.TIME),
        ),
        weights=xr.DataArray(np.array(classes), coords={WEIGHT_CLASS: np.arange(len(classes))}),
        effect=xr.DataArray(effect, coords={**lever_coord, **coords_dt}),
        unit_cost=xr.DataArray(unit_cost, coords=lever_coord),
        upper=xr.DataArray([o.upper for o in options], coords=lever_coord),
        release_rate=xr.DataArray(rate, coords=lever_coord),
        ready=xr.DataArray(ready, coords=lever_coord),
        efficiency=xr.DataArray(np.ones(len(options)), coords=lever_coord),
    )
    return calibrate(mechanical, engine_loss)


def calibrate(problem: Problem, engine_loss: Mapping[str, float]) -> Problem:
    """Scale each lever's effect so that, alone at its upper level, the LP matches the engine.

    The efficiency of lever ``l`` is the engine's reduction of the expected weighted loss at
    ``U_l`` over the LP's at ``U_l`` (no budget, other levers at 0). It absorbs what the LP's
    mechanics leave out: buyers who order less from other partners when contracted magnets
    arrive, demand already lost to the price that released magnets do not win back, refills.

    Parameters
    ----------
    problem
        The LP's data with mechanical effects (efficiency 1).
    engine_loss
        Expected weighted loss in the engine with each lever alone at its upper level.
    """
    base = float(problem.losses().mean())
    factors = []
    for name in problem.levers:
        alone = problem.upper.where(problem.upper[dims.LEVER] == name, 0.0)
        lp = solve(replace(problem, upper=alone), math.inf, None).expected
        gained = base - lp
        factors.append(max(base - engine_loss[name], 0.0) / gained if gained > 0 else 0.0)
    return replace(problem, efficiency=xr.DataArray(factors, coords=problem.upper.coords))


def with_mix(
    scenario: Scenario, options: Sequence[Option], levels: Mapping[str, float]
) -> Scenario:
    """Return the scenario with each option of a positive level added as a lever."""
    added = [o.lever_at(levels[o.name]) for o in options if levels.get(o.name, 0.0) > 1e-9]
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


def evaluate(
    scenario: Scenario,
    dataset: Dataset,
    weights: Mapping[str, float],
    alpha: float | None,
    seed: int,
) -> Evaluation:
    """Run a scenario in the full engine with a seed and measure its risk and cost."""
    res = run(with_overrides(scenario, seed=seed), dataset=dataset, keep_partners=False).results
    losses = weighted_loss(res, weights)
    return Evaluation(
        cvar(losses, alpha), float(losses.mean()), float(run_cost(res).mean()), seed, losses
    )


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
        The optimum at the budget asked for.
    pareto
        Optimum at each budget of the sweep.
    in_sample
        The mix re-simulated in the full engine on the LP's draws.
    out_of_sample
        The mix re-simulated on fresh draws (another seed).
    baseline_out
        The scenario without the options, on the fresh draws.
    singles
        Each option alone on the fresh draws: at the mix's cost within its upper level and, where
        that bound binds, also at the mix's cost beyond it.
    alpha
        CVaR level, or None for the expected loss.
    budget
        The budget, ₹ crore over the horizon.
    """

    options: tuple[Option, ...]
    problem: Problem
    solution: Solution
    pareto: tuple[tuple[float, Solution], ...]
    in_sample: Evaluation
    out_of_sample: Evaluation
    baseline_out: Evaluation
    singles: tuple[tuple[Option, float, Evaluation], ...]
    alpha: float | None
    budget: float

    def to_dataset(self) -> xr.Dataset:
        """Return the decision's figures as an ``xarray.Dataset`` for the run store."""
        levers = self.problem.levers
        budgets = [b for b, _ in self.pareto]
        return xr.Dataset(
            {
                "level": (dims.LEVER, [self.solution.levels[n] for n in levers]),
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
        Sector weights (default: defence 10, the rest 1).
    progress
        Called with (stages done, stages in all).
    """
    if budget < 0:
        raise InputError(f"--budget must be >= 0 ₹ crore; got {budget:g}")
    sc = with_overrides(scenario, draws=draws, horizon_months=horizon_months(scenario, until))
    w = dict(weights or {})
    if options is None:
        probe = compile_scenario(with_overrides(sc, draws=1), None, dataset).network
        magnets = [COMMODITY_IDS.index(m) for m in MAGNETS]
        per_month = float(probe.requirement0[:, magnets].sum()) / sc.step_months
        options = default_options(sc, per_month)
    stages = len(options) + 4 + len(options)

    def tick(done: int) -> None:
        if progress is not None:
            progress(done, stages)

    problem = build_problem(sc, dataset, options, w, lambda i, _n: tick(i))
    tick(len(options))
    solution = solve(problem, budget, alpha)
    pareto = tuple((budget * f, solve(problem, budget * f, alpha)) for f in PARETO_FRACTIONS)
    tick(len(options) + 1)
    mix = with_mix(sc, options, solution.levels)
    fresh = sc.seed + 1 if validation_seed is None else validation_seed
    in_sample = evaluate(mix, dataset, w, alpha, sc.seed)
    tick(len(options) + 2)
    out = evaluate(mix, dataset, w, alpha, fresh)
    tick(len(options) + 3)
    baseline_out = evaluate(sc, dataset, w, alpha, fresh)
    singles = []
    for i, option in enumerate(options):
        unit = float(problem.unit_cost.sel({dims.LEVER: option.name}))
        same_cost = math.inf if unit <= 0 else solution.cost_inr_crore / unit
        # Within the option's bound (what the LP could choose), and, where the bound binds, at
        # the same cost beyond it, so no lever is favoured by the bound alone.
        levels = [min(same_cost, option.upper)]
        if math.isfinite(same_cost) and same_cost > option.upper:
            levels.append(same_cost)
        for level in levels:
            mixed = with_mix(sc, [option], {option.name: level})
            singles.append((option, level, evaluate(mixed, dataset, w, alpha, fresh)))
        tick(len(options) + 4 + i)
    tick(stages)
    return Decision(
        tuple(options),
        problem,
        solution,
        pareto,
        in_sample,
        out,
        baseline_out,
        tuple(singles),
        alpha,
        budget,
    )


def decision_rows(decision: Decision) -> dict[str, list[dict[str, Any]]]:
    """Return the decision as rows: the mix, the validation, the single levers, the front."""
    sol = decision.solution
    unit = {o.name: float(decision.problem.unit_cost.sel({dims.LEVER: o.name})) for o in
            decision.options}  # fmt: skip
    mix = [
        {
            "option": o.name,
            "lever": o.kind,
            "level": sol.levels[o.name],
            "unit": "t" if o.level_field == "target_t" else "t/yr",
            "upper": o.upper,
            "inr_crore_per_unit": unit[o.name],
            "cost_inr_crore": unit[o.name] * sol.levels[o.name],
        }
        for o in decision.options
    ]
    risk = "expected" if decision.alpha is None else f"CVaR{100 * decision.alpha:g}"
    validation = [
        {
            "figure": f"{risk} weighted shortfall (t)",
            "LP (in sample)": sol.risk,
            "engine, in sample": decision.in_sample.risk,
            "engine, out of sample": decision.out_of_sample.risk,
            "no levers, out of sample": decision.baseline_out.risk,
        },
        {
            "figure": "expected weighted shortfall (t)",
            "LP (in sample)": sol.expected,
            "engine, in sample": decision.in_sample.expected,
            "engine, out of sample": decision.out_of_sample.expected,
            "no levers, out of sample": decision.baseline_out.expected,
        },
        {
            "figure": "cost (₹ crore)",
            "LP (in sample)": sol.cost_inr_crore,
            "engine, in sample": decision.in_sample.cost_inr_crore,
            "engine, out of sample": decision.out_of_sample.cost_inr_crore,
            "no levers, out of sample": 0.0,
        },
    ]
    singles = [
        {
            "lever": "optimised mix",
            "level": "; ".join(f"{o.name} {sol.levels[o.name]:,.0f}" for o in decision.options),
            "cost_inr_crore": decision.out_of_sample.cost_inr_crore,
            f"{risk} (t)": decision.out_of_sample.risk,
            "expected (t)": decision.out_of_sample.expected,
        },
        *(
            {
                "lever": f"{o.name} alone",
                "level": f"{level:,.0f}"
                + (" (beyond its bound)" if level > o.upper + 1e-9 else "")
                + (" (its bound)" if abs(level - o.upper) <= 1e-9 else ""),
                "cost_inr_crore": ev.cost_inr_crore,
                f"{risk} (t)": ev.risk,
                "expected (t)": ev.expected,
            }
            for o, level, ev in decision.singles
        ),
    ]
    front = [
        {
            "budget_inr_crore": b,
            "cost_inr_crore": s.cost_inr_crore,
            f"{risk} (t, LP)": s.risk,
            **{o.name: s.levels[o.name] for o in decision.options},
        }
        for b, s in decision.pareto
    ]
    return {"mix": mix, "validation": validation, "singles": singles, "pareto": front}
