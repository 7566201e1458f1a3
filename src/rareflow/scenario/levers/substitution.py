"""Substitution: ferrite, iron nitride, Nd-lean designs or magnet-free motors replace NdFeB.

The article asks India to invest in substitutes: ferrite and iron-nitride magnets (Hitachi,
Niron Magnetics) and motor designs that use less neodymium or no permanent magnet at all
(Toyota). Each sector adopts the substitute along its own curve (a maximum share of its NdFeB
demand, reached along a logistic or a linear ramp); the lever lowers the NdFeB requirement of
those sectors through the network's demand multiplier, and records what the substitute itself
needs.

Figures (process_parameters.csv): ferrite needs +82% magnet volume to match an NdFeB PMSM's peak
torque, +31% in a PM-assisted synchronous reluctance machine (Lee and Abbasian 2025); sintered
ferrite weighs 4.9 g/cm3 against sintered NdFeB's 7.5 g/cm3 (QM Magnet 2023), so a tonne of
NdFeB is replaced by 1.82 x 0.653 = 1.19 t of ferrite in a PMSM; Toyota's Nd-lean magnet uses up
to 50% less Nd and no Tb or Dy (NEDO/Toyota 2018). Niron's iron-nitride plant (1,500 t/yr,
Minnesota, output early 2027: facilities.csv) bounds how fast iron nitride can arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB, Sector
from rareflow.model.network import COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.common import Day, Spec, StrictModel, check_range
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers.base import CostContext, CostDefault, CostLine, LeverBase
from rareflow.scenario.sampling import Sampler
from rareflow.units import DAYS_PER_MONTH

if TYPE_CHECKING:
    from rareflow.data.load import Dataset

SubstituteOption = Literal["ferrite", "iron_nitride", "nd_lean", "magnet_free"]
NdfebMagnet = Literal["magnet_ndfeb_sintered", "magnet_ndfeb_bonded"]
LOGISTIC_STEEPNESS = 2.0 * np.log(99.0)
"""The logistic curve runs from 1% to 99% of its rise between start and full adoption, then is
rescaled to start at exactly 0 and end at exactly 1 (a modelling convention, not a figure)."""
IRON_NITRIDE_KG_PER_KG = 1.0
"""Iron-nitride magnet per kg of NdFeB replaced: an assumption (equal mass); no motor-level
figure was found (the material's theoretical energy product exceeds NdFeB's, but commercial
grades are bonded and their performance in a traction motor is not published)."""


def _sintered() -> list[NdfebMagnet]:
    """Return the default magnets a substitution acts on: sintered NdFeB."""
    return [SINTERED_NDFEB]


class Adoption(StrictModel):
    """How one sector adopts a substitute.

    Parameters
    ----------
    max_share
        Share of the sector's NdFeB demand that switches at full adoption (0..1).
    start
        First day of adoption.
    years
        Years from the start to full adoption (0: at once).
    curve
        ``logistic`` (slow start, fast middle, slow finish: the usual diffusion shape) or
        ``linear``.
    """

    max_share: Number
    start: Day
    years: Number
    curve: Literal["logistic", "linear"] = "logistic"

    @model_validator(mode="after")
    def _check(self) -> Adoption:
        check_range(self.max_share, 0, 1, "max_share")
        check_range(self.years, 0, 50, "years")
        return self

    def share(self, network: Network, sampler: Sampler, path: str) -> FloatArray:
        """(D or 1, T) share of the sector's NdFeB demand switched at each step."""
        top = sampler.draw(self.max_share, f"{path}.max_share")
        years = sampler.draw(self.years, f"{path}.years")
        # Months of adoption completed by the end of each step (0 before the start); a start
        # after the first of a month counts the part of that month left.
        first = np.datetime64(self.start, "M")
        end = (network.time.astype("datetime64[M]") + network.step_months - first).astype(float)
        months = np.clip(end - (self.start.day - 1) / DAYS_PER_MONTH, 0.0, None)
        span = years[:, None] * 12.0
        x = np.where(span > 0, np.clip(months[None, :] / np.maximum(span, 1e-12), 0, 1), 1.0)
        x = np.where(months[None, :] > 0, x, 0.0)
        if self.curve == "logistic":
            lo, hi = (1.0 / (1.0 + np.exp(-LOGISTIC_STEEPNESS * (v - 0.5))) for v in (0.0, 1.0))
            rise = 1.0 / (1.0 + np.exp(-LOGISTIC_STEEPNESS * (x - 0.5)))
            x = np.where(x > 0, np.clip((rise - lo) / (hi - lo), 0.0, 1.0), 0.0)
        return top[:, None] * x


