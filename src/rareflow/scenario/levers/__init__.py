"""Policy levers: one module each, sharing the interface of :class:`LeverBase`."""

from typing import Annotated

from pydantic import Field

from rareflow.scenario.levers.base import CostContext, CostLine, LeverBase
from rareflow.scenario.levers.capacity import PROCESS_IDS, Capacity
from rareflow.scenario.levers.magnet_scheme import MagnetScheme
from rareflow.scenario.levers.stockpile import Stockpile
from rareflow.scenario.levers.supply_contract import SupplyContract

Lever = Annotated[
    Capacity | MagnetScheme | Stockpile | SupplyContract,
    Field(discriminator="type"),
]
"""Any lever, chosen by its ``type`` field."""

LEVER_TYPES: tuple[type[LeverBase], ...] = (Capacity, MagnetScheme, Stockpile, SupplyContract)
"""Every lever class, for listing and documentation."""

__all__ = [
    "LEVER_TYPES",
    "PROCESS_IDS",
    "Capacity",
    "CostContext",
    "CostLine",
    "Lever",
    "LeverBase",
    "MagnetScheme",
    "Stockpile",
    "SupplyContract",
]
