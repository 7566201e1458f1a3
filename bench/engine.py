"""Engine benchmark: 10,000 draws x 120 months on India's default chain.

Prints the vectorised engine's wall time (untraced: the first run, which also pays for fresh
memory pages, and the best of two), its peak traced memory (a separate, traced run), and its
speed per draw-month against the reference stepper measured in the same run on a subset of
draws. Run with ``.venv/bin/python bench/engine.py [--scenario S] [--draws N] [--months M]``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from rareflow.engine.core import simulate
from rareflow.engine.reference import simulate_reference
from rareflow.engine.run import with_overrides
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--reference-draws", type=int, default=20)
    args = parser.parse_args()

    scenario = with_overrides(
        load_scenario(args.scenario), draws=args.draws, horizon_months=args.months
    )
    t0 = time.perf_counter()
    net = compile_scenario(scenario).network
    compile_s = time.perf_counter() - t0
    draw_months = args.draws * args.months

    rows = []
    for check in (False, True):
        # Timed without tracing (tracemalloc slows every numpy allocation), best of two so the
        # first run's fresh pages do not count against either setting.
        walls = []
        for _ in range(2):
            t0 = time.perf_counter()
            simulate(net, check=check, keep_partners=False)
            walls.append(time.perf_counter() - t0)
        first, wall = walls[0], min(walls)
        tracemalloc.start()
        simulate(net, check=check, keep_partners=False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append((check, first, wall, peak))

    sub = net.take_draws(0, args.reference_draws)
    ref_per = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        for d in range(args.reference_draws):
            simulate_reference(sub, d)
        ref_per = min(ref_per, (time.perf_counter() - t0) / (args.reference_draws * args.months))

    t0 = time.perf_counter()
    simulate(sub, check=False, keep_partners=False)
    small_per = (time.perf_counter() - t0) / (args.reference_draws * args.months)

    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {args.months} months "
        f"({draw_months:,} draw-months); compile {compile_s:.2f} s"
    )
    print(
        f"reference stepper: {ref_per * 1e6:.1f} us per draw-month "
        f"(on {args.reference_draws} draws)"
    )
    print(
        f"{'mass balance':<14}{'first s':>9}{'best s':>9}{'peak MiB':>10}{'KiB/draw':>10}"
        f"{'us/draw-month':>15}{'speed-up':>10}"
    )
    for check, first, wall, peak in rows:
        per = wall / draw_months
        print(
            f"{'checked' if check else 'off':<14}{first:>9.2f}{wall:>9.2f}"
            f"{peak / 2**20:>10.0f}{peak / 1024 / args.draws:>10.1f}{per * 1e6:>15.2f}"
            f"{ref_per / per:>9.0f}x"
        )
    print(
        f"vectorised on the reference's {args.reference_draws} draws: "
        f"{small_per * 1e6:.1f} us per draw-month ({ref_per / small_per:.0f}x)"
    )
    print(
        f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
        f"numpy {np.__version__}"
    )


if __name__ == "__main__":
    main()
