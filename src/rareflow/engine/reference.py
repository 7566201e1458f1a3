"""A slow, plainly written reference stepper for one draw, to test the vectorised engine against.

It implements the same named events (:data:`rareflow.engine.events.EVENTS`), in the same order
and with the same meaning as :mod:`rareflow.engine.core`, but in scalar Python loops over
sectors, commodities, partners, processes and controls, and it keeps pending licence decisions
and goods at sea in dictionaries keyed by the step they fall due, rather than in shifting
arrays. NumPy is used only to read the network's inputs and to return the results as a
:class:`~rareflow.engine.core.Trajectory` with a ``draw`` axis of length 1.
"""

from __future__ import annotations

import math

import numpy as np

from rareflow.engine.core import WHOLE_TOLERANCE, Trajectory
from rareflow.engine.events import EVENTS
from rareflow.model.network import COMMODITY_IDS, GRADES, MAGNETS, FloatArray, Network

Vector = list[float]
Matrix = list[list[float]]


def _of_draw(arr: FloatArray, draw: int) -> FloatArray:
    """Take ``draw``'s slice of ``arr``, whose leading axis of length 1 is shared by all draws."""
    return np.asarray(arr[0] if arr.shape[0] == 1 else arr[draw], dtype=np.float64)


def _zeros(rows: int, cols: int) -> Matrix:
    return [[0.0] * cols for _ in range(rows)]


def _add_due(
    book: dict[int, Matrix], due: int, p: int, k: int, amount: float, shape: tuple[int, int]
) -> None:
    """Add ``amount`` of partner ``p``'s commodity ``k`` to what falls due at step ``due``."""
    if due not in book:
        book[due] = _zeros(*shape)
    book[due][p][k] += amount


def _add_due_grade(
    book: dict[int, Matrix], due: int, g: int, q: int, amount: float, shape: tuple[int, int]
) -> None:
    """Add ``amount`` of segment ``g``'s grade ``q`` in components to what falls due at ``due``."""
    if due not in book:
        book[due] = _zeros(*shape)
    book[due][g][q] += amount


def simulate_reference(net: Network, draw: int) -> Trajectory:
    """Run one draw of the network step by step in plain Python.

    Parameters
    ----------
    net
        The compiled network.
    draw
        Position of the draw along the network's ``draw`` axis.

    Returns
    -------
    Trajectory
        The run, with a ``draw`` axis of length 1 so that it compares elementwise with
        ``simulate(net)`` at ``[draw]``; shipments by partner are always kept.
    """
    month = _Draw(net, draw)
    events = [getattr(month, e.name) for e in EVENTS]
    for t in range(net.n_steps):
        for event in events:
            event(t)
        month.record(t)
    return month.trajectory()


