"""Compile phase 1, the baseline: a scenario and its chain as the numeric network at rest.

Baseline figures come from the chain (dataset): sector requirement, domestic plant capacities,
import partner shares, inventories, element contents, prices. Where the dataset has no figure,
the default is a labelled assumption of :class:`rareflow.scenario.schema.Parameters` (see the
README). The later phases (:mod:`rareflow.scenario.compile`) write shocks and levers into it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

import numpy as np

from rareflow import units
from rareflow.data import query
from rareflow.data.load import Dataset, memo
from rareflow.errors import InputError
from rareflow.ids import Element, Sector
from rareflow.model.chain import Chain, build_chain
from rareflow.model.composition import material_elements
from rareflow.model.network import (
    COMMODITIES,
    COMMODITY_IDS,
    MAGNETS,
    TRACKED_ELEMENTS,
    FloatArray,
    Network,
    Process,
    sector_segments,
)
from rareflow.scenario.compile.uncertain import scaled_cover
from rareflow.scenario.compile.work import PROCESS_MATERIALS, Work
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number, Triangular, Uniform
from rareflow.scenario.sampling import Sampler
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks import ExportControl
from rareflow.units import DAYS_PER_MONTH

NDPR = (Element.Nd, Element.Pr)
#: Which chain stage's import shares stand in for each commodity form.
FORM_STAGE = {"concentrate": "mining", "oxide": "separation", "metal": "metal", "magnet": "magnet"}


def _parameter(ds: Dataset, name: str, stage: str) -> float:
    return query.process_parameter(ds, name, stage).value


def _import_shares(chain: Chain, ds: Dataset) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Partner shares per commodity form (:func:`rareflow.data.query.import_shares`), and notes."""
    notes = []
    by_form: dict[str, dict[str, float]] = {}
    for form, stage in FORM_STAGE.items():
        found = query.import_shares(ds, chain.country, stage)
        notes.append(f"{form}: {found.note}")
        by_form[form] = dict(found.shares)
    return by_form, notes


