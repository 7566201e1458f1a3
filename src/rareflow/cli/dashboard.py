"""``rareflow app``: start the dashboard (streamlit) on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from rareflow.app import MAIN
from rareflow.cli.options import DataDirOption, StoreOption
from rareflow.data.load import USER_DATA_ENV
from rareflow.store.runstore import STORE_ENV

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""Signals that stop the dashboard (and its server)."""
STOP_SECONDS = 10.0
"""How long the server may take to stop before it is killed."""
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
        "--server.enableStaticServing=true",
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
        raise typer.Exit(serve(streamlit_command(port, address), env))


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it ends; SIGTERM, SIGINT or SIGHUP to rareflow stop it too.

    The signal is passed on to the server, which shuts down and frees its port; if it is
    still running after ``STOP_SECONDS`` it is killed. Returns the server's exit status (0 when
    it was stopped by a signal).
    """
    proc = subprocess.Popen(command, env=env)
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in STOP_SIGNALS}
    deadline: float | None = None
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping and deadline is None:
                    deadline = time.monotonic() + STOP_SECONDS
                elif deadline is not None and time.monotonic() > deadline:
                    proc.kill()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if stopping else code
