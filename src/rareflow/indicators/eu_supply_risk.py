"""EU criticality: supply risk (SR) and economic importance (EI) by the JRC 2017 methodology.

Source: European Commission (2017), *Methodology for establishing the EU list of critical raw
materials: Guidelines*, Publications Office of the EU, and its background report, Blengini, G.A.
et al. (2017), *Assessment of the methodology for establishing the EU list of critical raw
materials: Background report*, EUR 28654 EN, doi:10.2760/73303. The same methodology was used for
the EU lists of 2017, 2020 and 2023.

Supply risk (Guidelines, section on supply risk)::

    SR = [ (HHI_WGI,t)_GS * IR/2 + (HHI_WGI,t)_EU * (1 - IR/2) ] * (1 - EoL_RIR) * SI_SR

    HHI_WGI,t = sum_c (S_c)^2 * WGI_c * t_c

- ``GS``: global supply; ``EU``: actual EU sourcing (domestic production plus imports);
- ``S_c``: share of country c in that supply, here in percent, so the sum is divided by 10,000 to
  use fractions (HHI_WGI,t then lies in 0..10, WGI being scaled to 0..10);
- ``WGI_c``: World Governance Indicators of c scaled to 0..10 (10 = poorest governance);
- ``t_c``: trade-related factor of c (1 without export restrictions, above 1 with them);
- ``IR``: EU import reliance (0..1); ``EoL_RIR``: end-of-life recycling input rate (0..1);
- ``SI_SR``: substitution index for supply risk.

Where no EU sourcing data exist, global supply stands in for EU sourcing, which reduces the bracket
to ``(HHI_WGI,t)_GS``.

Economic importance (Guidelines, section on economic importance)::

    EI = sum_s (A_s * Q_s) / max_s' Q_s' * 10 * SI_EI

- ``A_s``: share of the material's end uses in NACE Rev. 2 (2-digit) sector s (fractions);
- ``Q_s``: value added of sector s; ``max Q``: the largest value added among the manufacturing
  sectors, so that EI lies on the 0..10 scale of the published lists;
- ``SI_EI``: substitution index for economic importance.

The page and equation numbers of the Guidelines could not be checked here (no copy of the text was
available to the author); the formulas above are those of the brief and of the Guidelines' own
notation, and are tested on hand-worked values. They reproduce 24 published SR values of the EU
2023 assessment from public inputs (``tests/indicators/test_eu_sr_2023.py``; docs/indicators.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    StringConstraints,
    model_validator,
)

from rareflow.indicators._inputs import load_json_model

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 code (the EU criticality studies' factsheets name countries, not codes)."""

Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
WgiScaled = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]

SHARE_TOLERANCE = 2.0
"""Percentage points by which shares may add up to more than 100 %: published shares are rounded
(the EU's tables reach 101 %). Such shares are scaled to 100 % and the output says so; beyond the
tolerance they are refused. Shares adding up to less than 100 % are kept: supply shares below the
publication's threshold are often left out."""


def hhi_wgi_t(
    shares_percent: Mapping[str, float],
    wgi_scaled: Mapping[str, float],
    trade_factor: Mapping[str, float] | None = None,
) -> float:
    """Return the governance- and trade-weighted concentration ``HHI_WGI,t`` on a 0..10 scale.

    ``HHI_WGI,t = sum_c (S_c)^2 * WGI_c * t_c / 10,000`` (JRC 2017 Guidelines, supply risk).

    Parameters
    ----------
    shares_percent
        Share of each country in supply, in percent.
    wgi_scaled
        Scaled WGI (0..10) of each country; every country with a positive share needs one.
    trade_factor
        Trade-related factor ``t_c`` of each country; a missing country has ``t_c = 1``.

    Returns
    -------
    float
        ``HHI_WGI,t``: 0 for no supply, 10 for one supplier of WGI 10 without trade restriction.

    Raises
    ------
    KeyError
        If a country with a positive share has no WGI.
    """
    trade = trade_factor or {}
    return (
        sum(s**2 * wgi_scaled[c] * trade.get(c, 1.0) for c, s in shares_percent.items() if s > 0)
        / 10_000.0
    )


