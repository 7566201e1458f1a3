"""Execute the example notebooks on this Python's kernel, and store their outputs.

The kernel is this interpreter (``sys.executable`` with ipykernel), so the notebooks run on the
rareflow it imports, whatever kernels a Jupyter installation lists. ``make notebooks`` stores
the outputs at the notebooks' own ensemble sizes; ``tests/report/test_examples.py`` executes
them on a few draws without storing, and fails when a cell raises.

Usage: ``python examples/execute.py [--draws N] [--no-store] [NOTEBOOK ...]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))
DRAWS_ENV = "RAREFLOW_EXAMPLE_DRAWS"


class ThisPython(KernelSpecManager):
    """Kernel specs that all start this interpreter's ipykernel."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            name=kernel_name,
            display_name="Python (rareflow)",
            language="python",
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        )


def execute(path: Path, draws: int | None = None, timeout: int = 900) -> nbformat.NotebookNode:
    """Run every cell of a notebook in a fresh kernel and return it with its outputs.

    Raises nbclient's ``CellExecutionError`` (naming the cell and its traceback) when a cell
    raises.
    """
    notebook = nbformat.read(path, as_version=4)
    env = dict(os.environ, MPLBACKEND="Agg")
    if draws is not None:
        env[DRAWS_ENV] = str(draws)
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env)
    return notebook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=NOTEBOOKS)
    parser.add_argument("--draws", type=int, help="ensemble size (default: each notebook's own)")
    parser.add_argument("--no-store", action="store_true", help="run without writing outputs")
    args = parser.parse_args()
    for path in args.notebooks:
        notebook = execute(path, args.draws)
        if not args.no_store:
            nbformat.write(notebook, path)
        print(f"{path.name}: {len(notebook.cells)} cells ran")


if __name__ == "__main__":
    main()
