"""A stress-test network built from rareflow's own value chain, in weeks and tonnes of magnet.

Turns a focal country's :class:`~rareflow.model.chain.Chain` and the dataset into the network of
:mod:`rareflow.indicators.stress_test` (Simchi-Levi et al. 2015, *Interfaces* 45(5):375-390), so
that each supplier node of the chain can be disrupted in turn. Every figure of the network carries
its provenance (:class:`Figure`): the dataset's source ids, and ``assumption=True`` where rareflow
had to assume something.

The network (period = one week; quantities in tonnes per week):

- **suppliers**: each partner by name (the engine's split, :func:`rareflow.data.query.
  import_shares`; partners under :data:`MIN_SHARE` of a stage pooled into ``ROW``, as the
  engine's ``partner_min_share``) at mining (t REO), separation (t of magnet rare-earth oxide),
  metal (t of magnet rare-earth metal) and magnet (t of sintered NdFeB magnet); the focal
  country's own plants at the same stages (``IND`` for India) where the dataset gives a current
  capacity;
- **end products**: one node per end-use sector, demand from ``chain.demand`` (t of magnet per
  year / weeks per year), margin 1 per tonne of magnet lost (no cited margin exists, so the
  performance impact is lost tonnes of magnet, not money);
- **parts**: each node's input comes from any node one stage up; foreign nodes do not buy from
  the focal country's plants;
- **capacity of a foreign node** = the focal country's baseline draw on it: its share of the
  stage (India's import shares at magnet, world shares upstream) times what the focal country
  needs from abroad at that stage. No spare capacity is assumed: the dataset has none by country,
  and a shortfall abroad would be shared with every other importer;
- **inventories**: industry's magnet cover (inventories.csv, 11-16 weeks on 4 April 2025) at the
  end products; none elsewhere (no data);
- **time-to-recover** of a node = the time to build a substitute plant of its stage
  (lead_times.csv): magnet plant 2.2 years (one observed plant), processing plant 8 years (used
  for separation and metal), mine 15.7 years.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rareflow import dims
from rareflow.data import query
from rareflow.data.load import Dataset
from rareflow.errors import DataError, InputError, Problem
from rareflow.ids import MAGNET_ELEMENTS, SINTERED_NDFEB, Stage
from rareflow.indicators.stress_test import (
    MultiPeriodNetwork,
    Network,
    NodeSpec,
    PartSpec,
    StockpileSpec,
    multi_period_stress_test,
    stress_test,
)
from rareflow.model.chain import Chain
from rareflow.scenario.schema import Parameters
from rareflow.units import WEEKS_PER_YEAR

MIN_SHARE: float = Parameters.model_fields["partner_min_share"].default
"""Partners below this share of a stage are pooled into ``ROW``: the engine's default
``parameters.partner_min_share`` (0.02), so both see the same partners."""

MARGIN_PER_TONNE = 1.0
"""Value of one tonne of magnet demand lost. No cited margin exists, so PI is in tonnes."""
"""The magnet the network carries: every sector demand in the dataset is sintered NdFeB."""
SUPPLY_STAGES: tuple[Stage, ...] = (Stage.MINING, Stage.SEPARATION, Stage.METAL, Stage.MAGNET)
"""Stages with supplier nodes, upstream first (alloy making is folded into magnet making)."""
REST_OF_WORLD = "ROW"
CHINA = "CHN"
DEFAULT_SECTOR_WEIGHTS: Mapping[str, float] = {"defence": 10.0}
"""Priority of each sector's lost magnets (others 1): defence first. A policy choice, not data."""
DEFAULT_STATUSES: tuple[str, ...] = query.OPERATING
"""Facility statuses whose current capacity counts (facilities.csv ``status``): operating plants,
as the engine (:func:`rareflow.data.query.plants`); a plant under construction makes nothing
during a disruption today."""
ASSUMPTION = "rareflow-assumption"
UNVERIFIED = "rareflow-unverified"
DERIVED = "rareflow-derived"

_RECOVERY_PROJECT = {
    Stage.MINING: ("mine_discovery_to_production", "mean"),
    Stage.SEPARATION: ("processing_plant", "typical"),
    Stage.METAL: ("processing_plant", "typical"),
    Stage.MAGNET: ("magnet_plant", "typical"),
}
_UNIT_TO_WEEKS = {"years": WEEKS_PER_YEAR, "months": WEEKS_PER_YEAR / 12, "weeks": 1.0}
_STAGE_UNIT = {
    Stage.MINING: "t_reo",
    Stage.SEPARATION: "t_oxide",
    Stage.METAL: "t_metal",
    Stage.MAGNET: "t_magnet",
}
"""Mass basis of each stage's product (oxide and metal: the magnet rare earths only)."""
_FACILITY_MATERIALS = {
    Stage.SEPARATION: {"oxide_ndpr", "oxide_nd", "oxide_pr", "oxide_dy", "oxide_tb"},
    Stage.METAL: {"metal_nd", "metal_pr", "metal_ndpr", "metal_dy", "metal_tb"},
    Stage.MAGNET: {SINTERED_NDFEB},
}
"""Facility materials that count as magnet rare-earth capacity at each stage."""


