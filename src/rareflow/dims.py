"""Named dimensions, defined once.

Every labelled array in rareflow (xarray or pandas) uses these names and never positional axes.
"""

from typing import Final

TIME: Final = "time"
"""Simulation step (a month by default), labelled with the period's first day."""
DRAW: Final = "draw"
"""Ensemble member: one sampled realisation of the uncertain inputs."""
NODE: Final = "node"
"""A place in the chain: a country (or facility) at a stage."""
COUNTRY: Final = "country"
"""ISO 3166-1 alpha-3 code."""
PARTNER: Final = "partner"
"""The other country of a trade flow (the exporter, seen from the focal importer)."""
STAGE: Final = "stage"
"""Value-chain stage: mining, separation, metal, alloy, magnet, use."""
ELEMENT: Final = "element"
"""Rare-earth element symbol."""
MATERIAL: Final = "material"
"""A traded or produced material (concentrate, oxide, metal, alloy, magnet, substitute)."""
SECTOR: Final = "sector"
"""End-use sector of the focal country."""
YEAR: Final = "year"
"""Calendar year."""
COHORT: Final = "cohort"
"""Year (or month) in which a product cohort entered use."""
LEVER: Final = "lever"
"""A policy lever instance of a scenario."""
PROCESS: Final = "process"
"""A domestic conversion process of the focal country (separation, metal, magnet making)."""
CONTROL: Final = "control"
"""An export control of a scenario, in the order of its shocks."""

ALL: Final = (
    TIME,
    DRAW,
    NODE,
    COUNTRY,
    PARTNER,
    STAGE,
    ELEMENT,
    MATERIAL,
    SECTOR,
    YEAR,
    COHORT,
    LEVER,
    PROCESS,
    CONTROL,
)
