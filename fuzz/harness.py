"""Coverage-guided fuzzing (atheris) of rareflow's YAML and CSV entry points.

Run one target for a while: ``.venv/bin/python fuzz/harness.py scenario -runs=100000
fuzz/corpus/scenario`` (or ``csv``). Any exception other than rareflow's own validation errors is
a finding: atheris stops and writes the input that caused it. The corpus in ``fuzz/corpus`` is
kept small in git: a few valid and invalid seeds per target.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["rareflow"]):
    from rareflow.data.load import RawTable, validate
    from rareflow.data.schema import TABLES_BY_NAME
    from rareflow.errors import RareflowError
    from rareflow.scenario.load import parse_scenario


def scenario(data: bytes) -> None:
    """Parse and validate bytes as a scenario file."""
    text = data.decode("utf-8", errors="replace")
    with contextlib.suppress(RareflowError):
        parse_scenario(text, "fuzz.yaml")


def csv_table(data: bytes) -> None:
    """Parse and validate bytes as the facilities table."""
    text = data.decode("utf-8", errors="replace")
    with contextlib.suppress(RareflowError):
        validate([RawTable(TABLES_BY_NAME["facilities"], "facilities.csv", text)])


TARGETS = {"scenario": scenario, "csv": csv_table}


def main() -> None:
    """Fuzz the target named first on the command line; the rest goes to libFuzzer."""
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: harness.py {{{'|'.join(TARGETS)}}} [libFuzzer options] [corpus dir]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
