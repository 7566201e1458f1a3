"""Partner capacity: separation, metal or magnet plants abroad built with Indian investment.

The article's friend-shoring goes beyond buying: India could invest with partners (Lynas in
Malaysia and Australia, European magnet makers, Quad and Minerals Security Partnership members)
through joint offtake and pooled investment by IREL, NMDC and KABIL. The plant is built after a
lead time (lead_times.csv: 2 years for a magnet plant, PIB 2025; 8 years for a separation or metal
plant, IEA GCMO 2025), ramps up, and ships the focal country its offtake share of the output as
a contract outside the baseline import split, as ``supply_contract`` does. What arrives depends
on the partner's reliability, by default from the groupings it shares with the focal country
(groupings.csv).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import field_validator

from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import FloatArray, Network
from rareflow.scenario.common import CountryCode, Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    MONTHS_PER_YEAR,
    add_contract,
    delivered_under,
    grouping_reliability,
    per_step,
    plant_lead_years,
    ramp,
    spread_before,
    step_index,
)
from rareflow.scenario.sampling import Sampler

PartnerMaterial = Literal[
    "magnet_ndfeb_sintered", "magnet_ndfeb_bonded", "magnet_smco", "oxide_ndpr", "oxide_dy",
    "oxide_tb", "oxide_sm", "metal_ndpr", "metal_dy", "metal_tb", "metal_sm",
]  # fmt: skip


class PartnerCapacity(LeverBase):
    """A plant at a partner, built with Indian investment, shipping its offtake to India.

    Parameters
    ----------
    partner
        Host country (ISO alpha-3; not China).
    material
        What the plant makes: an oxide (separation), a metal or a magnet.
    t_per_year
        Plant capacity at full ramp-up, t of the material per year.
    offtake_share
        Share of the output the focal country takes (assumption: 1; set the agreed share).
    investment
        Date the investment is made; building starts then.
    build_years
        Years to build; default from lead_times.csv: 2 for a magnet plant (PIB 2025), 8 for a
        separation or metal plant (IEA GCMO 2025).
    ramp_months
        Months from first output to full output (assumption: 12).
    reliability
        Share of the offtake delivered each month. Default: 0.95 if the partner shares the
        Minerals Security Partnership or the Quad with the focal country, else 0.85
        (assumptions, as ``supply_contract``; groupings.csv).
    capex_inr_crore
        India's share of the capital cost, paid evenly over the build (no cited figure for
        plants abroad: give your own; a magnet plant can use Midwest's ₹1,000 crore for
        5,000 t/yr in Hyderabad, facilities.csv).
    premium
        Premium over the base price on delivered volume (assumption: 0, offtake at market).
    price_usd_per_kg
        Base price for the premium; default: the dataset's latest USGS price (magnets need one
        given if the premium is not 0).
    """

    type: Literal["partner_capacity"] = "partner_capacity"
    partner: CountryCode
    material: PartnerMaterial = SINTERED_NDFEB
    t_per_year: Annotated[Number, Spec("t/yr", 0, 1e7)]
    offtake_share: Annotated[Number, Spec("share", 0, 1)] = 1.0
    investment: Day
    build_years: Annotated[Number | None, Spec("yr", 0, 40)] = None
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    reliability: Annotated[Number | None, Spec("share", 0, 1)] = None
    capex_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None
    premium: Annotated[Number | None, Spec("share", 0, 100)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "capex_inr_crore": CostDefault("capex", "inr_crore"),
        "premium": CostDefault("premium", "fraction"),
    }
    price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None

    @field_validator("partner")
    @classmethod
    def _not_china(cls, v: str) -> str:
        if v == "CHN":
            raise ValueError("partner capacity is for a partner other than China")
        return v

    def partners(self) -> tuple[str, ...]:
        """Return the host country, who joins the network."""
        return (self.partner,)

    def _online(
        self, net: Network, sampler: Sampler, build_default: float, path: str
    ) -> FloatArray:
        years = (
            self.draw(sampler, path, "build_years")
            if self.build_years is not None
            else np.array([build_default])
        )
        return step_index(net, self.investment) + years * MONTHS_PER_YEAR / net.step_months

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the offtake the partner delivers, ramped from first output, to its contracts."""
        net = ctx.net
        if self.partner not in ctx.known_countries():
            raise ScenarioError(f"{path}.partner: '{self.partner}' is not in countries.csv")
        online = self._online(net, ctx.sampler, plant_lead_years(ctx.dataset, self.material), path)
        share = ramp(net, online, self.draw(ctx.sampler, path, "ramp_months"))
        size = self.draw(ctx.sampler, path, "t_per_year")
        offtake = self.draw(ctx.sampler, path, "offtake_share")
        reliable = (
            self.draw(ctx.sampler, path, "reliability")
            if self.reliability is not None
            else grouping_reliability(ctx, self.partner)
        )
        add_contract(
            ctx, self.partner, self.material, per_step(net, size * offtake * reliable, share), path
        )

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """India's capex over the build, and the premium on delivered volume."""
        net = ctx.network
        online = self._online(net, ctx.sampler, plant_lead_years(ctx.dataset, self.material), path)
        start = step_index(net, self.investment)
        capex = ctx.record(path).inputs["capex_inr_crore"]
        usd = capex * INR_CRORE / ctx.inr_per_usd()
        months = np.maximum((online - start) * net.step_months, net.step_months)
        capital = spread_before(net, online, months, usd)
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        if not np.any(premium):
            return [CostLine("capex", capital)]
        if self.price_usd_per_kg is not None:
            price = ctx.per_draw(self.draw(ctx.sampler, path, "price_usd_per_kg"))
        else:
            price = np.full((net.n_draws, 1), ctx.usd_per_kg(self.material))
        if np.isnan(price).any():
            raise ScenarioError(
                f"{path}: the dataset has no price for {self.material}; set price_usd_per_kg"
            )
        delivered = delivered_under(net, path)
        return [
            CostLine("capex", capital),
            CostLine("premium", delivered * price * 1000.0 * premium),
        ]
