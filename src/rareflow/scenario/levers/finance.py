"""Finance: public instruments that decide whether a private plant is built, when, and at what cost.

The article asks governments to give upstream producers certainty of demand (offtake
guarantees), long-term support (performance-linked and tax incentives), blended finance, and
sovereign risk cover through KABIL for high-risk places. The US Department of Defense's July 2025
deal with MP Materials is the model of a price floor: US$110/kg NdPr for ten years
(prices.csv ``us_dod_floor``; policies.csv ``us-dod-mp-2025``).

Each draw appraises the project (capacity, capex, opex, a price path with uncertainty, life,
discount rate) with the instruments, by :func:`rareflow.model.finance.appraise`. The investment
rule builds the plant in the draws where its NPV to the investor is at least zero; the plant
then comes online after the financing lead time, the permit time (capped by a
``regulatory_reform`` in the same scenario) and the build, and ramps up. The exchequer pays the
floor on what the plant makes, the capital subsidy, the interest subsidy of blended finance and
the expected cost of the risk it covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

import numpy as np

from rareflow.errors import ScenarioError
from rareflow.model.finance import Appraisal, Instruments, Project, appraise
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray, Network
from rareflow.scenario.common import Day, Spec
from rareflow.scenario.context import CompileContext, Modifiers
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.levers.build import (
    MONTHS_PER_YEAR,
    add_capacity,
    per_step,
    plant_lead_years,
    ramp,
    spread_before,
    step_index,
)
from rareflow.scenario.levers.capacity import ProcessId
from rareflow.scenario.sampling import Sampler

if TYPE_CHECKING:
    from rareflow.data.load import Dataset


class Finance(LeverBase):
    """Instruments for a private plant; it is built where its NPV is at least zero.

    Parameters
    ----------
    process
        The domestic process the plant adds capacity to.
    t_per_year
        Its throughput capacity per year (as in ``capacity``: t REO of concentrate fed for
        separation, t of metal or magnet made for the others).
    decision
        When the project seeks finance (its final investment decision follows the financing
        lead time).
    capex_usd_million
        Capital cost (no cited figure per tonne in the dataset for separation or metal plants:
        give your own; a magnet plant can use Midwest's ₹1,000 crore for 5,000 t/yr,
        facilities.csv).
    opex_usd_per_kg
        Operating cost per kg of product, feed included (no cited figure: give your own).
    price_usd_per_kg
        Market price of the product in the first operating year; default: the dataset's latest
        USGS price of the process's output (NdPr oxide: US$69/kg in 2025, prices.csv). Metals and
        magnets have no cited price: give one.
    price_growth_per_year
        Change of the market price per year (assumption: 0, flat real prices).
    discount_rate
        The investor's cost of capital per year, without country risk (assumption: 0.10).
    life_years
        Operating life in whole years (assumption: 20).
    build_years
        Whole years to build; default from lead_times.csv: 2 for magnet plants (PIB 2025), 8 for
        separation and metal plants (IEA GCMO 2025).
    financing_months
        Months from seeking finance to the investment decision (assumption: 12).
    permit_months
        Months of permitting before the build (assumption: 0, i.e. counted in the build years);
        a ``regulatory_reform`` caps it at its processing limit.
    ramp_months
        Months from first output to full capacity (assumption: 12).
    utilisation
        Share of capacity the market takes without a guarantee (assumption: 1).
    price_floor_usd_per_kg
        Price floor on the product (none by default; the US DoD's is US$110/kg NdPr oxide).
    floor_years
        Operating years the floor lasts (10: the DoD floor, policies.csv).
    offtake_share
        Share of capacity a public buyer guarantees to take (0).
    capex_subsidy_share
        Share of capex paid by the state: capital subsidy or tax incentive (0).
    debt_share
        Share of capex lent at a concessional rate (blended finance) (0).
    concessional_cut
        Points by which the concessional rate is below the market rate (0).
    country_risk_premium
        Risk premium the investor adds for the host country (0 at home).
    risk_cover
        Sovereign risk cover (as KABIL would provide): the state bears the country risk, and the
        premium leaves the investor's rate.
    """

    type: Literal["finance"] = "finance"
    process: ProcessId
    t_per_year: Annotated[Number, Spec("t/yr", 0, 1e7)]
    decision: Day
    capex_usd_million: Annotated[Number | None, Spec("USD million", 0, 1e6)] = None
    opex_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None
    price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None
    price_growth_per_year: Annotated[Number, Spec("share/yr", -0.5, 1)] = 0.0
    discount_rate: Annotated[Number, Spec("share/yr", 0, 1)] = 0.10
    life_years: Annotated[int, Spec("yr", 1, 100)] = 20
    build_years: Annotated[int | None, Spec("yr", 0, 30)] = None
    financing_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    permit_months: Annotated[Number, Spec("month", 0, 240)] = 0.0
    ramp_months: Annotated[Number, Spec("month", 0, 240)] = 12.0
    utilisation: Annotated[Number, Spec("share", 0, 1)] = 1.0
    price_floor_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None
    floor_years: Annotated[int, Spec("yr", 0, 100)] = 10
    offtake_share: Annotated[Number, Spec("share", 0, 1)] = 0.0
    capex_subsidy_share: Annotated[Number, Spec("share", 0, 1)] = 0.0
    debt_share: Annotated[Number, Spec("share", 0, 1)] = 0.0
    concessional_cut: Annotated[Number, Spec("share/yr", 0, 1)] = 0.0
    country_risk_premium: Annotated[Number, Spec("share/yr", 0, 1)] = 0.0
    risk_cover: bool = False

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "capex_usd_million": CostDefault("capex", "usd_million", scale_by="t_per_year"),
        "opex_usd_per_kg": CostDefault("opex", "usd_per_kg"),
    }

    def cost_default(self, name: str) -> CostDefault:
        """Read Midwest's plan (this lever's rows) for a magnet plant, else a metal plant's.

        The metal plant's rows are ``capacity``'s.
        """
        spec = self.cost_defaults[name]
        if self.process in MAGNETS:
            return spec
        return CostDefault(spec.parameter, spec.unit, spec.scale_by, lever="capacity")

    def _product(self, net: Network) -> str:
        j = [p.id for p in net.processes].index(self.process)
        return COMMODITY_IDS[int(np.argmax(net.proc_out[j]))]

    def _plan(
        self,
        net: Network,
        sampler: Sampler,
        dataset: Dataset,
        modifiers: Modifiers,
        path: str,
        inputs: Mapping[str, FloatArray],
    ) -> tuple[Appraisal, FloatArray, int]:
        """Appraisal per draw, step of first output per draw, and build years.

        A consortium's cut in the cost of capital (:class:`Modifiers`) lowers the discount rate.
        """

        def draw(name: str) -> FloatArray:
            return sampler.draw(getattr(self, name), f"{path}.{name}")

        j = [p.id for p in net.processes].index(self.process)
        product = self._product(net)
        if self.price_usd_per_kg is not None:
            price = draw("price_usd_per_kg")
        else:
            price = np.array([net.base_price[COMMODITY_IDS.index(product)]])
            if np.isnan(price).any():
                raise ScenarioError(
                    f"{path}: the dataset has no price for {product}; set price_usd_per_kg"
                )
        floor = (
            draw("price_floor_usd_per_kg")
            if self.price_floor_usd_per_kg is not None
            else np.array([np.nan])
        )
        build = (
            self.build_years
            if self.build_years is not None
            else round(plant_lead_years(dataset, self.process))
        )
        project = Project(
            output_t=draw("t_per_year") * float(net.proc_out[j].max()),
            capex_usd=inputs["capex_usd_million"] * 1e6,
            opex_usd_per_kg=inputs["opex_usd_per_kg"],
            price_usd_per_kg=price,
            price_growth=draw("price_growth_per_year"),
            build_years=build,
            life_years=self.life_years,
            discount_rate=np.maximum(draw("discount_rate") - modifiers.cost_of_capital_cut(), 0.0),
        )
        tools = Instruments(
            price_floor_usd_per_kg=floor,
            floor_years=self.floor_years,
            offtake_share=draw("offtake_share"),
            utilisation=draw("utilisation"),
            capex_subsidy_share=draw("capex_subsidy_share"),
            debt_share=draw("debt_share"),
            concessional_cut=draw("concessional_cut"),
            country_risk_premium=draw("country_risk_premium"),
            risk_cover=self.risk_cover,
        )
        months = draw("financing_months") + modifiers.permit_months(
            "processing", draw("permit_months")
        )
        online = (
            step_index(net, self.decision) + (months + build * MONTHS_PER_YEAR) / net.step_months
        )
        plan = appraise(project, tools)
        return plan, np.broadcast_to(np.floor(online), plan.npv_usd.shape), build

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Add the plant's ramped capacity in the draws where the investment rule builds it."""
        net = ctx.net
        record = ctx.record(path)
        plan, online, build = self._plan(
            net, ctx.sampler, ctx.dataset, ctx.modifiers, path, record.inputs
        )
        size = self.draw(ctx.sampler, path, "t_per_year")
        share = ramp(net, online, self.draw(ctx.sampler, path, "ramp_months"))
        built = plan.build.astype(np.float64)[:, None]
        own = per_step(net, size, share) * built
        record.outputs.update(appraisal=plan, online=online, build=build, own=own)
        add_capacity(ctx, self.process, own)

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the investor's capex over the build (where built) and the state's costs.

        The state pays floor payouts on output, a capital subsidy, an interest subsidy and risk
        cover.
        """
        net = ctx.network
        d_n = net.n_draws
        record = ctx.record(path)
        plan, online, build = (record.outputs[k] for k in ("appraisal", "online", "build"))
        built = ctx.per_draw(plan.build.astype(np.float64))
        per_year = max(int(MONTHS_PER_YEAR) // net.step_months, 1)
        steps = np.arange(net.n_steps)[None, :]
        # Project year of each step: year 0 is the first build year.
        year = np.floor((steps - (online.reshape(-1, 1) - build * per_year)) / per_year)
        n_years = plan.capex_subsidy_usd.shape[1]
        inside = (year >= 0) & (year < n_years)
        rows = np.broadcast_to(np.arange(plan.npv_usd.shape[0])[:, None], year.shape)
        cols = np.clip(year, 0, n_years - 1).astype(np.int64)

        def by_step(yearly: FloatArray) -> FloatArray:
            spread = np.where(inside, yearly[rows, cols] / per_year, 0.0) * built
            return np.broadcast_to(spread, (d_n, net.n_steps))

        # The floor is paid on what the plant makes: its share of the process's production.
        j = [p.id for p in net.processes].index(self.process)
        own = np.broadcast_to(record.outputs["own"], (d_n, net.n_steps))
        total = np.broadcast_to(net.capacity[:, :, j], (d_n, net.n_steps))
        part = np.divide(own, total, out=np.zeros((d_n, net.n_steps)), where=total > 0)
        made = ctx.results["production"].sel(process=self.process).transpose("draw", "time")
        kg = made.to_numpy() * part * float(net.proc_out[j].max()) * 1000.0
        gap = np.where(inside, plan.floor_gap_usd_per_kg[rows, cols], 0.0)
        capex = record.inputs["capex_usd_million"] * 1e6
        private = spread_before(net, online, np.array([build * MONTHS_PER_YEAR]), capex) * built
        return [
            CostLine("private_capex", private),
            CostLine("floor_payout", kg * np.broadcast_to(gap, (d_n, net.n_steps))),
            CostLine("capital_subsidy", by_step(plan.capex_subsidy_usd)),
            CostLine("interest_subsidy", by_step(plan.interest_subsidy_usd)),
            CostLine("risk_cover", by_step(plan.risk_cover_usd)),
        ]