@dataclass(frozen=True)
class Figure:
    """One number of the network and where it comes from.

    Attributes
    ----------
    value
        The number, in ``unit``.
    unit
        Its unit (weekly rates for capacities and demand).
    sources
        Source ids of sources.csv behind it (``rareflow-assumption`` or ``rareflow-derived``
        among them where rareflow assumed or computed something).
    note
        How it was obtained: the rows used and any conversion. A figure that rests on an
        assumption says so with the word ASSUMPTION (added here when a dataset row it uses is one).
    """

    value: float
    unit: str
    sources: tuple[str, ...]
    note: str

    def __post_init__(self) -> None:
        # Frozen: the labels are part of the figure, so they are set once, here.
        if self.assumption and "ASSUMPTION" not in self.note:
            object.__setattr__(
                self, "note", self.note + f" (uses ASSUMPTION rows of the dataset: {ASSUMPTION})"
            )
        if UNVERIFIED in self.sources and "UNVERIFIED" not in self.note:
            object.__setattr__(
                self, "note", self.note + f" (uses UNVERIFIED rows of the dataset: {UNVERIFIED})"
            )

    @property
    def assumption(self) -> bool:
        """Whether the figure rests on an assumption of rareflow (``rareflow-assumption``)."""
        return ASSUMPTION in self.sources

    def as_dict(self) -> dict[str, Any]:
        """Return the figure as a JSON-ready mapping."""
        return {
            "value": self.value,
            "unit": self.unit,
            "sources": list(self.sources),
            "note": self.note,
            "assumption": self.assumption,
        }


@dataclass(frozen=True)
class NodeInfo:
    """What a network node stands for, and the provenance of its figures."""

    id: str
    stage: str
    country: str
    figures: dict[str, Figure]


@dataclass(frozen=True)
class ChainNetwork:
    """A stress-test network built from a chain, with the provenance of every figure.

    Attributes
    ----------
    country
        Focal country.
    network
        The multi-period network (its single-period fields serve the single-period test).
    nodes
        One entry per network node, in network order.
    parts
        Provenance of each part's ``per_unit`` factor, keyed by (node, part).
    assumptions
        The assumptions behind the network's structure, in words.
    """

    country: str
    network: MultiPeriodNetwork
    nodes: dict[str, NodeInfo]
    parts: dict[tuple[str, str], Figure]
    assumptions: list[str] = field(default_factory=list)

    def single_period(self) -> Network:
        """Return the network without its multi-period fields."""
        return Network(
            description=self.network.description,
            nodes=self.network.nodes,
            parts=self.network.parts,
            recovery=self.network.recovery,
        )


def _node_id(stage: str, country: str) -> str:
    return f"{stage}_{country}"


def _sources(*groups: Collection[str]) -> tuple[str, ...]:
    """Union of source ids, in first-seen order."""
    seen: dict[str, None] = {}
    for g in groups:
        for s in g:
            seen.setdefault(str(s), None)
    return tuple(seen)


def recovery_weeks(dataset: Dataset) -> dict[Stage, Figure]:
    """Return the time-to-recover of each supplier stage, in weeks, from lead_times.csv.

    A node's TTR is the time until it or a substitute is back; rareflow takes the time to build a
    substitute plant of the same stage (chosen rows of lead_times.csv: ``magnet_plant`` 2.2 years,
    Neo's Narva plant; ``processing_plant`` 8 years, IEA 2025; ``mine_discovery_to_production``
    15.7 years, S&P Global 2023). Metal making has no lead time of its own: the processing-plant
    figure is used (an assumption).

    Raises
    ------
    DataError
        If lead_times.csv lacks a chosen row needed, or its unit is not a time unit.
    """
    table = dataset.chosen("lead_times")
    out: dict[Stage, Figure] = {}
    for stage, (project, metric) in _RECOVERY_PROJECT.items():
        rows = table[(table["project_type"] == project) & (table["metric"] == metric)]
        if rows.empty:
            raise DataError(
                [
                    Problem(
                        f"no chosen row for project_type '{project}', metric '{metric}' "
                        f"(needed for the {stage.value} stage's time-to-recover)",
                        "lead_times.csv",
                        column="project_type",
                    )
                ]
            )
        row = query.latest_rows(rows).iloc[0]
        unit = str(row["unit"])
        if unit not in _UNIT_TO_WEEKS:
            raise DataError(
                [
                    Problem(
                        f"unit '{unit}' of {project} is not a time unit "
                        f"({', '.join(_UNIT_TO_WEEKS)})",
                        "lead_times.csv",
                        column="unit",
                    )
                ]
            )
        value = float(row["value"]) * _UNIT_TO_WEEKS[unit]
        is_metal = stage is Stage.METAL
        note = (
            f"lead_times.csv {project} {metric} = {float(row['value']):g} {unit} "
            f"(x {WEEKS_PER_YEAR:.2f} weeks/year): time to build a substitute plant"
        )
        if is_metal:
            note = "ASSUMPTION: metal making recovers like a processing plant; " + note
        out[stage] = Figure(
            value,
            "weeks",
            _sources([str(row["source_id"])], [ASSUMPTION] if is_metal else []),
            note,
        )
    return out


def magnet_cover_weeks(chain: Chain, dataset: Dataset) -> Figure:
    """Return the focal country's industry stock of magnets, in weeks of demand.

    :func:`rareflow.data.query.industry_cover` (inventories.csv; for India 11-16 weeks on 4 April
    2025, chosen value 13.5, an assumption read from the run-out dates that 2025 reports imply;
    the reported 'weeks left' in June-July are alternatives).

    Raises
    ------
    DataError
        If inventories.csv has no chosen ``cover`` row for the focal country's industry.
    """
    try:
        cover = query.industry_cover(dataset, chain.country)
    except InputError:
        raise DataError(
            [
                Problem(
                    f"no chosen industry 'cover' row for {chain.country}",
                    "inventories.csv",
                    column="metric",
                )
            ]
        ) from None
    return Figure(cover.value, "weeks", cover.sources, cover.note)


def _table_sources(dataset: Dataset, table: str, **match: str | Collection[str]) -> tuple[str, ...]:
    """Source ids of a table's chosen rows matching ``column=value`` (or a set of values)."""
    df = dataset.chosen(table)
    for column, wanted in match.items():
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        df = df[df[column].isin(values)]
    return _sources(df["source_id"].astype(str).tolist())


def conversion_factors(chain: Chain, dataset: Dataset) -> dict[str, Figure]:
    """Return the bill-of-materials factors between the stages' mass bases.

    - ``metal_per_magnet`` (t metal / t magnet) = magnet rare-earth content of sintered NdFeB
      (magnet_composition.csv) / metal-to-magnet yield, where that yield is the oxide-to-magnet
      retention over (1 - oxide-to-metal loss) (process_parameters.csv, both ASSUMPTIONS there);
    - ``oxide_per_metal`` (t oxide / t metal) = 1 / (content-weighted metal fraction of the oxides,
      stoichiometry from elements.csv) / (1 - oxide-to-metal loss);
    - ``reo_per_oxide`` (t REO / t magnet-RE oxide) = 1 / the magnet rare earths' share of REO in
      mined ore, weighted by mine output. One world figure serves every separation plant: a
      factor of the buyer, not of the ore it buys, would let a plant with a richer ore 'save'
      concentrate bought from others.

    Raises
    ------
    DataError
        If a process parameter is missing or the magnet holds no magnet rare earth.
    """
    proc = chain.process
    values = dict(zip(proc["parameter"].astype(str), proc["value"].astype(float), strict=True))
    cited = dict(zip(proc["parameter"].astype(str), proc["source_id"].astype(str), strict=True))
    missing = [p for p in ("oxide_to_magnet_retention", "oxide_to_metal_loss") if p not in values]
    if missing:
        raise DataError(
            [
                Problem(f"parameter '{p}' not found", "process_parameters.csv", column="parameter")
                for p in missing
            ]
        )
    retention = values["oxide_to_magnet_retention"]
    loss = values["oxide_to_metal_loss"]
    proc_sources = _sources([cited["oxide_to_magnet_retention"], cited["oxide_to_metal_loss"]])
    elements = [e.value for e in MAGNET_ELEMENTS]
    content = chain.magnet_content.sel({dims.MATERIAL: SINTERED_NDFEB, dims.ELEMENT: elements})
    re_content = float(content.sum())
    if re_content <= 0:
        raise DataError(
            [
                Problem(
                    f"{SINTERED_NDFEB} holds no {'/'.join(elements)}",
                    "magnet_composition.csv",
                    column="value",
                )
            ]
        )
    metal_yield = retention / (1 - loss)
    fraction = float((content * chain.metal_fraction.sel({dims.ELEMENT: elements})).sum())
    fraction /= re_content
    ore = chain.ore_shares.sel({dims.ELEMENT: elements}).sum(dims.ELEMENT)
    mines = chain.mine_production
    common = [c for c in mines[dims.COUNTRY].values if c in ore[dims.COUNTRY].values]
    weights = mines.sel({dims.COUNTRY: common})
    world_share = float((ore.sel({dims.COUNTRY: common}) * weights).sum() / weights.sum())
    composition = _table_sources(
        dataset, "magnet_composition", material=SINTERED_NDFEB, component=elements
    )
    stoichiometry = _table_sources(dataset, "elements", element=elements)
    mined = chain.nodes[
        (chain.nodes["stage"] == Stage.MINING.value)
        & (chain.nodes["metric"] == "output")
        & chain.nodes["facility"].isna()
    ]
    mine_sources = _sources(mined["source_id"].astype(str).tolist())
    ore_sources = _sources(
        _table_sources(dataset, "country_deposit_mix"),
        _table_sources(dataset, "deposit_element_shares", element=elements),
    )
    return {
        "metal_per_magnet": Figure(
            re_content / metal_yield,
            "t_metal per t_magnet",
            _sources(composition, proc_sources, [DERIVED]),
            f"Nd+Pr+Dy+Tb content {re_content:.4f} t/t (magnet_composition.csv) / metal-to-magnet "
            f"yield {metal_yield:.3f} = retention {retention:g} / (1 - loss {loss:g}) "
            "(process_parameters.csv)",
        ),
        "oxide_per_metal": Figure(
            1 / fraction / (1 - loss),
            "t_oxide per t_metal",
            _sources(stoichiometry, proc_sources, [DERIVED]),
            f"1 / metal fraction {fraction:.3f} of the oxides (stoichiometry, weighted by magnet "
            f"content) / (1 - oxide-to-metal loss {loss:g})",
        ),
        "reo_per_oxide": Figure(
            1 / world_share,
            "t_reo per t_oxide",
            _sources(ore_sources, mine_sources, [ASSUMPTION]),
            f"1 / Nd+Pr+Dy+Tb share of REO {world_share:.3f} (ore element shares weighted by mine "
            "output). ASSUMPTION: an oxide tonne needs the REO that carries it; the co-products "
            "(La, Ce...) are ignored and oxide and REO masses are not told apart",
        ),
    }


