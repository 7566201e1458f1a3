"""The optimiser's choices and defaults: the options offered, the risk measure, the budgets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rareflow.errors import InputError
from rareflow.ids import Sector
from rareflow.scenario.schema import Scenario

DEFAULT_WEIGHTS: dict[str, float] = {Sector.DEFENCE.value: 10.0}
"""Sector weights in the loss: defence first; every other sector 1 unless the user sets it."""


PARETO_FRACTIONS = (0.0, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
"""Budgets of the Pareto front, as shares of the budget asked for."""


_RISK = re.compile(r"^cvar(\d{1,2}(?:\.\d+)?)$")


def parse_risk(text: str) -> float | None:
    """Return the CVaR level of ``cvarNN`` (``cvar95`` -> 0.95), or None for ``expected``."""
    if text == "expected":
        return None
    hit = _RISK.match(text)
    if hit is None or not 0 < float(hit.group(1)) < 100:
        raise InputError(f"--risk must be 'expected' or 'cvarNN' (e.g. cvar95); got '{text}'")
    return float(hit.group(1)) / 100.0


@dataclass(frozen=True)
class Option:
    """A lever whose level the optimiser chooses.

    Parameters
    ----------
    name
        Its name in results (and the lever's name when written back).
    lever
        The lever's fields as in a scenario, without the level: type ``stockpile`` (of a magnet),
        ``supply_contract`` (of a magnet) or ``capacity`` (of a magnet process).
    level_field
        The field the level sets: ``target_t`` or ``t_per_year``.
    upper
        The largest level (t, or t/yr).
    per_unit
        Fields that scale with the level (e.g. ``capex_inr_crore`` per t/yr).
    basis
        Where the upper bound and per-unit figures come from.
    package
        For a lumpy investment, taken whole or not at all: the levers it adds (``lever`` is
        then its first, ``level_field`` empty and ``upper`` 1); the level is an integer choice.
    """

    name: str
    lever: Mapping[str, Any]
    level_field: str
    upper: float
    per_unit: Mapping[str, float] = field(default_factory=dict)
    basis: str = ""
    package: tuple[Mapping[str, Any], ...] = ()

    @property
    def kind(self) -> str:
        """The lever type (of a package, its levers' types joined by ``+``)."""
        if self.package:
            return "+".join(dict.fromkeys(str(lv["type"]) for lv in self.package))
        return str(self.lever["type"])

    @property
    def lumpy(self) -> bool:
        """Whether the option is taken whole or not at all."""
        return bool(self.package)

    def lever_at(self, level: float) -> dict[str, Any]:
        """Return the lever's fields at a level (of a continuous option)."""
        fields = {**self.lever, "name": self.name, self.level_field: float(level)}
        fields.update({k: v * float(level) for k, v in self.per_unit.items()})
        return fields

    def levers_at(self, level: float) -> list[dict[str, Any]]:
        """Return the levers the option adds at a level (a package: all of them at level 1)."""
        if not self.package:
            return [self.lever_at(level)]
        if level < 0.5:
            return []
        many = len(self.package) > 1
        return [
            {**lv, "name": f"{self.name}-{j}" if many else self.name}
            for j, lv in enumerate(self.package)
        ]


def _months_after(day: date, months: int) -> str:
    n = day.year * 12 + day.month - 1 + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


PACKAGES = (
    "bioleaching", "consortium", "divert-irel-exports", "emergency-licences",
    "exploration-pipeline", "finance", "import-complete-motors", "light-re-grades",
    "magnet-cluster", "magnet-scheme", "partner-capacity", "private-blocks", "private-buffer",
    "recycling", "regulatory-reform", "south-south-corridor", "substitution", "technology-tie",
)  # fmt: skip
"""Lumpy options: each is the lever set of the preset ``china-2025-april+NAME``, taken whole."""


def package_options() -> tuple[Option, ...]:
    """Return every lever type the continuous options leave out, as a lumpy option.

    Each is the levers of its preset (``rareflow scenario show china-2025-april+NAME``), whose
    comments give the source or the ASSUMPTION behind every figure.
    """
    from rareflow.scenario.load import load_scenario  # noqa: PLC0415 - loads presets, slow

    out = []
    for name in PACKAGES:
        preset = f"china-2025-april+{name}"
        levers = tuple(load_scenario(preset).model_dump(mode="json")["levers"])
        out.append(
            Option(
                name,
                levers[0],
                "",
                1.0,
                basis=f"the levers of {preset}, taken whole or not at all",
                package=levers,
            )
        )
    return tuple(out)


def default_options(scenario: Scenario, requirement_t_per_month: float) -> tuple[Option, ...]:
    """Return the default choices: every lever type.

    A magnet stockpile, a contract with Japan and magnet capacity at continuous levels (sizes,
    dates and prices are assumptions stated in each option's ``basis``, docs/decisions.md), and
    every other lever type as a lumpy option (:func:`package_options`).
    """
    return (*linear_options(scenario, requirement_t_per_month), *package_options())


def linear_options(scenario: Scenario, requirement_t_per_month: float) -> tuple[Option, ...]:
    """Return the continuous choices: a magnet stockpile, a contract with Japan, capacity."""
    price = {"dist": "uniform", "low": 40.0, "high": 80.0}
    return (
        Option(
            "stockpile",
            {
                "type": "stockpile",
                "material": "magnet_ndfeb_sintered",
                "start": scenario.start.isoformat(),
                "fill_months": 3,
                "release_trigger": 0.9,
                "release_months": 3,
                "sectors": "all",
                "price_usd_per_kg": price,
                "holding_cost_per_year": 0.05,
            },
            "target_t",
            6.0 * requirement_t_per_month,
            basis="up to 6 months of requirement, bought over 3 months from the start at "
            "US$40-80/kg (as the stockpile preset; assumption)",
        ),
        Option(
            "contract",
            {
                "type": "supply_contract",
                "partner": "JPN",
                "material": "magnet_ndfeb_sintered",
                "start": _months_after(scenario.start, 6),
                "ramp_months": 6,
                "premium": 0.2,
                "price_usd_per_kg": price,
            },
            "t_per_year",
            1200.0,
            basis="Japan (Quad, MSP), first deliveries 6 months after the start, up to "
            "1,200 t/yr at a 20% premium on US$40-80/kg (assumptions)",
        ),
        Option(
            "capacity",
            {
                "type": "capacity",
                "process": "magnet_ndfeb_sintered",
                "online": _months_after(scenario.start, 24),
                "ramp_months": 12,
            },
            "t_per_year",
            6000.0,
            per_unit={"capex_inr_crore": 7280.0 / 6000.0},
            basis="sintered NdFeB plants online 2 years after the start, up to the magnet "
            "scheme's 6,000 t/yr, at the scheme's outlay of ₹7,280 crore per 6,000 t/yr "
            "(policies.csv) as capital cost",
        ),
    )
