"""Typed identifiers: the fixed vocabularies of the value chain.

Elements, stages and sectors are closed sets and are enums here. Countries, materials, sources and
deposit types are open sets defined by the dataset's tables; the loader validates every reference to
them, so a typo fails when data is loaded, not in the middle of a run.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

SINTERED_NDFEB: Final = "magnet_ndfeb_sintered"
"""Material id of sintered NdFeB magnets (materials.csv), the magnet most sectors use."""


class Element(StrEnum):
    """The 17 rare-earth elements: the 15 lanthanides plus scandium and yttrium (IUPAC)."""

    Sc = "Sc"
    Y = "Y"
    La = "La"
    Ce = "Ce"
    Pr = "Pr"
    Nd = "Nd"
    Pm = "Pm"
    Sm = "Sm"
    Eu = "Eu"
    Gd = "Gd"
    Tb = "Tb"
    Dy = "Dy"
    Ho = "Ho"
    Er = "Er"
    Tm = "Tm"
    Yb = "Yb"
    Lu = "Lu"


MAGNET_ELEMENTS: tuple[Element, ...] = (Element.Nd, Element.Pr, Element.Dy, Element.Tb)
"""The four magnet rare earths of the IEA's outlooks."""

KEY_ELEMENTS: tuple[Element, ...] = (Element.Nd, Element.Pr, Element.Dy, Element.Tb, Element.Sm)
"""Elements shown by ``rareflow chain``: the NdFeB elements and samarium for SmCo."""


class ElementGroup(StrEnum):
    """Light or heavy rare earth (the dataset gives each element's class with its source)."""

    LIGHT = "light"
    HEAVY = "heavy"


class Stage(StrEnum):
    """Stages of the mines-to-magnets chain, upstream first."""

    MINING = "mining"
    SEPARATION = "separation"
    METAL = "metal"
    ALLOY = "alloy"
    MAGNET = "magnet"
    USE = "use"

    @property
    def order(self) -> int:
        """Position in the chain, 0 for mining."""
        return list(Stage).index(self)


class Sector(StrEnum):
    """End-use sectors of the focal country that use permanent magnets."""

    EV_CAR = "ev_car"
    EV_BUS = "ev_bus"
    TWO_WHEELER = "two_wheeler"
    THREE_WHEELER = "three_wheeler"
    ICE_VEHICLE = "ice_vehicle"
    WIND = "wind"
    ELECTRONICS = "electronics"
    INDUSTRIAL_MOTORS = "industrial_motors"
    MEDICAL = "medical"
    DEFENCE = "defence"
    APPLIANCES = "appliances"


class Choice(StrEnum):
    """Whether a dataset value is the one rareflow uses or an alternative kept beside it."""

    CHOSEN = "chosen"
    ALTERNATIVE = "alternative"
