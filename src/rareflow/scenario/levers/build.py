"""Shared pieces of the build-out levers: dates to steps, ramps, schedules and partner reliability.

The supply levers (finance, partner_capacity, exploration_pipeline, private_blocks,
south_south_corridor, bioleaching) each bring capacity or supply that starts at a date that may
differ by draw (lead times are uncertain) and ramps up linearly, as :class:`Capacity` and
:class:`MagnetScheme` do. These helpers write such schedules into the network and spread capital
spending over the months before first output.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from rareflow.errors import InputError, ScenarioError
from rareflow.ids import SINTERED_NDFEB, Sector
from rareflow.model.network import (
    COMMODITY_IDS,
    GRADES,
    HEAVY_GRADES,
    LIGHT_GRADES,
    FloatArray,
    Network,
)
from rareflow.scenario.context import CompileContext
from rareflow.units import DAYS_PER_MONTH

if TYPE_CHECKING:
    from rareflow.data.load import Dataset
    from rareflow.scenario.levers.base import CostContext

PARTNER_GROUPINGS = ("MSP", "QUAD")
RELIABILITY_SHARED = 0.95
"""Default reliability of a partner sharing a grouping with the focal country (assumption)."""
RELIABILITY_OTHER = 0.85
"""Default reliability of any other partner (assumption)."""
MONTHS_PER_YEAR = 12.0


def step_index(net: Network, day: date) -> float:
    """Return the steps from the start of the horizon to the month of ``day`` (not clipped)."""
    first = net.time[0].astype("datetime64[M]")
    months = (np.datetime64(day, "M") - first).astype(np.int64)
    return float(months) / net.step_months


def ramp(net: Network, online: FloatArray, ramp_months: FloatArray) -> FloatArray:
    """(D, T) share of full output per step: 0 before ``online`` (a step per draw), then linear.

    Parameters
    ----------
    net
        The network (its grid).
    online
        (D or 1,) step of first output (fractional steps round down to the step they fall in).
    ramp_months
        (D or 1,) months from first output to full output.
    """
    steps = np.arange(net.n_steps, dtype=np.float64)[None, :]
    start = np.floor(np.asarray(online, dtype=np.float64).reshape(-1, 1))
    months_on = (steps - start + 1.0) * net.step_months
    share = np.clip(months_on / np.maximum(ramp_months.reshape(-1, 1), 1e-9), 0.0, 1.0)
    return np.where(steps >= start, share, 0.0)


def per_step(net: Network, t_per_year: FloatArray, share: FloatArray) -> FloatArray:
    """(D, T) tonnes per step from a yearly rate (D or 1,) and a ramp share (D, T)."""
    return np.asarray(t_per_year, dtype=np.float64).reshape(-1, 1) / 12.0 * net.step_months * share


def add_capacity(ctx: CompileContext, process: str, added: FloatArray) -> None:
    """Add (D or 1, T) throughput per step to a domestic process's capacity."""
    net = ctx.net
    j = [p.id for p in net.processes].index(process)
    if added.shape[0] > 1:
        ctx.widen("capacity")
    net.capacity[:, :, j] += added


def add_local_supply(ctx: CompileContext, material: str, added: FloatArray) -> None:
    """Add (D or 1, T) domestic supply per step of a material (mine output: concentrate_mixed)."""
    net = ctx.net
    if added.shape[0] > 1:
        ctx.widen("local_supply")
    net.local_supply[:, :, COMMODITY_IDS.index(material)] += added


def add_mined_concentrate(ctx: CompileContext, added: FloatArray, add_separation: bool) -> None:
    """Add (D or 1, T) domestic mine output of mixed concentrate, and separation if asked.

    New mines or blocks that come with their own NdPr separation add that much capacity too.
    """
    add_local_supply(ctx, "concentrate_mixed", added)
    if add_separation:
        add_capacity(ctx, "separation_ndpr", added)


def add_contract(
    ctx: CompileContext, partner: str, material: str, added: FloatArray, path: str
) -> None:
    """Add (D or 1, T) volume per step a partner ships under the contract of lever ``path``."""
    net = ctx.net
    if net.contract.shape[0] == 1 and added.shape[0] > 1:
        net.contract = np.repeat(net.contract, added.shape[0], axis=0)
    p, k = ctx.partner(partner), COMMODITY_IDS.index(material)
    net.contract[:, :, p, k] += added
    previous = net.contract_ledger.get(path)
    mine = added if previous is None else previous[2] + added
    net.contract_ledger[path] = (p, k, mine)


def delivered_under(net: Network, path: str) -> FloatArray:
    """(D, T) what the contract of lever ``path`` delivers, after any supply cut."""
    p, k, volume = net.contract_ledger[path]
    shape = (net.n_draws, net.n_steps)
    return np.broadcast_to(volume, shape) * (1.0 - np.broadcast_to(net.cut[:, :, p, k], shape))


