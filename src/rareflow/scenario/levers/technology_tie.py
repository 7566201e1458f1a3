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
upfront payment at ``start`` and a royalty per kg of what the tied processes make (no fee is
cited: give your own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rareflow.errors import ScenarioError
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
    royalty_usd_per_kg
        Royalty per kg of output of the tied processes (default 0: give your own).
    """

    type: Literal["technology_tie"] = "technology_tie"
    partner: CountryCode
    company: str = ""
    loss_cut: dict[ProcessId, float] = Field(min_length=1)
    start: Day
    upfront_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "upfront_inr_crore": CostDefault("programme_cost", "inr_crore")
    }
    royalty_usd_per_kg: Annotated[Number, Spec("USD/kg", 0, 1e4)] = 0.0

    @model_validator(mode="after")
    def _check(self) -> TechnologyTie:
        for process, cut in self.loss_cut.items():
            check_range(cut, 0, 1, f"loss_cut.{process}")
        return self

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Scale the inputs of each tied process down by its cut in losses."""
        if self.partner not in ctx.known_countries():
            raise ScenarioError(f"{path}.partner: '{self.partner}' is not in countries.csv")
        for process, cut in self.loss_cut.items():
            ctx.scale_inputs(process, input_factor(ctx, process, cut))

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Upfront fee in the month of signing; royalty on what the tied processes make."""
        net = ctx.network
        upfront = ctx.per_draw(ctx.record(path).inputs["upfront_inr_crore"])
        royalty = ctx.per_draw(self.draw(ctx.sampler, path, "royalty_usd_per_kg"))
        signed = np.datetime64(self.start, "M")
        at = (net.time.astype("datetime64[M]") <= signed) & (
            net.time.astype("datetime64[M]") + net.step_months > signed
        )
        fee = np.where(at[None, :], upfront * INR_CRORE / ctx.inr_per_usd(), 0.0)
        made = (
            ctx.results["production"]
            .sel(process=list(self.loss_cut))
            .sum("process")
            .transpose("draw", "time")
            .to_numpy()
        )
        return [
            CostLine("licence_fee", np.broadcast_to(fee, (net.n_draws, net.n_steps))),
            CostLine("royalty", made * 1000.0 * royalty),
        ]
