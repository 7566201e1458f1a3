"""Divert IREL's supply to Japan: oxide shipped abroad stays for Indian buyers.

Under a 2012 agreement IREL supplies Toyotsu Rare Earths India, which shipped "over 1,000 t" of
rare-earth materials to Japan in 2024, mainly neodymium, about a third of IREL's 2,900 t; India
asked IREL to suspend it in June 2025, though a bilateral agreement could not be halted at once
(reuters-2025-06-irel-japan, adaptation.csv).

The lever adds the diverted NdPr oxide to India's domestic supply (``local_supply`` of
``oxide_ndpr``, t of oxide) from ``start`` + ``lag_months``: the gross tonnage times the NdPr
oxide share of it (the form of the shipments is not published: adaptation.csv ``ndpr_share``,
ASSUMPTION with a range). The oxide becomes magnet only through India's own chain, oxide to
NdPr metal to sintered NdFeB, at those processes' capacities and yields; where the chain has no
capacity (India had no NdPr metal or sintered-magnet plant in 2025) it stays oxide and the
surplus is exported as before, so the lever helps only together with conversion capacity (the
magnet scheme, a capacity lever). Its cost is what is paid to end the supply early, a share of
the oxide's value (lever_costs.csv, ASSUMPTION with a range).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np

from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    adaptation_figure,
    add_local_supply,
    in_effect,
    per_step,
)

MECHANISM = "divert_irel_exports"
"""Its rows in adaptation.csv."""
OXIDE = "oxide_ndpr"
CONVERSION = ("metal_ndpr", "magnet_ndfeb_sintered")
"""India's processes that turn the oxide into magnet."""


class DivertIrelExports(LeverBase):
    """IREL's rare-earth supply to Japan is kept for Indian buyers, as NdPr oxide.

    Parameters
    ----------
    start
        Day the diversion is decided; the lag counts from it.
    lag_months
        Months from the decision to the first oxide kept. Default: adaptation.csv (12, 6-24
        months, ASSUMPTION: a bilateral agreement).
    t_per_year
        Rare-earth materials diverted, gross t a year as shipped. Default: adaptation.csv
        capacity (over 1,000 t in 2024, reuters-2025-06-irel-japan).
    ndpr_share
        NdPr oxide per t of the materials diverted. Default: adaptation.csv (ASSUMPTION with a
        range, from monazite's NdPr share of its rare-earth oxide to "mainly neodymium").
    ramp_months
        Months from the first oxide kept to the full volume (0: at once).
    premium
        Cost of ending the supply early, as a share of the oxide's value at the NdPr oxide
        price (prices.csv). Default: lever_costs.csv (ASSUMPTION with a range).
    """

    type: Literal["divert_irel_exports"] = "divert_irel_exports"
    start: Day
    lag_months: Annotated[Number | None, Spec("month", 0, 120)] = None
    t_per_year: Annotated[Number | None, Spec("t/yr", 0, 1e5)] = None
    ndpr_share: Annotated[Number | None, Spec("t oxide/t", 0, 1)] = None
    ramp_months: Annotated[float, Spec("month", 0, 120)] = 0.0
    premium: Annotated[Number | None, Spec("share", 0, 10)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction")
    }

    def _figure(self, ctx: CompileContext, path: str, field: str, parameter: str) -> FloatArray:
        """Return the lever's value of a field, else adaptation.csv's."""
        if getattr(self, field) is not None:
            return self.draw(ctx.sampler, path, field)
        return adaptation_figure(ctx, path, field, MECHANISM, parameter, "all")

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the diverted NdPr oxide to the domestic supply from the date it takes effect."""
        net = ctx.net
        lag = self._figure(ctx, path, "lag_months", "lag")
        gross = self._figure(ctx, path, "t_per_year", "capacity")
        share = self._figure(ctx, path, "ndpr_share", "ndpr_share")
        oxide = per_step(net, gross * share, in_effect(net, self.start, lag, self.ramp_months))
        add_local_supply(ctx, OXIDE, oxide)
        record = ctx.record(path)
        record.outputs["oxide"] = oxide
        on = oxide.max(axis=0) > 0
        js = [[p.id for p in net.processes].index(j) for j in CONVERSION]
        idle = [
            j for j, k in zip(CONVERSION, js, strict=True) if not np.any(net.capacity[:, on, k] > 0)
        ]
        if idle and np.any(on):
            record.basis.append(
                f"the diverted oxide stays oxide: no {' or '.join(idle)} capacity while it "
                "arrives, as compiled before this lever (add conversion capacity before it, e.g. "
                "the magnet scheme)"
            )

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the premium on the value of the oxide kept."""
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        price = float(ctx.network.base_price[COMMODITY_IDS.index(OXIDE)]) * 1000.0
        oxide = np.broadcast_to(
            ctx.record(path).outputs["oxide"], (ctx.network.n_draws, ctx.network.n_steps)
        )
        return [CostLine("premium", oxide * price * premium)]
