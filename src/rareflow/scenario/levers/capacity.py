"""Capacity build-out: a domestic process gains capacity from a date, ramping up linearly.

It stands for new separation, metal or magnet plants at home (the sintered-magnet scheme's
plants, IREL's NdPr metal expansion) and is the building block of the larger levers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np

from rareflow.dims import DRAW, TIME
from rareflow.model.network import MAGNETS
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import (
    INR_CRORE,
    CostContext,
    CostDefault,
    CostLine,
    EffectProbe,
    LeverBase,
    LinearEffect,
)

PROCESS_IDS = (
    "separation_ndpr",
    "metal_ndpr",
    "metal_dy",
    "metal_tb",
    "metal_sm",
    "magnet_ndfeb_sintered",
    "magnet_ndfeb_bonded",
    "magnet_smco",
)
ProcessId = Literal[
    "separation_ndpr",
    "metal_ndpr",
    "metal_dy",
    "metal_tb",
    "metal_sm",
    "magnet_ndfeb_sintered",
    "magnet_ndfeb_bonded",
    "magnet_smco",
]


class Capacity(LeverBase):
    """New capacity at a domestic process.

    Parameters
    ----------
    process
        The process that gains capacity (its output is counted on its own basis: t of oxide,
        metal or magnet per year).
    t_per_year
        Capacity added at full ramp-up, per year.
    online
        First day of output.
    ramp_months
        Months from first output to full capacity (linear).
    capex_inr_crore
        Capital cost, paid evenly over the year before first output. Default: lever_costs.csv,
        scaled by ``t_per_year`` (a 500 t/yr NdPr metal plant, USD 10-40 M, ASSUMPTION; for a
        magnet process Midwest's Rs 1,000 crore for 5,000 t/yr, the ``finance`` row).
    opex_usd_per_kg
        Operating cost per kg of output. Default: lever_costs.csv (metal USD 5-20/kg, magnets
        USD 10-25/kg, feed excluded; ASSUMPTIONs).
    """

    type: Literal["capacity"] = "capacity"
    process: ProcessId
    t_per_year: Annotated[Number, Spec("t/yr", 0, 1e7)]
    online: Day
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    capex_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None
    opex_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "capex_inr_crore": CostDefault("capex", "inr_crore", scale_by="t_per_year"),
        "opex_usd_per_kg": CostDefault("opex", "usd_per_kg"),
    }

    def cost_default(self, name: str) -> CostDefault:
        """Read a magnet plant's rows (``finance``) for a magnet process, else a metal plant's."""
        spec = self.cost_defaults[name]
        if self.process in MAGNETS:
            return CostDefault(spec.parameter, spec.unit, spec.scale_by, lever="finance")
        return spec

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the ramped capacity to the process's schedule."""
        net = ctx.net
        j = [p.id for p in net.processes].index(self.process)
        per_output = net.processes[j].throughput(1.0)  # t_per_year is stated in the output
        size = self.draw(ctx.sampler, path, "t_per_year")
        ramp = self.draw(ctx.sampler, path, "ramp_months")
        start = ctx.step_of(self.online)
        on = ctx.active(self.online)
        months_on = (np.arange(net.n_steps) - start) * net.step_months + net.step_months
        frac = np.where(
            on[None, :],
            np.clip(months_on[None, :] / np.maximum(ramp[:, None], 1e-9), 0.0, 1.0),
            0.0,
        )
        added = size[:, None] * per_output / 12.0 * net.step_months * frac  # (D, T)
        if net.capacity.shape[0] == 1 and added.shape[0] > 1:
            net.capacity = np.repeat(net.capacity, added.shape[0], axis=0)
        net.capacity[:, :, j] += added

    def effect_model(self, probe: EffectProbe) -> LinearEffect | None:
        """Return the extra magnet output the engine made, per t/yr, inputs permitting.

        Measured at the probe's level and interpolated through zero (a concave response is
        understated).
        """
        if self.process not in MAGNETS:
            return None
        made = probe.results["production"].sel(process=self.process) - probe.base_results[
            "production"
        ].sel(process=self.process)
        return LinearEffect(
            "t_per_year", made.transpose(DRAW, TIME).to_numpy() / max(probe.level, 1e-12)
        )

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Capex over the twelve months before first output; opex on what the process makes."""
        net = ctx.network
        capex = ctx.per_draw(ctx.record(path).inputs["capex_inr_crore"])
        opex = ctx.per_draw(ctx.record(path).inputs["opex_usd_per_kg"])
        online = int(
            np.searchsorted(net.time.astype("datetime64[M]"), np.datetime64(self.online, "M"))
        )
        steps = np.arange(net.n_steps)[None, :]
        before = max(12 // net.step_months, 1)
        building = (steps >= online - before) & (steps < online)
        capital = np.where(building, capex / before, 0.0) * INR_CRORE / ctx.inr_per_usd()
        made = ctx.results["production"].sel(process=self.process).transpose("draw", "time")
        return [
            CostLine("capex", np.broadcast_to(capital, (net.n_draws, net.n_steps))),
            CostLine("opex", made.to_numpy() * 1000.0 * opex),
        ]
