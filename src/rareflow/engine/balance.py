"""Mass balance at every node and step: inputs = outputs + losses + change in stock.

Each check compares the change in what a node holds with the flows in and out of it, for every
draw, to a relative tolerance of 1e-9 of the largest flow at that node and step. A failure is a bug
in rareflow, not bad input, and raises :class:`MassBalanceError` naming the node, step and draw.

The checks run at every step, so they are written to be cheap: each works in place on a few
arrays of one step's draws by materials, and looks for where it failed only once it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rareflow.model.network import FloatArray, IntArray, Network

RTOL = 1e-9


class MassBalanceError(AssertionError):
    """Mass is not conserved somewhere: an internal error of the engine."""


def _largest(first: FloatArray, second: FloatArray, *others: FloatArray) -> FloatArray:
    """Elementwise maximum of arrays of one shape (a new array)."""
    out: FloatArray = np.maximum(first, second)
    for other in others:
        np.maximum(out, other, out=out)
    return out


def _total(first: FloatArray, *others: FloatArray) -> FloatArray:
    """Elementwise sum of arrays of one shape (a new array)."""
    if not others:
        return np.array(first, dtype=np.float64)
    out: FloatArray = np.add(first, others[0])
    for other in others[1:]:
        out += other
    return out


def per_draw(values: FloatArray) -> FloatArray:
    """Total over every axis but the first (draws), as one matrix-vector product.

    A check's totals need not be summed in any particular order (they are compared to a
    tolerance), so BLAS does it, far faster than a reduction over middle axes.
    """
    flat = values.reshape(values.shape[0], -1)
    total: FloatArray = flat @ np.ones(flat.shape[1])
    return total


def _held(queue: FloatArray) -> FloatArray:
    """Sum licence queues ``(draw, slot, approved/refused, column)`` by draw and column."""
    d_n, *_, n_q = queue.shape
    flat = queue.reshape(d_n, -1)
    # Every slot and decision of a column adds into that column: one matrix product.
    total: FloatArray = flat @ np.tile(np.eye(n_q), (flat.shape[1] // max(n_q, 1), 1))
    return total


def _check(node: str, step: int, lhs: FloatArray, rhs: FloatArray, scale: FloatArray) -> None:
    """Raise if ``lhs`` and ``rhs`` differ by more than RTOL of ``scale`` anywhere.

    ``lhs`` and ``scale`` are overwritten (with the difference and the tolerance).
    """
    err = np.subtract(lhs, rhs, out=lhs)
    np.abs(err, out=err)
    tol = np.multiply(scale, RTOL, out=scale)
    # Within the tolerance everywhere: the largest excess is <= 0 (a NaN makes it NaN: fails).
    if bool(np.subtract(err, tol).max(initial=0.0) <= 0.0):
        return
    where = np.argwhere(~(err <= tol))[0]
    raise MassBalanceError(
        f"mass balance fails at {node}, step {step}, index {tuple(int(i) for i in where)}: "
        f"difference {float(err[tuple(where)]):.3e} exceeds {float(tol[tuple(where)]):.3e}"
    )


def _negative(after: FloatArray, scale: FloatArray) -> bool:
    """Whether a level is below zero by more than RTOL of its node's ``scale`` anywhere."""
    return not bool(np.add(after, RTOL * scale).min(initial=0.0) >= 0.0)


