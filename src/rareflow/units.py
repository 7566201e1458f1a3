"""Units: every quantity carries one, and the mass basis is part of it.

Rare-earth tonnages are quoted on different bases that must never be mixed silently: tonnes of
rare-earth oxide (REO), of metal, of alloy, of magnet, or gross tonnes of a product or ore. A unit
here has a *kind* (mass, mass per time, money, price, ...) and, for masses, a *basis*; conversions
between bases are explicit functions elsewhere (stoichiometry, composition, yields), never a unit
conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a unit measures."""

    MASS = "mass"
    MASS_RATE = "mass_rate"
    MONEY = "money"
    PRICE = "price"
    CAPACITY_COST = "capacity_cost"
    """Capital cost per unit of yearly capacity (money per mass per year); the mass basis counts."""
    FRACTION = "fraction"
    RATE = "rate"
    DURATION = "duration"
    COUNT = "count"
    COUNT_RATE = "count_rate"
    POWER = "power"
    INTENSITY = "intensity"
    AREA = "area"
    MOLAR_MASS = "molar_mass"
    INDEX = "index"


class Basis(StrEnum):
    """Mass basis of a tonnage."""

    REO = "reo"
    OXIDE = "oxide"
    METAL = "metal"
    ALLOY = "alloy"
    MAGNET = "magnet"
    GROSS = "gross"
    NONE = "none"


@dataclass(frozen=True)
class Unit:
    """A unit of measure.

    Parameters
    ----------
    symbol
        The identifier used in data files, e.g. ``t_reo_per_year``.
    kind
        What it measures.
    basis
        Mass basis, for masses and mass rates.
    to_base
        Factor to the kind's base unit (tonnes, tonnes per year, USD, days, ...), where one exists.
    description
        Plain words.
    """

    symbol: str
    kind: Kind
    basis: Basis
    to_base: float
    description: str


def _u(symbol: str, kind: Kind, basis: Basis, to_base: float, description: str) -> Unit:
    return Unit(symbol, kind, basis, to_base, description)


DAYS_PER_YEAR = 365.25
"""Days in a (Julian) year: the model's year, month and week are fixed fractions of it."""
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
"""Days in an average month of the Julian year."""
DAYS_PER_WEEK = 7.0
WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK
"""Weeks in a (Julian) year."""

