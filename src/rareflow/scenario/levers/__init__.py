"""Policy levers: one module each, one class per module, registered by defining it.

Every module of this package is imported here, so a lever class registers itself
(:data:`rareflow.scenario.levers.base.REGISTRY`) and joins the scenario schema's :data:`Lever`
union without any list to edit. See :mod:`rareflow.scenario.levers.base` for the protocol.
"""

from __future__ import annotations

import functools
import importlib
import operator
import pkgutil
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from rareflow.scenario.levers.base import REGISTRY, CostContext, CostLine, LeverBase

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

LEVER_TYPES: tuple[type[LeverBase], ...] = tuple(REGISTRY[tag] for tag in sorted(REGISTRY))
"""Every lever class, by type tag."""

if TYPE_CHECKING:
    Lever = LeverBase
else:
    Lever = Annotated[functools.reduce(operator.or_, LEVER_TYPES), Field(discriminator="type")]
    """Any lever, chosen by its ``type`` field."""

__all__ = ["LEVER_TYPES", "CostContext", "CostLine", "Lever", "LeverBase"]
