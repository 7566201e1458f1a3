"""How ids, units and values are written for a reader: one mapping for tables, report, dashboard.

Sectors, materials, processes, measures and units have ids that suit files and code (``ev_car``,
``t_magnet``, ``top3_share``); a reader sees names (``Electric cars``, ``t magnet``, ``Share of
the three largest suppliers``). :func:`name` and :func:`unit` give them, :func:`cell` writes a
value for a table (no ``None``, no ``2025.0``), :func:`month` writes a month, and
:func:`usd_inr` writes money in US$ with ₹ crore beside it. :func:`header` and :func:`text` do
the same for the CLI's tables (the JSON and CSV outputs keep the ids).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
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
    "tts_weeks": "Time to survive (weeks)",
    "ttr_weeks": "Time to recover (weeks)",
    "tts": "Time to survive",
    "ttr": "Time to recover",
    "performance_impact": "Performance impact",
    "lost_demand": "Lost demand",
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
    # lever types (scenario/levers; a type not listed is written as words)
    "capacity": "New domestic capacity",
    "consortium": "State-firm consortium",
    "finance": "Finance for a private plant",
    "magnet_cluster": "Magnet cluster (SEZ)",
    "magnet_scheme": "Magnet incentive scheme",
    "partner_capacity": "Plant at a partner",
    "private_blocks": "Private mining blocks",
    "private_buffer": "Industry magnet buffer",
    "regulatory_reform": "Regulatory reform",
    "south_south_corridor": "South-South corridor",
    "stockpile": "Government stockpile",
    "supply_contract": "Supply contract",
    "technology_tie": "Technology tie-up",
    # countries and partners (countries.csv, short names)
    "ARG": "Argentina",
    "AUS": "Australia",
    "BRA": "Brazil",
    "CAN": "Canada",
    "CHN": "China",
    "DEU": "Germany",
    "EST": "Estonia",
    "EUU": "European Union",
    "FIN": "Finland",
    "FRA": "France",
    "GBR": "United Kingdom",
    "GRL": "Greenland",
    "IND": "India",
    "ITA": "Italy",
    "JPN": "Japan",
    "KOR": "South Korea",
    "MDG": "Madagascar",
    "MMR": "Myanmar",
    "MWI": "Malawi",
    "MYS": "Malaysia",
    "NLD": "Netherlands",
    "LTU": "Lithuania",
    "PHL": "Philippines",
    "NGA": "Nigeria",
    "NOR": "Norway",
    "ROW": "Rest of world",
    "RUS": "Russia",
    "SWE": "Sweden",
    "THA": "Thailand",
    "TZA": "Tanzania",
    "USA": "United States",
    "VNM": "Vietnam",
    "WLD": "World",
    "ZAF": "South Africa",
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
    "usd_per_t_reo_per_year": "US$ per t REO a year of capacity",
    "usd_per_t_magnet_per_year": "US$ per t magnet a year of capacity",
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


def in_sentence(identifier: object) -> str:
    """Return the display name as written inside a sentence (``electric cars``).

    Names that open with an abbreviation (``SmCo magnets``, ``NdPr oxide``) and abbreviations
    further on (``Appliances (room ACs)``) keep their capitals.
    """
    text = name(identifier)
    if any(c.isupper() for c in text.split(" ")[0][1:]):
        return text
    return text[:1].lower() + text[1:]


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
        value = np.datetime64(value.replace(" ", "T"))
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[D]").astype(object)
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
    if isinstance(value, datetime | date | np.datetime64):
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
    out = type(table)(index=table.index)
    for col in table.columns:
        values = table[col]
        if len(values) and values.map(lambda v: isinstance(v, str) and v in NAMES).all():
            out[name(col)] = values.map(name)
        else:
            out[name(col)] = values.map(lambda v: cell(v, digits))
    return out


ID_COLUMNS = frozenset(
    {
        "sector",
        "sectors",
        "material",
        "materials",
        "partner",
        "partners",
        "country",
        "exporter",
        "importer",
        "supplier",
        "lever",
        "levers",
        "measure",
        "indicator",
        "variable",
    }
)
"""CLI table columns whose cells are ids (compared without a unit in brackets)."""

_MONTH = re.compile(r"(?<![\d-])(\d{4})-(0[1-9]|1[0-2])(?![\d-])")
_LEVER_AT = re.compile(r"^([a-z][a-z0-9_]*)\[(\d+)\]$")
_HEADER_WORDS = (
    ("Rs crore", "₹ crore"),
    ("INR crore", "₹ crore"),
    ("US$ m)", "US$ million)"),
    ("US$ M)", "US$ million)"),
    ("t/month", "t a month"),
    ("per step", "a month"),
)


def months_in(text: str) -> str:
    """Write every ``YYYY-MM`` in a text as a month (``2025-05`` -> ``May 2025``)."""
    return _MONTH.sub(lambda m: month(f"{m[1]}-{m[2]}"), text)


def header(column: str) -> str:
    """Return a CLI table's column header as written for a reader.

    An id (``hhi_min``, ``value_usd``) becomes its name; currency and time words are spelled
    the same way everywhere (₹ crore, US$ million, a month).
    """
    if column in NAMES:
        return NAMES[column]
    if "_" in column and " " not in column:
        return name(column)
    for old, new in _HEADER_WORDS:
        column = column.replace(old, new)
    return column


def text(column: str, value: str) -> str:
    """Return a CLI table's text cell as written for a reader.

    In an id column (:data:`ID_COLUMNS`), an id (or a list of ids separated by ``, ``) becomes
    its name, and a lever's label ``type[i]`` becomes ``Name (lever i+1)``; months are written
    as months in every cell.
    """
    key = column.split(" (", maxsplit=1)[0].strip().lower()
    if key in ID_COLUMNS:
        parts = value.split(", ")
        if all(p in NAMES for p in parts):
            return ", ".join(NAMES[p] for p in parts)
        lever = _LEVER_AT.match(value)
        if lever:
            return f"{name(lever[1])} (lever {int(lever[2]) + 1})"
    return months_in(value)
