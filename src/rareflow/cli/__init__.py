"""The ``rareflow`` command line (typer).

Each command group lives in its own module of this package and is registered here. Errors that
rareflow raises on bad input are printed as one clear message, without a traceback, and the exit
code is 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from rareflow import __version__
from rareflow.cli import app as app_cmd
from rareflow.cli import backtest as backtest_cmd
from rareflow.cli import chain as chain_cmd
from rareflow.cli import compare as compare_cmd
from rareflow.cli import criticality as criticality_cmd
from rareflow.cli import data as data_cmd
from rareflow.cli import ensemble as ensemble_cmd
from rareflow.cli import indicators as indicators_cmd
from rareflow.cli import lever as lever_cmd
from rareflow.cli import optimize as optimize_cmd
from rareflow.cli import report as report_cmd
from rareflow.cli import run as run_cmd
from rareflow.cli import runs as runs_cmd
from rareflow.cli import scenario as scenario_cmd
from rareflow.cli import sensitivity as sensitivity_cmd
from rareflow.cli import stocks as stocks_cmd
from rareflow.cli import stress_test as stress_test_cmd
from rareflow.cli import sweep as sweep_cmd
from rareflow.cli import trade as trade_cmd
from rareflow.cli import validate as validate_cmd
from rareflow.errors import RareflowError

app = typer.Typer(
    name="rareflow",
    help="rareflow: rare-earth supply chains from mines to magnets, under export controls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cmd.app, name="data")
trade_cmd.register(data_cmd.app)
chain_cmd.register(app)
app.add_typer(criticality_cmd.app, name="criticality")
stress_test_cmd.register(app)
stocks_cmd.register(app)
app.add_typer(runs_cmd.app, name="runs")
run_cmd.register(app)
app.add_typer(scenario_cmd.app, name="scenario")
app.add_typer(lever_cmd.app, name="lever")
compare_cmd.register(app)
indicators_cmd.register(app)
report_cmd.register(app)
app_cmd.register(app)
sensitivity_cmd.register(app)
optimize_cmd.register(app)
ensemble_cmd.register(app)
sweep_cmd.register(app)
backtest_cmd.register(app)
validate_cmd.register(app)


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
        code = app(standalone_mode=False)
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
    # Without standalone mode, click returns the exit code of a command that raised Exit.
    sys.exit(code if isinstance(code, int) else 0)
