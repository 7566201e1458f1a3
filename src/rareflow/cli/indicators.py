"""``rareflow indicators``: a scenario's indicators, before and after its levers, over time."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rareflow.analysis.recycling import first_month_reaching, indicator_rows, yearly_rows
from rareflow.analysis.summary import format_spread
from rareflow.cli.options import SEED_MAX, CalibrationOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, console, emit
from rareflow.cli.progress import progress_bar
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.indicators.dataset_view import import_concentration, stage_concentration
from rareflow.indicators.run_view import run_indicators, summarise
from rareflow.model.network import MAGNETS
from rareflow.scenario.load import load_scenario

KEY_MATERIALS = [*MAGNETS, "oxide_ndpr", "metal_ndpr", "oxide_dy", "metal_dy"]
RECYCLING_BENCHMARK = 0.25
"""The EU CRMA's recycling benchmark (policies.csv): the first month a run reaches it is shown."""


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` command."""

    @app.command("indicators")
    def indicators(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        draws: Annotated[int | None, typer.Option("--draws", "-n", min=1, max=100_000)] = None,
        seed: Annotated[int | None, typer.Option("--seed", "-s", min=0, max=SEED_MAX)] = None,
        fmt: FormatOption = Format.TABLE,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    ) -> None:
        """Import concentration, China's share and import reliance, without and with levers."""
        dataset = load_dataset(data, calibration)
        sc = with_overrides(load_scenario(scenario), draws=draws, seed=seed)
        variants = {"without levers": with_overrides(sc, levers=[])} if sc.levers else {}
        variants["as given"] = sc
        rows: list[dict[str, Any]] = []
        series: dict[str, Any] = {}
        recycling: dict[str, Any] = {}
        for label, variant in variants.items():
            with progress_bar(f"{sc.name} ({label})", quiet) as bar:
                result = run(variant, dataset=dataset, progress=bar)
            ind = run_indicators(result.results)
            materials = [m for m in KEY_MATERIALS if m in ind["material"].to_numpy()]
            rows.extend({"variant": label, **r} for r in summarise(ind, materials))
            recycled = indicator_rows(result.results)
            rows.extend({"variant": label, **r} for r in recycled)
            if recycled:
                recycling[label] = {
                    "by_year": yearly_rows(result.results),
                    "first_month_reaching_benchmark": first_month_reaching(
                        result.results, RECYCLING_BENCHMARK, max(12 // sc.step_months, 1)
                    ),
                    "benchmark": RECYCLING_BENCHMARK,
                }
            series[label] = {
                name: ind[name].median("draw", skipna=True).to_pandas().to_dict()
                for name in ind.data_vars
            }
        world = stage_concentration(dataset).to_dict("records")
        imports = import_concentration(dataset, sc.country).to_dict("records")
        document = {
            "scenario": sc.name,
            "country": sc.country,
            "run_indicators": rows,
            "world_stage_concentration": world,
            "dataset_import_concentration": imports,
            "recycling": recycling,
            "over_time": {
                label: {
                    name: {str(k): v for k, v in values.items()} for name, values in by_name.items()
                }
                for label, by_name in series.items()
            },
        }
        emit(
            rows,
            fmt,
            title=f"{sc.name}: indicators of {sc.country}'s supply (medians over draws)",
            document=document,
        )
        if fmt is Format.TABLE:
            for label, found in recycling.items():
                emit(
                    [_year_row(r) for r in found["by_year"]],
                    fmt,
                    title=f"{label}: recycling by year (median [5th..95th percentile]; share = "
                    "recycled rare earths as t of sintered NdFeB / magnet requirement)",
                )
                when = found["first_month_reaching_benchmark"] or "never in the horizon"
                console.print(
                    f"{label}: recycled share of the trailing 12 months first reaches "
                    f"{RECYCLING_BENCHMARK:.0%}: {when}"
                )


def _year_row(row: dict[str, Any]) -> dict[str, str]:
    """Format one year of recycling for a table."""
    out = {"year": str(row["year"])}
    out["recycled (t)"] = format_spread(row["recycled_t"])
    out["requirement (t)"] = format_spread(row["requirement_t"])
    out["share"] = format_spread(_percent(row["recycled_share"]), "%", 1)
    for key in [k for k in row if k.startswith("eol_rir_")]:
        out[f"EoL-RIR {key.removeprefix('eol_rir_')}"] = format_spread(_percent(row[key]), "%", 1)
    return out


def _percent(spread: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else 100.0 * v for k, v in spread.items()}
