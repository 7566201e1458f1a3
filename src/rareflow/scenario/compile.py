"""Compile a scenario and a chain into the numeric network the engine steps.

Baseline figures come from the chain (dataset): sector requirement, domestic plant capacities,
import partner shares, inventories, element contents, prices. Where the dataset has no figure,
the default is a labelled assumption of :class:`rareflow.scenario.schema.Parameters` (see the
README). Then each shock and lever writes itself into the network's schedules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rareflow import units
from rareflow.data import query
from rareflow.data.load import Dataset, load_dataset
from rareflow.errors import InputError, ScenarioError
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
)
from rareflow.scenario.context import CompileContext
from rareflow.scenario.distributions import Number, Uniform
from rareflow.scenario.levers.consortium import Consortium
from rareflow.scenario.levers.regulatory_reform import RegulatoryReform
from rareflow.scenario.sampling import Sampler
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks import ExportControl
from rareflow.units import DAYS_PER_MONTH

NDPR = (Element.Nd, Element.Pr)
CONTROLLING_DEFAULT = "CHN"
#: Which chain stage's import shares stand in for each commodity form.
FORM_STAGE = {"concentrate": "mining", "oxide": "separation", "metal": "metal", "magnet": "magnet"}
#: Facility materials that feed each process's capacity.
PROCESS_MATERIALS = {
    "separation_ndpr": ("oxide_ndpr",),
    "metal_ndpr": ("metal_nd", "metal_ndpr"),
    "metal_dy": ("metal_dy",),
    "metal_tb": ("metal_tb",),
    "metal_sm": ("metal_sm",),
    "magnet_ndfeb_sintered": ("magnet_ndfeb_sintered",),
    "magnet_ndfeb_bonded": ("magnet_ndfeb_bonded",),
    "magnet_smco": ("magnet_smco",),
}


@dataclass(frozen=True)
class Compiled:
    """A compiled scenario: the network and what it was built from."""

    network: Network
    chain: Chain
    sampler: Sampler
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    """Inputs that cannot act within the horizon (e.g. a plant online after it ends)."""


def _fingerprint(net: Network) -> list[tuple[str, object]]:
    """Summarise every network array (shape, sum, sum of squares), to see what a lever changed."""
    out: list[tuple[str, object]] = []
    for f in dataclasses.fields(net):
        value = getattr(net, f.name)
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            a = value.astype(np.float64, copy=False)
            out.append((f.name, (a.shape, float(np.nansum(a)), float(np.nansum(a * a)))))
        elif isinstance(value, np.ndarray):
            out.append((f.name, value.shape))
        else:
            out.append((f.name, repr(value)))
    return out


def _check_exporters(scenario: Scenario, known: set[str]) -> None:
    """Refuse a shock on an exporter the dataset does not know: it would change nothing."""
    for i, shock in enumerate(scenario.shocks):
        if shock.exporter not in known:
            raise ScenarioError(
                f"shocks[{i}].exporter: '{shock.exporter}' is not a country of the dataset "
                f"(countries.csv: {', '.join(sorted(known))}); a shock on it would change nothing"
            )


def _parameter(ds: Dataset, name: str, stage: str) -> float:
    rows = ds.chosen("process_parameters")
    hit = rows[(rows["parameter"] == name) & (rows["stage"] == stage)]
    if hit.empty:
        raise InputError(f"process_parameters.csv has no chosen row {name} at stage {stage}")
    return float(hit["value"].iloc[0])


def _import_shares(chain: Chain, ds: Dataset) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Partner shares per commodity form (:func:`rareflow.data.query.import_shares`), and notes."""
    notes = []
    by_form: dict[str, dict[str, float]] = {}
    for form, stage in FORM_STAGE.items():
        found = query.import_shares(ds, chain.country, stage)
        notes.append(f"{form}: {found.note}")
        by_form[form] = dict(found.shares)
    return by_form, notes


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


