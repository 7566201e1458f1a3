"""``rareflow data import-trade``: import a Comtrade or BACI file into a user data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rareflow.cli.output import Format, emit, err_console
from rareflow.data.mirror import mirror_check
from rareflow.data.trade import DEFAULT_MAX_BYTES, Layout, read_trade, write_user_trade
from rareflow.outputs import output_dir


def import_trade(
    file: Annotated[Path, typer.Argument(help="Comtrade or BACI CSV file.")],
    source_id: Annotated[
        str, typer.Option("--source-id", help="Id of the sources row citing the file.")
    ],
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="User data directory to write trade.csv into.")
    ],
    layout: Annotated[
        Layout, typer.Option("--layout", help="File layout; auto detects it from the header.")
    ] = Layout.AUTO,
    country_codes: Annotated[
        Path | None,
        typer.Option("--country-codes", help="BACI's country_codes_V20xxxx.csv (BACI files)."),
    ] = None,
    importer: Annotated[
        list[str] | None,
        typer.Option("--importer", help="Keep only this importer (ISO alpha-3); repeatable."),
    ] = None,
    other_magnets: Annotated[
        bool,
        typer.Option("--include-other-magnets", help="Also keep HS 8505.19 (mostly ferrite)."),
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="Citation title.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Citation address.")] = None,
    citation_year: Annotated[
        int | None, typer.Option("--citation-year", help="Citation year (default: this year).")
    ] = None,
    max_mb: Annotated[
        int, typer.Option("--max-mb", min=1, help="Largest file read, in MB.")
    ] = DEFAULT_MAX_BYTES // (1024 * 1024),
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
) -> None:
    """Import rare-earth imports from a UN Comtrade or CEPII BACI CSV into a user data directory.

    Keeps imports of HS 280530, 2846 and 850511 (and 850519 if asked), drops the partner World,
    and merges the rows into DIR/trade.csv (same key replaced) with a sources.csv citation.
    """
    output_dir(data_dir, "--data-dir", create=False)
    result = read_trade(
        file,
        source_id=source_id,
        layout=layout,
        country_codes=country_codes,
        include_other_magnets=other_magnets,
        importers=importer or None,
        title=title,
        url=url,
        citation_year=citation_year,
        max_bytes=max_mb * 1024 * 1024,
    )
    rows = [
        {
            "material": m.material,
            "rows_kept": m.source_rows,
            "partners": m.partners,
            "quantity_t": m.quantity_t,
            "value_usd": m.value_usd,
        }
        for m in result.materials
    ]
    if result.skipped:
        shown = ", ".join(f"{why}: {n}" for why, n in result.skipped.items())
        err_console.print(f"rows left out: {shown}")
    written = None
    if result.trade.empty:
        err_console.print(f"no rare-earth import rows in {result.file}; nothing written")
    else:
        report = write_user_trade(result, data_dir)
        written = {
            "trade": str(report.trade_path),
            "sources": str(report.sources_path),
            "added": report.added,
            "replaced": report.replaced,
            "total": report.total,
        }
        err_console.print(
            f"wrote {report.trade_path} ({report.added} added, {report.replaced} replaced, "
            f"{report.total} rows) and {report.sources_path}"
        )
    document = {
        "file": result.file,
        "layout": result.layout.value,
        "rows_read": result.rows_read,
        "rows_kept": result.rows_kept,
        "skipped": result.skipped,
        "materials": rows,
        "written": written,
    }
    title_line = (
        f"{result.file} ({result.layout.value}): {result.rows_kept} of {result.rows_read} rows kept"
    )
    emit(rows, fmt, title=title_line, columns=list(rows[0]) if rows else None, document=document)


def mirror(
    file: Annotated[
        Path, typer.Argument(help="Comtrade CSV with the country's imports and partners' exports.")
    ],
    country: Annotated[
        str, typer.Option("--country", help="Focal (importing) country, ISO alpha-3.")
    ] = "IND",
    layout: Annotated[
        Layout, typer.Option("--layout", help="File layout; auto detects it from the header.")
    ] = Layout.AUTO,
    other_magnets: Annotated[
        bool,
        typer.Option("--include-other-magnets", help="Also check HS 8505.19 (mostly ferrite)."),
    ] = False,
    max_mb: Annotated[
        int, typer.Option("--max-mb", min=1, help="Largest file read, in MB.")
    ] = DEFAULT_MAX_BYTES // (1024 * 1024),
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
) -> None:
    """Mirror check: the country's reported imports against its partners' reported exports.

    One row per partner, HS class and year: imports as the country reported them (usually CIF),
    exports to it as the partner reported them (FOB), and the gap (imports - exports, and as a
    share of exports). A few per cent is freight and insurance; a large gap means the import
    shares the engine uses from this file deserve a second look.
    """
    check = mirror_check(
        file,
        country,
        layout=layout,
        include_other_magnets=other_magnets,
        max_bytes=max_mb * 1024 * 1024,
    )
    rows = [r.as_row() for r in check.rows]
    totals = check.totals()
    for t in totals:
        shown = "n/a" if t.gap_share is None else f"{t.gap_share:+.1%}"
        err_console.print(
            f"{t.material} {t.year}: {check.country} reported {t.imports_usd:,.0f} USD of "
            f"imports from {t.partners} partner(s) that report {t.exports_usd:,.0f} USD of "
            f"exports to it (gap {shown})"
        )
    one_side = [r for r in check.rows if r.gap_usd is None]
    if one_side:
        err_console.print(
            f"{len(one_side)} flow(s) reported on one side only (the other side left empty)"
        )
    emit(
        rows,
        fmt,
        title=f"Mirror check of {check.country}'s imports ({check.file})",
        columns=list(rows[0]),
        document={
            "country": check.country,
            "file": check.file,
            "rows": rows,
            "totals": [t.as_row() for t in totals],
        },
    )


def register(data_app: typer.Typer) -> None:
    """Add the ``import-trade`` and ``mirror`` commands to the ``rareflow data`` command group.

    Parameters
    ----------
    data_app
        The ``data`` command group.
    """
    data_app.command("import-trade")(import_trade)
    data_app.command("mirror")(mirror)