@dataclass
class BalanceCheck:
    """The engine's balance checks; all of them are no-ops when disabled."""

    enabled: bool = True

    def held(self, queue: FloatArray) -> FloatArray | None:
        """Return what the licence queues hold per draw and queue column (None if off)."""
        if not self.enabled:
            return None
        return _held(queue)

    def queue(
        self,
        step: int,
        before: FloatArray | None,
        applied: FloatArray,
        decided: FloatArray,
        queue: FloatArray,
        after: FloatArray | None = None,
    ) -> None:
        """Licence queues: applications in = decisions out + change in what is pending.

        ``after`` is what the queues hold now, if already summed (else summed from ``queue``).
        """
        if not self.enabled or before is None:
            return
        if after is None:
            after = _held(queue)
        scale = _largest(before, applied, decided, after)
        _check("licence queue", step, before + applied, decided + after, scale)

    def transit(
        self,
        step: int,
        before: FloatArray,
        shipped: FloatArray,
        arrived: FloatArray,
        transit: FloatArray,
    ) -> None:
        """Goods in transit: shipped in = arrivals out + change in transit."""
        if not self.enabled:
            return
        after = per_draw(transit)
        scale = _largest(before, shipped, arrived, after)
        _check("transit", step, before + shipped, arrived + after, scale)

    def processes(self, step: int, runs: FloatArray, net: Network) -> None:
        """Each process: element mass in = element mass out + losses.

        A process's element balance is linear in how much it runs: ``run * inputs = run *
        (outputs + losses)`` holds in every draw exactly when its recipe balances and its run is
        non-negative (and a number). So each step checks the runs, then the recipes of the
        processes that ran, once for all draws.
        """
        if not self.enabled:
            return
        if not bool(runs.min(initial=0.0) >= 0.0) or not np.isfinite(runs).all():
            where = np.argwhere(~(runs >= 0.0) | ~np.isfinite(runs))[0]
            raise MassBalanceError(
                f"process {net.processes[int(where[1])].id} runs {float(runs[tuple(where)])!r} "
                f"at step {step}, draw {int(where[0])}: a run must be a non-negative number"
            )
        # A process that did not run balances trivially (0 = 0): check only those that ran.
        ran = np.flatnonzero(runs.any(axis=0))
        if ran.size == 0:
            return
        inputs = net.proc_in[ran] @ net.content
        outputs = net.proc_out[ran] @ net.content
        _check(
            f"process {[net.processes[j].id for j in ran]}",
            step,
            inputs,
            outputs + net.proc_loss[ran],
            np.maximum(inputs, outputs),
        )

    def stockpile(
        self,
        step: int,
        before: FloatArray,
        bought: FloatArray,
        released: FloatArray,
        after: FloatArray,
    ) -> None:
        """Government stockpile: bought = released + change in level; never negative."""
        if not self.enabled:
            return
        scale = _largest(before, bought, released, after)
        negative = _negative(after, scale)
        _check("stockpile", step, before + bought, released + after, scale)
        if negative:
            raise MassBalanceError(f"negative stockpile at step {step}")

    def stock(
        self,
        step: int,
        before: FloatArray,
        inflows: Sequence[FloatArray],
        outflows: Sequence[FloatArray],
        after: FloatArray,
    ) -> None:
        """Focal stocks: arrivals + local + made = used + delivered + change in stock.

        ``inflows`` and ``outflows`` are the flows into and out of the stocks, each shaped like
        them.
        """
        if not self.enabled:
            return
        inflow, outflow = _total(*inflows), _total(*outflows)
        scale = _largest(before, inflow, outflow, after)
        negative = _negative(after, scale)
        inflow += before
        outflow += after
        _check("stock", step, inflow, outflow, scale)
        if negative:
            raise MassBalanceError(f"negative stock at step {step}")

    def holdings(
        self,
        step: int,
        totals: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
        level: tuple[FloatArray, IntArray],
        node: str = "segment holdings",
        pool: tuple[FloatArray, FloatArray, FloatArray] | None = None,
    ) -> None:
        """Check segment stocks: before + in = out + after per magnet and draw; never < 0.

        ``totals`` is (before, in, out, after), each summed over the segments and grades of a
        magnet, ``(magnet, draw)``; the balance is checked on these totals (a leak anywhere
        changes its magnet's total). ``level`` is (the stocks, ``(..., grade, draw)``, and the
        magnet of each grade): no stock may be below zero by more than RTOL of its magnet's
        flows. ``pool``, (held per magnet, the focal stock of that magnet, the scale of its
        flows), each ``(magnet, draw)``: segments hold part of the focal stock, never more.
        """
        if not self.enabled:
            return
        before, inflow, outflow, after = totals
        scale = _largest(before, inflow, outflow, after)
        stocks, magnet_of = level
        # One pass over the stocks when none is below zero (the usual case).
        if not bool(stocks.min(initial=0.0) >= 0.0) and np.any(
            stocks < -RTOL * np.maximum(scale[magnet_of], 1e-300)
        ):
            raise MassBalanceError(f"negative {node} at step {step}")
        _check(node, step, before + inflow, outflow + after, scale)
        if pool is not None:
            held, stock, flows = pool
            # Rounding crumbs are judged against the draw's largest holding flow.
            scale_d = np.maximum(np.abs(stock), flows.max(axis=0, initial=0.0))
            if np.any(held > stock + RTOL * scale_d + 1e-300):
                raise MassBalanceError(f"{node} exceed the focal stock at step {step}")

    def components(
        self,
        step: int,
        queued: tuple[FloatArray | None, FloatArray, FloatArray, FloatArray],
        stocks: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
        level: tuple[FloatArray, IntArray],
    ) -> None:
        """Components: their licence queues and the segments' component stocks balance.

        ``queued`` is (before, applied, decided, queue); ``stocks`` the totals per magnet and
        draw (before, arrived, used, after) and ``level`` the stocks with the magnet of each
        grade, as for :meth:`holdings`.
        """
        if not self.enabled:
            return
        before, applied, decided, queue = queued
        if before is not None:
            after = np.einsum("dqan->dn", queue)
            scale = np.maximum.reduce([before, applied, decided, after])
            _check("component licence queue", step, before + applied, decided + after, scale)
        self.holdings(step, stocks, level, node="component stocks")

    def split(self, step: int, whole: FloatArray, parts: FloatArray) -> None:
        """Routes and grades: a sector's need per magnet = the sum of its segments' parts."""
        if not self.enabled:
            return
        _check("segments (routes and grades)", step, whole, parts, np.abs(whole))
