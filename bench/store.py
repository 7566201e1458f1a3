"""Store benchmark: saving a run against computing it, and against a plain Parquet write.

Runs ``china-2025-april`` (default 10,000 draws x 120 months, every variable kept, checks on, as
``rareflow run`` does), then times, paired in this process (see ``paired.py``):

- compute: ``engine.run.run`` of the scenario;
- store: ``RunStore.save`` of its results, as ``rareflow run`` calls it: long-form Parquet with
  a column per dimension, fsync, SHA-256 of every file, catalogue transaction (the run is deleted
  again, untimed, after each save);
- plain: ``pyarrow.parquet.write_table`` of the same arrays, one file per variable holding only
  its values (no dimension columns, no fsync, no checksum): the disk-speed floor.

Goal: store at most half of compute. Run with
``.venv/bin/python bench/store.py [--draws N] [--months M] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from paired import HEADER, paired, ratio
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario, preset_text
from rareflow.store import RunStore
from rareflow.store.records import record_of_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    sc = with_overrides(load_scenario(args.scenario), draws=args.draws, horizon_months=args.months)
    dataset = load_dataset()
    result = run(sc, dataset=dataset)
    results = result.results
    record = record_of_run(result, preset_text(args.scenario))
    arrays = {
        str(name): np.ascontiguousarray(var.values).reshape(-1)
        for name, var in results.variables.items()
    }

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "store")
        plain_dir = Path(tmp) / "plain"
        plain_dir.mkdir()
        saved: list[str] = []

        def compute() -> None:
            run(sc, dataset=dataset)

        def save() -> None:
            while saved:
                store.delete(saved.pop())
            saved.append(store.save(record, results))

        def plain() -> None:
            for i, values in enumerate(arrays.values()):
                pq.write_table(pa.table({"value": values}), plain_dir / f"{i}.parquet")

        times = paired({"compute": compute, "store": save, "plain": plain}, args.repeats)
        stored = sum(f.size for f in store.get(saved[0]).files)
        problems = store.verify()
    values = sum(a.nbytes for a in arrays.values())
    print(
        f"scenario {args.scenario}: {args.draws:,} draws x {args.months} months, "
        f"{len(results.data_vars)} variables, {values / 2**20:,.0f} MiB of values, "
        f"{stored / 2**20:,.0f} MiB stored; verify: {problems or 'ok'}"
    )
    print(f"{'side':<10}{HEADER}")
    for label, timing in times.items():
        print(f"{label:<10}{timing.row()}")
    print(f"store / compute: {ratio(times['store'], times['compute'])} (goal <= 0.5)")
    print(f"store / plain write_table: {ratio(times['store'], times['plain'])}")


if __name__ == "__main__":
    main()
