"""The focal country of ``rareflow run`` and ``rareflow ensemble``: ``--country`` and its data."""

from __future__ import annotations

from typing import Annotated

import typer

from rareflow.data import query
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.errors import InputError
from rareflow.scenario.compile.importers import importers, region_of
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks import ExportControl

FocalCountryOption = Annotated[
    str | None,
    typer.Option(
        "--country",
        "-c",
        help="Focal country, ISO 3166-1 alpha-3 code (default: the scenario's). Refused, with "
        "every missing table named, when the dataset cannot run it.",
    ),
]


def focal(scenario: Scenario, country: str | None, dataset: Dataset) -> tuple[Scenario, list[str]]:
    """Return the scenario for its focal country (``--country`` if given) and the data's gaps.

    Raises
    ------
    InputError
        If ``--country`` is not an alpha-3 code, or the dataset lacks figures the engine needs
        for the country (every one named, with its table).
    """
    written_for = scenario.country
    if country is not None:
        code = country.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise InputError(
                f"--country {country!r}: expected an ISO 3166-1 alpha-3 code, e.g. IND, USA, JPN"
            )
        scenario = with_overrides(scenario, country=code)
    found = query.coverage(
        dataset,
        scenario.country,
        cover_given=scenario.parameters.industry_cover_weeks is not None,
    )
    if found.missing:
        lines = "\n".join(f"  - {m}" for m in found.missing)
        raise InputError(
            f"cannot run {scenario.country} as the focal country: the dataset lacks\n{lines}\n"
            "add the rows to your own tables (--data DIR; see README, 'Your own data')"
        )
    return scenario, [*found.gaps, *_licence_gap(scenario, written_for, dataset)]


def _licence_gap(scenario: Scenario, written_for: str, dataset: Dataset) -> list[str]:
    """Say so when a scenario's licence phases were written for another focal country."""
    phased = any(isinstance(s, ExportControl) and s.licence for s in scenario.shocks)
    if scenario.country == written_for or not phased:
        return []
    region = region_of(dataset, scenario.country, tuple(r.code for r in importers(dataset)))
    first = query.latest(dataset, "importers", importer=region, metric="first_licence_delay")
    observed = (
        f"; in 2025 {region}'s first licences came after {first.value:g} {first.unit} "
        "(importers.csv)"
        if first is not None
        else ""
    )
    return [
        f"scenario: its licence phases were written for {written_for} and apply to "
        f"{scenario.country} unchanged{observed}: write a scenario with "
        f"{scenario.country}'s own phases for its licence timing"
    ]
