"""Compile phase: shocks write themselves into the network, in scenario order.

Export controls take the control axis in their order; their exporters are remembered, since
those partners cannot add supply when others are short (:mod:`rareflow.scenario.compile.after`).
"""

from __future__ import annotations

from rareflow.errors import ScenarioError
from rareflow.scenario.compile.work import Work
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks import ExportControl


def apply_shocks(work: Work) -> None:
    """Apply every shock of the scenario (refusing one on an exporter the dataset lacks)."""
    _check_exporters(work.scenario, work.ctx.known_countries())
    control = 0
    for i, shock in enumerate(work.scenario.shocks):
        shock.apply(work.ctx, control, f"shocks[{i}]")
        if isinstance(shock, ExportControl):
            control += 1
            work.controlling.add(shock.exporter)


def _check_exporters(scenario: Scenario, known: set[str]) -> None:
    """Refuse a shock on an exporter the dataset does not know: it would change nothing."""
    for i, shock in enumerate(scenario.shocks):
        if shock.exporter not in known:
            raise ScenarioError(
                f"shocks[{i}].exporter: '{shock.exporter}' is not a country of the dataset "
                f"(countries.csv: {', '.join(sorted(known))}); a shock on it would change nothing"
            )
