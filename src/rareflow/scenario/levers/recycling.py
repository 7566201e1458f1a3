"""Recycling: end-of-life magnets collected and recovered into secondary supply.

The magnets that leave use each month come from a dynamic stock model
(:mod:`rareflow.stocks`): each sector's magnet inflows (its requirement, back-cast before the
horizon at the dataset's growth rate: an assumption, since no series of India's historic magnet
use is cited) age out with the sector's lifetime distribution (lifetimes.csv). A share is
collected, a share of that is recovered, and it enters the focal country's stock as secondary
supply: sintered magnets again (magnet-to-magnet), or NdPr and Dy oxide (hydrometallurgy).

End-of-life recycling of rare earths is below 1% today (process_parameters.csv); the EU's
Critical Raw Materials Act sets a 25% recycling benchmark (policies.csv); Japan built a recycling
industry after 2010 (the strategy article).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from pydantic import model_validator

from rareflow import dims
from rareflow.ids import Element
from rareflow.model.network import COMMODITY_IDS, MAGNETS, TRACKED_ELEMENTS, FloatArray
from rareflow.scenario.common import Day, check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostLine, LeverBase
from rareflow.stocks import NormalLifetime, inflow_driven

SINTERED = "magnet_ndfeb_sintered"
HISTORY_YEARS = 40
"""Years of back-cast inflows before the horizon, so today's stock in use is complete."""


def end_of_life(ctx: CompileContext) -> FloatArray:
    """(T,) tonnes of magnet leaving use each step, summed over sectors.

    Inflows are each sector's magnet requirement (all magnet types) at its growth rate, back-cast
    ``HISTORY_YEARS`` before the horizon (an assumption); lifetimes are normal with the mean and
    standard deviation of lifetimes.csv (mostly labelled assumptions there).
    """
    net = ctx.net
    mags = [COMMODITY_IDS.index(m) for m in MAGNETS]
    per_year = net.requirement0[:, mags].sum(axis=1) * 12.0 / net.step_months  # (S,)
    growth = net.growth[0]  # (S,) central growth (the first draw's, or the only one)
    first_year = int(str(net.time[0])[:4])
    last_year = int(str(net.time[-1])[:4])
    years = np.arange(first_year - HISTORY_YEARS, last_year + 1)
    rate = (1.0 + growth[None, :]) ** (years[:, None] - first_year) * per_year[None, :]
    sectors = [s.value for s in net.sectors]
    inflow = xr.DataArray(
        rate, coords={dims.YEAR: years, dims.SECTOR: sectors}, dims=[dims.YEAR, dims.SECTOR]
    )
    table = ctx.dataset.chosen("lifetimes")
    normal = table[table["distribution"] == "normal"]
    mean = {
        r["sector"]: float(r["value"]) for _, r in normal[normal["parameter"] == "mean"].iterrows()
    }
    std = {
        r["sector"]: float(r["value"]) for _, r in normal[normal["parameter"] == "sd"].iterrows()
    }
    lifetime = NormalLifetime(
        mean=xr.DataArray(
            [mean.get(s, 15.0) for s in sectors], coords={dims.SECTOR: sectors}, dims=[dims.SECTOR]
        ),
        std=xr.DataArray(
            [std.get(s, 5.0) for s in sectors], coords={dims.SECTOR: sectors}, dims=[dims.SECTOR]
        ),
    )
    out = inflow_driven(inflow, lifetime)["outflow"].sum(dims.SECTOR)  # t per year
    by_year = dict(zip(out[dims.YEAR].to_numpy().tolist(), out.to_numpy().tolist(), strict=True))
    step_years = np.array([int(str(t)[:4]) for t in net.time])
    return np.array([by_year[y] for y in step_years]) / 12.0 * net.step_months


class Recycling(LeverBase):
    """Collection and recovery of end-of-life magnets.

    Parameters
    ----------
    route
        ``magnet_to_magnet`` (scrap made into sintered magnets again) or ``hydromet_to_oxide``
        (leached back to NdPr and Dy oxide).
    start
        First month of recycling.
    ramp_months
        Months to reach the full collection rate.
    collection_rate
        Share of end-of-life magnets collected (assumption: 0.3; India's e-waste is mostly
        handled informally, the strategy article notes).
    recovery
        Share of the collected magnet (or of its rare earths) recovered (assumption: 0.9).
    capacity_t_per_year
        Most scrap (t of magnet) processed per year; empty: no limit.
    cost_usd_per_kg
        Processing cost per kg of scrap processed (no cited figure: default 0, set your own).
    """

    type: Literal["recycling"] = "recycling"
    route: Literal["magnet_to_magnet", "hydromet_to_oxide"] = "magnet_to_magnet"
    start: Day
    ramp_months: Number = 24.0
    collection_rate: Number = 0.3
    recovery: Number = 0.9
    capacity_t_per_year: Number | None = None
    cost_usd_per_kg: Number = 0.0

    @model_validator(mode="after")
    def _check(self) -> Recycling:
        check_range(self.ramp_months, 0, 240, "ramp_months")
        check_range(self.collection_rate, 0, 1, "collection_rate")
        check_range(self.recovery, 0, 1, "recovery")
        check_range(self.cost_usd_per_kg, 0, 1e4, "cost_usd_per_kg")
        if self.capacity_t_per_year is not None:
            check_range(self.capacity_t_per_year, 0, 1e7, "capacity_t_per_year")
        return self

    def processed(self, ctx: CompileContext, path: str) -> FloatArray:
        """(D or 1, T) tonnes of scrap magnet processed per step."""
        net = ctx.net
        scrap = end_of_life(ctx)[None, :]
        ramp = ctx.sampler.draw(self.ramp_months, f"{path}.ramp_months")
        collect = ctx.sampler.draw(self.collection_rate, f"{path}.collection_rate")
        months_on = (np.arange(net.n_steps) - net.step_of(self.start) + 1) * net.step_months
        on = net.active(self.start)[None, :]
        frac = np.where(
            on, np.clip(months_on[None, :] / np.maximum(ramp[:, None], 1e-9), 0, 1), 0.0
        )
        taken = scrap * collect[:, None] * frac
        if self.capacity_t_per_year is not None:
            cap = ctx.sampler.draw(self.capacity_t_per_year, f"{path}.capacity_t_per_year")
            taken = np.minimum(taken, cap[:, None] / 12.0 * net.step_months)
        return np.asarray(taken)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the recovered material to local supply (magnets or oxides)."""
        net = ctx.net
        processed = self.processed(ctx, path)
        recovery = ctx.sampler.draw(self.recovery, f"{path}.recovery")[:, None]
        if processed.shape[0] > 1 or recovery.shape[0] > 1:
            ctx.widen("local_supply")
        net.recycled_ledger[path] = processed
        if self.route == "magnet_to_magnet":
            net.local_supply[:, :, COMMODITY_IDS.index(SINTERED)] += processed * recovery
            return
        # Leached to oxide: element mass is kept, so oxide = metal in scrap / metal per t oxide.
        magnet = net.content[COMMODITY_IDS.index(SINTERED)]
        col = {e: i for i, e in enumerate(TRACKED_ELEMENTS)}
        for oxide, elements in (
            ("oxide_ndpr", (Element.Nd, Element.Pr)),
            ("oxide_dy", (Element.Dy,)),
        ):
            k = COMMODITY_IDS.index(oxide)
            metal_in_scrap = sum(magnet[col[e]] for e in elements)
            metal_per_oxide = sum(net.content[k, col[e]] for e in elements)
            if metal_per_oxide > 0:
                net.local_supply[:, :, k] += processed * recovery * metal_in_scrap / metal_per_oxide

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the processing cost on the scrap processed."""
        net = ctx.network
        per_kg = ctx.per_draw(ctx.sampler.draw(self.cost_usd_per_kg, f"{path}.cost_usd_per_kg"))
        processed = np.broadcast_to(net.recycled_ledger[path], (net.n_draws, net.n_steps))
        return [CostLine("processing", processed * 1000.0 * per_kg)]