_ALL: tuple[Unit, ...] = (
    _u("t_reo", Kind.MASS, Basis.REO, 1.0, "tonnes of rare-earth oxide equivalent"),
    _u("t_oxide", Kind.MASS, Basis.OXIDE, 1.0, "tonnes of a separated oxide"),
    _u("t_metal", Kind.MASS, Basis.METAL, 1.0, "tonnes of rare-earth metal"),
    _u("kg_metal", Kind.MASS, Basis.METAL, 1e-3, "kilograms of rare-earth metal"),
    _u("t_alloy", Kind.MASS, Basis.ALLOY, 1.0, "tonnes of alloy"),
    _u("t_magnet", Kind.MASS, Basis.MAGNET, 1.0, "tonnes of finished magnet"),
    _u("kg_magnet", Kind.MASS, Basis.MAGNET, 1e-3, "kilograms of finished magnet"),
    _u("t", Kind.MASS, Basis.GROSS, 1.0, "gross tonnes (ore, mineral, product as shipped)"),
    _u("kt", Kind.MASS, Basis.GROSS, 1e3, "thousand gross tonnes"),
    _u("mt", Kind.MASS, Basis.GROSS, 1e6, "million gross tonnes"),
    _u("t_reo_per_year", Kind.MASS_RATE, Basis.REO, 1.0, "tonnes REO per year"),
    _u("t_oxide_per_year", Kind.MASS_RATE, Basis.OXIDE, 1.0, "tonnes of oxide per year"),
    _u("t_metal_per_year", Kind.MASS_RATE, Basis.METAL, 1.0, "tonnes of metal per year"),
    _u("t_alloy_per_year", Kind.MASS_RATE, Basis.ALLOY, 1.0, "tonnes of alloy per year"),
    _u("t_magnet_per_year", Kind.MASS_RATE, Basis.MAGNET, 1.0, "tonnes of magnet per year"),
    _u("kg_magnet_per_year", Kind.MASS_RATE, Basis.MAGNET, 1e-3, "kilograms of magnet per year"),
    _u("t_per_year", Kind.MASS_RATE, Basis.GROSS, 1.0, "gross tonnes per year"),
    _u("usd", Kind.MONEY, Basis.NONE, 1.0, "US dollars"),
    _u("usd_million", Kind.MONEY, Basis.NONE, 1e6, "million US dollars"),
    _u("inr_crore", Kind.MONEY, Basis.NONE, 1.0, "Indian rupees, crore (10 million)"),
    _u("usd_per_kg", Kind.PRICE, Basis.NONE, 1.0, "US dollars per kilogram"),
    _u("usd_per_t", Kind.PRICE, Basis.NONE, 1e-3, "US dollars per tonne"),
    _u(
        "usd_per_t_reo_per_year",
        Kind.CAPACITY_COST,
        Basis.REO,
        1.0,
        "US dollars of capital per tonne REO a year of capacity",
    ),
    _u(
        "usd_per_t_magnet_per_year",
        Kind.CAPACITY_COST,
        Basis.MAGNET,
        1.0,
        "US dollars of capital per tonne of magnet a year of capacity",
    ),
    _u("inr_per_kg", Kind.PRICE, Basis.NONE, 1.0, "Indian rupees per kilogram"),
    _u("inr_per_usd", Kind.PRICE, Basis.NONE, 1.0, "Indian rupees per US dollar"),
    _u("inr_per_unit", Kind.PRICE, Basis.NONE, 1.0, "Indian rupees per unit of product"),
    _u("inr_crore_per_mw", Kind.PRICE, Basis.NONE, 1.0, "Indian rupees, crore, per MW installed"),
    _u("fraction", Kind.FRACTION, Basis.NONE, 1.0, "a share between 0 and 1"),
    _u("fraction_per_year", Kind.RATE, Basis.NONE, 1.0, "growth rate per year (0.1 = 10%)"),
    _u("years", Kind.DURATION, Basis.NONE, DAYS_PER_YEAR, "years"),
    _u("months", Kind.DURATION, Basis.NONE, DAYS_PER_MONTH, "months"),
    _u("weeks", Kind.DURATION, Basis.NONE, DAYS_PER_WEEK, "weeks"),
    _u("days", Kind.DURATION, Basis.NONE, 1.0, "days"),
    _u("count", Kind.COUNT, Basis.NONE, 1.0, "a number of things"),
    _u("units_per_year", Kind.COUNT_RATE, Basis.NONE, 1.0, "products (vehicles, devices) per year"),
    _u("mw", Kind.POWER, Basis.NONE, 1.0, "megawatts"),
    _u("mw_per_year", Kind.COUNT_RATE, Basis.NONE, 1.0, "megawatts installed per year"),
    _u("kg_magnet_per_unit", Kind.INTENSITY, Basis.MAGNET, 1.0, "kg of magnet per product unit"),
    _u("kg_reo_per_unit", Kind.INTENSITY, Basis.REO, 1.0, "kg REO per product unit"),
    _u("t_magnet_per_mw", Kind.INTENSITY, Basis.MAGNET, 1.0, "tonnes of magnet per MW"),
    _u("ha", Kind.AREA, Basis.NONE, 1.0, "hectares"),
    _u("g_per_mol", Kind.MOLAR_MASS, Basis.NONE, 1.0, "grams per mole"),
    _u("index", Kind.INDEX, Basis.NONE, 1.0, "a dimensionless index or score"),
    _u("mgoe", Kind.INDEX, Basis.NONE, 1.0, "energy product, megagauss-oersted"),
)

UNITS: dict[str, Unit] = {u.symbol: u for u in _ALL}


def get(symbol: str) -> Unit:
    """Return the unit with this symbol.

    Raises
    ------
    KeyError
        If the symbol is not a known unit.
    """
    return UNITS[symbol]


def convert(value: float, source: str, target: str) -> float:
    """Convert a value between two units of the same kind and basis.

    Raises
    ------
    ValueError
        If kinds or bases differ: a change of mass basis needs stoichiometry or composition, not a
        unit conversion, and rupees and dollars need an exchange rate.
    """
    a, b = UNITS[source], UNITS[target]
    if a.kind != b.kind or a.basis != b.basis:
        raise ValueError(f"cannot convert {source} to {target}: different kind or mass basis")
    if (
        a.kind in (Kind.MONEY, Kind.PRICE, Kind.CAPACITY_COST)
        and source.split("_", 1)[0] != target.split("_", 1)[0]
    ):
        raise ValueError(f"cannot convert {source} to {target}: needs an exchange rate")
    return value * a.to_base / b.to_base
