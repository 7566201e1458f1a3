"""Strategic stockpile: a government stock of a material, filled and released by rule.

The article's case for stockpiles (a buffer while the chain stabilises) and the US National
Defense Stockpile's FY2025 acquisitions of NdPr oxide, NdFeB block and SmCo alloy
(inventories.csv, USGS MCS 2026) are the models. The stockpile buys while the market is whole, up
to its target, and releases when the sectors it serves get less than the trigger's share of their
need: magnets to those sectors (every sector with a requirement by default, priority tiers
first), materials to processors short of inputs. It never buys while a sector it serves is
short (its ``rules``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import model_validator

from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB, Sector
from rareflow.model.network import COMMODITY_IDS, MAGNETS
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number, as_distribution
from rareflow.scenario.levers.base import (
    CostContext,
    CostDefault,
    CostLine,
    EffectProbe,
    LeverBase,
    LinearEffect,
)

StockpileMaterial = Literal[
    "magnet_ndfeb_sintered", "magnet_ndfeb_bonded", "magnet_smco", "oxide_ndpr", "oxide_dy",
    "oxide_tb", "oxide_sm", "metal_ndpr", "metal_dy", "metal_tb", "metal_sm",
]  # fmt: skip


class Stockpile(LeverBase):
    """A government stockpile of one material.

    Parameters
    ----------
    material
        What is stockpiled.
    target_months
        Target level in months of the material's use at the start (requirement for magnets,
        processors' use at capacity for materials). Give this or ``target_t``.
    target_t
        Target level in tonnes (of the material's own basis).
    initial_t
        Level already held at the start of the horizon.
    start
        When buying begins.
    fill_months
        Months to fill from empty to target: the most bought per month is target / fill_months.
    release_trigger
        Release when supply falls below this share of requirement (0..1).
    release_months
        Months to empty it at the fastest release.
    sectors
        Sectors the magnets are released to: ``all`` (the default) for every sector with a
        requirement, priority tiers first; or a list of sectors.
    price_usd_per_kg
        Purchase price; default: the dataset's latest USGS price (no magnet price is cited, so a
        magnet stockpile needs one).
    holding_cost_per_year
        Holding cost as a share of the stock's value per year (storage, insurance, capital).
        Default: lever_costs.csv (0.05, 0.02-0.08, ASSUMPTION).
    """

    type: Literal["stockpile"] = "stockpile"
    rules: ClassVar[tuple[str, ...]] = (
        "release: when the sectors served get less than release_trigger x their need of a magnet "
        "from the market (their own stock and what they can buy), up to "
        "target / release_months per month (and what is held) goes to the sectors served (every "
        "sector with a requirement unless `sectors` names some), priority tiers first, within a "
        "tier in proportion to each sector's shortfall, up to its requirement; a material (oxide, "
        "metal) goes to processors whose stock is below release_trigger x this month's use",
        "refill: from `start`, up to target / fill_months per month toward the target, bought only "
        "from stock above the industry's own cover, and only while the market is whole (supply "
        "covers requirement) and no sector served is short of its requirement",
    )
    material: StockpileMaterial = SINTERED_NDFEB
    target_months: Annotated[Number | None, Spec("month", 0, 120)] = None
    target_t: Annotated[Number | None, Spec("t", 0, 1e7)] = None
    initial_t: Annotated[Number, Spec("t", 0, 1e7)] = 0.0
    start: Day | None = None
    fill_months: Annotated[Number, Spec("month", 0.1, 240)] = 12.0
    release_trigger: Annotated[Number, Spec("share", 0, 1)] = 0.9
    release_months: Annotated[Number, Spec("month", 0.1, 240)] = 3.0
    sectors: list[Sector] | Literal["all"] = "all"
    price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None
    holding_cost_per_year: Annotated[Number | None, Spec("share/yr", 0, 1)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "holding_cost_per_year": CostDefault("holding_cost", "fraction_per_year")
    }

    @model_validator(mode="after")
    def _check(self) -> Stockpile:
        if (self.target_months is None) == (self.target_t is None):
            raise ValueError("give exactly one of target_months and target_t")
        return self

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Set the stockpile's target, opening level, buying and release rates."""
        net = ctx.net
        k = COMMODITY_IDS.index(self.material)
        d_n = net.n_draws
        if self.target_t is not None:
            target = self.draw(ctx.sampler, path, "target_t")
        else:
            assert self.target_months is not None
            use0 = net.requirement0[:, k].sum() + (net.capacity[:, 0] @ net.proc_in)[:, k].max()
            months = self.draw(ctx.sampler, path, "target_months")
            target = months * use0 / net.step_months
        fill = self.draw(ctx.sampler, path, "fill_months")
        release = self.draw(ctx.sampler, path, "release_months")
        initial = self.draw(ctx.sampler, path, "initial_t")
        trigger = self.draw(ctx.sampler, path, "release_trigger")
        on = ctx.active(self.start) if self.start is not None else np.ones(net.n_steps, bool)

        def widen(name: str) -> np.ndarray:
            arr = getattr(net, name)
            if arr.shape[0] == 1 and d_n > 1:
                arr = np.repeat(arr, d_n, axis=0)
                setattr(net, name, arr)
            return arr  # type: ignore[no-any-return]

        target_b = np.broadcast_to(target, (d_n,))
        widen("stockpile_target")[:, :, k] = np.where(on[None, :], target_b[:, None], 0.0)
        widen("stockpile0")[:, k] = np.broadcast_to(initial, (d_n,))
        widen("stockpile_fill")[:, k] = target_b / np.broadcast_to(fill, (d_n,)) * net.step_months
        widen("stockpile_release")[:, k] = (
            target_b / np.broadcast_to(release, (d_n,)) * net.step_months
        )
        widen("stockpile_trigger")[:] = np.maximum(
            net.stockpile_trigger, np.broadcast_to(trigger, (d_n,))
        )
        if self.sectors == "all":
            net.stockpile_sectors[:] = True
        else:
            for s in self.sectors:
                net.stockpile_sectors[net.sectors.index(s)] = True

    def effect_model(self, probe: EffectProbe) -> LinearEffect | None:
        """Return a magnet stockpile's effect per t: full from its fill date, released at a rate.

        Its supply is its releases, which the optimiser chooses (within the release rate, from
        the step it is full, at most its size); central values of the fill and release months.
        """
        if self.material not in MAGNETS:
            return None
        step = probe.network.step_months
        start = self.start or probe.start
        first = (start.year - probe.start.year) * 12 + start.month - probe.start.month
        fill = as_distribution(self.fill_months).central
        return LinearEffect(
            "target_t",
            np.zeros((1, probe.network.n_steps)),
            release_rate=step / as_distribution(self.release_months).central,
            ready=max(math.ceil((first + fill) / step), 0),
        )

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Purchases at the purchase price and holding cost on the stock's value."""
        if self.price_usd_per_kg is not None:
            price = ctx.per_draw(self.draw(ctx.sampler, path, "price_usd_per_kg"))
        else:
            price = np.full((ctx.network.n_draws, 1), ctx.usd_per_kg(self.material))
        if np.isnan(price).any():
            raise ScenarioError(
                f"{path}: the dataset has no price for {self.material}; set price_usd_per_kg"
            )
        res = ctx.results
        bought = res["stockpile_in"].sel(material=self.material).transpose("draw", "time")
        level = res["stockpile"].sel(material=self.material).transpose("draw", "time")
        rate = ctx.per_draw(ctx.record(path).inputs["holding_cost_per_year"])
        step_years = ctx.network.step_months / 12.0
        per_t = price * 1000.0
        return [
            CostLine("purchase", bought.to_numpy() * per_t),
            CostLine("holding", level.to_numpy() * per_t * rate * step_years),
        ]
