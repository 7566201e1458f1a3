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


def _at(arr: FloatArray, n: int) -> FloatArray:
    """Broadcast a leading draw axis of length 1 to ``n``."""
    return np.broadcast_to(arr, (n, *arr.shape[1:])) if arr.shape[0] == 1 else arr


def _ratio(part: FloatArray, whole: FloatArray, empty: float = 0.0) -> FloatArray:
    """``part / whole`` where ``whole > 0``, else ``empty``."""
    return np.divide(part, whole, out=np.full_like(part, empty), where=whole > 0)


class Segments:
    """The segments of a block of draws: their holdings, component queues and records.

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
        self.balance, self.d_n = balance, d_n
        pos = {int(s): i for i, s in enumerate(act_s)}
        self.seg = seg = np.array(
            [g for g, s in enumerate(net.segment_sector) if int(s) in pos], dtype=np.int64
        )
        self.sidx = np.array([pos[int(net.segment_sector[g])] for g in seg], dtype=np.int64)
        mag_list = [int(k) for k in mag]
        self.q_idx = q_idx = np.array(
            [q for q, g in enumerate(GRADES) if COMMODITY_IDS.index(g.material) in mag_list],
            dtype=np.int64,
        )
        self.gm = gm = np.array(
            [mag_list.index(COMMODITY_IDS.index(GRADES[q].material)) for q in q_idx],
            dtype=np.int64,
        )
        g_n, q_n, m_n = len(seg), len(q_idx), len(mag_list)
        self.g_n, self.qa_n = g_n, q_n
        # Grades of each magnet and segments of each sector, to sum over (a matrix product
        # would round differently with the number of draws in a block).
        self.of_m = [np.flatnonzero(gm == m) for m in range(m_n)]
        self.of_s = [np.flatnonzero(self.sidx == s) for s in range(len(act_s))]
        self.heavy_q = np.array([GRADES[q].heavy for q in q_idx], dtype=bool)
        heavy_mats = {GRADES[q].material for q in q_idx if GRADES[q].heavy}
        self.light_q = np.array(
            [not GRADES[q].heavy and GRADES[q].material in heavy_mats for q in q_idx], dtype=bool
        )
        self.share = _at(net.segment_share, d_n)[:, seg]
        emb = _at(net.embedded_share, d_n)[:, :, seg]
        # Segments ever buying bare from the pool, and ever buying components: each route's
        # arrays hold only its own segments.
        self.pc = pc = np.flatnonzero((emb < 1.0).any(axis=(0, 1)))
        self.ec = ec = np.flatnonzero((emb > 0.0).any(axis=(0, 1)))
        cover = _at(net.segment_cover, d_n)[:, seg]
        exempt = _at(net.exempt, d_n)[:, :, seg]
        self.cover_p, self.cover_e = cover[:, pc, None], cover[:, ec, None]
        self.exempt_p, self.exempt_e = exempt[:, :, pc], exempt[:, :, ec]
        self.emb_p, self.emb_e = emb[:, :, pc], emb[:, :, ec]
        self.heavy = _at(net.heavy_share, d_n)[:, :, seg]
        self.restock = _at(net.restock_steps, d_n)[:, None, None]
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
        tier_of = net.tier[act_s][self.sidx]
        self.rounds = [
            np.ones(len(pc), dtype=bool) if tier == -1 else tier_of[pc] == tier for tier in tiers
        ]
        self.served = net.stockpile_sectors[act_s][self.sidx][pc]
        self.qlen = qlen = net.max_queue
        e_n = len(ec) * q_n
        self.queue = np.zeros((d_n, qlen, 2, e_n))
        self.queue_rows = self.queue.reshape(d_n * qlen, 2 * e_n)
        self.queue_used = False
        self.rows = np.arange(d_n)
        self.pending = np.zeros((d_n, len(ec), q_n))
        self.held = np.zeros((d_n, len(pc), q_n))
        self.inside = np.zeros((d_n, len(ec), q_n))
        self.no_release = np.zeros((d_n, len(pc), q_n))
        self.no_refused = np.zeros((d_n, len(ec), q_n))
        self.no_applied = np.zeros((d_n, e_n))
        self.no_decided = np.zeros((d_n, 2, e_n))

    def by_magnet(self, x: FloatArray) -> FloatArray:
        """Sum the last axis, grades, into magnets (in a fixed order)."""
        out = np.zeros((*x.shape[:-1], len(self.of_m)))
        for m, cols in enumerate(self.of_m):
            for q in cols:
                out[..., m] += x[..., q]
        return out

    def by_sector(self, x: FloatArray) -> FloatArray:
        """Sum (D, G) over each sector's segments into (D, S)."""
        out = np.zeros((x.shape[0], len(self.of_s)))
        for s, cols in enumerate(self.of_s):
            for g in cols:
                out[:, s] += x[:, g]
        return out

    def split(self, t: int, req: FloatArray, dem: FloatArray) -> None:
        """Segment needs and demands by grade and route, from the sectors' (D, S, M)."""
        h = self.heavy[:, t]
        w = np.ones((self.d_n, self.g_n, self.qa_n))
        w[:, :, self.heavy_q] = h[:, :, None]
        w[:, :, self.light_q] = 1.0 - h[:, :, None]
        weight = w * self.share[:, :, None]
        cells = (slice(None), self.sidx[:, None], self.gm[None, :])
        self.need = need = req[cells] * weight
        want = dem[cells] * weight
        pool = 1.0 - self.emb_p[:, t, :, None]
        self.pool_need, self.pool_dem = need[:, self.pc] * pool, want[:, self.pc] * pool
        # Magnets inside imported components are bought with them: the bare magnets' price does
        # not ration them.
        e = self.emb_e[:, t, :, None]
        self.emb_need = self.emb_dem = need[:, self.ec] * e

    def check_split(self, t: int, req: FloatArray) -> None:
        """Each sector's need per magnet = its segments' bare and component needs, all grades."""
        parts = np.zeros_like(req)
        by_grade = np.zeros_like(self.need)  # (D, G, Qa)
        by_grade[:, self.pc] += self.pool_need
        by_grade[:, self.ec] += self.emb_need
        for g in range(self.g_n):
            parts[:, self.sidx[g]] += self.by_magnet(by_grade[:, g])
        self.balance.split(t, req, parts)

    def pool_use(self) -> FloatArray:
        """(D, M) the bare route's need per magnet: what the national pool orders for."""
        used: FloatArray = self.by_magnet(self.pool_need.sum(axis=1))
        return used

    def open(self, stock_mag: FloatArray) -> None:
        """Open the holdings: the pool's stock held by segments up to their cover of need."""
        target = self.cover_p * self.pool_need
        scale = np.minimum(_ratio(stock_mag, self.by_magnet(target.sum(axis=1))), 1.0)
        self.held = target * scale[:, None, self.gm]
        self.inside = self.cover_e * self.emb_need

    def reach_share(self, t: int, use_mag: FloatArray) -> FloatArray:
        """(D, C, M) share of each magnet's pool order in grades control c reaches now."""
        free = (self.pool_need * (1.0 - self.exempt_p[:, t, :, None])).sum(axis=1)  # (D, Qa)
        reached = self.by_magnet(free[:, None, :] * self.reach[None])  # (D, C, M)
        return _ratio(reached, use_mag[:, None, :], empty=1.0)

    def components(self, t: int) -> None:
        """Components: orders, reached parts queued for a licence, decisions, arrivals, use."""
        d_n, q_n = self.d_n, self.qa_n
        e_n = len(self.ec) * q_n
        self.inside_before = self.inside.copy()
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
            keep = 1.0 - self.exempt_e[:, t, :, None]
            left = np.ones_like(order)
            applied = np.zeros((d_n, e_n))
            qlen, rows = self.qlen, self.rows
            for c in on:
                f = left * (
                    self.act_q[c, t][None, None, :] * self.emb_reach[:, c, None, None] * keep
                )
                left = left - f
                part = (order * f).reshape(d_n, e_n)
                ok = part * self.approval[:, c, t][:, None]
                lo = np.floor(self.delay[:, c, t]).astype(np.int64)
                late = (self.delay[:, c, t] - lo)[:, None]
                both = np.concatenate([ok, part - ok], axis=1)
                self.queue_rows[rows * qlen + (t + lo) % qlen] += both * (1.0 - late)
                self.queue_rows[rows * qlen + (t + lo + 1) % qlen] += both * late
                self.pending += ok.reshape(order.shape)
                applied += part
            self.applied = applied
            head = t % qlen
            self.decided = self.queue[:, head].copy()
            self.queue[:, head] = 0.0
            approved = self.decided[:, 0].reshape(order.shape)
            self.refused = self.decided[:, 1].reshape(order.shape)
            self.pending -= approved
            self.came = order * left + approved
        self.inside += self.came
        self.used_inside = np.minimum(self.emb_dem, self.inside)
        self.inside -= self.used_inside

    def check_components(self, t: int) -> None:
        """Component licence queues and the segments' component stocks balance."""
        self.balance.components(
            t,
            (self.queued_before, self.applied, self.decided.sum(axis=1), self.queue),
            (self.inside_before, self.came, self.used_inside, self.inside),
        )

    def allocate(self, t: int, stock_mag: FloatArray) -> FloatArray:
        """Give the pool's unassigned magnets to segments by the rules; return (D, M) used."""
        # Holdings are part of the stock: where rounding left them a crumb above it, they are
        # trimmed to it (the stock's own balance is untouched).
        held_m = self.by_magnet(self.held.sum(axis=1))
        trim = np.where(held_m > stock_mag, _ratio(np.maximum(stock_mag, 0.0), held_m), 1.0)
        self.held = held = self.held * trim[:, None, self.gm]
        self.held_before = held.copy()
        free = np.maximum(stock_mag - self.by_magnet(held.sum(axis=1)), 0.0)
        gap = self.cover_p * self.pool_need - held
        seek = np.maximum(self.pool_dem + gap / self.restock, 0.0)
        reached = self.reached_q[t][None, None, :] * (1.0 - self.exempt_p[:, t, :, None])
        intake = np.zeros_like(seek)
        rounds = [seek * (1.0 - reached)]
        rounds += [seek * reached * member[None, :, None] for member in self.rounds]
        for wanted_q in rounds:
            wanted = self.by_magnet(wanted_q.sum(axis=1))
            give = np.minimum(free, wanted)
            intake += wanted_q * _ratio(give, wanted)[:, None, self.gm]
            free = free - give
        self.intake = intake
        held += intake
        self.used_pool = used = np.minimum(self.pool_dem, held)
        held -= used
        self.released = self.buffered = self.no_release
        out: FloatArray = self.by_magnet(used.sum(axis=1))
        return out

    def _serve(self, short: FloatArray, room: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Give up to ``room`` (D, M) to the pool segments' ``short``, priority tiers first.

        Within a tier, in proportion to what each is short; returns what each got and what is
        left of ``room``.
        """
        got = np.zeros_like(short)
        left = room.copy()
        for member in self.rounds:
            wanted_q = short * member[None, :, None]
            wanted = self.by_magnet(wanted_q.sum(axis=1))
            give = np.minimum(left, wanted)
            got += wanted_q * _ratio(give, wanted)[:, None, self.gm]
            left -= give
        return got, left

    def serve_buffer(self, room: FloatArray) -> FloatArray:
        """Serve what the price rationed away from a private buffer; return the room left."""
        self.buffered, left = self._serve(np.maximum(self.pool_need - self.used_pool, 0.0), room)
        return left

    def serve_stockpile(self, room: FloatArray) -> FloatArray:
        """Release the stockpile to the served sectors' segments short of need; return the rest."""
        short = np.maximum(self.pool_need - self.used_pool - self.buffered, 0.0)
        short = np.where(self.served[None, :, None], short, 0.0)
        self.released, left = self._serve(short, room)
        return left

    def served_fill(self) -> FloatArray:
        """(D, M) share of the served sectors' bare need that the pool and buffers met this step.

        The stockpile's trigger: the national stock counts the cover each segment holds for
        itself, so a stock above one month's need can sit beside segments that are short.
        1 where the served sectors need none of a magnet.
        """
        mask = self.served[None, :, None]
        need = self.by_magnet(np.where(mask, self.pool_need, 0.0).sum(axis=1))
        got = self.by_magnet(np.where(mask, self.used_pool + self.buffered, 0.0).sum(axis=1))
        fill: FloatArray = np.divide(
            np.minimum(got, need), need, out=np.ones_like(need), where=need > 0
        )
        return fill

    def served_short(self, tolerance: float) -> NDArray[np.bool_]:
        """(D, M) whether a segment of a sector the stockpile serves got less than its need."""
        got = self.used_pool + self.buffered + self.released
        short = self.served[None, :, None] & (got < self.pool_need * (1.0 - tolerance))
        count = self.by_magnet(np.asarray(short.any(axis=1), dtype=np.float64))
        return np.asarray(count > 0)

    def check_holdings(self, t: int, stock_mag: FloatArray) -> None:
        """Segments' pool holdings: before + intake = used + after, within the focal stock."""
        self.balance.holdings(
            t,
            self.held_before,
            self.intake,
            self.used_pool,
            self.held,
            pool=(
                self.by_magnet(self.held.sum(axis=1)),
                stock_mag,
                self.by_magnet((self.held_before + self.intake).sum(axis=1)),
            ),
        )

    def delivered(self) -> FloatArray:
        """(D, G) magnet each segment used: from its holdings, the stockpile and components."""
        out = np.zeros((self.d_n, self.g_n))
        out[:, self.pc] += (self.used_pool + self.buffered + self.released).sum(axis=2)
        out[:, self.ec] += self.used_inside.sum(axis=2)
        return out

    def sought(self) -> FloatArray:
        """(D, G) magnet each segment sought: bare after the price response, and components."""
        out = np.zeros((self.d_n, self.g_n))
        out[:, self.pc] += self.pool_dem.sum(axis=2)
        out[:, self.ec] += self.emb_dem.sum(axis=2)
        return out

    def by_segment(self, x: FloatArray) -> FloatArray:
        """(D, G) a component-route quantity (D, Ge, Qa) summed over grades, 0 elsewhere."""
        out = np.zeros((self.d_n, self.g_n))
        out[:, self.ec] = x.sum(axis=2)
        return out
