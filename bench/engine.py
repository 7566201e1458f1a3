"""Engine benchmark: 10,000 draws x 120 months on India's default chain, paired with the reference.

Headlines the mode a user gets: mass-balance checks on and partner records kept (``rareflow
run``'s default); the mode without either is shown beside it. The vectorised engine (all draws)
and the reference stepper (``--reference-draws`` draws, one at a time) are timed alternately in
this process (see ``paired.py``): the first (cold) run of each, then ``--repeats`` warm rounds;
speed-ups are per draw-month, of the medians, with the range over rounds. Also printed: the
engine's peak traced memory (a separate, traced run). Run with
``.venv/bin/python bench/engine.py [--scenario S] [--draws N] [--months M] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import resource
import tracemalloc

import numpy as np

from paired import HEADER, paired
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
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    scenario = with_overrides(
        load_scenario(args.scenario), draws=args.draws, horizon_months=args.months
    )
    net = compile_scenario(scenario).network
    sub = net.take_draws(0, args.reference_draws)
    draw_months = args.draws * args.months
    ref_draw_months = args.reference_draws * args.months

    def reference() -> None:
        for d in range(args.reference_draws):
            simulate_reference(sub, d)

    sides = {
        "default (checked, partners)": lambda: simulate(net),
        "no checks, no partners": lambda: simulate(net, check=False, keep_partners=False),
        "reference stepper": reference,
    }
    times = paired(sides, args.repeats)
    tracemalloc.start()
    simulate(net)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ref = times["reference stepper"]
    ref_per = [t / ref_draw_months for t in ref.warm]
    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {args.months} months "
        f"({draw_months:,} draw-months); reference on {args.reference_draws} draws; "
        f"{args.repeats} warm rounds; numpy {np.__version__}"
    )
    print(f"{'side':<30}{HEADER}{'us/draw-month':>15}{'x reference':>13}  (rounds)")
    for label, timing in times.items():
        size = ref_draw_months if label == "reference stepper" else draw_months
        per = [t / size for t in timing.warm]
        ratios = [r / p for r, p in zip(ref_per, per, strict=True)]
        print(
            f"{label:<30}{timing.row()}{timing.median / size * 1e6:>15.2f}"
            f"{ref.median / ref_draw_months / (timing.median / size):>12.0f}x"
            f"  ({min(ratios):.0f}-{max(ratios):.0f}x)"
        )
    print(
        f"default mode: peak traced memory {peak / 2**20:,.0f} MiB "
        f"({peak / 1024 / args.draws:.1f} KiB/draw); process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
