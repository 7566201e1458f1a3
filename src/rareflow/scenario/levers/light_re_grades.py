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
bs-2025-08-10-e2w-output; none by a 2W executive's account, bs-2025-light-re).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.levers.base import CostContext
from rareflow.scenario.levers.build import (
    segment_magnet_split,
    segment_need,
)
from rareflow.scenario.levers.segment_shift import SegmentShift

MECHANISM = "light_re_grades"
"""Its rows in adaptation.csv."""


class LightReGrades(SegmentShift):
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

    mechanism: ClassVar[str] = MECHANISM
    schedule: ClassVar[str] = "heavy_share"
    cost_name: ClassVar[str] = "premium"

    @staticmethod
    def shift(values: FloatArray, moved: FloatArray) -> FloatArray:
        """Move a share ``moved`` of the heavy-grade need to the light grade."""
        return values * (1.0 - moved)

    def moved_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of sintered NdFeB need moved from heavy to light grades each step."""
        sintered = segment_magnet_split(ctx.network)[..., COMMODITY_IDS.index(SINTERED_NDFEB)]
        return np.asarray((segment_need(ctx) * sintered * self.moved_share(ctx, path)).sum(axis=2))
