"""Start-up and latency benchmark: whole ``rareflow`` commands against a bare Python start.

Each command runs as a user runs it, in a fresh process (``python -m rareflow ...``), with the
store in a temporary directory; the commands and ``python -c pass`` alternate round by round (see
``paired.py``), so load from other jobs falls on all alike. The first (cold) run of each is shown
beside the warm ones (the operating system's file cache is warm after it).

Goals: ``--version`` and ``--help`` under 0.25 s, ``scenario list`` under 0.5 s, ``run
china-2025-april --draws 1000`` (store included) under 2.5 s. Run with
``.venv/bin/python bench/startup.py [--draws N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from paired import HEADER, paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RAREFLOW_STORE": tmp}
        rareflow = [sys.executable, "-m", "rareflow"]
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "rareflow --version": ([*rareflow, "--version"], 0.25),
            "rareflow --help": ([*rareflow, "--help"], 0.25),
            "rareflow scenario list": ([*rareflow, "scenario", "list"], 0.5),
            f"rareflow run china-2025-april --draws {args.draws}": (
                [*rareflow, "run", "china-2025-april", "--draws", str(args.draws), "--quiet"],
                2.5 if args.draws == 1000 else None,
            ),
        }

        def launcher(argv: list[str]) -> object:
            return lambda: subprocess.run(argv, env=env, check=True, capture_output=True)

        times = paired({k: launcher(argv) for k, (argv, _) in commands.items()}, args.repeats)
    bare = times["python -c pass"].median
    print(f"{'command':<46}{HEADER}{'x bare':>9}{'goal s':>8}")
    for label, timing in times.items():
        goal = commands[label][1]
        verdict = "" if goal is None else f"{goal:>8.2f}" + (" met" if timing.median < goal else "")
        print(f"{label:<46}{timing.row()}{timing.median / bare:>8.0f}x{verdict}")


if __name__ == "__main__":
    main()
