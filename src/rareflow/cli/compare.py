"""``rareflow compare``: what each scenario's measures buy against the same shock without them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rareflow.analysis.compare import compare_to_shock
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import format_spread
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
from rareflow.scenario.schema import Scenario


def _table_row(row: dict[str, Any]) -> dict[str, Any]:
    """One scenario's row for the table: median [5th..95th percentile] in each cell."""
    levers = bool(row["levers"])

    def cell(key: str, unit: str = "", digits: int = 0) -> str:
        return format_spread(row[key], unit, digits) if levers else "-"

    return {
        "scenario": row["scenario"],
        "shortfall (t)": format_spread(row["shortfall_t"]),
        "shortfall (% of need)": format_spread(row["shortfall_pct"], "%", 1),
        "shock alone (t)": cell("shock_alone_shortfall_t"),
        "avoided (t)": cell("avoided_t"),
        "physical avoided (t)": cell("physical_avoided_t"),
        "draws helped": f"{100 * row['share_of_draws_helped']:.0f}%" if levers else "-",
        "value saved (Rs crore)": cell("value_saved_inr_crore")
        if "value_saved_inr_crore" in row
        else "-",
        "cost (Rs crore)": cell("lever_cost_inr_crore", digits=1),
        "Rs crore per t avoided": cell("cost_per_t_avoided_inr_crore", digits=2),
        "₹ per ₹ of output saved": cell("cost_per_inr_saved", digits=4)
        if "cost_per_inr_saved" in row
        else "-",
        "benefit/cost": cell("benefit_cost_ratio", digits=1)
        if "benefit_cost_ratio" in row
        else "-",
    }


def _csv_row(row: dict[str, Any], window: str) -> dict[str, Any]:
    """One scenario's row for CSV: one number per column (median, p5 and p95 apart)."""
    out: dict[str, Any] = {"scenario": row["scenario"], "window": window}
    for key, value in row.items():
        if isinstance(value, dict) and "median" in value:
            out |= {f"{key}_{q}": value[q] for q in ("median", "p5", "p95")}
    out["share_of_draws_helped"] = row.get("share_of_draws_helped")
    for sector, units in row.get("units_saved", {}).items():
        out |= {f"units_saved_{sector}_{q}": units[q] for q in ("median", "p5", "p95")}
    out["unvalued_sectors"] = " ".join(row.get("unvalued_sectors", []))
    return out


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
        """Each scenario against its shock alone, on one window: what its levers buy, at what cost.

        A scenario with levers is run twice at the same seed, with and without its levers, so
        both runs see the same shock draw by draw; every scenario runs over the longest horizon
        among them (same start and step required, else refused). Per scenario: tonnes of
        shortfall avoided (and its physical part), units and value of output saved, lever cost,
        cost per tonne avoided and per rupee of output saved, and the benefit-cost ratio.
        """
        dataset = load_dataset(data, calibration)
        loaded = [with_overrides(load_scenario(n), draws=draws, seed=seed) for n in scenarios]

        def run_one(sc: Scenario) -> Any:
            with progress_bar(f"{sc.name}: {sc.draws:,} draws", quiet) as bar:
                return run(sc, dataset=dataset, progress=bar).results

        document = compare_to_shock(
            loaded, run_one, values=lambda sc: sector_values(dataset, sc.country)
        )
        window = document["window"]["label"]
        aligned = "; ".join(document["window"]["aligned"])
        csv_rows = [_csv_row(r, window) for r in document["rows"]]
        emit(
            csv_rows if fmt is Format.CSV else [_table_row(r) for r in document["rows"]],
            fmt,
            title=(
                f"Each scenario against its shock alone, {window}, "
                "all sectors (median [5th..95th percentile] over paired draws; cost over the "
                "window; value saved: output not lost, at unit values)"
                + (f". Moved onto the window: {aligned}" if aligned else "")
            ),
            columns=list(csv_rows[-1]) if fmt is Format.CSV else None,
            document=document,
        )
