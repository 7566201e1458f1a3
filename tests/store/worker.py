"""Write runs into a store from a separate process, for the concurrency and crash tests.

Usage: ``python worker.py STORE TAG COUNT SIZE``. Run ``k`` gets seed ``k``, and its results are
``expected_results(k, size)``, so a test can check every run it finds. Prints ``ready`` once set up,
then ``saved <run id> <seed>`` after each commit.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xarray as xr

from rareflow.store import RunRecord, RunStore


def expected_results(seed: int, size: int) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "shortfall": (("draw", "time"), rng.random((size, 50)), {"units": "t"}),
            "price": (("draw", "time"), rng.random((size, 50)), {"units": "USD/kg"}),
        },
        coords={
            "draw": np.arange(size),
            "time": np.arange("2030-01", "2034-03", dtype="datetime64[M]").astype("datetime64[ns]"),
        },
        attrs={"seed": seed},
    )


def record(tag: str, seed: int) -> RunRecord:
    now = datetime.now(UTC)
    return RunRecord(
        kind="ensemble",
        name=tag,
        scenario_given="",
        scenario_resolved="",
        data_version="test",
        code_version="test",
        seed=seed,
        started_at=now,
        finished_at=now,
    )


def main() -> None:
    path, tag, count, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = RunStore(path)
    print("ready", flush=True)
    for seed in range(count):
        results = expected_results(seed, size)
        if seed % 2:
            run_id = store.save(record(tag, seed), results)
        else:
            with store.begin_run(record(tag, seed)) as writer:
                for start in range(0, size, max(1, size // 4)):
                    writer.append(results.isel(draw=slice(start, start + max(1, size // 4))))
                run_id = writer.commit()
        # One write per line, so a kill cannot leave half of it in the pipe.
        sys.stdout.write(f"saved {run_id} {seed}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
