"""The memory guard: a run too large for memory streams in chunks, or is refused with a way out."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rareflow.analysis import memory
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario
from rareflow.store import RunStore

runner = CliRunner()
DRAWS = 40
MB = 2**20


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from rareflow.cli import ROOT  # noqa: PLC0415 - the root command, after any lazy import

    result = runner.invoke(ROOT, argv)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tight(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend 5 MB are available and the interpreter needs nothing: 40 draws must stream."""
    monkeypatch.setattr(memory, "BASE_BYTES", 0)
    monkeypatch.setattr(memory, "available_memory", lambda: 5 * MB)


def test_small_runs_need_no_probe(dataset: Dataset) -> None:
    sc = with_overrides(load_scenario("china-2025-april"), draws=100)
    plan = memory.plan_run(sc, dataset, available=16 * 2**30)
    assert not plan.stream
    assert plan.results_bytes == 0


def test_plan_scales_with_draws_and_streams_above_the_memory(dataset: Dataset) -> None:
    sc = load_scenario("china-2025-april")
    small = memory.plan_run(with_overrides(sc, draws=10_000), dataset, available=10**6)
    large = memory.plan_run(with_overrides(sc, draws=20_000), dataset, available=10**6)
    assert large.results_bytes == 2 * small.results_bytes
    assert large.stream
    assert small.stream
    roomy = memory.plan_run(with_overrides(sc, draws=10_000), dataset, available=10**12)
    assert not roomy.stream


@pytest.mark.usefixtures("tight")
def test_streamed_run_equals_the_run_in_one_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "store")
    args = ["run", "china-2025-april", "--draws", str(DRAWS), "--store", store]
    code, out, err = _cli([*args, "--format", "json"])
    assert code == 0, err
    streamed = json.loads(out)
    assert streamed["chunks"] > 1
    assert "streaming in chunks" in err
    monkeypatch.setattr(memory, "available_memory", lambda: 2**40)
    code, out, err = _cli([*args, "--format", "json"])
    assert code == 0, err
    whole = json.loads(out)
    # The run in one piece adds month-by-month figures, which a streamed run does not keep.
    assert streamed["sectors"] == [
        {k: v for k, v in sector.items() if k != "monthly"} for sector in whole["sectors"]
    ]
    runs = RunStore(store)
    a, b = (runs.results(r) for r in (streamed["run_id"], whole["run_id"]))
    assert a.sizes["draw"] == DRAWS
    assert set(a.data_vars) == set(b.data_vars)
    for name in b.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].transpose(*a[name].dims).values)
    assert runs.get(streamed["run_id"]).record.kind == "run"


@pytest.mark.usefixtures("tight")
def test_no_store_streams_the_summary_only(tmp_path: Path) -> None:
    code, out, err = _cli(
        ["run", "china-2025-april", "--draws", str(DRAWS), "--no-store", "--format", "json"]
    )
    assert code == 0, err
    assert json.loads(out)["run_id"] is None
    assert "per-draw summary only" in err
    assert not (tmp_path / "store").exists()


@pytest.mark.usefixtures("tight")
def test_results_too_big_for_the_disk_are_refused_with_the_command_that_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "STORED_SHARE", 1e12)
    from rareflow.cli import ROOT  # noqa: PLC0415 - the root command, after any lazy import

    result = runner.invoke(
        ROOT, ["run", "china-2025-april", "--draws", str(DRAWS), "--store", str(tmp_path / "s")]
    )
    assert isinstance(result.exception, InputError)
    message = result.exception.user_message()
    assert "in the run store" in message
    assert f"rareflow ensemble china-2025-april --draws {DRAWS} --keep summary" in message
    assert not list((tmp_path / "s" / "runs").iterdir())


def test_a_huge_run_under_a_memory_cap_is_refused_in_a_real_process(tmp_path: Path) -> None:
    """10,000,000 draws under a 6 GB address-space cap: the estimate and the way out."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from rareflow.cli import main; main()",
            "run",
            "china-2025-april",
            "--draws",
            "10000000",
            "--store",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=cap,
    )
    assert out.returncode == 2, out.stderr
    assert "--draws 10,000,000: even streamed" in out.stderr
    assert "--scheduler ADDRESS" in out.stderr
    assert "Traceback" not in out.stderr
