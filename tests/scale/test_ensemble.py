"""Chunked ensembles in this process: chunk invariance, the summary, streaming to the store."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
import xarray as xr
from typer.testing import CliRunner

from rareflow.analysis import ensemble
from rareflow.analysis.ensemble import (
    Keep,
    chunk_indices,
    run_chunk,
    run_ensemble,
)
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import DRAW_SCALARS, draw_scalars, sector_summary
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import InputError
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_ensemble


def _collect(sc: Scenario, ds: Dataset, chunk: int, keep: Keep) -> tuple[xr.Dataset, xr.Dataset]:
    parts: list[xr.Dataset] = []
    result = run_ensemble(sc, dataset=ds, chunk=chunk, keep=keep, sink=parts.append)
    kept = xr.concat(parts, "draw", data_vars="minimal", coords="minimal", compat="identical")
    return result.scalars, kept


def test_chunk_indices_cover_every_draw_once() -> None:
    chunks = chunk_indices(35, 5)
    assert len(chunks) == 7
    np.testing.assert_array_equal(np.concatenate(chunks), np.arange(35))
    assert [len(c) for c in chunk_indices(10, 4)] == [4, 4, 2]
    with pytest.raises(InputError, match="at least 1"):
        chunk_indices(10, 0)


def test_full_results_do_not_depend_on_chunks(scenario: Scenario, dataset: Dataset) -> None:
    whole = run(scenario, dataset=dataset).results
    for chunk in (35, 5):
        scalars, kept = _collect(scenario, dataset, chunk, Keep.FULL)
        xr.testing.assert_identical(kept, whole)
        np.testing.assert_array_equal(
            scalars["lever_cost_usd"], whole["lever_cost"].sum(["time", "lever", "component"])
        )
    # A chunk of one draw (numpy reduces a length-1 axis differently) gives the same bits.
    for d in (0, 34):
        alone = run_chunk(scenario, np.array([d]), Keep.FULL, dataset)
        xr.testing.assert_identical(alone.kept, whole.isel(draw=[d]))
        xr.testing.assert_identical(alone.scalars, scalars.isel(draw=[d]))


@pytest.mark.parametrize("design", ["random", "lhs", "sobol"])
def test_summary_scalars_do_not_depend_on_chunks(
    scenario: Scenario, dataset: Dataset, design: str
) -> None:
    # 32 draws: a power of 2 keeps Sobol' points balanced; chunks of 5 make 7 chunks.
    sc = with_overrides(scenario, sampling=design, draws=32)
    one, kept_one = _collect(sc, dataset, sc.draws, Keep.SUMMARY)
    seven, kept_seven = _collect(sc, dataset, 5, Keep.SUMMARY)
    xr.testing.assert_identical(one, seven)
    xr.testing.assert_identical(kept_one, kept_seven)
    # Per-sector scalars equal those of the whole run, computed in one go.
    values = sector_values(dataset, sc.country)
    whole = draw_scalars(run(sc, dataset=dataset).results, sc.step_months, values)
    xr.testing.assert_identical(one.drop_vars("lever_cost_usd"), whole.assign_attrs(one.attrs))


def test_summary_equals_run_summary(scenario: Scenario, dataset: Dataset) -> None:
    result = run_ensemble(scenario, dataset=dataset, chunk=4)
    expected = sector_summary(
        run(scenario, dataset=dataset).results,
        scenario.step_months,
        sector_values(dataset, scenario.country),
    )
    assert json.dumps(result.summary) == json.dumps(expected)
    assert result.chunks == 9
    assert result.lever_cost is not None
    assert result.lever_cost["p5"] <= result.lever_cost["median"] <= result.lever_cost["p95"]


def test_sectors_keep_only_sector_variables(scenario: Scenario, dataset: Dataset) -> None:
    _, kept = _collect(scenario, dataset, 5, Keep.SECTORS)
    assert set(kept.data_vars) == {"requirement", "demand", "delivered", "shortfall"}
    assert set(kept.dims) == {"draw", "time", "sector"}


@pytest.mark.parametrize("keep", list(Keep))
def test_streamed_run_verifies_and_loads(
    scenario: Scenario, dataset: Dataset, store: RunStore, keep: Keep
) -> None:
    result = store_ensemble(
        scenario, store, scenario_given="test", dataset=dataset, chunk=5, keep=keep
    )
    assert result.run_id is not None
    assert store.verify() == []
    info = store.get(result.run_id)
    assert info.record.kind == "ensemble"
    assert info.record.summary["sectors"] == json.loads(json.dumps(result.summary))
    loaded = store.results(result.run_id)
    _, expected = _collect(scenario, dataset, scenario.draws, keep)
    xr.testing.assert_identical(loaded, expected)


def test_failed_ensemble_leaves_no_run(
    scenario: Scenario, dataset: Dataset, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ensemble.run_chunk
    calls = []

    def failing(*args: object, **kwargs: object) -> ensemble.ChunkOutput:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ensemble, "run_chunk", failing)
    with pytest.raises(RuntimeError, match="worker lost"):
        store_ensemble(scenario, store, scenario_given="test", dataset=dataset, chunk=5)
    assert store.list() == []
    assert store.verify() == []


def test_cli_ensemble_prints_and_stores(cli: typer.Typer, tmp_path: object) -> None:
    runner = CliRunner()
    args = ["ensemble", "china-2025-april+stockpile", "--draws", "12", "--seed", "3"]
    result = runner.invoke(
        cli, [*args, "--chunk", "5", "--format", "json", "--store", str(tmp_path), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["draws"] == 12
    assert doc["chunks"] == 3
    assert doc["run_id"]
    assert doc["lever_cost_usd"]["median"] > 0
    assert {s["sector"] for s in doc["sectors"]} >= {"ev_car", "wind"}
    stored = RunStore(tmp_path).get(doc["run_id"])  # type: ignore[arg-type]
    assert stored.variables == [*DRAW_SCALARS, "lever_cost_usd"]

    table = runner.invoke(cli, [*args, "--chunk", "5", "--no-store", "--quiet", "--format", "csv"])
    assert table.exit_code == 0
    header = table.stdout.splitlines()[0].split(",")
    assert header[0] == "sector"
    assert header[-3:] == ["lever_cost_usd_median", "lever_cost_usd_p5", "lever_cost_usd_p95"]


def test_cli_rejects_two_clusters(cli: typer.Typer) -> None:
    args = ["ensemble", "baseline", "--draws", "2", "--no-store", "--local-cluster", "2"]
    result = CliRunner().invoke(cli, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert isinstance(result.exception, InputError)
    assert "not both" in str(result.exception)
