"""Compile phase: ``uncertain:`` scalings of dataset rows (activity, intensities, growth, plants).

A scenario's ``uncertain:`` entries scale chosen rows of a table by a drawn factor; each must
match a row that feeds the focal country's network, or it is refused (no silent no-op). The
industry cover's scaling is applied with the baseline (:func:`scaled_cover`); the others after
the levers (:func:`scale_inputs`), on the network they wrote.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rareflow import units
from rareflow.data import query
from rareflow.data.load import Dataset
from rareflow.errors import ScenarioError
from rareflow.model.chain import Chain
from rareflow.model.network import COMMODITIES, COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.compile.work import PROCESS_MATERIALS, Work
from rareflow.scenario.sampling import Sampler
from rareflow.scenario.schema import Scenario


def uncertain_rows(
    scenario: Scenario, ds: Dataset, sampler: Sampler, table: str
) -> list[tuple[str, pd.DataFrame, FloatArray]]:
    """Path, matching chosen rows and drawn factor of each ``uncertain:`` entry on a table."""
    out = []
    for i, entry in enumerate(scenario.uncertain):
        if entry.table != table:
            continue
        path = f"uncertain[{i}]"
        rows = ds.chosen(table)
        for column, value in entry.where.items():
            rows = rows[rows[column].astype(str) == str(value)]
        if rows.empty:
            raise ScenarioError(
                f"{path}.where: no chosen row of {table}.csv matches {dict(entry.where)}"
            )
        out.append((path, rows, sampler.draw(entry.scale, f"{path}.scale")))
    return out


def _keys(rows: pd.DataFrame, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {tuple(map(str, r)) for r in rows[list(columns)].itertuples(index=False)}


def _unused(path: str, table: str, country: str) -> ScenarioError:
    return ScenarioError(
        f"{path}.where: no row of {table}.csv it matches feeds {country}'s network (the engine "
        "uses the focal country's chosen rows: activity of the latest year and preferred metric, "
        "the latest growth, operating plant capacity, the industry magnet cover when "
        "parameters.industry_cover_weeks is not set)"
    )


def scaled_cover(
    scenario: Scenario, ds: Dataset, sampler: Sampler, country: str, weeks: FloatArray
) -> FloatArray:
    """Industry magnet cover times the scale of ``uncertain:`` entries on inventories.csv."""
    key = ("country", "holder", "material", "metric", "year")
    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "inventories"):
        used = query.latest_rows(
            query.matching(ds, "inventories", country=country, holder="industry", metric="cover")
        )
        if scenario.parameters.industry_cover_weeks is not None or not (
            _keys(rows, key) & _keys(used, key)
        ):
            raise _unused(path, "inventories", country)
        weeks = weeks * factor
    return weeks


def _scale_network(
    scenario: Scenario, ds: Dataset, sampler: Sampler, chain: Chain, net: Network
) -> FloatArray | None:
    """Apply ``uncertain:`` scalings of activity, intensities, growth and plant capacity.

    The base-year requirement has no draw axis, so activity and intensities scale through
    ``demand_multiplier`` (D, T, S, K); growth becomes (D, S); plant capacity adds its scaled part
    to ``capacity`` (D, T, J). Returns the (D, S, K) scale of the requirement (None if there is
    none), for opening stocks.
    """
    if not scenario.uncertain:
        return None
    country = chain.country
    sector_of = {s.value: i for i, s in enumerate(net.sectors)}
    detail = chain.demand.detail.to_dict("records")
    req: FloatArray | None = None

    def scale_requirement(pairs: set[tuple[str, str]], factor: FloatArray) -> None:
        nonlocal req
        m = np.ones((factor.shape[0], len(net.sectors), len(COMMODITIES)))
        for sector, material in pairs:
            if material in COMMODITY_IDS:
                m[:, sector_of[sector], COMMODITY_IDS.index(material)] = factor
        req = m if req is None else req * m

    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "sector_activity"):
        hit = _keys(rows, ("country", "sector", "metric", "year"))
        pairs = {
            (str(r["sector"]), str(r["material"]))
            for r in detail
            if (country, str(r["sector"]), str(r["activity_metric"]), str(r["activity_year"]))
            in hit
        }
        if not pairs:
            raise _unused(path, "sector_activity", country)
        scale_requirement(pairs, factor)
    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "intensities"):
        hit = _keys(rows, ("sector", "material", "metric"))
        pairs = {
            (str(r["sector"]), str(r["material"]))
            for r in detail
            if (str(r["sector"]), str(r["material"]), "intensity") in hit
            or (
                isinstance(r["share_source"], str)
                and (str(r["sector"]), str(r["material"]), "share_of_units") in hit
            )
        }
        if not pairs:
            raise _unused(path, "intensities", country)
        scale_requirement(pairs, factor)
    if req is not None:
        net.demand_multiplier = net.demand_multiplier * req[:, None]

    growth = ds.chosen("demand_growth")
    growth = query.latest_rows(growth[growth["country"] == country], ("sector",))
    growth = growth[growth["sector"].isin(chain.demand.growth.coords["sector"].to_numpy())]
    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "demand_growth"):
        by_sector = ("country", "sector", "year")
        sectors = {k[1] for k in _keys(growth, by_sector) & _keys(rows, by_sector)}
        if not sectors:
            raise _unused(path, "demand_growth", country)
        m = np.ones((factor.shape[0], len(net.sectors)))
        for sector in sectors:
            m[:, sector_of[sector]] = factor
        net.growth = net.growth * m

    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "facilities"):
        found = _keys(rows, ("facility", "material", "metric", "year"))
        added = np.zeros((factor.shape[0], len(net.processes)))
        used = False
        for j, process in enumerate(net.processes):
            for plant in query.plants(ds, country, materials=PROCESS_MATERIALS[process.id]):
                key = (plant.facility, plant.material, "capacity", str(plant.figure.year))
                if key in found:
                    used = True
                    output = plant.figure.value * units.get(plant.figure.unit).to_base
                    base = process.throughput(output) * net.step_months / 12.0
                    added[:, j] += (factor - 1.0) * base
        if not used:
            raise _unused(path, "facilities", country)
        net.capacity = net.capacity + added[:, None, :]
    return req


def uncertain_paths() -> tuple[str, ...]:
    """Paths of the numbers every compile draws, in a fixed order (Sobol dimensions)."""
    return (
        "parameters.industry_cover_weeks",
        "parameters.upstream_cover_weeks",
        "parameters.restock_months",
        "prices.elasticity",
        "prices.adjustment",
    )


def scale_inputs(work: Work) -> None:
    """Apply the ``uncertain:`` scalings to the network the levers wrote."""
    ctx = work.ctx
    work.requirement_scale = _scale_network(
        work.scenario, ctx.dataset, ctx.sampler, ctx.chain, ctx.net
    )
