"""South-South corridor: African concentrate to Indian refineries, over new ports and rail.

The article proposes a South-South Critical Minerals Corridor joining Africa's rare-earth
producers to India's refineries, with South-South investment in ports and rail (BRICS or other
multilateral development banks). Candidate producers in the dataset: Madagascar (mine output,
mine_production.csv), Tanzania and South Africa (reserves, reserves.csv), Malawi (countries.csv).

Once the transport links are built (a lead time: no cited figure, an assumption), the producer
ships contracted concentrate (t REO) to the focal country, ramping up, as a contract outside the
baseline import split; what arrives depends on the producer's reliability (groupings.csv, as
``supply_contract``). Domestic separation must treat it, so by default the lever adds separation
capacity for the delivered volume. The corridor's onward leg (Indian oxides and magnets to
South-East Asian manufacturers) is outside the focal country's chain the engine follows, so it is
not modelled: the lever covers the leg into India.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import field_validator

from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.common import CountryCode, Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number, Uniform
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    MONTHS_PER_YEAR,
    add_capacity,
    add_contract,
    delivered_under,
    grouping_reliability,
    per_step,
    ramp,
    spread_before,
    step_index,
)
from rareflow.scenario.sampling import Sampler

CONCENTRATE = "concentrate_mixed"


class SouthSouthCorridor(LeverBase):
    """A concentrate link from an African producer to the focal country's separation plants.

    Parameters
    ----------
    producer
        The producing country (ISO alpha-3; e.g. MDG, TZA, ZAF, MWI; not China).
    t_reo_per_year
        Concentrate contracted at full ramp-up, t REO per year.
    investment
        Date the port and rail investment is made.
    build_years
        Years to build the transport links (assumption: uniform 2-5; no cited figure).
    ramp_months
        Months from first shipment to the full volume (assumption: 12).
    reliability
        Share of the contracted volume delivered. Default: 0.95 if the producer shares the MSP or
        the Quad with the focal country, else 0.85 (assumptions, as ``supply_contract``).
    add_separation
        Also add separation capacity (t REO fed per year) for the delivered volume.
    infrastructure_capex_usd_million
        The focal country's share of the ports and rail, paid over the build (no cited figure:
        0; give your own).
    premium
        Premium over the concentrate's value on delivered volume (assumption: 0.2, as
        ``supply_contract``).
    price_usd_per_kg
        Value of the concentrate per kg REO; default: its NdPr oxide yield in separation times
        the USGS NdPr oxide price (rareflow-derived; other elements are not counted, and the
        yield is the focal country's ore profile).
    """

    type: Literal["south_south_corridor"] = "south_south_corridor"
    producer: CountryCode
    t_reo_per_year: Annotated[Number, Spec("t REO/yr", 0, 1e7)]
    investment: Day
    build_years: Annotated[Number, Spec("yr", 0, 40)] = Uniform(low=2.0, high=5.0)
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    reliability: Annotated[Number | None, Spec("share", 0, 1)] = None
    add_separation: bool = True
    infrastructure_capex_usd_million: Annotated[Number | None, Spec("USD million", 0, 1e6)] = None
    premium: Annotated[Number | None, Spec("share", 0, 100)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "infrastructure_capex_usd_million": CostDefault("capex", "usd_million"),
        "premium": CostDefault("premium", "fraction"),
    }
    price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None

    @field_validator("producer")
    @classmethod
    def _not_china(cls, v: str) -> str:
        if v == "CHN":
            raise ValueError("a South-South corridor is for a producer other than China")
        return v

    def partners(self) -> tuple[str, ...]:
        """Return the producer, who joins the network."""
        return (self.producer,)

    def _online(self, net: Network, sampler: Sampler, path: str) -> FloatArray:
        years = self.draw(sampler, path, "build_years")
        return step_index(net, self.investment) + years * MONTHS_PER_YEAR / net.step_months

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the delivered concentrate to the producer's contracts, and separation capacity."""
        net = ctx.net
        if self.producer not in ctx.known_countries():
            raise ScenarioError(f"{path}.producer: '{self.producer}' is not in countries.csv")
        share = ramp(
            net,
            self._online(net, ctx.sampler, path),
            self.draw(ctx.sampler, path, "ramp_months"),
        )
        reliable = (
            self.draw(ctx.sampler, path, "reliability")
            if self.reliability is not None
            else grouping_reliability(ctx, self.producer)
        )
        size = self.draw(ctx.sampler, path, "t_reo_per_year")
        delivered = per_step(net, size * reliable, share)
        add_contract(ctx, self.producer, CONCENTRATE, delivered, path)
        if self.add_separation:
            add_capacity(ctx, "separation_ndpr", delivered)

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the ports and rail capex, and the premium on deliveries."""
        net = ctx.network
        online = self._online(net, ctx.sampler, path)
        capex = ctx.record(path).inputs["infrastructure_capex_usd_million"]
        months = np.maximum((online - step_index(net, self.investment)) * net.step_months, 1.0)
        capital = spread_before(net, online, months, capex * 1e6)
        if self.price_usd_per_kg is not None:
            price = ctx.per_draw(self.draw(ctx.sampler, path, "price_usd_per_kg"))
        else:
            j = [p.id for p in net.processes].index("separation_ndpr")
            k = COMMODITY_IDS.index("oxide_ndpr")
            price = np.full((net.n_draws, 1), net.proc_out[j, k] * ctx.usd_per_kg("oxide_ndpr"))
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        delivered = delivered_under(net, path)
        return [
            CostLine("capex", capital),
            CostLine("premium", delivered * price * 1000.0 * premium),
        ]
