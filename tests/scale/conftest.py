from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from distributed import Client

from rareflow.analysis.ensemble import local_cluster
from rareflow.cli import ensemble as ensemble_cmd
from rareflow.cli import sweep as sweep_cmd
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore

DRAWS = 35
MONTHS = 12


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """A small ensemble with a lever (so lever costs are kept) and an LHS design (sized by the
    total draws, so chunking must not change it)."""
    return with_overrides(
        load_scenario("china-2025-april+stockpile"),
        draws=DRAWS,
        horizon_months=MONTHS,
        sampling="lhs",
    )


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "store")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with local_cluster(2) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="session")
def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    ensemble_cmd.register(app)
    sweep_cmd.register(app)
    return app
