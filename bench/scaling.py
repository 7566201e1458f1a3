"""Ensemble scaling benchmark: in-process against a local Dask cluster of 1 and 2 workers.

Runs the same ensemble (default 20,000 draws x 36 months of ``china-2025-april``, keeping the
per-draw summary) in this process and on ``LocalCluster``s of 1 and 2 single-threaded worker
processes, and prints each one's throughput in draw-months per second, its speed-up over the
in-process run measured in the same run, the peak memory of the whole process tree (client and
workers, sampled every 0.2 s) and the engine's memory per draw in one chunk. The per-draw scalars
of every mode must be bit-identical. Cluster start-up is not timed; each side (in-process too)
first runs a small warm-up ensemble, so that every process has imported rareflow.

Run with ``.venv/bin/python bench/scaling.py [--draws N] [--months M] [--chunk C]``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import tracemalloc
from types import TracebackType

import numpy as np
import psutil
import xarray as xr
from distributed import Client

from rareflow.analysis.ensemble import Keep, local_cluster, run_chunk, run_ensemble
from rareflow.data.load import load_dataset
from rareflow.engine.run import with_overrides
from rareflow.scenario.load import load_scenario

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--chunk", type=int, default=5_000)
    args = parser.parse_args()

    sc = with_overrides(load_scenario(args.scenario), draws=args.draws, horizon_months=args.months)
    dataset = load_dataset()
    draw_months = args.draws * args.months

    # Engine memory per draw: one chunk, traced, as a worker runs it (summary kept; full kept).
    per_draw = {}
    for keep in (Keep.SUMMARY, Keep.FULL):
        tracemalloc.start()
        run_chunk(sc, np.arange(args.chunk), keep, dataset)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        per_draw[keep] = peak / args.chunk

    rows = []
    scalars: dict[str, xr.Dataset] = {}
    # Warm the in-process side as each cluster is warmed below: the same small ensemble first.
    run_ensemble(with_overrides(sc, draws=2), dataset=dataset)
    with TreeMemory() as mem:
        t0 = time.perf_counter()
        result = run_ensemble(sc, dataset=dataset, chunk=args.chunk)
        rows.append(("in-process", time.perf_counter() - t0, mem))
    scalars["in-process"] = result.scalars
    for workers in (1, 2):
        with local_cluster(workers) as cl, Client(cl) as client:
            run_ensemble(with_overrides(sc, draws=2 * workers), dataset=dataset, client=client)
            with TreeMemory() as mem:
                t0 = time.perf_counter()
                result = run_ensemble(sc, dataset=dataset, chunk=args.chunk, client=client)
                label = f"LocalCluster {workers} worker{'s' if workers > 1 else ''}"
                rows.append((label, time.perf_counter() - t0, mem))
            scalars[label] = result.scalars

    first = scalars["in-process"]
    for other in scalars.values():
        xr.testing.assert_identical(other, first)
    base = rows[0][1]
    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {args.months} months "
        f"({draw_months:,} draw-months), chunks of {args.chunk:,} draws, keep summary; "
        f"{psutil.cpu_count()} CPUs"
    )
    print(
        f"engine memory per draw in a chunk: {per_draw[Keep.SUMMARY] / 1024:.1f} KiB "
        f"(keep summary), {per_draw[Keep.FULL] / 1024:.1f} KiB (keep full)"
    )
    print(f"{'mode':<22}{'wall s':>9}{'draw-months/s':>15}{'speed-up':>10}{'peak tree MiB':>15}")
    for label, wall, m in rows:
        print(
            f"{label:<22}{wall:>9.2f}{draw_months / wall:>15,.0f}{base / wall:>9.2f}x"
            f"{m.peak / 2**20:>15,.0f}"
        )
    print("per-draw results identical in every mode: yes")


if __name__ == "__main__":
    main()
