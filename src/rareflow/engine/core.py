"""The vectorised time-stepper: every array carries the ensemble axis ``draw`` first.

Each step runs the events of :data:`rareflow.engine.events.EVENTS`, in order, each a method of
:class:`_Block` over the block's shared state, followed by the mass-balance checks the event
lists (see the README's engine section for the model and its parameters):

1. **Requirement.** Each sector's magnet requirement (its production plan) grows with demand;
   what buyers in the last allocation tier take answers the price: ``requirement *
   price_multiple ** elasticity``; sectors in a priority tier (defence, medical) take their whole
   requirement at any price.
2. **Orders.** Buyers order what their production plan needs plus a share of the gap between
   their target position (stock target, goods that should be at sea, approvals that should be
   pending given the licence delay) and their position (stock, goods at sea, approvals pending),
   split across partners
   by baseline shares. The part of an order that needs an export licence joins that control's
   queue (for other partners, only the share a re-export rule catches); buyers seek the
   expected refusals from other partners, who can add up to ``surge`` of
   their baseline volume (their headroom less what other importers take, set at compile time).
3. **Licence decisions.** Applications reach a decision after their delay; the approved share is
   shipped, the rest is refused.
4. **Shipping.** Shipments (and contracted volumes) lose the share cut by a supply shock, then
   travel ``lead_steps``.
5. **Arrivals** enter the focal country's stock, with local supply (mine output, recycling).
6. **Processing.** Domestic processes run upstream first, limited by capacity and inputs.
7. **Allocation.** Magnets go to sectors tier by tier; within a tier, in proportion to demand.
   A government stockpile releases when the sectors it serves get less than its trigger's share
   of their need (magnets to them; materials to processors short of inputs) and buys while the
   market is whole.
8. **Prices** move toward the multiple that would clear the supply available against the
   requirement, ``(supply / requirement) ** (1 / elasticity)``; buyers keep seeking their
   requirement, and the price rations what they take (demand destruction).

Mass balance is checked at every node and step (stocks, transit, licence queues, and the element
balance of every process), each check attached to the event that moves the mass, unless switched
off for benchmarks.
"""

from __future__ import annotations

import math
import mmap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rareflow.dims import DRAW, MATERIAL, PARTNER, PROCESS, SECTOR, SEGMENT, TIME
from rareflow.engine.balance import BalanceCheck, per_draw
from rareflow.engine.events import EVENTS
from rareflow.engine.exposure import Segments
from rareflow.engine.price import adjust, clearing_multiple, demand_response
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray, IntArray, Network
from rareflow.model.state import axes, declared, shape_of

MAGNET_INDEX = np.array([COMMODITY_IDS.index(m) for m in MAGNETS])
PER_MATERIAL = "per material_unit"
"""Unit of per-material records: each material's own unit (the ``material_unit`` coordinate)."""


def _magnet(axis: str, description: str) -> dict[str, object]:
    """Metadata of a magnet record, in tonnes by draw, time and ``axis`` (sector or segment)."""
    return axes(DRAW, TIME, axis, unit="t_magnet", description=description)


def _material(description: str, unit: str = PER_MATERIAL) -> dict[str, object]:
    """Metadata of a per-material record, by draw, time and material."""
    return axes(DRAW, TIME, MATERIAL, unit=unit, description=description)


WHOLE_TOLERANCE = 1e-9
"""Relative slack of the 'market is whole' test that lets the stockpile buy (shared with the
reference stepper, so that both take the same branch when supply exactly meets need)."""


@dataclass
class Trajectory:
    """Per-step records of a run, each with ``draw`` first and ``time`` second.

    Each record declares its axes, unit and description once; :func:`simulate` allocates the
    records and :func:`rareflow.engine.results.to_dataset` labels them from that declaration.
    """

    requirement: FloatArray = field(
        metadata=_magnet(SECTOR, "magnet needed for planned production")
    )
    demand: FloatArray = field(metadata=_magnet(SECTOR, "magnet sought after the price response"))
    delivered: FloatArray = field(metadata=_magnet(SECTOR, "magnet delivered to the sector"))
    stock: FloatArray = field(metadata=_material("focal industry stock, end of step"))
    imports: FloatArray = field(metadata=_material("arrivals from all partners"))
    refused: FloatArray = field(metadata=_material("licence applications refused"))
    exported: FloatArray = field(metadata=_material("domestic surplus sold abroad"))
    price_multiple: FloatArray = field(
        metadata=_material("price relative to the baseline", unit="index")
    )
    stockpile: FloatArray = field(metadata=_material("government stockpile, end of step"))
    stockpile_in: FloatArray = field(metadata=_material("bought into the stockpile"))
    stockpile_out: FloatArray = field(metadata=_material("released from the stockpile"))
    production: FloatArray = field(
        metadata=axes(
            DRAW,
            TIME,
            PROCESS,
            unit="per process output",
            description="throughput of domestic processes",
        )
    )
    import_cost_usd: FloatArray = field(
        metadata=axes(
            DRAW,
            TIME,
            unit="usd",
            label="import_cost",
            description="value of arrivals of priced materials at the scarcity price",
        )
    )
    segment_requirement: FloatArray = field(
        metadata=_magnet(SEGMENT, "segment's magnet need, all routes")
    )
    segment_demand: FloatArray = field(
        metadata=_magnet(SEGMENT, "segment's magnet sought after the price response")
    )
    segment_delivered: FloatArray = field(metadata=_magnet(SEGMENT, "magnet the segment used"))
    segment_components: FloatArray = field(
        metadata=_magnet(
            SEGMENT, "magnet the segment used inside imported components (part of delivered)"
        )
    )
    segment_refused: FloatArray = field(
        metadata=_magnet(SEGMENT, "magnet inside components whose licence was refused")
    )
    shipped_by_partner: FloatArray | None = field(
        metadata=axes(
            DRAW,
            TIME,
            PARTNER,
            MATERIAL,
            unit=PER_MATERIAL,
            label="shipped",
            description="shipments by partner",
        )
    )
    """None when not kept (memory grows with draws x steps x partners x materials)."""


RECORDS = {name: ax for name, ax in declared(Trajectory).items() if name != "shipped_by_partner"}
"""Records every run fills (shipments by partner are kept on request)."""


def _at(arr: FloatArray, n: int) -> FloatArray:
    """Broadcast a leading draw axis of length 1 to ``n``."""
    return np.broadcast_to(arr, (n, *arr.shape[1:])) if arr.shape[0] == 1 else arr


def _columns(idx: IntArray, n: int) -> slice | IntArray:
    """Positions ``idx`` among ``n``: all of them as a slice, else the index array."""
    return slice(None) if np.array_equal(idx, np.arange(n)) else idx


BLOCK_DRAWS = 2500
"""Draws stepped together: small enough for a step's arrays to stay in cache."""


def simulate(
    net: Network,
    *,
    check: bool = True,
    keep_partners: bool = True,
    progress: Callable[[int, int], None] | None = None,
    block: int = BLOCK_DRAWS,
) -> Trajectory:
    """Run the network over all its steps, vectorised over draws.

    Draws are independent, so they are stepped in blocks of ``block`` draws; the results do not
    depend on the block size.

    Parameters
    ----------
    net
        The compiled network.
    check
        Check mass balance at every node and step (switch off only for benchmarks).
    keep_partners
        Record shipments by partner (memory grows with draws x steps x partners x commodities).
    progress
        Called with (steps done, steps in all) as blocks advance.
    block
        Draws per block.
    """
    net.check_shapes()
    d_n, t_n = net.n_draws, net.n_steps
    sizes = net.sizes()

    def time_major(names: tuple[str, ...]) -> tuple[int, ...]:
        d, t, *rest = shape_of(names, sizes)
        return (t, d, *rest)

    # Records are filled one step at a time, so they are laid out time-major (each step's block
    # contiguous) and handed back as draw-first views. Without a stockpile its records stay
    # zero: leave them as untouched (free) zero pages.
    has_pile = bool((net.stockpile_target > 0).any() or (net.stockpile0 > 0).any())
    rec = {
        name: _touched(time_major(ax))
        if has_pile or not name.startswith("stockpile")
        else np.zeros(time_major(ax))
        for name, ax in RECORDS.items()
    }
    shipped = (
        _touched(time_major(declared(Trajectory)["shipped_by_partner"])) if keep_partners else None
    )
    starts = list(range(0, d_n, max(block, 1)))
    for i, a in enumerate(starts):
        b = min(a + max(block, 1), d_n)
        part = {name: arr[:, a:b] for name, arr in rec.items()}
        done = i * t_n

        def tick(step: int, _total: int, done: int = done) -> None:
            if progress is not None:
                progress(done + step, len(starts) * t_n)

        _simulate_block(
            net.take_draws(a, b),
            part,
            None if shipped is None else shipped[:, a:b],
            check,
            tick,
            has_pile,
        )
    draw_first = {name: np.moveaxis(arr, 0, 1) for name, arr in rec.items()}
    return Trajectory(
        **draw_first,
        shipped_by_partner=None if shipped is None else np.moveaxis(shipped, 0, 1),
    )


