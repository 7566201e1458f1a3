"""Compile phase: split each sector's need into segments, grades and routes, and draw them.

After the shocks (which fix the controls) and before the levers (which write adaptation into
the segments' schedules):

- **segments**: each sector's buyer groups (:func:`rareflow.scenario.exposure.sector_segments`)
  with their drawn shares, own cover (weeks, from buyer_groups.csv; the national industry cover
  where the dataset gives none) and route (a group on ``embedded_import`` gets its magnets
  inside imported components);
- **grades**: the drawn grade shares of magnet_grades.csv split the sector's need between
  sintered NdFeB (heavy and light), bonded NdFeB and SmCo (``need_scale``), and set the heavy
  share of its sintered need;
- **intensities** and **growth**: drawn over their dataset ranges (``need_scale``, ``growth``);
- **reach**: a control reaches a grade when it names an element the grade contains (heavy
  NdFeB: the sintered composition plus Dy and Tb, magnet_grades.csv; light NdFeB: without Dy and
  Tb, which is why the April 2025 list did not cover it); it reaches components only through a
  content rule on foreign-made goods (``reexport_content_rule``), by its affected share;
- the national magnet cover becomes the need-weighted cover of the segments that buy from the
  pool, so the industry's stock target is the sum of its buyers'.
"""

from __future__ import annotations

import numpy as np

from rareflow import display
from rareflow.data.query import grade_content, latest, magnet_intensities
from rareflow.ids import Element
from rareflow.model.network import (
    COMMODITY_IDS,
    GRADES,
    MAGNETS,
    FloatArray,
)
from rareflow.scenario.compile.work import Work
from rareflow.scenario.exposure import (
    Segment,
    chosen_grade_split,
    draw_fact,
    grade_shares,
    sector_segments,
)
from rareflow.scenario.shocks import ExportControl
from rareflow.units import DAYS_PER_MONTH

HEAVY_ELEMENTS = (Element.Dy, Element.Tb)
"""Elements that make a sintered grade 'heavy' (magnet_grades.csv ``content_dy``/``content_tb``)."""


def _rows(values: list[FloatArray], d_n: int) -> FloatArray:
    """Stack (1 or D,) values into (1 or D, N)."""
    rows = d_n if any(np.size(v) > 1 for v in values) else 1
    return np.stack([np.broadcast_to(v, (rows,)) for v in values], axis=1)


def _grade_elements(work: Work) -> dict[str, frozenset[Element]]:
    """Elements each grade contains: its magnet's, with Dy/Tb added (heavy) or removed (light)."""
    ctx = work.ctx
    heavy = {
        e
        for e in HEAVY_ELEMENTS
        if grade_content(ctx.dataset, "ndfeb_heavy", e.value, ctx.chain.country).value > 0
    }
    out = {}
    for g in GRADES:
        base = set(ctx.magnet_elements.get(g.material, frozenset()))
        if g.heavy:
            base |= heavy
        elif any(h.material == g.material for h in GRADES if h.heavy):
            base -= set(HEAVY_ELEMENTS)
        out[g.id] = frozenset(base)
    return out


def _reach(work: Work) -> None:
    """Which grades and how much of the components each control reaches."""
    ctx, net = work.ctx, work.ctx.net
    elements = _grade_elements(work)
    controls = [(i, s) for i, s in enumerate(work.scenario.shocks) if isinstance(s, ExportControl)]
    reach = np.zeros((len(controls), len(GRADES)))
    emb: list[FloatArray] = []
    for c, (i, shock) in enumerate(controls):
        if "magnet" in shock.forms:
            for q, g in enumerate(GRADES):
                reach[c, q] = float(bool(set(shock.elements) & elements[g.id]))
        if shock.reexport_content_rule is None:
            emb.append(np.zeros(1))
        else:
            emb.append(
                ctx.sampler.draw(
                    shock.reexport_affected_share, f"shocks[{i}].reexport_affected_share"
                )
            )
    net.grade_reach = reach
    net.embedded_reach = _rows(emb, net.n_draws) if emb else np.zeros((1, 0))


def _number(value: object) -> float | None:
    """Return a table cell as a float, None when empty."""
    if value is None:
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(out) else out


def _scale_need(work: Work, s: int, sector: str) -> FloatArray | None:
    """(1 or D, K) drawn scale of a sector's need per magnet: grade split and intensity.

    The base requirement takes the split of the chosen grade shares; the drawn shares scale it,
    so the chosen values give a scale of 1.
    """
    ctx, net = work.ctx, work.ctx.net
    mags = [COMMODITY_IDS.index(m) for m in MAGNETS]
    total = float(net.requirement0[s, mags].sum())
    country = ctx.chain.country
    chosen = chosen_grade_split(ctx.dataset, country, sector)
    shares = grade_shares(ctx.dataset, country, sector, ctx.sampler)
    factor = np.ones((1, len(COMMODITY_IDS)))
    if chosen is not None and shares is not None and total > 0:
        rows = max(np.size(v) for v in shares.values())
        factor = np.ones((rows, len(COMMODITY_IDS)))
        for k in mags:
            grades = [g.id for g in GRADES if COMMODITY_IDS.index(g.material) == k]
            mode = sum(chosen.get(q, 0.0) for q in grades)
            drawn = sum((shares.get(q, np.zeros(1)) for q in grades), np.zeros(1))
            net.requirement0[s, k] = total * mode
            factor[:, k] = drawn / mode if mode > 0 else 0.0
    for it in magnet_intensities(ctx.dataset, sector):
        row = it.intensity
        value, low, high = (_number(row.get(c)) for c in ("value", "low", "high"))
        if value is None or low is None or high is None or value <= 0 or high <= low:
            continue
        if str(row.get("choice", "chosen")) != "chosen":
            continue
        drawn_i = ctx.sampler.triangular(
            f"exposure.{sector}.intensity", min(low, value), value, max(high, value)
        )
        factor = factor * (drawn_i / value)[:, None]
        break
    return None if np.all(factor == 1.0) else factor


