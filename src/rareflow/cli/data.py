"""``rareflow data``: the embedded dataset, its sources and tables."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from rareflow.cli.options import DataDirOption, FormatOption
from rareflow.cli.output import Format, emit
from rareflow.data.load import load_dataset, records
from rareflow.data.schema import TABLES, TABLES_BY_NAME
from rareflow.engine.run import check_scenario, with_overrides
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario


def _plain(value: Any) -> Any:
    """Turn a cell into JSON-friendly data: NaN to None, dates to ISO text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else value


app = typer.Typer(help="The embedded dataset: sources, tables, validation.", no_args_is_help=True)


@app.command("sources")
def sources(fmt: FormatOption = Format.TABLE, data: DataDirOption = None) -> None:
    """List every source the dataset cites, with how many figures rest on each."""
    ds = load_dataset(data)
    counts: dict[str, int] = {}
    for t in TABLES:
        if t.name == "sources":
            continue
        for sid in ds.table(t.name)["source_id"].dropna():
            counts[str(sid)] = counts.get(str(sid), 0) + 1
    rows = [
        {
            **{
                k: v
                for k, v in row.items()
                if k in ("source_id", "kind", "author", "title", "publisher", "year", "url")
            },
            "figures": counts.get(str(row["source_id"]), 0),
        }
        for row in ds.public("sources").to_dict("records")
    ]
    emit(rows, fmt, title=f"Sources ({len(rows)}), data version {ds.version}", ids=True)


@app.command("tables")
def tables(fmt: FormatOption = Format.TABLE, data: DataDirOption = None) -> None:
    """List the dataset's tables with their row counts."""
    ds = load_dataset(data)
    rows = [
        {
            "table": t.name,
            "rows": len(ds.table(t.name)),
            "kind": "values" if t.is_values else "entities",
            "description": t.description,
        }
        for t in TABLES
    ]
    emit(rows, fmt, title="Dataset tables", ids=True)


@app.command("show")
def show(
    table: Annotated[str, typer.Argument(help="Table name (see `rareflow data tables`).")],
    fmt: FormatOption = Format.TABLE,
    data: DataDirOption = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Show the columns, not the rows.")
    ] = False,
    chosen_only: Annotated[
        bool, typer.Option("--chosen", help="Only the chosen figures (no alternatives).")
    ] = False,
) -> None:
    """Show a table's rows (or its schema)."""
    if table not in TABLES_BY_NAME:
        raise InputError(
            f"unknown table '{table}'; expected one of: {', '.join(sorted(TABLES_BY_NAME))}"
        )
    spec = TABLES_BY_NAME[table]
    if schema:
        rows: list[dict[str, Any]] = [
            {
                "column": c.name,
                "type": c.type.value,
                "required": c.required,
                "references": c.references or "",
                "allowed": ", ".join(c.allowed or ()),
                "description": c.description,
            }
            for c in spec.all_columns
        ]
        emit(rows, fmt, title=f"{spec.filename}: {spec.description}", ids=True)
        return
    ds = load_dataset(data)
    df = ds.public(table)
    if chosen_only and "choice" in df.columns:
        df = df[df["choice"] == "chosen"]
    rows_out = [{k: _plain(v) for k, v in r.items()} for r in records(df)]
    emit(
        rows_out,
        fmt,
        title=f"{spec.filename} ({len(rows_out)} rows)",
        columns=list(df.columns),
        ids=True,
    )


@app.command("validate")
def validate(data: DataDirOption = None) -> None:
    """Validate the dataset (and a user data directory): exit 2 and list problems if any."""
    ds = load_dataset(data)
    n = sum(len(ds.table(t.name)) for t in TABLES)
    # The tables fit together only if a run can use them: run the baseline for one draw for
    # every country with a magnet requirement (what `run` would refuse, e.g. a unit that
    # does not fit the sector's activity, is refused here).
    countries = sorted(set(map(str, ds.chosen("sector_activity")["country"])))
    baseline = load_scenario("baseline")
    for country in countries:
        check_scenario(with_overrides(baseline, country=country), ds)
    typer.echo(
        f"ok: {len(TABLES)} tables, {n} rows, data version {ds.version}; the baseline runs for "
        f"{', '.join(countries) or 'no country (no sector activity)'}"
    )