_POPULATE = getattr(mmap, "MAP_POPULATE", 0)
"""Linux's flag to map all of an anonymous mapping's (zeroed) pages when it is made."""


def _touched(shape: tuple[int, ...]) -> FloatArray:
    """Zeros whose pages are mapped up front, so the step loop pays no first-touch page faults.

    A record is written once, one step at a time. On Linux its memory is an anonymous mapping
    populated by the kernel in one call (cheaper than faulting each page on a first write), in
    regular pages: the transparent huge pages NumPy asks for above 4 MiB made the first touch
    slow and erratic on the shared 2-core machine (median twice the run time, paired). Elsewhere
    the zeros are written once.
    """
    n = math.prod(shape)
    if _POPULATE:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _POPULATE
        try:
            pages = mmap.mmap(-1, max(n, 1) * 8, flags=flags)
        except OSError as exc:  # ENOMEM: the same error as NumPy's for callers to catch
            raise MemoryError(f"cannot map {n * 8:,} bytes for a record: {exc}") from exc
        return np.frombuffer(pages, dtype=np.float64, count=n).reshape(shape)
    out = np.empty(shape)
    out.fill(0.0)
    return out


def _simulate_block(
    net: Network,
    rec: dict[str, FloatArray],
    shipped: FloatArray | None,
    check: bool,
    progress: Callable[[int, int], None],
    has_pile: bool,
) -> None:
    """Step one block of draws, writing each step into the time-major records."""
    block = _Block(net, BalanceCheck(enabled=check), has_pile, shipped)
    steps = [
        (getattr(block, e.name), [getattr(block, f"check_{b}") for b in e.balance] if check else [])
        for e in EVENTS
    ]
    for t in range(net.n_steps):
        for event, checks in steps:
            event(t)
            for balance in checks:
                balance(t)
        block.record(t, rec)
        progress(t + 1, net.n_steps)


