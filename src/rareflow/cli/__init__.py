"""The ``rareflow`` command line (typer).

Each command group lives in its own module of this package, listed in :data:`COMMANDS` and
imported only when its command runs (or its own help is shown), so that ``rareflow --version``,
``--help`` and light commands do not pay for the heavy libraries of the others. Errors that
rareflow raises on bad input are printed as one clear message, without a traceback, and the exit
code is 2; so are the system's refusals (a full or read-only disk, a missing permission), named by
path. A failed check exits 1.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from difflib import get_close_matches
from typing import Annotated

import typer
from typer import _click as click  # typer's own copy of click, which its groups derive from
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from rareflow import __version__
from rareflow.errors import RareflowError

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("data", "The embedded dataset: sources, tables, validation."),
    "chain": (
        "chain",
        "Show a country's chain: domestic output, imports by source, China's share, sources.",
    ),
    "criticality": (
        "criticality",
        "EU criticality indicators (JRC 2017 methodology, used for the 2020 and 2023 EU lists).",
    ),
    "stress-test": (
        "stress_test",
        "Disrupt each node in turn: TTS, performance impact, exposure (TTR > TTS).",
    ),
    "exposure": (
        "exposure",
        "Who is short: each sector's magnet routes, grades and buyer groups, with sources.",
    ),
    "stocks": (
        "stocks",
        "Magnets and Nd, Pr, Dy, Tb in use by sector (median, 5-95%), with every source.",
    ),
    "runs": ("runs", "Saved runs: list, show, export, verify, repair, rerun and delete them."),
    "run": (
        "run",
        "Run a scenario; print shortfall by sector: when, how long, how deep, what it costs.",
    ),
    "scenario": ("scenario", "Scenarios: list presets, show one as YAML, validate a file."),
    "lever": ("lever", "Policy levers: list them, show one's parameters."),
    "compare": (
        "compare",
        "Each scenario against its shock alone, on one window: what its levers buy, at what cost.",
    ),
    "indicators": (
        "indicators",
        "Import concentration, China's share and import reliance, without and with levers.",
    ),
    "partners": (
        "partners",
        "Import HHI, top-3 and China's share, GeoPolRisk and supply risk by stage and partner.",
    ),
    "report": (
        "report",
        "Write a self-contained HTML report (opens offline) of a run or a scenario.",
    ),
    "app": (
        "dashboard",
        "Start the dashboard: open http://ADDRESS:PORT in a browser; stop it with Ctrl-C.",
    ),
    "sensitivity": (
        "sensitivity",
        "Rank a scenario's uncertain inputs by their effect on shortfall or cost.",
    ),
    "optimize": (
        "optimize",
        "Choose the mix of every lever within a budget; validate on fresh draws.",
    ),
    "ensemble": (
        "ensemble",
        "Run a large ensemble in chunks (here or on Dask); print shortfall by sector.",
    ),
    "sweep": (
        "sweep",
        "Run a grid of scenario values; print median shortfall and lever cost per point.",
    ),
    "backtest": ("backtest", "Run an episode and compare the model with cited observations."),
    "calibrate": (
        "backtest",
        "Fit the engine's price parameters to an episode, and print (or write) them.",
    ),
    "validate": ("validate", "Run every backtest episode and score it against what happened."),
}
"""Every command: the module of ``rareflow.cli`` that defines it, and its one-line help.

A module either has a ``register(app)`` function adding its commands, or is a group: an ``app``
(a :class:`typer.Typer`) added under the command's name. A test checks the help lines against the
commands' own.
"""
_ALSO_REGISTERS = {"data": ["trade"]}
"""Modules whose ``register`` adds commands to another module's group (``data import-trade``)."""
_LOADED: dict[str, click.Command] = {}


def load_command(name: str) -> click.Command:
    """Import the module defining command ``name`` and return the command (cached)."""
    if name not in _LOADED:
        module_name = COMMANDS[name][0]
        module = importlib.import_module(f"rareflow.cli.{module_name}")
        holder = typer.Typer(add_completion=False)
        if hasattr(module, "register"):
            module.register(holder)
        else:
            for extra in _ALSO_REGISTERS.get(name, []):
                importlib.import_module(f"rareflow.cli.{extra}").register(module.app)
            holder.add_typer(module.app, name=name)

        @holder.callback()
        def _holder() -> None:  # a callback makes typer build a group even for one command
            """Hold the module's commands."""

        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        ctx = click.Context(group)
        for command_name in group.list_commands(ctx):
            command = group.get_command(ctx, command_name)
            if command is not None:
                _LOADED[command_name] = command
    return _LOADED[name]


class LazyGroup(TyperGroup):
    """The root group: commands from :data:`COMMANDS`, each imported when it is used.

    Listing the commands for ``--help`` shows their help lines without importing them.
    """

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        """Return every command's name, in :data:`COMMANDS` order."""
        return [*COMMANDS, *(c for c in self.commands if c not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command, imported, or a stand-in carrying its help while listing."""
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        return load_command(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the help, listing commands by their help lines."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Resolve the command, suggesting close names (imported or not) for a typo."""
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as exc:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    name="rareflow",
    help="rareflow: rare-earth supply chains from mines to magnets, under export controls.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ROOT = app
"""The root command (also ``app``, kept for callers that import it by that name)."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rareflow {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """rareflow: rare-earth supply chains from mines to magnets, under export controls."""


def main() -> None:
    """Run the CLI, turning rareflow's own errors into a message and exit code 2.

    A command that ends with ``typer.Exit(code)`` (a failed check, a rerun that differs) exits
    with that code.
    """
    try:
        code = ROOT(standalone_mode=False)
    except RareflowError as exc:
        typer.echo(f"error: {exc.user_message()}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: bad option value, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except BrokenPipeError:
        # Whoever read the output stopped early (`rareflow runs list | head -1`): say nothing
        # more, and keep Python from complaining about the closed pipe when it flushes at exit.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:  # the system refused: a full or read-only disk, a permission
        typer.echo(f"error: {_system_error(exc)}", err=True)
        sys.exit(2)
    # Without standalone mode, click returns the exit code of a command that raised Exit.
    sys.exit(code if isinstance(code, int) else 0)


def _system_error(exc: OSError) -> str:
    """Name the path(s) and the system's reason, e.g. ``/mnt/x: Read-only file system``."""
    reason = exc.strerror or str(exc)
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason
