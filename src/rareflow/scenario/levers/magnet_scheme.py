"""Magnet manufacturing incentive: integrated magnet plants, capital subsidy, sales incentive.

Defaults are the Scheme to Promote Manufacturing of Sintered Rare Earth Permanent Magnets
(Cabinet, 26 November 2025; policies.csv, PIB): ₹7,280 crore in all, ₹750 crore capital subsidy
and ₹6,450 crore sales incentive over 5 years, capped at ₹2,150 per kg; 6,000 t/yr of integrated
(oxide-to-magnet) capacity from up to 5 firms of up to 1,200 t/yr; 2 years to build. Other
schemes (the earlier ₹1,345 crore proposal, a generic production-linked incentive) are the same
lever with other numbers.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np

from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostLine, LeverBase

#: Integrated plants make their own metal: metal-making capacity added with the magnet capacity.
INTEGRATED_METALS = ("metal_ndpr", "metal_dy", "metal_tb")


class MagnetScheme(LeverBase):
    """An incentive scheme that brings integrated sintered-NdFeB plants.

    Parameters
    ----------
    capacity_t_per_year
        Magnet capacity the scheme brings (6,000 t/yr).
    award
        Date the plants are awarded; output starts ``build_years`` later.
    build_years
        Years to build (2).
    ramp_months
        Months from first output to full capacity (assumption: 12).
    capital_subsidy_inr_crore
        Capital subsidy, paid evenly over the build (₹750 crore).
    incentive_inr_per_kg
        Sales incentive per kg of magnet made (cap ₹2,150/kg).
    incentive_years
        Years the sales incentive is paid from first output (5).
    incentive_budget_inr_crore
        Ceiling on all sales incentives (₹6,450 crore).
    integrated
        The plants also make their NdPr, Dy and Tb metal (an integrated, oxide-to-magnet plant).
    """

    type: Literal["magnet_scheme"] = "magnet_scheme"
    capacity_t_per_year: Annotated[Number, Spec("t/yr", 0, 1e6)] = 6000.0
    award: Day
    build_years: Annotated[Number, Spec("yr", 0, 20)] = 2.0
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    capital_subsidy_inr_crore: Annotated[Number, Spec("INR crore", 0, 1e6)] = 750.0
    incentive_inr_per_kg: Annotated[Number, Spec("INR/kg", 0, 1e5)] = 2150.0
    incentive_years: Annotated[float, Spec("yr", 0, 30)] = 5.0
    incentive_budget_inr_crore: Annotated[float, Spec("INR crore", 0, 1e6)] = 6450.0
    integrated: bool = True

    def _online_step(self, ctx: CompileContext, build: np.ndarray) -> np.ndarray:
        """(D or 1,) step of first output."""
        award = ctx.step_of(self.award) if ctx.active(self.award).any() else ctx.net.n_steps
        return award + np.round(build * 12.0 / ctx.net.step_months)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add magnet (and, if integrated, metal) capacity, ramped from first output."""
        net = ctx.net
        size = self.draw(ctx.sampler, path, "capacity_t_per_year")
        build = self.draw(ctx.sampler, path, "build_years")
        ramp = self.draw(ctx.sampler, path, "ramp_months")
        online = self._online_step(ctx, build)
        steps = np.arange(net.n_steps)[None, :]
        months_on = (steps - online[:, None] + 1) * net.step_months
        frac = np.clip(months_on / np.maximum(ramp[:, None], 1e-9), 0.0, 1.0)
        added = size[:, None] / 12.0 * net.step_months * frac  # t magnet per step
        ids = [p.id for p in net.processes]
        if net.capacity.shape[0] == 1 and added.shape[0] > 1:
            net.capacity = np.repeat(net.capacity, added.shape[0], axis=0)
        j = ids.index(SINTERED_NDFEB)
        net.capacity[:, :, j] += added
        if self.integrated:
            for metal in INTEGRATED_METALS:
                need = net.proc_in[j, COMMODITY_IDS.index(metal)]
                if need > 0:
                    net.capacity[:, :, ids.index(metal)] += added * need

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Capital subsidy over the build, and the sales incentive on output within its budget."""
        net = ctx.network
        rate = ctx.inr_per_usd()
        build = self.draw(ctx.sampler, path, "build_years")
        award_day = np.datetime64(self.award, "M")
        award = int(np.searchsorted(net.time.astype("datetime64[M]"), award_day))
        online = award + np.round(build * 12.0 / net.step_months)
        steps = np.arange(net.n_steps)[None, :]
        online_d = np.broadcast_to(online, (net.n_draws,))[:, None]
        building = (steps >= award) & (steps < online_d)
        n_build = np.maximum(online_d - award, 1)
        subsidy = ctx.per_draw(self.draw(ctx.sampler, path, "capital_subsidy_inr_crore"))
        capital = np.where(building, subsidy / n_build, 0.0) * INR_CRORE / rate
        made = (
            ctx.results["production"]
            .sel(process=SINTERED_NDFEB)
            .transpose("draw", "time")
            .to_numpy()
        )
        per_kg = ctx.per_draw(self.draw(ctx.sampler, path, "incentive_inr_per_kg"))
        window = (steps >= online_d) & (
            steps < online_d + self.incentive_years * 12 / net.step_months
        )
        incentive_inr = np.where(window, made * 1000.0 * per_kg, 0.0)
        budget = self.incentive_budget_inr_crore * INR_CRORE
        paid_before = np.cumsum(incentive_inr, axis=1) - incentive_inr
        incentive_inr = np.clip(budget - paid_before, 0.0, incentive_inr)
        return [
            CostLine("capital_subsidy", capital),
            CostLine("sales_incentive", incentive_inr / rate),
        ]
