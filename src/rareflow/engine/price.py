"""The price block: scarcity pricing with partial adjustment, and demand that answers price.

One rule serves every market rareflow steps: the focal country's magnet market in
:mod:`rareflow.engine.core`, and the world market outside an exporting country in
:mod:`rareflow.engine.market` (the 2010-2014 backtest, which calibrates this block's parameters).

With constant-elasticity demand ``q = q0 * m ** e`` (``e < 0``), the price multiple that clears a
supply-to-requirement ratio ``r < 1`` is ``m* = r ** (1 / e)``, capped at ``max_multiple``; the
multiple moves toward ``m*`` by ``adjustment`` of the gap each step (partial adjustment).
All functions broadcast: pass arrays shaped so that they align (e.g. ``elasticity[:, None]``).
"""

from __future__ import annotations

import numpy as np

from rareflow.model.network import FloatArray

FILL_FLOOR = 1e-12
"""Smallest supply-to-requirement ratio priced: an empty market gets the cap, not a 0 division."""


def demand_response(price: FloatArray, elasticity: FloatArray) -> FloatArray:
    """Share of the requirement that buyers seek at a price multiple: ``price ** elasticity``."""
    return np.asarray(price**elasticity)


def clearing_multiple(fill: FloatArray, elasticity: FloatArray, max_multiple: float) -> FloatArray:
    """Price multiple that would clear ``fill`` (supply / requirement); 1 when supply suffices."""
    clearing = np.minimum(np.maximum(fill, FILL_FLOOR) ** (1.0 / elasticity), max_multiple)
    return np.where(fill < 1.0, clearing, 1.0)


def adjust(price: FloatArray, clearing: FloatArray, adjustment: FloatArray) -> FloatArray:
    """Next step's multiple: ``price + adjustment * (clearing - price)``."""
    return np.asarray(price + adjustment * (clearing - price))
