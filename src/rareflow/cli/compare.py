"""``rareflow compare``: scenarios side by side: shortfall by sector and cost by lever."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rareflow.analysis.costs import cost_table
from rareflow.analysis.summary import sector_summary
from rareflow.cli.options import (
    CalibrationOption,
    DataDirOption,
    DrawsOption,
    FormatOption,
    SeedOption,
)
from rareflow.cli.output import Format, emit
from rareflow.cli.progress import progress_bar
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario


def register(app: typer.Typer) -> None:
    """Add the ``compare`` command."""

    @app.command("compare")
    def compare(
        scenarios: Annotated[
            list[str], typer.Argument(help="Presets or scenario files to compare.")
        ],
        draws: DrawsOption = None,
        seed: SeedOption = None,
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    ) -> None:
        """Cumulative and peak shortfall by sector, first month short, and cost per lever."""
        dataset = load_dataset(data, calibration)
        rows: list[dict[str, Any]] = []
        document: list[dict[str, Any]] = []
        for name in scenarios:
            sc = with_overrides(load_scenario(name), draws=draws, seed=seed)
            with progress_bar(f"{sc.name}: {sc.draws:,} draws", quiet) as bar:
                result = run(sc, dataset=dataset, progress=bar)
            summary = sector_summary(result.results, sc.step_months)
            costs = cost_table(result.results)
            total = next((c for c in costs if c["lever"] == "all"), None)
            document.append({"scenario": sc.name, "sectors": summary, "costs": costs})
            rows.extend(
                {
                    "scenario": sc.name,
                    "sector": s["sector"],
                    "cumulative shortfall (%)": s["cumulative_shortfall_pct"]["median"],
                    "cumulative (t)": s["cumulative_shortfall_t"]["median"],
                    "peak (%)": s["peak_monthly_shortfall_pct"]["median"],
                    "first month short": s["first_month"]["median"] or "never",
                    "lever cost (Rs crore)": total["inr_crore"] if total else 0.0,
                    "lever cost (US$ M)": total["usd_million"] if total else 0.0,
                }
                for s in summary
            )
        emit(rows, fmt, title="Scenarios compared (medians over draws)", document=document)