def supplier_shares(chain: Chain, dataset: Dataset) -> dict[Stage, dict[str, Figure]]:
    """Return each stage's supplier shares by partner (fractions).

    Each stage's shares are :func:`rareflow.data.query.import_shares` (the engine's): the focal
    country's import shares where the dataset (or the user's data) has them, for India's magnets
    ICRA 2025 (China 0.85, the rest split by world output: Japan 0.10, ``ROW`` 0.05), else the
    stage's world output shares (stage_shares.csv, latest year). Partners below
    :data:`MIN_SHARE` are summed into ``ROW``.

    Raises
    ------
    DataError
        If a stage has neither import nor world shares in the dataset.
    """
    out: dict[Stage, dict[str, Figure]] = {}
    for stage in SUPPLY_STAGES:
        found = query.import_shares(dataset, chain.country, stage.value)
        if not found.sources:
            raise DataError(
                [
                    Problem(
                        f"no import shares of {chain.country} and no chosen share_of_output row "
                        f"for {stage.value}",
                        "stage_shares.csv",
                    )
                ]
            )
        out[stage] = _by_partner(found)
    return out


def _by_partner(found: query.Shares) -> dict[str, Figure]:
    """One figure per partner, those under :data:`MIN_SHARE` pooled into ``ROW`` (normalised)."""
    groups: dict[str, dict[str, query.Fact]] = {}
    for p, f in sorted(found.parts.items(), key=lambda kv: -kv[1].value):
        name = p if f.value >= MIN_SHARE and p != REST_OF_WORLD else REST_OF_WORLD
        groups.setdefault(name, {})[p] = f
    out = {}
    for name, parts in groups.items():
        labels = ", ".join(f"{p} {f.value:.3g}" for p, f in parts.items())
        pooled = len(parts) > 1 and name == REST_OF_WORLD
        pooled_note = f" (pooled under {MIN_SHARE:g})" if pooled else ""
        out[name] = Figure(
            sum(f.value for f in parts.values()),
            "fraction",
            _sources(*(f.sources for f in parts.values())),
            f"{found.note}: {labels}{pooled_note}",
        )
    return out


