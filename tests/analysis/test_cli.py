"""The sensitivity and optimize commands: output, the run store, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from rareflow.cli import optimize, sensitivity
from rareflow.errors import InputError
from rareflow.store import RunStore

app = typer.Typer()
sensitivity.register(app)
optimize.register(app)
runner = CliRunner()


def test_sensitivity_prints_and_stores_a_ranking(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "sensitivity", "china-2025-april", "--method", "morris", "--samples", "4",
            "--format", "json", "--store", str(tmp_path), "--quiet",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["method"] == "morris"
    assert [r["rank"] for r in doc["ranking"]] == list(range(1, len(doc["ranking"]) + 1))
    runs = RunStore(tmp_path).list()
    assert [r.record.kind for r in runs] == ["sensitivity"]


def test_sensitivity_table_names_the_bad_output(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["sensitivity", "china-2025-april", "--output", "nowhere", "--no-store", "-q"]
    )
    assert isinstance(result.exception, InputError)
    assert "unknown output 'nowhere'" in str(result.exception)


def test_optimize_prints_the_mix_and_validation(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "optimize", "china-2025-october", "--budget", "500", "--risk", "cvar90",
            "--until", "2026", "--draws", "8", "--store", str(tmp_path), "--quiet",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "chosen mix" in result.output
    assert "out of sample" in result.output
    assert [r.record.kind for r in RunStore(tmp_path).list()] == ["optimize"]


def test_optimize_rejects_a_bad_risk() -> None:
    result = runner.invoke(app, ["optimize", "china-2025-october", "--risk", "worst", "-q"])
    assert isinstance(result.exception, InputError)
