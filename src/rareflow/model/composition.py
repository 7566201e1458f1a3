"""Element contents: oxide stoichiometry, ore element shares, magnet composition.

These convert between mass bases explicitly (t REO, t oxide, t metal, t magnet); nothing else in
rareflow may change a mass basis.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.data.load import Dataset
from rareflow.ids import Element

OXYGEN_G_PER_MOL = 15.999
"""Standard atomic weight of oxygen, conventional value (CIAAW, 'Standard atomic weights', 2021)."""


def metal_fraction_of_oxide(dataset: Dataset) -> xr.DataArray:
    """Mass fraction of metal in each element's oxide, from stoichiometry.

    For an oxide M_a O_b, the fraction is ``a·A(M) / (a·A(M) + b·A(O))`` with standard atomic
    weights (elements.csv; oxygen from CIAAW 2021). Nd2O3 gives 0.857.

    Returns
    -------
    xarray.DataArray
        Dimension ``element``, unit ``t_metal per t_oxide``.
    """
    el = dataset.table("elements").set_index("element")
    metal = el["oxide_metal_atoms"].astype(float) * el["atomic_weight_g_per_mol"].astype(float)
    oxygen = el["oxide_oxygen_atoms"].astype(float) * OXYGEN_G_PER_MOL
    frac = metal / (metal + oxygen)
    out = xr.DataArray(
        frac.to_numpy(), coords={dims.ELEMENT: frac.index.to_numpy()}, dims=[dims.ELEMENT]
    )
    out.attrs["unit"] = "t_metal per t_oxide"
    return out


def ore_element_shares(dataset: Dataset) -> xr.DataArray:
    """Share of each element in each mining country's REO output.

    The product of the country's deposit-type mix (country_deposit_mix.csv) and each deposit
    type's element distribution (deposit_element_shares.csv); it sums to 1 per country.

    Returns
    -------
    xarray.DataArray
        Dimensions ``country``, ``element``; unit fraction of REO.
    """
    mix = dataset.chosen("country_deposit_mix")[["country", "deposit_type", "value"]]
    shares = dataset.chosen("deposit_element_shares")[["deposit_type", "element", "value"]]
    merged = mix.merge(shares, on="deposit_type", suffixes=("_mix", "_share"))
    merged["share"] = merged["value_mix"] * merged["value_share"]
    table = merged.pivot_table(
        index="country", columns="element", values="share", aggfunc="sum", fill_value=0.0
    )
    table = table.reindex(columns=[e.value for e in Element], fill_value=0.0)
    # Each deposit's published shares sum to 1 within rounding; renormalise so mass is conserved.
    table = table.div(table.sum(axis=1), axis=0)
    out = xr.DataArray(
        table.to_numpy(),
        coords={dims.COUNTRY: table.index.to_numpy(), dims.ELEMENT: table.columns.to_numpy()},
        dims=[dims.COUNTRY, dims.ELEMENT],
    )
    out.attrs["unit"] = "fraction of REO"
    return out


def magnet_element_content(dataset: Dataset) -> xr.DataArray:
    """Typical mass fraction of each rare-earth element in each magnet or alloy material.

    Returns
    -------
    xarray.DataArray
        Dimensions ``material``, ``element``; unit t of element metal per t of magnet.
    """
    comp = dataset.chosen("magnet_composition")
    comp = comp[(comp["metric"] == "typical") & comp["component"].isin([e.value for e in Element])]
    table: pd.DataFrame = comp.pivot_table(
        index="material", columns="component", values="value", aggfunc="sum", fill_value=0.0
    )
    table = table.reindex(columns=[e.value for e in Element], fill_value=0.0)
    out = xr.DataArray(
        table.to_numpy(),
        coords={dims.MATERIAL: table.index.to_numpy(), dims.ELEMENT: table.columns.to_numpy()},
        dims=[dims.MATERIAL, dims.ELEMENT],
    )
    out.attrs["unit"] = "t_metal per t_magnet"
    return out


def material_elements(dataset: Dataset, material: str) -> frozenset[Element]:
    """Rare-earth elements a material carries: its own element, its family, or its composition."""
    mats = dataset.table("materials").set_index("material")
    if material not in mats.index:
        return frozenset()
    row = mats.loc[material]
    if isinstance(row["element"], str) and row["element"]:
        return frozenset({Element(row["element"])})
    if row["family"] == "ndpr":
        return frozenset({Element.Nd, Element.Pr})
    comp = dataset.chosen("magnet_composition")
    comp = comp[(comp["material"] == material) & (comp["metric"] == "typical")]
    found = {
        Element(c)
        for c, v in zip(comp["component"], comp["value"], strict=True)
        if c in Element.__members__ and v > 0
    }
    return frozenset(found)
