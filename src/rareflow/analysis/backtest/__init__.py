"""Backtests: rareflow held against history, one module per episode.

- ``2010`` (:mod:`.episode_2010`): China's export-quota cuts of 2010-2014, the world market
  outside China; the price block is calibrated to it.
- ``2025`` (:mod:`.episode_2025`): China's April 2025 export controls as they reached India, set
  up only from information dated before April 2025; nothing is fitted to it.
"""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from rareflow.analysis.backtest import episode_2010, episode_2025
from rareflow.analysis.backtest.result import BacktestResult
from rareflow.data.load import Dataset
from rareflow.errors import InputError


class Runner(Protocol):
    """An episode's backtest: the dataset in, the comparison out."""

    def __call__(self, ds: Dataset, *, draws: int = ..., seed: int = ...) -> BacktestResult:
        """Run the backtest."""
        ...


class Calibrator(Protocol):
    """An episode's calibration: price_parameters rows for the engine, and the fit's record."""

    def __call__(self, ds: Dataset) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Fit the episode."""
        ...


EPISODES: dict[str, Runner] = {"2010": episode_2010.backtest, "2025": episode_2025.backtest}
CALIBRATIONS: dict[str, Calibrator] = {"2010": episode_2010.calibration_table}


def episode_runner(name: str) -> Runner:
    """Return an episode's backtest function.

    Raises
    ------
    rareflow.errors.InputError
        If there is no such episode.
    """
    if name not in EPISODES:
        raise InputError(f"no backtest episode '{name}'; episodes are: {', '.join(EPISODES)}")
    return EPISODES[name]


def calibrator(name: str) -> Calibrator:
    """Return an episode's calibration function.

    Raises
    ------
    rareflow.errors.InputError
        If the episode does not calibrate anything.
    """
    if name not in CALIBRATIONS:
        raise InputError(
            f"episode '{name}' is not a calibration episode; calibrate on: "
            + ", ".join(CALIBRATIONS)
        )
    return CALIBRATIONS[name]
