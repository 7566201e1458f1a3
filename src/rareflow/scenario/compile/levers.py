"""Compile phase: levers by their declared phase, in scenario order within a phase.

``MODIFIERS`` levers (regulatory reform) run first and only change what later levers read
(:class:`rareflow.scenario.context.Modifiers`); ``EFFECTS`` levers then write into the network
(see :mod:`rareflow.scenario.levers.base`).
"""

from __future__ import annotations

from rareflow.scenario.compile.work import Work


def apply_levers(work: Work) -> None:
    """Apply every lever of the scenario, by phase, then by position."""
    levers = sorted(enumerate(work.scenario.levers), key=lambda il: (il[1].phase, il[0]))
    for i, lever in levers:
        lever.apply(work.ctx, f"levers[{i}]")