def _pooled(
    shares: dict[str, dict[str, float]], keep: set[str], min_share: float
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Pool small partners into ``ROW`` (``parameters.partner_min_share``).

    A partner is pooled when its share is below ``min_share`` in every form's split and no shock
    or lever names it. Returns the shares with the pooled partners' summed into ``ROW``, and the
    pooled partners (sorted).
    """
    largest: dict[str, float] = {}
    for split in shares.values():
        for p, v in split.items():
            largest[p] = max(largest.get(p, 0.0), v)
    small = sorted(
        p
        for p, v in largest.items()
        if v < min_share and p not in keep and p != query.REST_OF_WORLD
    )
    if not small:
        return shares, []
    out: dict[str, dict[str, float]] = {}
    for form, split in shares.items():
        kept = {p: v for p, v in split.items() if p not in small}
        pooled = sum(v for p, v in split.items() if p in small)
        if pooled > 0:
            kept[query.REST_OF_WORLD] = kept.get(query.REST_OF_WORLD, 0.0) + pooled
        out[form] = kept
    return out, small


def _content(chain: Chain, ds: Dataset, ndpr_split: dict[Element, float]) -> FloatArray:
    """(K, E) t of element metal per unit of each commodity."""
    mf = chain.metal_fraction
    content = np.zeros((len(COMMODITIES), len(TRACKED_ELEMENTS)))
    col = {e: i for i, e in enumerate(TRACKED_ELEMENTS)}
    ore = chain.ore_shares
    country = chain.country if chain.country in ore.coords["country"].to_numpy() else None
    for k, c in enumerate(COMMODITIES):
        if c.id == "concentrate_mixed" and country is not None:
            for e in TRACKED_ELEMENTS:
                content[k, col[e]] = float(ore.sel(country=country, element=e.value)) * float(
                    mf.sel(element=e.value)
                )
        elif c.form in ("oxide", "metal"):
            symbol = c.id.split("_", 1)[1]
            elements = NDPR if symbol == "ndpr" else (Element(symbol.capitalize()),)
            for e in elements:
                share = ndpr_split[e] if symbol == "ndpr" else 1.0
                fraction = float(mf.sel(element=e.value)) if c.form == "oxide" else 1.0
                content[k, col[e]] = share * fraction
        elif c.form == "magnet" and c.id in chain.magnet_content.coords["material"].to_numpy():
            for e in TRACKED_ELEMENTS:
                content[k, col[e]] = float(chain.magnet_content.sel(material=c.id, element=e.value))
    del ds
    return content


def _processes(
    content: FloatArray, ds: Dataset
) -> tuple[tuple[Process, ...], FloatArray, FloatArray, FloatArray]:
    """Recipes from stoichiometry, composition and yields (process_parameters.csv)."""
    idx = {c: i for i, c in enumerate(COMMODITY_IDS)}
    metal_yield = 1.0 - _parameter(ds, "oxide_to_metal_loss", "metal")
    magnet_yield = _parameter(ds, "oxide_to_magnet_retention", "magnet") / metal_yield
    procs: list[Process] = []
    conc = content[idx["concentrate_mixed"]]
    ndpr_oxide = content[idx["oxide_ndpr"]]
    # Separation per t REO of concentrate: NdPr oxide of fixed Nd:Pr ratio, limited by the
    # scarcer of the two in the ore; the rest of the ore leaves the tracked chain as co-products.
    oxide_per_reo = min(conc[i] / ndpr_oxide[i] if ndpr_oxide[i] > 0 else np.inf for i in (0, 1))
    oxide_per_reo = 0.0 if not np.isfinite(oxide_per_reo) else float(oxide_per_reo)
    procs.append(
        Process(
            "separation_ndpr",
            "separation",
            {"concentrate_mixed": 1.0},
            {"oxide_ndpr": oxide_per_reo},
        )
    )
    for sym in ("ndpr", "dy", "tb", "sm"):
        oxide = content[idx[f"oxide_{sym}"]]
        metal = content[idx[f"metal_{sym}"]]
        need = metal.sum() / max(oxide.sum(), 1e-12) / metal_yield
        procs.append(
            Process(f"metal_{sym}", "metal", {f"oxide_{sym}": need}, {f"metal_{sym}": 1.0})
        )
    for magnet in MAGNETS:
        have = content[idx[magnet]]
        inputs = {}
        for sym in ("ndpr", "dy", "tb", "sm"):
            metal = content[idx[f"metal_{sym}"]]
            # Enough metal for the element it is scarcest in; the rest of it is lost (e.g. the
            # Pr of NdPr metal in an Nd-only bonded magnet).
            amount = max(
                (have[e] / metal[e] for e in range(len(metal)) if metal[e] > 0 and have[e] > 0),
                default=0.0,
            )
            if amount > 0:
                inputs[f"metal_{sym}"] = amount / magnet_yield
        procs.append(Process(magnet, "magnet", inputs, {magnet: 1.0}))
    proc_in = np.zeros((len(procs), len(COMMODITIES)))
    proc_out = np.zeros_like(proc_in)
    for j, p in enumerate(procs):
        for k, v in p.inputs.items():
            proc_in[j, idx[k]] = v
        for k, v in p.outputs.items():
            proc_out[j, idx[k]] = v
    loss = proc_in @ content - proc_out @ content
    return tuple(procs), proc_in, proc_out, np.maximum(loss, 0.0)


def _capacities(chain: Chain, ds: Dataset, processes: tuple[Process, ...]) -> FloatArray:
    """Return (J,) operating capacity per year of each process, in throughput.

    Plants state their capacity in their output (t oxide, metal, magnet); separation's
    throughput is t REO of concentrate fed.
    """
    cap = np.zeros(len(processes))
    for j, p in enumerate(processes):
        for plant in query.plants(ds, chain.country, materials=PROCESS_MATERIALS[p.id]):
            cap[j] += p.throughput(plant.figure.value * units.get(plant.figure.unit).to_base)
    return cap


def _industry_cover(ds: Dataset, country: str) -> tuple[float, float]:
    """Low and high industry magnet cover in weeks (:func:`rareflow.data.query.industry_cover`)."""
    cover = query.industry_cover(ds, country)
    low = cover.low if cover.low is not None else cover.value
    high = cover.high if cover.high is not None else cover.value
    return low, high


def price_parameter(ds: Dataset, name: str, given: Number | None = None) -> Number:
    """Return a price-block parameter: ``given`` (the scenario's), else the dataset's chosen value.

    The dataset's are in price_parameters.csv: labelled assumptions, or a calibration's fitted
    values when one is selected (:func:`rareflow.data.load.load_dataset`).
    """
    if given is not None:
        return given
    rows = ds.chosen("price_parameters")
    rows = rows[rows["parameter"] == name]
    if rows.empty:
        raise InputError(
            f"the dataset has no chosen price parameter '{name}' (price_parameters.csv): set "
            f"prices.{name} in the scenario, or add the row to your own price_parameters.csv"
        )
    return float(rows["value"].iloc[0])


def uncertain_price_parameter(ds: Dataset, name: str, given: Number | None = None) -> Number:
    """Return a price-block parameter as :func:`price_parameter`, with the dataset's range.

    Where the scenario leaves it empty and the chosen row has a range, it is triangular over
    the range with the row's value as mode, so ensembles, Sobol' and Morris draw it (the demand
    response: issue 16 item 8).
    """
    if given is not None:
        return given
    price_parameter(ds, name)  # refuses a missing row with its message
    rows = ds.chosen("price_parameters")
    row = rows[rows["parameter"] == name].iloc[0]
    value, low, high = (
        np.nan if row[c] is None else float(row[c]) for c in ("value", "low", "high")
    )
    if np.isnan(low) or np.isnan(high) or not low < high:
        return value
    return Triangular(low=min(low, value), mode=value, high=max(high, value))


def _max_multiple(ds: Dataset, scenario: Scenario) -> float:
    cap = price_parameter(ds, "max_multiple", scenario.prices.max_multiple)
    if not isinstance(cap, float | int):
        raise InputError("prices.max_multiple must be a number, not a distribution")
    return float(cap)


PRICE_MARKETS: tuple[str, ...] = (
    "usgs_fob",
    "china_export_unit_value",
    "fob_china",
    "india_import_unit_value",
    "assumed",
)
"""Markets whose prices value the import bill, most preferred first (prices.csv ``market``).

USGS's annual FOB averages for oxides; China's export unit value for magnets (what importers
paid on average); weekly FOB China quotes (metals); India's import unit value; labelled
assumptions (bonded NdFeB, SmCo) last. Grade prices (``grade_*``) are not used: the engine has no
grade dimension yet."""


def base_prices(ds: Dataset) -> tuple[FloatArray, tuple[str, ...]]:
    """Return each commodity's price in USD per kg, and notes on where each came from.

    For each commodity the first market of :data:`PRICE_MARKETS` with a chosen row gives its
    latest year's price; a price in rupees is converted at that year's rate (exchange_rates.csv,
    else the latest). A commodity without any price is NaN and named in the notes: the import
    bill leaves it out, and says so.
    """
    prices = ds.chosen("prices")
    rates = ds.chosen("exchange_rates").sort_values("year")
    out = np.full(len(COMMODITIES), np.nan)
    used: list[str] = []
    for k, c in enumerate(COMMODITIES):
        for market in PRICE_MARKETS:
            rows = prices[(prices["material"] == c.id) & (prices["market"] == market)]
            rows = rows[rows["unit"].isin(["usd_per_kg", "inr_per_kg"])]
            if rows.empty:
                continue
            row = rows.sort_values("year").iloc[-1]
            value = float(row["value"])
            if row["unit"] == "inr_per_kg":
                same_year = rates[rates["year"] == row["year"]]
                rate = (same_year if not same_year.empty else rates.tail(1))["value"].iloc[0]
                value /= float(rate)
            out[k] = value
            used.append(f"{c.id} {value:,.1f} ({market} {int(row['year'])})")
            break
    notes = [f"prices (USD/kg, prices.csv): {'; '.join(used)}"]
    unpriced = [c.id for k, c in enumerate(COMMODITIES) if np.isnan(out[k])]
    if unpriced:
        notes.append(
            f"no price for {', '.join(unpriced)}: the import bill leaves them out "
            "(add rows to your own prices.csv to value them)"
        )
    return out, tuple(notes)


def baseline(
    scenario: Scenario,
    dataset: Dataset,
    sampler: Sampler,
    partners: Collection[str] = (),
) -> Work:
    """Build the baseline network of a scenario for the sampler's draws.

    The chain's requirement, recipes, plant capacities, import shares, element contents, prices
    and the scenario's parameters (industry and upstream cover, restocking, price response),
    with every schedule that shocks and levers write into at its neutral value. ``partners``
    are kept apart from ROW as if a lever named them (levers to be added later will).
    """
    ds = dataset
    # The chain depends on the dataset and country alone and compiles only read it (variants of
    # one prepared state share it): built once per dataset.
    store = memo(ds)
    if ("chain", scenario.country) not in store:
        store["chain", scenario.country] = build_chain(scenario.country, ds)
    chain = cast("Chain", store["chain", scenario.country])
    draw_idx = sampler.draws
    d_n = len(draw_idx)
    step = scenario.step_months
    t_n = scenario.horizon_months // step
    start = np.datetime64(scenario.start.strftime("%Y-%m"), "M")
    time = start + np.arange(t_n) * step

    comp = ds.chosen("magnet_composition")
    typical = comp[(comp["material"] == "magnet_ndfeb_sintered") & (comp["metric"] == "typical")]
    nd = float(typical.loc[typical["component"] == "Nd", "value"].sum())
    pr = float(typical.loc[typical["component"] == "Pr", "value"].sum())
    if nd + pr <= 0:
        raise InputError(
            "magnet_composition.csv has no chosen typical Nd or Pr content of "
            "magnet_ndfeb_sintered: add the rows (the engine splits NdPr by them)"
        )
    split = {Element.Nd: nd / (nd + pr), Element.Pr: pr / (nd + pr)}
    content = _content(chain, ds, split)
    processes, proc_in, proc_out, proc_loss = _processes(content, ds)

    shares, notes = _import_shares(chain, ds)
    base_price, price_notes = base_prices(ds)
    notes.extend(price_notes)
    named = {p for shock in scenario.shocks for p in shock.partners()}
    named.update(p for lever in scenario.levers for p in lever.partners())
    named.update(partners)
    shares, small = _pooled(shares, named, scenario.parameters.partner_min_share)
    if small:
        notes.append(
            f"partners pooled into ROW (below {scenario.parameters.partner_min_share:g} of every "
            f"stage's supply; parameters.partner_min_share): {', '.join(small)}"
        )
    partner_set = {p for s in shares.values() for p in s} | named
    partners = tuple(sorted(partner_set))
    share = np.zeros((len(partners), len(COMMODITIES)))
    for k, c in enumerate(COMMODITIES):
        for p, v in shares[c.form].items():
            share[partners.index(p), k] = v

    sectors = tuple(Sector)
    demand = chain.demand.demand
    requirement0 = np.zeros((len(sectors), len(COMMODITIES)))
    for s, sector in enumerate(sectors):
        if sector.value not in demand.coords["sector"].to_numpy():
            continue
        for m in demand.coords["material"].to_numpy():
            if m in COMMODITY_IDS:
                requirement0[s, COMMODITY_IDS.index(m)] = (
                    float(demand.sel(sector=sector.value, material=m)) / 12.0 * step
                )
    growth_da = chain.demand.growth
    growth = np.array(
        [
            [
                float(growth_da.sel(sector=s.value))
                if s.value in growth_da.coords["sector"].to_numpy()
                else 0.0
                for s in sectors
            ]
        ]
    )

    params = scenario.parameters
    steps_per_week = 7.0 / (DAYS_PER_MONTH * step)
    if params.industry_cover_weeks is None:
        low, high = _industry_cover(ds, chain.country)
        industry_weeks = sampler.draw(
            Uniform(low=low, high=high), "parameters.industry_cover_weeks"
        )
        notes.append(f"industry magnet cover: {low:g}-{high:g} weeks (inventories.csv)")
    else:
        industry_weeks = sampler.draw(
            params.industry_cover_weeks, "parameters.industry_cover_weeks"
        )
    industry_weeks = scaled_cover(scenario, ds, sampler, chain.country, industry_weeks)
    upstream_weeks = sampler.draw(params.upstream_cover_weeks, "parameters.upstream_cover_weeks")
    is_magnet = np.array([c.form == "magnet" for c in COMMODITIES])
    cover = np.where(is_magnet[None, :], industry_weeks[:, None], upstream_weeks[:, None])
    cover_steps = cover * steps_per_week

    cap_year = _capacities(chain, ds, processes)
    capacity = np.broadcast_to(cap_year / 12.0 * step, (1, t_n, len(processes))).copy()

    n_controls = sum(isinstance(s, ExportControl) for s in scenario.shocks)
    tiers = {s: i for i, tier in enumerate(scenario.allocation.priority) for s in tier}
    last_tier = len(scenario.allocation.priority)
    net = Network(
        time=time,
        step_months=step,
        draws=draw_idx,
        sectors=sectors,
        partners=partners,
        processes=processes,
        content=content,
        requirement0=requirement0,
        growth=growth,
        demand_multiplier=np.ones((1, t_n, len(sectors), len(COMMODITIES))),
        stock0=np.zeros((1, len(COMMODITIES))),
        cover_steps=cover_steps,
        restock_steps=sampler.draw(params.restock_months, "parameters.restock_months") / step,
        proc_in=proc_in,
        proc_out=proc_out,
        proc_loss=proc_loss,
        capacity=capacity,
        share=share,
        lead_steps=np.full(len(partners), round(params.shipping_months / step), dtype=np.int64),
        surge=np.zeros((1, t_n, len(partners))),
        licensed=np.zeros((n_controls, t_n, len(partners), len(COMMODITIES))),
        licence_scale=np.zeros((d_n, n_controls, len(partners))),
        approval=np.zeros((d_n, n_controls, t_n)),
        delay_steps=np.zeros((d_n, n_controls, t_n)),
        cut=np.zeros((1, t_n, len(partners), len(COMMODITIES))),
        tier=np.array([tiers.get(s, last_tier) for s in sectors], dtype=np.int64),
        elastic=np.array([s not in tiers for s in sectors], dtype=bool),
        proportional_only=scenario.allocation.rule == "proportional",
        elasticity=sampler.draw(
            uncertain_price_parameter(ds, "elasticity", scenario.prices.elasticity),
            "prices.elasticity",
        ),
        adjustment=sampler.draw(
            price_parameter(ds, "adjustment", scenario.prices.adjustment),
            "prices.adjustment",
        ),
        max_multiple=_max_multiple(ds, scenario),
        base_price=base_price,
        local_supply=np.zeros((1, t_n, len(COMMODITIES))),
        contract=np.zeros((1, t_n, len(partners), len(COMMODITIES))),
        stockpile0=np.zeros((1, len(COMMODITIES))),
        stockpile_target=np.zeros((1, t_n, len(COMMODITIES))),
        stockpile_fill=np.zeros((1, len(COMMODITIES))),
        stockpile_release=np.zeros((1, len(COMMODITIES))),
        stockpile_trigger=np.zeros(1),
        stockpile_sectors=np.zeros(len(sectors), dtype=bool),
        buffer_steps=np.zeros((1, len(COMMODITIES))),
        **sector_segments(sectors, t_n, n_controls, industry_weeks * steps_per_week),
    )
    magnet_elements = {m: material_elements(ds, m) for m in MAGNETS}
    ctx = CompileContext(net, chain, sampler, magnet_elements, ds)
    return Work(scenario, ctx, notes, requirement0, cover_steps, proc_in)