def compile_scenario(
    scenario: Scenario,
    draws: np.ndarray | None = None,
    dataset: Dataset | None = None,
    design_matrix: Mapping[str, FloatArray] | None = None,
) -> Compiled:
    """Build the network of a scenario for some of its draws.

    Parameters
    ----------
    scenario
        The validated scenario.
    draws
        Global draw indices (default: all of the scenario's draws).
    dataset
        The dataset (default: the embedded one).
    design_matrix
        Uniforms per uncertain path, indexed by global draw, that replace the scenario's design
        for those paths (see :class:`rareflow.scenario.sampling.Sampler`).
    """
    ds = dataset if dataset is not None else load_dataset()
    chain = build_chain(scenario.country, ds)
    draw_idx = np.arange(scenario.draws) if draws is None else np.asarray(draws, dtype=np.int64)
    d_n = len(draw_idx)
    paths = uncertain_paths()
    if scenario.sampling == "sobol":
        # Sobol' points need one dimension per uncertain number: find every number this scenario
        # draws (its shocks' and levers' included) with a cheap random-design pass first.
        probe = compile_scenario(
            scenario.model_copy(update={"sampling": "random"}), np.arange(2), ds
        ).sampler
        found = sorted(path for path, values in probe.drawn.items() if np.size(values) > 1)
        paths = (*paths, *(p for p in found if p not in paths))
    sampler = Sampler(
        scenario.seed,
        scenario.sampling,
        scenario.draws,
        draw_idx,
        paths,
        design_matrix=design_matrix,
    )
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
    partner_set = {p for s in shares.values() for p in s}
    for shock in scenario.shocks:
        partner_set.update(shock.partners())
    for lever in scenario.levers:
        partner_set.update(lever.partners())
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
    industry_weeks = _scaled_cover(scenario, ds, sampler, chain.country, industry_weeks)
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
        row_pressure=np.zeros((1, t_n)),
        licensed=np.zeros((n_controls, t_n, len(partners), len(COMMODITIES))),
        licence_scale=np.zeros((d_n, n_controls, len(partners))),
        approval=np.zeros((d_n, n_controls, t_n)),
        delay_steps=np.zeros((d_n, n_controls, t_n)),
        cut=np.zeros((1, t_n, len(partners), len(COMMODITIES))),
        tier=np.array([tiers.get(s, last_tier) for s in sectors], dtype=np.int64),
        elastic=np.array([s not in tiers for s in sectors], dtype=bool),
        proportional_only=scenario.allocation.rule == "proportional",
        elasticity=sampler.draw(
            price_parameter(ds, "elasticity", scenario.prices.elasticity),
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
    )
    magnet_elements = {m: material_elements(ds, m) for m in MAGNETS}
    ctx = CompileContext(net, chain, sampler, magnet_elements, ds)
    _check_exporters(scenario, ctx.known_countries())
    control = 0
    controlling: set[str] = set()
    for i, shock in enumerate(scenario.shocks):
        shock.apply(ctx, control, f"shocks[{i}]")
        if isinstance(shock, ExportControl):
            control += 1
            controlling.add(shock.exporter)
    # Regulatory reforms first: they set modifiers (permit times, by-product rules) that the
    # other levers read from the context, whatever their order in the scenario.
    warnings = []
    for i, lever in sorted(
        enumerate(scenario.levers), key=lambda il: not isinstance(il[1], RegulatoryReform)
    ):
        before = _fingerprint(net)
        lever.apply(ctx, f"levers[{i}]")
        if _fingerprint(net) == before and not isinstance(lever, RegulatoryReform | Consortium):
            end = (time[-1] + step - 1).astype(object)
            warnings.append(
                f"levers[{i}] ({lever.type}{f' {lever.name!r}' if lever.name else ''}) changes "
                f"nothing within the horizon ({scenario.start:%Y-%m} to {end:%Y-%m}): check its "
                "dates (a plant online, or a contract starting, after the horizon ends)"
            )
    req_scale = _scale_network(scenario, ds, sampler, chain, net)

    surge = sampler.draw(params.nonchina_surge, "parameters.nonchina_surge")
    free_partners = np.array([p not in controlling for p in partners], dtype=np.float64)
    net.surge = np.broadcast_to(
        surge[:, None, None] * free_partners[None, None, :], (surge.shape[0], t_n, len(partners))
    ).copy()
    competition = sampler.draw(params.row_competition, "parameters.row_competition")
    net.row_pressure = net.row_pressure * competition[:, None]

    # Domestic mine output (the country's, plus new mines from levers) feeds separation up to
    # its capacity; the rest has other uses. Other local supply written by levers is kept.
    mine = chain.mine_production
    if chain.country in mine.coords["country"].to_numpy():
        per_step = float(mine.sel(country=chain.country)) / 12.0 * step
        j_sep = [p.id for p in processes].index("separation_ndpr")
        k_conc = COMMODITY_IDS.index("concentrate_mixed")
        mined = per_step + net.local_supply[:, :, k_conc]
        feed = np.minimum(mined, net.capacity[:, :, j_sep] * proc_in[j_sep, k_conc])
        d_local = max(feed.shape[0], net.local_supply.shape[0])
        net.local_supply = np.broadcast_to(
            net.local_supply, (d_local, t_n, len(COMMODITIES))
        ).copy()
        net.local_supply[:, :, k_conc] = feed

    # Opening stocks cover the requirement as drawn (uncertain activity or intensity).
    req0 = requirement0[None] if req_scale is None else requirement0[None] * req_scale
    use0 = req0.sum(axis=1) + (net.capacity[:, 0] @ proc_in).max(axis=0)
    net.stock0 = cover_steps * use0
    net.check_shapes()
    return Compiled(net, chain, sampler, tuple(notes), tuple(warnings))