def domestic_capacities(
    chain: Chain, dataset: Dataset, statuses: Collection[str] = DEFAULT_STATUSES
) -> dict[Stage, Figure]:
    """Return the focal country's current capacity at each supplier stage, in t per week.

    - mining: the country's mine production (mine_production.csv, latest chosen), t REO;
    - separation, metal, magnet: current ``capacity`` (not ``planned_capacity``) of the country's
      facilities (facilities.csv) that make a magnet rare-earth oxide or metal, or sintered NdFeB,
      and whose status is in ``statuses``.

    A stage without capacity is left out.

    Raises
    ------
    DataError
        If a facility's unit is not a yearly tonnage of its stage's basis.
    """
    out: dict[Stage, Figure] = {}
    mines = chain.nodes[
        (chain.nodes["country"] == chain.country)
        & (chain.nodes["stage"] == Stage.MINING.value)
        & (chain.nodes["metric"] == "output")
        & chain.nodes["facility"].isna()
    ]
    if not mines.empty and float(mines["value"].iloc[0]) > 0:
        row = query.latest_rows(mines).iloc[0]
        out[Stage.MINING] = Figure(
            float(row["value"]) / WEEKS_PER_YEAR,
            "t_reo_per_week",
            (str(row["source_id"]),),
            f"mine_production.csv {chain.country} {float(row['value']):g} {row['unit']} "
            f"({int(row['year'])}) / weeks per year",
        )
    problems = []
    for stage, materials in _FACILITY_MATERIALS.items():
        found = query.plants(
            dataset, chain.country, statuses=statuses, stage=stage.value, materials=materials
        )
        if not found:
            continue
        rows = pd.DataFrame(
            [
                {
                    "facility": p.facility,
                    "value": p.figure.value,
                    "unit": p.figure.unit,
                    "status": p.status,
                    "year": p.figure.year,
                    "source_id": p.figure.sources[0],
                    "_line": p.line,
                }
                for p in found
            ]
        )
        unit = f"{_STAGE_UNIT[stage]}_per_year"
        bad = rows[rows["unit"] != unit]
        for _, b in bad.iterrows():
            problems.append(
                Problem(
                    f"facility '{b['facility']}' capacity unit '{b['unit']}': expected '{unit}'",
                    "facilities.csv",
                    int(b["_line"]) if pd.notna(b["_line"]) else None,
                    "unit",
                )
            )
        if not bad.empty:
            continue
        total = float(rows["value"].sum())
        labels = "; ".join(
            f"{r['facility']} {float(r['value']):g} {r['unit']} ({r['status']}, {int(r['year'])})"
            for _, r in rows.iterrows()
        )
        not_running = rows[rows["status"] != "operating"]
        note = f"facilities.csv: {labels}; / weeks per year"
        if not not_running.empty:
            note += (
                ". ASSUMPTION: plants not yet operating ("
                + ", ".join(not_running["facility"].astype(str))
                + ") count at their stated capacity"
            )
        out[stage] = Figure(
            total / WEEKS_PER_YEAR,
            f"{_STAGE_UNIT[stage]}_per_week",
            _sources(
                rows["source_id"].astype(str).tolist(), [] if not_running.empty else [ASSUMPTION]
            ),
            note,
        )
    if problems:
        raise DataError(problems)
    return out


def sector_demand_weekly(chain: Chain) -> dict[str, Figure]:
    """Return each sector's sintered-NdFeB demand in t per week (``chain.demand`` / weeks).

    The stress-test network carries sintered NdFeB only: a sector's demand for other magnets
    (defence's SmCo) is left out and the sector's figure says how much.

    Raises
    ------
    DataError
        If a sector demands magnets but no sintered NdFeB at all.
    """
    detail = chain.demand.detail
    if detail.empty:
        raise DataError([Problem(f"no sector demand for {chain.country}", "sector_activity.csv")])
    demanded = detail[detail["t_magnet_per_year"] > 0]
    other = demanded[demanded[dims.MATERIAL] != SINTERED_NDFEB]
    only_other = sorted(
        set(other[dims.SECTOR])
        - set(demanded.loc[demanded[dims.MATERIAL] == SINTERED_NDFEB, dims.SECTOR])
    )
    if only_other:
        raise DataError(
            [
                Problem(
                    f"sector '{s}' demands no {SINTERED_NDFEB}; the stress-test network carries "
                    f"{SINTERED_NDFEB} only",
                    "intensities.csv",
                    column="material",
                )
                for s in only_other
            ]
        )
    out = {}
    for sector, rows in detail[detail[dims.MATERIAL] == SINTERED_NDFEB].groupby(dims.SECTOR):
        per_year = float(rows["t_magnet_per_year"].sum())
        srcs = _sources(
            rows["activity_source"].astype(str).tolist(),
            rows["intensity_source"].astype(str).tolist(),
            rows["share_source"].dropna().astype(str).tolist(),
        )
        r = rows.iloc[0]
        left_out = other[other[dims.SECTOR] == sector]
        excluded = "".join(
            f"; leaves out {float(x['t_magnet_per_year']):,.1f} t/yr of {x[dims.MATERIAL]} "
            f"(the network carries {SINTERED_NDFEB} only)"
            for _, x in left_out.iterrows()
        )
        out[str(sector)] = Figure(
            per_year / WEEKS_PER_YEAR,
            "t_magnet_per_week",
            srcs,
            f"chain.demand: {r['activity_metric']} {r['activity']:,.0f} {r['activity_unit']} "
            f"({int(r['activity_year'])}) x {r['intensity']:g} {r['intensity_unit']} x share "
            f"{r['share_of_units']:g} = {per_year:,.1f} t/yr / weeks per year{excluded}",
        )
    return out


