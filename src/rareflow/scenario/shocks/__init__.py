"""Shocks: one module each, sharing ``partners()`` and ``apply(ctx, index, path)``."""

from typing import Annotated

from pydantic import Field

from rareflow.scenario.shocks.export_control import ExportControl, LicencePhase
from rareflow.scenario.shocks.supply_cut import SupplyCut

Shock = Annotated[ExportControl | SupplyCut, Field(discriminator="type")]
"""Any shock, chosen by its ``type`` field."""

SHOCK_TYPES: tuple[type[ExportControl | SupplyCut], ...] = (ExportControl, SupplyCut)
"""Every shock class."""

__all__ = ["SHOCK_TYPES", "ExportControl", "LicencePhase", "Shock", "SupplyCut"]
