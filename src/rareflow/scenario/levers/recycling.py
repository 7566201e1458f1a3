"""Recycling: end-of-life magnets collected, liberated and recovered into secondary supply.

What leaves use each year comes from the in-use stock model (:func:`rareflow.stocks.in_use.
end_of_life`): each sector's historic and projected magnet inflows (cited sector activity, with
back-casts labelled in ``in_use_history.csv``) aged with the sector's lifetime (``lifetimes.csv``);
the stocks reported by ``rareflow stocks`` rest on the same inflows, and their uncertain inputs
are drawn through the scenario's sampler like every other number. Of a sector's end-of-life
magnets, per step:

``processed = scrap x collection x pre-processing yield x ramp`` (t of magnet scrap fed to the
recycler, capped by its capacity) and ``recovered = processed x recovery``.

- **collection**: the share of end-of-life products reaching a formal recycler. By default each
  sector's formal collection rate (``recycling.csv``: e-waste 33% in FY2021-22, CPCB; vehicles
  0.3%, registered scrapping facilities; wind an assumption), plus ``informal_channelled`` of
  the share handled informally (0 by default: India's informal sector recovers no rare earths);
  ``collection_rate`` replaces all of it with one rate for every sector.
- **pre-processing yield**: the share of the magnet in a collected product that is liberated
  as magnet scrap (``recycling.csv``, assumptions by sector: large motor and generator magnets
  come out whole, phone magnets are mostly lost in shredding).
- **recovery**: by route (``recycling.csv``): magnet-to-magnet 99.4% of the powder (pilot,
  National Formosa University 2025), hydrometallurgy 97% of the rare earths (Chowdhury et al.
  2021, swarf).

Recovered material enters the focal country's stock where its route delivers it:
``magnet_to_magnet`` (hydrogen processing and re-sintering, as HyProMag's plants that sinter
their own powder) as sintered NdFeB magnets, ready for sectors; ``hydromet_to_oxide`` as NdPr and
Dy oxide, which become magnets only through the country's metal and magnet plants (their capacity
limits it; the rest is surplus). Element mass is conserved on the oxide route: oxide = metal in
the scrap / metal per t of oxide.

Output starts at ``start``, or ``decision`` plus the route's lead time (``recycling.csv``:
magnet-to-magnet 2.2 years, HyProMag USA's plan; hydrometallurgy 2 years, BatX's plan in India),
and ramps up over ``ramp_months``. Capital cost: the plant (``capacity_t_per_year``, or the
largest yearly scrap it processes) times a cost per t/yr of capacity (magnet-to-magnet: US$125 M
for 750 t/yr, HyProMag USA's feasibility study; none cited for hydrometallurgy), spent evenly over
the lead time before output. End-of-life recycling of rare earths is below 1% today
(process_parameters.csv); the EU's Critical Raw Materials Act sets a 25% recycling benchmark
(policies.csv); Japan built a recycling industry after 2010 (the strategy article).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import model_validator

from rareflow import dims, units
from rareflow.errors import InputError, ScenarioError
from rareflow.ids import SINTERED_NDFEB, Element, Sector
from rareflow.model.network import COMMODITY_IDS, TRACKED_ELEMENTS, FloatArray, Recycled
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number, Triangular
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import ramp, spread_before, step_index

Route = Literal["magnet_to_magnet", "hydromet_to_oxide"]


def _as_number(row: dict[str, object]) -> Number:
    """Return a row's value as a scenario number: triangular over its range, or plain."""
    value = float(str(row["value"]))
    low, high = (float(str(row[k])) for k in ("low", "high"))
    low = value if not np.isfinite(low) else low
    high = value if not np.isfinite(high) else high
    return Triangular(low=low, mode=value, high=high) if high > low else value


