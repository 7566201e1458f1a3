"""Exploration pipeline: the National Critical Mineral Mission's projects, to new domestic mines.

The mission (approved 29 January 2025, FY2024-25 to FY2030-31) funds 1,200 exploration projects
by the Geological Survey of India, with ₹16,300 crore of government outlay and ₹18,000 crore
expected from PSUs (policies.csv, PIB 2025). About 100 of GSI's ~240 critical-mineral projects
concern rare earths (Business Standard, 25 July 2025; policies.csv).

Projects pass stage gates (exploration → discovery → feasibility → permitting → construction),
each with a chance of success; a mine opens a lead time after its discovery (discovery to
production: 15.7 years on average over 127 mines, range 6-32, S&P Global 2023; more than 16
years, IEA 2022: lead_times.csv). Each draw samples the number of new mines (binomial, by the
inverse CDF of one uniform per draw, so it is reproducible by path) and the lead time; the
mission's discoveries are spread evenly over its years. New mines add concentrate (t REO) to the
focal country's local supply. Domestic concentrate feeds separation only up to its capacity
(compile.py), so by default the lever also adds separation capacity for the new output.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import model_validator

from rareflow.model.network import FloatArray, Network
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext, Modifiers
from rareflow.scenario.distributions import Number, Triangular, Uniform
from rareflow.scenario.levers.base import INR_CRORE, CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    MONTHS_PER_YEAR,
    add_mined_concentrate,
    binomial,
    per_step,
    ramp,
    spread_before,
    step_index,
)
from rareflow.scenario.sampling import Sampler

#: Months of capital spending before a mine's first output (assumption).
CAPEX_MONTHS = 24.0


def _lead_default() -> Triangular:
    """Discovery to production, years: S&P Global 2023 (127 mines): mean 15.7, min 6, max 32.

    A triangular distribution on [6, 32] whose mean is 15.7 has its mode at
    3 x 15.7 - 6 - 32 = 9.1 (rareflow-derived).
    """
    return Triangular(low=6.0, mode=9.1, high=32.0)


class ExplorationPipeline(LeverBase):
    """Exploration projects that become new domestic mines, with the separation to use them.

    Parameters
    ----------
    projects
        Exploration projects of the mission (1,200 by GSI, policies.csv).
    rare_earth_share
        Share of them on rare earths, and of the mission's outlay counted here (100 of about 240
        GSI critical-mineral projects, Business Standard July 2025: 0.417, rareflow-derived).
    start
        When the mission's projects start (approval: 29 January 2025).
    duration_years
        Years over which discoveries are made (the mission's 7 years, policies.csv).
    discovery_probability
        Chance a project finds a deposit worth a feasibility study (assumption: uniform
        0.05-0.15; no cited figure).
    feasibility_probability
        Chance a discovery passes feasibility (assumption: uniform 0.2-0.4).
    permit_probability
        Chance a feasible project is permitted (assumption: uniform 0.5-0.9).
    construction_probability
        Chance a permitted mine is built (assumption: uniform 0.8-1.0).
    lead_years
        Years from discovery to first output (S&P Global 2023: mean 15.7, range 6-32; default
        triangular 6 / 9.1 / 32, whose mean is 15.7).
    permit_months
        Months of that lead time spent on permits (assumption: 0, left inside the lead time;
        give it to let a ``regulatory_reform`` cap it at its extraction limit).
    t_reo_per_mine
        Output of a new mine at full production, t REO per year (assumption: uniform 500-1,500,
        about India's 2,900 t REO/yr of USGS output over a few beach-sand operations).
    ramp_months
        Months from first output to full output (assumption: 24).
    add_separation
        Also add separation capacity (t REO of concentrate fed per year) for the new output.
    mine_capex_usd_million
        Capital cost of each new mine, paid over the 24 months before first output. Default:
        lever_costs.csv (USD 300 M for 5,000 t REO/yr, 150-600, ASSUMPTION), scaled by
        ``t_reo_per_mine``.
    separation_capex_usd_per_t
        Capital cost of separation per t REO/yr of capacity, paid with the mine's. Default:
        lever_costs.csv (USD 15,300, 3,600-24,000: Energy Fuels' Phase 2 and Phase 1 circuits
        and Lynas's heavy rare-earth plant, rareflow-derived).
    """

    streams: ClassVar[tuple[str, ...]] = ("successes",)
    type: Literal["exploration_pipeline"] = "exploration_pipeline"
    projects: Annotated[Number, Spec("count", 0, 1e5)] = 1200.0
    rare_earth_share: Annotated[Number, Spec("share", 0, 1)] = 100.0 / 240.0
    start: Day = date(2025, 1, 29)
    duration_years: Annotated[float, Spec("yr", 0, 30)] = 7.0
    discovery_probability: Annotated[Number, Spec("probability", 0, 1)] = Uniform(
        low=0.05, high=0.15
    )
    feasibility_probability: Annotated[Number, Spec("probability", 0, 1)] = Uniform(
        low=0.2, high=0.4
    )
    permit_probability: Annotated[Number, Spec("probability", 0, 1)] = Uniform(low=0.5, high=0.9)
    construction_probability: Annotated[Number, Spec("probability", 0, 1)] = Uniform(
        low=0.8, high=1.0
    )
    lead_years: Annotated[Number, Spec("yr", 0, 60)] = _lead_default()
    permit_months: Annotated[Number, Spec("month", 0, 240)] = 0.0
    t_reo_per_mine: Annotated[Number, Spec("t REO/yr", 0, 1e6)] = Uniform(low=500.0, high=1500.0)
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 24.0
    add_separation: bool = True
    mine_capex_usd_million: Annotated[Number | None, Spec("USD million", 0, 1e5)] = None
    separation_capex_usd_per_t: Annotated[Number | None, Spec("USD/(t REO/yr)", 0, 1e6)] = None

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "mine_capex_usd_million": CostDefault("capex", "usd_million", scale_by="t_reo_per_mine"),
        "separation_capex_usd_per_t": CostDefault("separation_capex", "usd_per_t_reo_per_year"),
    }

    @model_validator(mode="after")
    def _check(self) -> ExplorationPipeline:
        if self.duration_years <= 0:
            raise ValueError("duration_years must lie in (0, 30]")
        if self.separation_capex_usd_per_t is not None and not self.add_separation:
            raise ValueError("separation_capex_usd_per_t needs add_separation (nothing is built)")
        return self

    def cost_fields(self) -> tuple[str, ...]:
        """Mine capex, and separation capex when separation is added."""
        if self.add_separation:
            return tuple(self.cost_defaults)
        return ("mine_capex_usd_million",)

    def _online(
        self, net: Network, sampler: Sampler, modifiers: Modifiers, path: str
    ) -> FloatArray:
        """(D, M) step of first output of each new mine; NaN where a draw has fewer mines."""

        def draw(name: str) -> FloatArray:
            return sampler.draw(getattr(self, name), f"{path}.{name}")

        n = draw("projects") * draw("rare_earth_share")
        p = (
            draw("discovery_probability")
            * draw("feasibility_probability")
            * draw("permit_probability")
            * draw("construction_probability")
        )
        u = sampler.draw(Uniform(low=0.0, high=1.0), f"{path}.successes")
        mines = binomial(u, n, p)
        permits = draw("permit_months")
        saved = permits - modifiers.permit_months("extraction", permits)
        lead = np.maximum(draw("lead_years") * MONTHS_PER_YEAR - saved, 0.0)
        d_n = max(mines.size, lead.size)
        mines = np.broadcast_to(mines, (d_n,))
        top = int(mines.max(initial=0.0))
        i = np.arange(top)[None, :]
        found = (i + 0.5) / np.maximum(mines[:, None], 1.0) * self.duration_years * MONTHS_PER_YEAR
        months = found + np.broadcast_to(lead, (d_n,))[:, None]
        online = step_index(net, self.start) + np.floor(months / net.step_months)
        return np.where(i < mines[:, None], online, np.nan)

    def _output(
        self, online: FloatArray, size: FloatArray, net: Network, sampler: Sampler, path: str
    ) -> FloatArray:
        """(D, T) new concentrate per step of mines first producing at ``online``."""
        months = self.draw(sampler, path, "ramp_months")
        out = np.zeros((online.shape[0], net.n_steps))
        for m in range(online.shape[1]):
            has = ~np.isnan(online[:, m])
            share = ramp(net, np.where(has, online[:, m], net.n_steps), months)
            out += per_step(net, size, share)
        return out

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add new mines' concentrate to local supply, and separation capacity if asked.

        Records each draw's mines (their first steps) and size for the cost model.
        """
        online = self._online(ctx.net, ctx.sampler, ctx.modifiers, path)
        size = self.draw(ctx.sampler, path, "t_reo_per_mine")
        record = ctx.record(path)
        record.outputs["online"] = online
        record.outputs["size"] = size
        record.outputs["share"] = self.draw(ctx.sampler, path, "rare_earth_share")
        add_mined_concentrate(
            ctx, self._output(online, size, ctx.net, ctx.sampler, path), self.add_separation
        )

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the mission's outlay counted here, mine capex and separation capex."""
        return [CostLine("mission_outlay", self._outlay(ctx, path)), *self._capex(ctx, path)]

    def _outlay(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) government and PSU outlay (policies.csv) times the rare-earth share."""
        from rareflow.data.query import policy  # noqa: PLC0415 - pandas, when costed

        net = ctx.network
        total = sum(
            policy(ctx.dataset, "ncmm", name).to("inr_crore").value
            for name in ("outlay_government", "outlay_psu")
        )
        share = ctx.record(path).outputs["share"]
        usd = total * share * INR_CRORE / ctx.inr_per_usd()
        end = step_index(net, self.start) + self.duration_years * MONTHS_PER_YEAR / net.step_months
        months = np.array([self.duration_years * MONTHS_PER_YEAR])
        return spread_before(net, np.array([end]), months, usd)

    def _capex(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Mine capex before each mine's first output, separation capex with it."""
        net = ctx.network
        record = ctx.record(path)
        online = record.outputs["online"]
        per_mine = record.inputs["mine_capex_usd_million"]
        mine = np.zeros((net.n_draws, net.n_steps))
        for m in range(online.shape[1]):
            has = ~np.isnan(online[:, m])
            start = np.where(has, online[:, m], net.n_steps + 1e6)
            mine += spread_before(net, start, np.array([CAPEX_MONTHS]), per_mine * 1e6)
        lines = [CostLine("mine_capex", mine)]
        if self.add_separation:
            per_t = record.inputs["separation_capex_usd_per_t"]
            size = record.outputs["size"]
            sep = np.zeros((net.n_draws, net.n_steps))
            for m in range(online.shape[1]):
                has = ~np.isnan(online[:, m])
                start = np.where(has, online[:, m], net.n_steps + 1e6)
                sep += spread_before(net, start, np.array([CAPEX_MONTHS]), per_t * size)
            lines.append(CostLine("separation_capex", sep))
        return lines
