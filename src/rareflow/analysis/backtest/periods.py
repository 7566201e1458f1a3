"""Periods of observed series: ``YYYY``, ``YYYY-Hn``, ``YYYY-Qn``, ``YYYY-MM``, or a span of months.

A span ``YYYY-MM..YYYY-MM`` (both ends included) covers what a source reports over months that
are not a calendar half or quarter, e.g. India's fiscal half-year April-September.

An observation covers a span of months; a model path on a monthly grid is compared with it over
the same span (the mean of a price, the sum of a flow).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rareflow.errors import InputError
from rareflow.model.network import FloatArray

_PATTERN = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A span of whole months, ``first`` to ``last`` inclusive (``datetime64[M]``)."""

    first: np.datetime64
    last: np.datetime64
    label: str

    @property
    def months(self) -> int:
        """Number of months covered."""
        return int((self.last - self.first).astype(int)) + 1

    def index(self, grid: np.ndarray) -> np.ndarray:
        """Positions of the span's months on a monthly grid (those the grid holds)."""
        return np.flatnonzero((grid >= self.first) & (grid <= self.last))


def parse_period(text: str, where: str = "period") -> Period:
    """Parse a period label; ``where`` names the field in the error message.

    Raises
    ------
    rareflow.errors.InputError
        If the label is not ``YYYY``, ``YYYY-H1|H2``, ``YYYY-Q1..Q4``, ``YYYY-MM`` or
        ``YYYY-MM..YYYY-MM`` (first month not after the last).
    """
    if ".." in text:
        first_text, _, last_text = text.strip().partition("..")
        begin, end = parse_period(first_text, where), parse_period(last_text, where)
        if begin.months != 1 or end.months != 1 or end.first < begin.first:
            raise InputError(
                f"{where}: '{text}' is not a span of months; expected YYYY-MM..YYYY-MM with the "
                "first month not after the last"
            )
        return Period(begin.first, end.last, text.strip())
    m = _PATTERN.match(text.strip())
    if m is None:
        raise InputError(
            f"{where}: '{text}' is not a period; expected YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or "
            "YYYY-MM..YYYY-MM"
        )
    year, part = m.group(1), m.group(2)
    if part is None:
        first, n = 1, 12
    elif part[0] == "H":
        first, n = 1 + 6 * (int(part[1]) - 1), 6
    elif part[0] == "Q":
        first, n = 1 + 3 * (int(part[1]) - 1), 3
    else:
        first, n = int(part), 1
        if not 1 <= first <= 12:
            raise InputError(f"{where}: '{text}' has no month {first}")
    start = np.datetime64(f"{year}-{first:02d}", "M")
    return Period(start, start + np.timedelta64(n - 1, "M"), text.strip())


def over_period(path: FloatArray, grid: np.ndarray, period: Period, how: str) -> FloatArray:
    """Aggregate a ``(..., T)`` monthly path over a period: ``"mean"`` or ``"sum"``.

    Raises
    ------
    rareflow.errors.InputError
        If the grid does not cover the whole period.
    """
    idx = period.index(grid)
    if len(idx) != period.months:
        raise InputError(
            f"period {period.label} is not inside the model's months {grid[0]}..{grid[-1]}"
        )
    part = path[..., idx]
    return np.asarray(part.mean(axis=-1) if how == "mean" else part.sum(axis=-1))