class Substitution(LeverBase):
    """Substitutes take a share of the NdFeB demand of chosen sectors.

    Parameters
    ----------
    option
        ``ferrite`` (hard ferrite magnets, a larger magnet), ``iron_nitride`` (Niron's
        rare-earth-free magnet), ``nd_lean`` (an NdFeB design with less Nd and no Dy or Tb,
        Toyota 2018) or ``magnet_free`` (induction or wound-rotor motors).
    adoption
        Per sector: its maximum share, start, years to full adoption and curve.
    magnets
        NdFeB magnets replaced (default: sintered NdFeB).
    nd_reduction
        ``nd_lean`` only: the share of Nd saved per magnet (default 0.5: up to 50% less Nd,
        NEDO/Toyota 2018, process_parameters.csv). The engine keeps one NdFeB composition, so
        an Nd-lean magnet counts as (1 - nd_reduction) t of NdFeB per t: its requirement falls
        by its Nd saving. That remainder is still treated as Dy-bearing and so licensed under
        the April 2025 list, though Toyota's design has no Dy or Tb: a conservative reading.
    motor
        ``ferrite`` only: ``pmsm`` (+82% magnet volume) or ``pmasynrm`` (+31%), Lee and
        Abbasian 2025 (process_parameters.csv).
    substitute_kg_per_kg
        Substitute magnet needed per kg of NdFeB replaced. Default: ferrite, (1 + extra volume)
        x density ratio 0.653 (4.9 over 7.5 g/cm3, QM Magnet 2023): 1.19 in a PMSM; iron
        nitride, 1.0 (assumption: equal mass); none for ``nd_lean`` (its magnet stays in the
        NdFeB count) and ``magnet_free``.
    premium
        Cost and performance penalty of the change, as a share of the value of the NdFeB
        replaced (redesign, re-approval, a larger motor). Default: lever_costs.csv (0-20%,
        ASSUMPTION).
    substitute_price_usd_per_kg
        Price of the substitute magnet, for its purchase cost line. The dataset cites no price
        of ferrite or iron-nitride magnets: give your own, or leave it out and read the
        substitute's tonnes with :meth:`Substitution.substitute_tonnes`.
    price_acceleration
        Faster adoption when magnet prices spike: extra years of adoption gained per unit of
        the price multiple above 1. Adoption is compiled before the run, and the run's prices
        are not known then, so only 0 is accepted until the engine offers an adoption hook.
    """

    type: Literal["substitution"] = "substitution"
    option: SubstituteOption
    adoption: dict[Sector, Adoption] = Field(min_length=1)
    magnets: list[NdfebMagnet] = Field(default_factory=_sintered, min_length=1)
    nd_reduction: Annotated[Number | None, Spec("share", 0, 1)] = None
    motor: Literal["pmsm", "pmasynrm"] = "pmsm"
    substitute_kg_per_kg: Annotated[Number | None, Spec("kg/kg", 0, 100)] = None
    premium: Annotated[Number | None, Spec("share", 0, 10)] = None
    substitute_price_usd_per_kg: Annotated[Number | None, Spec("USD/kg", 0, 1e5)] = None
    price_acceleration: Annotated[float, Spec("yr", 0, 10)] = 0.0

    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {
        "premium": CostDefault("premium", "fraction")
    }

    @field_validator("price_acceleration")
    @classmethod
    def _static_only(cls, v: float) -> float:
        if v != 0:
            raise ValueError(
                "price_acceleration needs the run's magnet prices while adoption is decided; "
                "levers are compiled before the run, so it must be 0 until the engine offers an "
                "adoption hook"
            )
        return v

    @model_validator(mode="after")
    def _check(self) -> Substitution:
        if self.nd_reduction is not None and self.option != "nd_lean":
            raise ValueError("nd_reduction applies to option nd_lean only")
        return self

    def _cut(self, dataset: Dataset, sampler: Sampler, path: str) -> FloatArray:
        """(1 or D,) t of NdFeB requirement removed per t of NdFeB demand switched."""
        if self.option != "nd_lean":
            return np.ones(1)
        if self.nd_reduction is not None:
            return self.draw(sampler, path, "nd_reduction")
        # The query layer (and pandas) load when a lever compiles, not when scenarios parse.
        from rareflow.data.query import process_parameter  # noqa: PLC0415

        return np.array([process_parameter(dataset, "nd_lean_nd_reduction", "magnet").value])

    def _kg_per_kg(self, dataset: Dataset, sampler: Sampler, path: str) -> FloatArray:
        """(1 or D,) kg of substitute magnet per kg of NdFeB demand switched."""
        if self.substitute_kg_per_kg is not None:
            return self.draw(sampler, path, "substitute_kg_per_kg")
        if self.option == "ferrite":
            from rareflow.data.query import process_parameter  # noqa: PLC0415

            extra = process_parameter(dataset, f"ferrite_extra_volume_{self.motor}", "use").value
            ratio = process_parameter(dataset, "ferrite_to_ndfeb_density_ratio", "magnet").value
            return np.array([(1.0 + extra) * ratio])
        if self.option == "iron_nitride":
            return np.array([IRON_NITRIDE_KG_PER_KG])
        return np.zeros(1)

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Scale down the NdFeB requirement of each adopting sector.

        Records each sector's adoption share and the substitute's kg per kg for the cost model,
        which consumes them (never draws them again).
        """
        net = ctx.net
        ks = [COMMODITY_IDS.index(m) for m in self.magnets]
        cut = self._cut(ctx.dataset, ctx.sampler, path)
        record = ctx.record(path)
        shares: dict[Sector, FloatArray] = {}
        record.outputs["shares"] = shares
        record.outputs["kg_per_kg"] = self._kg_per_kg(ctx.dataset, ctx.sampler, path)
        if self.substitute_price_usd_per_kg is not None:
            self.cost_input(ctx, path, "substitute_price_usd_per_kg")
        for sector, adoption in self.adoption.items():
            share = adoption.share(net, ctx.sampler, f"{path}.adoption.{sector.value}")
            shares[sector] = share
            factor = 1.0 - share * cut[:, None]  # (D or 1, T)
            mult = ctx.widen("demand_multiplier") if factor.shape[0] > 1 else net.demand_multiplier
            s = net.sectors.index(sector)
            for k in ks:
                mult[:, :, s, k] *= factor

    def substitute_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of substitute magnet the adopting sectors need each step."""
        per_kg = ctx.per_draw(ctx.record(path).outputs["kg_per_kg"])
        return self.replaced_tonnes(ctx, path) * per_kg

    def replaced_tonnes(self, ctx: CostContext, path: str) -> FloatArray:
        """(D, T) t of NdFeB demand the adopting sectors switch each step.

        Measured against each sector's projected NdFeB requirement before any lever (the
        dataset's requirement and growth); a second substitution lever on the same sector
        applies to what the first leaves, so its tonnes here are an upper bound. The adoption
        shares are those ``apply`` drew.
        """
        shares = ctx.record(path).outputs["shares"]
        net = ctx.network
        ks = [COMMODITY_IDS.index(m) for m in self.magnets]
        years = np.arange(net.n_steps) * net.step_months / 12.0
        growth = np.broadcast_to(net.growth, (net.n_draws, len(net.sectors)))
        tonnes = np.zeros((net.n_draws, net.n_steps))
        for sector in self.adoption:
            s = net.sectors.index(sector)
            base = net.requirement0[s, ks].sum() * (1.0 + growth[:, s, None]) ** years[None, :]
            tonnes += base * shares[sector]
        return tonnes

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Return the penalty on the NdFeB replaced, and the substitute's purchase if priced."""
        replaced = self.replaced_tonnes(ctx, path)
        prices = [ctx.usd_per_kg(m) for m in self.magnets]
        if any(np.isnan(p) for p in prices):
            raise ScenarioError(
                f"{path}: the dataset has no price for {', '.join(self.magnets)}; the penalty "
                "is a share of the value replaced (add it to your own prices.csv)"
            )
        premium = ctx.per_draw(ctx.record(path).inputs["premium"])
        lines = [CostLine("penalty", replaced * float(np.mean(prices)) * 1000.0 * premium)]
        if self.substitute_price_usd_per_kg is not None:
            price = ctx.per_draw(ctx.record(path).inputs["substitute_price_usd_per_kg"])
            tonnes = self.substitute_tonnes(ctx, path)
            lines.append(CostLine("purchase", tonnes * price * 1000.0))
        return lines
