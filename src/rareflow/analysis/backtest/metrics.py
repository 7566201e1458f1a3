"""Episode metrics, computed alike on model paths and on observed points.

A model path is monthly, so its metrics are exact months; observations are sparse points
(a month, a quarter, a year), so theirs are intervals: the onset happened after the last point
below the threshold and by the first point above it. An error is 0 when the model falls inside
the observed interval, else the signed distance to the nearer end.

- **onset**: the first month a price multiple exceeds ``threshold`` times its pre-episode level;
- **peak**: the month and height of the highest multiple;
- **recovery**: months from the peak until the multiple is back ``level`` of the way to the
  pre-episode price (``level = 0.5``: half-way back), a definition of rareflow's (prices of
  2010-2014 never came back to 2009 levels within the episode).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rareflow.analysis.backtest.periods import Period
from rareflow.model.network import FloatArray

ONSET_THRESHOLD = 1.5
RECOVERY_LEVEL = 0.5


@dataclass(frozen=True)
class Point:
    """An observed value over a period, with its source."""

    period: Period
    value: float
    source_id: str
    note: str


@dataclass(frozen=True)
class Interval:
    """An observed metric known to lie between ``low`` and ``high`` (equal when exact)."""

    low: float
    high: float

    def error(self, model: float) -> float:
        """0 inside the interval, else model minus the nearer end."""
        if np.isnan(model):
            return float("nan")
        if model < self.low:
            return model - self.low
        if model > self.high:
            return model - self.high
        return 0.0

    def text(self, fmt: str = "{:.0f}") -> str:
        """Return the interval for display."""
        if self.low == self.high:
            return fmt.format(self.low)
        return f"{fmt.format(self.low)}..{fmt.format(self.high)}"


def month_number(month: np.datetime64) -> int:
    """Months since 1970-01, so that differences of months are plain integers."""
    return int(month.astype("datetime64[M]").astype(np.int64))


def model_onset(multiple: FloatArray, threshold: float = ONSET_THRESHOLD) -> FloatArray:
    """(D,) first month index where ``multiple`` (D, T) exceeds the threshold; NaN if never."""
    above = multiple > threshold
    first = above.argmax(axis=1).astype(np.float64)
    return np.where(above.any(axis=1), first, np.nan)


def model_peak(multiple: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(D,) month index and height of the highest multiple."""
    idx = multiple.argmax(axis=1)
    return idx.astype(np.float64), np.take_along_axis(multiple, idx[:, None], axis=1)[:, 0]


def model_recovery(multiple: FloatArray, level: float = RECOVERY_LEVEL) -> FloatArray:
    """(D,) months from the peak until back ``level`` of the way to 1; NaN if not in the path."""
    idx, height = model_peak(multiple)
    target = height - level * (height - 1.0)
    t = np.arange(multiple.shape[1])[None, :]
    back = (multiple <= target[:, None]) & (t > idx[:, None])
    first = back.argmax(axis=1).astype(np.float64)
    return np.where(back.any(axis=1), first - idx, np.nan)


def _ordered(points: Sequence[Point]) -> list[Point]:
    return sorted(points, key=lambda p: (p.period.last, p.period.first))


def observed_onset(
    points: Sequence[Point], base: float, threshold: float = ONSET_THRESHOLD
) -> Interval | None:
    """Month numbers between which the observed price first exceeded the threshold."""
    pts = _ordered(points)
    for i, p in enumerate(pts):
        if p.value > threshold * base:
            low = (
                month_number(pts[i - 1].period.last) + 1 if i > 0 else month_number(p.period.first)
            )
            return Interval(low, month_number(p.period.last))
    return None


def observed_peak(points: Sequence[Point]) -> tuple[Point, Interval]:
    """Return the highest observed point and its months (month numbers)."""
    top = max(points, key=lambda p: p.value)
    return top, Interval(month_number(top.period.first), month_number(top.period.last))


def observed_recovery(
    points: Sequence[Point], base: float, level: float = RECOVERY_LEVEL
) -> Interval | None:
    """Months from the observed peak by which the price was back ``level`` of the way."""
    top, _ = observed_peak(points)
    target = top.value - level * (top.value - base)
    peak_month = month_number(top.period.last)
    after = [p for p in _ordered(points) if month_number(p.period.first) > peak_month]
    previous = peak_month
    for p in after:
        if p.value <= target:
            return Interval(previous + 1 - peak_month, month_number(p.period.last) - peak_month)
        previous = month_number(p.period.last)
    return None
