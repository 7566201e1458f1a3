"""Indicators on real partners, for a focal country, from the dataset (issue 18 item 5).

At each supply stage (mining, separation, metal, magnet) the partner split is the one the engine
uses (:func:`rareflow.data.query.import_shares`: the country's trade rows where it has them, else
world output shares with its own output left out). From it:

- **concentration**: HHI of the split (fractions; ``ROW`` counted as one supplier, so an upper
  bound when it is a residual of many) and the top-3 share; China's share of arrivals at the
  baseline;
- **GeoPolRisk** (Gemechu et al. 2016; :mod:`rareflow.indicators.geopolrisk`): HHI of world
  output (stage_shares.csv) times ``sum_i g_i f_i`` over the split, with ``g_i`` the WGI
  Political Stability estimate (partner_risk.csv, World Bank WGI 2022)
  rescaled to 0..1; each partner's part ``HHI x g_i x f_i`` is given. Domestic output is not in
  the split (shares of what arrives), so the score is that of the imported supply;
- **supply risk** by the JRC 2017 formula with the focal country's sourcing in place of the EU's
  (:func:`rareflow.indicators.eu_supply_risk.country_supply_risk`): WGI scaled 0..10 from the same
  Political Stability estimates (the JRC uses the mean of all six WGI dimensions: an ASSUMPTION
  that stability stands in), import reliance from
  :func:`rareflow.indicators.dataset_view.net_import_reliance_by_stage` where computed (else 1,
  an ASSUMPTION), the end-of-life recycling input rate of process_parameters.csv (below 1%,
  Ganguli 2018), no substitution (``SI = 1``, an ASSUMPTION: no substitution index for the
  country) and no trade factor.

``ROW`` has no WGI row: it is taken at the world mean (estimate 0, ``g = 0.5``), an ASSUMPTION,
since WGI estimates are standardised to mean 0 across countries. The EU's economic importance
(JRC 2017: ``EI = sum_s A_s Q_s / max Q x 10 x SI``,
:func:`~rareflow.indicators.eu_supply_risk.economic_importance`) needs the focal country's value
added by magnet-using sector, which the dataset does not hold: it is reported as missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rareflow.data import query
from rareflow.data.load import Dataset
from rareflow.ids import Stage
from rareflow.indicators.dataset_view import net_import_reliance_by_stage
from rareflow.indicators.eu_supply_risk import country_supply_risk, scale_wgi
from rareflow.indicators.geopolrisk import political_instability

STAGES: tuple[Stage, ...] = (Stage.MINING, Stage.SEPARATION, Stage.METAL, Stage.MAGNET)
CHINA = "CHN"
ROW_WGI = 0.0
"""WGI estimate taken for ``ROW`` (the standardised world mean): an ASSUMPTION."""
SUBSTITUTION_INDEX = 1.0
"""``SI_SR`` used for the country's supply risk: no substitution (an ASSUMPTION)."""
EI_MISSING = (
    "economic importance not computed: it needs the focal country's value added by "
    "magnet-using sector (JRC 2017 EI = sum_s A_s Q_s / max Q x 10 x SI), not in the dataset"
)


@dataclass(frozen=True)
class PartnerShare:
    """One partner at one stage: its share of arrivals, WGI and GeoPolRisk part."""

    stage: str
    partner: str
    share: float
    wgi_political_stability: float
    instability: float
    geopolrisk_part: float
    wgi_assumed: bool


@dataclass(frozen=True)
class StageRisk:
    """A stage's indicators for the focal country."""

    stage: str
    basis: str
    partners: int
    hhi: float
    top3_share: float
    china_share: float
    world_hhi: float
    geopolrisk: float
    supply_risk: float
    import_reliance: float
    import_reliance_note: str
    sources: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _wgi(dataset: Dataset) -> dict[str, float]:
    rows = query.latest_rows(
        query.matching(dataset, "partner_risk", metric="wgi_political_stability"), ("country",)
    )
    return {str(c): float(v) for c, v in zip(rows["country"], rows["value"], strict=True)}


def _reliance(dataset: Dataset, country: str) -> dict[str, tuple[float, str]]:
    """Net import reliance by stage where computed, with how it was obtained."""
    table = net_import_reliance_by_stage(dataset, country)
    out: dict[str, tuple[float, str]] = {}
    for row in table.to_dict("records"):
        value = row.get("net_import_reliance")
        if row.get("status") == "skipped" or not isinstance(value, float) or math.isnan(value):
            continue
        out[str(row["stage"])] = (value, f"net import reliance {value:.3f} ({row['basis']})")
    return out


def partner_indicators(
    dataset: Dataset, country: str
) -> tuple[list[StageRisk], list[PartnerShare]]:
    """Return each stage's indicators and each partner's share, WGI and GeoPolRisk part.

    Parameters
    ----------
    dataset
        The dataset (embedded, or with the user's tables).
    country
        The focal country (ISO alpha-3).
    """
    wgi = _wgi(dataset)
    reliance = _reliance(dataset, country)
    eol = query.process_parameter(dataset, "eol_recycling_rate", "use")
    stages: list[StageRisk] = []
    partners: list[PartnerShare] = []
    for stage in STAGES:
        split = query.import_shares(dataset, country, stage.value)
        world = query.import_shares(dataset, query.WORLD, stage.value)
        if not split.shares or not world.shares:
            continue
        notes = [split.note]
        world_hhi = math.fsum(v * v for v in world.shares.values())
        assumed = sorted(p for p in split.shares if p not in wgi)
        if assumed:
            notes.append(
                f"no WGI row for {', '.join(assumed)}: taken at the world mean (estimate "
                f"{ROW_WGI:g}), ASSUMPTION"
            )
        stability = {p: wgi.get(p, ROW_WGI) for p in {*split.shares, *world.shares}}
        parts = {
            p: world_hhi * political_instability(stability[p]) * s for p, s in split.shares.items()
        }
        for p, s in sorted(split.shares.items(), key=lambda kv: -kv[1]):
            partners.append(
                PartnerShare(
                    stage.value,
                    p,
                    s,
                    stability[p],
                    political_instability(stability[p]),
                    parts[p],
                    p not in wgi,
                )
            )
        ir, ir_note = reliance.get(stage.value, (1.0, "ASSUMPTION: 1 (no tonnage to compute it)"))
        sr = country_supply_risk(
            stage.value,
            {p: 100.0 * v for p, v in world.shares.items()},
            {p: 100.0 * v for p, v in split.shares.items()},
            {p: scale_wgi(v) for p, v in stability.items()},
            ir,
            eol.value,
            SUBSTITUTION_INDEX,
            country=country,
        )
        ordered = sorted(split.shares.values(), reverse=True)
        stages.append(
            StageRisk(
                stage.value,
                split.basis,
                len(split.shares),
                math.fsum(v * v for v in split.shares.values()),
                math.fsum(ordered[:3]),
                split.shares.get(CHINA, 0.0),
                world_hhi,
                math.fsum(parts.values()),
                sr.supply_risk,
                ir,
                ir_note,
                tuple(dict.fromkeys((*split.sources, *world.sources, "wgi-2023", *eol.sources))),
                tuple(notes),
            )
        )
    return stages, partners
