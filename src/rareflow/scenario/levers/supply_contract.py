"""Friend-shoring: a supply contract with a partner outside China.

The article's partners (Australia, Malaysia/Lynas, Vietnam, Japan, Korea, the Philippines for
heavy rare earths, European producers, Africa, Latin America) supply a contracted volume from a
date, ramping up, at a price premium. What is delivered depends on the partner's reliability,
which by default depends on the groupings it shares with the focal country (Minerals Security
Partnership, Quad: groupings.csv).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import field_validator, model_validator

from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.common import CountryCode, Day, check_dates, check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostLine, LeverBase

ContractMaterial = Literal[
    "magnet_ndfeb_sintered", "magnet_ndfeb_bonded", "magnet_smco", "oxide_ndpr", "oxide_dy",
    "oxide_tb", "oxide_sm", "metal_ndpr", "metal_dy", "metal_tb", "metal_sm", "concentrate_mixed",
]  # fmt: skip
PARTNER_GROUPINGS = ("MSP", "QUAD")
RELIABILITY_SHARED = 0.95
"""Default reliability of a partner sharing a grouping with the focal country (assumption)."""
RELIABILITY_OTHER = 0.85
"""Default reliability of any other partner (assumption)."""


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
        Price premium over the base price on delivered volume (assumption: 0.2; Western supply
        has sold above Chinese prices, e.g. European magnets about 6x Chinese domestic prices in
        October 2025, IEA).
    price_usd_per_kg
        Base price; default: the dataset's latest USGS price (magnets need one given).
    """

    type: Literal["supply_contract"] = "supply_contract"
    partner: CountryCode
    material: ContractMaterial = "magnet_ndfeb_sintered"
    t_per_year: Number
    start: Day
    end: Day | None = None
    ramp_months: Number = 6.0
    reliability: Number | None = None
    premium: Number = 0.2
    price_usd_per_kg: Number | None = None

    @field_validator("partner")
    @classmethod
    def _not_china(cls, v: str) -> str:
        if v == "CHN":
            raise ValueError("a supply contract is for a partner other than China")
        return v

    @model_validator(mode="after")
    def _check(self) -> SupplyContract:
        check_dates(self.start, self.end)
        check_range(self.t_per_year, 0, 1e7, "t_per_year")
        check_range(self.ramp_months, 0, 240, "ramp_months")
        check_range(self.premium, 0, 100, "premium")
        if self.reliability is not None:
            check_range(self.reliability, 0, 1, "reliability")
        return self

    def partners(self) -> tuple[str, ...]:
        """Return the contracted partner, who joins the network."""
        return (self.partner,)

    def _reliability(self, ctx: CompileContext, path: str) -> np.ndarray:
        if self.reliability is not None:
            return ctx.sampler.draw(self.reliability, f"{path}.reliability")
        groups = ctx.chain_groupings()
        shared = any(
            self.partner in groups.get(g, set()) and ctx.chain.country in groups.get(g, set())
            for g in PARTNER_GROUPINGS
        )
        return np.array([RELIABILITY_SHARED if shared else RELIABILITY_OTHER])

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the delivered volume to the partner's contracted shipments."""
        net = ctx.net
        if self.partner not in ctx.known_countries():
            raise ScenarioError(f"{path}.partner: '{self.partner}' is not in countries.csv")
        p, k = ctx.partner(self.partner), COMMODITY_IDS.index(self.material)
        size = ctx.sampler.draw(self.t_per_year, f"{path}.t_per_year")
        ramp = ctx.sampler.draw(self.ramp_months, f"{path}.ramp_months")
        reliable = self._reliability(ctx, path)
        on = ctx.active(self.start, self.end)
        start = ctx.step_of(self.start)
        months_on = (np.arange(net.n_steps) - start + 1) * net.step_months
        frac = np.where(
            on[None, :], np.clip(months_on[None, :] / np.maximum(ramp[:, None], 1e-9), 0, 1), 0.0
        )
        volume = (size * reliable)[:, None] / 12.0 * net.step_months * frac  # (D or 1, T)
        if net.contract.shape[0] == 1 and volume.shape[0] > 1:
            net.contract = np.repeat(net.contract, volume.shape[0], axis=0)
        net.contract[:, :, p, k] += volume

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium paid on delivered volume."""
        if self.price_usd_per_kg is not None:
            price = ctx.per_draw(ctx.sampler.draw(self.price_usd_per_kg, f"{path}.price"))
        else:
            price = np.full((ctx.network.n_draws, 1), ctx.usd_per_kg(self.material))
        if np.isnan(price).any():
            raise ScenarioError(
                f"{path}: the dataset has no price for {self.material}; set price_usd_per_kg"
            )
        premium = ctx.per_draw(ctx.sampler.draw(self.premium, f"{path}.premium"))
        p = ctx.network.partners.index(self.partner)
        k = COMMODITY_IDS.index(self.material)
        net = ctx.network
        contract = np.broadcast_to(net.contract[:, :, p, k], (net.n_draws, net.n_steps))
        cut = np.broadcast_to(net.cut[:, :, p, k], (net.n_draws, net.n_steps))
        delivered = contract * (1.0 - cut)
        return [CostLine("premium", delivered * price * 1000.0 * premium)]
