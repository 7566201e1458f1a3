"""Bioleaching and other extraction routes: more rare earths from domestic ore.

The article names bioleaching, with bacteria or fungi in place of toxic acids, as a cleaner way
to extract rare earths. In the laboratory, Aspergillus ficuum leached 75.4% of the rare earths
from monazite at 0.6% w/v pulp density in 9 days, against 55.7% for citric acid leaching of the
same monazite (Walailak J. Sci. Tech. 2013; process_parameters.csv), and fungi leave thorium in
the solid residue (Brisson et al. 2016). These are shake-flask figures, not plant results.

The route treats ``ore_t_per_year`` of ore (monazite by default) from a start date, after
permits (capped by a ``regulatory_reform``) and building, and adds the rare earths it recovers
beyond what the route it replaces recovered from that ore, ``ore x grade x (recovery -
baseline_recovery)``, to domestic concentrate (t REO). Ore nobody treats today (tailings,
low-grade sand) has a baseline of 0.

Environmental side figures are physical, not US$, so they are not cost lines:
:func:`side_figures` gives, per year of ore treated, the leach medium (t ore / pulp density:
~167 m3 per t at 0.6% w/v), the organic acids the fungus makes in it (14.3 g/L citric and 1.4 g/L
oxalic acid: ~2.4 t and ~0.23 t per t of ore) and the thorium left in the residue (4-12% of
monazite, ANSTO 2012; midpoint 8%).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import model_validator

from rareflow.model.network import FloatArray, Network
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext, Modifiers
from rareflow.scenario.distributions import Number, bounds
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    add_mined_concentrate,
    per_step,
    ramp,
    spread_before,
    step_index,
)
from rareflow.scenario.sampling import Sampler

#: Pulp density of the best laboratory result, t of ore per m3 of medium (0.6% w/v).
PULP_T_PER_M3 = 0.006
#: Organic acids the fungus made, t per m3 of medium (14.3 g/L citric, 1.4 g/L oxalic).
CITRIC_T_PER_M3 = 0.0143
OXALIC_T_PER_M3 = 0.0014
#: Thorium per t of monazite (ANSTO 2012: 4-12%; midpoint).
THORIUM_PER_T_MONAZITE = 0.08


def side_figures(ore_t: float) -> dict[str, float]:
    """Physical side figures of bioleaching ``ore_t`` t of monazite (laboratory conditions).

    Returns
    -------
    dict
        ``medium_m3`` (ore / pulp density), ``citric_acid_t`` and ``oxalic_acid_t`` made by the
        fungus in that medium, and ``thorium_in_residue_t`` (8% of monazite).
    """
    medium = ore_t / PULP_T_PER_M3
    return {
        "medium_m3": medium,
        "citric_acid_t": medium * CITRIC_T_PER_M3,
        "oxalic_acid_t": medium * OXALIC_T_PER_M3,
        "thorium_in_residue_t": ore_t * THORIUM_PER_T_MONAZITE,
    }


class Bioleaching(LeverBase):
    """An extraction route that recovers more rare earths from domestic ore.

    Parameters
    ----------
    ore_t_per_year
        Ore the route treats at full scale, t per year (no cited plan: give yours). Side figures
        per t of monazite (laboratory, not costed): ~167 m3 of leach medium, ~2.4 t citric and
        ~0.23 t oxalic acid made by the fungus, 0.08 t of thorium left in the residue.
    reo_grade
        t REO per t of ore (0.55 for Indian monazite: 7.23 Mt REO in 13.15 Mt,
        india_resources.csv; process_parameters.csv).
    recovery
        Share of the REO the route recovers (0.754: Aspergillus ficuum on monazite, laboratory,
        process_parameters.csv).
    baseline_recovery
        Share the route it replaces recovered from the same ore (0: ore not treated today; 0.557
        for citric acid leaching, process_parameters.csv).
    start
        Date the route is decided; permits and building follow.
    permit_months
        Months of permits (assumption: 0); a ``regulatory_reform`` caps it (processing).
    build_months
        Months to build and scale up the plant (assumption: 24).
    ramp_months
        Months from first output to full output (assumption: 12).
    add_separation
        Also add separation capacity for the recovered REO.
    cost_usd_per_t_ore
        Operating cost per t of ore treated (no cited figure: give your own).
    capex_usd_million
        Capital cost, paid over the build (no cited figure: 0).
    """

    type: Literal["bioleaching"] = "bioleaching"
    ore_t_per_year: Annotated[Number, Spec("t ore/yr", 0, 1e8)]
    reo_grade: Annotated[Number, Spec("share", 0, 1)] = 0.55
    recovery: Annotated[Number, Spec("share", 0, 1)] = 0.754
    baseline_recovery: Annotated[Number, Spec("share", 0, 1)] = 0.0
    start: Day
    permit_months: Annotated[Number, Spec("month", 0, 240)] = 0.0
    build_months: Annotated[Number, Spec("month", 0, 240)] = 24.0
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    add_separation: bool = True
    cost_usd_per_t_ore: Annotated[Number | None, Spec("USD/t ore", 0, 1e6)] = None
    capex_usd_million: Annotated[Number | None, Spec("USD million", 0, 1e5)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "cost_usd_per_t_ore": CostDefault("unit_cost", "usd_per_t"),
        "capex_usd_million": CostDefault("capex", "usd_million", scale_by="ore_t_per_year"),
    }

    @model_validator(mode="after")
    def _check(self) -> Bioleaching:
        if bounds(self.recovery)[0] < bounds(self.baseline_recovery)[1]:
            raise ValueError("recovery must not be below baseline_recovery (a gain, not a loss)")
        return self

    def _online(
        self, net: Network, sampler: Sampler, modifiers: Modifiers, path: str
    ) -> FloatArray:
        permits = self.draw(sampler, path, "permit_months")
        months = modifiers.permit_months("processing", permits) + self.draw(
            sampler, path, "build_months"
        )
        return step_index(net, self.start) + np.floor(months / net.step_months)

    def _ore(self, net: Network, sampler: Sampler, modifiers: Modifiers, path: str) -> FloatArray:
        """(D, T) ore treated per step."""
        share = ramp(
            net,
            self._online(net, sampler, modifiers, path),
            self.draw(sampler, path, "ramp_months"),
        )
        return per_step(net, self.draw(sampler, path, "ore_t_per_year"), share)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the extra REO recovered to domestic concentrate (and separation capacity)."""
        s = ctx.sampler
        gain = self.draw(s, path, "reo_grade") * (
            self.draw(s, path, "recovery") - self.draw(s, path, "baseline_recovery")
        )
        extra = self._ore(ctx.net, s, ctx.modifiers, path) * gain.reshape(-1, 1)
        add_mined_concentrate(ctx, extra, self.add_separation)

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Operating cost on ore treated, and capex over the build."""
        net = ctx.network
        ore = np.broadcast_to(
            self._ore(net, ctx.sampler, ctx.modifiers, path), (net.n_draws, net.n_steps)
        )
        per_t = ctx.per_draw(ctx.record(path).inputs["cost_usd_per_t_ore"])
        online = self._online(net, ctx.sampler, ctx.modifiers, path)
        months = np.maximum((online - step_index(net, self.start)) * net.step_months, 1.0)
        capex = ctx.record(path).inputs["capex_usd_million"] * 1e6
        return [
            CostLine("opex", ore * per_t),
            CostLine("capex", spread_before(net, online, months, capex)),
        ]
