"""The vectorised time-stepper: every array carries the ensemble axis ``draw`` first.

Each step runs these events, in order (see the README's engine section for the model and its
parameters):

1. **Requirement.** Each sector's magnet requirement (its production plan) grows with demand;
   what buyers in the last allocation tier take answers the price: ``requirement *
   price_multiple ** elasticity``; sectors in a priority tier (defence, medical) take their whole
   requirement at any price.
2. **Orders.** Buyers order what their production plan needs plus a share of the gap to their
   stock target (counting stock, goods at sea and licences expected to be approved), split across
   partners
   by baseline shares. The part of an order that needs an export licence joins that control's
   queue (for other partners, only the share a re-export rule catches); buyers seek the
   expected refusals from other partners, who can add up to ``surge`` of
   their baseline volume, less what other importers take (``row_pressure``).
3. **Licence decisions.** Applications reach a decision after their delay; the approved share is
   shipped, the rest is refused.
4. **Shipping.** Shipments lose the share cut by a supply shock, then travel ``lead_steps``.
5. **Arrivals** enter the focal country's stock, with local supply (mine output, recycling).
6. **Processing.** Domestic processes run upstream first, limited by capacity and inputs.
7. **Allocation.** Magnets go to sectors tier by tier; within a tier, in proportion to demand.
8. **Prices** move toward the multiple that would clear the supply available against the
   requirement, ``(supply / requirement) ** (1 / elasticity)``; buyers keep seeking their
   requirement, and the price rations what they take (demand destruction).

Mass balance is checked at every node and step (stocks, transit, licence queues, and the element
balance of every process) unless switched off for benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rareflow.engine.balance import BalanceCheck
from rareflow.model.network import COMMODITY_IDS, MAGNETS, FloatArray, Network

MAGNET_INDEX = np.array([COMMODITY_IDS.index(m) for m in MAGNETS])


@dataclass
class Trajectory:
    """Per-step records of a run, each with ``draw`` first and ``time`` second."""

    requirement: FloatArray  # (D, T, S) t_magnet
    demand: FloatArray  # (D, T, S) t_magnet
    delivered: FloatArray  # (D, T, S) t_magnet
    stock: FloatArray  # (D, T, K)
    imports: FloatArray  # (D, T, K) arrived
    shipped_by_partner: FloatArray | None  # (D, T, P, K) or None when not kept
    refused: FloatArray  # (D, T, K)
    exported: FloatArray  # (D, T, K) domestic surplus sold abroad
    production: FloatArray  # (D, T, J)
    price_multiple: FloatArray  # (D, T, K)
    import_cost_usd: FloatArray  # (D, T)


def _at(arr: FloatArray, n: int) -> FloatArray:
    """Broadcast a leading draw axis of length 1 to ``n``."""
    return np.broadcast_to(arr, (n, *arr.shape[1:])) if arr.shape[0] == 1 else arr


def simulate(
    net: Network,
    *,
    check: bool = True,
    keep_partners: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Trajectory:
    """Run the network over all its steps, vectorised over draws.

    Parameters
    ----------
    net
        The compiled network.
    check
        Check mass balance at every node and step (switch off only for benchmarks).
    keep_partners
        Record shipments by partner (memory grows with draws x steps x partners x commodities).
    progress
        Called with (steps done, steps in all) after every step.
    """
    d_n, t_n = net.n_draws, net.n_steps
    s_n, k_n, p_n, j_n = len(net.sectors), len(COMMODITY_IDS), len(net.partners), len(net.processes)
    c_n = net.licensed.shape[0]
    q_n, l_n = net.max_queue, net.max_lead
    rows = np.arange(d_n)
    mag = MAGNET_INDEX

    growth = _at(net.growth, d_n)
    capacity = _at(net.capacity, d_n)
    surge, row_pressure = _at(net.surge, d_n), _at(net.row_pressure, d_n)
    approval, delay = _at(net.approval, d_n), _at(net.delay_steps, d_n)
    cut = _at(net.cut, d_n)
    scale = _at(net.licence_scale, d_n)
    elasticity, adjustment = _at(net.elasticity, d_n), _at(net.adjustment, d_n)
    cover, restock = _at(net.cover_steps, d_n), _at(net.restock_steps, d_n)
    local = _at(net.local_supply, d_n)
    tiers = sorted(set(net.tier.tolist()))
    elastic = net.tier == net.tier.max()
    if net.proportional_only:
        tiers = [-1]
        elastic = np.ones(s_n, dtype=bool)

    stock = np.array(_at(net.stock0, d_n), dtype=np.float64)
    transit = np.zeros((d_n, l_n, k_n))
    queue_ok = np.zeros((d_n, q_n, p_n, k_n))
    queue_no = np.zeros((d_n, q_n, p_n, k_n))
    price = np.ones((d_n, k_n))
    # Steady start: domestic output as at full capacity, and each partner's baseline shipments
    # for the coming lead time already at sea.
    last_out = np.einsum("dj,jk->dk", capacity[:, 0], net.proc_out) + local[:, 0]
    use0 = np.einsum("dj,jk->dk", capacity[:, 0], net.proc_in)
    use0[:, mag] += net.requirement0[:, mag].sum(axis=0)[None, :]
    baseline_imports = np.maximum(use0 - last_out, 0.0)
    pipeline_steps = net.share.T @ net.lead_steps.astype(np.float64)  # (K,) share-weighted lead
    for p in range(p_n):
        for lag in range(int(net.lead_steps[p])):
            transit[:, lag] += baseline_imports * net.share[p][None, :]
    out = Trajectory(
        requirement=np.zeros((d_n, t_n, s_n)),
        demand=np.zeros((d_n, t_n, s_n)),
        delivered=np.zeros((d_n, t_n, s_n)),
        stock=np.zeros((d_n, t_n, k_n)),
        imports=np.zeros((d_n, t_n, k_n)),
        shipped_by_partner=np.zeros((d_n, t_n, p_n, k_n)) if keep_partners else None,
        refused=np.zeros((d_n, t_n, k_n)),
        exported=np.zeros((d_n, t_n, k_n)),
        production=np.zeros((d_n, t_n, j_n)),
        price_multiple=np.zeros((d_n, t_n, k_n)),
        import_cost_usd=np.zeros((d_n, t_n)),
    )
    balance = BalanceCheck(enabled=check)
    years_per_step = net.step_months / 12.0
    base_price = np.nan_to_num(net.base_price, nan=0.0) * 1000.0  # USD per t

    for t in range(t_n):
        # 1. Requirement and price-responsive demand, (D, S, M).
        grow = (1.0 + growth) ** (t * years_per_step)
        req = (
            net.requirement0[None, :, mag]
            * grow[:, :, None]
            * net.demand_multiplier[t][None, :, mag]
        )
        # Sectors in a priority tier must run at any price; the rest answer the price.
        response = price[:, None, mag] ** elasticity[:, None, None]
        dem = req * np.where(elastic[None, :, None], response, 1.0)

        # 2. Orders: expected use plus a share of the gap to the stock target.
        use = np.zeros((d_n, k_n))
        use[:, mag] = req.sum(axis=1)
        use += np.einsum("dj,jk->dk", capacity[:, t], net.proc_in)
        # The target position holds the stock target plus what should be at sea.
        position = stock + transit.sum(axis=1) + queue_ok.sum(axis=(1, 2))
        at_sea = np.maximum(use - last_out, 0.0) * pipeline_steps[None, :]
        gap = cover * use + at_sea - position
        desired = np.maximum(use - last_out + gap / restock[:, None], 0.0)
        orders = desired[:, None, :] * net.share[None, :, :]  # (D, P, K)

        # Expected refusals are sought from partners with room to add supply.
        lic = net.licensed[:, t]  # (C, P, K)
        free = orders.copy()
        expected_refused = np.zeros((d_n, k_n))
        for c in range(c_n):
            part = free * lic[c][None] * scale[:, c, :, None]
            free = free - part
            expected_refused += (part * (1.0 - approval[:, c, t])[:, None, None]).sum(axis=1)
        room = surge[:, t, :, None] * orders * (1.0 - row_pressure[:, t])[:, None, None]
        room_total = room.sum(axis=1)
        take = np.divide(
            np.minimum(expected_refused, room_total),
            room_total,
            out=np.zeros_like(room_total),
            where=room_total > 0,
        )
        orders = orders + room * take[:, None, :]

        # Split every order into its licensed parts (queued) and the free part (shipped).
        free = orders.copy()
        applied = np.zeros((d_n, p_n, k_n))
        queued_before = queue_ok.sum(axis=1) + queue_no.sum(axis=1)
        for c in range(c_n):
            part = free * lic[c][None] * scale[:, c, :, None]
            free = free - part
            applied += part
            a = approval[:, c, t][:, None, None]
            lo = np.floor(delay[:, c, t]).astype(np.int64)
            w = (delay[:, c, t] - lo)[:, None, None]
            queue_ok[rows, lo] += part * a * (1.0 - w)
            queue_ok[rows, lo + 1] += part * a * w
            queue_no[rows, lo] += part * (1.0 - a) * (1.0 - w)
            queue_no[rows, lo + 1] += part * (1.0 - a) * w

        # 3. Licence decisions at the head of each queue.
        approved, refused = queue_ok[:, 0].copy(), queue_no[:, 0].copy()
        queue_ok[:, :-1], queue_ok[:, -1] = queue_ok[:, 1:], 0.0
        queue_no[:, :-1], queue_no[:, -1] = queue_no[:, 1:], 0.0
        balance.queue(t, queued_before, applied, approved + refused, queue_ok, queue_no)

        # 4. Shipping, less what a supply shock cuts.
        sent = (free + approved) * (1.0 - cut[:, t])
        transit_before = transit.sum(axis=(1, 2))
        for p in range(p_n):
            transit[:, net.lead_steps[p]] += sent[:, p]

        # 5. Arrivals, and local supply.
        arrived = transit[:, 0].copy()
        transit[:, :-1], transit[:, -1] = transit[:, 1:], 0.0
        balance.transit(t, transit_before, sent.sum(axis=(1, 2)), arrived.sum(axis=1), transit)
        stock_before = stock.copy()
        stock += arrived
        extra = local[:, t]
        stock += extra

        # 6. Domestic processing, upstream first.
        made = np.zeros((d_n, k_n))
        used = np.zeros((d_n, k_n))
        runs = np.zeros((d_n, j_n))
        for j in range(j_n):
            need = net.proc_in[j]
            limit = capacity[:, t, j]
            for k in np.flatnonzero(need):
                limit = np.minimum(limit, stock[:, k] / need[k])
            x = np.maximum(limit, 0.0)
            stock -= x[:, None] * need[None]
            stock += x[:, None] * net.proc_out[j][None]
            made += x[:, None] * net.proc_out[j][None]
            used += x[:, None] * need[None]
            runs[:, j] = x
        balance.processes(t, runs, net)

        # 7. Allocation of magnets to sectors.
        avail = stock[:, mag].copy()
        supply = avail.copy()
        given = np.zeros_like(dem)
        for tier in tiers:
            members = np.ones(s_n, dtype=bool) if tier == -1 else net.tier == tier
            wanted = dem[:, members].sum(axis=1)
            give = np.minimum(avail, wanted)
            fill = np.divide(give, wanted, out=np.zeros_like(give), where=wanted > 0)
            given[:, members] = dem[:, members] * fill[:, None, :]
            avail -= give
        stock[:, mag] = avail
        delivered_k = np.zeros((d_n, k_n))
        delivered_k[:, mag] = given.sum(axis=1)
        # Domestic surplus above the stock target is sold abroad (e.g. IREL's NdPr oxide).
        domestic = made + extra
        exported = np.where(domestic > use, np.maximum(stock - cover * use, 0.0), 0.0)
        stock -= exported
        balance.stock(t, stock_before, arrived, extra, made, used, delivered_k + exported, stock)

        # 8. Prices move toward the multiple that clears the market.
        need_m = req.sum(axis=1)
        fill_m = np.divide(
            np.minimum(supply, need_m), need_m, out=np.ones_like(need_m), where=need_m > 0
        )
        clearing = np.minimum(
            np.maximum(fill_m, 1e-12) ** (1.0 / elasticity[:, None]), net.max_multiple
        )
        clearing = np.where(fill_m < 1.0, clearing, 1.0)
        price[:, mag] += adjustment[:, None] * (clearing - price[:, mag])

        last_out = domestic
        out.requirement[:, t] = req.sum(axis=2)
        out.demand[:, t] = dem.sum(axis=2)
        out.delivered[:, t] = given.sum(axis=2)
        out.stock[:, t] = stock
        out.imports[:, t] = arrived
        if out.shipped_by_partner is not None:
            out.shipped_by_partner[:, t] = sent
        out.refused[:, t] = refused.sum(axis=1)
        out.exported[:, t] = exported
        out.production[:, t] = runs
        out.price_multiple[:, t] = price
        out.import_cost_usd[:, t] = (arrived * base_price[None] * price).sum(axis=1)
        if progress is not None:
            progress(t + 1, t_n)
    return out
