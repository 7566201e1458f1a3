"""Light rare-earth grades: buyers move heavy-grade (Dy/Tb) NdFeB need to Dy/Tb-free grades.

China's April 2025 list named Dy and Tb, not Nd or Pr, so Dy/Tb-free ("light rare-earth")
sintered NdFeB needed no licence. Indian e-2W makers tested light-RE magnets from June 2025 and
hoped to roll them out three to four months later (bs-2025-light-re); Bajaj's were under ARAI
testing in mid-August (bs-2025-08-15-e2w), with "performance on a par" with heavy-RE motors.
Hot-running car traction motors still use Dy or Tb grades (adaptation.csv).

The lever lowers the chosen buyer groups' ``heavy_share`` (the share of their sintered NdFeB
need in Dy/Tb grades, :mod:`rareflow.scenario.compile.segments`) after a lag, by up to a
technical limit: from ``start`` + ``lag_months`` (ramping over ``ramp_months``) a share
``max_share`` of the heavy-grade need moves to the light grade, which no control naming only
Dy and Tb reaches. Its cost is a premium on the value of the magnet moved: redesign and
requalification, and the larger magnets a light grade may need (lever_costs.csv, ASSUMPTION
with a range). The larger magnet is costed, not added to the need (a few per cent at most,
adaptation.csv performance_penalty).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from rareflow.ids import SINTERED_NDFEB, Sector
from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    adaptation_figure,
    chosen_segments,
    in_effect,
    segment_magnet_split,
    segment_need,
    sintered_value,
)

MECHANISM = "light_re_grades"
"""Its rows in adaptation.csv."""


class LightReGrades(LeverBase):
    """Buyer groups move part of their heavy-grade NdFeB need to Dy/Tb-free grades.

    Parameters
    ----------
    sectors
        Sectors whose buyer groups switch.
    groups
        Buyer groups that switch (``large_multi_source`` or ``two_wheeler/large_multi_source``,
        as ``rareflow exposure`` lists them); empty: every group of the sectors.
    start
        Day the switch is decided (testing starts); the lag counts from it.
    lag_months
        Months from the decision to light grades in production. Default: adaptation.csv per
        sector (e-2W 6, 5-8 months, bs-2025-light-re; cars 12, 6-24, ASSUMPTION).
    max_share
        Technical limit: the largest share of the heavy-grade need that can move. Default:
        adaptation.csv per sector (e-2W 1, 0.8-1, bs-2025-08-15-e2w; cars 0.3, 0.1-0.5,
        ASSUMPTION).
    ramp_months
        Months from the first light-grade output to the full share (0: at once).
    premium
        Cost and performance penalty as a share of the value of the magnet moved (redesign,
        requalification, larger magnets). Default: lever_costs.csv (ASSUMPTION, 0-15%).
    """

    type: Literal["light_re_grades"] = "light_re_grades"
    sectors: list[Sector] = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)
    start: Day
    lag_months: Annotated[Number | None, Spec("month", 0, 120)] = None
    max_share: Annotated[Number | None, Spec("share", 0, 1)] = None
    ramp_months: Annotated[float, Spec("month", 0, 120)] = 0.0
    premium: Annotated[Number | None, Spec("share", 0, 10)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction")
    }

    def _figure(self, ctx: CompileContext, path: str, field: str, sector: str) -> FloatArray:
        """Return the lever's value of a field, else adaptation.csv's for the sector."""
        if getattr(self, field) is not None:
            return self.draw(ctx.sampler, path, field)
        return adaptation_figure(ctx, path, field, MECHANISM, field.removesuffix("_months"), sector)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Lower the chosen groups' heavy share from the date the switch takes effect."""
        net = ctx.net
        before = net.heavy_share.copy()
        chosen = chosen_segments(net, [s.value for s in self.sectors], self.groups, path)
        for sector in self.sectors:
            s = net.sectors.index(sector)
            segs = [g for g in chosen if net.segment_sector[g] == s]
            if not segs:
                continue
            lag = self._figure(ctx, path, "lag_months", sector.value)
            top = self._figure(ctx, path, "max_share", sector.value)
            moved = top.reshape(-1, 1) * in_effect(net, self.start, lag, self.ramp_months)
            rows = max(net.heavy_share.shape[0], moved.shape[0])
            if rows > net.heavy_share.shape[0]:
                ctx.widen("heavy_share")
            net.heavy_share[:, :, segs] *= 1.0 - moved[:, :, None]
        record = ctx.record(path)
        record.outputs["heavy_before"] = before
        record.outputs["heavy_after"] = net.heavy_share.copy()

    def moved_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of sintered NdFeB need moved from heavy to light grades each step."""
        net = ctx.network
        out = ctx.record(path).outputs
        shape = (net.n_draws, net.n_steps, len(net.segments))
        moved = np.broadcast_to(out["heavy_before"], shape) - np.broadcast_to(
            out["heavy_after"], shape
        )
        sintered = segment_magnet_split(net)[..., COMMODITY_IDS.index(SINTERED_NDFEB)]
        return np.asarray((segment_need(ctx) * sintered * moved).sum(axis=2))

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium on the value of the magnet moved to light grades."""
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        value = self.moved_tonnes(ctx, path) * sintered_value(ctx, path)
        return [CostLine("premium", value * premium)]
