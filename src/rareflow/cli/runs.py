"""``rareflow runs``: list, show, export, verify, repair, rerun and delete the runs in a store."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from rareflow.cli.options import FormatOption, StoreOption
from rareflow.cli.output import Format, emit, err_console
from rareflow.errors import InputError
from rareflow.store import RunInfo, RunStore, StoreProblem
from rareflow.store.rerun import rerun

app = typer.Typer(
    help="Saved runs: list, show, export, verify, repair, rerun and delete them.",
    no_args_is_help=True,
)

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
    run_store = RunStore(store, create=False)
    rows = [_list_row(info) for info in run_store.list()]
    emit(rows, fmt, title=f"Runs in {run_store.path}", columns=_LIST_COLUMNS, ids=True)


@app.command("show")
def show(
    run_id: RunIdArgument, store: StoreOption = None, fmt: FormatOption = Format.TABLE
) -> None:
    """Show one run's record, results' shape and files."""
    info = RunStore(store, create=False).get(run_id)
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
    emit(rows, fmt, title=f"Run {info.id}", document=info.model_dump(mode="json"), ids=True)


class ExportFormat(StrEnum):
    """What ``runs export`` writes."""

    PARQUET = "parquet"
    XLSX = "xlsx"


@app.command("export")
def export(
    run_id: RunIdArgument,
    to: Annotated[Path, typer.Option("--to", help="Directory to write the run's files into.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files that already exist there.")
    ] = False,
    store: StoreOption = None,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="parquet: the run's files, record and checksums; xlsx: one Excel workbook "
            "(monthly paths, costs, tables, the scenario and the sources).",
        ),
    ] = ExportFormat.PARQUET,
) -> None:
    """Export a run's Parquet files, record and checksums, or an Excel workbook, to a directory."""
    run_store = RunStore(store, create=False)
    if export_format is ExportFormat.XLSX:
        from rareflow.data.load import load_dataset  # noqa: PLC0415 (only this format needs it)
        from rareflow.outputs import output_dir  # noqa: PLC0415
        from rareflow.report.build import write_bytes_atomic  # noqa: PLC0415
        from rareflow.report.workbook import stored_run_workbook  # noqa: PLC0415

        target = output_dir(to, "--to") / f"{run_id}.xlsx"
        if target.exists() and not overwrite:
            raise InputError(f"{target} exists; use --overwrite to replace it")
        data = stored_run_workbook(run_store, run_id, load_dataset())
        write_bytes_atomic(data, target, "the workbook")
        err_console.print(f"exported run {run_id} as an Excel workbook to {target}")
        return
    written = run_store.export(run_id, to, overwrite=overwrite)
    err_console.print(f"exported {len(written)} files of run {run_id} to {to}")


_PROBLEM_COLUMNS = ["severity", "run_id", "path", "problem"]


def _problem_rows(problems: list[StoreProblem]) -> list[dict[str, Any]]:
    return [
        {"severity": p.severity, "run_id": p.run_id, "path": p.path, "problem": p.message}
        for p in problems
    ]


@app.command("verify")
def verify(
    store: StoreOption = None,
    fmt: FormatOption = Format.TABLE,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Repair the store first (as `rareflow runs repair`)."),
    ] = False,
) -> None:
    """Check every run's files against their checksums and account for every entry of the store.

    Reports runs missing from the catalogue, what interrupted writes left behind, entries that
    rareflow did not write and what `rareflow runs repair` quarantined; changes nothing (unless
    --repair). Exits with status 1 if any error is found (warnings alone exit 0).
    """
    run_store = RunStore(store, repair=repair, create=False)
    if repair:
        _print_repairs(run_store)
    problems = run_store.verify()
    rows = _problem_rows(problems)
    errors = [p for p in problems if p.severity == "error"]
    if problems or fmt is not Format.TABLE:
        emit(rows, fmt, title="Problems", columns=_PROBLEM_COLUMNS, ids=True)
    if errors:
        err_console.print(
            f"store has {len(errors)} problem(s); `rareflow runs repair` puts complete runs back "
            "into the catalogue and quarantines leftovers (it deletes nothing)",
        )
        raise typer.Exit(code=1)
    err_console.print(
        f"store OK: every file of every run in {run_store.path} matches its checksum"
        + (f" ({len(problems)} warning(s))" if problems else "")
    )


def _print_repairs(run_store: RunStore) -> None:
    for done in run_store.repairs:
        err_console.print(f"repair: {done}")
    if not run_store.repairs:
        err_console.print(f"repair: nothing to repair in {run_store.path}")


@app.command("repair")
def repair_command(store: StoreOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Repair a store without deleting anything.

    Rebuilds a missing or unreadable catalogue from the runs' own records (run.json,
    dataset.json, SHA256SUMS), puts complete runs missing from the catalogue back, and moves what
    interrupted writes left (and unreadable run directories) into the store's quarantine/ folder
    with a reasons.json. Entries that rareflow did not write are left where they are. Exits with
    status 1 if problems remain (see `rareflow runs verify`).
    """
    run_store = RunStore(store, repair=True, create=False)
    rows = [
        {
            "action": "left" if p.severity == "warning" else "done",
            "run_id": p.run_id,
            "path": p.path,
            "what": p.message,
        }
        for p in run_store.repairs
    ]
    emit(
        rows,
        fmt,
        title=f"Repairs in {run_store.path}",
        columns=["action", "run_id", "path", "what"],
        ids=True,
    )
    if not run_store.repairs:
        err_console.print(f"nothing to repair in {run_store.path}")
    remaining = [p for p in run_store.verify() if p.severity == "error"]
    if remaining:
        err_console.print(
            f"{len(remaining)} problem(s) remain (damaged runs are kept as evidence); see "
            "`rareflow runs verify`",
        )
        raise typer.Exit(code=1)


@app.command("delete")
def delete(
    run_id: RunIdArgument,
    store: StoreOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a run and its files."""
    run_store = RunStore(store, create=False)
    info = run_store.get(run_id)
    if not yes:
        typer.confirm(
            f"Delete run {info.id} ({info.record.kind} {info.record.name!r})?", abort=True
        )
    run_store.delete(run_id)
    err_console.print(f"deleted run {run_id}")


@app.command("rerun")
def rerun_command(
    run_id: RunIdArgument,
    store: StoreOption = None,
    fmt: FormatOption = Format.TABLE,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Another copy of the user data directory the run was made with "
            "(default: the recorded one).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Recompute a stored run from its recorded inputs; exit 1 if the results differ.

    The run is recomputed on the calibration and user data directory it was made with (--data
    gives another copy of that directory). Every kind of stored run can be rerun.
    """
    report = rerun(RunStore(store, create=False), run_id, data_dir=data)
    row = {
        "run": report.run_id,
        "kind": report.kind,
        "identical": report.identical,
        "data version (stored / now)": f"{report.data_version_stored} / {report.data_version_now}",
        "code version (stored / now)": f"{report.code_version_stored} / {report.code_version_now}",
        "user data": report.data_dir or "none",
        "differences": "; ".join(report.differences) or "none",
    }
    emit([row], fmt, title="Rerun", document=asdict(report), ids=True)
    if not report.identical:
        raise typer.Exit(1)
