"""Policy levers: one module each, sharing ``partners()`` and ``apply(ctx, path)``."""

from typing import Annotated

from pydantic import Field

from rareflow.scenario.levers.capacity import PROCESS_IDS, Capacity

Lever = Annotated[Capacity, Field(discriminator="type")]
"""Any lever, chosen by its ``type`` field."""

__all__ = ["PROCESS_IDS", "Capacity", "Lever"]
