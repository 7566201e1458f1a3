"""Recompute a stored run from its recorded inputs and say whether the results are identical.

A run records its resolved scenario (every default filled in, seed included), the data version,
the calibration and user data directory it overlaid, and the code version. Rerunning parses that
scenario, runs it again on the same overlays with the current dataset and code, and compares
every stored variable value for value (NaN equal to NaN).

Every kind of run that rareflow stores can be rerun (:data:`RERUNNABLE`): ``run``, ``ensemble``
and ``sweep`` (each sweep point is a run of its own), ``sensitivity`` and ``optimize`` (from the
settings kept in their summary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import xarray as xr

from rareflow.analysis.ensemble import Keep, run_ensemble
from rareflow.analysis.optimize import optimise, parse_risk
from rareflow.analysis.sensitivity import Method, analyse, scenario_model
from rareflow.data.load import Dataset, load_dataset
from rareflow.dims import DRAW
from rareflow.engine.run import run
from rareflow.errors import StoreError
from rareflow.provenance import code_version
from rareflow.scenario.load import parse_scenario
from rareflow.scenario.schema import Scenario
from rareflow.store.records import RunInfo
from rareflow.store.runstore import RunStore


@dataclass(frozen=True)
class RerunReport:
    """The outcome of a rerun.

    Parameters
    ----------
    run_id
        The stored run.
    kind
        The run's kind.
    identical
        Whether every stored variable and coordinate came out the same.
    data_version_stored, data_version_now
        The data versions of the stored run and of this rerun.
    code_version_stored, code_version_now
        Likewise for the code.
    data_dir
        The user data directory the rerun overlaid, if any.
    differences
        One line per variable that differs, with the largest absolute difference.
    """

    run_id: str
    kind: str
    identical: bool
    data_version_stored: str
    data_version_now: str
    code_version_stored: str
    code_version_now: str
    data_dir: str | None = None
    differences: list[str] = field(default_factory=list)


def _run(info: RunInfo, sc: Scenario, ds: Dataset) -> xr.Dataset:
    return run(sc, dataset=ds, keep_partners="shipped" in info.variables).results


def _ensemble(info: RunInfo, sc: Scenario, ds: Dataset) -> xr.Dataset:
    summary = cast(Mapping[str, Any], info.record.summary)
    chunks: list[xr.Dataset] = []
    # A draw's results do not depend on the chunking, so any chunk size reproduces the run.
    keep = Keep(summary.get("keep", Keep.SUMMARY.value))
    run_ensemble(sc, dataset=ds, keep=keep, sink=chunks.append)
    if len(chunks) == 1:
        return chunks[0]
    return xr.concat(chunks, dim=DRAW, data_vars="minimal", coords="minimal", compat="override")


def _sensitivity(info: RunInfo, sc: Scenario, ds: Dataset) -> xr.Dataset:
    summary = cast(Mapping[str, Any], info.record.summary)
    model = scenario_model(sc, ds, outputs=(str(summary["output"]),))
    method = cast(Method, summary["method"])
    return analyse(model, method, samples=int(summary["samples"]), seed=sc.seed).to_dataset()


def _optimize(info: RunInfo, sc: Scenario, ds: Dataset) -> xr.Dataset:
    summary = cast(Mapping[str, Any], info.record.summary)
    decision = optimise(
        sc,
        ds,
        budget=float(summary["budget_inr_crore"]),
        alpha=parse_risk(str(summary["risk"])),
        until=int(summary["until"]),
        draws=int(summary["draws"]),
        validation_seed=int(summary["seed_out_of_sample"]),
        weights={str(k): float(v) for k, v in dict(summary.get("weights") or {}).items()},
    )
    return decision.to_dataset()


_RECOMPUTE: dict[str, Callable[[RunInfo, Scenario, Dataset], xr.Dataset]] = {
    "run": _run,
    "ensemble": _ensemble,
    "sweep": _ensemble,
    "sensitivity": _sensitivity,
    "optimize": _optimize,
}
RERUNNABLE = tuple(_RECOMPUTE)
"""The kinds of run that :func:`rerun` recomputes."""


def recorded_dataset(info: RunInfo, data_dir: Path | None = None) -> Dataset:
    """Load the dataset a run was made with: its calibration and user data directory.

    Parameters
    ----------
    info
        The stored run.
    data_dir
        Another copy of its user data directory, to read instead of the recorded one.

    Raises
    ------
    rareflow.errors.StoreError
        If the recorded user data directory is gone and no other was given.
    """
    record = info.record
    chosen = data_dir if data_dir is not None else record.data_dir
    if data_dir is None and chosen is not None and not Path(chosen).is_dir():
        raise StoreError(
            f"run {info.id} was made with the user data in {chosen}, which is no longer a "
            "directory; give the tables' new place with --data DIR"
        )
    return load_dataset(chosen, record.calibration, from_env=False)


def rerun(
    store: RunStore,
    run_id: str,
    dataset: Dataset | None = None,
    *,
    data_dir: Path | None = None,
) -> RerunReport:
    """Recompute a stored run and compare it with what was stored.

    Parameters
    ----------
    store
        The run store.
    run_id
        The run's id.
    dataset
        The dataset to rerun on; by default the one the run recorded (its calibration and
        user data directory, or ``data_dir`` in place of that directory).
    data_dir
        Another copy of the run's user data directory.

    Raises
    ------
    rareflow.errors.StoreError
        If the run is unknown, of a kind that cannot be rerun, or its user data is gone.
    """
    info = store.get(run_id)
    record = info.record
    recompute = _RECOMPUTE.get(record.kind)
    if recompute is None:
        raise StoreError(
            f"run {run_id} is of kind '{record.kind}', which cannot be rerun; the kinds that "
            f"can are: {', '.join(RERUNNABLE)}"
        )
    scenario = parse_scenario(record.scenario_resolved, f"run {run_id} (resolved scenario)")
    ds = dataset if dataset is not None else recorded_dataset(info, data_dir)
    fresh = recompute(info, scenario, ds)
    found = differences(store.results(run_id), fresh)
    return RerunReport(
        run_id=run_id,
        kind=record.kind,
        identical=not found,
        data_version_stored=record.data_version,
        data_version_now=ds.version,
        code_version_stored=record.code_version,
        code_version_now=code_version(),
        data_dir=str(ds.user_dir) if ds.user_dir is not None else None,
        differences=found,
    )


def differences(stored: xr.Dataset, fresh: xr.Dataset) -> list[str]:
    """Return one line per stored variable or coordinate that ``fresh`` does not reproduce."""
    found = []
    for name in stored.data_vars:
        if name not in fresh:
            found.append(f"{name}: not produced by the current code")
            continue
        old, new = stored[name], fresh[name].transpose(*stored[name].dims)
        if old.shape != new.shape:
            found.append(f"{name}: shape {old.shape} now {new.shape}")
            continue
        a, b = old.to_numpy(), new.to_numpy()
        numeric = a.dtype.kind in "biuf" and b.dtype.kind in "biuf"
        if not np.array_equal(a, b, equal_nan=numeric):
            if numeric:
                gap = float(np.nanmax(np.abs(a.astype(float) - b.astype(float))))
                found.append(f"{name}: values differ, largest absolute difference {gap:.3g}")
            else:
                found.append(f"{name}: values differ")
    found.extend(
        f"coordinate {name}: labels differ"
        for name in stored.coords
        if name in fresh.coords
        and (
            stored[name].shape != fresh[name].shape
            or not np.array_equal(stored[name].to_numpy(), fresh[name].to_numpy())
        )
    )
    return found
