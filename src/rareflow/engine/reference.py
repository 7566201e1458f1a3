"""A slow, plainly written reference stepper for one draw, to test the vectorised engine against.

It follows the events of :mod:`rareflow.engine.core` in the same order and with the same meaning,
but in scalar Python loops over sectors, commodities, partners, processes and controls, and it
keeps pending licence decisions and goods at sea in dictionaries keyed by the step they fall due,
rather than in shifting arrays. NumPy is used only to read the network's inputs and to return
the results as a :class:`~rareflow.engine.core.Trajectory` with a ``draw`` axis of length 1.
"""

from __future__ import annotations

import math

import numpy as np

from rareflow.engine.core import WHOLE_TOLERANCE, Trajectory
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
    t_n = net.n_steps
    s_n, k_n, p_n, j_n = len(net.sectors), len(COMMODITY_IDS), len(net.partners), len(net.processes)
    c_n = int(net.licensed.shape[0])
    mags = [COMMODITY_IDS.index(m) for m in MAGNETS]
    is_magnet = [k in mags for k in range(k_n)]

    growth: Vector = _of_draw(net.growth, draw).tolist()
    capacity: Matrix = _of_draw(net.capacity, draw).tolist()
    surge: Matrix = _of_draw(net.surge, draw).tolist()
    row_pressure: Vector = _of_draw(net.row_pressure, draw).tolist()
    approval: Matrix = _of_draw(net.approval, draw).tolist()
    delay: Matrix = _of_draw(net.delay_steps, draw).tolist()
    cut: list[Matrix] = _of_draw(net.cut, draw).tolist()
    elasticity = float(_of_draw(net.elasticity, draw))
    adjustment = float(_of_draw(net.adjustment, draw))
    cover: Vector = _of_draw(net.cover_steps, draw).tolist()
    restock = float(_of_draw(net.restock_steps, draw))
    local: Matrix = _of_draw(net.local_supply, draw).tolist()
    stock: Vector = _of_draw(net.stock0, draw).tolist()
    contract: list[Matrix] = _of_draw(net.contract, draw).tolist()
    pile: Vector = _of_draw(net.stockpile0, draw).tolist()
    pile_target: Matrix = _of_draw(net.stockpile_target, draw).tolist()
    pile_fill: Vector = _of_draw(net.stockpile_fill, draw).tolist()
    pile_release: Vector = _of_draw(net.stockpile_release, draw).tolist()
    pile_trigger = float(_of_draw(net.stockpile_trigger, draw))
    pile_sectors = [bool(v) for v in net.stockpile_sectors.tolist()]
    whole_prev = [True] * k_n
    req0: Matrix = net.requirement0.tolist()
    multiplier: list[Matrix] = _of_draw(net.demand_multiplier, draw).tolist()
    proc_in: Matrix = net.proc_in.tolist()
    proc_out: Matrix = net.proc_out.tolist()
    share: Matrix = net.share.tolist()
    lead = [int(v) for v in net.lead_steps.tolist()]
    licensed: list[list[Matrix]] = net.licensed.tolist()
    licence_scale: Matrix = _of_draw(net.licence_scale, draw).tolist()
    tier = [int(v) for v in net.tier.tolist()]
    # Materials without a known price add nothing to the import bill; prices are per kg.
    base_price = [0.0 if math.isnan(v) else v * 1000.0 for v in net.base_price.tolist()]
    years_per_step = net.step_months / 12.0
    if net.proportional_only:
        groups = [list(range(s_n))]
        elastic = [True] * s_n
    else:
        groups = [[s for s in range(s_n) if tier[s] == level] for level in sorted(set(tier))]
        # Sectors in no priority tier answer the price; priority sectors take their requirement.
        elastic = [bool(v) for v in net.elastic.tolist()]

    # Warm start: last step's domestic output is full-capacity output plus local supply, and
    # every partner's share of the baseline imports is at sea for each step of its lead time.
    last_out = [
        sum(capacity[0][j] * proc_out[j][k] for j in range(j_n)) + local[0][k] for k in range(k_n)
    ]
    at_sea_book: dict[int, Vector] = {}
    for k in range(k_n):
        use0 = sum(capacity[0][j] * proc_in[j][k] for j in range(j_n))
        if is_magnet[k]:
            use0 += sum(req0[s][k] * multiplier[0][s][k] for s in range(s_n))
        baseline = max(use0 - last_out[k], 0.0)
        for p in range(p_n):
            for due in range(lead[p]):
                at_sea_book.setdefault(due, [0.0] * k_n)[k] += baseline * share[p][k]
    pipeline_steps = [sum(share[p][k] * lead[p] for p in range(p_n)) for k in range(k_n)]
    # Pending licence decisions by the step they fall due, to be approved or refused.
    pending_ok: dict[int, Matrix] = {}
    pending_no: dict[int, Matrix] = {}
    price = [1.0] * k_n

    rec_req, rec_dem, rec_del = _zeros(t_n, s_n), _zeros(t_n, s_n), _zeros(t_n, s_n)
    rec_stock, rec_imports, rec_refused = _zeros(t_n, k_n), _zeros(t_n, k_n), _zeros(t_n, k_n)
    rec_exported, rec_price = _zeros(t_n, k_n), _zeros(t_n, k_n)
    rec_pile, rec_pile_in, rec_pile_out = _zeros(t_n, k_n), _zeros(t_n, k_n), _zeros(t_n, k_n)
    rec_production = _zeros(t_n, j_n)
    rec_shipped = [_zeros(p_n, k_n) for _ in range(t_n)]
    rec_cost = [0.0] * t_n

    for t in range(t_n):
        # 1. Requirement grows with demand; what elastic sectors seek answers each magnet's price.
        req = _zeros(s_n, k_n)
        dem = _zeros(s_n, k_n)
        for s in range(s_n):
            grow = (1.0 + growth[s]) ** (t * years_per_step)
            for m in mags:
                req[s][m] = req0[s][m] * grow * multiplier[t][s][m]
                dem[s][m] = req[s][m] * price[m] ** elasticity if elastic[s] else req[s][m]

        # 2. Orders: what the plan needs net of domestic output, plus a share of the gap to the
        # target position, which includes what should be at sea and the approvals that should
        # be pending.
        use = [0.0] * k_n
        for k in range(k_n):
            if is_magnet[k]:
                use[k] = sum(req[s][k] for s in range(s_n))
            use[k] += sum(capacity[t][j] * proc_in[j][k] for j in range(j_n))
        orders = _zeros(p_n, k_n)
        for k in range(k_n):
            in_transit = sum(v[k] for v in at_sea_book.values())
            expected_ok = sum(book[p][k] for book in pending_ok.values() for p in range(p_n))
            position = stock[k] + in_transit + expected_ok
            # Approvals that should be pending: each partner's share, controls in order, times
            # the approval probability and the delay of an application made now.
            pending_steps = 0.0
            for p in range(p_n):
                left = share[p][k]
                for c in range(c_n):
                    part = left * licensed[c][t][p][k] * licence_scale[c][p]
                    left -= part
                    pending_steps += part * approval[c][t] * delay[c][t]
            imported = max(use[k] - last_out[k], 0.0)
            gap = cover[k] * use[k] + imported * (pipeline_steps[k] + pending_steps) - position
            desired = max(use[k] - last_out[k] + gap / restock, 0.0)
            # The stockpile tenders for its own purchases while the market was whole last step.
            if whole_prev[k]:
                desired += min(pile_fill[k], max(pile_target[t][k] - pile[k], 0.0))
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
                    part = left * licensed[c][t][p][k] * licence_scale[c][p]
                    left -= part
                    expected_refused[k] += part * (1.0 - approval[c][t])
        # They are sought from partners with surge room, in proportion to that room.
        for k in range(k_n):
            room = [surge[t][p] * orders[p][k] * (1.0 - row_pressure[t]) for p in range(p_n)]
            room_total = sum(room)
            take = min(expected_refused[k], room_total) / room_total if room_total > 0 else 0.0
            for p in range(p_n):
                orders[p][k] += room[p] * take

        # Licensed parts join the queues, due after their delay (a fraction of a step splits
        # an application between the two steps around it); the rest ships freely.
        free = _zeros(p_n, k_n)
        shape = (p_n, k_n)
        for p in range(p_n):
            for k in range(k_n):
                left = orders[p][k]
                for c in range(c_n):
                    part = left * licensed[c][t][p][k] * licence_scale[c][p]
                    left -= part
                    a = approval[c][t]
                    first = math.floor(delay[c][t])
                    late = delay[c][t] - first
                    _add_due(pending_ok, t + first, p, k, part * a * (1.0 - late), shape)
                    _add_due(pending_ok, t + first + 1, p, k, part * a * late, shape)
                    _add_due(pending_no, t + first, p, k, part * (1.0 - a) * (1.0 - late), shape)
                    _add_due(pending_no, t + first + 1, p, k, part * (1.0 - a) * late, shape)
                free[p][k] = left

        # 3. Licence decisions falling due now.
        approved = pending_ok.pop(t, _zeros(p_n, k_n))
        refused = pending_no.pop(t, _zeros(p_n, k_n))

        # 4. Shipping, less what a supply shock cuts; each partner's goods travel its lead time.
        sent = _zeros(p_n, k_n)
        for p in range(p_n):
            for k in range(k_n):
                sent[p][k] = (free[p][k] + approved[p][k] + contract[t][p][k]) * (
                    1.0 - cut[t][p][k]
                )
                at_sea_book.setdefault(t + lead[p], [0.0] * k_n)[k] += sent[p][k]

        # 5. Arrivals and local supply enter the stock.
        arrived = at_sea_book.pop(t, [0.0] * k_n)
        for k in range(k_n):
            stock[k] += arrived[k]
            stock[k] += local[t][k]

        # 5b. The stockpile releases materials (not magnets) to processors short of inputs.
        need_now = [sum(capacity[t][j] * proc_in[j][k] for j in range(j_n)) for k in range(k_n)]
        released = [0.0] * k_n
        for k in range(k_n):
            if not is_magnet[k] and stock[k] < pile_trigger * need_now[k]:
                released[k] = min(pile[k], pile_release[k], max(need_now[k] - stock[k], 0.0))
                pile[k] -= released[k]
                stock[k] += released[k]

        # 6. Processes in order (upstream first), each limited by capacity and its inputs.
        made = [0.0] * k_n
        runs = [0.0] * j_n
        for j in range(j_n):
            x = capacity[t][j]
            for k in range(k_n):
                if proc_in[j][k] != 0.0:
                    x = min(x, stock[k] / proc_in[j][k])
            x = max(x, 0.0)
            for k in range(k_n):
                stock[k] -= x * proc_in[j][k]
                stock[k] += x * proc_out[j][k]
                # An exhausted input can end a rounding error below zero: it is empty.
                stock[k] = max(stock[k], 0.0)
                made[k] += x * proc_out[j][k]
            runs[j] = x

        # 7. Allocation: tier by tier, in proportion to demand within a tier.
        supply = {m: stock[m] for m in mags}
        given = _zeros(s_n, k_n)
        for members in groups:
            for m in mags:
                wanted = sum(dem[s][m] for s in members)
                give = min(stock[m], wanted)
                fill = give / wanted if wanted > 0 else 0.0
                for s in members:
                    given[s][m] = dem[s][m] * fill
                stock[m] -= give
        # 7b. Below the trigger the stockpile releases magnets to the sectors it serves, up to
        # what they still seek; while the market is whole it buys.
        bought = [0.0] * k_n
        for k in range(k_n):
            whole = True
            if is_magnet[k]:
                need = sum(req[s][k] for s in range(s_n))
                fill = min(supply[k], need) / need if need > 0 else 1.0
                whole = fill >= 1.0 - WHOLE_TOLERANCE
                if fill < pile_trigger:
                    unmet = [
                        dem[s][k] - given[s][k] if pile_sectors[s] else 0.0 for s in range(s_n)
                    ]
                    total = sum(unmet)
                    out = min(pile[k], pile_release[k], total)
                    if total > 0:
                        for s in range(s_n):
                            given[s][k] += unmet[s] * (out / total)
                    pile[k] -= out
                    released[k] += out
            elif stock[k] < need_now[k] * (1.0 - WHOLE_TOLERANCE):
                whole = False
            if whole:
                # It buys only what stands above the industry's own stock target.
                above = max(stock[k] - cover[k] * use[k], 0.0)
                bought[k] = min(pile_fill[k], max(pile_target[t][k] - pile[k], 0.0), above)
                stock[k] -= bought[k]
                pile[k] += bought[k]
            whole_prev[k] = whole
        # Where domestic output exceeds use, stock above the target is sold abroad.
        domestic = [made[k] + local[t][k] for k in range(k_n)]
        exported = [0.0] * k_n
        for k in range(k_n):
            if domestic[k] > use[k]:
                exported[k] = max(stock[k] - cover[k] * use[k], 0.0)
                stock[k] -= exported[k]

        # 8. Each magnet's price moves toward the multiple that clears supply against requirement.
        for m in mags:
            need = sum(req[s][m] for s in range(s_n))
            fill = min(supply[m], need) / need if need > 0 else 1.0
            clearing = 1.0
            if fill < 1.0:
                clearing = min(max(fill, 1e-12) ** (1.0 / elasticity), net.max_multiple)
            price[m] += adjustment * (clearing - price[m])

        last_out = domestic
        for s in range(s_n):
            rec_req[t][s] = sum(req[s][m] for m in mags)
            rec_dem[t][s] = sum(dem[s][m] for m in mags)
            rec_del[t][s] = sum(given[s][m] for m in mags)
        for k in range(k_n):
            rec_stock[t][k] = stock[k]
            rec_imports[t][k] = arrived[k]
            rec_refused[t][k] = sum(refused[p][k] for p in range(p_n))
            rec_exported[t][k] = exported[k]
            rec_price[t][k] = price[k]
            rec_pile[t][k] = pile[k]
            rec_pile_in[t][k] = bought[k]
            rec_pile_out[t][k] = released[k]
        rec_production[t] = runs
        rec_shipped[t] = sent
        rec_cost[t] = sum(arrived[k] * base_price[k] * price[k] for k in range(k_n))

    def one(rows: object) -> FloatArray:
        return np.asarray(rows, dtype=np.float64)[None]

    return Trajectory(
        requirement=one(rec_req),
        demand=one(rec_dem),
        delivered=one(rec_del),
        stock=one(rec_stock),
        imports=one(rec_imports),
        shipped_by_partner=one(rec_shipped),
        refused=one(rec_refused),
        exported=one(rec_exported),
        production=one(rec_production),
        price_multiple=one(rec_price),
        stockpile=one(rec_pile),
        stockpile_in=one(rec_pile_in),
        stockpile_out=one(rec_pile_out),
        import_cost_usd=one(rec_cost),
    )
