"""Start-up stays light: the CLI imports a command's module (and heavy libraries) only to run it."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from typer.testing import CliRunner

from rareflow.cli import COMMANDS, app, load_command

HEAVY = ["xarray", "dask", "distributed", "plotly", "streamlit", "linopy", "scipy.stats", "pandas"]


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(out.stdout.split())


def test_importing_the_cli_imports_no_heavy_library() -> None:
    modules = _imported_after("import rareflow.cli")
    assert not modules & set(HEAVY)
    assert not any(m.startswith("rareflow.cli.") for m in modules)


@pytest.mark.parametrize(
    "argv", [["--version"], ["--help"], ["scenario", "list", "--format", "json"]]
)
def test_light_commands_stay_light(argv: list[str]) -> None:
    code = "\n".join(
        [
            "import sys",
            f"sys.argv = ['rareflow', *{argv!r}]",
            "from rareflow.cli import main",
            "try:",
            "    main()",
            "except SystemExit:",
            "    pass",
        ]
    )
    modules = _imported_after(code)
    # If this fails, a module on the command's import path imports a heavy library at its top:
    # import it where it is used instead (see the README, Performance).
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_listed_help_lines_are_the_commands_own() -> None:
    for name, (_module, help_line) in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert (command.help or "").split("\n\n")[0].strip() == help_line, name


def test_help_lists_every_command_and_a_typo_is_answered() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"], terminal_width=200)
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert f" {name} " in listing.output
    typo = runner.invoke(app, ["rnu"])
    assert typo.exit_code == 2
    assert "Did you mean 'run'?" in typo.output


def test_a_group_loads_with_the_commands_other_modules_add() -> None:
    result = CliRunner().invoke(app, ["data", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "import-trade" in result.output


def test_loading_the_dashboard_command_leaves_the_cli_app_alone() -> None:
    """A command module named like a package attribute would replace it on import (the
    dashboard's module was once ``cli/app.py``, and tests that ran after it got a module as
    ``rareflow.cli.app``)."""
    import rareflow.cli  # noqa: PLC0415
    import rareflow.cli.dashboard  # noqa: PLC0415

    assert rareflow.cli.app is rareflow.cli.ROOT
    own = {k for k, v in vars(rareflow.cli).items() if not isinstance(v, types.ModuleType)}
    assert not {module_name for module_name, _help in COMMANDS.values()} & own
