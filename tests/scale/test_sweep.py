"""Sweeps: the grid, its validation, and a small sweep run and stored."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rareflow.analysis.ensemble import run_ensemble
from rareflow.analysis.sweep import Setting, grid, parse_setting, run_sweep, sweep_rows
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError, ScenarioError
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_sweep_point


def test_parse_setting() -> None:
    assert parse_setting("levers[0].target_months=1,2,3") == Setting(
        "levers[0].target_months", (1, 2, 3)
    )
    assert parse_setting(" parameters.restock_months = 0.1,0.3") == Setting(
        "parameters.restock_months", (0.1, 0.3)
    )
    assert parse_setting("allocation.rule=proportional").values == ("proportional",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parameters.restock_months", "expected PATH=VALUE"),
        ("=1,2", "expected PATH=VALUE"),
        ("levers[x].target_months=1", "not a scenario path"),
        ("parameters..surge=1", "not a scenario path"),
        ("parameters.restock_months=0.1,,0.3", "empty value"),
    ],
)
def test_bad_settings_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_setting(text)


def test_grid_is_every_combination(scenario: Scenario) -> None:
    settings = [
        parse_setting("levers[0].target_months=1,2,3"),
        parse_setting("parameters.restock_months=0.1,0.3"),
    ]
    points = grid(scenario, settings)
    assert [tuple(p.values.values()) for p in points] == [
        (1, 0.1),
        (1, 0.3),
        (2, 0.1),
        (2, 0.3),
        (3, 0.1),
        (3, 0.3),
    ]
    last = points[-1].scenario
    assert last.levers[0].target_months == 3  # type: ignore[union-attr]
    assert last.parameters.restock_months == 0.3
    assert last.draws == scenario.draws
    assert last.model_dump(exclude={"levers", "parameters"}) == scenario.model_dump(
        exclude={"levers", "parameters"}
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("levers[3].target_months=1", r"'levers' has 1 entries, so there is no \[3\]"),
        ("parameters.surge=0.1", "no field 'surge' in 'parameters'"),
        ("shocks[0].licence[0].nonsense=1", r"no field 'nonsense' in 'shocks\[0\]\.licence\[0\]'"),
        ("draws.total=5", "no field 'total' in 'draws'"),
        ("parameters[0]=1", "'parameters' is not a list"),
        ("parameters.restock_months=-1", r"(?s)--set parameters.restock_months=-1.*restock_months"),
        ("levers[0].target_months=abc", r"(?s)--set levers\[0\].target_months=abc.*target_months"),
    ],
)
def test_bad_paths_and_values_name_the_path(scenario: Scenario, text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        grid(scenario, [parse_setting(text)])


def test_grid_needs_distinct_settings(scenario: Scenario) -> None:
    with pytest.raises(InputError, match="at least one"):
        grid(scenario, [])
    twice = [parse_setting("seed=1"), parse_setting("seed=2")]
    with pytest.raises(InputError, match="more than once"):
        grid(scenario, twice)


def test_sweep_runs_and_stores_every_point(
    scenario: Scenario, dataset: Dataset, store: RunStore
) -> None:
    sc = with_overrides(scenario, draws=12)
    points = grid(sc, [parse_setting("levers[0].target_months=0.5,6")])
    swept = run_sweep(
        points,
        dataset=dataset,
        chunk=5,
        run_point=store_sweep_point(store, scenario_given="test", chunk=5),
    )
    assert store.verify() == []
    for point, done in zip(points, swept, strict=True):
        alone = run_ensemble(point.scenario, dataset=dataset, chunk=12)
        assert json.dumps(done.result.summary) == json.dumps(alone.summary)
        assert done.result.run_id is not None
        record = store.get(done.result.run_id).record
        assert record.kind == "sweep"
        assert record.summary["grid"] == point.values
    rows = sweep_rows(swept)
    sectors = len(swept[0].result.summary)
    assert len(rows) == 2 * sectors
    assert list(rows[0]) == [
        "levers[0].target_months",
        "sector",
        "months short",
        "peak (%)",
        "cumulative (t)",
        "cumulative (%)",
        "lever cost (US$ m)",
    ]
    # A larger stockpile target costs more and leaves less shortfall.
    small, large = rows[0], rows[sectors]
    assert large["lever cost (US$ m)"] > small["lever cost (US$ m)"]
    # Summed over sectors: since the stockpile releases to the groups short of need, a small one
    # can already cover a single sector's median.
    assert sum(r["cumulative (t)"] for r in rows[sectors:]) < sum(
        r["cumulative (t)"] for r in rows[:sectors]
    )


def test_cli_sweep(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["sweep", "china-2025-april+stockpile", "--draws", "6", "--quiet", "--no-store"]
    sets = ["--set", "parameters.restock_months=0.1,0.5", "--set", "seed=1,2"]
    result = runner.invoke(cli, [*args, *sets, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["parameters.restock_months"], r["seed"]) for r in rows} == {
        ("0.1", "1"),
        ("0.1", "2"),
        ("0.5", "1"),
        ("0.5", "2"),
    }
    bad = runner.invoke(cli, [*args, "--set", "parameters.surge=0.1"])
    assert isinstance(bad.exception, ScenarioError)
    assert "parameters.surge" in str(bad.exception)
