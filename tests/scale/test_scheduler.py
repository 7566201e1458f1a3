"""A real cluster: ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1.

The test starts them as a user would, runs ``rareflow ensemble --scheduler ADDRESS`` in its own
process, checks the results against the same ensemble run in-process, stops the cluster and checks
that no process is left behind, defunct or alive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import rareflow

DASK = Path(sys.executable).with_name("dask")
ENSEMBLE = ["ensemble", "china-2025-april", "--draws", "24", "--chunk", "6", "--seed", "3"]


def _env() -> dict[str, str]:
    # Workers import rareflow from the same source tree as this test.
    source = str(Path(rareflow.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """Start a scheduler and two single-threaded workers; yield the scheduler's address."""
    if not DASK.is_file():
        pytest.skip(f"{DASK} is missing (the dask CLI comes with distributed)")
    file = tmp_path / "scheduler.json"
    common = {"env": _env(), "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(file)],
            **common,
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text(encoding="utf-8"))["address"]
        worker = [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        procs.extend(subprocess.Popen([*worker, "--host", "127.0.0.1"], **common) for _ in range(2))
        yield address
    finally:
        _stop(procs)
        for proc in procs:
            assert proc.returncode is not None
        me = psutil.Process()
        left = [c for c in me.children(recursive=True) if c.pid in {p.pid for p in procs}]
        assert not left, left


def _rareflow(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "rareflow", *args, "--no-store", "--format", "json", "--quiet"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    document: dict[str, object] = json.loads(out.stdout)
    return document


@pytest.mark.slow
def test_scheduler_and_two_workers_give_the_in_process_results(cluster: str) -> None:
    here = _rareflow(*ENSEMBLE)
    # Wait for both workers, so that the chunks are really spread.
    from distributed import Client  # noqa: PLC0415 - slow import, this test only

    with Client(cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
        assert len(client.scheduler_info()["workers"]) == 2
    there = _rareflow(*ENSEMBLE, "--scheduler", cluster)
    assert there["chunks"] == here["chunks"] == 4
    assert there["sectors"] == here["sectors"]
    assert there["lever_cost_usd"] == here["lever_cost_usd"]


@pytest.mark.slow
def test_local_cluster_leaves_no_defunct_process() -> None:
    from distributed import Client  # noqa: PLC0415

    from rareflow.analysis.ensemble import local_cluster  # noqa: PLC0415

    with local_cluster(1) as cl, Client(cl) as client:
        assert client.submit(sum, [1, 2]).result() == 3
    zombies = [
        c for c in psutil.Process().children(recursive=True) if c.status() == psutil.STATUS_ZOMBIE
    ]
    assert not zombies, zombies
