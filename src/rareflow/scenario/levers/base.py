"""What every lever shares: its effect on the network and its cost.

A lever module defines a pydantic model with a ``type`` tag and three methods:

- ``partners()``: partner countries the lever adds to the network;
- ``apply(ctx, path)``: write its effect into the network's schedules (capacity, contracts,
  stockpile, demand multipliers, local supply, lead times);
- ``cost(ctx, path)``: its cost lines, each an array (draw, step) in US dollars of the price year,
  computed from the run's results where the cost depends on what happened (purchases, deliveries,
  output).

Costs are reported in US$ and in ₹ crore at the dataset's exchange rate for the price year
(exchange_rates.csv), by year and in total; the sum over years equals the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rareflow.model.network import COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.common import StrictModel
from rareflow.scenario.context import CompileContext
from rareflow.scenario.sampling import Sampler

if TYPE_CHECKING:
    import xarray as xr

    from rareflow.data.load import Dataset

PRICE_YEAR = 2025
"""Year of the prices and exchange rate costs are stated in (USGS MCS 2026 prices for 2025)."""
INR_CRORE = 1e7
"""Rupees in a crore."""


@dataclass(frozen=True)
class CostLine:
    """One cost component of a lever: US$ per step for each draw.

    Parameters
    ----------
    component
        capex, opex, subsidy, purchase, holding, premium or another plain word.
    usd
        (D, T) US dollars of the price year; negative for revenue.
    """

    component: str
    usd: FloatArray


@dataclass(frozen=True)
class CostContext:
    """What a lever's cost model may read."""

    network: Network
    results: xr.Dataset
    dataset: Dataset
    sampler: Sampler

    def usd_per_kg(self, material: str) -> float:
        """Return the dataset's latest USGS price of a material, or NaN if it has none."""
        return float(self.network.base_price[COMMODITY_IDS.index(material)])

    def inr_per_usd(self) -> float:
        """Exchange rate of the price year (exchange_rates.csv)."""
        rates = self.dataset.chosen("exchange_rates")
        row = rates[rates["year"] == PRICE_YEAR]
        if row.empty:
            from rareflow.data.query import latest_rows  # noqa: PLC0415 - pandas, used rarely

            row = latest_rows(rates)
        return float(row["value"].iloc[0])

    def per_draw(self, values: FloatArray) -> FloatArray:
        """Broadcast a (1,) or (D,) array of drawn values to (D, 1)."""
        d_n = self.network.n_draws
        return (
            np.broadcast_to(values.reshape(-1), (d_n,))[:, None]
            if values.size in (1, d_n)
            else values[:, None]
        )


class LeverBase(StrictModel):
    """Base of every lever."""

    name: str = ""

    def partners(self) -> tuple[str, ...]:
        """Partners this lever adds (none by default)."""
        return ()

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Write the lever's effect into the network."""
        raise NotImplementedError  # pragma: no cover - every lever overrides

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Cost lines of the lever (none by default)."""
        del ctx, path
        return []
