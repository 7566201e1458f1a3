"""The policy-mix linear programme: its data, its solution, and its calibration to the engine.

See :mod:`rareflow.analysis.optimize` for the formulation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import linopy
import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.errors import SolverError
from rareflow.model.network import FloatArray
from rareflow.solver import new_highs

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
    SolverError
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
        raise SolverError(f"the policy-mix LP was not solved: {status} ({condition})")
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
