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
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray, Network

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
        self.whole_prev = [True] * k_n
        self.req0: Matrix = net.requirement0.tolist()
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

        # Warm start: last step's domestic output is full-capacity output plus local supply,
        # and every partner's share of the baseline imports is at sea for each step of its lead.
        capacity, proc_in, proc_out, local = self.capacity, self.proc_in, self.proc_out, self.local
        self.last_out = [
            sum(capacity[0][j] * proc_out[j][k] for j in range(j_n)) + local[0][k]
            for k in range(k_n)
        ]
        self.at_sea_book: dict[int, Vector] = {}
        for k in range(k_n):
            use0 = sum(capacity[0][j] * proc_in[j][k] for j in range(j_n))
            if is_magnet[k]:
                use0 += sum(self.req0[s][k] * self.multiplier[0][s][k] for s in range(s_n))
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

    def orders(self, t: int) -> None:
        """2. Orders: the plan net of domestic output plus a share of the gap to the target.

        The target position includes what should be at sea and the approvals that should be
        pending; licensed parts join the queues, due after their delay (a fraction of a step
        splits an application between the two steps around it); the rest ships freely.
        """
        s_n, k_n, p_n, j_n, c_n = self.s_n, self.k_n, self.p_n, self.j_n, self.c_n
        share, licensed, scale = self.share, self.licensed, self.licence_scale
        approval, delay = self.approval, self.delay
        self.use = use = [0.0] * k_n
        for k in range(k_n):
            if self.is_magnet[k]:
                use[k] = sum(self.req[s][k] for s in range(s_n))
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
                    part = left * licensed[c][t][p][k] * scale[c][p]
                    left -= part
                    pending_steps += part * approval[c][t] * delay[c][t]
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
                    part = left * licensed[c][t][p][k] * scale[c][p]
                    left -= part
                    expected_refused[k] += part * (1.0 - approval[c][t])
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
                for c in range(c_n):
                    part = left * licensed[c][t][p][k] * scale[c][p]
                    left -= part
                    a = approval[c][t]
                    first = math.floor(delay[c][t])
                    late = delay[c][t] - first
                    ok, no = self.pending_ok, self.pending_no
                    _add_due(ok, t + first, p, k, part * a * (1.0 - late), shape)
                    _add_due(ok, t + first + 1, p, k, part * a * late, shape)
                    _add_due(no, t + first, p, k, part * (1.0 - a) * (1.0 - late), shape)
                    _add_due(no, t + first + 1, p, k, part * (1.0 - a) * late, shape)
                free[p][k] = left

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

    def _by_tier(self, k: int, short: Vector, room: float) -> float:
        """Give up to ``room`` of magnet ``k`` to the sectors' ``short``, priority tiers first.

        Within a tier, in proportion to what each sector is short; returns what is left.
        """
        for members in self.groups:
            wanted = sum(short[s] for s in members)
            give = min(room, wanted)
            fill = give / wanted if wanted > 0 else 0.0
            for s in members:
                self.given[s][k] += short[s] * fill
            room -= give
        return room

    def allocation(self, t: int) -> None:
        """7. Allocation tier by tier; the stockpile releases or buys; surplus is exported."""
        s_n, k_n, stock, pile = self.s_n, self.k_n, self.stock, self.pile
        req, dem, mags = self.req, self.dem, self.mags
        self.supply = supply = {m: stock[m] for m in mags}
        self.given = given = _zeros(s_n, k_n)
        for m in mags:
            left = self._by_tier(m, [dem[s][m] for s in range(s_n)], stock[m])
            stock[m] = left
        # A private buffer serves, from the users' own stock, what the price rationed away, up
        # to each sector's requirement, tier by tier.
        for m in mags:
            if self.buffer[m] > 0.0:
                need = sum(req[s][m] for s in range(s_n))
                room = min(stock[m], self.buffer[m] * need)
                short = [max(req[s][m] - given[s][m], 0.0) for s in range(s_n)]
                stock[m] -= room - self._by_tier(m, short, room)
        # Below the trigger the stockpile releases magnets to the sectors it serves, up to their
        # requirement, priority tiers first; it buys only while the market is whole and no
        # sector it serves is short.
        self.bought = bought = [0.0] * k_n
        for k in range(k_n):
            whole = True
            if self.is_magnet[k]:
                need = sum(req[s][k] for s in range(s_n))
                fill = min(supply[k], need) / need if need > 0 else 1.0
                if fill < self.pile_trigger:
                    unmet = [
                        max(req[s][k] - given[s][k], 0.0) if self.pile_sectors[s] else 0.0
                        for s in range(s_n)
                    ]
                    room = min(pile[k], self.pile_release[k])
                    out = room - self._by_tier(k, unmet, room)
                    pile[k] -= out
                    self.released[k] += out
                served_short = any(
                    self.pile_sectors[s] and given[s][k] < req[s][k] * (1.0 - WHOLE_TOLERANCE)
                    for s in range(s_n)
                )
                whole = fill >= 1.0 - WHOLE_TOLERANCE and not served_short
            elif stock[k] < self.need_now[k] * (1.0 - WHOLE_TOLERANCE):
                whole = False
            if whole:
                # It buys only what stands above the industry's own stock target.
                above = max(stock[k] - self.cover[k] * self.use[k], 0.0)
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
                exported[k] = max(stock[k] - self.cover[k] * self.use[k], 0.0)
                stock[k] -= exported[k]

    def prices(self, t: int) -> None:
        """8. Each magnet's price moves toward the multiple that clears supply against need."""
        del t
        for m in self.mags:
            need = sum(self.req[s][m] for s in range(self.s_n))
            fill = min(self.supply[m], need) / need if need > 0 else 1.0
            clearing = 1.0
            if fill < 1.0:
                clearing = min(max(fill, 1e-12) ** (1.0 / self.elasticity), self.net.max_multiple)
            self.price[m] += self.adjustment * (clearing - self.price[m])
        self.last_out = self.domestic

    def record(self, t: int) -> None:
        """Keep step ``t``'s results."""
        mags, k_n, p_n = self.mags, self.k_n, self.p_n
        for s in range(self.s_n):
            self.rec_req[t][s] = sum(self.req[s][m] for m in mags)
            self.rec_dem[t][s] = sum(self.dem[s][m] for m in mags)
            self.rec_del[t][s] = sum(self.given[s][m] for m in mags)
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
        )
