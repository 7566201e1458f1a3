"""Magnet thrift: a programme that cuts the magnet each unit of output needs (an example lever).

This is the worked example of docs/architecture.md ("Add a lever"). Saved as
``src/rareflow/scenario/levers/magnet_thrift.py`` it would be a lever like any other: defining
the class registers it, and the scenario schema accepts ``type: magnet_thrift``. The lever
contract test (tests/levers/test_contract.py) loads it from here and runs it through the same
checks as every registered lever.

The effect: from ``start`` the requirement of the chosen sectors for every magnet falls by
``cut_share``, reached linearly over ``ramp_months`` (``demand_multiplier``, draw x time x
sector x material). The cost: the programme's yearly outlay while it runs. No figure is cited
for either: both are the user's.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np

from rareflow.ids import Sector
from rareflow.model.network import COMMODITY_IDS, MAGNETS
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostLine, LeverBase


class MagnetThrift(LeverBase):
    """Less magnet per unit of output in some sectors, from a date.

    Parameters
    ----------
    sectors
        Sectors whose magnet requirement falls.
    cut_share
        Share of their requirement cut at full effect (no cited figure: give your own).
    start
        When the programme starts.
    ramp_months
        Months from the start to full effect (linear).
    programme_inr_crore_per_year
        The programme's outlay per year while it runs (no cited figure: give your own).
    """

    type: Literal["magnet_thrift"] = "magnet_thrift"
    sectors: list[Sector]
    cut_share: Annotated[Number, Spec("share", 0, 1)]
    start: Day
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    programme_inr_crore_per_year: Annotated[Number, Spec("INR crore/yr", 0, 1e5)] = 0.0

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Scale the sectors' magnet requirement down, ramping from ``start``."""
        net = ctx.net
        cut = self.draw(ctx.sampler, path, "cut_share")  # (1 or D,)
        ramp = self.draw(ctx.sampler, path, "ramp_months")
        months_on = (np.arange(net.n_steps) - ctx.step_of(self.start) + 1) * net.step_months
        reached = np.clip(months_on[None, :] / np.maximum(ramp[:, None], 1e-9), 0.0, 1.0)
        factor = 1.0 - cut[:, None] * np.where(ctx.active(self.start)[None, :], reached, 0.0)
        multiplier = (
            ctx.widen("demand_multiplier") if factor.shape[0] > 1 else net.demand_multiplier
        )
        for sector in self.sectors:
            s = net.sectors.index(sector)
            for magnet in MAGNETS:
                multiplier[:, :, s, COMMODITY_IDS.index(magnet)] *= factor

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the programme's outlay, spread evenly over the steps from ``start``."""
        net = ctx.network
        per_year = ctx.per_draw(self.draw(ctx.sampler, path, "programme_inr_crore_per_year"))
        running = net.active(self.start)[None, :]
        usd = per_year * INR_CRORE / ctx.inr_per_usd() * net.step_months / 12.0
        return [
            CostLine(
                "programme",
                np.broadcast_to(np.where(running, usd, 0.0), (net.n_draws, net.n_steps)),
            )
        ]


EXAMPLE = {
    "type": "magnet_thrift",
    "sectors": ["ev_car", "two_wheeler"],
    "cut_share": {"dist": "uniform", "low": 0.1, "high": 0.3},
    "start": "2025-10",
    "ramp_months": 6,
    "programme_inr_crore_per_year": 100,
}
"""The lever as a scenario would give it (the contract test runs it)."""
