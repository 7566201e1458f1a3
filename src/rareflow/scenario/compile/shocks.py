"""Compile phase: shocks write themselves into the network, in scenario order.

Export controls take the control axis in their order; their exporters are remembered, since
those partners cannot add supply when others are short (:mod:`rareflow.scenario.compile.after`).
"""

from __future__ import annotations

from rareflow.scenario.compile.work import Work
from rareflow.scenario.shocks import ExportControl


def apply_shocks(work: Work) -> None:
    """Apply every shock of the scenario."""
    control = 0
    for i, shock in enumerate(work.scenario.shocks):
        shock.apply(work.ctx, control, f"shocks[{i}]")
        if isinstance(shock, ExportControl):
            control += 1
            work.controlling.add(shock.exporter)
