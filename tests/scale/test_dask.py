"""Ensembles and sweeps on a local Dask cluster (2 worker processes) give the same bits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import xarray as xr
from distributed import Client
from typer.testing import CliRunner

from rareflow.analysis.ensemble import Keep, run_ensemble
from rareflow.analysis.sweep import Setting, grid, run_sweep
from rareflow.data.load import Dataset
from rareflow.engine.run import run
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_ensemble


def _kept(
    sc: Scenario, ds: Dataset, chunk: int, keep: Keep, client: Client | None
) -> tuple[xr.Dataset, xr.Dataset, int]:
    parts: list[xr.Dataset] = []
    result = run_ensemble(sc, dataset=ds, chunk=chunk, keep=keep, client=client, sink=parts.append)
    kept = xr.concat(parts, "draw", data_vars="minimal", coords="minimal", compat="identical")
    return result.scalars, kept, result.chunks


@pytest.mark.parametrize("keep", [Keep.FULL, Keep.SUMMARY])
def test_one_chunk_seven_chunks_and_two_workers_are_identical(
    scenario: Scenario, dataset: Dataset, client: Client, keep: Keep
) -> None:
    one = _kept(scenario, dataset, scenario.draws, keep, None)
    seven = _kept(scenario, dataset, 5, keep, None)
    workers = _kept(scenario, dataset, 5, keep, client)
    assert (one[2], seven[2], workers[2]) == (1, 7, 7)
    for other in (seven, workers):
        xr.testing.assert_identical(other[0], one[0])
        xr.testing.assert_identical(other[1], one[1])
    if keep is Keep.FULL:
        xr.testing.assert_identical(one[1], run(scenario, dataset=dataset).results)


def test_streamed_cluster_run_verifies_and_loads(
    scenario: Scenario, dataset: Dataset, client: Client, store: RunStore
) -> None:
    # Small chunks on 2 workers finish out of order; the store still gets them in draw order.
    result = store_ensemble(
        scenario,
        store,
        scenario_given="test",
        dataset=dataset,
        chunk=3,
        keep=Keep.SECTORS,
        client=client,
    )
    assert result.chunks == 12
    assert store.verify() == []
    assert result.run_id is not None
    loaded = store.results(result.run_id)
    expected = run(scenario, dataset=dataset).results
    xr.testing.assert_identical(
        loaded, expected[["requirement", "demand", "delivered", "shortfall"]]
    )


def test_sweep_on_cluster_equals_sweep_here(
    scenario: Scenario, dataset: Dataset, client: Client
) -> None:
    points = grid(scenario, [Setting("parameters.restock_months", (0.1, 0.6))])
    here = run_sweep(points, dataset=dataset, chunk=10)
    there = run_sweep(points, dataset=dataset, chunk=10, client=client)
    for a, b in zip(here, there, strict=True):
        assert a.values == b.values
        xr.testing.assert_identical(a.result.scalars, b.result.scalars)
        assert json.dumps(a.result.summary) == json.dumps(b.result.summary)


@pytest.mark.slow
def test_cli_local_cluster(cli: typer.Typer, tmp_path: Path) -> None:
    args = ["ensemble", "china-2025-april", "--draws", "20", "--local-cluster", "2", "--quiet"]
    options = ["--keep", "full", "--format", "json", "--store", str(tmp_path)]
    result = CliRunner().invoke(cli, [*args, *options])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    store = RunStore(tmp_path)
    assert store.verify() == []
    loaded = store.results(doc["run_id"])
    assert loaded.sizes["draw"] == 20
    assert "shipped" in loaded