def end_of_life(ctx: CompileContext) -> FloatArray:
    """(D, T, S) tonnes of magnet leaving use each step, by draw and sector of the network.

    The yearly outflows of :func:`rareflow.stocks.in_use.end_of_life`, their inputs drawn
    through the scenario's sampler (so they are uncertain in ensembles and take part in LHS
    and Sobol designs), spread evenly over the year's steps; sectors without activity data
    leave nothing.
    """
    net = ctx.net
    years = net.time.astype("datetime64[Y]").astype(int) + 1970
    # stocks (scipy, xarray) load when a recycling lever compiles, not when a scenario parses.
    from rareflow.stocks.in_use import end_of_life as end_of_life_by_year  # noqa: PLC0415

    by_year = end_of_life_by_year(
        ctx.dataset, ctx.chain.country, int(years.max()), sampler=ctx.sampler
    )
    out = np.zeros((by_year.sizes[dims.DRAW], net.n_steps, len(net.sectors)))
    known = set(map(str, by_year[dims.SECTOR].to_numpy()))
    for s, sector in enumerate(net.sectors):
        if sector.value in known:
            one = by_year.sel({dims.SECTOR: sector.value, dims.YEAR: years})
            out[:, :, s] = one.transpose(dims.DRAW, dims.YEAR).to_numpy() / 12.0 * net.step_months
    return out


