"""Scoring a model against what happened: loss metrics, plain verdicts and skill against rivals.

An episode's outcome is read as a **loss**: the share of what would have been made, sold or
shipped without the shock that was not, month by month (0 = no loss). The model's loss is
its shortfall share (or the fall of a flow against its pre-shock level); the observed loss is
read from cited series (:mod:`rareflow.analysis.backtest.validate_2025`).

Metrics of a monthly loss path, computed alike for every draw of the model and for the sparse
observations (whose months are intervals where months are missing):

- **onset**: the first month the loss exceeds :data:`LOSS_THRESHOLD`;
- **trough**: the month of the largest loss (the trough of output);
- **depth**: the largest loss, in percent;
- **recovery**: the first month after the trough when the loss is back under the threshold.

A **verdict** says whether the observation falls inside the model's 5th-95th percentile band,
and if not by how much. **Skill** against a naive rival is ``(E_rival - E_model) /
max(E_rival, E_model)`` with ``E`` the mean absolute error over the scored points: +1 the model
is exact and the rival not, 0 they tie, -1 the rival is exact and the model not (a bounded form
of the usual ``1 - E_model / E_rival``, which is undefined when the rival is exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rareflow.analysis.backtest.metrics import Interval, month_number
from rareflow.analysis.backtest.periods import Period
from rareflow.model.network import FloatArray

LOSS_THRESHOLD = 0.05
"""A loss above 5% counts as a disruption (rareflow's definition; the noise of monthly retail
against the year before is of that order in quiet months)."""
WIDE_BAND = 50.0
"""A band wider than this (in the value's unit, points of % for losses) is called uninformative."""


@dataclass(frozen=True)
class LossPoint:
    """An observed loss over a period.

    Parameters
    ----------
    period
        The months it covers.
    loss
        Share lost, 0..1.
    detail
        How it was read (the figures and the ratio), for the scorecard.
    sources
        Source ids of the figures.
    """

    period: Period
    loss: float
    detail: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ScoreRow:
    """One metric of one series, model (median and band) beside the observation, and a verdict."""

    episode: str
    preset: str
    series: str
    subject: str
    metric: str
    unit: str
    observed: str
    model: str
    band: str
    verdict: str
    error: float
    sources: tuple[str, ...]
    note: str = ""

    def row(self) -> dict[str, Any]:
        """Return the row for tables and JSON."""
        return {
            "episode": self.episode,
            "preset": self.preset,
            "series": self.series,
            "subject": self.subject,
            "metric": self.metric,
            "unit": self.unit,
            "observed": self.observed,
            "model": self.model,
            "model_5_95": self.band,
            "verdict": self.verdict,
            "error": None if np.isnan(self.error) else round(float(self.error), 2),
            "sources": ", ".join(self.sources),
            "note": self.note,
        }


@dataclass(frozen=True)
class SkillRow:
    """The model's error and a rival's on the same points, and the skill."""

    episode: str
    preset: str
    series: str
    subject: str
    points: int
    unit: str
    model_error: float
    rival: str
    rival_error: float

    @property
    def skill(self) -> float:
        """Bounded skill in [-1, 1] (see the module docstring); 0 when both are exact."""
        worst = max(self.model_error, self.rival_error)
        if worst == 0:
            return 0.0
        return (self.rival_error - self.model_error) / worst

    def row(self) -> dict[str, Any]:
        """Return the row for tables and JSON."""
        return {
            "episode": self.episode,
            "preset": self.preset,
            "series": self.series,
            "subject": self.subject,
            "points": self.points,
            "unit": self.unit,
            "model_error": round(self.model_error, 3),
            "rival": self.rival,
            "rival_error": round(self.rival_error, 3),
            "skill": round(self.skill, 3),
            "beats_rival": bool(self.skill > 0),
        }


def first_above(loss: FloatArray, threshold: float = LOSS_THRESHOLD) -> FloatArray:
    """(D,) first month index where the (D, T) loss exceeds the threshold; NaN if never."""
    above = loss > threshold
    return np.where(above.any(axis=1), above.argmax(axis=1).astype(np.float64), np.nan)


def trough(loss: FloatArray, threshold: float = LOSS_THRESHOLD) -> tuple[FloatArray, FloatArray]:
    """(D,) month index of the largest loss (NaN if it never exceeds the threshold) and depth."""
    depth = loss.max(axis=1)
    idx = loss.argmax(axis=1).astype(np.float64)
    return np.where(depth > threshold, idx, np.nan), depth


def recovery(loss: FloatArray, threshold: float = LOSS_THRESHOLD) -> FloatArray:
    """(D,) first month index after the trough with the loss back under the threshold."""
    idx, _ = trough(loss, threshold)
    t = np.arange(loss.shape[1])[None, :]
    start = np.nan_to_num(idx, nan=np.inf)[:, None]
    back = (loss <= threshold) & (t > start)
    return np.where(back.any(axis=1), back.argmax(axis=1).astype(np.float64), np.nan)


@dataclass(frozen=True)
class ObservedPath:
    """Metrics of a sparse monthly observed loss: month intervals (month numbers) or None."""

    onset: Interval | None
    trough: Interval | None
    depth: float
    recovery: Interval | None
    last: int
    months: int


def observed_path(points: Sequence[LossPoint], start: np.datetime64) -> ObservedPath:
    """Onset, trough, depth and recovery of single-month observed losses from ``start`` on.

    Where months are missing the onset is known only to lie after the last month observed
    below the threshold (or ``start``) and by the first above it; likewise the recovery.
    """
    pts = sorted((p for p in points if p.period.months == 1), key=lambda p: p.period.first)
    first_month = month_number(start)
    onset = trough_at = back = None
    previous = first_month - 1
    for p in pts:
        m = month_number(p.period.first)
        if onset is None and p.loss > LOSS_THRESHOLD:
            onset = Interval(previous + 1, m)
        previous = m
    depth = max((p.loss for p in pts), default=float("nan"))
    if pts and depth > LOSS_THRESHOLD:
        top = max(pts, key=lambda p: p.loss)
        t_month = month_number(top.period.first)
        trough_at = Interval(t_month, t_month)
        previous = t_month
        for p in pts:
            m = month_number(p.period.first)
            if m <= t_month:
                continue
            if p.loss <= LOSS_THRESHOLD:
                back = Interval(previous + 1, m)
                break
            previous = m
    last = month_number(pts[-1].period.first) if pts else first_month
    return ObservedPath(onset, trough_at, depth, back, last, len(pts))


def month_text(number: float) -> str:
    """Write a month number as ``YYYY-MM`` (``never`` for NaN)."""
    return "never" if np.isnan(number) else str(np.datetime64(int(number), "M"))


def month_band(numbers: FloatArray) -> tuple[float, float, float, int]:
    """Median, 5th and 95th percentile of month numbers over draws, and how many are NaN.

    The median is NaN when at least half the draws never reach the event.
    """
    finite = numbers[np.isfinite(numbers)]
    never = int(numbers.size - finite.size)
    if finite.size == 0:
        return float("nan"), float("nan"), float("nan"), never
    lo, hi = np.percentile(finite, [5, 95])
    median = float(np.median(finite)) if never * 2 < numbers.size else float("nan")
    return median, float(np.floor(lo)), float(np.ceil(hi)), never


def month_verdict(observed: Interval | None, numbers: FloatArray, last: int) -> tuple[str, float]:
    """Verdict and error (months, model median minus the observation) for a month metric.

    ``observed`` None means the record shows no such month up to ``last``.
    """
    median, lo, hi, never = month_band(numbers)
    share_never = never / numbers.size
    if observed is None:
        if np.isnan(median):
            return "agree: none in the record, none in most draws", 0.0
        if median > last:
            return f"inside: model's month {month_text(median)} is after the record ends", 0.0
        return (
            f"outside: the record shows none by {month_text(last)}; the model has it in "
            f"{100 * (1 - share_never):.0f}% of draws",
            float(last + 1 - median),
        )
    if np.isnan(median) and share_never > 0.95:
        return "outside: observed, but the model never reaches it", float("nan")
    error = observed.error(median) if not np.isnan(median) else float("nan")
    if not np.isnan(lo) and lo <= observed.high and hi >= observed.low:
        return "inside band", error
    gap = observed.low - hi if hi < observed.low else lo - observed.high
    side = "early" if hi < observed.low else "late"
    return f"outside band: model {_months(gap)} {side}", error


def _months(n: float) -> str:
    return f"{n:.0f} month" + ("" if round(n) == 1 else "s")


def value_verdict(observed: float, values: FloatArray, unit: str = "points") -> tuple[str, float]:
    """Verdict and error (median minus observed) for a value against the model's band."""
    lo, median, hi = np.percentile(values, [5, 50, 95])
    error = float(median - observed)
    if lo - 1e-9 <= observed <= hi + 1e-9:
        if hi - lo > WIDE_BAND:
            return f"inside band, but the band spans {hi - lo:.0f} {unit}: it says little", error
        return "inside band", error
    gap = observed - hi if observed > hi else lo - observed
    word = "below" if observed > hi else "above"
    return f"outside band: model {gap:.0f} {unit} {word} the observation", error


def mean_abs_error(model: Sequence[float], observed: Sequence[float]) -> float:
    """Mean absolute error of paired values."""
    return float(np.mean(np.abs(np.asarray(model) - np.asarray(observed))))
