"""Compile phase: importers competing for the headroom of partners outside the controls.

When an exporter controls exports, every importing region it supplies (India, Japan, Korea, the
EU, the USA and the rest: importers.csv) may lose part of its supply, and all of them turn to the
same suppliers outside the control. The rule, explicit and vectorised over draws and steps:

- **Headroom.** A partner outside every control can raise output by its headroom, a share of
  its output (supplier_headroom.csv: Lynas Malaysia 0.3-0.6 from its capacity and FY2025
  output; an assumption of 0.1-0.5 for any other partner, the ``ROW`` row).
- **Shortness.** Importer ``i``'s claim at step ``t`` of an active control is the share of its
  Chinese supply not licensed, ``1 - reached_i(t) * approval(t)``, net of stocks: times the
  share of its stock cover run down, ``min(1, (t - start + 1) / cover_i)`` (buyers seek other
  suppliers from the first month, more as their stocks run out), where ``reached_i`` turns on
  when its first licences arrive (``first_licence_delay``: in 2025 the EU, the USA and Japan
  had approvals within 61-75 days, India after 209) and ``approval`` is the control's approval
  share. The focal country uses its own drawn stock cover and its scenario's licence phases
  (first decisions after the first phase's delay). A control aimed at the focal country alone leaves
  the others whole (``x_i = 0``).
- **Allocation.** The headroom goes to importers in proportion to their need net of stocks,
  ``w_i x_i`` (``w_i``: share of China's magnet exports, importers.csv). Taking each importer's
  share of a partner's baseline exports as ``w_i`` too (an assumption, for want of partner-level
  destination data), the focal country's room at partner ``p``, as a share of its baseline
  volume from ``p``, is ``headroom_p * x_f / sum_i(w_i x_i)``: the partner's headroom when all
  importers are equally short, more when the others are less short, less when they are more.

Rows with a ``low`` and ``high`` are drawn uniformly in that range per draw. A focal country
that is not an importer region competes as the EU (a member state) or as the rest of the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from rareflow.data import query
from rareflow.data.load import Dataset, memo
from rareflow.errors import InputError, ScenarioError
from rareflow.model.network import COMMODITY_IDS, FloatArray
from rareflow.scenario.compile.uncertain import uncertain_rows
from rareflow.scenario.compile.work import Work
from rareflow.scenario.distributions import Uniform
from rareflow.scenario.sampling import Sampler
from rareflow.scenario.schema import Scenario
from rareflow.scenario.shocks import ExportControl
from rareflow.units import DAYS_PER_MONTH

EU = "EUU"
"""The European Union's code in countries.csv and importers.csv."""
METRICS = ("share_of_china_magnet_exports", "cover", "first_licence_delay")
UNITS = dict(zip(METRICS, ("fraction", "weeks", "days"), strict=True))


@dataclass(frozen=True)
class Importer:
    """An importing region's figures (importers.csv), each in its unit of :data:`UNITS`."""

    code: str
    weight: query.Fact | None
    cover: query.Fact | None
    first_licence: query.Fact | None

    @property
    def missing(self) -> tuple[str, ...]:
        """The metrics this importer has no chosen row of."""
        facts = (self.weight, self.cover, self.first_licence)
        return tuple(m for m, f in zip(METRICS, facts, strict=True) if f is None)


def importers(ds: Dataset) -> tuple[Importer, ...]:
    """Return the importer regions of importers.csv with their three figures (latest chosen).

    A figure without a chosen row is None (a backtest's dataset as of a date may lack some).
    Read once per dataset: every compile of a scenario (the optimiser's many) asks again.
    """
    store = memo(ds)
    if "importers" not in store:
        store["importers"] = _read_importers(ds)
    return cast("tuple[Importer, ...]", store["importers"])


def _read_importers(ds: Dataset) -> tuple[Importer, ...]:
    rows = ds.chosen("importers")
    out = []
    for code in dict.fromkeys(str(c) for c in rows["importer"]):
        figures = {}
        for metric in METRICS:
            fact = query.latest(ds, "importers", importer=code, metric=metric)
            figures[metric] = None if fact is None else fact.to(UNITS[metric])
        out.append(Importer(code, *(figures[m] for m in METRICS)))
    return tuple(out)


