"""Capacity build-out: a domestic process gains capacity from a date, ramping up linearly.

It stands for new separation, metal or magnet plants at home (the sintered-magnet scheme's
plants, IREL's NdPr metal expansion) and is the building block of the larger levers.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import field_validator

from rareflow.scenario.common import Day, StrictModel, check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number

PROCESS_IDS = (
    "separation_ndpr",
    "metal_ndpr",
    "metal_dy",
    "metal_tb",
    "metal_sm",
    "magnet_ndfeb_sintered",
    "magnet_ndfeb_bonded",
    "magnet_smco",
)
ProcessId = Literal[
    "separation_ndpr",
    "metal_ndpr",
    "metal_dy",
    "metal_tb",
    "metal_sm",
    "magnet_ndfeb_sintered",
    "magnet_ndfeb_bonded",
    "magnet_smco",
]


class Capacity(StrictModel):
    """New capacity at a domestic process.

    Parameters
    ----------
    process
        The process that gains capacity (its output is counted on its own basis: t of oxide,
        metal or magnet per year).
    t_per_year
        Capacity added at full ramp-up, per year.
    online
        First day of output.
    ramp_months
        Months from first output to full capacity (linear).
    """

    type: Literal["capacity"] = "capacity"
    name: str = ""
    process: ProcessId
    t_per_year: Number
    online: Day
    ramp_months: Number = 12.0

    @field_validator("t_per_year")
    @classmethod
    def _size(cls, v: Number) -> Number:
        check_range(v, 0, 1e7, "t_per_year")
        return v

    @field_validator("ramp_months")
    @classmethod
    def _ramp(cls, v: Number) -> Number:
        check_range(v, 0, 240, "ramp_months")
        return v

    def partners(self) -> tuple[str, ...]:
        """Partners this lever adds (none)."""
        return ()

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the ramped capacity to the process's schedule."""
        net = ctx.net
        j = [p.id for p in net.processes].index(self.process)
        size = ctx.sampler.draw(self.t_per_year, f"{path}.t_per_year")
        ramp = ctx.sampler.draw(self.ramp_months, f"{path}.ramp_months")
        start = ctx.step_of(self.online)
        on = ctx.active(self.online)
        months_on = (np.arange(net.n_steps) - start) * net.step_months + net.step_months
        frac = np.where(
            on[None, :],
            np.clip(months_on[None, :] / np.maximum(ramp[:, None], 1e-9), 0.0, 1.0),
            0.0,
        )
        added = size[:, None] / 12.0 * net.step_months * frac  # (D, T)
        if net.capacity.shape[0] == 1 and added.shape[0] > 1:
            net.capacity = np.repeat(net.capacity, added.shape[0], axis=0)
        net.capacity[:, :, j] += added
