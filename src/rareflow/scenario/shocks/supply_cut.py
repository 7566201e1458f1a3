"""Supply cut: a share of an exporter's supply of some elements and forms is lost for a period.

For example the 2025 Myanmar disruption: the Kachin ionic-clay mines that feed China's heavy
rare-earth separation were disrupted, so China's supply of Dy and Tb products fell.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from rareflow.ids import Element
from rareflow.scenario.common import (
    FORMS,
    CountryCode,
    Day,
    Form,
    StrictModel,
    check_dates,
    check_range,
)
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number


class SupplyCut(StrictModel):
    """A share of an exporter's supply is lost.

    Parameters
    ----------
    exporter
        The partner whose supply is cut.
    start, end
        The period.
    elements, forms
        What is cut: commodities of these forms containing any of these elements.
    fraction
        Share of that supply lost.
    """

    type: Literal["supply_cut"] = "supply_cut"
    name: str = ""
    exporter: CountryCode
    start: Day
    end: Day | None = None
    elements: list[Element] = Field(min_length=1)
    forms: list[Form] = Field(default_factory=lambda: list(FORMS))
    fraction: Number = 1.0

    @model_validator(mode="after")
    def _check(self) -> SupplyCut:
        check_dates(self.start, self.end)
        check_range(self.fraction, 0, 1, "fraction")
        return self

    def partners(self) -> tuple[str, ...]:
        """Partners this shock names."""
        return (self.exporter,)

    def apply(self, ctx: CompileContext, index: int, path: str) -> None:
        """Combine this cut with any other: the supply left is the product of what each leaves."""
        del index  # supply cuts take no control slot
        net = ctx.net
        on = ctx.active(self.start, self.end)
        covered = ctx.commodities(self.elements, self.forms)
        p = ctx.partner(self.exporter)
        frac = ctx.sampler.draw(self.fraction, f"{path}.fraction")  # (D,) or (1,)
        if net.cut.shape[0] == 1 and frac.shape[0] > 1:
            net.cut = np.repeat(net.cut, frac.shape[0], axis=0)
        idx = np.flatnonzero(on)
        for k in np.flatnonzero(covered):
            net.cut[:, idx, p, k] = 1.0 - (1.0 - net.cut[:, idx, p, k]) * (1.0 - frac[:, None])