def _competing(regions: tuple[Importer, ...], focal: str) -> tuple[tuple[Importer, ...], list[str]]:
    """Return the regions that compete (the focal one needs only its weight), notes on the rest."""
    notes = [
        f"{r.code} left out (no chosen {', '.join(r.missing)} row in importers.csv)"
        for r in regions
        if r.code != focal and r.missing
    ]
    others = tuple(r for r in regions if r.code != focal and not r.missing)
    mine = next((r for r in regions if r.code == focal and r.weight is not None), None)
    if mine is None:
        notes.append(
            f"{focal} has no chosen share_of_china_magnet_exports row in importers.csv: it "
            "competes with no one (its room is each partner's whole headroom)"
        )
        alone = query.Fact(1.0, "fraction", (), "competes alone")
        return (Importer(focal, alone, None, None),), notes
    return (mine, *others), notes


def region_of(ds: Dataset, country: str, codes: tuple[str, ...]) -> str:
    """Return the region a focal country competes as: itself, the EU (a member), or ``ROW``."""
    if country in codes:
        return country
    members = ds.table("groupings")
    eu = set(members.loc[members["grouping"] == EU, "country"].astype(str))
    return EU if country in eu and EU in codes else query.REST_OF_WORLD


def _drawn(sampler: Sampler, fact: query.Fact, path: str) -> FloatArray:
    """Draw a figure: uniform in its range when it has one, else its value."""
    if fact.low is not None and fact.high is not None and fact.high > fact.low:
        return sampler.draw(Uniform(low=fact.low, high=fact.high), path)
    return np.array([fact.value])


def _figure(sampler: Sampler, fact: query.Fact | None, path: str) -> FloatArray:
    """Draw a figure :func:`_competing` made sure exists."""
    if fact is None:  # pragma: no cover - _competing keeps only complete regions
        raise InputError(f"{path}: no figure")
    return _drawn(sampler, fact, path)


def headroom(
    scenario: Scenario, ds: Dataset, sampler: Sampler, partners: tuple[str, ...]
) -> FloatArray:
    """(D or 1, P) each partner's headroom (supplier_headroom.csv; ``ROW``'s row by default).

    ``uncertain:`` entries on supplier_headroom.csv scale the partners whose row they match; an
    entry that matches no row in use is refused (it would change nothing).
    """
    default = query.latest(ds, "supplier_headroom", country=query.REST_OF_WORLD, metric="headroom")
    if default is None:
        raise InputError(
            "supplier_headroom.csv has no chosen ROW row: it is the headroom of every partner "
            "without its own row"
        )
    columns, used = [], []
    for p in partners:
        own = query.latest(ds, "supplier_headroom", country=p, metric="headroom")
        fact, code = (own, p) if own is not None else (default, query.REST_OF_WORLD)
        columns.append(_drawn(sampler, fact, f"supplier_headroom.{code}"))
        used.append(code)
    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "supplier_headroom"):
        hit = set(rows["country"].astype(str))
        if not hit & set(used):
            raise ScenarioError(
                f"{path}.where: no row of supplier_headroom.csv it matches is the headroom of a "
                f"partner of this run (rows in use: {', '.join(sorted(set(used)))})"
            )
        columns = [c * factor if code in hit else c for c, code in zip(columns, used, strict=True)]
    d_n = max(c.shape[0] for c in columns)
    return np.stack([np.broadcast_to(c, (d_n,)) for c in columns], axis=1)


def _importer_scales(
    scenario: Scenario, ds: Dataset, sampler: Sampler, codes: tuple[str, ...], focal: str
) -> dict[tuple[str, str], FloatArray]:
    """Factors of ``uncertain:`` entries on importers.csv, by (importer, metric).

    The focal region's cover and licence delay are the scenario's own (its drawn stock cover and
    licence phases): an entry that matches only those, or no importer, is refused.
    """
    out: dict[tuple[str, str], FloatArray] = {}
    for path, rows, factor in uncertain_rows(scenario, ds, sampler, "importers"):
        pairs = {(str(c), str(m)) for c, m in zip(rows["importer"], rows["metric"], strict=True)}
        used = {(c, m) for c, m in pairs if c in codes and (c != focal or m == METRICS[0])}
        if not used:
            raise ScenarioError(
                f"{path}.where: no row of importers.csv it matches is used by this run (the "
                f"focal region {focal} competes with its own stock cover and licence phases; "
                "only its share_of_china_magnet_exports row is read)"
            )
        for pair in used:
            out[pair] = out.get(pair, 1.0) * factor
    return out


