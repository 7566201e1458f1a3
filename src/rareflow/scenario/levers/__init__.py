"""Policy levers: one module each, sharing the interface of :class:`LeverBase`."""

from typing import Annotated

from pydantic import Field

from rareflow.scenario.levers.base import CostContext, CostLine, LeverBase
from rareflow.scenario.levers.bioleaching import Bioleaching
from rareflow.scenario.levers.capacity import PROCESS_IDS, Capacity
from rareflow.scenario.levers.consortium import Consortium
from rareflow.scenario.levers.exploration_pipeline import ExplorationPipeline
from rareflow.scenario.levers.finance import Finance
from rareflow.scenario.levers.magnet_cluster import MagnetCluster
from rareflow.scenario.levers.magnet_scheme import MagnetScheme
from rareflow.scenario.levers.partner_capacity import PartnerCapacity
from rareflow.scenario.levers.private_blocks import PrivateBlocks
from rareflow.scenario.levers.private_buffer import PrivateBuffer
from rareflow.scenario.levers.recycling import Recycling
from rareflow.scenario.levers.regulatory_reform import RegulatoryReform
from rareflow.scenario.levers.south_south_corridor import SouthSouthCorridor
from rareflow.scenario.levers.stockpile import Stockpile
from rareflow.scenario.levers.substitution import Substitution
from rareflow.scenario.levers.supply_contract import SupplyContract
from rareflow.scenario.levers.technology_tie import TechnologyTie

Lever = Annotated[
    Capacity
    | MagnetScheme
    | Stockpile
    | SupplyContract
    | Substitution
    | PrivateBuffer
    | Finance
    | RegulatoryReform
    | TechnologyTie
    | PartnerCapacity
    | MagnetCluster
    | ExplorationPipeline
    | Consortium
    | PrivateBlocks
    | SouthSouthCorridor
    | Bioleaching
    | Recycling,
    Field(discriminator="type"),
]
"""Any lever, chosen by its ``type`` field."""

LEVER_TYPES: tuple[type[LeverBase], ...] = (
    Capacity,
    MagnetScheme,
    Stockpile,
    SupplyContract,
    Substitution,
    PrivateBuffer,
    Finance,
    RegulatoryReform,
    TechnologyTie,
    PartnerCapacity,
    MagnetCluster,
    ExplorationPipeline,
    Consortium,
    PrivateBlocks,
    SouthSouthCorridor,
    Bioleaching,
    Recycling,
)
"""Every lever class, for listing and documentation."""

__all__ = [
    "LEVER_TYPES",
    "PROCESS_IDS",
    "Bioleaching",
    "Capacity",
    "Consortium",
    "CostContext",
    "CostLine",
    "ExplorationPipeline",
    "Finance",
    "Lever",
    "LeverBase",
    "MagnetCluster",
    "MagnetScheme",
    "PartnerCapacity",
    "PrivateBlocks",
    "PrivateBuffer",
    "Recycling",
    "RegulatoryReform",
    "SouthSouthCorridor",
    "Stockpile",
    "Substitution",
    "SupplyContract",
    "TechnologyTie",
]
