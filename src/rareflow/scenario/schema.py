"""The scenario: a declarative YAML file, validated here.

A scenario sets the focal country, the time grid, the shocks, the policy levers, the uncertain
numbers, the ensemble size and seed, the allocation rule and the price model. Unknown keys are
errors (``extra="forbid"``), and every number may be plain or a distribution
(:mod:`rareflow.scenario.distributions`): that is how a scenario states its uncertain parameters.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rareflow.data.schema import TABLES_BY_NAME
from rareflow.ids import Sector
from rareflow.scenario.common import CountryCode, Day, StrictModel, check_range
from rareflow.scenario.distributions import Number
from rareflow.scenario.levers import Lever
from rareflow.scenario.shocks import Shock


class Allocation(StrictModel):
    """How scarce magnets are shared among sectors.

    ``priority`` lists tiers, served in order; sectors in no tier form the last tier. Within a
    tier, supply is rationed in proportion to demand (``rule: proportional`` ignores tiers).
    """

    rule: Literal["priority_then_proportional", "proportional"] = "priority_then_proportional"
    priority: list[list[Sector]] = Field(
        default_factory=lambda: [[Sector.DEFENCE], [Sector.MEDICAL]]
    )

    @model_validator(mode="after")
    def _unique(self) -> Allocation:
        seen = [s for tier in self.priority for s in tier]
        if len(seen) != len(set(seen)):
            raise ValueError("a sector appears in more than one priority tier")
        return self


class PriceModel(StrictModel):
    """Scarcity pricing with partial adjustment, and demand that answers price.

    With constant-elasticity demand ``q = q0 * m ** e`` (``e < 0``), the price multiple that
    clears a supply-to-requirement ratio ``r < 1`` is ``m* = r ** (1 / e)``. The multiple moves
    toward ``m*`` by ``adjustment`` of the gap each month, capped at ``max_multiple``, and the next
    month's demand is the requirement times ``m ** e``. A field left empty takes the dataset's
    chosen value (price_parameters.csv: labelled assumptions, or a calibration selected with
    ``--calibration``).
    """

    elasticity: Number | None = None
    adjustment: Number | None = None
    max_multiple: float | None = Field(default=None, ge=1.0, le=1000.0)

    @model_validator(mode="after")
    def _check(self) -> PriceModel:
        if self.elasticity is not None:
            check_range(self.elasticity, -5, -1e-3, "elasticity")
        if self.adjustment is not None:
            check_range(self.adjustment, 0, 1, "adjustment")
        return self


REPLACED_PARAMETERS = {
    "nonchina_surge": (
        "each partner's headroom now comes from the dataset (supplier_headroom.csv: a share of "
        "its output, ROW's row for partners without their own), competed for by the importing "
        "regions of importers.csv; remove it, and change headroom with your own "
        "supplier_headroom.csv (rareflow run --data DIR)"
    ),
    "row_competition": (
        "other importers now compete for partners' headroom in proportion to their need net of "
        "stocks (importers.csv: share of China's magnet exports, stock cover, days to first "
        "licences); remove it, and change the importers with your own importers.csv "
        "(rareflow run --data DIR)"
    ),
}
"""Parameters removed by issue 18 (importers competing), with what replaced each."""


class Parameters(StrictModel):
    """Engine parameters; defaults rest on the dataset or are labelled assumptions (README).

    Parameters
    ----------
    industry_cover_weeks
        Magnet stocks held by the focal country's industry, in weeks of requirement. Empty: from
        the dataset (inventories.csv: 11-16 weeks on 4 April 2025, an assumption read from reports
        of June 2025), drawn uniformly in its range.
    upstream_cover_weeks
        Stocks of oxides and metals at domestic processors, in weeks of use (assumption).
    shipping_months
        Months from shipment to arrival (assumption: sea freight from East Asia).
    restock_months
        Months over which industry closes the gap to its stock target (assumption).
    partner_min_share
        Partners below this share of the focal country's supply at every stage, and named by no
        shock or lever, are pooled into the rest of the world (``ROW``) in the engine (an
        assumption that keeps the engine's partner axis short; 0 keeps every partner). The
        notes of a run name the partners pooled.
    """

    industry_cover_weeks: Number | None = None
    upstream_cover_weeks: Number = 4.0
    shipping_months: int = Field(default=1, ge=0, le=12)
    restock_months: Number = 3.0
    partner_min_share: float = Field(default=0.02, ge=0, le=1, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _replaced(cls, data: object) -> object:
        """Refuse the parameters that importer competition replaced, saying what replaced them."""
        if isinstance(data, dict):
            for name, instead in REPLACED_PARAMETERS.items():
                if name in data:
                    raise ValueError(f"{name} is no longer a parameter: {instead}")
        return data

    @model_validator(mode="after")
    def _check(self) -> Parameters:
        check_range(self.upstream_cover_weeks, 0, 520, "upstream_cover_weeks")
        check_range(self.restock_months, 0.1, 120, "restock_months")
        if self.industry_cover_weeks is not None:
            check_range(self.industry_cover_weeks, 0, 520, "industry_cover_weeks")
        return self


UNCERTAIN_TABLES: dict[str, str] = {
    "sector_activity": "the sector's requirement (per draw, through demand_multiplier)",
    "intensities": "the sector's requirement of that magnet (per draw, through demand_multiplier)",
    "demand_growth": "the sector's growth of requirement (per draw)",
    "facilities": "the operating capacity of the process the plant feeds (per draw)",
    "inventories": "industry magnet cover, when parameters.industry_cover_weeks is not set",
    "supplier_headroom": "how far a partner outside the controls can raise output (per draw)",
    "importers": "other importers' demand weight, stock cover and days to first licences (per "
    "draw)",
}
"""Dataset tables whose numbers a scenario can make uncertain, and where each enters the engine.

Other tables are refused: their numbers reach the engine through arrays shared by every draw
(recipes from process_parameters and magnet_composition, import shares, prices) or not at all
(lifetimes feed the stock model, not the engine)."""
NOT_FILTERS = frozenset({"value", "low", "high", "note", "unit"})


class UncertainData(StrictModel):
    """A dataset number made uncertain: the chosen rows matching ``where``, times ``scale``.

    Parameters
    ----------
    table
        One of :data:`UNCERTAIN_TABLES`.
    where
        Column to value: the rows to scale (all the table's chosen rows if empty). Only rows that
        feed the focal country's network count; a filter that matches none of them is an error
        at compile time.
    scale
        Multiplier of the value, drawn per draw (stream ``uncertain[i].scale``), e.g.
        ``{dist: triangular, low: 0.8, mode: 1, high: 1.2}``.
    """

    table: str
    where: dict[str, str | int] = Field(default_factory=dict)
    scale: Number

    @field_validator("table")
    @classmethod
    def _supported(cls, v: str) -> str:
        if v not in TABLES_BY_NAME:
            raise ValueError(f"unknown table '{v}' (see `rareflow data tables`)")
        if v not in UNCERTAIN_TABLES:
            raise ValueError(
                f"table '{v}' cannot be made uncertain: its numbers do not reach the engine per "
                f"draw; supported: {', '.join(UNCERTAIN_TABLES)}"
            )
        return v

    @model_validator(mode="after")
    def _check(self) -> UncertainData:
        check_range(self.scale, 0, 1000, "scale")
        columns = {c.name: c for c in TABLES_BY_NAME[self.table].all_columns}
        for name, value in self.where.items():
            column = columns.get(name)
            if column is None or name in NOT_FILTERS:
                allowed = ", ".join(c for c in columns if c not in NOT_FILTERS)
                raise ValueError(f"where: {self.table}.csv has no column '{name}' to filter on "
                                 f"(columns: {allowed})")  # fmt: skip
            if column.allowed is not None and str(value) not in column.allowed:
                raise ValueError(
                    f"where.{name}: '{value}' is not an allowed value of {self.table}.csv "
                    f"(allowed: {', '.join(column.allowed)})"
                )
        return self


class CostSettings(StrictModel):
    """How lever costs are discounted.

    Parameters
    ----------
    discount_rate
        Real discount rate per year for the present value (NPV) of lever costs, discounted to
        the scenario's start month. Empty: ``lever_costs.csv``'s ``all`` row, India's social
        time preference rate, 8% (6-8%; Murty, Panda and Joe 2018, IEG for NITI Aayog).
    """

    discount_rate: float | None = Field(default=None, ge=0.0, le=0.5, allow_inf_nan=False)


class Scenario(StrictModel):
    """A scenario: what happens, what is done about it, and how many draws to run."""

    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    country: CountryCode = "IND"
    start: Day = date(2025, 1, 1)
    horizon_months: int = Field(default=36, ge=1, le=600)
    step_months: Literal[1, 3, 12] = 1
    draws: int = Field(default=1000, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    sampling: Literal["random", "lhs", "sobol"] = "random"
    shocks: list[Shock] = Field(default_factory=list)
    levers: list[Lever] = Field(default_factory=list)
    allocation: Allocation = Field(default_factory=Allocation)
    prices: PriceModel = Field(default_factory=PriceModel)
    parameters: Parameters = Field(default_factory=Parameters)
    costs: CostSettings = Field(default_factory=CostSettings)
    uncertain: list[UncertainData] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, v: date) -> date:
        return v.replace(day=1)

    @model_validator(mode="after")
    def _grid(self) -> Scenario:
        if self.horizon_months % self.step_months:
            raise ValueError(
                f"horizon_months ({self.horizon_months}) must be a multiple of step_months "
                f"({self.step_months})"
            )
        return self