class _Draw:
    """One draw's state in plain Python lists, and the month's events over it (:data:`EVENTS`)."""

    def __init__(self, net: Network, draw: int) -> None:
        self.net = net
        t_n = net.n_steps
        s_n, k_n = len(net.sectors), len(COMMODITY_IDS)
        p_n, j_n = len(net.partners), len(net.processes)
        self.t_n, self.s_n, self.k_n, self.p_n, self.j_n = t_n, s_n, k_n, p_n, j_n
        self.c_n = int(net.licensed.shape[0])
        self.mags = mags = [COMMODITY_IDS.index(m) for m in MAGNETS]
        self.is_magnet = is_magnet = [k in mags for k in range(k_n)]

        self.growth: Vector = _of_draw(net.growth, draw).tolist()
        self.capacity: Matrix = _of_draw(net.capacity, draw).tolist()
        self.surge: Matrix = _of_draw(net.surge, draw).tolist()
        self.approval: Matrix = _of_draw(net.approval, draw).tolist()
        self.delay: Matrix = _of_draw(net.delay_steps, draw).tolist()
        self.cut: list[Matrix] = _of_draw(net.cut, draw).tolist()
        self.elasticity = float(_of_draw(net.elasticity, draw))
        self.adjustment = float(_of_draw(net.adjustment, draw))
        self.cover: Vector = _of_draw(net.cover_steps, draw).tolist()
        self.restock = float(_of_draw(net.restock_steps, draw))
        self.local: Matrix = _of_draw(net.local_supply, draw).tolist()
        self.stock: Vector = _of_draw(net.stock0, draw).tolist()
        self.contract: list[Matrix] = _of_draw(net.contract, draw).tolist()
        self.pile: Vector = _of_draw(net.stockpile0, draw).tolist()
        self.pile_target: Matrix = _of_draw(net.stockpile_target, draw).tolist()
        self.pile_fill: Vector = _of_draw(net.stockpile_fill, draw).tolist()
        self.pile_release: Vector = _of_draw(net.stockpile_release, draw).tolist()
        self.pile_trigger = float(_of_draw(net.stockpile_trigger, draw))
        self.pile_sectors = [bool(v) for v in net.stockpile_sectors.tolist()]
        self.buffer: Vector = _of_draw(net.buffer_steps, draw).tolist()
        # Segments (buyer groups), their grades and routes.
        self.g_n, self.q_n = g_n, q_n = len(net.segments), len(GRADES)
        self.seg_sector = [int(v) for v in net.segment_sector.tolist()]
        self.seg_share: Vector = _of_draw(net.segment_share, draw).tolist()
        self.seg_cover: Vector = _of_draw(net.segment_cover, draw).tolist()
        self.emb: Matrix = _of_draw(net.embedded_share, draw).tolist()
        self.heavy: Matrix = _of_draw(net.heavy_share, draw).tolist()
        self.exempt: Matrix = _of_draw(net.exempt, draw).tolist()
        self.emb_reach: Vector = _of_draw(net.embedded_reach, draw).tolist()
        self.grade_reach: Matrix = net.grade_reach.tolist()
        self.grade_k = [COMMODITY_IDS.index(g.material) for g in GRADES]
        self.heavy_q = [g.heavy for g in GRADES]
        heavy_mats = {g.material for g in GRADES if g.heavy}
        self.light_q = [not g.heavy and g.material in heavy_mats for g in GRADES]
        # A control reaches grade q at t when it licenses q's commodity from some partner.
        licensed_at: list[list[Matrix]] = net.licensed.tolist()
        self.act_q = [
            [
                [
                    (1.0 if any(licensed_at[c][t][p][self.grade_k[q]] for p in range(p_n)) else 0.0)
                    * self.grade_reach[c][q]
                    for q in range(q_n)
                ]
                for t in range(t_n)
            ]
            for c in range(self.c_n)
        ]
        self.held = _zeros(g_n, q_n)
        self.inside = _zeros(g_n, q_n)
        self.pending = _zeros(g_n, q_n)
        self.comp_ok: dict[int, Matrix] = {}
        self.comp_no: dict[int, Matrix] = {}
        self.whole_prev = [True] * k_n
        scale = _of_draw(net.need_scale, draw)
        self.req0: Matrix = (net.requirement0 * scale).tolist()
        self.multiplier: list[Matrix] = _of_draw(net.demand_multiplier, draw).tolist()
        self.proc_in: Matrix = net.proc_in.tolist()
        self.proc_out: Matrix = net.proc_out.tolist()
        self.share: Matrix = net.share.tolist()
        self.lead = [int(v) for v in net.lead_steps.tolist()]
        self.licensed: list[list[Matrix]] = net.licensed.tolist()
        self.licence_scale: Matrix = _of_draw(net.licence_scale, draw).tolist()
        tier = [int(v) for v in net.tier.tolist()]
        # Materials without a known price add nothing to the import bill; prices are per kg.
        self.base_price = [0.0 if math.isnan(v) else v * 1000.0 for v in net.base_price.tolist()]
        self.years_per_step = net.step_months / 12.0
        if net.proportional_only:
            self.groups = [list(range(s_n))]
            self.elastic = [True] * s_n
        else:
            self.groups = [[s for s in range(s_n) if tier[s] == lv] for lv in sorted(set(tier))]
            # Sectors in no priority tier answer the price; priority sectors take their need.
            self.elastic = [bool(v) for v in net.elastic.tolist()]
        self.seg_rounds = [
            [g for g in range(g_n) if self.seg_sector[g] in members] for members in self.groups
        ]

        # Warm start: last step's domestic output is full-capacity output plus local supply,
        # and every partner's share of the baseline imports is at sea for each step of its lead.
        capacity, proc_in, proc_out, local = self.capacity, self.proc_in, self.proc_out, self.local
        self.last_out = [
            sum(capacity[0][j] * proc_out[j][k] for j in range(j_n)) + local[0][k]
            for k in range(k_n)
        ]
        first = [
            [self.req0[s][k] * self.multiplier[0][s][k] for k in range(k_n)] for s in range(s_n)
        ]
        self._split(0, first, first)
        pool0 = self._pool_use()
        self.at_sea_book: dict[int, Vector] = {}
        for k in range(k_n):
            use0 = sum(capacity[0][j] * proc_in[j][k] for j in range(j_n))
            if is_magnet[k]:
                use0 += pool0[k]
            baseline = max(use0 - self.last_out[k], 0.0)
            for p in range(p_n):
                for due in range(self.lead[p]):
                    self.at_sea_book.setdefault(due, [0.0] * k_n)[k] += baseline * self.share[p][k]
        self.pipeline_steps = [
            sum(self.share[p][k] * self.lead[p] for p in range(p_n)) for k in range(k_n)
        ]
        # Pending licence decisions by the step they fall due, to be approved or refused.
        self.pending_ok: dict[int, Matrix] = {}
        self.pending_no: dict[int, Matrix] = {}
        self.price = [1.0] * k_n
        # Opening holdings: the pool's stock held by segments up to their cover of need.
        target = [
            [self.seg_cover[g] * self.pool_need[g][q] for q in range(q_n)] for g in range(g_n)
        ]
        for k in mags:
            total = sum(
                target[g][q] for g in range(g_n) for q in range(q_n) if self.grade_k[q] == k
            )
            fit = min(self.stock[k] / total if total > 0 else 0.0, 1.0)
            for g in range(g_n):
                for q in range(q_n):
                    if self.grade_k[q] == k:
                        self.held[g][q] = target[g][q] * fit
        for g in range(g_n):
            for q in range(q_n):
                self.inside[g][q] = self.seg_cover[g] * self.emb_need[g][q]

        self.rec_seg_req, self.rec_seg_dem = _zeros(t_n, g_n), _zeros(t_n, g_n)
        self.rec_seg_del, self.rec_seg_refused = _zeros(t_n, g_n), _zeros(t_n, g_n)
        self.rec_seg_components = _zeros(t_n, g_n)
        self.rec_req, self.rec_dem = _zeros(t_n, s_n), _zeros(t_n, s_n)
        self.rec_del = _zeros(t_n, s_n)
        self.rec_stock, self.rec_imports = _zeros(t_n, k_n), _zeros(t_n, k_n)
        self.rec_refused, self.rec_exported = _zeros(t_n, k_n), _zeros(t_n, k_n)
        self.rec_price, self.rec_pile = _zeros(t_n, k_n), _zeros(t_n, k_n)
        self.rec_pile_in, self.rec_pile_out = _zeros(t_n, k_n), _zeros(t_n, k_n)
        self.rec_production = _zeros(t_n, j_n)
        self.rec_shipped = [_zeros(p_n, k_n) for _ in range(t_n)]
        self.rec_cost = [0.0] * t_n

    def requirement(self, t: int) -> None:
        """1. Requirement grows with demand; what elastic sectors seek answers the price."""
        self.req = req = _zeros(self.s_n, self.k_n)
        self.dem = dem = _zeros(self.s_n, self.k_n)
        for s in range(self.s_n):
            grow = (1.0 + self.growth[s]) ** (t * self.years_per_step)
            for m in self.mags:
                req[s][m] = self.req0[s][m] * grow * self.multiplier[t][s][m]
                dem[s][m] = (
                    req[s][m] * self.price[m] ** self.elasticity if self.elastic[s] else req[s][m]
                )
        self._split(t, req, dem)

    def _split(self, t: int, req: Matrix, dem: Matrix) -> None:
        """Each segment's need and demand by grade, split into the bare and component routes."""
        g_n, q_n = self.g_n, self.q_n
        self.need, self.want = _zeros(g_n, q_n), _zeros(g_n, q_n)
        self.pool_need, self.pool_dem = _zeros(g_n, q_n), _zeros(g_n, q_n)
        self.emb_need, self.emb_dem = _zeros(g_n, q_n), _zeros(g_n, q_n)
        for g in range(g_n):
            s, e = self.seg_sector[g], self.emb[t][g]
            for q in range(q_n):
                k = self.grade_k[q]
                if not self.is_magnet[k]:
                    continue
                h = self.heavy[t][g]
                w = h if self.heavy_q[q] else (1.0 - h if self.light_q[q] else 1.0)
                weight = w * self.seg_share[g]
                self.need[g][q] = req[s][k] * weight
                self.want[g][q] = dem[s][k] * weight
                self.pool_need[g][q] = self.need[g][q] * (1.0 - e)
                self.pool_dem[g][q] = self.want[g][q] * (1.0 - e)
                # Magnets inside components are bought with them: the bare price does not
                # ration them.
                self.emb_need[g][q] = self.need[g][q] * e
                self.emb_dem[g][q] = self.emb_need[g][q]
                self.want[g][q] = self.pool_dem[g][q] + self.emb_dem[g][q]

    def _pool_use(self) -> Vector:
        """Return the bare route's need per commodity: what the national pool orders for."""
        use = [0.0] * self.k_n
        for g in range(self.g_n):
            for q in range(self.q_n):
                use[self.grade_k[q]] += self.pool_need[g][q]
        return use

    def orders(self, t: int) -> None:
        """2. Orders: the plan net of domestic output plus a share of the gap to the target.

        The target position includes what should be at sea and the approvals that should be
        pending; licensed parts join the queues, due after their delay (a fraction of a step
        splits an application between the two steps around it); the rest ships freely.
        """
        k_n, p_n, j_n, c_n = self.k_n, self.p_n, self.j_n, self.c_n
        share, licensed, scale = self.share, self.licensed, self.licence_scale
        approval, delay = self.approval, self.delay
        self.use = use = [0.0] * k_n
        pool = self._pool_use()
        # Of the share of a magnet's order a control takes, only the part in grades it reaches
        # (the pool's need there, less what named-user licences let through) queues for its
        # licence; the rest ships free.
        gate = [[1.0] * k_n for _ in range(c_n)]
        for k in range(k_n):
            if self.is_magnet[k]:
                use[k] = pool[k]
                for c in range(c_n):
                    reached = sum(
                        self.pool_need[g][q] * (1.0 - self.exempt[t][g]) * self.grade_reach[c][q]
                        for g in range(self.g_n)
                        for q in range(self.q_n)
                        if self.grade_k[q] == k
                    )
                    gate[c][k] = reached / use[k] if use[k] > 0 else 1.0
            use[k] += sum(self.capacity[t][j] * self.proc_in[j][k] for j in range(j_n))
        orders = _zeros(p_n, k_n)
        for k in range(k_n):
            in_transit = sum(v[k] for v in self.at_sea_book.values())
            expected_ok = sum(book[p][k] for book in self.pending_ok.values() for p in range(p_n))
            position = self.stock[k] + in_transit + expected_ok
            # Approvals that should be pending: each partner's share, controls in order, times
            # the approval probability and the delay of an application made now.
            pending_steps = 0.0
            for p in range(p_n):
                left = share[p][k]
                for c in range(c_n):
                    taken = left * licensed[c][t][p][k] * scale[c][p]
                    left -= taken
                    pending_steps += taken * gate[c][k] * approval[c][t] * delay[c][t]
            imported = max(use[k] - self.last_out[k], 0.0)
            gap = (
                self.cover[k] * use[k]
                + imported * (self.pipeline_steps[k] + pending_steps)
                - position
            )
            desired = max(use[k] - self.last_out[k] + gap / self.restock, 0.0)
            # The stockpile tenders for its own purchases while the market was whole last step.
            if self.whole_prev[k]:
                desired += min(self.pile_fill[k], max(self.pile_target[t][k] - self.pile[k], 0.0))
            for p in range(p_n):
                orders[p][k] = desired * share[p][k]

        # Refusals the buyers expect, controls applied in order to what earlier ones left free;
        # a control covers all of its exporter's flow and, for other partners, the share its
        # re-export rule catches (the licence scale).
        expected_refused = [0.0] * k_n
        for p in range(p_n):
            for k in range(k_n):
                left = orders[p][k]
                for c in range(c_n):
                    taken = left * licensed[c][t][p][k] * scale[c][p]
                    left -= taken
                    expected_refused[k] += taken * gate[c][k] * (1.0 - approval[c][t])
        # They are sought from partners with surge room, in proportion to that room.
        for k in range(k_n):
            room = [self.surge[t][p] * orders[p][k] for p in range(p_n)]
            room_total = sum(room)
            take = min(expected_refused[k], room_total) / room_total if room_total > 0 else 0.0
            for p in range(p_n):
                orders[p][k] += room[p] * take

        self.free = free = _zeros(p_n, k_n)
        shape = (p_n, k_n)
        for p in range(p_n):
            for k in range(k_n):
                left = orders[p][k]
                unreached = 0.0
                for c in range(c_n):
                    taken = left * licensed[c][t][p][k] * scale[c][p]
                    left -= taken
                    part = taken * gate[c][k]
                    unreached += taken - part
                    a = approval[c][t]
                    first = math.floor(delay[c][t])
                    late = delay[c][t] - first
                    ok, no = self.pending_ok, self.pending_no
                    _add_due(ok, t + first, p, k, part * a * (1.0 - late), shape)
                    _add_due(ok, t + first + 1, p, k, part * a * late, shape)
                    _add_due(no, t + first, p, k, part * (1.0 - a) * (1.0 - late), shape)
                    _add_due(no, t + first + 1, p, k, part * (1.0 - a) * late, shape)
                free[p][k] = left + unreached

    def licences(self, t: int) -> None:
        """3. Licence decisions falling due now."""
        self.approved = self.pending_ok.pop(t, _zeros(self.p_n, self.k_n))
        self.refused = self.pending_no.pop(t, _zeros(self.p_n, self.k_n))

    def shipping(self, t: int) -> None:
        """4. Shipping, less what a supply shock cuts; each partner's goods travel its lead."""
        self.sent = sent = _zeros(self.p_n, self.k_n)
        for p in range(self.p_n):
            for k in range(self.k_n):
                sent[p][k] = (self.free[p][k] + self.approved[p][k] + self.contract[t][p][k]) * (
                    1.0 - self.cut[t][p][k]
                )
                self.at_sea_book.setdefault(t + self.lead[p], [0.0] * self.k_n)[k] += sent[p][k]

    def arrivals(self, t: int) -> None:
        """5. Arrivals and local supply enter the stock; the stockpile feeds short processors."""
        k_n, stock, pile = self.k_n, self.stock, self.pile
        self.arrived = arrived = self.at_sea_book.pop(t, [0.0] * k_n)
        for k in range(k_n):
            stock[k] += arrived[k]
            stock[k] += self.local[t][k]

        # The stockpile releases materials (not magnets) to processors short of inputs.
        self.need_now = need_now = [
            sum(self.capacity[t][j] * self.proc_in[j][k] for j in range(self.j_n))
            for k in range(k_n)
        ]
        self.released = released = [0.0] * k_n
        for k in range(k_n):
            if not self.is_magnet[k] and stock[k] < self.pile_trigger * need_now[k]:
                released[k] = min(pile[k], self.pile_release[k], max(need_now[k] - stock[k], 0.0))
                pile[k] -= released[k]
                stock[k] += released[k]

    def processing(self, t: int) -> None:
        """6. Processes in order (upstream first), each limited by capacity and its inputs."""
        stock, proc_in, proc_out = self.stock, self.proc_in, self.proc_out
        self.made = made = [0.0] * self.k_n
        self.runs = runs = [0.0] * self.j_n
        for j in range(self.j_n):
            x = self.capacity[t][j]
            for k in range(self.k_n):
                if proc_in[j][k] != 0.0:
                    x = min(x, stock[k] / proc_in[j][k])
            x = max(x, 0.0)
            for k in range(self.k_n):
                stock[k] -= x * proc_in[j][k]
                stock[k] += x * proc_out[j][k]
                # An exhausted input can end a rounding error below zero: it is empty.
                stock[k] = max(stock[k], 0.0)
                made[k] += x * proc_out[j][k]
            runs[j] = x

    def components(self, t: int) -> None:
        """Components: orders, reached parts queued for a licence, decisions, arrivals, use.

        Each segment orders for its embedded need; reached parts wait for a licence decision
        (due after the control's delay), the rest arrives; it uses what it holds.
        """
        g_n, q_n, c_n = self.g_n, self.q_n, self.c_n
        shape = (g_n, q_n)
        order, free = _zeros(g_n, q_n), _zeros(g_n, q_n)
        for g in range(g_n):
            keep = 1.0 - self.exempt[t][g]
            for q in range(q_n):
                gap = (
                    self.seg_cover[g] * self.emb_need[g][q] - self.inside[g][q] - self.pending[g][q]
                )
                order[g][q] = max(self.emb_dem[g][q] + gap / self.restock, 0.0)
                left = 1.0
                for c in range(c_n):
                    f = left * (self.act_q[c][t][q] * self.emb_reach[c] * keep)
                    left -= f
                    part = order[g][q] * f
                    ok = part * self.approval[c][t]
                    first = math.floor(self.delay[c][t])
                    late = self.delay[c][t] - first
                    _add_due_grade(self.comp_ok, t + first, g, q, ok * (1.0 - late), shape)
                    _add_due_grade(self.comp_ok, t + first + 1, g, q, ok * late, shape)
                    _add_due_grade(self.comp_no, t + first, g, q, (part - ok) * (1.0 - late), shape)
                    _add_due_grade(self.comp_no, t + first + 1, g, q, (part - ok) * late, shape)
                    self.pending[g][q] += ok
                free[g][q] = order[g][q] * left
        approved = self.comp_ok.pop(t, _zeros(g_n, q_n))
        self.comp_refused = self.comp_no.pop(t, _zeros(g_n, q_n))
        self.used_inside = used = _zeros(g_n, q_n)
        for g in range(g_n):
            for q in range(q_n):
                self.pending[g][q] -= approved[g][q]
                self.inside[g][q] += free[g][q] + approved[g][q]
                used[g][q] = min(self.emb_dem[g][q], self.inside[g][q])
                self.inside[g][q] -= used[g][q]

    def _unassigned(self, k: int) -> float:
        """Stock of ``k`` no segment holds."""
        if not self.is_magnet[k]:
            return self.stock[k]
        held = sum(
            self.held[g][q]
            for g in range(self.g_n)
            for q in range(self.q_n)
            if self.grade_k[q] == k
        )
        return max(self.stock[k] - held, 0.0)

    def _serve(
        self, short: Matrix, room: dict[int, float], rounds: list[list[int]] | None = None
    ) -> tuple[Matrix, dict[int, float]]:
        """Give up to ``room`` per magnet to the segments' ``short``, priority tiers first.

        Within a tier (or one of ``rounds``), in proportion to what each is short; returns what
        each got and what is left of ``room``.
        """
        g_n, q_n = self.g_n, self.q_n
        got = _zeros(g_n, q_n)
        left = dict(room)
        for members in self.seg_rounds if rounds is None else rounds:
            for m in self.mags:
                cells = [(g, q) for g in members for q in range(q_n) if self.grade_k[q] == m]
                wanted = sum(short[g][q] for g, q in cells)
                give = min(left[m], wanted)
                fill = give / wanted if wanted > 0 else 0.0
                for g, q in cells:
                    got[g][q] += short[g][q] * fill
                left[m] -= give
        return got, left

    def allocation(self, t: int) -> None:
        """7. The pool's unassigned magnets to segments; the stockpile releases or buys.

        Unreached needs first, then reached ones tier by tier; segments use what they hold; a
        private buffer serves what the price rationed away; surplus is exported.
        """
        k_n, stock, pile = self.k_n, self.stock, self.pile
        g_n, q_n, mags = self.g_n, self.q_n, self.mags
        self.supply = supply = {m: stock[m] for m in mags}
        # Holdings trimmed to the stock where rounding left them a crumb above it.
        for m in mags:
            cells = [(g, q) for g in range(g_n) for q in range(q_n) if self.grade_k[q] == m]
            held_m = sum(self.held[g][q] for g, q in cells)
            if held_m > stock[m]:
                trim = max(stock[m], 0.0) / held_m
                for g, q in cells:
                    self.held[g][q] *= trim
        free = {m: self._unassigned(m) for m in mags}
        seek, reached = _zeros(g_n, q_n), _zeros(g_n, q_n)
        for g in range(g_n):
            for q in range(q_n):
                gap = self.seg_cover[g] * self.pool_need[g][q] - self.held[g][q]
                seek[g][q] = max(self.pool_dem[g][q] + gap / self.restock, 0.0)
                reached[g][q] = min(sum(self.act_q[c][t][q] for c in range(self.c_n)), 1.0) * (
                    1.0 - self.exempt[t][g]
                )
        unreached = [[seek[g][q] * (1.0 - reached[g][q]) for q in range(q_n)] for g in range(g_n)]
        intake, free = self._serve(unreached, free, [list(range(g_n))])
        tiered, _ = self._serve(
            [[seek[g][q] * reached[g][q] for q in range(q_n)] for g in range(g_n)], free
        )
        self.used_pool = used = _zeros(g_n, q_n)
        for g in range(g_n):
            for q in range(q_n):
                self.held[g][q] += intake[g][q] + tiered[g][q]
                used[g][q] = min(self.pool_dem[g][q], self.held[g][q])
                self.held[g][q] -= used[g][q]
                stock[self.grade_k[q]] -= used[g][q]
        pool = self._pool_use()
        # A private buffer serves, from the stock no segment holds, what the price rationed
        # away, up to each segment's need, tier by tier.
        room = {m: min(self._unassigned(m), self.buffer[m] * pool[m]) for m in mags}
        short = [
            [max(self.pool_need[g][q] - used[g][q], 0.0) for q in range(q_n)] for g in range(g_n)
        ]
        self.buffered, left = self._serve(short, room)
        for m in mags:
            stock[m] -= room[m] - left[m]
        # When the sectors it serves get less than the trigger's share of their need, the
        # stockpile releases magnets to them, up to their segments' need, priority tiers first;
        # it buys only while the market is whole and no sector it serves is short.
        fill = {m: min(supply[m], pool[m]) / pool[m] if pool[m] > 0 else 1.0 for m in mags}
        served_fill = {}
        for m in mags:
            cells = [
                (g, q)
                for g in range(g_n)
                for q in range(q_n)
                if self.grade_k[q] == m and self.pile_sectors[self.seg_sector[g]]
            ]
            need = sum(self.pool_need[g][q] for g, q in cells)
            got = sum(used[g][q] + self.buffered[g][q] for g, q in cells)
            served_fill[m] = min(got, need) / need if need > 0 else 1.0
        room = {
            m: min(pile[m], self.pile_release[m]) if served_fill[m] < self.pile_trigger else 0.0
            for m in mags
        }
        short = [
            [
                max(self.pool_need[g][q] - used[g][q] - self.buffered[g][q], 0.0)
                if self.pile_sectors[self.seg_sector[g]]
                else 0.0
                for q in range(q_n)
            ]
            for g in range(g_n)
        ]
        self.seg_released, left = self._serve(short, room)
        for m in mags:
            pile[m] -= room[m] - left[m]
            self.released[m] += room[m] - left[m]
        self.bought = bought = [0.0] * k_n
        for k in range(k_n):
            whole = True
            if self.is_magnet[k]:
                served_short = any(
                    self.pile_sectors[self.seg_sector[g]]
                    and used[g][q] + self.buffered[g][q] + self.seg_released[g][q]
                    < self.pool_need[g][q] * (1.0 - WHOLE_TOLERANCE)
                    for g in range(g_n)
                    for q in range(q_n)
                    if self.grade_k[q] == k
                )
                whole = fill[k] >= 1.0 - WHOLE_TOLERANCE and not served_short
            elif stock[k] < self.need_now[k] * (1.0 - WHOLE_TOLERANCE):
                whole = False
            if whole:
                # It buys only what stands above the industry's own stock target, and no
                # segment's.
                above = min(max(stock[k] - self.cover[k] * self.use[k], 0.0), self._unassigned(k))
                bought[k] = min(
                    self.pile_fill[k], max(self.pile_target[t][k] - pile[k], 0.0), above
                )
                stock[k] -= bought[k]
                pile[k] += bought[k]
            self.whole_prev[k] = whole
        # Where domestic output exceeds use, stock above the target is sold abroad.
        self.domestic = domestic = [self.made[k] + self.local[t][k] for k in range(k_n)]
        self.exported = exported = [0.0] * k_n
        for k in range(k_n):
            if domestic[k] > self.use[k]:
                exported[k] = min(
                    max(stock[k] - self.cover[k] * self.use[k], 0.0), self._unassigned(k)
                )
                stock[k] -= exported[k]

    def prices(self, t: int) -> None:
        """8. Each magnet's price moves toward the multiple that clears supply against need."""
        del t
        pool = self._pool_use()
        for m in self.mags:
            need = pool[m]
            fill = min(self.supply[m], need) / need if need > 0 else 1.0
            clearing = 1.0
            if fill < 1.0:
                clearing = min(max(fill, 1e-12) ** (1.0 / self.elasticity), self.net.max_multiple)
            self.price[m] += self.adjustment * (clearing - self.price[m])
        self.last_out = self.domestic

    def record(self, t: int) -> None:
        """Keep step ``t``'s results."""
        k_n, p_n = self.k_n, self.p_n
        for g in range(self.g_n):
            s, q_n = self.seg_sector[g], self.q_n
            need = sum(self.need[g][q] for q in range(q_n))
            want = sum(self.want[g][q] for q in range(q_n))
            got = sum(
                self.used_pool[g][q]
                + self.buffered[g][q]
                + self.seg_released[g][q]
                + self.used_inside[g][q]
                for q in range(q_n)
            )
            self.rec_seg_req[t][g], self.rec_seg_dem[t][g] = need, want
            self.rec_seg_del[t][g] = got
            self.rec_seg_refused[t][g] = sum(self.comp_refused[g][q] for q in range(q_n))
            self.rec_seg_components[t][g] = sum(self.used_inside[g][q] for q in range(q_n))
            self.rec_req[t][s] += need
            self.rec_dem[t][s] += want
            self.rec_del[t][s] += got
        for k in range(k_n):
            self.rec_stock[t][k] = self.stock[k]
            self.rec_imports[t][k] = self.arrived[k]
            self.rec_refused[t][k] = sum(self.refused[p][k] for p in range(p_n))
            self.rec_exported[t][k] = self.exported[k]
            self.rec_price[t][k] = self.price[k]
            self.rec_pile[t][k] = self.pile[k]
            self.rec_pile_in[t][k] = self.bought[k]
            self.rec_pile_out[t][k] = self.released[k]
        self.rec_production[t] = self.runs
        self.rec_shipped[t] = self.sent
        self.rec_cost[t] = sum(
            self.arrived[k] * self.base_price[k] * self.price[k] for k in range(k_n)
        )

    def trajectory(self) -> Trajectory:
        """Return the records, with a ``draw`` axis of length 1."""

        def one(rows: object) -> FloatArray:
            return np.asarray(rows, dtype=np.float64)[None]

        return Trajectory(
            requirement=one(self.rec_req),
            demand=one(self.rec_dem),
            delivered=one(self.rec_del),
            stock=one(self.rec_stock),
            imports=one(self.rec_imports),
            shipped_by_partner=one(self.rec_shipped),
            refused=one(self.rec_refused),
            exported=one(self.rec_exported),
            production=one(self.rec_production),
            price_multiple=one(self.rec_price),
            stockpile=one(self.rec_pile),
            stockpile_in=one(self.rec_pile_in),
            stockpile_out=one(self.rec_pile_out),
            import_cost_usd=one(self.rec_cost),
            segment_requirement=one(self.rec_seg_req),
            segment_demand=one(self.rec_seg_dem),
            segment_delivered=one(self.rec_seg_del),
            segment_refused=one(self.rec_seg_refused),
            segment_components=one(self.rec_seg_components),
        )
