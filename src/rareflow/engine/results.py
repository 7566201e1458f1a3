"""Turn a trajectory into an ``xarray.Dataset`` with named dimensions and units."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.engine.core import Trajectory
from rareflow.model.network import (
    COMMODITIES,
    COMMODITY_IDS,
    TRACKED_ELEMENTS,
    FloatArray,
    Network,
)
from rareflow.model.state import AXES, labels


def to_dataset(traj: Trajectory, net: Network) -> xr.Dataset:
    """Label a trajectory's arrays.

    Every variable has ``draw`` and ``time``; per-material variables carry each material's own
    unit in the ``material_unit`` coordinate, since t REO, t oxide, t metal and t magnet are never
    added together; the ``element_content`` coordinate (material x element, t of element metal
    per unit of the material) converts them to element mass.
    """
    coords = {
        dims.ELEMENT: [e.value for e in TRACKED_ELEMENTS],
        "element_content": ((dims.MATERIAL, dims.ELEMENT), net.content),
        dims.DRAW: net.draws,
        dims.TIME: net.time.astype("datetime64[ns]"),
        dims.SECTOR: [s.value for s in net.sectors],
        dims.MATERIAL: list(COMMODITY_IDS),
        "material_unit": (dims.MATERIAL, [c.unit for c in COMMODITIES]),
        dims.PARTNER: list(net.partners),
        dims.PROCESS: [p.id for p in net.processes],
        dims.SEGMENT: list(net.segments),
        "segment_sector": (
            dims.SEGMENT,
            [net.sectors[int(s)].value for s in net.segment_sector],
        ),
    }
    by_material = (dims.DRAW, dims.TIME, dims.MATERIAL)
    data: dict[str, tuple[tuple[str, ...], FloatArray, str, str]] = {}
    shipped: tuple[tuple[str, ...], FloatArray, str, str] | None = None
    for name, meta in labels(Trajectory).items():
        values = getattr(traj, name)
        if values is None:
            continue
        entry = (meta[AXES], values, str(meta["unit"]), str(meta["description"]))
        if name == "shipped_by_partner":
            shipped = entry  # labelled last, after the network's own flows
            continue
        data[str(meta.get("label", name))] = entry
        if name == "delivered":
            data["shortfall"] = (
                meta[AXES],
                np.maximum(traj.requirement - traj.delivered, 0.0),
                str(meta["unit"]),
                "requirement not delivered",
            )
    local = np.broadcast_to(net.local_supply, (net.n_draws, net.n_steps, len(COMMODITY_IDS)))
    data["local_supply"] = (
        by_material,
        np.array(local),
        "per material_unit",
        "domestic supply without a process: mine feed and recycling",
    )
    recycled = np.zeros((net.n_draws, net.n_steps, len(COMMODITY_IDS)))
    for flows in net.recycled_ledger.values():
        recycled += flows.recovered
    data["recycled"] = (
        by_material,
        recycled,
        "per material_unit",
        "recovered from end-of-life magnets (part of local_supply)",
    )
    if shipped is not None:
        data["shipped"] = shipped
    variables = {
        name: xr.Variable(d, values, attrs={"unit": unit, "description": text})
        for name, (d, values, unit, text) in data.items()
    }
    # The bill never silently drops a material: arrivals without a price are named.
    arrived = np.asarray(traj.imports).sum(axis=(0, 1))
    unpriced = [
        COMMODITY_IDS[k]
        for k in range(len(COMMODITY_IDS))
        if np.isnan(net.base_price[k]) and arrived[k] > 0
    ]
    variables["import_cost"].attrs["unpriced"] = ", ".join(unpriced)
    return xr.Dataset(variables, coords=coords)
