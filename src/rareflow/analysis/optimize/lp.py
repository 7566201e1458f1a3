"""The policy-mix linear programme: its data, its solution, and its calibration to the engine.

See :mod:`rareflow.analysis.optimize` for the formulation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import highspy
import linopy
import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.errors import SolverError
from rareflow.model.network import FloatArray
from rareflow.solver import new_highs

TIE_BREAK = 1e-6
"""Loss units per ₹ crore added to the objective, so that among mixes of equal risk the LP takes
the cheapest (at the budget where the whole loss is avoided, many mixes tie)."""
TINY = 1e-9
"""Relative size below which an LP coefficient is zero (HiGHS ignores smaller entries)."""
WEIGHT_CLASS = "weight_class"
"""Dimension of the LP's sector weight classes (sectors with equal weight pooled)."""


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
    lumpy
        ``(lever,)`` True for an investment taken whole or not at all (level 0 or 1, an integer
        choice); None: every level is continuous.
    left_out
        Options offered but not in the problem, each with why (a lumpy option whose levers the
        scenario refuses over its horizon).
    alone_losses, alone_cost
        ``(lever, draw)`` the engine's weighted loss with each option alone at its upper level,
        and ``(lever,)`` its mean cost, ₹ crore: the probe runs', kept so that the same run is
        not simulated again to judge that option alone (None: not kept).
    """

    baseline: xr.DataArray
    weights: xr.DataArray
    effect: xr.DataArray
    unit_cost: xr.DataArray
    upper: xr.DataArray
    release_rate: xr.DataArray
    ready: xr.DataArray
    efficiency: xr.DataArray
    lumpy: xr.DataArray | None = None
    left_out: tuple[str, ...] = ()
    alone_losses: xr.DataArray | None = None
    alone_cost: xr.DataArray | None = None

    @property
    def levers(self) -> list[str]:
        """Option names."""
        return [str(v) for v in self.upper[dims.LEVER].to_numpy()]

    def shortfall(self) -> xr.DataArray:
        """Return the baseline without shortfalls below the coefficient tolerance (:data:`TINY`).

        Those are rounding residue of the engine's balances (grams in a month); as bounds they
        made HiGHS repair its solution at length, and no lever is judged on them.
        """
        b = self.baseline
        return b.where(b > TINY * max(float(b.max()), 1.0), 0.0)

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


class Programme:
    """The LP (or MIP, with lumpy levers) of a problem, built once and solved at many budgets.

    The linopy model is built once and handed to one HiGHS instance; a new budget changes only
    the budget row's bound, so HiGHS starts from the last basis (a Pareto front costs one build).

    Parameters
    ----------
    problem
        The data.
    alpha
        CVaR level, or None for the expected loss.
    """

    def __init__(self, problem: Problem, alpha: float | None) -> None:
        started = time.perf_counter()
        self.problem, self.alpha = problem, alpha
        m = linopy.Model()
        lumpy = (
            np.zeros(len(problem.levers), dtype=bool)
            if problem.lumpy is None
            else problem.lumpy.to_numpy().astype(bool)
        )
        names = np.array(problem.levers)
        xs: dict[bool, linopy.Variable] = {}
        supply: Any = 0
        cost: Any = 0
        for integer in (False, True):
            chosen = list(names[lumpy == integer])
            if not chosen:
                continue
            sel = {dims.LEVER: chosen}
            x = m.add_variables(
                lower=0.0,
                upper=problem.upper.sel(sel),
                integer=integer,
                name="x_lumpy" if integer else "x",
            )
            xs[integer] = x
            # Coefficients below HiGHS's matrix tolerance are dropped here, not by HiGHS with a
            # warning on standard output.
            coef = problem.effect.sel(sel) * problem.efficiency.sel(sel)
            coef = coef.where(np.abs(coef) > TINY * max(float(np.abs(coef).max()), 1.0), 0.0)
            supply = supply + (coef * x).sum(dims.LEVER)
            cost = cost + (problem.unit_cost.sel(sel) * x).sum()
        # Only what can change the objective is built (most cells are never short): magnets
        # served to a class of positive weight short in that draw and month, and the supply
        # row of a cell where something is served or an effect is negative (elsewhere the row
        # says supply >= 0, which non-negative effects always meet). Every other served or
        # released amount is 0 at some optimum, so the optimum is that of the full programme.
        short = problem.shortfall()
        self.served_mask = (short > 0) & (problem.weights > 0)
        cells = self.served_mask.any(WEIGHT_CLASS) | (problem.effect < 0).any(dims.LEVER)
        served_var = m.add_variables(lower=0.0, upper=short, mask=self.served_mask, name="served")
        served = served_var.fillna(0)
        rates = problem.release_rate.to_numpy()
        stock = [n for n, r, whole in zip(names, rates, lumpy, strict=True) if r and not whole]
        if stock:
            steps = problem.baseline[dims.TIME]
            open_ = (steps >= problem.ready.sel({dims.LEVER: stock})) & cells
            upper = xr.full_like(open_, np.inf, dtype=np.float64)
            # Absent slots add nothing to a sum (linopy's legacy semantics, stated explicitly).
            release = m.add_variables(lower=0.0, upper=upper, mask=open_, name="release").fillna(0)
            x_stock = xs[False].sel({dims.LEVER: stock})
            rate = problem.release_rate.sel({dims.LEVER: stock})
            m.add_constraints(release - rate * x_stock <= 0.0, mask=open_, name="release_rate")
            m.add_constraints(release.sum(dims.TIME) - x_stock <= 0.0, name="release_total")
            supply = supply + (problem.efficiency.sel({dims.LEVER: stock}) * release).sum(
                dims.LEVER
            )
        m.add_constraints(served.sum(WEIGHT_CLASS) - supply <= 0.0, mask=cells, name="supply")
        budget_row = m.add_constraints(cost <= 0.0, name="budget")
        gain = (problem.weights * served).sum([WEIGHT_CLASS, dims.TIME])  # (draw,)
        base = xr.DataArray(problem.losses(), coords={dims.DRAW: problem.baseline[dims.DRAW]})
        n = base.size
        # Among mixes of equal risk, the cheapest: a tie-break too small to trade risk for cost.
        tie = TIE_BREAK * cost
        if alpha is None:
            m.add_objective(-gain.sum() / n + tie)
        else:
            eta = m.add_variables(name="eta")
            excess = m.add_variables(
                lower=0.0, coords=[problem.baseline.indexes[dims.DRAW]], name="excess"
            )
            m.add_constraints(excess + eta + gain >= base, name="cvar")
            m.add_objective(eta + excess.sum() / ((1.0 - alpha) * n) + tie)
        new_highs()  # prints HiGHS's banner, once per process, away from standard output
        self.highs = linopy.io.to_highspy(m)
        self.highs.setOptionValue("output_flag", False)
        matrices = m.matrices
        columns = np.asarray(matrices.vlabels)
        rows = np.asarray(matrices.clabels)
        order = {n: i for i, n in enumerate(problem.levers)}
        self.x_cols = np.zeros(len(problem.levers), dtype=np.int64)
        for x in xs.values():
            labels = np.asarray(x.labels.to_numpy()).ravel()
            for name, label in zip(x.labels[dims.LEVER].to_numpy(), labels, strict=True):
                self.x_cols[order[str(name)]] = int(np.searchsorted(columns, label))
        served_labels = np.asarray(served_var.labels.to_numpy())
        self.served_cols = np.searchsorted(columns, served_labels[self.served_mask.to_numpy()])
        self.budget_row = int(np.searchsorted(rows, int(budget_row.labels.item())))
        self.shape = (len(columns), len(rows))
        self.integers = int(lumpy.sum())
        self.build_seconds = time.perf_counter() - started

    def solve(self, budget: float) -> Solution:
        """Solve at a budget (₹ crore).

        Raises
        ------
        SolverError
            If HiGHS does not report an optimum.
        """
        started = time.perf_counter()
        h = self.highs
        h.changeRowBounds(self.budget_row, -highspy.kHighsInf, float(budget))
        h.run()
        status = h.getModelStatus()
        solved = time.perf_counter()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"the policy-mix LP was not solved: {h.modelStatusToString(status)}")
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
        levels = np.maximum(values[self.x_cols], 0.0)
        served_s = np.zeros(self.served_mask.shape)
        served_s[self.served_mask.to_numpy()] = values[self.served_cols]
        losses = self.problem.losses(served_s)
        return Solution(
            levels=dict(zip(self.problem.levers, map(float, levels), strict=True)),
            cost_inr_crore=float(self.problem.unit_cost.to_numpy() @ levels),
            risk=cvar(losses, self.alpha),
            expected=float(losses.mean()),
            build_seconds=self.build_seconds,
            solve_seconds=solved - started,
        )

    def front(
        self, budget: float, fractions: tuple[float, ...], at_budget: Solution | None = None
    ) -> tuple[tuple[float, Solution], ...]:
        """Return the optimum at each share of ``budget`` (the Pareto front of cost and risk).

        Solves only where the answer is not known: the budget asked for once (``at_budget`` if
        given); a zero budget buys nothing when every lever costs something; and an optimum
        that costs no more than a smaller budget is the optimum there too (it is feasible, and
        the smaller budget's choices are a subset), so budgets are taken from the largest down
        and the last optimum is kept while it fits.
        """
        free = bool((self.problem.unit_cost.to_numpy() <= 0).any())
        found: dict[float, Solution] = {}
        last = at_budget if at_budget is not None else self.solve(budget)
        for fraction in sorted(fractions, reverse=True):
            amount = budget * fraction
            if fraction == 1.0:
                found[fraction] = last
            elif fraction == 0.0 and not free:
                found[fraction] = self.unused()
            elif last.cost_inr_crore <= amount:
                found[fraction] = last
            else:
                last = self.solve(amount)
                found[fraction] = last
        return tuple((budget * f, found[f]) for f in fractions)

    def unused(self) -> Solution:
        """Return the known answer at a zero budget when every lever costs something: none."""
        losses = self.problem.losses()
        return Solution(
            levels=dict.fromkeys(self.problem.levers, 0.0),
            cost_inr_crore=0.0,
            risk=cvar(losses, self.alpha),
            expected=float(losses.mean()),
            build_seconds=0.0,
            solve_seconds=0.0,
        )


def solve(problem: Problem, budget: float, alpha: float | None) -> Solution:
    """Solve the LP for a budget (₹ crore) and risk level (None: expected loss).

    Raises
    ------
    SolverError
        If HiGHS does not report an optimum.
    """
    return Programme(problem, alpha).solve(budget)


def _flow_gain(problem: Problem, name: str) -> FloatArray:
    """Weighted shortfall a flow lever alone at its upper level serves, per draw (no LP needed).

    Without a budget or a stock to time, the LP's optimum is known: each month's extra supply
    serves the classes of highest weight first.
    """
    sel = {dims.LEVER: name}
    left = (problem.effect.sel(sel) * problem.upper.sel(sel)).to_numpy().copy()
    weights = problem.weights.to_numpy()
    baseline = problem.shortfall().to_numpy()
    gain = np.zeros(left.shape[0])
    for c in np.argsort(-weights, kind="stable"):
        served = np.minimum(baseline[c], np.maximum(left, 0.0))
        gain += weights[c] * served.sum(axis=1)
        left -= served
    return gain


def _stock_gain(problem: Problem, name: str) -> FloatArray:
    """Weighted shortfall a stockpile alone at its upper level serves, per draw (no LP needed).

    Its releases are capped month by month (its rate times its size, from its ready step) and in
    all (its size), besides each class's shortfall: nested (laminar) capacities, which make the
    feasible releases a polymatroid, over which serving the classes of highest weight first is
    optimal (the greedy algorithm; Edmonds 1970, in *Combinatorial Structures and Their
    Applications*, Gordon and Breach, 69-87). What the LP with no budget would find.
    """
    sel = {dims.LEVER: name}
    size = float(problem.upper.sel(sel))
    steps = np.arange(problem.baseline.sizes[dims.TIME])
    open_ = steps >= int(problem.ready.sel(sel))
    baseline = problem.shortfall().to_numpy()
    month_left = np.broadcast_to(
        np.where(open_, float(problem.release_rate.sel(sel)) * size, 0.0), baseline.shape[1:]
    ).copy()
    total_left = np.full(baseline.shape[1], size)
    weights = problem.weights.to_numpy()
    gain = np.zeros(baseline.shape[1])
    for c in np.argsort(-weights, kind="stable"):
        reach = np.cumsum(np.minimum(baseline[c], month_left), axis=1)
        taken = np.diff(np.minimum(reach, total_left[:, None]), axis=1, prepend=0.0)
        month_left -= taken
        total_left -= taken.sum(axis=1)
        gain += weights[c] * taken.sum(axis=1)
    return gain


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
        flow = float(problem.release_rate.sel({dims.LEVER: name})) == 0.0
        gained = float((_flow_gain if flow else _stock_gain)(problem, name).mean())
        factors.append(max(base - engine_loss[name], 0.0) / gained if gained > 0 else 0.0)
    return replace(problem, efficiency=xr.DataArray(factors, coords=problem.upper.coords))
