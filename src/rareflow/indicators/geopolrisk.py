"""Geopolitical supply risk of a country's raw-material imports: the GeoPolRisk method.

Sources: Gemechu, E.D., Helbig, C., Sonnemann, G., Thorenz, A. and Tuma, A. (2016),
'Import-based indicator for the geopolitical supply risk of raw materials in life cycle
sustainability assessments', *Journal of Industrial Ecology* 20(1):154-165; Helbig, C., Gemechu,
E.D., Pillain, B. et al. (2016), 'Extending the geopolitical supply risk indicator: application of
life cycle sustainability assessment to the petrochemical supply chain of polyacrylonitrile-based
carbon fibers', *Journal of Cleaner Production* 137:1170-1178; Santillán-Saldivar, J., Cimprich,
A., Shaikh, N. et al. (2021), 'How recycling mitigates supply risks of critical raw materials:
extension of the geopolitical supply risk methodology', *Resources, Conservation and Recycling*
164:105108 (characterisation factor). For country A and a raw material::

    GeoPolRisk_A = HHI * sum_i (g_i * f_Ai) / p_A
    p_A          = domestic production_A + sum_i f_Ai

- ``HHI``: Herfindahl-Hirschman index of world production (fractions, 0..1);
- ``g_i``: political (in)stability of exporting country i, from the WGI 'Political Stability and
  Absence of Violence' score rescaled to 0..1 (1 = least stable);
- ``f_Ai``: imports of A from i; ``p_A``: A's supply (production plus imports), standing for its
  consumption.

The characterisation factor multiplies the score by the material's average import price
(Santillán-Saldivar et al. 2021); dividing it by copper's gives kg Cu-eq per kg. The formula
follows the reference implementation ``geopolrisk-py`` (Koyamparambath et al., University of
Bordeaux and University of Bayreuth), ``core.GeoPolRisk``: score = HHI x import risk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rareflow.errors import DataError, Problem

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def political_instability(wgi_political_stability: float) -> float:
    """Rescale a WGI Political Stability score (-2.5..2.5) to ``g`` in 0..1 (1 = least stable).

    Linear map ``g = (2.5 - PV) / 5``, clipped to 0..1: rareflow's reading of the rescaling in
    Gemechu et al. (2016), in which a more unstable exporter carries a larger weight.
    """
    return min(max((2.5 - wgi_political_stability) / 5.0, 0.0), 1.0)


class GeoPolRiskInput(BaseModel):
    """Inputs of the GeoPolRisk score of one material for one importing country."""

    model_config = ConfigDict(extra="forbid")

    world_production: dict[str, NonNegative] = Field(min_length=1)
    imports: dict[str, NonNegative] = Field(description="Imports f_Ai by exporting country i.")
    instability: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        description="g_i of each exporting country (0..1, 1 = least stable)."
    )
    domestic_production: NonNegative = 0.0
    price: NonNegative | None = Field(default=None, description="Average import price.")

    @model_validator(mode="after")
    def _instability_known(self) -> GeoPolRiskInput:
        missing = sorted(c for c, q in self.imports.items() if q > 0 and c not in self.instability)
        if missing:
            raise ValueError(f"instability has no value for exporter(s) {', '.join(missing)}")
        if sum(self.world_production.values()) <= 0:
            raise ValueError("world_production adds up to 0")
        return self


@dataclass(frozen=True)
class GeoPolRiskResult:
    """GeoPolRisk of one material for one country.

    Attributes
    ----------
    hhi
        HHI of world production (0..1).
    import_risk
        ``sum_i g_i f_Ai / p_A`` (0..1).
    score
        ``hhi * import_risk`` (0..1).
    characterisation_factor
        ``score * price`` (Santillán-Saldivar et al. 2021), or None without a price.
    """

    hhi: float
    import_risk: float
    score: float
    characterisation_factor: float | None


def geopolrisk(inputs: GeoPolRiskInput) -> GeoPolRiskResult:
    """Return the GeoPolRisk score of one material for one importing country.

    Gemechu et al. (2016), eq. for GeoPolRisk (module docstring): HHI of world production times
    the instability-weighted share of imports in the country's supply.

    Raises
    ------
    DataError
        If the country has no supply at all (no production and no imports).
    """
    total = sum(inputs.world_production.values())
    hhi = sum((q / total) ** 2 for q in inputs.world_production.values())
    supply = inputs.domestic_production + sum(inputs.imports.values())
    if supply <= 0:
        raise DataError([Problem("no domestic production and no imports: p_A is 0")])
    weighted = sum(inputs.instability[c] * q for c, q in inputs.imports.items() if q > 0)
    import_risk = weighted / supply
    score = hhi * import_risk
    cf = score * inputs.price if inputs.price is not None else None
    return GeoPolRiskResult(hhi, import_risk, score, cf)


def geopolrisk_table(materials: Mapping[str, GeoPolRiskInput]) -> pd.DataFrame:
    """Return the GeoPolRisk results of several materials, one row per material.

    Parameters
    ----------
    materials
        Inputs by material name.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``material``; columns ``hhi``, ``import_risk``, ``score``,
        ``characterisation_factor``.

    Raises
    ------
    DataError
        Naming each material whose inputs fail.
    """
    rows: dict[str, dict[str, float | None]] = {}
    problems: list[Problem] = []
    for name, item in materials.items():
        try:
            rows[name] = asdict(geopolrisk(item))
        except DataError as exc:
            problems.extend(Problem(f"material '{name}': {p.message}") for p in exc.problems)
    if problems:
        raise DataError(problems)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "material"
    return table
