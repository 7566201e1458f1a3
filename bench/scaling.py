"""Ensemble scaling benchmark: in-process against a local Dask cluster of 1 and 2 workers.

Runs the same ensemble (default 20,000 draws x 36 months of ``china-2025-april``, keeping the
per-draw summary) in this process and on ``LocalCluster``s of 1 and 2 single-threaded worker
processes, and prints each one's throughput in draw-months per second, its speed-up over the
in-process run, the peak memory of the whole process tree (client and workers, sampled every
0.2 s; the largest over the runs) and the engine's memory per draw in one chunk (traced
allocations plus the engine's records, which are mapped directly). The per-draw scalars of
every mode must be bit-identical. Both clusters are started first (start-up is not timed) and
every side first runs a small warm-up ensemble, so that every process has imported rareflow;
then the three sides alternate (see ``paired.py``): the first (cold) full run of each, then
``--repeats`` warm rounds, reported as min, median and max, the speed-ups of the medians with
the range of the per-round ratios. The load average is printed (the machine is shared).

Run with ``.venv/bin/python bench/scaling.py [--draws N] [--months M] [--chunk C] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import tracemalloc
from collections.abc import Callable
from types import TracebackType

import numpy as np
import psutil
import xarray as xr
from distributed import Client

from paired import HEADER, paired
from rareflow.analysis.ensemble import Keep, local_cluster, run_chunk, run_ensemble
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.core import Trajectory, simulate
from rareflow.engine.run import with_overrides
from rareflow.model.state import declared
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

SAMPLE_S = 0.2


class TreeMemory:
    """Peak of the summed RSS of this process and all its descendants, sampled by a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self.baseline = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now() -> int:
        me = psutil.Process(os.getpid())
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue  # a worker that exited between listing and reading
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> TreeMemory:
        self.peak = self.now()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def records_per_draw(sc: Scenario, dataset: Dataset, keep: Keep) -> float:
    """Bytes of the engine's records for one draw (mapped directly, so not traced)."""
    net = compile_scenario(with_overrides(sc, draws=1), None, dataset).network
    traj = simulate(net, check=False, keep_partners=keep is Keep.FULL)
    return float(
        sum(getattr(traj, n).nbytes for n in declared(Trajectory) if getattr(traj, n) is not None)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start_load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())

    sc = with_overrides(load_scenario(args.scenario), draws=args.draws, horizon_months=args.months)
    dataset = load_dataset()
    draw_months = args.draws * args.months

    # Engine memory per draw: one chunk, traced, as a worker runs it (summary kept; full kept),
    # plus the engine's records, which are mapped directly (tracemalloc does not see them).
    per_draw = {}
    run_chunk(sc, np.arange(2), Keep.FULL, dataset)  # one-off caches are not a draw's memory
    for keep in (Keep.SUMMARY, Keep.FULL):
        tracemalloc.start()
        run_chunk(sc, np.arange(args.chunk), keep, dataset)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        per_draw[keep] = peak / args.chunk + records_per_draw(sc, dataset, keep)

    scalars: dict[str, xr.Dataset] = {}
    peaks: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        clients: dict[str, Client | None] = {"in-process": None}
        for workers in (1, 2):
            cluster = stack.enter_context(local_cluster(workers))
            label = f"LocalCluster {workers} worker{'s' if workers > 1 else ''}"
            clients[label] = stack.enter_context(Client(cluster))
        # Warm every side alike: the same small ensemble first (imports in every process).
        for client in clients.values():
            run_ensemble(with_overrides(sc, draws=4), dataset=dataset, client=client)

        def side(label: str) -> Callable[[], None]:
            def once() -> None:
                with TreeMemory() as mem:
                    result = run_ensemble(
                        sc, dataset=dataset, chunk=args.chunk, client=clients[label]
                    )
                peaks[label] = max(peaks.get(label, 0), mem.peak)
                scalars[label] = result.scalars

            return once

        times = paired({label: side(label) for label in clients}, args.repeats)

    first = scalars["in-process"]
    for other in scalars.values():
        xr.testing.assert_identical(other, first)
    base = times["in-process"]
    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {args.months} months "
        f"({draw_months:,} draw-months), chunks of {args.chunk:,} draws, keep summary; "
        f"{psutil.cpu_count()} CPUs; {args.repeats} warm rounds, alternating; load average "
        f"{start_load} at start, " + "{:.2f} {:.2f} {:.2f} at end".format(*os.getloadavg())
    )
    print(
        f"engine memory per draw in a chunk: {per_draw[Keep.SUMMARY] / 1024:.1f} KiB "
        f"(keep summary), {per_draw[Keep.FULL] / 1024:.1f} KiB (keep full)"
    )
    print(
        f"{'mode':<22}{HEADER}{'draw-months/s':>15}{'speed-up (rounds)':>22}{'peak tree MiB':>15}"
    )
    for label, timing in times.items():
        rounds = [b / t for b, t in zip(base.warm, timing.warm, strict=True)]
        print(
            f"{label:<22}{timing.row()}{draw_months / timing.median:>15,.0f}"
            f"{base.median / timing.median:>9.2f}x ({min(rounds):.2f}-{max(rounds):.2f}x)"
            f"{peaks[label] / 2**20:>15,.0f}"
        )
    print("per-draw results identical in every mode: yes")


if __name__ == "__main__":
    main()
