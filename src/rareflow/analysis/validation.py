"""``rareflow validate``: every episode scored against what happened, beside a naive rival.

- **2025** (:mod:`.backtest.validate_2025`): both presets, the out-of-sample
  ``backtest-2025-april`` and the hindsight ``china-2025-april``, against observed retail,
  wind additions and magnet trade; onset, trough, depth and recovery with a verdict, and skill
  against *no disruption* and the *share rule*.
- **2010** (:mod:`.backtest.validate_2010`): fitted on prices up to June 2011 and scored on the
  later ones (and leaving one year out), with the optional cited blocks, against persistence.

**Stored scores.** The quick run's errors (lower is better) are kept in
``analysis/validation_scores.json``. ``rareflow validate --quick`` fails when a score is worse
than stored, or a stored score is gone, unless the file is rewritten in the same change with
``rareflow validate --quick --update-scores``, so that every change of a score is recorded in
the history of that file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from rareflow.analysis.backtest import validate_2010, validate_2025
from rareflow.data.load import Dataset
from rareflow.errors import InputError

SCORES_FILE = "validation_scores.json"
TOLERANCE = 1e-3
"""A score is worse when it exceeds the stored one by more than this, relative (plus 1e-6)."""


@dataclass(frozen=True)
class Settings:
    """How much to run: the quick run is what CI checks against the stored scores."""

    draws: int
    seed: int
    starts: int
    leave_one_out: bool

    @property
    def label(self) -> str:
        """Describe the settings in words."""
        return (
            f"{self.draws} draws (seed {self.seed}); 2010 fits from {self.starts} starting "
            f"points{', leaving one year out as well' if self.leave_one_out else ''}"
        )


QUICK = Settings(draws=200, seed=1, starts=2, leave_one_out=False)
FULL = Settings(draws=1000, seed=1, starts=8, leave_one_out=True)


@dataclass
class Validation:
    """Every episode's scorecard."""

    settings: Settings
    data_version: str
    cards: list[validate_2025.Scorecard]
    episode_2010: validate_2010.Result2010
    observed: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def scores(self) -> dict[str, float]:
        """Errors to keep from getting worse, by key (lower is better)."""
        out: dict[str, float] = {}
        for card in self.cards:
            for s in card.skill:
                if s.rival == "no disruption":
                    out[f"2025/{card.preset}/{s.series}/{s.subject}/mean_abs_error"] = round(
                        s.model_error, 4
                    )
        for e in self.episode_2010.errors:
            out[f"2010/{e['variant']}/test/mean_abs_log"] = e["test"]["mean_abs_log"]
            if "leave_one_year_out" in e:
                out[f"2010/{e['variant']}/leave_one_year_out/mean_abs_log"] = e[
                    "leave_one_year_out"
                ]["mean_abs_log"]
        return out

    def document(self) -> dict[str, Any]:
        """Return everything as JSON-serialisable data."""
        return {
            "settings": self.settings.label,
            "data_version": self.data_version,
            "episode_2025": [
                {
                    "preset": c.preset,
                    "scorecard": [r.row() for r in c.rows],
                    "skill": [s.row() for s in c.skill],
                    "paths": c.paths,
                    "notes": c.notes,
                }
                for c in self.cards
            ],
            "episode_2010": {
                "errors": self.episode_2010.errors,
                "scorecard": [r.row() for r in self.episode_2010.rows],
                "skill": [s.row() for s in self.episode_2010.skill],
                "paths": self.episode_2010.paths,
                "notes": self.episode_2010.notes,
            },
            "scores": self.scores(),
            "notes": self.notes,
        }


def validate(ds: Dataset, settings: Settings = FULL) -> Validation:
    """Run and score every episode."""
    cards = [
        validate_2025.scorecard(ds, preset, draws=settings.draws, seed=settings.seed)
        for preset in validate_2025.PRESETS
    ]
    result_2010 = validate_2010.validate_2010(
        ds, starts=settings.starts, leave_one_out=settings.leave_one_out
    )
    return Validation(
        settings,
        ds.version,
        cards,
        result_2010,
        validate_2025.observed_table(ds),
        [
            "nothing scored here set a parameter: the 2025 observations have role 'observed', "
            "and the 2010 test prices are never seen by a fit",
            f"run: {settings.label}; data version {ds.version}",
        ],
    )


def stored_scores(path: Path | None = None) -> dict[str, Any]:
    """Read the stored scores (the embedded file unless a path is given).

    Raises
    ------
    rareflow.errors.InputError
        If the file is missing or not the expected JSON.
    """
    try:
        if path is None:
            text = resources.files("rareflow.analysis").joinpath(SCORES_FILE).read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the stored scores ({path or SCORES_FILE}): {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("scores"), dict):
        raise InputError(f"{path or SCORES_FILE}: expected an object with a 'scores' object")
    return data


@dataclass(frozen=True)
class Comparison:
    """Current scores against the stored ones."""

    worse: list[str]
    gone: list[str]
    better: list[str]
    new: list[str]

    @property
    def ok(self) -> bool:
        """No score worse and none gone."""
        return not self.worse and not self.gone


def compare(current: dict[str, float], stored: dict[str, float]) -> Comparison:
    """Compare scores key by key (lower is better)."""
    worse, better = [], []
    for key, value in stored.items():
        if key not in current:
            continue
        now = current[key]
        if now > value * (1 + TOLERANCE) + 1e-6:
            worse.append(f"{key}: {value:g} -> {now:g}")
        elif now < value * (1 - TOLERANCE) - 1e-6:
            better.append(f"{key}: {value:g} -> {now:g}")
    return Comparison(
        worse,
        sorted(set(stored) - set(current)),
        better,
        sorted(set(current) - set(stored)),
    )


def scores_file_text(result: Validation) -> str:
    """Return the stored-scores file for a quick run's result."""
    return (
        json.dumps(
            {
                "about": "Errors of `rareflow validate --quick` (lower is better). Rewrite with "
                "`rareflow validate --quick --update-scores` in the change that moves them.",
                "settings": result.settings.label,
                "data_version": result.data_version,
                "scores": result.scores(),
            },
            indent=2,
            sort_keys=False,
        )
        + "\n"
    )


def scores_path() -> Path:
    """Where the embedded stored scores live in the source tree."""
    return Path(str(resources.files("rareflow.analysis").joinpath(SCORES_FILE)))
