"""``rareflow partners``: a focal country's supply risk by stage and partner, from the dataset."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer

from rareflow.cli.options import CountryOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, console, emit
from rareflow.data.load import load_dataset
from rareflow.indicators.partner_view import EI_MISSING, partner_indicators


def register(app: typer.Typer) -> None:
    """Add the ``partners`` command to the root app."""

    @app.command("partners")
    def partners(
        country: CountryOption = "IND",
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
    ) -> None:
        """Import HHI, top-3 and China's share, GeoPolRisk and supply risk by stage and partner.

        From the partner split the engine uses (the country's trade rows, else world output
        shares), WGI Political Stability per partner (partner_risk.csv, World Bank 2022),
        GeoPolRisk (Gemechu et al. 2016) and the JRC 2017 supply-risk formula with the country's
        sourcing; see rareflow.indicators.partner_view for every assumption.
        """
        code = country.upper()
        stages, shares = partner_indicators(load_dataset(data), code)
        stage_rows = [_stage_row(s) for s in stages]
        document = {
            "country": code,
            "stages": [asdict(s) for s in stages],
            "partners": [asdict(p) for p in shares],
            "economic_importance": None,
            "missing": [EI_MISSING],
        }
        emit(
            stage_rows,
            fmt,
            title=f"{code}: supply risk by stage (partner split the engine uses; fractions)",
            document=document,
        )
        if fmt is Format.TABLE:
            emit(
                [_partner_row(asdict(p)) for p in shares],
                fmt,
                title=f"{code}: partners by stage (share of arrivals, WGI political stability "
                "2022, GeoPolRisk part = world HHI x g x share)",
            )
            for s in stages:
                for note in s.notes:
                    console.print(f"{s.stage}: {note}")
            console.print(EI_MISSING)


def _stage_row(s: Any) -> dict[str, str]:
    """Format one stage for a table."""
    return {
        "stage": s.stage,
        "basis": s.basis,
        "partners": str(s.partners),
        "import HHI": f"{s.hhi:.3f}",
        "top-3 share": f"{s.top3_share:.3f}",
        "China's share": f"{s.china_share:.3f}",
        "world HHI": f"{s.world_hhi:.3f}",
        "GeoPolRisk": f"{s.geopolrisk:.3f}",
        "supply risk (JRC)": f"{s.supply_risk:.2f}",
        "import reliance": s.import_reliance_note,
    }


def _partner_row(p: dict[str, Any]) -> dict[str, str]:
    """Format one partner of one stage for a table."""
    wgi = f"{p['wgi_political_stability']:+.2f}" + (" (assumed)" if p["wgi_assumed"] else "")
    return {
        "stage": p["stage"],
        "partner": p["partner"],
        "share": f"{p['share']:.3f}",
        "WGI PV": wgi,
        "g": f"{p['instability']:.2f}",
        "GeoPolRisk part": f"{p['geopolrisk_part']:.4f}",
    }
