"""Dashboard latency: what a click on Run computes, against the same work done one after another.

A click runs the scenario, its baseline (and, with levers, the shock alone), saves the run and
draws the report (:func:`rareflow.app.compute.compute`, which overlaps them). The serial side does
the same steps in a row, as the dashboard did before; both sides alternate (see ``paired.py``), so
load from other jobs falls on both alike. Also printed: the CPU time of one click, which load
from other jobs inflates less than wall time.

Goal: 1,000 draws of ``china-2025-april`` from click to results under 3 s (the page adds its own
rendering). Run with ``.venv/bin/python bench/dashboard.py [--draws N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from paired import HEADER, paired
from rareflow.app.compute import compute
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.report.build import build_report
from rareflow.report.source import baseline_for, from_result, shock_alone_for
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore
from rareflow.store.records import record_of_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="china-2025-april")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ds = load_dataset()
    sc = with_overrides(load_scenario(args.scenario), draws=args.draws, seed=1)

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)

        def serial() -> None:
            result = run(sc, dataset=ds)
            run_id = store.save(record_of_run(result, "", None), result.results)
            shock = from_result(result, run_id)
            build_report(shock, baseline_for(shock, ds), ds, shock_alone_for(shock, ds))

        def click() -> None:
            compute(sc, "", "bench", dataset=ds, store=store)

        times = paired({"serial (before)": serial, "click (compute)": click}, args.repeats)
        cpu = time.process_time()
        click()
        cpu = time.process_time() - cpu
    print(f"{args.scenario}, {args.draws:,} draws: run, baseline, store and report")
    print(f"{'':22}{HEADER}")
    for label, timing in times.items():
        print(f"{label:22}{timing.row()}")
    ratio = times["serial (before)"].median / times["click (compute)"].median
    print(f"click: {ratio:.2f}x faster than serial (medians); CPU time of one click {cpu:.2f} s")


if __name__ == "__main__":
    main()
