"""The layer contract (pyproject.toml, ``[tool.importlinter]``) holds, and fails when broken.

``make lint`` runs ``lint-imports`` on the package; here the contract is checked on a copy of the
sources, once as it is and once with a lower layer importing a higher one, so a contract that
could not fail would be caught.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint(
    tmp_path: Path, inject: tuple[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on a copy of src/rareflow, with ``inject`` = (module file, line) added."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "rareflow", src / "rareflow", ignore=shutil.ignore_patterns("__pycache__")
    )
    if inject is not None:
        target = src / "rareflow" / inject[0]
        target.write_text(target.read_text(encoding="utf-8") + "\n" + inject[1] + "\n")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    lines = ["[importlinter]", "root_package = rareflow"]
    for i, c in enumerate(contracts):
        lines += [f"[importlinter:contract:{i}]", f"name = {c['name']}", f"type = {c['type']}"]
        lines += ["containers =", *(f"    {x}" for x in c["containers"])]
        lines += ["layers =", *(f"    {x}" for x in c["layers"])]
        lines.append(f"exhaustive = {c.get('exhaustive', False)}")
    ini = tmp_path / ".importlinter"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True))",
            str(ini),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_layers_are_kept(tmp_path: Path) -> None:
    done = _lint(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("data/query.py", "from rareflow.scenario import sampling as _bad  # noqa"),
        ("model/chain.py", "import rareflow.cli.output as _bad  # noqa"),
        ("engine/core.py", "from rareflow.analysis import summary as _bad  # noqa"),
    ],
)
def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(
    tmp_path: Path, module: str, line: str
) -> None:
    done = _lint(tmp_path, (module, line))
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    higher = line.split("rareflow.", 1)[1].split(maxsplit=1)[0].split(".", maxsplit=1)[0]
    assert f"rareflow.{higher}" in done.stdout


def test_every_top_level_module_has_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    declared = {m.strip() for layer in contract["layers"] for m in layer.split("|")}
    package = ROOT / "src" / "rareflow"
    present = {p.stem for p in package.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in package.iterdir() if (p / "__init__.py").is_file()
    }
    missing = sorted(present - declared)
    assert not missing, (
        f"give {', '.join(missing)} a layer in pyproject.toml [tool.importlinter] (README, "
        "'Layers are checked')"
    )
