"""Emergency licences for named end users: their controlled magnets pass without the queue.

China granted its first licences to import rare-earth magnets to four companies in India on 30
October 2025, 209 days after the April controls, each for named end users with conditions (no
re-export to the US, no defence use: bs-2025-10-30-licences, et-2025-applications); more reached
the vendors of several automakers in December 2025. More than 50 applications waited for months.
These counts (control_parameters.csv ``first_licences_companies``, ``applications_pending``) are
context, not inputs: the lever names buyer groups and the share of their need licensed, and the
dataset gives no firm's share of a group's need that would turn a number of firms into a share.

The lever writes the chosen buyer groups' ``exempt`` schedule (the share of their need in grades
a control reaches that a named-user licence lets through without the licence queue,
:mod:`rareflow.engine.exposure`): from ``start`` + ``lag_months`` a share ``share`` of it is
ordered and shipped like unreached magnet. The rest of their need and every other group still
wait for the control's ordinary licence decisions. Its cost is a premium on the value of the
magnets passed through (end-user certificates, audits and suppliers' charges for licensed
magnets: lever_costs.csv, ASSUMPTION with a range).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from rareflow.ids import Sector
from rareflow.model.network import FloatArray
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    adaptation_figure,
    chosen_by_sector,
    in_effect,
    reached_grades,
    segment_grade_split,
    segment_need,
    sintered_value,
)

MECHANISM = "emergency_licences"
"""Its rows in adaptation.csv."""


class EmergencyLicences(LeverBase):
    """Named end users' controlled magnets pass under emergency licences, without the queue.

    Parameters
    ----------
    sectors
        Sectors of the named end users.
    groups
        The buyer groups named (``large_multi_source`` or ``two_wheeler/large_multi_source``,
        as ``rareflow exposure`` lists them); empty: every group of the sectors.
    start
        Day the licences are sought; the lag counts from it.
    lag_months
        Months from seeking to the first licensed shipments. Default: adaptation.csv (6.9
        months, 4 April to 30 October 2025, bs-2025-10-30-licences).
    share
        Share of the named groups' need in controlled grades the licences cover (1: all of it).
    ramp_months
        Months from the first licence to the full share (0: at once).
    premium
        Cost of licensed supply as a share of the value of the magnets passed through. Default:
        lever_costs.csv (ASSUMPTION with a range).
    """

    type: Literal["emergency_licences"] = "emergency_licences"
    sectors: list[Sector] = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)
    start: Day
    lag_months: Annotated[Number | None, Spec("month", 0, 120)] = None
    share: Annotated[Number, Spec("share", 0, 1)] = 1.0
    ramp_months: Annotated[float, Spec("month", 0, 120)] = 0.0
    premium: Annotated[Number | None, Spec("share", 0, 10)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction")
    }

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Let the named groups' covered share through from the date the licences arrive."""
        net = ctx.net
        before = net.exempt.copy()
        share = self.draw(ctx.sampler, path, "share")
        for sector, segs in chosen_by_sector(net, self.sectors, self.groups, path):
            lag = (
                self.draw(ctx.sampler, path, "lag_months")
                if self.lag_months is not None
                else adaptation_figure(ctx, path, "lag_months", MECHANISM, "lag", sector.value)
            )
            licensed = share.reshape(-1, 1) * in_effect(net, self.start, lag, self.ramp_months)
            if licensed.shape[0] > net.exempt.shape[0]:
                ctx.widen("exempt")
            left = 1.0 - net.exempt[:, :, segs]
            net.exempt[:, :, segs] += left * licensed[:, :, None]
        record = ctx.record(path)
        record.outputs["exempt_before"] = before
        record.outputs["exempt_after"] = net.exempt.copy()

    def passed_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of bare magnet need in controlled grades passed under the licences."""
        net = ctx.network
        out = ctx.record(path).outputs
        shape = (net.n_draws, net.n_steps, len(net.segments))
        licensed = np.broadcast_to(out["exempt_after"], shape) - np.broadcast_to(
            out["exempt_before"], shape
        )
        controlled = (segment_grade_split(net) * reached_grades(net)[None, :, None, :]).sum(axis=3)
        bare = 1.0 - np.broadcast_to(net.embedded_share, shape)
        return np.asarray((segment_need(ctx) * bare * controlled * licensed).sum(axis=2))

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium on the value of the magnets passed (at the sintered price)."""
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        value = self.passed_tonnes(ctx, path) * sintered_value(ctx, path)
        return [CostLine("premium", value * premium)]
