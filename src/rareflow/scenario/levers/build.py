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

from rareflow.errors import InputError
from rareflow.model.network import COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.context import CompileContext

if TYPE_CHECKING:
    from rareflow.data.load import Dataset

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
