"""The example notebooks: stored with their outputs, and they run end to end on a few draws.

They run with nbclient on an ipykernel of the test's own interpreter (``examples/execute.py``),
so a cell that raises fails the test with the cell and its traceback.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def _executor() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "rareflow_examples_execute", EXAMPLES / "execute.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_three_notebooks_are_there() -> None:
    assert {p.stem for p in NOTEBOOKS} >= {"india_april_2025", "policy_mix", "custom_data"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_with_its_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert sum(c.cell_type == "markdown" for c in notebook.cells) >= 4
    # Every code cell ran, in order, in one kernel, and none stored an error.
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert all(o.output_type != "error" for c in code for o in c.outputs)
    assert sum(bool(c.outputs) for c in code) >= len(code) - 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path) -> None:
    notebook = _executor().execute(path, draws=20)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert code[-1].outputs
