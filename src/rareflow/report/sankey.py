"""Sankey diagrams of the focal country's chain, one mass basis per diagram.

Flows are totals over the horizon, averaged over draws (means add up; medians do not). Tonnes of
magnet, of oxide and of metal are never added together:

- the magnet diagram (t magnet) runs from partners and domestic magnet plants through the
  country's magnet supply to its sectors, with the requirement left unmet drawn as its own source
  so that each sector's bar is its whole requirement; the baseline run is drawn beside the shock;
- the NdPr diagram draws NdPr oxide (t oxide) and NdPr metal (t metal) side by side.

Arrivals are split by partner in proportion to the partners' shipments. What domestic plants make
and use comes from their throughput times their recipes (inputs and outputs per unit, from
stoichiometry and magnet composition); the change in stock is what balances the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from rareflow import dims, display
from rareflow.data.load import Dataset
from rareflow.dims import PROCESS
from rareflow.model.network import MAGNETS, Process
from rareflow.report import style
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.schema import Scenario

NDPR = ("oxide_ndpr", "metal_ndpr")
"""Materials of the NdPr diagram, one panel each."""
_TINY = 1e-9


_RECIPES: dict[tuple[str, str], tuple[Process, ...]] = {}
"""Recipes by (data version, scenario without draws and seed): compiling takes a second."""


def process_recipes(scenario: Scenario, dataset: Dataset) -> tuple[Process, ...]:
    """Return the domestic processes and their recipes, as the engine compiled them."""
    # One draw is enough: recipes come from the dataset, not from the uncertain inputs.
    key = (dataset.version, scenario.model_dump_json(exclude={"draws", "seed", "name"}))
    if key not in _RECIPES:
        if len(_RECIPES) > 64:
            _RECIPES.clear()
        _RECIPES[key] = compile_scenario(scenario, np.array([0]), dataset).network.processes
    return _RECIPES[key]


@dataclass
class Flows:
    """Flows into and out of one node of the chain, in one unit.

    Parameters
    ----------
    centre
        Name of the node.
    unit
        The mass basis of every flow.
    sources, sinks
        Flows in and out, by name of the other end.
    unmet
        Requirement not delivered, by sector (magnet diagram only).
    """

    centre: str
    unit: str
    sources: dict[str, float] = field(default_factory=dict)
    sinks: dict[str, float] = field(default_factory=dict)
    unmet: dict[str, float] = field(default_factory=dict)

    def add(self, side: dict[str, float], name: str, value: float) -> None:
        """Add a flow, skipping what rounds to nothing."""
        if value > _TINY:
            side[name] = side.get(name, 0.0) + value


def _total(da: xr.DataArray) -> xr.DataArray:
    """Sum over time, mean over draws."""
    return da.sum(dims.TIME).mean(dims.DRAW)


def node_flows(
    results: xr.Dataset,
    materials: Sequence[str],
    processes: Sequence[Process],
    centre: str,
) -> Flows:
    """Collect the flows through a node that holds some materials on one basis.

    Parameters
    ----------
    results
        A run's results.
    materials
        Materials of the node; they must share a unit.
    processes
        Domestic processes with their recipes (:func:`process_recipes`).
    centre
        Name of the node.

    Raises
    ------
    ValueError
        If the materials are on different bases.
    """
    units = {str(results["material_unit"].sel(material=m).item()) for m in materials}
    if len(units) != 1:
        raise ValueError(f"materials {list(materials)} are on different bases {sorted(units)}")
    flows = Flows(centre, units.pop())
    mats = list(materials)
    country = str(results.attrs.get("country", ""))
    arrivals = _total(results["imports"].sel(material=mats))
    if "shipped" in results and results.sizes.get(dims.PARTNER, 0):
        shipped = _total(results["shipped"].sel(material=mats))
        share = shipped / shipped.sum(dims.PARTNER).where(shipped.sum(dims.PARTNER) > 0)
        by_partner = (arrivals * share.fillna(0.0)).sum(dims.MATERIAL)
        for partner in by_partner[dims.PARTNER].to_numpy():
            flows.add(flows.sources, f"{partner} imports", float(by_partner.sel(partner=partner)))
        unsplit = float(arrivals.sum()) - float(by_partner.sum())
        flows.add(flows.sources, "imports (partner unknown)", unsplit)
    else:
        flows.add(flows.sources, "imports", float(arrivals.sum()))
    throughput = _total(results["production"])
    for p in processes:
        run = float(throughput.sel({PROCESS: p.id}))
        made = run * sum(p.outputs.get(m, 0.0) for m in mats)
        used = run * sum(p.inputs.get(m, 0.0) for m in mats)
        flows.add(flows.sources, f"made in {country} ({style.label(p.id)})", made)
        flows.add(flows.sinks, f"to {country} {style.label(p.id)} plants", used)
    flows.add(flows.sinks, "exported", float(_total(results["exported"].sel(material=mats)).sum()))
    if set(mats) <= set(MAGNETS):
        delivered = _total(results["delivered"])
        unmet = _total(results["shortfall"])
        for sector in delivered[dims.SECTOR].to_numpy():
            flows.add(flows.sinks, style.label(str(sector)), float(delivered.sel(sector=sector)))
            flows.add(flows.unmet, style.label(str(sector)), float(unmet.sel(sector=sector)))
    balance = sum(flows.sources.values()) - sum(flows.sinks.values())
    if balance >= 0:
        flows.add(flows.sinks, "added to stock", balance)
    else:
        flows.add(flows.sources, "drawn from stock", -balance)
    return flows


def _colour(name: str) -> str:
    partner = name.split(" ", maxsplit=1)[0]
    if name.endswith("imports"):
        return style.PARTNER_COLOURS.get(partner, style.OTHER_PARTNER)
    if name.startswith("made in"):
        return "#66a61e"
    if name in ("added to stock", "drawn from stock", "exported"):
        return "#999999"
    return "#4a6fa5"


def sankey_trace(flows: Flows, domain_x: tuple[float, float]) -> go.Sankey:
    """Draw one node's flows as a Sankey trace in a horizontal slice of the figure."""
    unit = style.unit_label(flows.unit)
    unmet_node = "requirement not met"
    names = [*flows.sources, flows.centre, *flows.sinks]
    if flows.unmet:
        names += [unmet_node, *(s for s in flows.unmet if s not in flows.sinks)]
    index = {n: i for i, n in enumerate(names)}
    src: list[int] = []
    tgt: list[int] = []
    val: list[float] = []
    colours: list[str] = []
    for name, value in flows.sources.items():
        src.append(index[name])
        tgt.append(index[flows.centre])
        val.append(value)
        colours.append(style.rgba(_colour(name), 0.45))
    for name, value in flows.sinks.items():
        src.append(index[flows.centre])
        tgt.append(index[name])
        val.append(value)
        colours.append(style.NEUTRAL if _colour(name) == "#999999" else "rgba(74, 111, 165, 0.4)")
    for name, value in flows.unmet.items():
        src.append(index[unmet_node])
        tgt.append(index[name])
        val.append(value)
        colours.append(style.UNMET)
    node_colours = [_colour(n) for n in names]
    node_colours[index[flows.centre]] = "#333333"
    if flows.unmet:
        node_colours[index[unmet_node]] = style.SHOCK
    return go.Sankey(
        domain={"x": list(domain_x), "y": [0.0, 0.92]},
        valueformat=",.0f",
        valuesuffix=f" {unit}",
        node={"label": names, "color": node_colours, "pad": 12, "thickness": 14},
        link={"source": src, "target": tgt, "value": val, "color": colours},
    )


