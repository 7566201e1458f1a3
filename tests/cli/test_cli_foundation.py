"""End-to-end CLI: version, data commands and the chain, in every output format."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from rareflow import __version__
from rareflow.cli import app

runner = CliRunner()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would, with a wide terminal."""
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "rareflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_data_sources_json_lists_at_least_25_sources() -> None:
    result = runner.invoke(app, ["data", "sources", "--format", "json"])
    assert result.exit_code == 0, result.output
    sources = json.loads(result.output)
    assert len({s["source_id"] for s in sources}) >= 25
    assert all(s["title"] for s in sources)


def test_data_show_in_three_formats() -> None:
    for fmt in ("table", "json", "csv"):
        result = runner.invoke(app, ["data", "show", "mine_production", "--format", fmt])
        assert result.exit_code == 0, result.output
    rows = list(
        csv.DictReader(
            io.StringIO(runner.invoke(app, ["data", "show", "prices", "--format", "csv"]).output)
        )
    )
    assert {"value", "unit", "year", "source_id", "note"} <= set(rows[0])


def test_chain_json_covers_key_items() -> None:
    result = run("chain", "--country", "IND", "--format", "json")
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    covered = {e["item"] for e in view["entries"]}
    assert {"Nd", "Pr", "Dy", "Tb", "magnet_ndfeb_sintered"} <= covered
    assert any(e["china_share_world"] for e in view["entries"])
    assert any(imp["partners"] for e in view["entries"] for imp in e["imports"])


def test_chain_table_and_csv() -> None:
    table = run("chain", "--country", "IND")
    assert table.returncode == 0, table.stderr
    assert "magnet_ndfeb_sintered" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run("chain", "--format", "csv").stdout)))
    assert {"stage", "item", "domestic", "imports_by_source", "china_share_world"} <= set(rows[0])


def test_bad_input_gives_a_message_not_a_traceback() -> None:
    for args, expected in (
        (("data", "show", "nonsense"), "unknown table 'nonsense'"),
        (("chain", "--country", "ATL"), "unknown country 'ATL'"),
        (("chain", "--format", "xml"), "Invalid value"),
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
