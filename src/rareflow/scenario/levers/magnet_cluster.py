"""Magnet cluster: a special economic zone where refining, alloying and magnet making sit together.

The article: "set up magnet production cluster Special Economic Zones where extraction, refining,
alloying, and assembly take place"; Telangana and Tamil Nadu have the ports, logistics and skilled
labour. In the model a cluster hosts the new capacity that other levers bring (``capacity``,
``magnet_scheme``) and does two things:

- **New plants start sooner.** Ready land, power, permits and port links bring the capacity that
  levers listed before the cluster add at its processes into use ``months_earlier`` months
  sooner (their ramp is unchanged). Capacity is a limit on throughput, so mass balance holds.
- **Yields rise.** Co-located plants pass scrap and swarf back up the chain: each process's
  rare-earth loss per tonne of output falls by ``loss_cut`` (``CompileContext.scale_inputs``
  keeps the element balance, as for the technology tie).

Shorter shipping for partners serving the cluster was considered and not modelled: the engine
moves goods in whole monthly steps, and a port-side site saves days of inland haulage, not a
month at sea. The cost is the zone's infrastructure capex; no figure is cited (give your own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rareflow.errors import ScenarioError
from rareflow.scenario.common import Day, Spec, check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.capacity import ProcessId
from rareflow.scenario.levers.technology_tie import input_factor

HOSTED: tuple[ProcessId, ...] = ("metal_ndpr", "magnet_ndfeb_sintered")
"""Processes a cluster hosts by default: NdPr metal making and sintered-magnet making."""


class MagnetCluster(LeverBase):
    """A magnet-making special economic zone hosting new domestic plants.

    Parameters
    ----------
    site
        Where it is (a label, e.g. Tamil Nadu or Telangana).
    processes
        Domestic processes located in the cluster (default: NdPr metal and sintered NdFeB).
    months_earlier
        Months sooner that capacity added at those processes by levers listed before the
        cluster comes into use (assumption; no figure is cited). Whole months, the same in
        every draw.
    loss_cut
        Per process: share of its rare-earth loss per tonne of output avoided by co-location
        (assumption; none by default). Fixed numbers.
    start
        When the zone's construction starts.
    build_months
        Months over which the capex is paid.
    capex_inr_crore
        Infrastructure capex of the zone. Default: lever_costs.csv (Rs 500-1,500 crore,
        ASSUMPTION).
    """

    type: Literal["magnet_cluster"] = "magnet_cluster"
    site: str = ""
    processes: list[ProcessId] = Field(default_factory=lambda: list(HOSTED), min_length=1)
    months_earlier: Annotated[int, Spec("month", 0, 120)] = 0
    loss_cut: dict[ProcessId, float] = Field(default_factory=dict)
    start: Day
    build_months: Annotated[int, Spec("month", 1, 240)] = 24
    capex_inr_crore: Annotated[Number | None, Spec("INR crore", 0, 1e6)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "capex_inr_crore": CostDefault("capex", "inr_crore")
    }

    @model_validator(mode="after")
    def _check(self) -> MagnetCluster:
        for process, cut in self.loss_cut.items():
            check_range(cut, 0, 1, f"loss_cut.{process}")
            if process not in self.processes:
                raise ValueError(f"loss_cut.{process}: {process} is not in the cluster's processes")
        return self

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Bring hosted capacity forward; raise the yields of the co-located processes."""
        net = ctx.net
        shift = self.months_earlier // net.step_months
        if shift > 0:
            ids = [p.id for p in net.processes]
            cols = [ids.index(p) for p in self.processes]
            cap = net.capacity[:, :, cols]
            added = cap - cap[:, :1]
            if not np.any(added > 0):
                raise ScenarioError(
                    f"{path}.months_earlier: no lever listed before the cluster adds capacity "
                    f"at {', '.join(self.processes)}; list the cluster after the plants it hosts"
                )
            later = np.minimum(np.arange(net.n_steps) + shift, net.n_steps - 1)
            net.capacity = net.capacity.copy()
            net.capacity[:, :, cols] = cap[:, :1] + np.maximum(added, added[:, later])
        for process, cut in self.loss_cut.items():
            ctx.scale_inputs(process, input_factor(ctx, process, cut))

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the zone's capex, paid evenly over its build from ``start``."""
        net = ctx.network
        capex = ctx.per_draw(ctx.record(path).inputs["capex_inr_crore"])
        months = net.time.astype("datetime64[M]")
        first = np.datetime64(self.start, "M")
        building = (months >= first) & (months < first + self.build_months)
        per_step = capex / self.build_months * net.step_months * INR_CRORE / ctx.inr_per_usd()
        return [CostLine("capex", np.where(building[None, :], per_step, 0.0))]
