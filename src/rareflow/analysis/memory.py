"""How much memory a run needs, how much this machine can give it, and how to fit.

A run of the whole ensemble in one piece (``rareflow run``) holds every variable of every draw,
about 1.5 kB per draw-month on the default chain; the engine's working arrays and the store's
write add about as much again. :func:`plan_run` estimates that before the run starts, from a probe
of two draws, and compares it with the memory this process may use (the machine's available
memory, a cgroup limit, or an address-space limit, whichever is smallest). Above it, the run is
streamed in chunks through the ensemble path, which holds one chunk at a time; if even the
per-draw figures or the stored results cannot fit, the caller refuses with the estimate and a
command that works.
"""

from __future__ import annotations

import math
import os
import resource
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rareflow.analysis.ensemble import DEFAULT_CHUNK
from rareflow.analysis.summary import draw_scalars
from rareflow.data.load import Dataset
from rareflow.engine.run import run
from rareflow.scenario.schema import Scenario

WORKING_FACTOR = 2.0
"""Peak memory of a whole run over the size of its results, measured with ``ru_maxrss`` at 2,000
to 8,000 draws x 36 and 120 months: 1.8-2.4 including the results (engine temporaries, summary,
store write); 2.0 plus :data:`BASE_BYTES` bounds every measurement."""
BASE_BYTES = 400 * 2**20
"""The interpreter, libraries and dataset (about 150 MiB resident), with a margin."""
HEADROOM = 0.8
"""Share of the available memory a run may plan to use."""
STORED_SHARE = 0.5
"""Parquet bytes over in-memory bytes of stored results, an upper bound (measured: 0.2)."""
_UPPER_PER_DRAW_MONTH = 8 * 1024
"""Bytes per draw-month above any chain's results, to skip the probe for small runs."""
_CGROUP = Path("/sys/fs/cgroup")


def available_memory() -> int:
    """Return the bytes this process may still allocate: the least of every limit that applies.

    The machine's available memory (``MemAvailable`` of ``/proc/meminfo``, else the free
    pages), a cgroup v2 ``memory.max`` less the group's current use, and ``RLIMIT_AS`` less this
    process's address space, when set.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    limits = [os.sysconf("SC_AVPHYS_PAGES") * page]
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                limits[0] = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass  # not Linux: the free pages stand
    try:
        cap = (_CGROUP / "memory.max").read_text(encoding="ascii").strip()
        current = (_CGROUP / "memory.current").read_text(encoding="ascii").strip()
        if cap != "max":
            limits.append(int(cap) - int(current))
    except (OSError, ValueError):
        pass  # no cgroup v2 memory controller here
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        statm = Path("/proc/self/statm")
        mapped = int(statm.read_text(encoding="ascii").split()[0]) * page if statm.exists() else 0
        limits.append(soft - mapped)
    return max(0, min(limits))


@dataclass(frozen=True)
class RunPlan:
    """How a run fits in memory.

    Parameters
    ----------
    draws
        The run's draws.
    whole_bytes
        Estimated peak of the run in one piece.
    available_bytes
        What this process may use (:func:`available_memory`).
    stream
        True if the run must be streamed in chunks.
    chunk
        Draws per chunk when streamed.
    results_bytes
        Every variable of every draw, in memory (0 when no probe was needed).
    scalars_bytes
        The per-draw figures a streamed run keeps for its summary (0 likewise).
    """

    draws: int
    whole_bytes: int
    available_bytes: int
    stream: bool
    chunk: int
    results_bytes: int = 0
    scalars_bytes: int = 0

    def fits_streamed(self) -> bool:
        """Whether a streamed run's per-draw figures and one chunk at a time fit."""
        one_chunk = BASE_BYTES + WORKING_FACTOR * self.results_bytes / self.draws * self.chunk
        return self.scalars_bytes + one_chunk <= HEADROOM * self.available_bytes

    def store_fits(self, store_dir: Path) -> tuple[bool, int, int]:
        """Whether the stored results fit on the store's disk: (fits, need, free) in bytes."""
        probe = store_dir.expanduser().absolute()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        need = int(STORED_SHARE * self.results_bytes)
        return need <= free, need, free


def plan_run(scenario: Scenario, dataset: Dataset, available: int | None = None) -> RunPlan:
    """Estimate a whole run's memory and decide whether to stream it.

    Parameters
    ----------
    scenario
        The scenario, with its ``draws``.
    dataset
        The dataset it runs on.
    available
        Bytes available (default: :func:`available_memory`).

    Returns
    -------
    RunPlan
        The estimate and the decision.
    """
    avail = available_memory() if available is None else available
    draws = scenario.draws
    upper = BASE_BYTES + WORKING_FACTOR * draws * scenario.horizon_months * _UPPER_PER_DRAW_MONTH
    if upper <= HEADROOM * avail:
        # Small enough whatever the chain: no probe (it would cost a compile).
        return RunPlan(draws, int(upper), avail, stream=False, chunk=DEFAULT_CHUNK)
    n = min(2, draws)
    probe = run(scenario, dataset=dataset, draws=np.arange(n), check=False)
    per_draw = probe.results.nbytes / n
    whole = BASE_BYTES + WORKING_FACTOR * per_draw * draws
    # A streamed chunk may use half of what is available (the per-draw figures grow meanwhile).
    budget = HEADROOM * avail / 2 - BASE_BYTES
    chunk = max(1, min(DEFAULT_CHUNK, math.floor(budget / (WORKING_FACTOR * per_draw))))
    return RunPlan(
        draws,
        int(whole),
        avail,
        stream=whole > HEADROOM * avail,
        chunk=chunk,
        results_bytes=int(per_draw * draws),
        scalars_bytes=int(draw_scalars(probe.results, scenario.step_months).nbytes / n * draws),
    )


def gib(n: float) -> str:
    """Format bytes as GB with one decimal."""
    return f"{n / 1e9:,.1f} GB"
