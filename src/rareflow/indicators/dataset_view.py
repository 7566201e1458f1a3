"""Concentration and net import reliance computed on rareflow's own dataset.

Applies :mod:`rareflow.indicators.concentration` (HHI, top-1 and top-3 shares) and
:mod:`rareflow.indicators.import_reliance` (USGS net import reliance) to the embedded tables:

- world supply by stage: ``stage_shares`` (IEA GCMO 2024/2025 and rareflow-derived rows) and
  ``mine_production`` (USGS *Mineral Commodity Summaries*), one group per stage (or edition) and
  year, so that shares from different years are never mixed;
- a focal country's imports: the partner shares of ``trade``;
- net import reliance by stage for the focal country, only where production and imports are
  tonnages on the same basis (t REO is never mixed with t magnet).

A rest-of-world (``ROW``) row is a residual of many countries, not one supplier. Counting it as one
overstates the HHI; splitting it into infinitely many suppliers would remove its square. Both
bounds are given: ``hhi`` (ROW as one supplier) and ``hhi_min`` (ROW's square removed).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rareflow.data import query
from rareflow.data.load import Dataset
from rareflow.data.query import latest_rows
from rareflow.errors import DataError, Problem
from rareflow.ids import Stage
from rareflow.indicators.concentration import concentration_table
from rareflow.indicators.import_reliance import net_import_reliance

RESIDUAL = "ROW"
"""Code of a rest-of-world residual (many countries in one row)."""
WORLD = "WLD"
"""Code of a world total (not a supplier)."""


def _with_bounds(
    frame: pd.DataFrame, keys: list[str], over: str, sources: pd.Series[Any]
) -> pd.DataFrame:
    """Concentration of each group with the residual's bounds and the groups' source ids."""
    table = concentration_table(frame, over=over, by=keys)
    share = frame.assign(_share=frame["value"] / frame.groupby(keys)["value"].transform("sum"))
    residual = share[share[over] == RESIDUAL].groupby(keys)["_share"].sum()
    table["residual_share"] = residual.reindex(table.index).fillna(0.0)
    table["hhi_min"] = table["hhi"] - table["residual_share"] ** 2
    table["sources"] = (
        frame.assign(_src=sources)
        .groupby(keys)["_src"]
        .agg(lambda s: ";".join(sorted(set(map(str, s)))))
    )
    return table.reset_index()


def stage_concentration(dataset: Dataset) -> pd.DataFrame:
    """Return HHI and top shares of world output by stage and year (stage_shares.csv).

    Chosen ``share_of_output`` rows, one group per (stage, year). Sources: IEA *Global Critical
    Minerals Outlook* 2024 and 2025 and the rows derived from USGS MCS 2026 (see each row's
    ``sources``); the metal-stage shares are a rareflow ASSUMPTION in the dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``stage``, ``year``, ``hhi``, ``hhi_min``, ``top1_share``, ``top3_share``,
        ``top1``, ``n_suppliers``, ``residual_share``, ``sources``; HHI on the fraction scale.
    """
    rows = dataset.chosen("stage_shares")
    rows = rows[rows["metric"] == "share_of_output"]
    out = _with_bounds(rows, ["stage", "year"], "country", rows["source_id"])
    order = {s.value: s.order for s in Stage}
    return out.sort_values(
        ["stage", "year"], key=lambda c: c.map(order) if c.name == "stage" else c
    )


def mine_concentration(dataset: Dataset) -> pd.DataFrame:
    """Return HHI and top shares of world mine production by edition and year (USGS MCS).

    Chosen rows of mine_production.csv, world total (``WLD``) excluded: shares are of the sum of
    the listed countries, which USGS rounds, so they can differ slightly from country / world.

    Returns
    -------
    pandas.DataFrame
        As :func:`stage_concentration`, keyed by ``edition`` and ``year``.
    """
    rows = dataset.chosen("mine_production")
    rows = rows[rows["country"] != WORLD]
    return _with_bounds(rows, ["edition", "year"], "country", rows["source_id"])


def import_concentration(dataset: Dataset, country: str) -> pd.DataFrame:
    """Return HHI and top shares of a country's imports by partner (trade.csv shares).

    Chosen rows with a ``share_of_*`` metric, one group per (material, metric, year). For India
    these are the Indian Express 2025 (all permanent magnets, quantity) and ICRA 2025 (rare-earth
    magnets, value) China shares with their rest-of-world residuals.

    Raises
    ------
    DataError
        If trade.csv has no partner share for the country.

    Returns
    -------
    pandas.DataFrame
        As :func:`stage_concentration`, keyed by ``material``, ``metric`` and ``year``, with
        ``partner`` as the supplier.
    """
    rows = dataset.chosen("trade")
    rows = rows[
        (rows["importer"] == country)
        & rows["metric"].astype(str).str.startswith("share_of_")
        & (rows["partner"] != WORLD)
    ]
    if rows.empty:
        raise DataError(
            [
                Problem(
                    f"no chosen share_of_* rows for importer {country}", "trade.csv", None, "metric"
                )
            ]
        )
    return _with_bounds(rows, ["material", "metric", "year"], "partner", rows["source_id"])


_MAGNET_IMPORTS = "magnets_rare_earth"
"""Rare-earth magnets only (t_magnet): the trade material on the magnet stage's basis."""
_BASIS = {
    Stage.MINING: "t_reo",
    Stage.SEPARATION: "t_oxide",
    Stage.METAL: "t_metal",
    Stage.MAGNET: "t_magnet",
}
"""Mass basis of each stage (stages.csv ``output_basis``)."""


