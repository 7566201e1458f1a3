"""``rareflow indicators``: a scenario's indicators, before and after its levers, over time."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rareflow.cli.options import CalibrationOption, DataDirOption, FormatOption
from rareflow.cli.output import Format, emit
from rareflow.cli.progress import progress_bar
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.indicators.dataset_view import import_concentration, stage_concentration
from rareflow.indicators.run_view import run_indicators, summarise
from rareflow.model.network import MAGNETS
from rareflow.scenario.load import load_scenario

KEY_MATERIALS = [*MAGNETS, "oxide_ndpr", "metal_ndpr", "oxide_dy", "metal_dy"]


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` command."""

    @app.command("indicators")
    def indicators(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        draws: Annotated[int | None, typer.Option("--draws", "-n", min=1, max=100_000)] = None,
        seed: Annotated[int | None, typer.Option("--seed", "-s", min=0)] = None,
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
        for label, variant in variants.items():
            with progress_bar(f"{sc.name} ({label})", quiet) as bar:
                result = run(variant, dataset=dataset, progress=bar)
            ind = run_indicators(result.results)
            materials = [m for m in KEY_MATERIALS if m in ind["material"].to_numpy()]
            rows.extend({"variant": label, **r} for r in summarise(ind, materials))
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
