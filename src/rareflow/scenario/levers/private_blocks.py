"""Private blocks: rare-earth blocks opened to private miners, who must handle thorium.

The MMDR Amendment Act 2023 removed six of the twelve atomic minerals from the reserved list and
opened them to private firms; critical-mineral blocks have been auctioned since (policies.csv).
The article notes that rare-earth blocks go to private players who dispose of their radioactive
by-products safely. Monazite carries 4-12% thorium (ANSTO 2012; process_parameters.csv) in 50-68%
rare earths; Indian monazite holds 0.55 t REO per t (7.23 Mt REO in 13.15 Mt, india_resources.csv),
so a tonne of REO mined from it brings 0.04/0.55 to 0.12/0.55 t of thorium (0.073-0.218,
rareflow-derived). Handling thorium needs a licence under the Atomic Energy (Working of the
Mines, Minerals and Handling of Prescribed Substances) Rules 1984 (AERB).

Each draw licenses a binomial number of the auctioned blocks (one uniform per draw, by inverse
CDF), which come online after permits (capped by a ``regulatory_reform``) and construction, ramp
up, and add concentrate to local supply, up to a licensed cap on private output. The cost is the
handling of the thorium they bring up, scaled by a reform's ``thorium_cost_factor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np

from rareflow.model.network import FloatArray, Network
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext, Modifiers
from rareflow.scenario.distributions import Number, Uniform
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    add_mined_concentrate,
    binomial,
    per_step,
    ramp,
    spread_before,
    step_index,
)
from rareflow.scenario.sampling import Sampler

#: t of thorium per t REO of Indian monazite: 0.04-0.12 Th per t monazite (ANSTO 2012) over
#: 0.55 t REO per t monazite (india_resources.csv) (rareflow-derived).
THORIUM_PER_REO = Uniform(low=0.04 / 0.55, high=0.12 / 0.55)


class PrivateBlocks(LeverBase):
    """Rare-earth blocks mined by private firms under a thorium-handling licence.

    Parameters
    ----------
    blocks
        Blocks auctioned to private firms (no cited count of rare-earth blocks: give yours).
    auction
        Date of the auction; permits and construction follow.
    t_reo_per_block
        Output of a block at full production, t REO per year (assumption: uniform 500-1,500).
    licence_probability
        Chance a block is licensed (AERB) to handle its radioactive by-products (assumption:
        uniform 0.5-0.9); a ``regulatory_reform`` with clear rules may replace it.
    permit_months
        Months of permits after the auction (assumption: uniform 24-60; no cited Indian figure);
        a ``regulatory_reform`` caps it at its extraction limit.
    build_months
        Months to build the mine after its permits (assumption: 24).
    ramp_months
        Months from first output to full output (assumption: 24).
    licensed_cap_t_reo_per_year
        Most the licences allow all private blocks together, t REO per year (assumption: no cap).
    thorium_t_per_t_reo
        Thorium brought up per t REO (default uniform 0.073-0.218 for beach-sand monazite,
        rareflow-derived from ANSTO 2012 and india_resources.csv; hard-rock ores differ).
    thorium_handling_usd_per_t
        Cost of handling, storing and disposing of a tonne of thorium in by-products (no cited
        figure: give your own).
    capex_usd_million_per_block
        Capital cost of each licensed block's mine and concentrator, spent over its build.
        Default: lever_costs.csv (USD 20-150 M, ASSUMPTION).
    add_separation
        Also add separation capacity (t REO fed per year) for the blocks' output.
    """

    streams: ClassVar[tuple[str, ...]] = ("licensed",)
    type: Literal["private_blocks"] = "private_blocks"
    blocks: Annotated[Number, Spec("count", 0, 1e4)]
    auction: Day
    t_reo_per_block: Annotated[Number, Spec("t REO/yr", 0, 1e6)] = Uniform(low=500.0, high=1500.0)
    licence_probability: Annotated[Number, Spec("probability", 0, 1)] = Uniform(low=0.5, high=0.9)
    permit_months: Annotated[Number, Spec("month", 0, 240)] = Uniform(low=24.0, high=60.0)
    build_months: Annotated[Number, Spec("month", 0, 240)] = 24.0
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 24.0
    licensed_cap_t_reo_per_year: Annotated[Number | None, Spec("t REO/yr", 0, 1e7)] = None
    thorium_t_per_t_reo: Annotated[Number, Spec("t Th/t REO", 0, 1)] = THORIUM_PER_REO
    thorium_handling_usd_per_t: Annotated[Number, Spec("USD/t Th", 0, 1e8)]
    capex_usd_million_per_block: Annotated[Number | None, Spec("USD million", 0, 1e5)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "capex_usd_million_per_block": CostDefault("capex", "usd_million")
    }
    add_separation: bool = True

    def _output(
        self, net: Network, sampler: Sampler, modifiers: Modifiers, path: str
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(D, T) concentrate from the licensed blocks, t REO per step, and how it comes.

        Also returned: the blocks licensed, the step of first output and the build months (each
        (1 or D,)).
        """

        def draw(name: str) -> FloatArray:
            return sampler.draw(getattr(self, name), f"{path}.{name}")

        reformed = modifiers.licence_probability
        chance = draw("licence_probability") if reformed is None else reformed
        u = sampler.draw(Uniform(low=0.0, high=1.0), f"{path}.licensed")
        licensed = binomial(u, draw("blocks"), chance)
        months = modifiers.permit_months("extraction", draw("permit_months")) + draw("build_months")
        online = step_index(net, self.auction) + np.floor(months / net.step_months)
        share = ramp(net, online, draw("ramp_months"))
        out = per_step(net, licensed * draw("t_reo_per_block"), share)
        if self.licensed_cap_t_reo_per_year is not None:
            cap = draw("licensed_cap_t_reo_per_year") / 12.0 * net.step_months
            out = np.minimum(out, cap.reshape(-1, 1))
        return out, licensed, online, draw("build_months")

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the blocks' concentrate to local supply, and separation capacity if asked."""
        out, licensed, online, build = self._output(ctx.net, ctx.sampler, ctx.modifiers, path)
        ctx.record(path).outputs.update(mined=out, licensed=licensed, online=online, build=build)
        add_mined_concentrate(ctx, out, self.add_separation)

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Capex of the licensed blocks over their build; thorium handling, scaled by a reform."""
        net = ctx.network
        record = ctx.record(path)
        mined = record.outputs["mined"]
        thorium = ctx.per_draw(self.draw(ctx.sampler, path, "thorium_t_per_t_reo"))
        usd = ctx.per_draw(self.draw(ctx.sampler, path, "thorium_handling_usd_per_t"))
        factor = ctx.modifiers.thorium_cost_factor
        scale = ctx.per_draw(factor) if factor is not None else 1.0
        handled = np.broadcast_to(mined * thorium * usd * scale, (net.n_draws, net.n_steps))
        per_block = record.inputs["capex_usd_million_per_block"] * 1e6
        capex = spread_before(
            net,
            record.outputs["online"],
            record.outputs["build"],
            record.outputs["licensed"] * per_block,
        )
        return [CostLine("capex", capex), CostLine("thorium_handling", handled)]
