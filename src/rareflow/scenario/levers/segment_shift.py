"""Shared base of the adaptation levers that move buyer groups' need between two states.

Light rare-earth grades move heavy-grade need to the light grade (``heavy_share`` falls);
complete motors move bare-magnet need to imported assemblies (``embedded_share`` rises). Both
act on chosen buyer groups after a lag, ramp to a limit, take their defaults from adaptation.csv
per sector, and cost a premium on the value of the sintered magnet moved (lever_costs.csv). A
subclass names its schedule, its mechanism's rows and how a share moves; it is a lever of its
own (its module registers it); this base has no ``type`` tag and registers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

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
    segment_need,
    sintered_value,
)


class SegmentShift(LeverBase):
    """Chosen buyer groups move a share of their need from one state of a schedule to another.

    Subclasses set :attr:`mechanism`, :attr:`schedule` and :attr:`cost_name`, and define
    :meth:`shift`; their docstrings give the fields' meanings and defaults.
    """

    mechanism: ClassVar[str]
    """The lever's rows in adaptation.csv."""
    schedule: ClassVar[str]
    """The network's segment schedule it writes, (D or 1, T, G)."""
    cost_name: ClassVar[str]
    """Its cost line's name."""
    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction")
    }

    type: str
    sectors: list[Sector] = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)
    start: Day
    lag_months: Annotated[Number | None, Spec("month", 0, 120)] = None
    max_share: Annotated[Number | None, Spec("share", 0, 1)] = None
    ramp_months: Annotated[float, Spec("month", 0, 120)] = 0.0
    premium: Annotated[Number | None, Spec("share", 0, 10)] = None

    @staticmethod
    def shift(values: FloatArray, moved: FloatArray) -> FloatArray:
        """Return the schedule's values after a share ``moved`` of the need has moved."""
        raise NotImplementedError

    def _figure(self, ctx: CompileContext, path: str, field: str, sector: str) -> FloatArray:
        """Return the lever's value of a field, else adaptation.csv's for the sector."""
        if getattr(self, field) is not None:
            return self.draw(ctx.sampler, path, field)
        return adaptation_figure(
            ctx, path, field, self.mechanism, field.removesuffix("_months"), sector
        )

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Move the chosen groups' share from the date the switch takes effect."""
        net = ctx.net
        before = getattr(net, self.schedule).copy()
        for sector, segs in chosen_by_sector(net, self.sectors, self.groups, path):
            lag = self._figure(ctx, path, "lag_months", sector.value)
            top = self._figure(ctx, path, "max_share", sector.value)
            moved = top.reshape(-1, 1) * in_effect(net, self.start, lag, self.ramp_months)
            if moved.shape[0] > getattr(net, self.schedule).shape[0]:
                ctx.widen(self.schedule)
            values = getattr(net, self.schedule)
            values[:, :, segs] = self.shift(values[:, :, segs], moved[:, :, None])
        record = ctx.record(path)
        record.outputs["before"] = before
        record.outputs["after"] = getattr(net, self.schedule).copy()

    def moved_share(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T, G) the schedule's change each step, as a share of each segment's need."""
        net = ctx.network
        out = ctx.record(path).outputs
        shape = (net.n_draws, net.n_steps, len(net.segments))
        return np.asarray(
            np.abs(np.broadcast_to(out["after"], shape) - np.broadcast_to(out["before"], shape))
        )

    def moved_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of magnet need moved each step."""
        return np.asarray((segment_need(ctx) * self.moved_share(ctx, path)).sum(axis=2))

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium on the value of the magnet moved (at the sintered NdFeB price)."""
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        value = self.moved_tonnes(ctx, path) * sintered_value(ctx, path)
        return [CostLine(self.cost_name, value * premium)]