class _Block:
    """The state of a block of draws, and the month's events over it (see :data:`EVENTS`).

    Every array carries the block's draws first. Inputs shared by all draws are broadcast once;
    what one event hands to a later one in the same month is kept as an attribute. The arrays
    over partners and materials (the widest the engine steps) are written in place into buffers
    allocated once, shipments straight into their record, and what depends only on the licence
    rules is recomputed only in the steps where those rules change.
    """

    def __init__(
        self,
        net: Network,
        balance: BalanceCheck,
        has_pile: bool,
        shipped: FloatArray | None = None,
    ) -> None:
        self.net, self.balance, self.has_pile = net, balance, has_pile
        self.checking = balance.enabled
        d_n = net.n_draws
        k_n, p_n = len(COMMODITY_IDS), len(net.partners)
        self.d_n, self.k_n, self.p_n, self.j_n = d_n, k_n, p_n, len(net.processes)
        self.c_n = net.licensed.shape[0]
        self.q_n, l_n = net.max_queue, net.max_lead
        self.rows = np.arange(d_n)

        self.capacity = capacity = _at(net.capacity, d_n)
        self.surge = _at(net.surge, d_n)
        self.approval, self.delay = _at(net.approval, d_n), _at(net.delay_steps, d_n)
        self.cut = _at(net.cut, d_n)
        self.scale = _at(net.licence_scale, d_n)
        self.elasticity, self.adjustment = _at(net.elasticity, d_n), _at(net.adjustment, d_n)
        self.cover, self.restock = _at(net.cover_steps, d_n), _at(net.restock_steps, d_n)
        self.local = local = _at(net.local_supply, d_n)
        self.contract = _at(net.contract, d_n)
        # Steps with a contracted volume or a supply cut: in the others shipping skips adding
        # zero and multiplying by one.
        self.contract_on = [bool(net.contract[:, t].any()) for t in range(net.n_steps)]
        self.cut_on = [bool(net.cut[:, t].any()) for t in range(net.n_steps)]
        self.pile_target = _at(net.stockpile_target, d_n)
        self.pile_fill = _at(net.stockpile_fill, d_n)
        self.pile_release = _at(net.stockpile_release, d_n)
        self.pile_trigger = _at(net.stockpile_trigger, d_n)
        # Only sectors and magnets with a requirement are stepped; the others stay zero in
        # records.
        self.act_s = act_s = np.flatnonzero((net.requirement0[:, MAGNET_INDEX] > 0).any(axis=1))
        act_m = np.flatnonzero((net.requirement0[:, MAGNET_INDEX] > 0).any(axis=0))
        self.mag = mag = MAGNET_INDEX[act_m]
        self.requirement0 = requirement0 = (
            net.requirement0[np.ix_(act_s, mag)][None]
            * _at(net.need_scale, d_n)[:, act_s[:, None], mag]
        )  # (D, S, M)
        # One fancy index: chained indexing copied the whole (D, T, S, K) array first.
        self.multiplier = multiplier = _at(
            net.demand_multiplier[:, :, act_s[:, None], mag], d_n
        )  # (D, T, S, M)
        # Growth is raised to a power once per distinct draw (shared rows are broadcast after).
        self.growth = net.growth[:, act_s]
        self.tier_of = tier_of = net.tier[act_s]
        self.tiers = [-1] if net.proportional_only else sorted(set(tier_of.tolist()))
        self.elastic = (
            np.ones(len(act_s), dtype=bool) if net.proportional_only else net.elastic[act_s]
        )
        self.pile_sectors = net.stockpile_sectors[act_s]
        self.buffer = _at(net.buffer_steps, d_n)[:, mag]
        self.has_buffer = bool((net.buffer_steps[:, mag] > 0).any())
        self.segs = segs = Segments(net, act_s, mag, self.tiers, balance)
        # Where the records of sectors and segments stepped go (a slice when all are).
        self.rec_s = _columns(act_s, len(net.requirement0))
        self.rec_g = _columns(segs.seg, len(net.segment_sector))

        self.stock = np.array(_at(net.stock0, d_n), dtype=np.float64)
        self.pile = np.array(_at(net.stockpile0, d_n), dtype=np.float64)
        # Shared zeros for flows of a stockpile that does not exist.
        self.no_flow = np.zeros((d_n, k_n))
        self.whole_prev = np.ones((d_n, k_n), dtype=bool)
        self.is_mag = np.zeros(k_n, dtype=bool)
        self.is_mag[MAGNET_INDEX] = True
        self.transit = transit = np.zeros((d_n, l_n, k_n))
        # Licence queues hold only the (partner, material) pairs some control can license. They
        # are ring buffers: slot (t + lag) % q_n holds what is decided at t + lag, approvals and
        # refusals side by side, so a draw's slot is one contiguous row written in one go.
        # A material with no use at any step and no stockpile to fill is never ordered (its
        # desired order is <= 0), so only the others can enter a queue.
        ever_used = (capacity.max(axis=(0, 1)) @ net.proc_in) > 0
        ever_used[mag] |= (requirement0 > 0).any(axis=(0, 1))
        ever_used |= (net.stockpile_target > 0).any(axis=(0, 1)) & (net.stockpile_fill > 0).any(
            axis=0
        )
        licensable = net.licensed.any(axis=(0, 1)) & ever_used[None, :]  # (P, K)
        self.cols = cols = np.flatnonzero(licensable.reshape(p_n * k_n))
        n_q = len(cols)
        self.n_q = n_q
        self.to_k = np.zeros((n_q, k_n))
        self.to_k[np.arange(n_q), cols % k_n] = 1.0  # queue column -> material
        self.queue = np.zeros((d_n, self.q_n, 2, n_q))
        # A flat view and, per draw, the flat positions of slot 0's row: a slot's row is
        # reached by adding slot * 2 * n_q (a flat gather is faster than a gather of rows).
        self.queue_flat = self.queue.reshape(-1)
        self.queue_base = (self.rows * (self.q_n * 2 * n_q))[:, None] + np.arange(2 * n_q)
        self.both = np.empty((d_n, 2 * n_q))  # one control's approved and refused parts
        self.pending_ok = np.zeros((d_n, k_n))  # running total of pending approvals per material
        self.queued_after: FloatArray | None = None  # what the queues held after last decisions
        self.proc_inputs = [(np.flatnonzero(r), r[np.flatnonzero(r)]) for r in net.proc_in]
        self.proc_outputs = [(np.flatnonzero(r), r[np.flatnonzero(r)]) for r in net.proc_out]
        self.price = np.ones((d_n, k_n))
        # Shipments by partner are written in place: into their record when it is kept.
        self.shipped = shipped
        self.sent_buffer = None if shipped is not None else np.empty((d_n, p_n, k_n))
        self.scratch = np.empty((d_n, p_n, k_n))
        self.licence_rules: FloatArray | None = None  # the licence rules the split below is for
        # Steady start: domestic output as at full capacity, and each partner's baseline
        # shipments for the coming lead time already at sea.
        self.last_out = capacity[:, 0] @ net.proc_out + local[:, 0]
        use0 = capacity[:, 0] @ net.proc_in
        req_first = requirement0 * multiplier[:, 0]
        segs.split(0, req_first, req_first)
        use0[:, mag] += segs.pool_use()
        segs.open(self.stock[:, mag])
        baseline_imports = np.maximum(use0 - self.last_out, 0.0)
        # (K,) share-weighted lead
        self.pipeline_steps = net.share.T @ net.lead_steps.astype(np.float64)
        for p in range(p_n):
            for lag in range(int(net.lead_steps[p])):
                transit[:, lag] += baseline_imports * net.share[p][None, :]
        self.years_per_step = net.step_months / 12.0
        self.base_price = np.nan_to_num(net.base_price, nan=0.0) * 1000.0  # USD per t

    def requirement(self, t: int) -> None:
        """1. Requirement and price-responsive demand, (D, S, M)."""
        grow = _at((1.0 + self.growth) ** (t * self.years_per_step), self.d_n)
        self.req = self.requirement0 * grow[:, :, None] * self.multiplier[:, t]
        # Sectors in a priority tier must run at any price; the rest answer the price.
        response = demand_response(self.price[:, None, self.mag], self.elasticity[:, None, None])
        self.dem = self.req * np.where(self.elastic[None, :, None], response, 1.0)
        self.segs.split(t, self.req, self.dem)

    def check_split(self, t: int) -> None:
        """Routes and grades: each sector's need = its segments' parts."""
        self.segs.check_split(t, self.req)

    def _split_by_licence(self, t: int) -> None:
        """Share of a unit order from each partner that each control takes, controls in order.

        A re-export rule takes only its catch of other partners' flows; what is ``left`` ships
        free. Depends on the step only through the licence rules in force, so it is recomputed
        only when they change.
        """
        lic = self.net.licensed[:, t]  # (C, P, K)
        if self.licence_rules is not None and np.array_equal(lic, self.licence_rules):
            return
        self.licence_rules = lic
        d_n, p_n, k_n, scale = self.d_n, self.p_n, self.k_n, self.scale
        left = np.ones((d_n, p_n, k_n))
        fractions = []
        for c in range(self.c_n):
            f = left * lic[c][None] * scale[:, c, :, None]
            left = left - f
            fractions.append(f)
        self.left = None if bool((left == 1.0).all()) else left
        # The columns (partner, material) some rule takes a share of: elsewhere what is left is 1.
        flat_left = left.reshape(d_n, p_n * k_n)
        self.left_cols = np.flatnonzero((flat_left != 1.0).any(axis=0))
        self.left_part = flat_left[:, self.left_cols]
        self.via = [np.einsum("dpk,pk->dk", f, self.net.share) for f in fractions]  # per unit
        self.fraction_cols = [f.reshape(d_n, p_n * k_n)[:, self.cols] for f in fractions]

    def orders(self, t: int) -> None:
        """2. Orders: expected use plus a share of the gap to the stock target."""
        net, d_n, p_n, k_n, c_n = self.net, self.d_n, self.p_n, self.k_n, self.c_n
        approval, delay = self.approval, self.delay
        use = np.zeros((d_n, k_n))
        use[:, self.mag] = self.segs.pool_use()
        # Of the share of a magnet's order a control takes, only the part in grades it reaches
        # queues for its licence; the rest ships free.
        gate = np.ones((d_n, c_n, k_n))
        gate[:, :, self.mag] = self.segs.reach_share(t, use[:, self.mag])
        use += self.capacity[:, t] @ net.proc_in
        self.use = use
        self._split_by_licence(t)
        via = [v * gate[:, c] for c, v in enumerate(self.via)]

        # The target position holds the stock target, what should be at sea, and the approvals
        # that should be pending given each control's delay (so a slow licence is waited for,
        # not ordered twice).
        pending_steps = np.zeros((d_n, k_n))
        for c in range(c_n):
            pending_steps += via[c] * (approval[:, c, t] * delay[:, c, t])[:, None]
        position = self.stock + self._at_sea() + self.pending_ok
        imported = np.maximum(use - self.last_out, 0.0)
        gap = (
            self.cover * use + imported * (self.pipeline_steps[None, :] + pending_steps) - position
        )
        desired = np.maximum(use - self.last_out + gap / self.restock[:, None], 0.0)
        # The stockpile tenders for its own purchases while the market was whole last step.
        if self.has_pile:
            desired += np.where(
                self.whole_prev,
                np.minimum(self.pile_fill, np.maximum(self.pile_target[:, t] - self.pile, 0.0)),
                0.0,
            )

        # Expected refusals are sought from partners with room to add supply.
        expected_refused = np.zeros((d_n, k_n))
        for c in range(c_n):
            expected_refused += via[c] * (1.0 - approval[:, c, t])[:, None]
        expected_refused *= desired
        open_room = self.surge[:, t]  # (D, P)
        # einsum, not a matrix product: BLAS rounds differently with the rows in a block.
        room_total = desired * np.einsum("dp,pk->dk", open_room, net.share)
        take = np.divide(
            np.minimum(expected_refused, room_total),
            room_total,
            out=np.zeros_like(room_total),
            where=room_total > 0,
        )
        # orders = desired * share * (1 + open_room * take), (D, P, K), built in place in the
        # shipments' buffer (each product in the same order as written, so bit for bit).
        orders = self.shipped[t] if self.shipped is not None else self.sent_buffer
        assert orders is not None
        # (Outer products by einsum: a broadcast multiply runs an inner loop per partner.)
        np.einsum("dp,dk->dpk", open_room, take, out=orders)
        orders += 1.0
        orders *= np.einsum("dk,pk->dpk", desired, net.share, out=self.scratch)

        # Split every order into its licensed parts (queued) and the free part (shipped).
        applied = np.zeros((d_n, self.n_q))
        if self.checking:
            self.queued_before = (
                self.balance.held(self.queue) if self.queued_after is None else self.queued_after
            )
        q_n, n_q, both, flat = self.q_n, self.n_q, self.both, self.queue_flat
        ordered = orders.reshape(d_n, p_n * k_n)[:, self.cols]
        gate_cols = gate[:, :, self.cols % k_n]  # (D, C, n_q)
        unreached = np.zeros_like(ordered)
        for c in range(c_n):
            taken = ordered * self.fraction_cols[c]
            part = taken * gate_cols[:, c]
            unreached += taken - part
            ok = np.multiply(part, approval[:, c, t][:, None], out=both[:, :n_q])
            np.subtract(part, ok, out=both[:, n_q:])
            lo = np.floor(delay[:, c, t]).astype(np.int64)
            w = (delay[:, c, t] - lo)[:, None]
            # Decided at t + lo (share 1 - w) and at t + lo + 1 (share w), in the ring buffer.
            at = self.queue_base + (((t + lo) % q_n) * (2 * n_q))[:, None]
            flat[at] += both * (1.0 - w)
            at = self.queue_base + (((t + lo + 1) % q_n) * (2 * n_q))[:, None]
            flat[at] += both * w
            self.pending_ok += np.einsum("dn,nk->dk", ok, self.to_k)
            applied += part
        self.applied = applied
        if self.left is not None:
            flat_orders = orders.reshape(d_n, p_n * k_n)
            flat_orders[:, self.left_cols] *= self.left_part  # the free part (x 1 elsewhere)
            flat_orders[:, self.cols] += unreached  # and unreached grades
        self.sent = orders

    def _at_sea(self) -> FloatArray:
        """Return the goods at sea per material, ``transit.sum(axis=1)``.

        Summed slot by slot: the same sum in the same order, without a slow reduction over a
        middle axis.
        """
        transit = self.transit
        total = transit[:, 0].copy()
        for lag in range(1, transit.shape[1]):
            total += transit[:, lag]
        return total

    def licences(self, t: int) -> None:
        """3. Licence decisions at the head of each queue."""
        head = t % self.q_n
        decided = self.queue[:, head].copy()  # (D, 2, n_q): approved, refused
        self.queue[:, head] = 0.0
        self.refused_k = np.einsum("dn,nk->dk", decided[:, 1], self.to_k)
        self.pending_ok -= np.einsum("dn,nk->dk", decided[:, 0], self.to_k)
        self.decided = decided

    def check_queue(self, t: int) -> None:
        """Licence queues: applications in = decisions out + change in what is pending."""
        self.queued_after = self.balance.held(self.queue)
        self.balance.queue(
            t,
            self.queued_before,
            self.applied,
            self.decided[:, 0] + self.decided[:, 1],
            self.queue,
            self.queued_after,
        )

    def shipping(self, t: int) -> None:
        """4. Shipping, less what a supply shock cuts."""
        # sent = (free + approved + contract) * (1 - cut), in place.
        sent = self.sent
        if self.n_q:
            flat = sent.reshape(self.d_n, self.p_n * self.k_n)
            flat[:, self.cols] += self.decided[:, 0]
        if self.contract_on[t]:
            sent += self.contract[:, t]
        if self.cut_on[t]:
            sent *= 1.0 - self.cut[:, t]
        if self.checking:
            self.transit_before = per_draw(self.transit)
        for p in range(self.p_n):
            self.transit[:, self.net.lead_steps[p]] += sent[:, p]

    def arrivals(self, t: int) -> None:
        """5. Arrivals and local supply; the stockpile releases materials to short processors."""
        transit, stock = self.transit, self.stock
        self.arrived = transit[:, 0].copy()
        transit[:, :-1], transit[:, -1] = transit[:, 1:], 0.0
        if self.checking:
            self.stock_before = stock.copy()
        stock += self.arrived
        self.extra = self.local[:, t]
        stock += self.extra

        # The stockpile releases materials (not magnets) to processors short of inputs.
        self.release_in = self.no_flow
        if self.has_pile:
            pile = self.pile
            if self.checking:
                self.pile_before = pile.copy()
            self.need_now = need_now = self.capacity[:, t] @ self.net.proc_in
            short_input = (~self.is_mag)[None, :] & (stock < self.pile_trigger[:, None] * need_now)
            self.release_in = np.where(
                short_input,
                np.minimum(np.minimum(pile, self.pile_release), np.maximum(need_now - stock, 0.0)),
                0.0,
            )
            pile -= self.release_in
            stock += self.release_in

    def check_transit(self, t: int) -> None:
        """Goods in transit: shipped in = arrivals out + change in transit."""
        self.balance.transit(
            t,
            self.transit_before,
            per_draw(self.sent),
            self.arrived.sum(axis=1),
            self.transit,
        )

    def processing(self, t: int) -> None:
        """6. Domestic processing, upstream first; a process with no capacity now is skipped."""
        stock = self.stock
        runs = np.zeros((self.d_n, self.j_n))
        for j in range(self.j_n):
            limit = self.capacity[:, t, j]
            if not limit.any():
                continue
            ins, need = self.proc_inputs[j]
            for k, amount in zip(ins, need, strict=True):
                limit = np.minimum(limit, stock[:, k] / amount)
            x = np.maximum(limit, 0.0)
            for k, amount in zip(ins, need, strict=True):
                # An exhausted input can end a rounding error below zero: it is empty.
                stock[:, k] = np.maximum(stock[:, k] - x * amount, 0.0)
            outs, make = self.proc_outputs[j]
            for k, amount in zip(outs, make, strict=True):
                stock[:, k] += x * amount
            runs[:, j] = x
        self.runs = runs
        self.made = runs @ self.net.proc_out
        self.used = runs @ self.net.proc_in

    def check_processes(self, t: int) -> None:
        """Each process: element mass in = element mass out + losses."""
        self.balance.processes(t, self.runs, self.net)

    def components(self, t: int) -> None:
        """Magnets inside imported components: orders, licences for the reached part, use."""
        self.segs.components(t)

    def check_components(self, t: int) -> None:
        """Component licence queues and component stocks."""
        self.segs.check_components(t)

    def _unassigned(self) -> FloatArray:
        """(D, K) stock no segment holds: all of a material's, the pool's rest of a magnet's."""
        free = self.stock.copy()
        held = self.segs.held_by_magnet()
        free[:, self.mag] = np.maximum(free[:, self.mag] - held, 0.0)
        return free

    def allocation(self, t: int) -> None:
        """7. Magnets to segments; the stockpile releases or buys; domestic surplus is exported."""
        stock, pile, mag, segs = self.stock, self.pile, self.mag, self.segs
        self.supply = supply = stock[:, mag].copy()
        used = segs.allocate(t, supply)
        stock[:, mag] -= used
        # A private buffer is held by the magnet users for their own production: what the price
        # rationed away is served from the stock no segment holds, up to each segment's need,
        # tier by tier.
        if self.has_buffer:
            avail = self._unassigned()[:, mag]
            room = np.minimum(avail, self.buffer * segs.pool_use())
            from_buffer = room - segs.serve_buffer(room)
            stock[:, mag] -= from_buffer
            used = used + from_buffer
        self.delivered_k = np.zeros((self.d_n, self.k_n))
        self.delivered_k[:, mag] = used

        # When the sectors it serves get less than the trigger's share of their need, the
        # stockpile releases magnets to them, up to their segments' need, priority tiers first;
        # it buys only while the market is whole and no sector it serves is short.
        need_m = segs.pool_use()
        self.fill_m = fill_m = np.divide(
            np.minimum(supply, need_m), need_m, out=np.ones_like(need_m), where=need_m > 0
        )
        self.released, self.bought = self.no_flow, self.no_flow
        if self.has_pile:
            room = np.where(
                segs.served_fill() < self.pile_trigger[:, None],
                np.minimum(pile[:, mag], self.pile_release[:, mag]),
                0.0,
            )
            release_mag = room - segs.serve_stockpile(room)
            pile[:, mag] -= release_mag
            self.released = self.release_in.copy()
            self.released[:, mag] += release_mag
            # Whole: magnets filled, materials' stock covering this step's need, both to
            # WHOLE_TOLERANCE (supply that exactly meets need must not flip on a rounding error).
            is_mag, need_now = self.is_mag, self.need_now
            whole = np.ones((self.d_n, self.k_n), dtype=bool)
            whole[:, mag] = (fill_m >= 1.0 - WHOLE_TOLERANCE) & ~segs.served_short(WHOLE_TOLERANCE)
            whole[:, ~is_mag] &= stock[:, ~is_mag] >= need_now[:, ~is_mag] * (1.0 - WHOLE_TOLERANCE)
            # It buys only what stands above the industry's own stock target, and no segment's.
            self.bought = np.where(
                whole,
                np.minimum(
                    np.minimum(self.pile_fill, np.maximum(self.pile_target[:, t] - pile, 0.0)),
                    np.minimum(np.maximum(stock - self.cover * self.use, 0.0), self._unassigned()),
                ),
                0.0,
            )
            self.whole_prev = whole
            stock -= self.bought
            pile += self.bought
        # Domestic surplus above the stock target is sold abroad (e.g. IREL's NdPr oxide).
        self.domestic = domestic = self.made + self.extra
        self.exported = np.where(
            domestic > self.use,
            np.minimum(np.maximum(stock - self.cover * self.use, 0.0), self._unassigned()),
            0.0,
        )
        stock -= self.exported

    def check_holdings(self, t: int) -> None:
        """Segments' holdings of pool magnets: before + intake = used + after."""
        self.segs.check_holdings(t, self.stock[:, self.mag])

    def check_stockpile(self, t: int) -> None:
        """Government stockpile: bought = released + change in level; never negative.

        Without a stockpile nothing moves through it (its flows are the shared zeros, and no
        event touches its level): there is nothing to check.
        """
        if self.has_pile:
            self.balance.stockpile(t, self.pile_before, self.bought, self.released, self.pile)

    def check_stock(self, t: int) -> None:
        """Focal stocks: arrivals + local + made = used + delivered + change in stock."""
        pile = self.has_pile
        self.balance.stock(
            t,
            self.stock_before,
            (self.arrived, self.extra, self.made, *((self.release_in,) if pile else ())),
            (self.used, self.delivered_k, self.exported, *((self.bought,) if pile else ())),
            self.stock,
        )

    def prices(self, t: int) -> None:
        """8. Prices move toward the multiple that clears the market."""
        del t
        clearing = clearing_multiple(self.fill_m, self.elasticity[:, None], self.net.max_multiple)
        mag = self.mag
        self.price[:, mag] = adjust(self.price[:, mag], clearing, self.adjustment[:, None])
        self.last_out = self.domestic

    def record(self, t: int, rec: dict[str, FloatArray]) -> None:
        """Write step ``t`` into the time-major records (shipments are already in theirs)."""
        act_s, segs, seg = self.rec_s, self.segs, self.rec_g
        need_g, want_g, got_g = segs.need_by_segment(), segs.sought(), segs.delivered()  # (G, D)
        rec["requirement"][t][:, act_s] = segs.by_sector(need_g)
        rec["demand"][t][:, act_s] = segs.by_sector(want_g)
        rec["delivered"][t][:, act_s] = segs.by_sector(got_g)
        rec["segment_requirement"][t][:, seg] = need_g.T
        rec["segment_demand"][t][:, seg] = want_g.T
        rec["segment_delivered"][t][:, seg] = got_g.T
        rec["segment_components"][t][:, seg] = segs.by_segment(segs.used_inside)
        rec["segment_refused"][t][:, seg] = segs.by_segment(segs.refused)
        rec["stock"][t] = self.stock
        rec["imports"][t] = self.arrived
        rec["refused"][t] = self.refused_k
        rec["exported"][t] = self.exported
        rec["production"][t] = self.runs
        rec["price_multiple"][t] = self.price
        if self.has_pile:
            rec["stockpile"][t] = self.pile
            rec["stockpile_in"][t] = self.bought
            rec["stockpile_out"][t] = self.released
        rec["import_cost_usd"][t] = (self.arrived * self.base_price[None] * self.price).sum(axis=1)
