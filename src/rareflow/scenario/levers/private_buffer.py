"""Private buffer inventories: an incentive for magnet users to hold more stock.

The article asks, beside strategic stockpiles, for "encouraging private manufacturers to have
buffer inventories". Indian industry held 2-3 weeks of rare-earth magnets when the April 2025
controls began (inventories.csv). The lever raises the industry's magnet cover (its stock target,
in weeks of use) and pays part of the cost of holding the extra stock.

How it plays out in the engine (its ``rules``): buyers order toward ``cover x use`` (with the gap
closed over ``restock_months``), so a higher cover raises orders while the market is whole and the
buffer is built from the first month; the opening stock stays at the cover the industry held (the
engine's cover has no time axis, so the incentive is in force over the whole horizon). The buffer
is the users' own stock: it serves every sector with a requirement, priority tiers first, and
what the price rations away is served from it up to each sector's requirement, so the buffer is
not rebuilt while a sector is short of its requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np

from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.common import Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.units import DAYS_PER_MONTH, DAYS_PER_WEEK

BufferMagnet = Literal["magnet_ndfeb_sintered", "magnet_ndfeb_bonded", "magnet_smco"]


def _steps(weeks: FloatArray, step_months: int) -> FloatArray:
    """Weeks of use as steps of use."""
    return weeks * DAYS_PER_WEEK / (DAYS_PER_MONTH * step_months)


class PrivateBuffer(LeverBase):
    """Industry holds more magnet stock, with a holding-cost subsidy.

    Parameters
    ----------
    material
        The magnet buffered.
    extra_weeks
        Weeks of use added to the industry's cover (2-3 weeks in May-June 2025,
        inventories.csv).
    subsidy_share
        Share of the holding cost of the extra stock the incentive pays (assumption: 0.5; no
        scheme for private buffers is cited).
    holding_cost_per_year
        Holding cost as a share of the stock's value per year (storage, insurance, capital).
        Default: lever_costs.csv (0.05, 0.03-0.1, ASSUMPTION).
    price_usd_per_kg
        Value of the magnet; default: the dataset's latest USGS price (none is cited for
        magnets, so a magnet buffer needs one given).
    """

    type: Literal["private_buffer"] = "private_buffer"
    rules: ClassVar[tuple[str, ...]] = (
        "release: the buffer is the magnet users' own stock; it goes to every sector with a "
        "requirement, priority tiers first, within a tier in proportion to what each sector "
        "seeks; what the scarcity price rations away is served from the buffer (up to its size, "
        "extra_weeks of use) up to each sector's requirement",
        "refill: by the users' orders toward their raised cover (the gap closed over the "
        "restocking months), from what arrives after every sector has its requirement: the "
        "buffer is not rebuilt while any sector is short",
    )
    material: BufferMagnet = SINTERED_NDFEB
    extra_weeks: Annotated[Number, Spec("week", 0, 520)]
    subsidy_share: Annotated[Number, Spec("share", 0, 1)] = 0.5
    holding_cost_per_year: Annotated[Number | None, Spec("share/yr", 0, 1)] = None
    price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "holding_cost_per_year": CostDefault("holding_cost", "fraction_per_year")
    }

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Raise the industry's cover of the magnet.

        The cover is written as a new array, so the opening stock keeps the cover the industry
        held.
        """
        net = ctx.net
        extra = _steps(self.draw(ctx.sampler, path, "extra_weeks"), net.step_months)
        rows = max(net.cover_steps.shape[0], extra.shape[0])
        cover = np.broadcast_to(net.cover_steps, (rows, net.cover_steps.shape[1])).copy()
        k = COMMODITY_IDS.index(self.material)
        cover[:, k] += extra
        net.cover_steps = cover
        buffer = np.broadcast_to(net.buffer_steps, (rows, net.buffer_steps.shape[1])).copy()
        buffer[:, k] += extra
        net.buffer_steps = buffer

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Subsidy share x holding cost x value of the buffer's share of the stock held."""
        net = ctx.network
        if self.price_usd_per_kg is not None:
            price = ctx.per_draw(self.draw(ctx.sampler, path, "price_usd_per_kg"))
        else:
            price = np.full((net.n_draws, 1), ctx.usd_per_kg(self.material))
        if np.isnan(price).any():
            raise ScenarioError(
                f"{path}: the dataset has no price for {self.material}; set price_usd_per_kg"
            )
        k = COMMODITY_IDS.index(self.material)
        weeks = self.draw(ctx.sampler, path, "extra_weeks")
        extra = ctx.per_draw(_steps(weeks, net.step_months))
        cover = ctx.per_draw(np.broadcast_to(net.cover_steps[:, k], (net.n_draws,)).copy())
        buffer_share = np.divide(extra, cover, out=np.zeros_like(extra), where=cover > 0)
        stock = ctx.results["stock"].sel(material=self.material).transpose("draw", "time")
        held = stock.to_numpy() * buffer_share
        share = ctx.per_draw(self.draw(ctx.sampler, path, "subsidy_share"))
        rate = ctx.per_draw(ctx.record(path).inputs["holding_cost_per_year"])
        step_years = net.step_months / 12.0
        return [CostLine("subsidy", held * price * 1000.0 * rate * share * step_years)]
