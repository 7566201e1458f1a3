"""rareflow's own errors.

Every error meant for a user names where the problem is (file, row, column or field) and what was
expected, so that the CLI can print it without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class RareflowError(Exception):
    """Base class of every error rareflow raises on bad input."""

    def user_message(self) -> str:
        """Return the message to show a user (no traceback)."""
        return str(self)


@dataclass(frozen=True)
class Problem:
    """One problem in one place of an input.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        The file's name, if the input is a file.
    row
        1-based line number in the file (the header of a CSV is line 1).
    column
        Column or field name.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class DataError(RareflowError):
    """Invalid data in a dataset table or a user data file: one or more problems."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.user_message())

    def user_message(self) -> str:
        """Return every problem on its own line."""
        n = len(self.problems)
        head = f"invalid data ({n} problem{'s' if n != 1 else ''}):"
        shown = [f"  - {p}" for p in self.problems[:50]]
        if n > 50:
            shown.append(f"  ... and {n - 50} more")
        return "\n".join([head, *shown])


class ScenarioError(RareflowError):
    """Invalid scenario: the message names the file, field and what was expected."""


class StoreError(RareflowError):
    """A run-store problem: missing run, unreadable store, unsafe path."""


class InputError(RareflowError):
    """Invalid user input that is neither data nor a scenario (CLI arguments, JSON inputs)."""


def display_path(path: Path | str) -> str:
    """Return a short, stable name for a file in messages."""
    return Path(path).name


class SolverError(RareflowError):
    """The LP solver stopped without an answer (neither an optimum nor a proven infeasibility).

    Shared by every use of HiGHS (:mod:`rareflow.solver`): the stress test and the policy-mix
    optimiser.
    """
