"""The world market outside an exporting country: the engine's price block, stepped monthly.

Where :mod:`rareflow.engine.core` follows one importing country's chain, this stepper follows the
market that buyers outside a dominant exporter share, in tonnes of rare-earth oxide (REO): what
they need, what the exporter lets out (an export quota), and what mines elsewhere supply. It is the
model behind the 2010-2014 backtest (:mod:`rareflow.analysis.backtest`), where China cut its
export quotas, and it calibrates the price block the engine shares (:mod:`rareflow.engine.price`).

Each month, for every draw:

1. **Requirement** ``R(t) = R0 * (1 + g) ** years * (1 - s(t))``: what buyers outside the
   exporter need; ``g`` is the trend at pre-episode prices, and ``s`` the share of uses that high
   prices have pushed to substitutes or thrifted designs for good (Dy-lean magnets, other
   polishing media). It grows each month by ``thrift * (1 - s) * max(ln m_ref, 0) / 12``, where
   ``m_ref`` is the reference element's multiple, and never falls back.
2. **Supply available**: the exporter's cap ``Q(t)`` (its quota spread over the months of its
   batch) plus other mines' output ``O(t)``; ``fill = (Q + O) / R``.
3. **Prices**: each priced element ``k`` moves toward the multiple that clears ``fill`` with its
   own elasticity ``e_k`` (the same fill for every element: a quota on total REO cuts each
   element's availability alike, a labelled simplification), by ``adjustment`` of the gap each
   month, capped at ``max_multiple``; the multiple is relative to the pre-episode price.
4. **Shipments**: buyers seek ``R * m_ref ** e_ref`` (the engine's demand rule, with the first
   priced element as reference); the exporter ships ``min(Q, max(R * m_ref ** e_ref - O, 0))``: a
   quota is a ceiling, not a target.

Everything is vectorised over draws (the first axis); parameters are ``(D,)`` or ``(D, K)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.engine.price import adjust, clearing_multiple, demand_response
from rareflow.model.network import FloatArray


@dataclass(frozen=True)
class WorldMarket:
    """The market's inputs on a monthly grid of ``T`` months, flows in t REO per month.

    Parameters
    ----------
    months
        (T,) ``datetime64[M]`` labels.
    requirement0
        What buyers outside the exporter needed per month before the episode.
    exporter_cap
        (T,) the most the exporter lets out (its export quota spread over its batch's months).
    other_supply
        (T,) output of mines outside the exporter.
    elements
        Names of the separately priced elements (e.g. ``("Nd", "Dy")``); the first is the
        reference for the demand rule.
    """

    months: np.ndarray
    requirement0: float
    exporter_cap: FloatArray
    other_supply: FloatArray
    elements: tuple[str, ...]

    def __post_init__(self) -> None:
        """Check the series share the grid and are not negative."""
        t_n = len(self.months)
        for name in ("exporter_cap", "other_supply"):
            arr = getattr(self, name)
            if arr.shape != (t_n,):
                raise ValueError(f"{name} has shape {arr.shape}; expected ({t_n},)")
            if np.any(arr < 0) or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite and not negative")
        if not self.requirement0 > 0 or not self.elements:
            raise ValueError("requirement0 must be positive and at least one element priced")


@dataclass(frozen=True)
class MarketParameters:
    """Parameters of the world market, one row per draw.

    Parameters
    ----------
    elasticity
        (D, K) price elasticity of each element (negative).
    adjustment
        (D,) share of the gap to the clearing multiple closed per month.
    max_multiple
        (D,) cap on every multiple.
    growth
        (D,) yearly trend of the requirement at pre-episode prices.
    thrift
        (D,) yearly rate at which high prices move uses away for good, per unit of the log of
        the reference multiple.
    """

    elasticity: FloatArray
    adjustment: FloatArray
    max_multiple: FloatArray
    growth: FloatArray
    thrift: FloatArray


@dataclass(frozen=True)
class MarketPath:
    """A simulated path, ``draw`` first and month second; flows in t REO per month."""

    price: FloatArray  # (D, T, K) multiple of the pre-episode price, during each month
    requirement: FloatArray  # (D, T) after substitution and thrifting
    substituted: FloatArray  # (D, T) share of uses moved away for good
    demand: FloatArray  # (D, T) what buyers sought at the reference element's price
    exporter_shipped: FloatArray  # (D, T)


def simulate_market(market: WorldMarket, params: MarketParameters) -> MarketPath:
    """Step the market over its months for every draw (see the module docstring).

    Mass is conserved each month: the exporter ships at most its cap and no more than buyers
    seek beyond other mines' output; nothing is stored (inventories are not modelled).
    """
    t_n = len(market.months)
    d_n, k_n = params.elasticity.shape
    years = np.arange(t_n, dtype=np.float64) / 12.0
    trend = market.requirement0 * (1.0 + params.growth[:, None]) ** years[None, :]
    supply = market.exporter_cap + market.other_supply
    price = np.ones((d_n, k_n))
    gone = np.zeros(d_n)
    rec = np.empty((d_n, t_n, k_n))
    rec_gone = np.empty((d_n, t_n))
    cap = params.max_multiple[:, None]
    for t in range(t_n):
        rec[:, t] = price
        rec_gone[:, t] = gone
        fill = supply[t] / (trend[:, t] * (1.0 - gone))
        clearing = np.minimum(clearing_multiple(fill[:, None], params.elasticity, np.inf), cap)
        gone = gone + params.thrift * (1.0 - gone) * np.maximum(np.log(price[:, 0]), 0.0) / 12.0
        price = adjust(price, clearing, params.adjustment[:, None])
    requirement = trend * (1.0 - rec_gone)
    demand = requirement * demand_response(rec[:, :, 0], params.elasticity[:, :1])
    shipped = np.minimum(
        market.exporter_cap[None, :], np.maximum(demand - market.other_supply[None, :], 0.0)
    )
    return MarketPath(
        price=rec,
        requirement=requirement,
        substituted=rec_gone,
        demand=demand,
        exporter_shipped=shipped,
    )