def supply_risk(
    hhi_global: float,
    hhi_sourcing: float,
    import_reliance: float,
    eol_rir: float,
    substitution_index: float,
) -> float:
    """Return the supply risk SR of the JRC 2017 methodology.

    ``SR = [HHI_GS * IR/2 + HHI_sourcing * (1 - IR/2)] * (1 - EoL_RIR) * SI_SR``.

    Parameters
    ----------
    hhi_global
        ``(HHI_WGI,t)_GS`` of global supply.
    hhi_sourcing
        ``(HHI_WGI,t)`` of actual sourcing (EU sourcing, or a focal country's import shares).
    import_reliance
        Import reliance IR (0..1).
    eol_rir
        End-of-life recycling input rate (0..1).
    substitution_index
        ``SI_SR``.

    Returns
    -------
    float
        SR (0..10 when SI_SR <= 1).
    """
    weight = import_reliance / 2.0
    bracket = hhi_global * weight + hhi_sourcing * (1.0 - weight)
    return bracket * (1.0 - eol_rir) * substitution_index


def scale_wgi(wgi: float) -> float:
    """Scale a WGI score (-2.5 poorest to +2.5 best governance) to the 0..10 scale (10 poorest).

    The Guidelines use the average of the six WGI dimensions rescaled linearly so that 10 is the
    poorest governance: ``WGI_scaled = (2.5 - WGI) * 2``, clipped to 0..10.
    """
    return min(max((2.5 - wgi) * 2.0, 0.0), 10.0)


def scale_wgi_mean(annual_wgi: Sequence[float]) -> float:
    """Return the scaled WGI (0..10) of a country's mean WGI over several years.

    The annual values are averaged first, then scaled with :func:`scale_wgi`. rareflow's
    reproduction of the EU 2023 supply risks (``tests/indicators/test_eu_sr_2023.py``) averages
    the years 2016-2020, the assessment's supply reference period; the period the study itself
    used for the WGI is rareflow's assumption, checked only through the SR values it reproduces.

    Parameters
    ----------
    annual_wgi
        The country's WGI of each year (each the mean of the six WGI dimensions, -2.5..2.5).

    Returns
    -------
    float
        Scaled WGI (0..10, 10 = poorest governance).

    Raises
    ------
    ValueError
        If ``annual_wgi`` is empty.
    """
    if not annual_wgi:
        raise ValueError("annual_wgi is empty")
    return scale_wgi(sum(annual_wgi) / len(annual_wgi))


class MaterialInput(BaseModel):
    """Supply-risk inputs of one material (one item of an ``eu-sr`` input file)."""

    model_config = ConfigDict(extra="forbid")

    material: str = Field(min_length=1)
    global_shares: dict[CountryCode, Percent] = Field(min_length=1)
    eu_shares: dict[CountryCode, Percent] | None
    wgi_scaled: dict[CountryCode, WgiScaled]
    trade_factor: dict[CountryCode, Positive] = Field(default_factory=dict)
    import_reliance: Fraction
    eol_rir: Fraction
    substitution_index: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    source: str | None = Field(default=None, description="Where the inputs come from.")
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def notes(self) -> tuple[str, ...]:
        """What was done to the inputs (shares over 100 % by rounding scaled to 100 %)."""
        return tuple(self._notes)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, shares in (("global_shares", self.global_shares), ("eu_shares", self.eu_shares)):
            if shares is None:
                continue
            total = sum(shares.values())
            if total > 100.0 + SHARE_TOLERANCE:
                raise ValueError(
                    f"material '{self.material}': {name} add up to {total:g} %, "
                    f"expected at most 100 (shares are percentages; up to {SHARE_TOLERANCE:g} "
                    "points over 100 are taken as rounding and scaled to 100)"
                )
            if total > 100.0 + 1e-9:  # not float noise: a sum of rounded shares
                setattr(self, name, {c: v * 100.0 / total for c, v in shares.items()})
                self._notes.append(
                    f"{name} added up to {total:g} %: scaled to 100 % (rounding tolerance "
                    f"{SHARE_TOLERANCE:g} points)"
                )
            missing = sorted(c for c, s in shares.items() if s > 0 and c not in self.wgi_scaled)
            if missing:
                raise ValueError(
                    f"material '{self.material}': wgi_scaled has no value for "
                    f"{', '.join(missing)} (a country of {name})"
                )
        return self


class MaterialInputs(RootModel[list[MaterialInput]]):
    """An ``eu-sr`` input file: a JSON list of materials."""


