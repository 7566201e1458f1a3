"""Friend-shoring: a supply contract with a partner outside China.

The article's partners (Australia, Malaysia/Lynas, Vietnam, Japan, Korea, the Philippines for
heavy rare earths, European producers, Africa, Latin America) supply a contracted volume from a
date, ramping up, at a price premium. What is delivered depends on the partner's reliability,
which by default depends on the groupings it shares with the focal country (Minerals Security
Partnership, Quad: groupings.csv).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import field_validator, model_validator

from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray, Network
from rareflow.scenario.common import CountryCode, Day, Spec, check_dates
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import (
    CostContext,
    CostDefault,
    CostLine,
    EffectProbe,
    LeverBase,
    LinearEffect,
)
from rareflow.scenario.levers.build import add_contract, delivered_under, grouping_reliability
from rareflow.scenario.sampling import Sampler

ContractMaterial = Literal[
    "magnet_ndfeb_sintered", "magnet_ndfeb_bonded", "magnet_smco", "oxide_ndpr", "oxide_dy",
    "oxide_tb", "oxide_sm", "metal_ndpr", "metal_dy", "metal_tb", "metal_sm", "concentrate_mixed",
]  # fmt: skip


class SupplyContract(LeverBase):
    """A contract for a partner to supply a material.

    Parameters
    ----------
    partner
        The supplying country (ISO alpha-3; not the controlling exporter).
    material
        What it supplies.
    t_per_year
        Contracted volume at full ramp-up.
    start, end
        Contract period.
    ramp_months
        Months from the first delivery to the full volume.
    reliability
        Share of the contracted volume delivered each month. Default: 0.95 if the partner shares
        the Minerals Security Partnership or the Quad with the focal country, else 0.85
        (assumptions, groupings.csv).
    premium
        Price premium over the base price on delivered volume. Default: lever_costs.csv (0.2,
        0.1-0.3, ASSUMPTION; Western supply has sold above Chinese prices, e.g. European magnets
        about 6x Chinese domestic prices in October 2025, IEA).
    price_usd_per_kg
        Base price; default: the dataset's latest USGS price (magnets need one given).
    """

    type: Literal["supply_contract"] = "supply_contract"
    partner: CountryCode
    material: ContractMaterial = SINTERED_NDFEB
    t_per_year: Annotated[Number, Spec("t/yr", 0, 1e7)]
    start: Day
    end: Day | None = None
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 6.0
    reliability: Annotated[Number | None, Spec("share", 0, 1)] = None
    premium: Annotated[Number | None, Spec("share", 0, 100)] = None
    price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction")
    }

    @field_validator("partner")
    @classmethod
    def _not_china(cls, v: str) -> str:
        if v == "CHN":
            raise ValueError("a supply contract is for a partner other than China")
        return v

    @model_validator(mode="after")
    def _check(self) -> SupplyContract:
        check_dates(self.start, self.end)
        return self

    def partners(self) -> tuple[str, ...]:
        """Return the contracted partner, who joins the network."""
        return (self.partner,)

    def _reliability(self, ctx: CompileContext, path: str) -> FloatArray:
        if self.reliability is not None:
            return self.draw(ctx.sampler, path, "reliability")
        return grouping_reliability(ctx, self.partner)

    def volume(self, net: Network, reliable: FloatArray, sampler: Sampler, path: str) -> FloatArray:
        """(D or 1, T) tonnes this contract delivers per step, before any supply cut."""
        size = self.draw(sampler, path, "t_per_year")
        ramp = self.draw(sampler, path, "ramp_months")
        on = net.active(self.start, self.end)
        months_on = (np.arange(net.n_steps) - net.step_of(self.start) + 1) * net.step_months
        frac = np.where(
            on[None, :], np.clip(months_on[None, :] / np.maximum(ramp[:, None], 1e-9), 0, 1), 0.0
        )
        return np.asarray((size * reliable)[:, None] / 12.0 * net.step_months * frac)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the delivered volume to the partner's contracted shipments."""
        net = ctx.net
        if self.partner not in ctx.known_countries():
            raise ScenarioError(f"{path}.partner: '{self.partner}' is not in countries.csv")
        volume = self.volume(net, self._reliability(ctx, path), ctx.sampler, path)
        add_contract(ctx, self.partner, self.material, volume, path)

    def effect_model(self, probe: EffectProbe) -> LinearEffect | None:
        """Return a magnet contract's arrivals per t/yr contracted.

        Its volume as compiled (reliability, ramp), less any supply cut, arriving after the
        partner's lead time (what arrives after the horizon is dropped).
        """
        if self.material not in MAGNETS:
            return None
        net, base = probe.network, probe.base
        p = net.partners.index(self.partner)
        k = COMMODITY_IDS.index(self.material)
        before = (
            base.contract[:, :, base.partners.index(self.partner), k]
            if self.partner in base.partners
            else np.zeros((1, net.n_steps))
        )
        sent = (net.contract[:, :, p, k] - before) * (1.0 - net.cut[:, :, p, k])
        sent = np.broadcast_to(sent, (net.n_draws, net.n_steps))
        lead = int(net.lead_steps[p])
        arrived = np.zeros_like(sent)
        arrived[:, lead:] = sent[:, : net.n_steps - lead]
        return LinearEffect("t_per_year", arrived / probe.level)

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium paid on delivered volume."""
        if self.price_usd_per_kg is not None:
            price = ctx.per_draw(self.draw(ctx.sampler, path, "price_usd_per_kg"))
        else:
            price = np.full((ctx.network.n_draws, 1), ctx.usd_per_kg(self.material))
        if np.isnan(price).any():
            raise ScenarioError(
                f"{path}: the dataset has no price for {self.material}; set price_usd_per_kg"
            )
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        # Only this contract's own deliveries (as any consortium backing scaled them).
        own = delivered_under(ctx.network, path)
        return [CostLine("premium", own * price * 1000.0 * premium)]