class Recycling(LeverBase):
    """Collection, pre-processing and recovery of end-of-life magnets.

    Parameters
    ----------
    route
        ``magnet_to_magnet`` (scrap made into sintered magnets again) or ``hydromet_to_oxide``
        (leached back to NdPr and Dy oxide).
    start
        First month of output; give this or ``decision``.
    decision
        Month the plant is decided; output starts after ``lead_months``.
    lead_months
        Months from decision to output (default: the route's lead time, recycling.csv); also
        the months over which the capital cost is spent.
    ramp_months
        Months from first output to the full collection rate (assumption: 24).
    sectors
        Sectors whose end-of-life magnets the lever collects (default: all). Two recycling levers
        may not collect the same sector.
    collection_rate
        One share of end-of-life products collected, for every sector; default: each sector's
        formal collection rate (recycling.csv) plus ``informal_channelled`` of its informal share.
    informal_channelled
        Share of the informally handled products brought to the recycler (default 0: today's
        informal sector recovers no rare earths); used only without ``collection_rate``.
    preprocessing_yield
        One share of a collected product's magnet liberated as scrap, for every sector; default:
        each sector's row of recycling.csv.
    recovery
        Share of the scrap (or of its rare earths) recovered; default: the route's row.
    capacity_t_per_year
        Most scrap (t of magnet) processed per year; empty: no limit.
    cost_usd_per_kg
        Operating cost per kg of scrap processed (none cited: 0; set your own).
    capex_usd_per_t_per_year
        Capital cost per t/yr of plant capacity; default: the route's reference plant
        (recycling.csv), or for a route without one (hydrometallurgy) lever_costs.csv's
        separation capex per t of magnet scrap (rareflow-derived from Energy Fuels' and
        Lynas's separation plants).
    """

    streams: ClassVar[tuple[str, ...]] = ("collection_rate_formal", "share_informal", "lead_time")
    type: Literal["recycling"] = "recycling"
    route: Route = "magnet_to_magnet"
    start: Day | None = None
    decision: Day | None = None
    lead_months: Annotated[Number | None, Spec("month", 0, 240)] = None
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 24.0
    sectors: list[Sector] | None = None
    collection_rate: Annotated[Number | None, Spec("share", 0, 1)] = None
    informal_channelled: Annotated[Number, Spec("share", 0, 1)] = 0.0
    preprocessing_yield: Annotated[Number | None, Spec("share", 0, 1)] = None
    recovery: Annotated[Number | None, Spec("share", 0, 1)] = None
    capacity_t_per_year: Annotated[Number | None, Spec("t scrap/yr", 0, 1e7)] = None
    cost_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e4)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "cost_usd_per_kg": CostDefault("opex", "usd_per_kg")
    }
    capex_usd_per_t_per_year: Annotated[Number | None, Spec("USD/(t/yr)", 0, 1e9)] = None

    def cost_default(self, name: str) -> CostDefault:
        """Read the separation capex per t of scrap for a route without a reference plant."""
        if name == "capex_usd_per_t_per_year":
            return CostDefault("separation_capex", "usd_per_t_magnet_per_year")
        return self.cost_defaults[name]

    @model_validator(mode="after")
    def _check(self) -> Recycling:
        if (self.start is None) == (self.decision is None):
            raise ValueError("give exactly one of start (first output) or decision (plant decided)")
        if self.sectors is not None and not self.sectors:
            raise ValueError("sectors: give at least one sector, or leave it out for all")
        return self

    def _default(self, ctx: CompileContext, parameter: str, sector: str) -> Number:
        from rareflow.data.query import recycling_row  # noqa: PLC0415 - pandas, at compile

        row = recycling_row(ctx.dataset, ctx.chain.country, self.route, sector, parameter)
        if row is None:
            raise InputError(
                f"recycling.csv has no chosen {parameter} row for {ctx.chain.country} (or WLD), "
                f"route {self.route} (or any), sector {sector} (or all): add one, or set it in "
                "the scenario"
            )
        return _as_number(row)

    def _covered(self, ctx: CompileContext) -> NDArray[np.bool_]:
        wanted = set(self.sectors) if self.sectors is not None else set(ctx.net.sectors)
        return np.array([s in wanted for s in ctx.net.sectors], dtype=bool)

    def _by_sector(
        self, ctx: CompileContext, path: str, name: str, scrap: FloatArray
    ) -> FloatArray:
        """(D or 1, S) share for each sector that has scrap: the lever's, or the dataset's."""
        net = ctx.net
        given = getattr(self, name)
        if given is not None:
            return ctx.sampler.draw(given, f"{path}.{name}")[:, None] * np.ones(len(net.sectors))
        parts = []
        for s, sector in enumerate(net.sectors):
            if not scrap[..., s].any():
                parts.append(np.zeros(1))
                continue
            if name == "collection_rate":
                formal = ctx.sampler.draw(
                    self._default(ctx, "collection_rate_formal", sector.value),
                    f"{path}.collection_rate_formal.{sector.value}",
                )
                informal = ctx.sampler.draw(
                    self._default(ctx, "share_informal", sector.value),
                    f"{path}.share_informal.{sector.value}",
                )
                channelled = self.draw(ctx.sampler, path, "informal_channelled")
                parts.append(np.minimum(formal + channelled * informal, 1.0))
            else:
                parts.append(
                    ctx.sampler.draw(
                        self._default(ctx, name, sector.value), f"{path}.{name}.{sector.value}"
                    )
                )
        d_n = max(p.shape[0] for p in parts)
        return np.stack([np.broadcast_to(p, (d_n,)) for p in parts], axis=1)

    def online(self, ctx: CompileContext, path: str) -> tuple[FloatArray, FloatArray]:
        """(D or 1,) step of first output and months of lead time before it."""
        net = ctx.net
        if self.lead_months is not None:
            lead = self.draw(ctx.sampler, path, "lead_months")
        else:
            from rareflow.data.query import recycling_row  # noqa: PLC0415 - pandas, at compile

            row = recycling_row(ctx.dataset, ctx.chain.country, self.route, "all", "lead_time")
            if row is None:
                raise InputError(
                    f"recycling.csv has no chosen lead_time row for route {self.route}: add one, "
                    "or set lead_months in the scenario"
                )
            per_month = units.convert(1.0, str(row["unit"]), "months")
            lead = ctx.sampler.draw(_as_number(row), f"{path}.lead_time") * per_month
        if self.decision is not None:
            return step_index(net, self.decision) + lead / net.step_months, lead
        if self.start is not None:
            return np.array([step_index(net, self.start)]), lead
        raise ScenarioError(f"{path}: give start or decision")  # pragma: no cover - validated

    def processed(self, ctx: CompileContext, path: str) -> FloatArray:
        """(D, T) tonnes of magnet scrap fed to the recycler per step."""
        net = ctx.net
        scrap = end_of_life(ctx) * self._covered(ctx)[None, None, :]  # (D, T, S)
        collect = self._by_sector(ctx, path, "collection_rate", scrap)
        liberated = self._by_sector(ctx, path, "preprocessing_yield", scrap)
        share = collect * liberated  # (D or 1, S)
        months = self.draw(ctx.sampler, path, "ramp_months")
        frac = ramp(net, self.online(ctx, path)[0], months)  # (D or 1, T)
        taken = (share[:, None, :] * scrap).sum(axis=2) * frac
        if self.capacity_t_per_year is not None:
            cap = self.draw(ctx.sampler, path, "capacity_t_per_year")
            taken = np.minimum(taken, cap[:, None] / 12.0 * net.step_months)
        return np.asarray(taken)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the recovered material to local supply (magnets or oxides)."""
        net = ctx.net
        mine = tuple(s for s, on in zip(net.sectors, self._covered(ctx), strict=True) if on)
        for other, flows in net.recycled_ledger.items():
            shared = sorted(set(mine) & set(flows.sectors))
            if shared:
                raise ScenarioError(
                    f"{path}: recycling levers {other} and {path} both collect the end-of-life "
                    f"magnets of {', '.join(s.value for s in shared)}; give each its own sectors"
                )
        processed = self.processed(ctx, path)
        recovery = ctx.sampler.draw(
            self.recovery if self.recovery is not None else self._default(ctx, "recovery", "all"),
            f"{path}.recovery",
        )[:, None]
        recovered_magnet = processed * recovery  # (D or 1, T)
        recovered = np.zeros((recovered_magnet.shape[0], net.n_steps, len(COMMODITY_IDS)))
        if self.route == "magnet_to_magnet":
            recovered[:, :, COMMODITY_IDS.index(SINTERED_NDFEB)] = recovered_magnet
        else:
            # Leached to oxide: element mass is kept, so oxide = metal in scrap / metal per t oxide.
            magnet = net.content[COMMODITY_IDS.index(SINTERED_NDFEB)]
            col = {e: i for i, e in enumerate(TRACKED_ELEMENTS)}
            for oxide, elements in (
                ("oxide_ndpr", (Element.Nd, Element.Pr)),
                ("oxide_dy", (Element.Dy,)),
            ):
                k = COMMODITY_IDS.index(oxide)
                metal_in_scrap = sum(magnet[col[e]] for e in elements)
                metal_per_oxide = sum(net.content[k, col[e]] for e in elements)
                if metal_per_oxide > 0:
                    recovered[:, :, k] = recovered_magnet * metal_in_scrap / metal_per_oxide
        if recovered.shape[0] > 1:
            ctx.widen("local_supply")
        net.local_supply += recovered
        on, lead = self.online(ctx, path)
        net.recycled_ledger[path] = Recycled(
            mine, processed, recovered, on, lead, self._capex_per_t(ctx, path)
        )

    def _capex_per_t(self, ctx: CompileContext, path: str) -> FloatArray:
        """(D or 1,) capital cost per t/yr: the lever's, or the route's reference plant."""
        if self.capex_usd_per_t_per_year is not None:
            return self.draw(ctx.sampler, path, "capex_usd_per_t_per_year")
        from rareflow.data.query import recycling_row  # noqa: PLC0415 - pandas, at compile

        country = ctx.chain.country
        capex = recycling_row(ctx.dataset, country, self.route, "all", "reference_capex")
        size = recycling_row(ctx.dataset, country, self.route, "all", "reference_capacity")
        if capex is None or size is None:
            # No reference plant for the route (hydrometallurgy): leaching and separation of the
            # scrap's rare earths, at lever_costs.csv's separation capex per t of magnet.
            return self.cost_input(ctx, path, "capex_usd_per_t_per_year")
        usd = units.convert(float(str(capex["value"])), str(capex["unit"]), "usd")
        t_per_year = units.convert(
            float(str(size["value"])), str(size["unit"]), "t_magnet_per_year"
        )
        return np.array([usd / t_per_year])

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the operating cost on the scrap processed and the plant's capital cost."""
        net = ctx.network
        flows = net.recycled_ledger[path]
        processed = np.broadcast_to(flows.processed, (net.n_draws, net.n_steps))
        per_kg = ctx.per_draw(ctx.record(path).inputs["cost_usd_per_kg"])
        if self.capacity_t_per_year is not None:
            size = self.draw(ctx.sampler, path, "capacity_t_per_year")
        else:
            size = processed.max(axis=1) * 12.0 / net.step_months
        plant = np.broadcast_to(size, (net.n_draws,)) * np.broadcast_to(
            flows.capex_usd_per_t_per_year, (net.n_draws,)
        )
        capex = spread_before(net, flows.online, flows.lead_months, plant)
        return [CostLine("processing", processed * 1000.0 * per_kg), CostLine("capex", capex)]