def _panels(panels: list[tuple[str, Flows]], title: str, height: int = 520) -> go.Figure:
    """Put Sankey traces side by side, each with a heading.

    A panel without any flow (e.g. NdPr metal in a country with no metal plant and no metal
    imports) is not drawn: an empty Sankey breaks plotly.js ("Invalid array length"). The title
    names what was left out.
    """
    fig = go.Figure()
    empty = [heading for heading, flows in panels if not (flows.sources or flows.sinks)]
    panels = [(heading, flows) for heading, flows in panels if flows.sources or flows.sinks]
    if empty:
        title += f"; no flows of {', '.join(empty)}"
    width = 1.0 / max(len(panels), 1)
    for n, (heading, flows) in enumerate(panels):
        x0, x1 = n * width + (0.02 if n else 0.0), (n + 1) * width - 0.02
        fig.add_trace(sankey_trace(flows, (x0, x1)))
        fig.add_annotation(
            text=f"<b>{heading}</b>", x=(x0 + x1) / 2, y=1.0, xref="paper", yref="paper",
            showarrow=False, xanchor="center", yanchor="bottom",
        )  # fmt: skip
    fig.update_layout(**style.layout(title, height=height))
    return fig


def magnet_sankey(
    shock: xr.Dataset,
    baseline: xr.Dataset | None,
    processes: Sequence[Process],
    names: tuple[str, str] = ("shock", "baseline"),
) -> go.Figure:
    """Magnet flows (t magnet) from partners to sectors, the shock beside its baseline.

    Parameters
    ----------
    shock, baseline
        Results of the run and of its baseline (None: the run alone).
    processes
        Domestic processes with their recipes (:func:`process_recipes`).
    names
        Headings of the two panels.
    """
    country = str(shock.attrs.get("country", ""))
    centre = f"{country} magnet supply"
    panels = []
    for heading, res in ((names[0], shock), (names[1], baseline)):
        if res is None:
            continue
        flows = node_flows(res, MAGNETS, processes, centre)
        unmet = sum(flows.unmet.values())
        need = unmet + sum(v for k, v in flows.sinks.items() if k in flows.unmet)
        pct = f", {100 * unmet / need:.0f}% of the requirement unmet" if need > 0 else ""
        panels.append((f"{heading}{pct}", flows))
    times = shock[dims.TIME].to_numpy()
    span = f"{display.month(times[0])}-{display.month(times[-1])}"
    return _panels(
        panels,
        f"Magnets in {country}, {span}: where they came from and where they went "
        "(t magnet, mean of draws)",
    )


def ndpr_sankey(results: xr.Dataset, processes: Sequence[Process], heading: str) -> go.Figure:
    """NdPr oxide (t oxide) and NdPr metal (t metal) flows side by side, for one run."""
    country = str(results.attrs.get("country", ""))
    panels = []
    for material in NDPR:
        unit = str(results["material_unit"].sel(material=material).item())
        flows = node_flows(results, [material], processes, f"{country} {style.label(material)}")
        panels.append((f"{style.label(material)} ({style.unit_label(unit)})", flows))
    return _panels(
        panels,
        f"NdPr upstream in {country} ({heading}): oxide and metal, each in its own unit, "
        "over the horizon (mean of draws)",
        height=440,
    )
