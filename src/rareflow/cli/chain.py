"""``rareflow chain``: a country's mines-to-magnets chain."""

from __future__ import annotations

import typer

from rareflow.cli.options import CountryOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, emit
from rareflow.data.load import load_dataset
from rareflow.model.view import chain_rows, chain_view


def register(app: typer.Typer) -> None:
    """Add the ``chain`` command to the root app."""

    @app.command("chain")
    def chain(
        country: CountryOption = "IND",
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
    ) -> None:
        """Show a country's chain: domestic output, imports by source, China's share, sources."""
        view = chain_view(country.upper(), load_dataset(data))
        rows = chain_rows(view)
        emit(
            rows,
            fmt,
            title=f"{view['country']}: mines to magnets (data version {view['data_version']})",
            document=view,
        )