def grouping_reliability(ctx: CompileContext, partner: str) -> FloatArray:
    """Reliability of a partner as :class:`SupplyContract` sets it by default.

    0.95 if the partner shares the Minerals Security Partnership or the Quad with the focal
    country, else 0.85 (assumptions; groupings.csv).
    """
    groups = ctx.chain_groupings()
    shared = any(
        partner in groups.get(g, set()) and ctx.chain.country in groups.get(g, set())
        for g in PARTNER_GROUPINGS
    )
    return np.array([RELIABILITY_SHARED if shared else RELIABILITY_OTHER])


def spread_before(
    net: Network, online: FloatArray, months: FloatArray, total: FloatArray
) -> FloatArray:
    """(D, T) a total (D or 1,) spent evenly over the ``months`` before the ``online`` step.

    Spending that falls before the horizon is not counted (it is sunk by the first step).
    """
    steps = np.arange(net.n_steps, dtype=np.float64)[None, :]
    on = np.floor(np.asarray(online, dtype=np.float64).reshape(-1, 1))
    n = np.maximum(
        np.round(np.asarray(months, dtype=np.float64).reshape(-1, 1) / net.step_months), 1
    )
    building = (steps >= on - n) & (steps < on)
    out = np.where(building, np.asarray(total, dtype=np.float64).reshape(-1, 1) / n, 0.0)
    return np.broadcast_to(out, (net.n_draws, net.n_steps)).copy()


def binomial(uniform: FloatArray, n: FloatArray, p: FloatArray) -> FloatArray:
    """Binomial counts by inverse CDF from uniforms: one count per draw, reproducible by path."""
    from scipy import stats  # noqa: PLC0415 - slow import, needed only when compiling

    return np.asarray(stats.binom.ppf(uniform, np.round(n), np.clip(p, 0.0, 1.0)), dtype=np.float64)


def table_value(dataset: Dataset, table: str, **keys: str) -> float:
    """Return the chosen value of the row of a dataset table matching ``keys`` (column=value)."""
    rows = dataset.chosen(table)
    for column, value in keys.items():
        rows = rows[rows[column] == value]
    if rows.empty:
        wanted = ", ".join(f"{c}={v}" for c, v in keys.items())
        raise InputError(f"{table}.csv has no chosen row with {wanted}")
    return float(rows["value"].iloc[0])


def plant_lead_years(dataset: Dataset, process: str) -> float:
    """Years to build a plant for a process (lead_times.csv).

    Magnet plants: 2 years (the REPM scheme's gestation period, PIB 2025); separation and metal
    plants: 8 years (new refining and processing plants, IEA GCMO 2025).
    """
    kind = "magnet_plant" if process.startswith("magnet") else "processing_plant"
    return table_value(dataset, "lead_times", project_type=kind, metric="typical")


def adaptation_figure(
    ctx: CompileContext, path: str, field: str, mechanism: str, parameter: str, sector: str
) -> FloatArray:
    """Draw an adaptation mechanism's figure for a sector (adaptation.csv) on ``path.field.sector``.

    The sector's own row, else the mechanism's ``all`` row, drawn triangular over its range with
    its value as mode (fixed without a range).

    Raises
    ------
    rareflow.errors.ScenarioError
        If the dataset has neither row: the lever must give the field.
    """
    from rareflow.data.query import adaptation  # noqa: PLC0415 - pandas, at compile
    from rareflow.scenario.exposure import draw_fact  # noqa: PLC0415 - compile-time only

    found = adaptation(ctx.dataset, ctx.chain.country).get(mechanism)
    fact = None if found is None else found.get(parameter, sector)
    if fact is None:
        raise ScenarioError(
            f"{path}.{field}: adaptation.csv has no {mechanism} {parameter} for sector "
            f"'{sector}' or 'all' in {ctx.chain.country}; give {field} in the lever"
        )
    return draw_fact(ctx.sampler, fact, f"{path}.{field}.{sector}")


