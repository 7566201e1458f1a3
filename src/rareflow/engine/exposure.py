"""Who is short: demand segments, their routes and grades, vectorised over draws.

Each sector's magnet need is split into segments (its buyer groups, ``Network.segments``), and
each segment's need into grade classes (:data:`rareflow.model.network.GRADES`: heavy-rare-earth
and light sintered NdFeB, bonded NdFeB, SmCo) and two routes: bare magnets from the national
pool (imported bare, or made at home) and magnets inside imported components. Each segment holds
its own stock of each grade (its cover), so a buyer group with twelve weeks of magnets keeps
producing while one with four runs dry.

The mechanism, used by :mod:`rareflow.engine.core` at four of the month's events (the plain-loop
twin is in :mod:`rareflow.engine.reference`):

- **requirement**: the segment's need is its sector's requirement times its share, split by
  grade (``heavy_share`` of sintered NdFeB is heavy, the rest light) and by route
  (``embedded_share`` arrives in components);
- **orders**: the national pool orders the bare route's need only; a control's licence takes,
  of each commodity's order, the share of its bare need in grades the control reaches
  (``grade_reach``), less what named-user licences let through (``exempt``);
- **components**: each segment orders components for its embedded need and stock gap; the part
  a control reaches (``embedded_reach``: a content rule on foreign-made goods, in reached grades)
  waits for that control's licence decision, the rest arrives;
- **allocation**: the pool's unassigned magnets go first to needs no control reaches (those
  magnets were ordered and shipped unhindered), then to reached needs tier by tier, in
  proportion to what each segment seeks (its demand plus a share of the gap to its cover);
  each segment then uses what it holds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rareflow.engine.balance import BalanceCheck
from rareflow.model.network import (
    COMMODITY_IDS,
    GRADES,
    FloatArray,
    IntArray,
    Network,
)


def _ratio(part: FloatArray, whole: FloatArray, empty: float = 0.0) -> FloatArray:
    """``part / whole`` where ``whole > 0``, else ``empty``."""
    return np.divide(part, whole, out=np.full_like(part, empty), where=whole > 0)


def _draws_last(arr: FloatArray, cols: IntArray) -> FloatArray:
    """Take columns ``cols`` of a draw-first ``(D or 1, n)`` input, draws last and contiguous."""
    return np.ascontiguousarray(arr[:, cols].T)


class Segments:
    """The segments of a block of draws: their holdings, component queues and records.

    Quantities over segments and grades are laid out draws last, ``(segment, grade, draw)``:
    sums over segments or grades add whole rows, and a per-draw factor broadcasts along the
    contiguous axis. (Draws first, every such operation ran an inner loop over the four grades,
    several times slower.) What the engine hands in and gets back is draw-first.

    Parameters
    ----------
    net
        The block's network.
    act_s
        Positions of the sectors stepped (those with a requirement).
    mag
        Commodity indices of the magnets stepped.
    tiers
        The allocation rounds of reached needs: tier numbers, or ``[-1]`` for one round.
    balance
        The mass-balance checks.
    """

    def __init__(
        self,
        net: Network,
        act_s: IntArray,
        mag: IntArray,
        tiers: list[int],
        balance: BalanceCheck,
    ) -> None:
        d_n = net.n_draws
        self.balance, self.d_n, self.checking = balance, d_n, balance.enabled
        pos = {int(s): i for i, s in enumerate(act_s)}
        self.seg = seg = np.array(
            [g for g, s in enumerate(net.segment_sector) if int(s) in pos], dtype=np.int64
        )
        self.sidx = sidx = np.array([pos[int(net.segment_sector[g])] for g in seg], dtype=np.int64)
        mag_list = [int(k) for k in mag]
        self.q_idx = q_idx = np.array(
            [q for q, g in enumerate(GRADES) if COMMODITY_IDS.index(g.material) in mag_list],
            dtype=np.int64,
        )
        self.gm = gm = np.array(
            [mag_list.index(COMMODITY_IDS.index(GRADES[q].material)) for q in q_idx],
            dtype=np.int64,
        )
        g_n, q_n, m_n, s_n = len(seg), len(q_idx), len(mag_list), len(act_s)
        self.g_n, self.qa_n, self.s_n = g_n, q_n, s_n
        # Sums of grades into magnets and of segments into sectors, in a fixed order: the first
        # member, then each other member added in turn (as a loop would).
        self.m_first, self.m_rest = _members(gm, m_n)
        self.s_first, self.s_rest = _members(sidx, s_n)
        # Rows of the sectors' (S * M, D) requirement that each segment's grade reads.
        self.cell = (sidx[:, None] * m_n + gm[None, :]).reshape(-1)
        self.heavy_q = np.flatnonzero([GRADES[q].heavy for q in q_idx])
        heavy_mats = {GRADES[q].material for q in q_idx if GRADES[q].heavy}
        self.light_q = np.flatnonzero(
            [not GRADES[q].heavy and GRADES[q].material in heavy_mats for q in q_idx]
        )
        self.share = _draws_last(net.segment_share, seg)  # (G, D or 1)
        # Inputs over (draw, step, segment) stay as given (a shared draw axis stays of length
        # 1); each step takes its slice, draws last.
        every = np.array_equal(seg, np.arange(len(net.segment_sector)))
        self.emb, self.exempt, self.heavy = (
            arr if every else arr[:, :, seg]
            for arr in (net.embedded_share, net.exempt, net.heavy_share)
        )
        # Segments ever buying bare from the pool, and ever buying components: each route's
        # arrays hold only its own segments.
        self.pc = pc = np.flatnonzero((self.emb < 1.0).any(axis=(0, 1)))
        self.ec = ec = np.flatnonzero((self.emb > 0.0).any(axis=(0, 1)))
        cover = _draws_last(net.segment_cover, seg)
        self.cover_p, self.cover_e = cover[pc, None, :], cover[ec, None, :]
        self.restock = np.asarray(net.restock_steps, dtype=np.float64).reshape(-1)
        self.emb_reach = _at(net.embedded_reach, d_n)
        self.approval, self.delay = _at(net.approval, d_n), _at(net.delay_steps, d_n)
        # (C, T, Qa): control c covers grade q's commodity at t (from any partner) and the grade.
        active_k = np.asarray(net.licensed[:, :, :, mag].any(axis=2), dtype=np.float64)
        self.c_n = net.licensed.shape[0]
        self.act_q = active_k[:, :, gm] * net.grade_reach[:, q_idx][:, None, :]
        self.reached_q = np.minimum(self.act_q.sum(axis=0), 1.0)  # (T, Qa)
        self.reach = net.grade_reach[:, q_idx]  # (C, Qa)
        # Steps at which a control reaches components at all (its content rule in force).
        reaches = np.asarray(self.emb_reach.any(axis=0), dtype=bool)  # (C,)
        self.comp_on = (self.act_q.any(axis=2) & reaches[:, None]).T  # (T, C)
        tier_of = net.tier[act_s][sidx]
        # The pool segments of each allocation round (a slice when they are adjacent).
        self.rounds = [
            _rows_of(np.ones(len(pc), dtype=bool) if tier == -1 else tier_of[pc] == tier)
            for tier in tiers
        ]
        self.served = net.stockpile_sectors[act_s][sidx][pc]
        self.qlen = qlen = net.max_queue
        e_n = len(ec) * q_n
        self.queue = np.zeros((d_n, qlen, 2, e_n))
        self.queue_rows = self.queue.reshape(d_n * qlen, 2 * e_n)
        self.queue_used = False
        self.rows = np.arange(d_n)
        self.pending = np.zeros((len(ec), q_n, d_n))
        self.held = np.zeros((len(pc), q_n, d_n))
        self.inside = np.zeros((len(ec), q_n, d_n))
        self.no_release = np.zeros((len(pc), q_n, d_n))
        self.no_refused = np.zeros((len(ec), q_n, d_n))
        self.no_applied = np.zeros((d_n, e_n))
        self.no_decided = np.zeros((d_n, 2, e_n))

    def by_magnet(self, x: FloatArray) -> FloatArray:
        """Sum grades (axis -2) into magnets, ``(..., Qa, D)`` to ``(..., M, D)``."""
        out = np.take(x, self.m_first, axis=-2)
        for q, m in self.m_rest:
            out[..., m, :] += x[..., q, :]
        return out

    def by_sector(self, x: FloatArray) -> FloatArray:
        """Sum (G, D) over each sector's segments into (D, S)."""
        out = np.take(x, self.s_first, axis=0)
        for g, s in self.s_rest:
            out[s] += x[g]
        return out.T

    def _totals(self, x: FloatArray) -> FloatArray:
        """(M, D) total per magnet of a route's (segment, grade, draw) quantity."""
        return self.by_magnet(x.sum(axis=0))

    def split(self, t: int, req: FloatArray, dem: FloatArray) -> None:
        """Segment needs and demands by grade and route, from the sectors' (D, S, M)."""
        d_n = req.shape[0]
        h = np.ascontiguousarray(self.heavy[:, t].T)  # (G, D or 1)
        share = self.share
        weight = np.empty((self.g_n, self.qa_n, d_n))
        weight[:] = share[:, None, :]
        for q in self.heavy_q:
            np.multiply(h, share, out=weight[:, q])
        for q in self.light_q:
            np.multiply(1.0 - h, share, out=weight[:, q])
        self.req_rows = req_rows = np.ascontiguousarray(req.reshape(d_n, -1).T)  # (S * M, D)
        dem_rows = np.ascontiguousarray(dem.reshape(d_n, -1).T)
        shape = weight.shape
        self.need = need = np.take(req_rows, self.cell, axis=0).reshape(shape)
        need *= weight
        want = np.take(dem_rows, self.cell, axis=0).reshape(shape)
        want *= weight
        emb = np.ascontiguousarray(self.emb[:, t].T)  # (G, D or 1)
        pool = 1.0 - emb[self.pc, None, :]
        self.pool_need = np.take(need, self.pc, axis=0) * pool
        self.pool_dem = np.take(want, self.pc, axis=0) * pool
        # Magnets inside imported components are bought with them: the bare magnets' price does
        # not ration them.
        e = emb[self.ec, None, :]
        self.emb_need = self.emb_dem = np.take(need, self.ec, axis=0) * e
        self.exempt_t = np.ascontiguousarray(self.exempt[:, t].T)  # (G, D or 1)
        self.use_m = self.by_magnet(self.pool_need.sum(axis=0))  # (M, D)

    def check_split(self, t: int, req: FloatArray) -> None:
        """Each sector's need per magnet = its segments' bare and component needs, all grades."""
        del req  # the same requirement, kept draws last by split
        parts = np.zeros((self.s_n, len(self.m_first), self.d_n))
        for route, part in ((self.pc, self.pool_need), (self.ec, self.emb_need)):
            for g, by_magnet in zip(self.sidx[route], self.by_magnet(part), strict=True):
                parts[g] += by_magnet
        self.balance.split(t, self.req_rows.copy(), parts.reshape(self.req_rows.shape))

    def pool_use(self) -> FloatArray:
        """(D, M) the bare route's need per magnet: what the national pool orders for."""
        return self.use_m.T

    def held_by_magnet(self) -> FloatArray:
        """(D, M) the pool magnets the segments hold."""
        return self.by_magnet(self.held.sum(axis=0)).T

    def open(self, stock_mag: FloatArray) -> None:
        """Open the holdings: the pool's stock held by segments up to their cover of need."""
        target = self.cover_p * self.pool_need
        scale = np.minimum(_ratio(stock_mag.T, self.by_magnet(target.sum(axis=0))), 1.0)
        self.held = target * scale[None, self.gm]
        self.inside = self.cover_e * self.emb_need

    def reach_share(self, t: int, use_mag: FloatArray) -> FloatArray:
        """(D, C, M) share of each magnet's pool order in grades control c reaches now."""
        del t  # the exemptions of the step, taken by split
        keep = 1.0 - self.exempt_t[self.pc, None, :]
        free = (self.pool_need * keep).sum(axis=0)  # (Qa, D)
        reached = self.by_magnet(free[None, :, :] * self.reach[:, :, None])  # (C, M, D)
        share = _ratio(reached, use_mag.T[None], empty=1.0)
        return share.transpose(2, 0, 1)

    def components(self, t: int) -> None:
        """Components: orders, reached parts queued for a licence, decisions, arrivals, use."""
        d_n, q_n = self.d_n, self.qa_n
        e_n = len(self.ec) * q_n
        if self.checking:
            self.inside_before = self._totals(self.inside)
        gap = self.cover_e * self.emb_need - self.inside
        if self.queue_used:
            gap -= self.pending
        order = np.maximum(self.emb_dem + gap / self.restock, 0.0)
        on = np.flatnonzero(self.comp_on[t])
        self.queued_before = self.balance.held(self.queue) if self.queue_used else None
        self.applied, self.decided = self.no_applied, self.no_decided
        self.refused: FloatArray = self.no_refused
        if not len(on) and not self.queue_used:
            self.came = order
        else:
            self.queue_used = True
            keep = 1.0 - self.exempt_t[self.ec, None, :]
            left = np.ones_like(order)
            applied = np.zeros((d_n, e_n))
            qlen, rows = self.qlen, self.rows
            for c in on:
                f = left * (
                    self.act_q[c, t][None, :, None] * self.emb_reach[:, c][None, None, :] * keep
                )
                left = left - f
                part = (order * f).reshape(e_n, d_n).T  # (D, e_n), columns (segment, grade)
                ok = part * self.approval[:, c, t][:, None]
                lo = np.floor(self.delay[:, c, t]).astype(np.int64)
                late = (self.delay[:, c, t] - lo)[:, None]
                both = np.concatenate([ok, part - ok], axis=1)
                self.queue_rows[rows * qlen + (t + lo) % qlen] += both * (1.0 - late)
                self.queue_rows[rows * qlen + (t + lo + 1) % qlen] += both * late
                self.pending += ok.T.reshape(order.shape)
                applied += part
            self.applied = applied
            head = t % qlen
            self.decided = self.queue[:, head].copy()
            self.queue[:, head] = 0.0
            approved = self.decided[:, 0].T.reshape(order.shape)
            self.refused = self.decided[:, 1].T.reshape(order.shape)
            self.pending -= approved
            self.came = order * left + approved
        self.inside += self.came
        self.used_inside = np.minimum(self.emb_dem, self.inside)
        self.inside -= self.used_inside

    def check_components(self, t: int) -> None:
        """Component licence queues and the segments' component stocks balance."""
        totals = self._totals
        self.balance.components(
            t,
            (self.queued_before, self.applied, self.decided[:, 0] + self.decided[:, 1], self.queue),
            (
                self.inside_before,
                totals(self.came),
                totals(self.used_inside),
                totals(self.inside),
            ),
            (self.inside, self.gm),
        )

    def allocate(self, t: int, stock_mag: FloatArray) -> FloatArray:
        """Give the pool's unassigned magnets to segments by the rules; return (D, M) used."""
        stock_m = np.ascontiguousarray(stock_mag.T)  # (M, D)
        held = self.held
        held_m = self.by_magnet(held.sum(axis=0))
        # Holdings are part of the stock: where rounding left them a crumb above it, they are
        # trimmed to it (the stock's own balance is untouched).
        over = held_m > stock_m
        if over.any():
            trim = np.where(over, _ratio(np.maximum(stock_m, 0.0), held_m), 1.0)
            held *= trim[None, self.gm]
            held_m = self.by_magnet(held.sum(axis=0))
        if self.checking:
            self.held_before = held_m
        free = np.maximum(stock_m - held_m, 0.0)
        # seek = max(pool_dem + (cover * pool_need - held) / restock, 0), in place.
        seek = np.multiply(self.cover_p, self.pool_need)
        seek -= held
        seek /= self.restock
        seek += self.pool_dem
        np.maximum(seek, 0.0, out=seek)
        reached = self.reached_q[t][None, :, None] * (1.0 - self.exempt_t[self.pc, None, :])
        # Needs no control reaches first, then reached needs tier by tier (a round with
        # nothing reached adds nothing).
        wanted_q = seek * (1.0 - reached)
        wanted = self.by_magnet(wanted_q.sum(axis=0))
        give = np.minimum(free, wanted)
        intake = wanted_q
        intake *= _ratio(give, wanted)[None, self.gm]
        free -= give
        if reached.any():
            seek *= reached
            for members in self.rounds:
                wanted_q = seek[members]
                wanted = self.by_magnet(wanted_q.sum(axis=0))
                give = np.minimum(free, wanted)
                intake[members] += wanted_q * _ratio(give, wanted)[None, self.gm]
                free -= give
        self.intake = intake
        held += intake
        self.used_pool = used = np.minimum(self.pool_dem, held)
        held -= used
        self.released = self.buffered = self.no_release
        # Summed grade by grade, the use can exceed the stock by a rounding crumb when the
        # segments use all of it (a control that cuts every partner): no more than the stock
        # leaves it, so it never ends below zero.
        return np.minimum(self.by_magnet(used.sum(axis=0)).T, stock_mag)

    def _serve(self, short: FloatArray, room: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Give up to ``room`` (D, M) to the pool segments' ``short``, priority tiers first.

        Within a tier, in proportion to what each is short; returns what each got and what is
        left of ``room`` (D, M).
        """
        got = np.zeros_like(short)
        left = np.array(room.T)
        for members in self.rounds:
            wanted_q = short[members]
            wanted = self.by_magnet(wanted_q.sum(axis=0))
            give = np.minimum(left, wanted)
            got[members] += wanted_q * _ratio(give, wanted)[None, self.gm]
            left -= give
        return got, left.T

    def serve_buffer(self, room: FloatArray) -> FloatArray:
        """Serve what the price rationed away from a private buffer; return the room left."""
        self.buffered, left = self._serve(np.maximum(self.pool_need - self.used_pool, 0.0), room)
        return left

    def serve_stockpile(self, room: FloatArray) -> FloatArray:
        """Release the stockpile to the served sectors' segments short of need; return the rest."""
        short = np.maximum(self.pool_need - self.used_pool - self.buffered, 0.0)
        short = np.where(self.served[:, None, None], short, 0.0)
        self.released, left = self._serve(short, room)
        return left

    def served_fill(self) -> FloatArray:
        """(D, M) share of the served sectors' bare need that the pool and buffers met this step.

        The stockpile's trigger: the national stock counts the cover each segment holds for
        itself, so a stock above one month's need can sit beside segments that are short.
        1 where the served sectors need none of a magnet.
        """
        mask = self.served[:, None, None]
        need = self.by_magnet(np.where(mask, self.pool_need, 0.0).sum(axis=0))
        got = self.by_magnet(np.where(mask, self.used_pool + self.buffered, 0.0).sum(axis=0))
        fill: FloatArray = np.divide(
            np.minimum(got, need), need, out=np.ones_like(need), where=need > 0
        )
        return fill.T

    def served_short(self, tolerance: float) -> NDArray[np.bool_]:
        """(D, M) whether a segment of a sector the stockpile serves got less than its need."""
        got = self.used_pool + self.buffered + self.released
        short = self.served[:, None, None] & (got < self.pool_need * (1.0 - tolerance))
        count = self.by_magnet(np.asarray(short.any(axis=0), dtype=np.float64))
        return np.asarray(count > 0).T

    def check_holdings(self, t: int, stock_mag: FloatArray) -> None:
        """Segments' pool holdings: before + intake = used + after, within the focal stock."""
        after, intake = self._totals(self.held), self._totals(self.intake)
        self.balance.holdings(
            t,
            (self.held_before, intake, self._totals(self.used_pool), after),
            (self.held, self.gm),
            pool=(after, np.ascontiguousarray(stock_mag.T), self.held_before + intake),
        )

    def need_by_segment(self) -> FloatArray:
        """(G, D) magnet each segment needs, all routes and grades."""
        return _by_grade(self.need)

    def delivered(self) -> FloatArray:
        """(G, D) magnet each segment used: from its holdings, the stockpile and components."""
        out = np.zeros((self.g_n, self.d_n))
        used = self.used_pool
        if self.buffered is not self.no_release:
            used = used + self.buffered
        if self.released is not self.no_release:
            used = used + self.released
        out[self.pc] += _by_grade(used)
        out[self.ec] += _by_grade(self.used_inside)
        return out

    def sought(self) -> FloatArray:
        """(G, D) magnet each segment sought: bare after the price response, and components."""
        out = np.zeros((self.g_n, self.d_n))
        out[self.pc] += _by_grade(self.pool_dem)
        out[self.ec] += _by_grade(self.emb_dem)
        return out

    def by_segment(self, x: FloatArray) -> FloatArray:
        """(D, G) a component-route quantity (Ge, Qa, D) summed over grades, 0 elsewhere."""
        out = np.zeros((self.g_n, self.d_n))
        out[self.ec] = _by_grade(x)
        return out.T


def _at(arr: FloatArray, n: int) -> FloatArray:
    """Broadcast a leading draw axis of length 1 to ``n``."""
    return np.broadcast_to(arr, (n, *arr.shape[1:])) if arr.shape[0] == 1 else arr


def _members(group: IntArray, n: int) -> tuple[IntArray, list[tuple[int, int]]]:
    """Return, for a sum of members into ``n`` groups, each group's first member.

    And (member, group) for the others, in order. Every group has a member.
    """
    first = np.array([int(np.flatnonzero(group == i)[0]) for i in range(n)], dtype=np.int64)
    rest = [(int(j), i) for i in range(n) for j in np.flatnonzero(group == i)[1:]]
    return first, rest


def _rows_of(member: NDArray[np.bool_]) -> slice | IntArray:
    """Return the positions of ``member``: a slice when they are adjacent, else an index array."""
    at = np.flatnonzero(member)
    if len(at) and at[-1] - at[0] + 1 == len(at):
        return slice(int(at[0]), int(at[-1]) + 1)
    return at


def _by_grade(x: FloatArray) -> FloatArray:
    """Sum (G, Qa, D) over grades into (G, D), grade by grade in order.

    As ``sum(axis=1)``, without a reduction over a middle axis (an inner loop per grade).
    """
    if not x.shape[1]:
        return np.zeros((x.shape[0], x.shape[2]))
    out: FloatArray = x[:, 0].copy()
    for q in range(1, x.shape[1]):
        out += x[:, q]
    return out