def _growth(work: Work) -> None:
    """Draw each sector's growth over its dataset range, where the row in use has one."""
    ctx, net = work.ctx, work.ctx.net
    columns: list[FloatArray] = []
    drawn_any = False
    for s, sector in enumerate(net.sectors):
        value = net.growth[:, s]
        fact = latest(ctx.dataset, "demand_growth", country=ctx.chain.country, sector=sector.value)
        if (
            fact is not None
            and fact.low is not None
            and fact.high is not None
            and np.allclose(value, fact.value)
            and fact.high > fact.low
        ):
            columns.append(draw_fact(ctx.sampler, fact, f"exposure.{sector.value}.growth"))
            drawn_any = True
        else:
            columns.append(value)
    if drawn_any:
        net.growth = _rows(columns, net.n_draws)


def apply_segments(work: Work) -> None:
    """Write the segments, grades, routes and reach into the network (see the module doc)."""
    ctx, net = work.ctx, work.ctx.net
    d_n, t_n = net.n_draws, net.n_steps
    mags = [COMMODITY_IDS.index(m) for m in MAGNETS]
    steps_per_week = 7.0 / (DAYS_PER_MONTH * net.step_months)
    national = net.segment_cover[:, 0]  # the industry cover every baseline segment starts with
    segments: list[Segment] = []
    owner: list[int] = []
    scales: list[FloatArray] = []
    heavy: list[FloatArray] = []
    for s, sector in enumerate(net.sectors):
        used = float(net.requirement0[s, mags].sum()) > 0
        segs = (
            sector_segments(ctx.dataset, ctx.chain.country, sector.value, ctx.sampler)
            if used
            else [Segment(sector.value, "all", False, np.ones(1), None, None)]
        )
        shares = (
            grade_shares(ctx.dataset, ctx.chain.country, sector.value, ctx.sampler)
            if used
            else None
        )
        light = shares is not None and "ndfeb_light" in shares
        h = np.ones(1)
        if light and shares is not None:
            sintered = shares.get("ndfeb_heavy", np.zeros(1)) + shares["ndfeb_light"]
            h = np.where(
                sintered > 0,
                shares.get("ndfeb_heavy", np.zeros(1)) / np.where(sintered > 0, sintered, 1.0),
                1.0,
            )
        factor = _scale_need(work, s, sector.value) if used else None
        scales.append(np.ones((1, len(COMMODITY_IDS))) if factor is None else factor)
        for seg in segs:
            segments.append(seg)
            owner.append(s)
            heavy.append(h)
    g_n = len(segments)
    net.segments = tuple(seg.name for seg in segments)
    net.segment_sector = np.array(owner, dtype=np.int64)
    net.segment_share = _rows([seg.share for seg in segments], d_n)
    net.segment_cover = _rows(
        [
            national if seg.cover_weeks is None else seg.cover_weeks * steps_per_week
            for seg in segments
        ],
        d_n,
    )
    emb = np.array([seg.embedded for seg in segments], dtype=np.float64)
    net.embedded_share = np.broadcast_to(emb, (1, t_n, g_n)).copy()
    h_rows = _rows(heavy, d_n)
    net.heavy_share = np.broadcast_to(h_rows[:, None, :], (h_rows.shape[0], t_n, g_n)).copy()
    net.exempt = np.zeros((1, t_n, g_n))
    rows = max(v.shape[0] for v in scales)
    net.need_scale = np.stack([np.broadcast_to(v, (rows, v.shape[1])) for v in scales], axis=1)
    _reach(work)
    _growth(work)
    # The industry's magnet cover: its pool buyers' covers weighted by their need.
    weight = net.segment_share * (1.0 - emb)[None, :]  # (1 or D, G)
    need = np.zeros((max(weight.shape[0], net.need_scale.shape[0]), g_n, len(COMMODITY_IDS)))
    need += weight[:, :, None] * (net.requirement0[None] * net.need_scale)[:, net.segment_sector]
    cover = net.segment_cover
    total = need.sum(axis=1)
    weighted = (cover[:, :, None] * need).sum(axis=1)
    rows_c = max(net.cover_steps.shape[0], total.shape[0], weighted.shape[0])
    cover_steps = np.broadcast_to(net.cover_steps, (rows_c, net.cover_steps.shape[1])).copy()
    for k in mags:
        has = np.broadcast_to(total[:, k], (rows_c,)) > 0
        cover_steps[has, k] = (
            np.broadcast_to(weighted[:, k], (rows_c,))[has]
            / np.broadcast_to(total[:, k], (rows_c,))[has]
        )
    net.cover_steps = cover_steps
    work.cover_steps = cover_steps
    work.requirement0 = net.requirement0
    if {seg.sector for seg in segments if seg.group != "all"}:
        work.notes.append(
            "segments: "
            + ", ".join(
                f"{display.name(sector.value)} {sum(1 for o in owner if o == s)}"
                for s, sector in enumerate(net.sectors)
                if sum(1 for o in owner if o == s) > 1 or segments[owner.index(s)].group != "all"
            )
            + " buyer groups (buyer_groups.csv, magnet_routes.csv, magnet_grades.csv)"
        )
