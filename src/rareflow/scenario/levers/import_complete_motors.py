"""Complete motors: buyers import motors and sub-assemblies instead of bare magnets.

China's April 2025 rules applied to magnets, not to the finished products holding them; makers
planned imports of complete motors in early June 2025 to avert shutdowns by the end of June
(bs-2025-06-05-workaround), e-2W makers sent sub-assemblies to China to be fitted with magnets
(bs-2025-09-16-localisation), and SIAM asked for relief from the 15% duty on imported assemblies
(mc-2025-07-07-siam-duty). The October 2025 0.1% content rule would have reached such imports
(export_controls.csv), so the lever helps against a control on bare magnets and materials, not
against a content rule.

The lever raises the chosen buyer groups' ``embedded_share`` (the share of their need arriving
inside imported components, :mod:`rareflow.scenario.compile.segments`): from ``start`` +
``lag_months`` (ramping over ``ramp_months``) a share ``max_share`` of their bare-magnet need
moves to the component route. The groups then order components for it (building their own
component stock) and the national pool orders that much less bare magnet. Its cost is the
customs duty on the assemblies, as a share of the value of the magnets inside them: 15% duty on
an assembly whose magnets are about 30% of its cost is 50% of the magnets' value
(lever_costs.csv). Subsidies forgone under localisation rules (PM E-DRIVE's Rs 5,000 per e-2W,
adaptation.csv) are transfers, not counted.
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
    chosen_segments,
    in_effect,
    segment_need,
    sintered_value,
)

MECHANISM = "import_complete_motors"
"""Its rows in adaptation.csv."""


class ImportCompleteMotors(LeverBase):
    """Buyer groups import complete motors and sub-assemblies instead of bare magnets.

    Parameters
    ----------
    sectors
        Sectors whose buyer groups switch.
    groups
        Buyer groups that switch (``small_single_importer`` or
        ``two_wheeler/small_single_importer``, as ``rareflow exposure`` lists them); empty:
        every group of the sectors.
    start
        Day the switch is decided; the lag counts from it.
    lag_months
        Months from the decision to imported motors arriving. Default: adaptation.csv (2, 1-3
        months, bs-2025-06-05-workaround).
    max_share
        Largest share of the groups' bare-magnet need that can move to imported assemblies.
        Default: adaptation.csv (1, 0.5-1: the April rules reached magnets, not finished
        products).
    ramp_months
        Months from the first imported motors to the full share (0: at once).
    premium
        Customs duty on the assemblies as a share of the value of the magnets inside them.
        Default: lever_costs.csv (15% duty over a magnet share of 30% of a motor's cost: 0.5).
    """

    type: Literal["import_complete_motors"] = "import_complete_motors"
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
        """Raise the chosen groups' component share from the date the switch takes effect."""
        net = ctx.net
        before = net.embedded_share.copy()
        chosen = chosen_segments(net, [s.value for s in self.sectors], self.groups, path)
        for sector in self.sectors:
            s = net.sectors.index(sector)
            segs = [g for g in chosen if net.segment_sector[g] == s]
            if not segs:
                continue
            lag = self._figure(ctx, path, "lag_months", sector.value)
            top = self._figure(ctx, path, "max_share", sector.value)
            moved = top.reshape(-1, 1) * in_effect(net, self.start, lag, self.ramp_months)
            if moved.shape[0] > net.embedded_share.shape[0]:
                ctx.widen("embedded_share")
            bare = 1.0 - net.embedded_share[:, :, segs]
            net.embedded_share[:, :, segs] += bare * moved[:, :, None]
        record = ctx.record(path)
        record.outputs["embedded_before"] = before
        record.outputs["embedded_after"] = net.embedded_share.copy()

    def moved_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of magnet need moved from bare magnets to imported assemblies each step."""
        net = ctx.network
        out = ctx.record(path).outputs
        shape = (net.n_draws, net.n_steps, len(net.segments))
        moved = np.broadcast_to(out["embedded_after"], shape) - np.broadcast_to(
            out["embedded_before"], shape
        )
        return np.asarray((segment_need(ctx) * moved).sum(axis=2))

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the duty on the assemblies, as a share of the value of the magnets inside them.

        The magnets are valued at the sintered NdFeB price (prices.csv) whatever their grade.
        """
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        value = self.moved_tonnes(ctx, path) * sintered_value(ctx, path)
        return [CostLine("duty", value * premium)]