def _upstream(stage: Stage) -> Stage:
    return SUPPLY_STAGES[SUPPLY_STAGES.index(stage) - 1]


_PART_NAME = {Stage.MAGNET: "metal", Stage.METAL: "oxide", Stage.SEPARATION: "concentrate"}
_FACTOR_NAME = {
    Stage.MAGNET: "metal_per_magnet",
    Stage.METAL: "oxide_per_metal",
    Stage.SEPARATION: "reo_per_oxide",
}


def build_stress_network(
    chain: Chain,
    dataset: Dataset,
    *,
    statuses: Collection[str] = DEFAULT_STATUSES,
    sector_weights: Mapping[str, float] = DEFAULT_SECTOR_WEIGHTS,
    stockpile_t: float = 0.0,
    stockpile_release_t_per_week: float | None = None,
    horizon: int | None = None,
) -> ChainNetwork:
    """Build the stress-test network of a focal country's chain (module docstring).

    Parameters
    ----------
    chain
        The focal country's chain (:func:`rareflow.model.build_chain`).
    dataset
        The dataset the chain was built from (for lead times, shares, facilities, sources).
    statuses
        Facility statuses whose current capacity counts for the focal country's plants.
    sector_weights
        Priority weight of each sector's lost magnets in the multi-period test (others 1).
    stockpile_t
        A government stockpile of magnets (t) that can be released to every sector; 0 by
        default because the dataset cites none for India.
    stockpile_release_t_per_week
        Most the stockpile can release per week (no limit by default).
    horizon
        Weeks of the multi-period test; by default the longest time-to-recover, rounded up (at
        most 1,000 weeks, the model's limit), so every node's loss is counted until it is back.

    Returns
    -------
    ChainNetwork
        The network and the provenance of every figure.

    Raises
    ------
    InputError
        If the focal country is China, which the network already stands for abroad.
    DataError
        If the dataset lacks a figure the network needs (the message names the file).
    """
    if chain.country == CHINA:
        raise InputError(
            "the stress-test network stands for China abroad (its mines and plants are suppliers "
            "at every stage), so its focal country cannot be CHN"
        )
    demand = sector_demand_weekly(chain)
    cover = magnet_cover_weeks(chain, dataset)
    ttr = recovery_weeks(dataset)
    factors = conversion_factors(chain, dataset)
    shares = supplier_shares(chain, dataset)
    domestic = domestic_capacities(chain, dataset, statuses)
    home = chain.country
    demand_sources = _sources(*(f.sources for f in demand.values()))
    total_demand = sum(f.value for f in demand.values())

    # Baseline flows, downstream first: the home plants run on home inputs as far as these go,
    # and every remaining need is drawn from abroad.
    home_magnets = domestic[Stage.MAGNET].value if Stage.MAGNET in domestic else 0.0
    home_out = {Stage.MAGNET: min(home_magnets, total_demand)}
    abroad = {Stage.MAGNET: total_demand - home_out[Stage.MAGNET]}
    factor_sources: dict[Stage, tuple[str, ...]] = {Stage.MAGNET: ()}
    for stage in (Stage.MAGNET, Stage.METAL, Stage.SEPARATION):
        up = _upstream(stage)
        home_need = home_out[stage] * factors[_FACTOR_NAME[stage]].value
        home_out[up] = min(domestic[up].value, home_need) if up in domestic else 0.0
        abroad[up] = abroad[stage] * factors[_FACTOR_NAME[stage]].value + home_need - home_out[up]
        factor_sources[up] = _sources(factor_sources[stage], factors[_FACTOR_NAME[stage]].sources)

    nodes: list[NodeSpec] = []
    info: dict[str, NodeInfo] = {}
    no_stock = Figure(
        0.0,
        "t",
        (ASSUMPTION,),
        "ASSUMPTION: no stock data for this stage, so none is held (the conservative case)",
    )
    suppliers: dict[Stage, list[str]] = {s: [] for s in SUPPLY_STAGES}
    home_nodes: dict[Stage, str] = {}
    for stage in SUPPLY_STAGES:
        unit = f"{_STAGE_UNIT[stage]}_per_week"
        for country, share in shares[stage].items():
            capacity = abroad[stage] * share.value
            if capacity <= 0:
                continue
            node_id = _node_id(stage.value, country)
            cap = Figure(
                capacity,
                unit,
                _sources(share.sources, demand_sources, factor_sources[stage], [ASSUMPTION]),
                f"share {share.value:.3f} ({share.note}) x {abroad[stage]:.3f} {unit} that "
                f"{home} draws from abroad at this stage (sector demand converted up the chain). "
                f"ASSUMPTION: no spare capacity for {home} beyond its baseline draw",
            )
            nodes.append(NodeSpec(id=node_id, capacity=capacity, inventory=0.0))
            info[node_id] = NodeInfo(
                node_id,
                stage.value,
                country,
                {"capacity": cap, "inventory": no_stock, "ttr": ttr[stage]},
            )
            suppliers[stage].append(node_id)
        if stage in domestic:
            node_id = _node_id(stage.value, home)
            nodes.append(NodeSpec(id=node_id, capacity=domestic[stage].value, inventory=0.0))
            info[node_id] = NodeInfo(
                node_id,
                stage.value,
                home,
                {"capacity": domestic[stage], "inventory": no_stock, "ttr": ttr[stage]},
            )
            home_nodes[stage] = node_id

    parts: list[PartSpec] = []
    part_figures: dict[tuple[str, str], Figure] = {}
    for stage in (Stage.SEPARATION, Stage.METAL, Stage.MAGNET):
        up = _upstream(stage)
        consumers = list(suppliers[stage])
        if stage in home_nodes:
            consumers.append(home_nodes[stage])
        factor_name = _FACTOR_NAME[stage]
        for consumer in consumers:
            # Home plants may also buy abroad; plants abroad do not buy from the home country.
            from_nodes = list(suppliers[up])
            if consumer in home_nodes.values() and up in home_nodes:
                from_nodes.insert(0, home_nodes[up])
            if not from_nodes:
                continue
            part = _PART_NAME[stage]
            parts.append(
                PartSpec(
                    node=consumer,
                    part=part,
                    per_unit=factors[factor_name].value,
                    suppliers=from_nodes,
                )
            )
            part_figures[consumer, part] = factors[factor_name]

    magnet_suppliers = list(suppliers[Stage.MAGNET])
    if Stage.MAGNET in home_nodes:
        magnet_suppliers.append(home_nodes[Stage.MAGNET])
    stockpile: dict[str, StockpileSpec] = {}
    if stockpile_t > 0:
        pile = f"stockpile_{home}"
        nodes.append(NodeSpec(id=pile, capacity=0.0, inventory=0.0))
        stockpile[pile] = StockpileSpec(
            units=stockpile_t, max_release_per_period=stockpile_release_t_per_week
        )
        pile_figure = Figure(
            stockpile_t,
            "t_magnet",
            (ASSUMPTION,),
            "ASSUMPTION: a stockpile set by the user (the dataset cites none for this country)",
        )
        info[pile] = NodeInfo(pile, "stockpile", home, {"stockpile": pile_figure})
        magnet_suppliers.append(pile)
    one = Figure(
        MARGIN_PER_TONNE,
        "per t_magnet",
        (ASSUMPTION,),
        "ASSUMPTION: no cited margin exists, so each tonne of magnet demand lost counts 1 "
        "(performance impact = tonnes of magnet lost)",
    )
    for sector, need in demand.items():
        node_id = f"{sector}_{home}"
        stock = need.value * cover.value
        nodes.append(
            NodeSpec(
                id=node_id,
                capacity=need.value,
                inventory=stock,
                demand=need.value,
                margin=MARGIN_PER_TONNE,
                sector=sector,
            )
        )
        info[node_id] = NodeInfo(
            node_id,
            Stage.USE.value,
            home,
            {
                "demand": need,
                "capacity": Figure(
                    need.value,
                    need.unit,
                    _sources(need.sources, [ASSUMPTION]),
                    "ASSUMPTION: assembly capacity equals demand (assembly is not the "
                    "bottleneck studied)",
                ),
                "inventory": Figure(
                    stock,
                    "t_magnet",
                    _sources(cover.sources, need.sources, [DERIVED]),
                    f"industry magnet cover {cover.value:g} weeks x weekly demand ({cover.note})",
                ),
                "margin": one,
            },
        )
        parts.append(
            PartSpec(node=node_id, part="magnet", per_unit=1.0, suppliers=magnet_suppliers)
        )
        part_figures[node_id, "magnet"] = Figure(
            1.0, "t_magnet per t_magnet", (DERIVED,), "end products are counted in magnet mass"
        )

    recovery = {n: i.figures["ttr"].value for n, i in info.items() if "ttr" in i.figures}
    weeks = horizon if horizon is not None else min(math.ceil(max(recovery.values())), 1000)
    network = MultiPeriodNetwork(
        description=f"rareflow chain of {home} (dataset {chain.data_version}); weeks, tonnes",
        nodes=nodes,
        parts=parts,
        recovery=recovery,
        horizon=weeks,
        stockpile=stockpile,
        sector_weights=dict(sector_weights),
    )
    assumptions = [
        "Period: one week; yearly figures / " + f"{WEEKS_PER_YEAR:.4f} weeks per year.",
        "Margin: 1 per tonne of magnet lost (no cited margin); PI is in tonnes of magnet.",
        f"Foreign nodes: capacity = {home}'s baseline draw on them (share x need); no spare "
        "capacity, no stocks.",
        f"Suppliers: each partner by name at each stage, those under {MIN_SHARE:g} pooled into "
        f"ROW; {home}'s import shares where the dataset has them, world shares of output "
        "otherwise (latest year of each stage).",
        f"Plants abroad do not buy from {home}'s plants; {home}'s plants may buy abroad.",
        "TTR: time to build a substitute plant (lead_times.csv); metal making recovers like a "
        "processing plant. Lifting an export control could be faster.",
        "End products: one per sector, sintered NdFeB only, assembly capacity = demand, stock = "
        "industry magnet cover.",
        "Sector weights (defence first) are a policy choice; among sectors of equal weight the "
        "split of a loss is one optimal plan of many.",
        f"{home}'s plants count when their status is one of: " + ", ".join(statuses) + ".",
    ]
    return ChainNetwork(home, network, info, part_figures, assumptions)


