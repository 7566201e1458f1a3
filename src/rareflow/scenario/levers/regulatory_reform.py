"""Regulatory reform: faster approvals and clear rules for radioactive by-products.

The article asks for streamlined approvals and clear handling rules for radioactive waste, to
remove barriers to entry. The benchmarks are the EU Critical Raw Materials Act's limits on
permit-granting for strategic projects: 27 months for extraction, 15 for processing (Regulation
(EU) 2024/1252; lead_times.csv, policies.csv).

A reform changes no flow by itself: it sets modifiers the other levers of the same scenario read
when they are applied (its phase is ``MODIFIERS``: compile applies it before the other levers,
whatever its place in the scenario):

- ``permit_months.extraction`` caps the permit time of new mines (``exploration_pipeline``,
  ``private_blocks``);
- ``permit_months.processing`` caps the permit time of new plants (``finance``,
  ``bioleaching``);
- ``thorium_cost_factor`` scales what ``private_blocks`` pay to handle thorium by-products;
- ``licence_probability`` replaces ``private_blocks``' chance that a block is licensed to handle
  its radioactive by-products.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np

from rareflow.scenario.common import Spec
from rareflow.scenario.context import CompileContext, PermitKind
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import (
    INR_CRORE,
    CostContext,
    CostDefault,
    CostLine,
    LeverBase,
    Phase,
)
from rareflow.scenario.levers.build import MONTHS_PER_YEAR


class RegulatoryReform(LeverBase):
    """Caps on permit times and clearer by-product rules, read by the other levers.

    Parameters
    ----------
    extraction_permit_months
        Most months a mine's permits may take (27: EU CRMA limit for strategic extraction
        projects, lead_times.csv). Empty: no cap.
    processing_permit_months
        Most months a processing plant's permits may take (15: EU CRMA limit for strategic
        processing projects, lead_times.csv). Empty: no cap.
    thorium_cost_factor
        Multiplier on the cost of handling thorium by-products in private blocks under clear
        rules (no cited figure: 1, no change; give your own).
    licence_probability
        Chance that a private block is licensed to handle its radioactive by-products under clear
        rules (no cited figure; empty: the block's own figure stands).
    programme_cost_inr_crore
        Administrative cost of the reform (single-window permits, thorium licensing), paid over
        the first twelve months of the horizon. Default: lever_costs.csv (Rs 10-200 crore,
        ASSUMPTION: no figure found).
    """

    phase: ClassVar[Phase] = Phase.MODIFIERS
    type: Literal["regulatory_reform"] = "regulatory_reform"
    extraction_permit_months: Annotated[Number | None, Spec("month", 0, 240)] = 27.0
    processing_permit_months: Annotated[Number | None, Spec("month", 0, 240)] = 15.0
    thorium_cost_factor: Annotated[Number, Spec("factor", 0, 10)] = 1.0
    licence_probability: Annotated[Number | None, Spec("probability", 0, 1)] = None
    programme_cost_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "programme_cost_inr_crore": CostDefault("programme_cost", "inr_crore")
    }

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the reform's administration, paid over the first twelve months of the horizon."""
        net = ctx.network
        outlay = ctx.per_draw(ctx.record(path).inputs["programme_cost_inr_crore"])
        first = np.arange(net.n_steps)[None, :] * net.step_months < MONTHS_PER_YEAR
        steps = max(int(MONTHS_PER_YEAR) // net.step_months, 1)
        usd = outlay * INR_CRORE / ctx.inr_per_usd() / steps
        return [
            CostLine(
                "administration",
                np.broadcast_to(np.where(first, usd, 0.0), (net.n_draws, net.n_steps)),
            )
        ]

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Record the reform's modifiers for the other levers (see the module docstring)."""
        kinds: tuple[PermitKind, ...] = ("extraction", "processing")
        for kind in kinds:
            if getattr(self, f"{kind}_permit_months") is not None:
                ctx.modifiers.permit_cap_months[kind] = self.draw(
                    ctx.sampler, path, f"{kind}_permit_months"
                )
        ctx.modifiers.thorium_cost_factor = self.draw(ctx.sampler, path, "thorium_cost_factor")
        if self.licence_probability is not None:
            ctx.modifiers.licence_probability = self.draw(ctx.sampler, path, "licence_probability")