def chosen_segments(net: Network, sectors: list[str], groups: list[str], path: str) -> list[int]:
    """Positions in ``net.segments`` of the chosen sectors' buyer groups (all when none named).

    A group is named as in ``rareflow exposure``: ``large_multi_source`` or
    ``two_wheeler/large_multi_source``.

    Raises
    ------
    rareflow.errors.ScenarioError
        If a sector has no need in the network or a group is not one of the sectors'.
    """
    out: list[int] = []
    for sector in sectors:
        if sector not in [s.value for s in net.sectors]:
            raise ScenarioError(f"{path}.sectors: '{sector}' is not a sector of this network")
    mine = [
        g
        for g, name in enumerate(net.segments)
        if net.sectors[net.segment_sector[g]].value in sectors
    ]
    if not groups:
        return mine
    for group in groups:
        hits = [g for g in mine if group in (net.segments[g], net.segments[g].split("/", 1)[1])]
        if not hits:
            known = ", ".join(net.segments[g] for g in mine)
            raise ScenarioError(
                f"{path}.groups: '{group}' is not a buyer group of {', '.join(sectors)} "
                f"(expected one of: {known})"
            )
        out.extend(h for h in hits if h not in out)
    return sorted(out)


def chosen_by_sector(
    net: Network, sectors: list[Sector], groups: list[str], path: str
) -> list[tuple[Sector, list[int]]]:
    """Return the chosen buyer groups (:func:`chosen_segments`) sector by sector.

    Sectors none of whose groups was chosen are left out.
    """
    chosen = chosen_segments(net, [s.value for s in sectors], groups, path)
    out = []
    for sector in sectors:
        s = net.sectors.index(sector)
        segs = [g for g in chosen if net.segment_sector[g] == s]
        if segs:
            out.append((sector, segs))
    return out


def in_effect(net: Network, start: date, lag_months: FloatArray, ramp_months: float) -> FloatArray:
    """(D or 1, T) share of a measure in effect: 0 until ``start`` + lag, then linear to 1.

    The lag (months, per draw) counts from the decision on ``start``; a fractional month falls
    in the step it reaches.
    """
    first = step_index(net, start) + (start.day - 1) / DAYS_PER_MONTH / net.step_months
    online = first + np.asarray(lag_months, dtype=np.float64).reshape(-1) / net.step_months
    return ramp(net, online, np.full(online.shape, ramp_months))


def segment_magnet_split(net: Network) -> FloatArray:
    """(D, T, G, K) share of each segment's magnet need in each commodity.

    Its sector's requirement per magnet: base x drawn scale x demand multiplier.
    """
    shape = (net.n_draws, net.n_steps, len(net.sectors), len(COMMODITY_IDS))
    req = np.broadcast_to(net.requirement0[None, None] * net.need_scale[:, None], shape)
    req = req * np.broadcast_to(net.demand_multiplier, shape)
    total = req.sum(axis=3, keepdims=True)
    frac = np.divide(req, total, out=np.zeros(shape), where=total > 0)
    return np.asarray(frac[:, :, net.segment_sector])


def segment_grade_split(net: Network) -> FloatArray:
    """(D, T, G, Q) share of each segment's magnet need in each grade class (``GRADES``).

    The segment's ``heavy_share`` splits its sintered NdFeB into heavy and light.
    """
    frac = segment_magnet_split(net)
    heavy = np.broadcast_to(net.heavy_share, (net.n_draws, net.n_steps, len(net.segments)))
    out = np.zeros((*frac.shape[:3], len(GRADES)))
    for q, g in enumerate(GRADES):
        part = frac[..., COMMODITY_IDS.index(g.material)]
        if g.id in HEAVY_GRADES:
            part = part * heavy
        elif g.id in LIGHT_GRADES:
            part = part * (1.0 - heavy)
        out[..., q] = part
    return out


def reached_grades(net: Network) -> FloatArray:
    """(T, Q) 1 where a control in force at the step licenses a grade's bare magnet."""
    active: NDArray[np.bool_] = np.asarray(np.asarray(net.licensed > 0).any(axis=2))  # (C, T, K)
    out = np.zeros((net.n_steps, len(GRADES)))
    for q, g in enumerate(GRADES):
        k = COMMODITY_IDS.index(g.material)
        covers: NDArray[np.bool_] = np.asarray(net.grade_reach[:, q] > 0)
        out[:, q] = np.any(active[:, :, k] & covers[:, None], axis=0)
    return out


def segment_need(ctx: CostContext) -> FloatArray:
    """(D, T, G) each segment's magnet need in the run (t per step, all routes and grades)."""
    need = ctx.results["segment_requirement"].transpose("draw", "time", "segment")
    return np.asarray(need.to_numpy(), dtype=np.float64)


def sintered_value(ctx: CostContext, path: str) -> float:
    """US$ per t of sintered NdFeB at the dataset's price (prices.csv).

    Raises
    ------
    rareflow.errors.ScenarioError
        If the dataset has no price for it.
    """
    price = ctx.usd_per_kg(SINTERED_NDFEB)
    if np.isnan(price):
        raise ScenarioError(
            f"{path}: the dataset has no price for {SINTERED_NDFEB}; the lever's cost is a share "
            "of the magnets' value (add one to prices.csv)"
        )
    return price * 1000.0
