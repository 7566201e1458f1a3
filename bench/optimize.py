"""Policy-mix LP benchmark: 1,000 sampled scenarios x 60 months on India's default chain.

Builds the LP's data from engine runs (``build_problem``: one baseline run and one run per
option), then times the linopy model build and the HiGHS solve separately, for the CVaR95 and
expected-loss objectives, and prints the LP's size. Target: build and solve under 60 s on 2
cores. Run with ``.venv/bin/python bench/optimize.py [--scenario S] [--draws N] [--until Y]``.
"""

from __future__ import annotations

import argparse
import os
import time

from rareflow import dims
from rareflow.analysis.optimize import (
    WEIGHT_CLASS,
    build_problem,
    default_options,
    horizon_months,
    solve,
)
from rareflow.data.load import load_dataset
from rareflow.engine.run import with_overrides
from rareflow.model.network import COMMODITY_IDS, MAGNETS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-october")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--until", type=int, default=2029, help="2029 from 2025-01: 60 months")
    parser.add_argument("--budget", type=float, default=5000.0)
    args = parser.parse_args()

    ds = load_dataset()
    base = load_scenario(args.scenario)
    sc = with_overrides(base, draws=args.draws, horizon_months=horizon_months(base, args.until))
    probe = compile_scenario(with_overrides(sc, draws=1), None, ds).network
    per_month = float(probe.requirement0[:, [COMMODITY_IDS.index(m) for m in MAGNETS]].sum())
    options = default_options(sc, per_month / sc.step_months)

    t0 = time.perf_counter()
    problem = build_problem(sc, ds, options, {})
    data_s = time.perf_counter() - t0
    size = problem.baseline.sizes
    print(
        f"{args.scenario}: {size[dims.DRAW]:,} scenarios x {size[dims.TIME]} months, "
        f"{len(options)} levers, {size[WEIGHT_CLASS]} weight class(es); "
        f"{os.cpu_count()} cores"
    )
    print(f"LP data from engine runs ({len(options) + 1} runs): {data_s:.2f} s")
    print(
        f"{'objective':<10} {'build (s)':>10} {'solve (s)':>10} {'total (s)':>10} {'risk (t)':>10}"
    )
    for name, alpha in (("cvar95", 0.95), ("expected", None)):
        sol = solve(problem, args.budget, alpha)
        total = sol.build_seconds + sol.solve_seconds
        print(
            f"{name:<10} {sol.build_seconds:>10.2f} {sol.solve_seconds:>10.2f} "
            f"{total:>10.2f} {sol.risk:>10.1f}"
        )


if __name__ == "__main__":
    main()