@dataclass(frozen=True)
class SupplyRiskResult:
    """Supply risk of one material, with the two concentration terms."""

    material: str
    supply_risk: float
    hhi_wgi_t_global: float
    hhi_wgi_t_sourcing: float
    sourcing: str
    """Which supply the second term used: ``eu``, a country's imports, or ``global`` (no data)."""
    note: str = ""
    """What was done to the inputs (shares scaled to 100 %), if anything."""

    def as_row(self) -> dict[str, Any]:
        """Return the result as an output row."""
        return {
            "material": self.material,
            "supply_risk": self.supply_risk,
            "hhi_wgi_t_global": self.hhi_wgi_t_global,
            "hhi_wgi_t_sourcing": self.hhi_wgi_t_sourcing,
            "sourcing": self.sourcing,
            "note": self.note,
        }


def eu_supply_risk(item: MaterialInput) -> SupplyRiskResult:
    """Return the EU supply risk of one material (JRC 2017 methodology, module docstring).

    A null ``eu_shares`` means no EU sourcing data: global supply stands in for both terms.
    """
    hhi_gs = hhi_wgi_t(item.global_shares, item.wgi_scaled, item.trade_factor)
    if item.eu_shares is None:
        hhi_eu, sourcing = hhi_gs, "global"
    else:
        hhi_eu, sourcing = hhi_wgi_t(item.eu_shares, item.wgi_scaled, item.trade_factor), "eu"
    sr = supply_risk(hhi_gs, hhi_eu, item.import_reliance, item.eol_rir, item.substitution_index)
    return SupplyRiskResult(item.material, sr, hhi_gs, hhi_eu, sourcing, "; ".join(item.notes))


def country_supply_risk(
    material: str,
    global_shares: Mapping[str, float],
    import_shares: Mapping[str, float],
    wgi_scaled: Mapping[str, float],
    import_reliance: float,
    eol_rir: float,
    substitution_index: float,
    trade_factor: Mapping[str, float] | None = None,
    country: str = "IN",
) -> SupplyRiskResult:
    """Return a country-perspective supply risk: the EU formula with a focal country's sourcing.

    The JRC 2017 SR formula (module docstring) with the focal country's actual sourcing (its own
    production and its imports by origin, in percent) in place of EU sourcing, and its own import
    reliance. This adaptation is rareflow's; the EU methodology defines the EU perspective only.

    Parameters
    ----------
    material
        Material name.
    global_shares
        Country shares of global supply (percent).
    import_shares
        Country shares of the focal country's sourcing (percent; include domestic production).
    wgi_scaled
        Scaled WGI (0..10) of every supplying country.
    import_reliance
        The focal country's import reliance (0..1).
    eol_rir
        End-of-life recycling input rate in the focal country (0..1).
    substitution_index
        ``SI_SR``.
    trade_factor
        Trade-related factor of each exporter (missing: 1), e.g. above 1 for China under export
        licensing.
    country
        ISO alpha-2 code of the focal country (reported in ``sourcing``).

    Returns
    -------
    SupplyRiskResult
        SR and the two concentration terms.
    """
    hhi_gs = hhi_wgi_t(global_shares, wgi_scaled, trade_factor)
    hhi_src = hhi_wgi_t(import_shares, wgi_scaled, trade_factor)
    sr = supply_risk(hhi_gs, hhi_src, import_reliance, eol_rir, substitution_index)
    return SupplyRiskResult(material, sr, hhi_gs, hhi_src, country)


def economic_importance(
    end_use_shares: Mapping[str, float],
    value_added: Mapping[str, float],
    max_value_added: float,
    substitution_index: float,
) -> float:
    """Return the economic importance EI of the JRC 2017 methodology.

    ``EI = sum_s (A_s * Q_s) / max(Q) * 10 * SI_EI`` (module docstring).

    Parameters
    ----------
    end_use_shares
        ``A_s``: share (fraction, summing to at most 1) of the material's uses in each NACE Rev. 2
        2-digit sector.
    value_added
        ``Q_s``: value added of each of those sectors.
    max_value_added
        The largest value added among the manufacturing sectors (the scaling denominator).
    substitution_index
        ``SI_EI``.

    Returns
    -------
    float
        EI on the 0..10 scale.

    Raises
    ------
    KeyError
        If a sector with a positive share has no value added.
    ValueError
        If ``max_value_added`` is not positive.
    """
    if max_value_added <= 0:
        raise ValueError("max_value_added must be positive")
    weighted = sum(a * value_added[s] for s, a in end_use_shares.items() if a > 0)
    return weighted / max_value_added * 10.0 * substitution_index


def load_materials(path: Path) -> list[MaterialInput]:
    """Read and validate an ``eu-sr`` input file (raises ``InputError`` on bad input)."""
    return load_json_model(MaterialInputs, path).root
