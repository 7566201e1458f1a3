"""The run store: every saved run, its record and its results, kept so that they can be cited.

A catalogue in DuckDB lists the runs; each run's results are Parquet files, one per variable, with
checksums recorded at save time. Writes are atomic (a run is visible only once complete) and safe
across processes.
"""

from __future__ import annotations

from rareflow.store.records import (
    RUN_ID_PATTERN,
    RunInfo,
    RunRecord,
    StoredFile,
    StoreProblem,
    check_run_id,
)
from rareflow.store.runstore import STORE_ENV, RunStore, RunWriter, default_store_path

__all__ = [
    "RUN_ID_PATTERN",
    "STORE_ENV",
    "RunInfo",
    "RunRecord",
    "RunStore",
    "RunWriter",
    "StoreProblem",
    "StoredFile",
    "check_run_id",
    "default_store_path",
]
