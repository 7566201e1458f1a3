"""How ids, units and values are written for a reader: one mapping for tables, report and dashboard.

Sectors, materials, processes, measures and units have ids that suit files and code (``ev_car``,
``t_magnet``, ``top3_share``); a reader sees names (``Electric cars``, ``t magnet``, ``Share of
the three largest suppliers``). :func:`name` and :func:`unit` give them, :func:`cell` writes a
value for a table (no ``None``, no ``2025.0``), :func:`month` writes a month, and
:func:`usd_inr` writes money in US$ with ₹ crore beside it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

INR_CRORE = 1e7
"""Rupees in a crore."""

NAMES: dict[str, str] = {
    # sectors (ids.Sector)
    "ev_car": "Electric cars",
    "ev_bus": "Electric buses",
    "two_wheeler": "Two-wheelers",
    "three_wheeler": "Three-wheelers",
    "ice_vehicle": "Combustion-engine vehicles",
    "wind": "Wind turbines",
    "electronics": "Electronics",
    "industrial_motors": "Industrial motors",
    "medical": "Medical devices",
    "defence": "Defence",
    "appliances": "Appliances (room ACs)",
    # materials (model.network.COMMODITIES)
    "concentrate_mixed": "Mixed concentrate",
    "oxide_ndpr": "NdPr oxide",
    "oxide_dy": "Dy oxide",
    "oxide_tb": "Tb oxide",
    "oxide_sm": "Sm oxide",
    "metal_ndpr": "NdPr metal",
    "metal_dy": "Dy metal",
    "metal_tb": "Tb metal",
    "metal_sm": "Sm metal",
    "magnet_ndfeb_sintered": "Sintered NdFeB magnets",
    "magnet_ndfeb_bonded": "Bonded NdFeB magnets",
    "magnet_smco": "SmCo magnets",
    # measures of the indicator tables
    "hhi": "HHI (0-1)",
    "hhi_min": "Lowest HHI possible with the named suppliers (0-1)",
    "top1_share": "Largest supplier's share",
    "top3_share": "Share of the three largest suppliers",
    "residual_share": "Share not attributed to a country",
    "net_import_reliance": "Net import reliance",
    "net_import_reliance_low": "Net import reliance, low estimate",
    # result variables
    "requirement": "Magnet requirement",
    "demand": "Magnet demand after the price response",
    "delivered": "Magnets delivered",
    "shortfall": "Magnet shortfall",
    "stock": "Industry stock",
    "imports": "Imports",
    "price_multiple": "Price, multiple of the pre-shock price",
    "import_cost": "Import bill at scarcity prices",
    "lever_cost": "Lever cost",
    # partners often shown
    "ROW": "Rest of world",
    "CHN": "China",
    "IND": "India",
    "JPN": "Japan",
    "USA": "United States",
    "AUS": "Australia",
    "MYS": "Malaysia",
    "VNM": "Vietnam",
    "MMR": "Myanmar",
    "DEU": "Germany",
    "KOR": "South Korea",
    "EST": "Estonia",
    "BRA": "Brazil",
}
"""Display names by id."""

_WORDS = {"ndfeb": "NdFeB", "ndpr": "NdPr", "smco": "SmCo", "ev": "EV", "ice": "ICE"}
_WORDS |= {"dy": "Dy", "tb": "Tb", "sm": "Sm", "reo": "REO", "usd": "US$", "inr": "₹"}

UNITS: dict[str, str] = {
    "t_reo": "t REO",
    "t_oxide": "t oxide",
    "t_metal": "t metal",
    "t_alloy": "t alloy",
    "t_magnet": "t magnet",
    "kg_magnet": "kg magnet",
    "t_magnet_per_year": "t magnet a year",
    "t_per_year": "t a year",
    "usd": "US$",
    "usd_2025": "US$ (2025)",
    "usd_million": "US$ million",
    "inr_crore": "₹ crore",
    "usd_per_kg": "US$/kg",
    "inr_per_kg": "₹/kg",
    "fraction": "share (0-1)",
    "fraction_per_year": "share a year",
    "index": "× pre-shock price",
    "months": "months",
    "weeks": "weeks",
    "days": "days",
    "years": "years",
    "month": "months",
    "share": "share, 0-1",
    "share/yr": "share a year",
    "USD/kg": "US$/kg",
    "t/yr": "t a year",
    "INR crore": "₹ crore",
}
"""Display units by unit id (units.py); a unit not listed is written with spaces for ``_``."""


def name(identifier: object) -> str:
    """Return the display name of an id (``ev_car`` -> ``Electric cars``).

    An id without an entry is written as words with known abbreviations spelled out
    (``magnet_ndfeb_sintered`` -> ``Magnet NdFeB sintered``).
    """
    text = str(identifier)
    if text in NAMES:
        return NAMES[text]
    words = [_WORDS.get(w, w) for w in text.split("_")]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def unit(identifier: object) -> str:
    """Return a unit id as written for a reader (``t_magnet`` -> ``t magnet``)."""
    text = str(identifier)
    if text in UNITS:
        return UNITS[text]
    if " per " in text:
        head, tail = text.split(" per ", 1)
        return f"{unit(head)} a {tail}" if tail in {"month", "year"} else f"{unit(head)} per {tail}"
    if text.startswith("t_") and text[2:] in {"reo", "oxide", "metal", "alloy", "magnet"}:
        return f"t {text[2:].upper() if text[2:] == 'reo' else text[2:]}"
    return text.replace("_per_", "/").replace("_", " ")


def month(value: object) -> str:
    """Return a month as ``Apr 2025`` (from a date, a timestamp, or ``2025-04`` text)."""
    if isinstance(value, str):
        value = pd.Timestamp(value)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime | date):
        return f"{value:%b %Y}"
    return str(value)


def cell(value: Any, digits: int = 1) -> str:
    """Return a table cell: no ``None``/``nan`` (a dash), whole numbers without ``.0``."""
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "–"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.{digits}f}"
    if isinstance(value, pd.Timestamp | np.datetime64):
        return month(value)
    return str(value)


def crore(usd: float, inr_per_usd: float) -> float:
    """Return US$ as ₹ crore at an exchange rate (₹ per US$)."""
    return usd * inr_per_usd / INR_CRORE


def usd_inr(usd: float, inr_per_usd: float | None) -> str:
    """Return money as ``US$90.8 million (₹776 crore)``; the rupees only if a rate is given."""
    if abs(usd) >= 1e9:
        text = f"US${usd / 1e9:,.2f} billion"
    elif abs(usd) >= 1e6:
        text = f"US${usd / 1e6:,.1f} million"
    else:
        text = f"US${usd:,.0f}"
    if inr_per_usd:
        text += f" (₹{crore(usd, inr_per_usd):,.0f} crore)"
    return text


def frame(table: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Return a table for display: headers and id values as names, every cell as :func:`cell`."""
    out = pd.DataFrame(index=table.index)
    for col in table.columns:
        values = table[col]
        if len(values) and values.map(lambda v: isinstance(v, str) and v in NAMES).all():
            out[name(col)] = values.map(name)
        else:
            out[name(col)] = values.map(lambda v: cell(v, digits))
    return out