def _tonnes_per_year(value: float, unit: str, basis: str) -> float | None:
    """Convert a yearly tonnage (``t_x_per_year`` or ``kg_x_per_year``) to t; None if off-basis."""
    if unit == f"{basis}_per_year":
        return value
    if unit == "kg_" + basis.removeprefix("t_") + "_per_year":
        return value / 1000
    return None


def _production(
    dataset: Dataset, country: str, stage: Stage, basis: str
) -> tuple[float | None, float, str, str]:
    """Cited output, operating capacity (t per year), a note and source ids of one stage."""
    if stage is Stage.MINING:
        mines = dataset.chosen("mine_production")
        mines = mines[(mines["country"] == country) & (mines["unit"] == basis)]
        if not mines.empty:
            row = mines.sort_values(["year", "edition"]).iloc[-1]
            note = f"production {float(row['value']):g} {basis} ({row['edition']}, {row['year']})"
            return float(row["value"]), 0.0, note, str(row["source_id"])
    outputs = dataset.chosen("stage_output")
    outputs = outputs[
        (outputs["country"] == country)
        & (outputs["stage"] == stage.value)
        & (outputs["metric"] == "output")
    ]
    for _, row in outputs.sort_values("year", ascending=False).iterrows():
        tonnes = _tonnes_per_year(float(row["value"]), str(row["unit"]), basis)
        if tonnes is not None:
            note = f"production {tonnes:g} {basis} (stage_output.csv, {row['year']})"
            return tonnes, 0.0, note, str(row["source_id"])
    capacity = 0.0
    used: list[str] = []
    sources: list[str] = []
    for plant in query.plants(dataset, country, stage=stage.value):
        tonnes = _tonnes_per_year(plant.figure.value, plant.figure.unit, basis)
        if tonnes is not None:
            capacity += tonnes
            used.append(f"{plant.facility} {tonnes:g} t")
            sources.extend(plant.figure.sources)
    note = "no cited output; " + (
        f"operating capacity {', '.join(used)} bounds it" if used else "no operating plant"
    )
    return None, capacity, note, ";".join(sources)


def net_import_reliance_by_stage(dataset: Dataset, country: str) -> pd.DataFrame:
    """Return the focal country's net import reliance by stage where the data allow it.

    USGS *Mineral Commodity Summaries* definition (:func:`~rareflow.indicators.import_reliance.
    net_import_reliance`). A stage is computed only when imports are a tonnage on the stage's
    basis (t REO, t oxide, t metal, t magnet; for magnets the rare-earth magnets only, not all
    permanent magnets with ferrite); otherwise it is listed with ``status`` 'skipped' and the
    reason, never mixed. No export tonnage exists in the dataset, so exports are 0 (ASSUMPTION).

    Production is the cited output when there is one. Without it, the output of the operating
    plants lies between 0 and their capacity, so the reliance is given as a range:
    ``net_import_reliance`` with production 0 (the upper end) and ``net_import_reliance_low`` with
    production at capacity. For India's magnets (2025): imports 700 t (Moneycontrol 2025), only
    IREL's 3 t/yr SmCo plant operating, so the reliance lies in [0.996, 1].

    Returns
    -------
    pandas.DataFrame
        Columns ``stage``, ``basis``, ``year``, ``production``, ``capacity``, ``imports``,
        ``exports``, ``net_import_reliance``, ``net_import_reliance_low`` (fractions, or 'E' for a
        net exporter), ``status``, ``note``, ``sources``.
    """
    trade = dataset.chosen("trade")
    trade = trade[(trade["importer"] == country) & (trade["partner"] == WORLD)]
    quantities = trade[trade["metric"] == "quantity"]
    out: list[dict[str, Any]] = []
    for stage, basis in _BASIS.items():
        imports = quantities[quantities["unit"] == basis]
        if stage is Stage.MAGNET:
            imports = imports[imports["material"] == _MAGNET_IMPORTS]
        row: dict[str, Any] = {"stage": stage.value, "basis": basis}
        if imports.empty:
            others = trade[trade["material"].isin(_stage_materials(dataset, stage))]
            seen = ", ".join(
                sorted(
                    {f"{m} ({u})" for m, u in zip(others["material"], others["unit"], strict=True)}
                )
            )
            out.append(
                row
                | {
                    "status": "skipped",
                    "note": f"no import tonnage in {basis} in trade.csv"
                    + (f"; only {seen}" if seen else ""),
                }
            )
            continue
        imp = latest_rows(imports).iloc[0]
        quantity = float(imp["value"])
        produced, capacity, note, sources = _production(dataset, country, stage, basis)
        high = net_import_reliance(produced or 0.0, quantity, 0.0)
        low = high if produced is not None else net_import_reliance(capacity, quantity, 0.0)
        out.append(
            row
            | {
                "year": int(imp["year"]),
                "production": produced,
                "capacity": capacity,
                "imports": quantity,
                "exports": 0.0,
                "net_import_reliance": high,
                "net_import_reliance_low": low,
                "status": "computed",
                "note": f"imports {imp['material']} {quantity:g} {basis} ({imp['year']}); {note}. "
                "ASSUMPTION: exports 0 (no figure)",
                "sources": ";".join(
                    s for s in (str(imp["source_id"]), sources, "rareflow-assumption") if s
                ),
            }
        )
    columns = [
        "stage",
        "basis",
        "year",
        "production",
        "capacity",
        "imports",
        "exports",
        "net_import_reliance",
        "net_import_reliance_low",
        "status",
        "note",
        "sources",
    ]
    return pd.DataFrame(out, columns=columns)


def _stage_materials(dataset: Dataset, stage: Stage) -> list[str]:
    """Materials of a stage (materials.csv)."""
    materials = dataset.table("materials")
    return materials[materials["stage"] == stage.value]["material"].astype(str).tolist()
