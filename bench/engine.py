"""Engine benchmark: 10,000 draws x 120 months under China's April 2025 controls, paired.

Headlines the mode a user gets: mass-balance checks on and partner records kept (``rareflow
run``'s default); the mode without either is shown beside it. The vectorised engine (all draws),
the reference stepper (``--reference-draws`` draws, one at a time) and a NumPy copy (the
machine's memory bandwidth) are timed alternately in this process (see ``paired.py``): the first
(cold) run of each, then ``--repeats`` warm rounds; speed-ups are per draw-month, of the medians,
with the range of the per-round ratios.

The limit: the engine writes its records (every variable, draw and month) once. Printed: the
bytes it writes per draw-month; its achieved bandwidth (those bytes over its time); the
machine's (bytes written per second by ``np.copyto`` between two arrays already in memory, of
the records' size within 256 MiB-1 GiB); the floor (the records' bytes at the machine's
bandwidth) and the engine's time as a multiple of it. Also printed: the load average (the
machine is shared), the records' size, the peak of the other allocations (``tracemalloc``, in a
separate run: the records are mapped directly, not through NumPy's allocator) and the
process's max RSS. Run with ``.venv/bin/python bench/engine.py [--scenario S] [--draws N]
[--months M] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tracemalloc

import numpy as np

from paired import HEADER, paired
from rareflow.engine.core import Trajectory, simulate
from rareflow.engine.reference import simulate_reference
from rareflow.engine.run import with_overrides
from rareflow.model.network import Network
from rareflow.model.state import declared
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario

GIB = 2**30


def written_bytes(traj: Trajectory, net: Network) -> int:
    """Bytes of the records a run writes (the stockpile's stay untouched zeros without one)."""
    has_pile = bool((net.stockpile_target > 0).any() or (net.stockpile0 > 0).any())
    total = 0
    for name in declared(Trajectory):
        value = getattr(traj, name)
        if value is not None and (has_pile or not name.startswith("stockpile")):
            total += int(value.nbytes)
    return total


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--reference-draws", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start_load = load()

    scenario = with_overrides(
        load_scenario(args.scenario), draws=args.draws, horizon_months=args.months
    )
    net = compile_scenario(scenario).network
    sub = net.take_draws(0, args.reference_draws)
    draw_months = args.draws * args.months
    ref_draw_months = args.reference_draws * args.months
    written = written_bytes(simulate(net.take_draws(0, 1), check=False), net) * args.draws

    # The machine's bandwidth: a copy of the records' size (at least 256 MiB, beyond the caches;
    # at most 1 GiB) between two arrays already in memory, timed in the same rounds as the engine.
    copy_n = min(max(written, GIB // 4), GIB) // 8
    buffers = [np.full(copy_n, 1.0), np.full(copy_n, 0.0)]  # both in memory already

    def reference() -> None:
        for d in range(args.reference_draws):
            simulate_reference(sub, d)

    default = "default (checked, partners)"
    sides = {
        default: lambda: simulate(net),
        "no checks, no partners": lambda: simulate(net, check=False, keep_partners=False),
        "reference stepper": reference,
        "numpy copy": lambda: np.copyto(buffers[1], buffers[0]),
    }
    times = paired(sides, args.repeats)
    buffers.clear()
    tracemalloc.start()
    simulate(net)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ref = times["reference stepper"]
    ref_per = [t / ref_draw_months for t in ref.warm]
    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {args.months} months "
        f"({draw_months:,} draw-months); reference on {args.reference_draws} draws; "
        f"{args.repeats} warm rounds; numpy {np.__version__}; {start_load} at start, "
        f"{load()} at end"
    )
    print(f"{'side':<30}{HEADER}{'us/draw-month':>15}{'x reference':>13}  (rounds)")
    for label, timing in times.items():
        if label == "numpy copy":
            continue
        size = ref_draw_months if label == "reference stepper" else draw_months
        per = [t / size for t in timing.warm]
        ratios = [r / p for r, p in zip(ref_per, per, strict=True)]
        print(
            f"{label:<30}{timing.row()}{timing.median / size * 1e6:>15.2f}"
            f"{ref.median / ref_draw_months / (timing.median / size):>12.0f}x"
            f"  ({min(ratios):.0f}-{max(ratios):.0f}x)"
        )
    copy = times["numpy copy"]
    print(f"{'numpy copy':<30}{copy.row()}  ({copy_n * 8 / 2**20:,.0f} MiB written per run)")

    # The limit, for the default mode: its bytes at the machine's bandwidth, round by round.
    engine = times[default]
    machine = [copy_n * 8 / t for t in copy.warm]  # bytes per second
    floors = [written / bw for bw in machine]
    above = [e / f for e, f in zip(engine.warm, floors, strict=True)]
    median_floor = written / (copy_n * 8 / copy.median)
    print(
        f"default mode: writes {written / draw_months:,.0f} bytes per draw-month "
        f"({written / 2**20:,.0f} MiB in all); achieved {written / engine.median / 1e9:.2f} GB/s; "
        f"machine {copy_n * 8 / copy.median / 1e9:.2f} GB/s (numpy copy); floor "
        f"{median_floor:.3f} s; engine {engine.median / median_floor:.1f}x the floor "
        f"(rounds {min(above):.1f}-{max(above):.1f}x)"
    )
    print(
        f"default mode: records {written / 2**20:,.0f} MiB; peak of other traced allocations "
        f"{peak / 2**20:,.0f} MiB ({peak / 1024 / args.draws:.1f} KiB/draw); process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
