"""``rareflow run``: run a scenario, store it, and print the shortfall summary by sector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rareflow import display
from rareflow.analysis.costs import lever_cost_summary
from rareflow.analysis.ensemble import Keep, run_ensemble
from rareflow.analysis.memory import RunPlan, available_memory, gib, plan_run
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import (
    SHORT_THRESHOLD,
    buyer_groups_view,
    format_spread,
    monthly_by_sector,
    partner_additions,
    sector_summary,
    summary_columns,
    summary_rows,
)
from rareflow.cli.focal import FocalCountryOption, focal
from rareflow.cli.options import (
    CalibrationOption,
    DataDirOption,
    DrawsOption,
    FormatOption,
    SeedOption,
    StoreOption,
)
from rareflow.cli.output import Format, emit, err_console
from rareflow.cli.progress import progress_bar
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import InputError
from rareflow.scenario.load import load_scenario, preset_names, preset_text
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.ensembles import store_ensemble
from rareflow.store.records import record_of_run

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or notes.")]


def ensemble_title(sc: Scenario, chunks: int) -> str:
    """Title of the shortfall table of a run made in chunks (``run`` streamed, ``ensemble``)."""
    return (
        f"{sc.name}: shortfall by sector in {sc.country}, {sc.horizon_months} months "
        f"from {sc.start:%Y-%m}, {sc.draws:,} draws in {chunks:,} chunks "
        "(median [5th..95th percentile])"
    )


def scenario_text(name_or_path: str) -> str:
    """Return the scenario's YAML as given: the preset's text or the file's."""
    if name_or_path in preset_names():
        return preset_text(name_or_path)
    return Path(name_or_path).read_text(encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the ``run`` command."""

    @app.command("run")
    def run_command(
        scenario: Annotated[str, typer.Argument(help="A preset name or a scenario YAML file.")],
        draws: DrawsOption = None,
        seed: SeedOption = None,
        fmt: FormatOption = Format.TABLE,
        store: StoreOption = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not keep the run.")] = False,
        data: DataDirOption = None,
        calibration: CalibrationOption = None,
        quiet: QuietOption = False,
        short_above: Annotated[
            float,
            typer.Option(
                "--short-above",
                min=0.0,
                max=100.0,
                help="A month counts as short when more than this % of its requirement is "
                "not delivered.",
            ),
        ] = 100 * SHORT_THRESHOLD,
        country: FocalCountryOption = None,
        by: Annotated[
            str,
            typer.Option(
                "--by",
                help="Summarise by 'sector' or by 'buyer' group (sector/group: each group's "
                "route, grades and own cover).",
            ),
        ] = "sector",
    ) -> None:
        """Run a scenario; print shortfall by sector: when, how long, how deep, what it costs.

        Physical shortfall (magnets not available) and demand forgone at high prices are shown
        apart; both become units and value of production lost.
        """
        if by not in ("sector", "buyer"):
            raise InputError(f"--by: expected 'sector' or 'buyer', got '{by}'")
        sc = with_overrides(load_scenario(scenario), draws=draws, seed=seed)
        dataset = load_dataset(data, calibration)
        sc, gaps = focal(sc, country, dataset)
        plan = plan_run(sc, dataset)
        if plan.stream:
            if short_above != 100 * SHORT_THRESHOLD:
                raise InputError(
                    f"--short-above: a run of {sc.draws:,} draws is streamed in chunks (it does "
                    "not fit in memory in one piece) and its summary uses the default "
                    f"{100 * SHORT_THRESHOLD:g}%; leave --short-above out, or run fewer draws"
                )
            if by != "sector":
                raise InputError(
                    f"--by {by}: a run of {sc.draws:,} draws is streamed in chunks and summarised "
                    "by sector only; run fewer draws"
                )
            _run_streamed(scenario, sc, dataset, plan, fmt, store, no_store=no_store, quiet=quiet)
            if not quiet and fmt is Format.TABLE:
                for gap in gaps:
                    err_console.print(f"gap: {gap}", style="dim", markup=False)
            return
        try:
            with progress_bar(f"{sc.name}: {sc.draws:,} draws", quiet) as bar:
                result = run(sc, dataset=dataset, progress=bar)
        except MemoryError:
            raise InputError(
                f"ran out of memory running {sc.draws:,} draws in one piece (estimated "
                f"{gib(plan.whole_bytes)}, {gib(available_memory())} available now); "
                f"stream it: rareflow ensemble {scenario} --draws {sc.draws} --keep full"
            ) from None
        values = sector_values(dataset, sc.country)
        shown = result.results
        if by == "buyer":
            shown, values = buyer_groups_view(result.results, values)
        summary = sector_summary(shown, sc.step_months, values, short_above / 100)
        added = partner_additions(result.results)
        run_id = None
        if not no_store:
            record = record_of_run(result, scenario_text(scenario), dataset.user_dir)
            run_id = RunStore(store).save(record, result.results)
        unvalued = sorted(
            str(s["sector"])
            for s in summary
            if s["sector"] not in values or values[s["sector"]].inr_per_unit is None
        )
        document = {
            "run_id": run_id,
            "scenario": sc.name,
            "country": sc.country,
            "draws": sc.draws,
            "seed": sc.seed,
            "data_version": result.data_version,
            "code_version": result.code_version,
            "short_above_pct": short_above,
            "sectors": [
                {**s, "monthly": monthly}
                for s, monthly in zip(
                    summary, monthly_by_sector(shown, values).values(), strict=True
                )
            ],
            "unvalued_sectors": unvalued,
            "lever_costs": lever_cost_summary(result.results),
            "partners_adding": added,
            "notes": list(result.notes),
            "data_gaps": gaps,
            "warnings": list(result.warnings),
        }
        title = (
            f"{sc.name}: shortfall by {'buyer group' if by == 'buyer' else 'sector'} in "
            f"{sc.country}, {sc.horizon_months} months "
            f"from {sc.start:%Y-%m}, {sc.draws:,} draws (median [5th..95th percentile]; a "
            f"month is short above {short_above:g}% of its requirement)"
        )
        rows = summary_columns(summary) if fmt is Format.CSV else summary_rows(summary)
        emit(rows, fmt, title=title, document=document)
        if not summary:
            err_console.print(
                f"no sector of {sc.country} has a magnet requirement in the dataset "
                "(sector_activity.csv x intensities.csv); add your own data to see shortfalls"
            )
        if unvalued and fmt is Format.TABLE:
            err_console.print(
                "no value of production in the dataset (unit_values.csv) for: "
                + ", ".join(display.name(s) for s in unvalued),
                markup=False,
            )
        for warning in result.warnings:
            err_console.print(f"warning: {warning}", style="yellow", markup=False)
        costs = lever_cost_summary(result.results)
        if fmt is Format.TABLE and costs is not None:
            _print_costs(costs, sc.start.strftime("%Y-%m"))
        if not quiet and fmt is Format.TABLE:
            for note in result.notes:
                err_console.print(f"data: {note}", style="dim")
            for gap in gaps:
                err_console.print(f"gap: {gap}", style="dim", markup=False)
            adding = [r for r in added if (r["added_t"]["median"] or 0.0) > 0]
            if adding:
                err_console.print(
                    "partners adding magnets above their first month's rate over the horizon "
                    "(t, median [5th..95th]): "
                    + "; ".join(
                        f"{display.name(r['partner'])} +{format_spread(r['added_t'])} "
                        f"({r['share']:.0%})"
                        for r in adding
                    ),
                    markup=False,
                )
            if run_id:
                err_console.print(f"stored as run {run_id} (see `rareflow runs show {run_id}`)")


def _band(x: dict[str, float | None], fmt: str = "{:,.0f}") -> str:
    if x["median"] is None:
        return "none"
    return f"{fmt.format(x['median'])} [{fmt.format(x['p5'])}..{fmt.format(x['p95'])}]"


def _print_costs(costs: dict[str, Any], start: str) -> None:
    """Print each lever's cost over the horizon, its NPV and its yearly medians (₹ crore)."""
    rate = float(costs["discount_rate"])
    rows = costs["rows"]
    assert isinstance(rows, list)
    lines = [
        f"lever costs, ₹ crore (median [5th..95th] over draws; NPV at {rate:.1%}/yr to {start}, "
        f"{costs['discount_basis']}; by year: each component's median, summed):"
    ]
    for row in rows:
        if row["year"] != "total":
            continue
        npv = {
            k: row[f"npv_inr_crore{s}"] for k, s in (("median", ""), ("p5", "_p5"), ("p95", "_p95"))
        }
        total = {
            k: row[f"inr_crore{s}"] for k, s in (("median", ""), ("p5", "_p5"), ("p95", "_p95"))
        }
        by_year: dict[str, float] = {}
        for r in rows:
            if r["lever"] == row["lever"] and r["year"] != "total":
                by_year[r["year"]] = by_year.get(r["year"], 0.0) + r["inr_crore"]
        years = [f"{y} {v:,.0f}" for y, v in sorted(by_year.items())]
        lines.append(
            f"  {row['lever']}: {_band(total)} undiscounted, NPV {_band(npv)}"
            + (f"; {', '.join(years)}" if years and row["lever"] != "all" else "")
        )
    investments = costs["investments"]
    assert isinstance(investments, list)
    lines.extend(
        f"  {one['lever']}: the plant is built in {one['share_of_draws_built']:.0%} of draws; "
        f"investor's IRR {_band(one['irr'], '{:.1%}')}, NPV US$ "
        f"{_band(one['npv_usd_million'], '{:,.0f}')} million"
        for one in investments
    )
    for line in lines:
        err_console.print(line, markup=False)


def _run_streamed(
    given: str,
    sc: Scenario,
    dataset: Dataset,
    plan: RunPlan,
    fmt: Format,
    store: str | None,
    *,
    no_store: bool,
    quiet: bool,
) -> None:
    """Run too large for memory in one piece: chunks through the ensemble path, or refuse.

    Stored, every variable is kept (``--keep full``); with ``--no-store``, only the per-draw
    figures the summary needs.
    """
    ensemble = f"rareflow ensemble {given} --draws {sc.draws} --keep summary"
    if not plan.fits_streamed():
        raise InputError(
            f"--draws {sc.draws:,}: even streamed, the per-draw figures take about "
            f"{gib(plan.scalars_bytes)} and {gib(plan.available_bytes)} is available; run it on "
            f"a cluster: {ensemble} --scheduler ADDRESS (see the README, Scale)"
        )
    note = (
        f"{sc.draws:,} draws of every variable need about {gib(plan.whole_bytes)} in one piece "
        f"and {gib(plan.available_bytes)} is available: streaming in chunks of "
        f"{plan.chunk:,} draws"
    )
    label = f"{sc.name}: {sc.draws:,} draws, chunks"
    if no_store:
        if not quiet:
            err_console.print(f"note: {note}, keeping the per-draw summary only (--no-store)")
        with progress_bar(label, quiet) as bar:
            result = run_ensemble(
                sc, dataset=dataset, chunk=plan.chunk, keep=Keep.SUMMARY, progress=bar
            )
    else:
        runs = RunStore(store)
        fits, need, free = plan.store_fits(runs.path)
        if not fits:
            raise InputError(
                f"--draws {sc.draws:,}: every variable of every draw would take about "
                f"{gib(need)} in the run store at {runs.path} ({gib(free)} free); keep the "
                f"per-draw figures only: {ensemble} (or add --no-store)"
            )
        if not quiet:
            err_console.print(f"note: {note} into the store (as `ensemble --keep full`)")
        with progress_bar(label, quiet) as bar:
            result = store_ensemble(
                sc,
                runs,
                scenario_given=scenario_text(given),
                kind="run",
                dataset=dataset,
                chunk=plan.chunk,
                keep=Keep.FULL,
                progress=bar,
            )
    rows = summary_columns(result.summary) if fmt is Format.CSV else summary_rows(result.summary)
    emit(rows, fmt, title=ensemble_title(sc, result.chunks), document=result.document())
    if not quiet and fmt is Format.TABLE:
        for line in result.notes:
            err_console.print(f"data: {line}", style="dim")
        if result.run_id:
            err_console.print(
                f"stored as run {result.run_id} (see `rareflow runs show {result.run_id}`)"
            )
