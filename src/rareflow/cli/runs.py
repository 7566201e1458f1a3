"""``rareflow runs``: list, show, export, verify and delete the runs in a run store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from rareflow.cli.output import Format, emit, err_console
from rareflow.store import RunInfo, RunStore
from rareflow.store.rerun import rerun

app = typer.Typer(
    help="Saved runs: list, show, export, verify and delete them.",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Run store directory (default: $RAREFLOW_STORE, else rareflow's user data directory).",
        file_okay=False,
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]
RunIdArgument = Annotated[str, typer.Argument(help="Run id, as shown by `rareflow runs list`.")]

_LIST_COLUMNS = ["id", "kind", "name", "seed", "started_at", "finished_at", "parent_id", "size"]


def _list_row(info: RunInfo) -> dict[str, Any]:
    record = info.record
    return {
        "id": info.id,
        "kind": record.kind,
        "name": record.name,
        "seed": record.seed,
        "started_at": record.started_at.isoformat(timespec="seconds"),
        "finished_at": record.finished_at.isoformat(timespec="seconds"),
        "parent_id": record.parent_id,
        "size": _size(info.size),
    }


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@app.command("list")
def list_runs(store: StoreOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the runs in the store, oldest first."""
    run_store = RunStore(store)
    rows = [_list_row(info) for info in run_store.list()]
    emit(rows, fmt, title=f"Runs in {run_store.path}", columns=_LIST_COLUMNS)


@app.command("show")
def show(
    run_id: RunIdArgument, store: StoreOption = None, fmt: FormatOption = Format.TABLE
) -> None:
    """Show one run's record, results' shape and files."""
    info = RunStore(store).get(run_id)
    record = info.record
    fields: dict[str, Any] = {
        "id": info.id,
        "kind": record.kind,
        "name": record.name,
        "seed": record.seed,
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat(),
        "saved_at": info.saved_at.isoformat(),
        "parent_id": record.parent_id,
        "data_version": record.data_version,
        "code_version": record.code_version,
        "dims": info.dims,
        "variables": info.variables,
        "files": len(info.files),
        "size": _size(info.size),
        "summary": record.summary,
        "scenario_given": record.scenario_given,
    }
    rows = [{"field": k, "value": v} for k, v in fields.items()]
    emit(rows, fmt, title=f"Run {info.id}", document=info.model_dump(mode="json"))


@app.command("export")
def export(
    run_id: RunIdArgument,
    to: Annotated[Path, typer.Option("--to", help="Directory to write the run's files into.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files that already exist there.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Export a run's Parquet files, record and checksums into a directory."""
    written = RunStore(store).export(run_id, to, overwrite=overwrite)
    err_console.print(f"exported {len(written)} files of run {run_id} to {to}")


@app.command("verify")
def verify(
    store: StoreOption = None,
    fmt: FormatOption = Format.TABLE,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Remove what interrupted writes left behind."),
    ] = False,
) -> None:
    """Check every run's files against the checksums recorded when it was saved.

    Exits with status 1 if any problem is found.
    """
    run_store = RunStore(store)
    problems = run_store.verify(repair=repair)
    rows = [{"run_id": p.run_id, "path": p.path, "problem": p.message} for p in problems]
    if problems:
        emit(rows, fmt, title="Problems", columns=["run_id", "path", "problem"])
        raise typer.Exit(code=1)
    if fmt is not Format.TABLE:
        emit(rows, fmt, columns=["run_id", "path", "problem"])
    err_console.print(f"store OK: every file of every run in {run_store.path} matches its checksum")


@app.command("delete")
def delete(
    run_id: RunIdArgument,
    store: StoreOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a run and its files."""
    run_store = RunStore(store)
    info = run_store.get(run_id)
    if not yes:
        typer.confirm(
            f"Delete run {info.id} ({info.record.kind} {info.record.name!r})?", abort=True
        )
    run_store.delete(run_id)
    err_console.print(f"deleted run {run_id}")


@app.command("rerun")
def rerun_command(
    run_id: RunIdArgument, store: StoreOption = None, fmt: FormatOption = Format.TABLE
) -> None:
    """Recompute a stored run from its recorded inputs; exit 1 if the results differ."""
    report = rerun(RunStore(store), run_id)
    row = {
        "run": report.run_id,
        "identical": report.identical,
        "data version (stored / now)": f"{report.data_version_stored} / {report.data_version_now}",
        "code version (stored / now)": f"{report.code_version_stored} / {report.code_version_now}",
        "differences": "; ".join(report.differences) or "none",
    }
    emit([row], fmt, title="Rerun", document=asdict(report))
    if not report.identical:
        raise typer.Exit(1)
