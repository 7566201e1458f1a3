"""Paired timing for the benchmarks: both sides in one process, alternating, warmed alike.

Each side runs once cold (the first call, which a command-line user gets: imports, fresh memory
pages, caches), then ``repeats`` more times, the two sides alternating and their order swapped on
every round, so that load from other jobs on the machine falls on both sides alike. Reported: the
cold run, and the min, median and max of the warm runs; ratios are of the medians, with the range
of the per-round ratios.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timing:
    """Wall times of one side: the first (cold) run and the warm repeats, in seconds."""

    cold: float = 0.0
    warm: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median of the warm runs."""
        return statistics.median(self.warm)

    def row(self) -> str:
        """``cold  min  median  max`` in seconds, fixed width."""
        return f"{self.cold:>9.3f}{min(self.warm):>9.3f}{self.median:>9.3f}{max(self.warm):>9.3f}"


HEADER = f"{'cold s':>9}{'min s':>9}{'median s':>9}{'max s':>9}"


def timed(fn: Callable[[], object]) -> float:
    """Wall time of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def paired(sides: dict[str, Callable[[], object]], repeats: int) -> dict[str, Timing]:
    """Time every side cold once, then ``repeats`` warm rounds, alternating the order.

    Parameters
    ----------
    sides
        Label and a zero-argument callable, for each side (two or more).
    repeats
        Warm rounds (at least 3 for an honest median).

    Returns
    -------
    dict
        A :class:`Timing` for each label.
    """
    out = {label: Timing() for label in sides}
    for label, fn in sides.items():
        out[label].cold = timed(fn)
    order = list(sides)
    for round_ in range(repeats):
        for label in order if round_ % 2 == 0 else order[::-1]:
            out[label].warm.append(timed(sides[label]))
    return out


def ratio(num: Timing, den: Timing) -> str:
    """``num / den`` of the medians, with the range of the per-round ratios."""
    rounds = [a / b for a, b in zip(num.warm, den.warm, strict=True)]
    return f"{num.median / den.median:.2f}x (rounds {min(rounds):.2f}-{max(rounds):.2f}x)"
