"""A million-draw ensemble on a local Dask cluster, keeping the per-draw summary.

Runs ``china-2025-april`` with 1,000,000 draws x 36 months on a ``LocalCluster`` of single-threaded
worker processes, streaming each chunk's per-draw scalars to a run store in a temporary
directory, exactly as ``rareflow ensemble --keep summary --local-cluster N`` does. Prints the
wall time, the throughput against a 20,000-draw in-process run measured first in the same run,
and the peak memory of the whole process tree (client and workers, RSS summed, sampled every
0.2 s) against the 4 GB target; then checks the stored run.

Run with ``.venv/bin/python bench/million.py [--draws N] [--workers W] [--chunk C]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from distributed import Client

from rareflow.analysis.ensemble import DEFAULT_CHUNK, Keep, local_cluster, run_ensemble
from rareflow.data.load import load_dataset
from rareflow.engine.run import with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_ensemble
from scaling import TreeMemory

TARGET_BYTES = 4 * 10**9
BASELINE_DRAWS = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    args = parser.parse_args()

    sc = with_overrides(load_scenario(args.scenario), draws=args.draws)
    dataset = load_dataset()
    months = sc.horizon_months

    # Baseline: the same engine in this process on a slice of the ensemble's draws.
    t0 = time.perf_counter()
    base_draws = min(BASELINE_DRAWS, args.draws)
    run_ensemble(with_overrides(sc, draws=base_draws), dataset=dataset, chunk=args.chunk)
    base_rate = base_draws * months / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "store")
        with TreeMemory() as mem:
            t0 = time.perf_counter()
            with local_cluster(args.workers) as cl, Client(cl) as client:
                started = time.perf_counter()
                result = store_ensemble(
                    sc,
                    store,
                    scenario_given=f"preset {args.scenario}",
                    dataset=dataset,
                    chunk=args.chunk,
                    keep=Keep.SUMMARY,
                    client=client,
                )
                wall = time.perf_counter() - started
            total = time.perf_counter() - t0
        problems = store.verify()
        assert result.run_id is not None
        stored = store.results(result.run_id)
        files = sum(f.size for f in store.get(result.run_id).files)

    rate = args.draws * months / wall
    ev = next(s for s in result.summary if s["sector"] == "ev_car")["cumulative_shortfall_pct"]
    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {months} months on a LocalCluster of "
        f"{args.workers} workers, {result.chunks} chunks of <= {args.chunk:,} draws, keep summary"
    )
    print(
        f"ensemble wall {wall:.1f} s ({total:.1f} s with cluster start and stop); "
        f"{rate:,.0f} draw-months/s = {rate / base_rate:.2f}x the in-process rate "
        f"({base_rate:,.0f} draw-months/s on {base_draws:,} draws)"
    )
    print(
        f"peak memory of the process tree {mem.peak / 2**30:.2f} GiB "
        f"= {mem.peak / TARGET_BYTES:.2f} of the 4 GB target "
        f"(client at start {mem.baseline / 2**20:,.0f} MiB)"
    )
    print(
        f"stored: {stored.sizes['draw']:,} draws x {stored.sizes['sector']} sectors of per-draw "
        f"scalars, {files / 2**20:,.0f} MiB of Parquet; verify: "
        f"{problems or 'ok'}"
    )
    print(
        f"ev_car cumulative shortfall: {ev['median']:.2f}% [{ev['p5']:.2f}..{ev['p95']:.2f}] "
        "(median [5th..95th])"
    )


if __name__ == "__main__":
    main()
