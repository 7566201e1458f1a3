"""Dynamic stock models of products in use: cohorts, lifetimes, outflows to end-of-life.

:mod:`rareflow.stocks.lifetimes` holds the lifetime distributions and
:mod:`rareflow.stocks.dynamic` the inflow-driven and stock-driven models; see ``docs/stocks.md``.
"""

from __future__ import annotations

from rareflow.stocks.dynamic import inflow_driven, stock_driven
from rareflow.stocks.lifetimes import (
    FixedLifetime,
    Lifetime,
    LognormalLifetime,
    NormalLifetime,
    WeibullLifetime,
    parse_lifetime,
)

__all__ = [
    "FixedLifetime",
    "Lifetime",
    "LognormalLifetime",
    "NormalLifetime",
    "WeibullLifetime",
    "inflow_driven",
    "parse_lifetime",
    "stock_driven",
]