def importer_competition(work: Work) -> None:
    """Set the focal country's room at each partner outside the controls (``net.surge``)."""
    ctx, scenario = work.ctx, work.scenario
    net, ds, sampler = ctx.net, ctx.dataset, ctx.sampler
    every = importers(ds)
    focal = region_of(ds, ctx.chain.country, tuple(r.code for r in every))
    regions, left_out = _competing(every, focal)
    codes = tuple(r.code for r in regions)
    scales = _importer_scales(scenario, ds, sampler, codes, focal)
    steps_per_day = 1.0 / (DAYS_PER_MONTH * net.step_months)
    t = np.arange(net.n_steps)
    k_magnet = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    controls = [s for s in scenario.shocks if isinstance(s, ExportControl)]
    d_n = max(net.approval.shape[0], work.cover_steps.shape[0])
    short = np.zeros((len(regions), d_n, net.n_steps))
    weights = np.stack(
        [
            np.broadcast_to(
                _figure(sampler, r.weight, f"importers.{r.code}.weight")
                * scales.get((r.code, METRICS[0]), 1.0),
                (d_n,),
            )
            for r in regions
        ]
    )
    weights = weights / weights.sum(axis=0, keepdims=True)
    for c, control in enumerate(controls):
        on = net.licensed[c].any(axis=(1, 2))
        if not on.any():
            continue
        start = int(np.flatnonzero(on)[0])
        since = (t - start)[None, :]
        approval = net.approval[:, c, :]
        for i, region in enumerate(regions):
            if region.code == focal:
                cover = work.cover_steps[:, k_magnet]
                lag = net.delay_steps[:, c, start]
            elif control.destinations == "focal":
                continue
            else:
                weeks = _figure(
                    sampler, region.cover, f"importers.{region.code}.cover"
                ) * scales.get((region.code, METRICS[1]), 1.0)
                days = _figure(
                    sampler, region.first_licence, f"importers.{region.code}.licence"
                ) * scales.get((region.code, METRICS[2]), 1.0)
                cover, lag = weeks * 7.0 * steps_per_day, days * steps_per_day
            # The claim grows as stocks run down: a share (months since the start + 1) / cover,
            # whole once they are spent.
            run_down = np.clip((since + 1.0) / np.maximum(cover[:, None], 1e-9), 0.0, 1.0)
            reached = since >= lag[:, None]
            x = on[None, :] * run_down * (1.0 - reached * approval)
            short[i] = np.maximum(short[i], x)
    need = (weights[:, :, None] * short).sum(axis=0)  # (D, T)
    mine = short[codes.index(focal)]
    factor = np.divide(mine, need, out=np.zeros_like(need), where=need > 0)
    free = np.array([p not in work.controlling for p in net.partners], dtype=np.float64)
    room = headroom(scenario, ds, sampler, net.partners) * free[None, :]  # (D or 1, P)
    net.surge = factor[:, :, None] * room[:, None, :]
    others = ", ".join(c for c in codes if c != focal) or "no one"
    work.notes.append(
        f"importer competition: {ctx.chain.country} competes as {focal} with {others} for the "
        "headroom of partners outside the controls, in proportion to need net of stocks "
        f"(importers.csv, supplier_headroom.csv){_factor_note(mine, factor)}"
        + "".join(f"; {n}" for n in left_out)
    )


def _factor_note(mine: FloatArray, factor: FloatArray) -> str:
    """Describe the focal country's mean factor over the months it is short (empty if never)."""
    months = (mine > 0).sum(axis=1)
    if not months.any():
        return ""
    mean = factor.sum(axis=1)[months > 0] / months[months > 0]
    low, mid, high = np.percentile(mean, [5, 50, 95])
    return (
        f"; while short it gets {mid:.2f} [{low:.2f}..{high:.2f}] times each partner's headroom "
        "(median [5th..95th] over draws; 1 when every importer is as short)"
    )
