"""Recompute a stored run from its recorded inputs and say whether the results are identical.

A run records its resolved scenario (every default filled in, seed included), the data version
and the code version. Rerunning parses that scenario, runs it on the current dataset and code,
and compares every stored variable value for value (NaN equal to NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import run
from rareflow.errors import StoreError
from rareflow.scenario.load import parse_scenario
from rareflow.store.runstore import RunStore


@dataclass(frozen=True)
class RerunReport:
    """The outcome of a rerun.

    Parameters
    ----------
    run_id
        The stored run.
    identical
        Whether every stored variable and coordinate came out the same.
    data_version_stored, data_version_now
        The data versions of the stored run and of this rerun.
    code_version_stored, code_version_now
        Likewise for the code.
    differences
        One line per variable that differs, with the largest absolute difference.
    """

    run_id: str
    identical: bool
    data_version_stored: str
    data_version_now: str
    code_version_stored: str
    code_version_now: str
    differences: list[str] = field(default_factory=list)


def rerun(store: RunStore, run_id: str, dataset: Dataset | None = None) -> RerunReport:
    """Recompute a stored run of kind ``run`` and compare it with what was stored.

    Raises
    ------
    rareflow.errors.StoreError
        If the run is unknown or of a kind that cannot be rerun this way.
    """
    info = store.get(run_id)
    record = info.record
    if record.kind != "run":
        raise StoreError(
            f"run {run_id} is of kind '{record.kind}'; only runs made by `rareflow run` can be "
            "rerun this way"
        )
    scenario = parse_scenario(record.scenario_resolved, f"run {run_id} (resolved scenario)")
    ds = dataset if dataset is not None else load_dataset(calibration=record.calibration)
    fresh = run(scenario, dataset=ds, keep_partners="shipped" in info.variables).results
    stored = store.results(run_id)
    differences = []
    for name in stored.data_vars:
        if name not in fresh:
            differences.append(f"{name}: not produced by the current code")
            continue
        old, new = stored[name], fresh[name].transpose(*stored[name].dims)
        if old.shape != new.shape:
            differences.append(f"{name}: shape {old.shape} now {new.shape}")
        elif not np.array_equal(old.to_numpy(), new.to_numpy(), equal_nan=True):
            gap = float(np.nanmax(np.abs(old.to_numpy() - new.to_numpy())))
            differences.append(f"{name}: values differ, largest absolute difference {gap:.3g}")
    differences.extend(
        f"coordinate {name}: labels differ"
        for name in stored.coords
        if name in fresh.coords
        and not np.array_equal(stored[name].to_numpy(), fresh[name].to_numpy())
    )
    return RerunReport(
        run_id=run_id,
        identical=not differences,
        data_version_stored=record.data_version,
        data_version_now=ds.version,
        code_version_stored=record.code_version,
        code_version_now=fresh.attrs.get("code_version", ""),
        differences=differences,
    )
