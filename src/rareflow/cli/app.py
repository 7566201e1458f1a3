"""``rareflow app``: start the dashboard (streamlit) on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from rareflow.app import MAIN
from rareflow.cli.options import DataDirOption, StoreOption
from rareflow.data.load import USER_DATA_ENV
from rareflow.store.runstore import STORE_ENV

UPLOAD_LIMIT_MB = 1
"""streamlit's own upload limit; the page checks the size again before parsing."""


def streamlit_command(port: int, address: str) -> list[str]:
    """Return the command that serves the dashboard headless on ``address:port``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(MAIN),
        "--server.headless=true",
        f"--server.port={port}",
        f"--server.address={address}",
        f"--server.maxUploadSize={UPLOAD_LIMIT_MB}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--runner.magicEnabled=false",
        "--global.developmentMode=false",
    ]


def register(app: typer.Typer) -> None:
    """Add the ``app`` command."""

    @app.command("app")
    def app_command(
        port: Annotated[
            int, typer.Option("--port", "-p", min=1, max=65535, help="Port to serve on.")
        ] = 8501,
        address: Annotated[
            str, typer.Option("--address", help="Address to listen on (default: this machine).")
        ] = "127.0.0.1",
        store: StoreOption = None,
        data: DataDirOption = None,
    ) -> None:
        """Start the dashboard: open http://ADDRESS:PORT in a browser; stop it with Ctrl-C."""
        env = dict(os.environ)
        if store is not None:
            env[STORE_ENV] = str(Path(store).resolve())
        if data is not None:
            env[USER_DATA_ENV] = str(Path(data).resolve())
        typer.echo(f"rareflow dashboard on http://{address}:{port} (Ctrl-C to stop)", err=True)
        try:
            code = subprocess.call(streamlit_command(port, address), env=env)
        except KeyboardInterrupt:
            code = 0
        raise typer.Exit(code)
