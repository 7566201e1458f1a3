"""Who buys magnets, by which route and in which grade: the segments of a focal country.

Compile (:mod:`rareflow.scenario.compile.segments`) and the adaptation levers read the same
layout from here: each sector's buyer groups (buyer_groups.csv), its route shares
(magnet_routes.csv) and grade shares (magnet_grades.csv), every uncertain figure drawn through
the scenario's sampler on a path of its own (``exposure.two_wheeler.route.bare_import``,
``exposure.two_wheeler.large_multi_source.cover``), so that ensembles, LHS, Sobol' and Morris see
them like any other input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.data.load import Dataset
from rareflow.data.query import BuyerGroup, Fact, buyer_groups, magnet_grades, magnet_routes
from rareflow.model.network import FloatArray
from rareflow.scenario.sampling import Sampler

SEP = "/"
"""Between a segment's sector and its group: ``two_wheeler/large_multi_source``."""
POOL_ROUTES = ("bare_import", "domestic")
"""Routes whose magnets pass through the national pool (imported bare, or made at home)."""
EMBEDDED = "embedded_import"
"""The route of magnets inside imported motors, sub-assemblies and modules."""


def draw_fact(sampler: Sampler, fact: Fact, path: str) -> FloatArray:
    """Draw a dataset figure triangular over its range with its value as mode, else fixed.

    Returns (1,) when the figure has no range, (D,) when it has one.
    """
    low = fact.value if fact.low is None else min(fact.low, fact.value)
    high = fact.value if fact.high is None else max(fact.high, fact.value)
    if high <= low:
        return np.full(1, fact.value)
    return sampler.triangular(path, low, fact.value, high)


@dataclass(frozen=True)
class Segment:
    """One demand segment of a sector.

    Attributes
    ----------
    sector, group
        Which (group ``all`` when the dataset splits the sector into no groups).
    embedded
        True when its magnets arrive inside imported components.
    share
        (1 or D,) its share of the sector's need.
    cover_weeks
        (1 or D,) its own stock cover in weeks, None for the national industry cover.
    lag_months
        (1 or D,) months to its main adaptation, None where the dataset gives none.
    """

    sector: str
    group: str
    embedded: bool
    share: FloatArray
    cover_weeks: FloatArray | None
    lag_months: FloatArray | None

    @property
    def name(self) -> str:
        """``sector/group``."""
        return f"{self.sector}{SEP}{self.group}"


def _route_shares(
    dataset: Dataset, country: str, sector: str, sampler: Sampler
) -> dict[str, FloatArray]:
    """Drawn route shares of a sector, normalised to sum to 1 per draw (empty without rows)."""
    split = magnet_routes(dataset, country).get(sector)
    if split is None:
        return {}
    drawn = {
        r: draw_fact(sampler, f, f"exposure.{sector}.route.{r}") for r, f in split.parts.items()
    }
    total = sum(drawn.values())
    return {r: v / np.where(total > 0, total, 1.0) for r, v in drawn.items()}


def _group_segments(
    sector: str,
    groups: tuple[BuyerGroup, ...],
    routes: dict[str, FloatArray],
    sampler: Sampler,
) -> list[Segment]:
    """Return a sector's groups, each with its route share x its share among the route's groups.

    The pool routes (bare and domestic) are one: their groups share the pool's need. A route
    with need but no group becomes a segment of its own (group ``other_<route>``).
    """
    pool = [g for g in groups if g.route != EMBEDDED]
    emb = [g for g in groups if g.route == EMBEDDED]
    route_total = {
        False: sum((routes.get(r, np.zeros(1)) for r in POOL_ROUTES), np.zeros(1)),
        True: routes.get(EMBEDDED, np.zeros(1)),
    }
    if not routes:  # no route rows: the groups' own shares give the routes
        route_total = {False: np.zeros(1), True: np.zeros(1)}
        for g in groups:
            route_total[g.route == EMBEDDED] = route_total[g.route == EMBEDDED] + g.share.value
    out: list[Segment] = []
    for embedded, members in ((False, pool), (True, emb)):
        total_route = route_total[embedded]
        if not members:
            if np.any(total_route > 0):
                route = EMBEDDED if embedded else "bare"
                out.append(Segment(sector, f"other_{route}", embedded, total_route, None, None))
            continue
        own = {
            g.group: draw_fact(sampler, g.share, f"exposure.{sector}.{g.group}.share")
            for g in members
        }
        within = sum(own.values())
        for g in members:
            share = total_route * own[g.group] / np.where(within > 0, within, 1.0)
            cover = (
                None
                if g.cover is None
                else draw_fact(sampler, g.cover, f"exposure.{sector}.{g.group}.cover")
            )
            lag = (
                None
                if g.adaptation_lag is None
                else draw_fact(
                    sampler, g.adaptation_lag, f"exposure.{sector}.{g.group}.adaptation_lag"
                )
            )
            out.append(Segment(sector, g.group, embedded, share, cover, lag))
    return out


def sector_segments(dataset: Dataset, country: str, sector: str, sampler: Sampler) -> list[Segment]:
    """Return the segments of one sector, their drawn shares summing to 1 in every draw.

    Without buyer groups in the dataset, the sector is one segment (group ``all``) on its route
    shares: bare and domestic in the pool, the rest in components; without route rows either,
    all of it in the pool.
    """
    routes = _route_shares(dataset, country, sector, sampler)
    groups = buyer_groups(dataset, country).get(sector, ())
    if groups:
        segs = _group_segments(sector, groups, routes, sampler)
    else:
        emb = routes.get(EMBEDDED, np.zeros(1))
        segs = [Segment(sector, "all", False, 1.0 - emb, None, None)]
        if np.any(emb > 0):
            segs = [
                Segment(sector, "bare", False, 1.0 - emb, None, None),
                Segment(sector, "components", True, emb, None, None),
            ]
    total = sum(s.share for s in segs)
    norm = np.where(total > 0, total, 1.0)
    return [
        Segment(s.sector, s.group, s.embedded, s.share / norm, s.cover_weeks, s.lag_months)
        for s in segs
    ]


def grade_shares(
    dataset: Dataset, country: str, sector: str, sampler: Sampler
) -> dict[str, FloatArray] | None:
    """Return a sector's drawn grade shares (magnet_grades.csv), normalised; None without rows.

    A grade whose chosen value is 0 stays at 0 (its range is reported, not drawn): the need is
    split over the grades the dataset says the sector uses.
    """
    split = magnet_grades(dataset, country).get(sector)
    if split is None:
        return None
    drawn = {
        q: draw_fact(sampler, f, f"exposure.{sector}.grade.{q}") if f.value > 0 else np.zeros(1)
        for q, f in split.parts.items()
    }
    total = sum(drawn.values())
    if not np.all(np.asarray(total) > 0):
        return None
    return {q: v / total for q, v in drawn.items()}


def chosen_grade_split(dataset: Dataset, country: str, sector: str) -> dict[str, float] | None:
    """Return a sector's chosen grade shares (magnet_grades.csv), normalised; None without rows."""
    split = magnet_grades(dataset, country).get(sector)
    if split is None:
        return None
    total = sum(split.shares.values())
    return {q: v / total for q, v in split.shares.items()} if total > 0 else None
