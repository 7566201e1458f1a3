"""Regulatory reform: faster approvals and clear rules for radioactive by-products.

The article asks for streamlined approvals and clear handling rules for radioactive waste, to
remove barriers to entry. The benchmarks are the EU Critical Raw Materials Act's limits on
permit-granting for strategic projects: 27 months for extraction, 15 for processing (Regulation
(EU) 2024/1252; lead_times.csv, policies.csv).

A reform changes no flow by itself: it sets modifiers the other levers of the same scenario read
when they are applied (compile applies reforms first, whatever their place in the scenario):

- ``permit_months.extraction`` caps the permit time of new mines (``exploration_pipeline``,
  ``private_blocks``);
- ``permit_months.processing`` caps the permit time of new plants (``finance``,
  ``bioleaching``);
- ``thorium_cost_factor`` scales what ``private_blocks`` pay to handle thorium by-products;
- ``licence_probability`` replaces ``private_blocks``' chance that a block is licensed to handle
  its radioactive by-products.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from rareflow.scenario.common import check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import LeverBase


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
    """

    type: Literal["regulatory_reform"] = "regulatory_reform"
    extraction_permit_months: Number | None = 27.0
    processing_permit_months: Number | None = 15.0
    thorium_cost_factor: Number = 1.0
    licence_probability: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> RegulatoryReform:
        for name in ("extraction_permit_months", "processing_permit_months"):
            if getattr(self, name) is not None:
                check_range(getattr(self, name), 0, 240, name)
        check_range(self.thorium_cost_factor, 0, 10, "thorium_cost_factor")
        if self.licence_probability is not None:
            check_range(self.licence_probability, 0, 1, "licence_probability")
        return self

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Record the reform's modifiers for the other levers (see the module docstring)."""
        for kind in ("extraction", "processing"):
            cap = getattr(self, f"{kind}_permit_months")
            if cap is not None:
                ctx.set_reform(
                    f"permit_months.{kind}",
                    ctx.sampler.draw(cap, f"{path}.{kind}_permit_months"),
                )
        ctx.set_reform(
            "thorium_cost_factor",
            ctx.sampler.draw(self.thorium_cost_factor, f"{path}.thorium_cost_factor"),
        )
        if self.licence_probability is not None:
            ctx.set_reform(
                "licence_probability",
                ctx.sampler.draw(self.licence_probability, f"{path}.licence_probability"),
            )
