"""Policy-mix optimiser benchmark: every lever type, the LP's size, and the whole command.

Two measurements in one run:

1. **The programme at scale.** ``build_problem`` over every lever type (stockpile, contract and
   capacity continuous; every other lever type lumpy, an integer choice) on ``--draws``
   scenarios x ``--months`` months: the engine runs that give the LP its data, the linopy build
   (once), the HiGHS solve at the budget and the rest of the Pareto front on the same HiGHS
   instance, skipping the budgets whose optimum is known (as the command does). Goal (issue 17
   item 6): all levers x 1,000 scenarios x 120 months under 60 s.
2. **The command as a user runs it.** ``rareflow optimize SCENARIO --budget B --risk cvar95``
   in a fresh process (``--no-store --format json``; imports, dataset load, every engine run,
   the LP, the front and the validation runs), timed from outside, ``--repeats`` times (the first
   is the cold one). Goal (issue 22 item 5): the documented example under 15 s.

Run with ``.venv/bin/python bench/optimize.py [--scenario S] [--draws N] [--months M]``;
``--quick`` runs both at a small size (for ``make bench-quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from rareflow import dims
from rareflow.analysis.optimize import (
    PARETO_FRACTIONS,
    WEIGHT_CLASS,
    Programme,
    build_problem,
    default_options,
    value_weights,
)
from rareflow.data.load import load_dataset
from rareflow.engine.run import with_overrides
from rareflow.model.network import COMMODITY_IDS, MAGNETS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario


def programme(scenario: str, draws: int, months: int, budget: float) -> None:
    """Time the LP's data, its build and the front's solves; print the LP's size."""
    ds = load_dataset()
    sc = with_overrides(load_scenario(scenario), draws=draws, horizon_months=months)
    probe = compile_scenario(with_overrides(sc, draws=1), None, ds).network
    per_month = float(probe.requirement0[:, [COMMODITY_IDS.index(m) for m in MAGNETS]].sum())
    offered = default_options(sc, per_month / sc.step_months)
    weights = value_weights(ds, sc.country, [str(s) for s in probe.sectors])
    t0 = time.perf_counter()
    problem = build_problem(sc, ds, offered, weights)
    data_s = time.perf_counter() - t0
    options = problem.levers
    t1 = time.perf_counter()
    lp = Programme(problem, 0.95)
    build_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    at_budget = lp.solve(budget)
    front = lp.front(budget, PARETO_FRACTIONS, at_budget)
    front_s = time.perf_counter() - t2
    solves = [at_budget.solve_seconds] + [
        s.solve_seconds for _, s in front if s is not at_budget and s.solve_seconds > 0
    ]
    known = len(PARETO_FRACTIONS) - len(solves)
    size = problem.baseline.sizes
    columns, rows, integers = lp.shape[0], lp.shape[1], lp.integers
    print(
        f"{scenario}: {size[dims.DRAW]:,} scenarios x {size[dims.TIME]} months, "
        f"{len(options)} options (every lever type), {size[WEIGHT_CLASS]} value class(es); "
        f"{os.cpu_count()} cores"
    )
    for note in problem.left_out:
        print(note)
    print(f"LP: {columns:,} columns ({integers} integer) x {rows:,} rows, CVaR95")
    print(f"LP data from engine runs ({len(options) + 1} runs): {data_s:8.2f} s")
    print(f"build (linopy, once, to HiGHS):            {build_s:8.2f} s")
    rest = f", then median {statistics.median(solves[1:]):.2f} s" if len(solves) > 1 else ""
    print(
        f"solves, budget then the front ({len(solves)}; {known} known): {front_s:8.2f} s "
        f"(first {solves[0]:.2f} s{rest})"
    )
    print(f"total:                                     {data_s + build_s + front_s:8.2f} s")


def command(scenario: str, draws: int, until: int, budget: float, repeats: int) -> None:
    """Time ``rareflow optimize`` in fresh processes, as a user runs it."""
    args = [sys.executable, "-m", "rareflow", "optimize", scenario, "--budget", f"{budget:g}",
            "--risk", "cvar95", "--draws", str(draws), "--until", str(until), "--no-store",
            "--format", "json", "--quiet"]  # fmt: skip
    times, doc = [], {}
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
        doc = json.loads(done.stdout)
    print(f"$ rareflow optimize {scenario} --budget {budget:g} --risk cvar95 --draws {draws} "
          f"--until {until}")  # fmt: skip
    print(
        f"whole command: cold {times[0]:.1f} s; min {min(times):.1f} / median "
        f"{statistics.median(times):.1f} / max {max(times):.1f} s over {repeats} runs; LP "
        f"{doc['lp_columns']:,} columns x {doc['lp_rows']:,} rows, "
        f"{doc['lp_integer_columns']} integer"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="repeat-2029")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--budget", type=float, default=5000.0)
    parser.add_argument("--command-draws", type=int, default=200)
    parser.add_argument("--until", type=int, default=2030)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small size, for bench-quick")
    args = parser.parse_args()
    if args.quick:
        args.draws, args.months, args.command_draws, args.until, args.repeats = 4, 12, 4, 2025, 1
    programme(args.scenario, args.draws, args.months, args.budget)
    command(args.scenario, args.command_draws, args.until, args.budget, args.repeats)


if __name__ == "__main__":
    main()