def stress_rows(cn: ChainNetwork) -> list[dict[str, Any]]:
    """Disrupt each supplier node in turn (single-period model): one row per node, in weeks.

    Simchi-Levi et al. (2015) TTS and TTR models (:func:`rareflow.indicators.stress_test.
    stress_test`) over a disruption of length TTR.

    Returns
    -------
    list of dict
        ``node``, ``stage``, ``country``, ``tts_weeks`` (``math.inf`` if the chain never runs
        short), ``ttr_weeks``, ``exposed`` (TTR > TTS) and ``performance_impact`` (t of magnet
        lost over TTR, margin 1 per t). No split by sector: with equal margins the LP's split is
        arbitrary; :func:`multi_period_rows` weights sectors by priority.
    """
    rows = []
    for r in stress_test(cn.single_period()):
        node = cn.nodes[r.node]
        rows.append(
            {
                "node": r.node,
                "stage": node.stage,
                "country": node.country,
                "tts_weeks": r.tts,
                "ttr_weeks": r.ttr,
                "exposed": r.exposed,
                "performance_impact": r.performance_impact,
            }
        )
    return rows


def multi_period_rows(cn: ChainNetwork) -> list[dict[str, Any]]:
    """Disrupt each supplier node in turn (multi-period model): one row per node, in weeks.

    :func:`rareflow.indicators.stress_test.multi_period_stress_test` over ``cn.network.horizon``
    weeks, with the stockpile and the sector priority weights of the network.

    Returns
    -------
    list of dict
        As :func:`stress_rows`, with TTS in whole weeks, ``tts_censored`` (no loss within the
        horizon), ``weighted_impact`` (lost tonnes weighted by sector priority) and
        ``lost_by_sector`` (t), losses counted with the node down for ``min(ceil(TTR), horizon)``
        weeks. Among sectors of equal weight the split is one optimal plan of many.
    """
    rows = []
    for r in multi_period_stress_test(cn.network).nodes:
        node = cn.nodes[r.node]
        rows.append(
            {
                "node": r.node,
                "stage": node.stage,
                "country": node.country,
                "tts_weeks": r.tts,
                "tts_censored": r.tts_censored,
                "ttr_weeks": r.ttr,
                "exposed": r.exposed,
                "performance_impact": r.performance_impact,
                "weighted_impact": r.weighted_impact,
                "lost_by_sector": r.lost_by_sector,
            }
        )
    return rows


def provenance(cn: ChainNetwork) -> dict[str, Any]:
    """Return where every figure of the network comes from, as a JSON-ready mapping."""
    return {
        "nodes": {
            n: {"stage": i.stage, "country": i.country}
            | {k: f.as_dict() for k, f in i.figures.items()}
            for n, i in cn.nodes.items()
        },
        "parts": [
            {"node": node, "part": part} | f.as_dict() for (node, part), f in cn.parts.items()
        ],
    }
