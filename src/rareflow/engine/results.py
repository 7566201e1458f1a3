"""Turn a trajectory into an ``xarray.Dataset`` with named dimensions and units."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.engine.core import Trajectory
from rareflow.model.network import COMMODITIES, COMMODITY_IDS, TRACKED_ELEMENTS, Network

PROCESS = "process"
"""Dimension of domestic processes (results only)."""


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
        PROCESS: [p.id for p in net.processes],
    }
    by_sector = (dims.DRAW, dims.TIME, dims.SECTOR)
    by_material = (dims.DRAW, dims.TIME, dims.MATERIAL)
    shortfall = np.maximum(traj.requirement - traj.delivered, 0.0)
    data = {
        "requirement": (
            by_sector,
            traj.requirement,
            "t_magnet",
            "magnet needed for planned production",
        ),
        "demand": (by_sector, traj.demand, "t_magnet", "magnet sought after the price response"),
        "delivered": (by_sector, traj.delivered, "t_magnet", "magnet delivered to the sector"),
        "shortfall": (by_sector, shortfall, "t_magnet", "requirement not delivered"),
        "stock": (
            by_material,
            traj.stock,
            "per material_unit",
            "focal industry stock, end of step",
        ),
        "imports": (by_material, traj.imports, "per material_unit", "arrivals from all partners"),
        "refused": (by_material, traj.refused, "per material_unit", "licence applications refused"),
        "exported": (
            by_material,
            traj.exported,
            "per material_unit",
            "domestic surplus sold abroad",
        ),
        "price_multiple": (
            by_material,
            traj.price_multiple,
            "index",
            "price relative to the baseline",
        ),
        "stockpile": (
            by_material,
            traj.stockpile,
            "per material_unit",
            "government stockpile, end of step",
        ),
        "stockpile_in": (
            by_material,
            traj.stockpile_in,
            "per material_unit",
            "bought into the stockpile",
        ),
        "stockpile_out": (
            by_material,
            traj.stockpile_out,
            "per material_unit",
            "released from the stockpile",
        ),
        "production": (
            (dims.DRAW, dims.TIME, PROCESS),
            traj.production,
            "per process output",
            "throughput of domestic processes",
        ),
        "import_cost": (
            (dims.DRAW, dims.TIME),
            traj.import_cost_usd,
            "usd",
            "value of arrivals of priced materials at the scarcity price",
        ),
    }
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
    if traj.shipped_by_partner is not None:
        data["shipped"] = (
            (dims.DRAW, dims.TIME, dims.PARTNER, dims.MATERIAL),
            traj.shipped_by_partner,
            "per material_unit",
            "shipments by partner",
        )
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
