"""What a backtest returns: fitted parameters, metric comparisons and series, model beside data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Comparison:
    """One metric, model beside observation.

    Parameters
    ----------
    subject
        What is measured, e.g. ``Nd oxide price``.
    metric
        ``onset``, ``peak month``, ``peak height``, ``recovery``, ...
    unit
        Unit of the values and the error (``month``, ``months``, ``usd_per_kg``, ...).
    observed
        The observation as text (a month, a value, or an interval ``a..b``).
    model
        The model's central value (the fitted parameters), as text.
    model_range
        The 5th..95th percentile over the ensemble of parameter sets, as text.
    error
        Model minus observation (0 inside an observed interval), in ``unit``; NaN if either is
        missing.
    prior_error
        The same error with the dataset's own price parameters (before calibration), if shown.
    sources
        Source ids of the observation.
    note
        How the observation was read.
    """

    subject: str
    metric: str
    unit: str
    observed: str
    model: str
    model_range: str
    error: float
    prior_error: float | None
    sources: tuple[str, ...]
    note: str = ""

    def row(self) -> dict[str, Any]:
        """Return the comparison as a flat row (table and JSON output)."""
        return {
            "subject": self.subject,
            "metric": self.metric,
            "unit": self.unit,
            "observed": self.observed,
            "model": self.model,
            "model_5_95": self.model_range,
            "error": None if np.isnan(self.error) else round(float(self.error), 3),
            "error_before_calibration": (
                None
                if self.prior_error is None or np.isnan(self.prior_error)
                else round(float(self.prior_error), 3)
            ),
            "sources": ", ".join(self.sources),
            "note": self.note,
        }


@dataclass(frozen=True)
class BacktestResult:
    """A backtest: what it was set up from, what was fitted, and how the model compares.

    Parameters
    ----------
    episode
        Episode id (``2010``, ``2025``).
    title
        One line.
    comparisons
        Metric comparisons.
    series
        One row per observation or model month shown (long form).
    fitted
        Fitted parameters with their 90% intervals (empty for an out-of-sample episode).
    fit_errors
        Fit error by series (empty for an out-of-sample episode).
    notes
        What the run was set up from and what it leaves out.
    monthly
        Model paths by month for plots: columns ``month``, ``subject``, ``unit``, ``central``,
        ``p05``, ``p95``.
    series_title
        Heading of ``series`` in printed output.
    """

    episode: str
    title: str
    comparisons: list[Comparison]
    series: pd.DataFrame
    fitted: list[dict[str, Any]] = field(default_factory=list)
    fit_errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)
    series_title: str = "Observations beside the model, period by period"

    def document(self) -> dict[str, Any]:
        """Return the whole result as JSON-serialisable data."""
        return {
            "episode": self.episode,
            "title": self.title,
            "comparisons": [c.row() for c in self.comparisons],
            "fitted": self.fitted,
            "fit_errors": self.fit_errors,
            "series": _records(self.series),
            "monthly": _records(self.monthly),
            "notes": self.notes,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()}
        for rec in frame.to_dict("records")
    ]


def spread_text(values: np.ndarray, fmt: str = "{:.0f}") -> str:
    """5th..95th percentile of values as text, NaN-aware ('never' when all are NaN)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "never"
    lo, hi = np.percentile(finite, [5, 95])
    text = f"{fmt.format(lo)}..{fmt.format(hi)}"
    if finite.size < values.size:
        text += f" ({values.size - finite.size} of {values.size} never)"
    return text
