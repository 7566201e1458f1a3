"""Technology tie: a business-to-business tie with a processor abroad raises domestic yields.

The article: India "should strengthen B2B ties with companies like Lynas to secure processed rare
earths and enable mutual exchange of technological know-how in advanced processing". Lynas
separates NdPr at Kuantan, Malaysia (10,500 t/yr, facilities.csv) and separated its first Dy and
Tb there in 2025. Know-how shows in the model as higher yields at India's own plants: each tied
process loses a smaller share of its rare-earth input (oxide-to-metal loses 20%, Heim and Vander
Wal 2023; 60-75% of oxide reaches the magnet: process_parameters.csv). Yields are changed with
``CompileContext.scale_inputs``, which keeps each process's element balance.

Supply from the partner is a separate lever (``supply_contract``). The network's recipes have no
time axis, so a yield gain holds over the whole horizon; the tie's cost is a licence fee: an
upfront payment at ``start`` (ASSUMPTION: no fee is cited) and a royalty on what the tied processes
make, by default a share of its value at prices.csv (lever_costs.csv: 5% of sales, 2-10%, the
median of technology licences, RoyaltyStat 2016 and IPRA), or a fixed US$ per kg if given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.common import CountryCode, Day, Spec, check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.capacity import ProcessId


def input_factor(ctx: CompileContext, process: str, loss_cut: float) -> float:
    """Factor on a process's inputs that cuts the loss of its least-lost element by ``loss_cut``.

    A process loses ``s_e = loss_e / in_e`` of each element it takes in; scaling every input by
    ``f`` keeps the output, and the element balance holds while ``f >= out_e / in_e = 1 - s_e``
    for every element. With ``f = 1 - loss_cut * min_e(s_e)`` the least-lost element loses
    ``loss_cut`` less per tonne of output (all of its loss at 1), the others lose less too, and
    the process never creates mass.
    """
    net = ctx.net
    j = [p.id for p in net.processes].index(process)
    taken = net.proc_in[j] @ net.content
    lost = net.proc_loss[j]
    shares = [lost[e] / taken[e] for e in range(len(taken)) if taken[e] > 0]
    return 1.0 - loss_cut * (min(shares) if shares else 0.0)


class TechnologyTie(LeverBase):
    """Know-how from a processor abroad cuts the losses of domestic processes.

    Parameters
    ----------
    partner
        The partner's country (ISO alpha-3; e.g. MYS for Lynas's Kuantan plant).
    company
        The partner company (a label, e.g. Lynas Rare Earths).
    loss_cut
        Per domestic process: share of its rare-earth loss per tonne of output avoided (0..1),
        for the element it loses least of (the others gain less, in proportion to the inputs).
        E.g. ``metal_ndpr: 0.25``: about a quarter of the ~20% oxide-to-metal loss. Fixed
        numbers: the network's recipes are the same in every draw.
    start
        When the tie is signed (the upfront fee is paid in that month).
    upfront_inr_crore
        Upfront licence fees and joint-venture equity. Default: lever_costs.csv (Rs 100-1,500
        crore, ASSUMPTION: no figure found).
    royalty_share
        Royalty as a share of the value of what the tied processes make (their products at
        prices.csv). Default: lever_costs.csv (5%, 2-10%: the median royalty on net sales of
        technology licences, RoyaltyStat 2016; IPRA).
    royalty_usd_per_kg
        A fixed royalty per kg of output of the tied processes instead of the share (give one
        or the other).
    """

    type: Literal["technology_tie"] = "technology_tie"
    partner: CountryCode
    company: str = ""
    loss_cut: dict[ProcessId, float] = Field(min_length=1)
    start: Day
    upfront_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None

    royalty_share: Annotated[Number | None, Spec("share", 0, 1)] = None
    royalty_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e4)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "upfront_inr_crore": CostDefault("programme_cost", "inr_crore"),
        "royalty_share": CostDefault("royalty", "fraction"),
    }

    @model_validator(mode="after")
    def _check(self) -> TechnologyTie:
        for process, cut in self.loss_cut.items():
            check_range(cut, 0, 1, f"loss_cut.{process}")
        if self.royalty_share is not None and self.royalty_usd_per_kg is not None:
            raise ValueError("give royalty_share or royalty_usd_per_kg, not both")
        return self

    def cost_fields(self) -> tuple[str, ...]:
        """Return the upfront fee and the royalty in the form given (a share by default)."""
        royalty = "royalty_usd_per_kg" if self.royalty_usd_per_kg is not None else "royalty_share"
        return ("upfront_inr_crore", royalty)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Scale the inputs of each tied process down by its cut in losses."""
        if self.partner not in ctx.known_countries():
            raise ScenarioError(f"{path}.partner: '{self.partner}' is not in countries.csv")
        for process, cut in self.loss_cut.items():
            ctx.scale_inputs(process, input_factor(ctx, process, cut))

    def _royalty_usd_per_t(self, ctx: CostContext, path: str) -> FloatArray:
        """(D or 1, P) royalty per t of each tied process's output, in its listed order."""
        inputs = ctx.record(path).inputs
        if "royalty_usd_per_kg" in inputs:
            per_kg = inputs["royalty_usd_per_kg"].reshape(-1, 1)
            return np.broadcast_to(per_kg, (per_kg.shape[0], len(self.loss_cut))) * 1000.0
        net = ctx.network
        ids = [p.id for p in net.processes]
        prices = []
        for process in self.loss_cut:
            product = COMMODITY_IDS[int(np.argmax(net.proc_out[ids.index(process)]))]
            price = ctx.usd_per_kg(product)
            if np.isnan(price):
                raise ScenarioError(
                    f"{path}.royalty_share: the dataset has no price for {product}, the product "
                    f"of {process}; add one to your own prices.csv or give royalty_usd_per_kg"
                )
            prices.append(price)
        per_t: FloatArray = inputs["royalty_share"].reshape(-1, 1) * np.array(prices)[None, :]
        return per_t * 1000.0

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Upfront fee in the month of signing; royalty on what the tied processes make."""
        net = ctx.network
        upfront = ctx.per_draw(ctx.record(path).inputs["upfront_inr_crore"])
        per_t = self._royalty_usd_per_t(ctx, path)
        signed = np.datetime64(self.start, "M")
        at = (net.time.astype("datetime64[M]") <= signed) & (
            net.time.astype("datetime64[M]") + net.step_months > signed
        )
        fee = np.where(at[None, :], upfront * INR_CRORE / ctx.inr_per_usd(), 0.0)
        made = (
            ctx.results["production"]
            .sel(process=list(self.loss_cut))
            .transpose("draw", "time", "process")
            .to_numpy()
        )
        return [
            CostLine("licence_fee", np.broadcast_to(fee, (net.n_draws, net.n_steps))),
            CostLine(
                "royalty",
                np.einsum(
                    "dtp,dp->dt", made, np.broadcast_to(per_t, (net.n_draws, per_t.shape[1]))
                ),
            ),
        ]
