"""Export control: an exporter's licence requirement on some elements and forms.

China's controls of 2025 are the model (MOFCOM/GAC Announcements 18, 57, 61, 62 and 70): a
licence is needed for metals, oxides, alloys, compounds of listed elements and for magnets that
contain them; applications wait for a decision and some are refused; the October rule extends
the requirement to foreign goods with at least 0.1% Chinese rare-earth content, then was
suspended.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

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
from rareflow.units import DAYS_PER_MONTH


class LicencePhase(StrictModel):
    """How licence applications made from a date on are treated.

    Parameters
    ----------
    start
        First day of this phase (YAML key ``from``).
    delay_days
        Days from application to decision.
    approval_probability
        Share of applications approved.
    """

    start: Day = Field(alias="from")
    delay_days: Number = 45.0
    approval_probability: Number = 0.5

    @field_validator("delay_days")
    @classmethod
    def _delay(cls, v: Number) -> Number:
        check_range(v, 0, 3650, "delay_days")
        return v

    @field_validator("approval_probability")
    @classmethod
    def _prob(cls, v: Number) -> Number:
        check_range(v, 0, 1, "approval_probability")
        return v


class ExportControl(StrictModel):
    """An exporter's licence requirement.

    Parameters
    ----------
    exporter
        Controlling country.
    start, end
        When the control applies (``end`` empty: to the end of the horizon).
    suspended
        Periods during which it is suspended, as ``[from, until]`` pairs.
    elements
        Controlled elements: a material is covered when it contains one (a magnet when its typical
        composition does).
    forms
        Controlled forms.
    destinations
        ``all`` (a global control: other importers lose supply too and compete for other
        partners' spare supply) or ``focal`` (aimed at the focal country alone).
    licence
        Licence phases in date order; applications made before the first phase are refused.
    reexport_content_rule
        If set, goods from other exporters that contain at least this share (by value) of the
        controlling country's rare earths need its licence too (October 2025: 0.001).
    reexport_affected_share
        Share of other exporters' supply that the re-export rule catches (an assumption); only
        with ``reexport_content_rule``.
    """

    type: Literal["export_control"] = "export_control"
    name: str = ""
    exporter: CountryCode = "CHN"
    start: Day
    end: Day | None = None
    suspended: list[tuple[Day, Day]] = Field(default_factory=list)
    elements: list[Element] = Field(min_length=1)
    forms: list[Form] = Field(default_factory=lambda: list(FORMS))
    destinations: Literal["all", "focal"] = "all"
    licence: list[LicencePhase] = Field(default_factory=list)
    reexport_content_rule: float | None = Field(default=None, ge=0, le=1)
    reexport_affected_share: Number = 0.0

    @model_validator(mode="after")
    def _check(self) -> ExportControl:
        check_dates(self.start, self.end)
        for a, b in self.suspended:
            check_dates(a, b)
        starts = [p.start for p in self.licence]
        if starts != sorted(starts):
            raise ValueError("licence phases must be in date order")
        check_range(self.reexport_affected_share, 0, 1, "reexport_affected_share")
        if self.reexport_content_rule is None and self.reexport_affected_share != 0.0:
            raise ValueError(
                "reexport_affected_share is the share of other exporters' supply a re-export "
                "content rule catches: set reexport_content_rule too (e.g. 0.001), or leave "
                "the share out (without a rule it would change nothing)"
            )
        return self

    def partners(self) -> tuple[str, ...]:
        """Partners this shock names."""
        return (self.exporter,)

    def apply(self, ctx: CompileContext, index: int, path: str) -> None:
        """Write licence requirements, approvals and delays into control slot ``index``."""
        net = ctx.net
        on = ctx.active(self.start, self.end)
        for a, b in self.suspended:
            on &= ~ctx.active(a, b)
        covered = ctx.commodities(self.elements, self.forms)
        exporter = ctx.partner(self.exporter)
        steps, kinds = np.flatnonzero(on), np.flatnonzero(covered)
        others = np.array([p for p in range(len(net.partners)) if p != exporter], dtype=np.int64)
        partners = np.array([exporter], dtype=np.int64)
        scale = net.licence_scale[:, index, :]
        scale[:, exporter] = 1.0
        if self.reexport_content_rule is not None:
            partners = np.arange(len(net.partners))
            share = ctx.sampler.draw(
                self.reexport_affected_share, f"{path}.reexport_affected_share"
            )
            scale[:, others] = share[:, None]
        net.licensed[index][np.ix_(steps, partners, kinds)] = 1.0
        approval = net.approval[:, index, :]
        delay = net.delay_steps[:, index, :]
        approval[:] = 0.0
        delay[:] = 0.0
        step_days = DAYS_PER_MONTH * net.step_months
        for i, phase in enumerate(self.licence):
            when = ctx.active(phase.start)
            p = ctx.sampler.draw(phase.approval_probability, f"{path}.licence[{i}].approval")
            d = ctx.sampler.draw(phase.delay_days, f"{path}.licence[{i}].delay_days")
            approval[:, when] = p[:, None]
            delay[:, when] = (d / step_days)[:, None]
