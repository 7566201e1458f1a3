"""Consortium: state-owned firms offtake jointly and pool investment, sharing risk.

The article: "a consortium of Indian government-owned corporations such as Indian Rare Earths
Limited, National Mineral Development Corporation, Khanij Bidesh India Limited and others could
provide a mechanism to further de-risk foreign investment plans and project costs through joint
offtake agreements and pooled investment". In the model the consortium backs the partner
supplies that other levers in the scenario contract (``supply_contract``, ``partner_capacity``,
listed before it), and lowers the cost of capital of the investments it backs:

- **Risk sharing.** A contract delivers its volume times the partner's reliability. Joint offtake
  and pooled investment remove a share ``risk_share`` of the undelivered part: reliability r
  becomes ``r + risk_share * (1 - r)``, so the contracted volumes in the network are scaled by
  that over r from ``start``. The contract levers' own costs read the scaled volumes, so their
  premium covers what the consortium makes arrive.
- **Cheaper capital.** The cut in the discount rate is recorded for the levers that appraise
  investments (``finance``) in :class:`rareflow.scenario.context.Modifiers`; ``finance``
  subtracts it from its discount rate.

The NCMM expects Rs 18,000 crore of investment from public-sector firms over FY2025-FY2031
(policies.csv): the scale of all such investment; the consortium's own pooled investment
(lever_costs.csv, an ASSUMPTION with a range unless the scenario gives it) is paid evenly over
``investment_months`` from ``start``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.common import CountryCode, Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import grouping_reliability


class Consortium(LeverBase):
    """Joint offtake and pooled investment by state-owned firms.

    Parameters
    ----------
    members
        The firms (labels; the article names IREL, NMDC and KABIL).
    backs
        Partners whose contracted supply the consortium backs (``all``: every partner with
        contracted volume).
    start
        From when it backs them.
    risk_share
        Share of a contract's undelivered part (1 - reliability) removed by joint offtake and
        pooled investment (assumption: 0.5; no figure is cited).
    reliability
        Reliability the backed contracts were given; default: as ``supply_contract`` and
        ``partner_capacity`` set it by default, 0.95 for a partner sharing the Minerals
        Security Partnership or the Quad with the focal country, else 0.85 (assumptions;
        groupings.csv). Give it when the contracts set their own.
    discount_rate_cut
        Cut in the cost of capital of the investments it backs, a share per year (assumption:
        0.01, one percentage point; no figure is cited).
    premium
        What pooled buying pays over the market price on the extra volume its risk sharing
        brings. Default: lever_costs.csv (10-30%, ASSUMPTION).
    pooled_investment_inr_crore
        The consortium's own outlay besides the premium. Default: lever_costs.csv (Rs 500
        crore, 200-1,500, ASSUMPTION: no figure for a consortium is cited; KABIL's ~Rs 200
        crore for five Argentine blocks is the low end, and the NCMM's Rs 18,000 crore from all
        public-sector firms over seven years, policies.csv, is the scale of all such investment,
        not one consortium's).
    investment_months
        Months over which the outlay is paid from ``start``.
    """

    type: Literal["consortium"] = "consortium"
    members: list[str] = Field(default_factory=lambda: ["IREL", "NMDC", "KABIL"])
    backs: list[CountryCode] | Literal["all"] = "all"
    start: Day
    risk_share: Annotated[Number, Spec("share", 0, 1)] = 0.5
    reliability: Annotated[Number | None, Spec("share", 0.01, 1)] = None
    discount_rate_cut: Annotated[Number, Spec("share/yr", 0, 0.5)] = 0.01
    premium: Annotated[Number | None, Spec("share", 0, 100)] = None
    pooled_investment_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction"),
        "pooled_investment_inr_crore": CostDefault("capex", "inr_crore"),
    }
    investment_months: Annotated[int, Spec("month", 1, 240)] = 12

    def _reliability(self, ctx: CompileContext, partner: str, path: str) -> FloatArray:
        if self.reliability is not None:
            return self.draw(ctx.sampler, path, "reliability")
        return grouping_reliability(ctx, partner)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Scale up the backed contracts; record the cut in the cost of capital."""
        net = ctx.net
        if ctx.modifiers.discount_rate_read:
            raise ScenarioError(
                f"{path}: list the consortium before the finance levers it backs, so that they "
                "see its cut in the cost of capital"
            )
        if self.backs != "all":
            unknown = [
                p
                for p in self.backs
                if p not in net.partners or not np.any(net.contract[:, :, ctx.partner(p)] > 0)
            ]
            if unknown:
                raise ScenarioError(
                    f"{path}.backs: {', '.join(unknown)} supply nothing under contract here"
                )
        on = ctx.active(self.start)
        codes = net.partners if self.backs == "all" else tuple(self.backs)
        backed = [p for p in codes if np.any(net.contract[:, on, ctx.partner(p)] > 0)]
        if not backed:
            raise ScenarioError(
                f"{path}: no contracted supply to back from {self.start}; list the consortium "
                "after the supply_contract or partner_capacity levers it backs"
            )
        share = self.draw(ctx.sampler, path, "risk_share")
        extra: list[tuple[int, int, FloatArray]] = []
        for code in backed:
            r = self._reliability(ctx, code, path)
            factor = 1.0 + share * (1.0 - r) / r  # (1 or D,)
            contract = ctx.widen("contract") if factor.shape[0] > 1 else net.contract
            contract[:, on, ctx.partner(code)] *= factor[:, None, None]
            # The extra volume is the consortium's: its premium is the consortium's cost, and
            # each backed contract keeps paying its own premium on its own volume.
            for p, k, volume in list(net.contract_ledger.values()):
                if p == ctx.partner(code):
                    scaled = np.broadcast_to(volume, (factor.shape[0], net.n_steps)).copy()
                    scaled[:, on] *= factor[:, None]
                    extra.append((p, k, scaled - volume))
        ctx.record(path).outputs["extra"] = extra
        ctx.modifiers.discount_rate_cut = ctx.modifiers.discount_rate_cut + self.draw(
            ctx.sampler, path, "discount_rate_cut"
        )

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium on the extra volume delivered, and the pooled investment.

        The investment is paid evenly over ``investment_months`` from ``start``.
        """
        net = ctx.network
        record = ctx.record(path)
        premium = ctx.per_draw(record.inputs["premium"])
        shape = (net.n_draws, net.n_steps)
        paid = np.zeros(shape)
        for p, k, volume in record.outputs["extra"]:
            price = ctx.usd_per_kg(COMMODITY_IDS[k])
            if np.isnan(price):
                raise ScenarioError(
                    f"{path}: the dataset has no price for {COMMODITY_IDS[k]}, which it backs; "
                    "add one to your own prices.csv"
                )
            delivered = np.broadcast_to(volume, shape) * (
                1.0 - np.broadcast_to(net.cut[:, :, p, k], shape)
            )
            paid += delivered * price * 1000.0 * premium
        outlay = ctx.per_draw(record.inputs["pooled_investment_inr_crore"])
        months = net.time.astype("datetime64[M]")
        first = np.datetime64(self.start, "M")
        paying = (months >= first) & (months < first + self.investment_months)
        per_step = outlay / self.investment_months * net.step_months * INR_CRORE
        return [
            CostLine("premium", paid),
            CostLine("investment", np.where(paying[None, :], per_step, 0.0) / ctx.inr_per_usd()),
        ]