def _uncertain_rows(
    scenario: Scenario, ds: Dataset, sampler: Sampler, table: str
) -> list[tuple[str, pd.DataFrame, FloatArray]]:
    """Path, matching chosen rows and drawn factor of each ``uncertain:`` entry on a table."""
    out = []
    for i, entry in enumerate(scenario.uncertain):
        if entry.table != table:
            continue
        path = f"uncertain[{i}]"
        rows = ds.chosen(table)
        for column, value in entry.where.items():
            rows = rows[rows[column].astype(str) == str(value)]
        if rows.empty:
            raise ScenarioError(
                f"{path}.where: no chosen row of {table}.csv matches {dict(entry.where)}"
            )
        out.append((path, rows, sampler.draw(entry.scale, f"{path}.scale")))
    return out


def _keys(rows: pd.DataFrame, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {tuple(map(str, r)) for r in rows[list(columns)].itertuples(index=False)}


def _unused(path: str, table: str, country: str) -> ScenarioError:
    return ScenarioError(
        f"{path}.where: no row of {table}.csv it matches feeds {country}'s network (the engine "
        "uses the focal country's chosen rows: activity of the latest year and preferred metric, "
        "the latest growth, operating plant capacity, the industry magnet cover when "
        "parameters.industry_cover_weeks is not set)"
    )


def _scaled_cover(
    scenario: Scenario, ds: Dataset, sampler: Sampler, country: str, weeks: FloatArray
) -> FloatArray:
    """Industry magnet cover times the scale of ``uncertain:`` entries on inventories.csv."""
    key = ("country", "holder", "material", "metric", "year")
    for path, rows, factor in _uncertain_rows(scenario, ds, sampler, "inventories"):
        used = query.latest_rows(
            query.matching(ds, "inventories", country=country, holder="industry", metric="cover")
        )
        if scenario.parameters.industry_cover_weeks is not None or not (
            _keys(rows, key) & _keys(used, key)
        ):
            raise _unused(path, "inventories", country)
        weeks = weeks * factor
    return weeks


def _scale_network(
    scenario: Scenario, ds: Dataset, sampler: Sampler, chain: Chain, net: Network
) -> FloatArray | None:
    """Apply ``uncertain:`` scalings of activity, intensities, growth and plant capacity.

    The base-year requirement has no draw axis, so activity and intensities scale through
    ``demand_multiplier`` (D, T, S, K); growth becomes (D, S); plant capacity adds its scaled part
    to ``capacity`` (D, T, J). Returns the (D, S, K) scale of the requirement (None if there is
    none), for opening stocks.
    """
    if not scenario.uncertain:
        return None
    country = chain.country
    sector_of = {s.value: i for i, s in enumerate(net.sectors)}
    detail = chain.demand.detail.to_dict("records")
    req: FloatArray | None = None

    def scale_requirement(pairs: set[tuple[str, str]], factor: FloatArray) -> None:
        nonlocal req
        m = np.ones((factor.shape[0], len(net.sectors), len(COMMODITIES)))
        for sector, material in pairs:
            if material in COMMODITY_IDS:
                m[:, sector_of[sector], COMMODITY_IDS.index(material)] = factor
        req = m if req is None else req * m

    for path, rows, factor in _uncertain_rows(scenario, ds, sampler, "sector_activity"):
        hit = _keys(rows, ("country", "sector", "metric", "year"))
        pairs = {
            (str(r["sector"]), str(r["material"]))
            for r in detail
            if (country, str(r["sector"]), str(r["activity_metric"]), str(r["activity_year"]))
            in hit
        }
        if not pairs:
            raise _unused(path, "sector_activity", country)
        scale_requirement(pairs, factor)
    for path, rows, factor in _uncertain_rows(scenario, ds, sampler, "intensities"):
        hit = _keys(rows, ("sector", "material", "metric"))
        pairs = {
            (str(r["sector"]), str(r["material"]))
            for r in detail
            if (str(r["sector"]), str(r["material"]), "intensity") in hit
            or (
                isinstance(r["share_source"], str)
                and (str(r["sector"]), str(r["material"]), "share_of_units") in hit
            )
        }
        if not pairs:
            raise _unused(path, "intensities", country)
        scale_requirement(pairs, factor)
    if req is not None:
        net.demand_multiplier = net.demand_multiplier * req[:, None]

    growth = ds.chosen("demand_growth")
    growth = query.latest_rows(growth[growth["country"] == country], ("sector",))
    growth = growth[growth["sector"].isin(chain.demand.growth.coords["sector"].to_numpy())]
    for path, rows, factor in _uncertain_rows(scenario, ds, sampler, "demand_growth"):
        by_sector = ("country", "sector", "year")
        sectors = {k[1] for k in _keys(growth, by_sector) & _keys(rows, by_sector)}
        if not sectors:
            raise _unused(path, "demand_growth", country)
        m = np.ones((factor.shape[0], len(net.sectors)))
        for sector in sectors:
            m[:, sector_of[sector]] = factor
        net.growth = net.growth * m

    for path, rows, factor in _uncertain_rows(scenario, ds, sampler, "facilities"):
        found = _keys(rows, ("facility", "material", "metric", "year"))
        added = np.zeros((factor.shape[0], len(net.processes)))
        used = False
        for j, process in enumerate(net.processes):
            for plant in query.plants(ds, country, materials=PROCESS_MATERIALS[process.id]):
                key = (plant.facility, plant.material, "capacity", str(plant.figure.year))
                if key in found:
                    used = True
                    output = plant.figure.value * units.get(plant.figure.unit).to_base
                    base = process.throughput(output) * net.step_months / 12.0
                    added[:, j] += (factor - 1.0) * base
        if not used:
            raise _unused(path, "facilities", country)
        net.capacity = net.capacity + added[:, None, :]
    return req


def uncertain_paths() -> tuple[str, ...]:
    """Paths of the numbers every compile draws, in a fixed order (Sobol dimensions)."""
    return (
        "parameters.industry_cover_weeks",
        "parameters.upstream_cover_weeks",
        "parameters.restock_months",
        "parameters.nonchina_surge",
        "parameters.row_competition",
        "prices.elasticity",
        "prices.adjustment",
    )
