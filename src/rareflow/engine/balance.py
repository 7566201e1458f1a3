"""Mass balance at every node and step: inputs = outputs + losses + change in stock.

Each check compares the change in what a node holds with the flows in and out of it, for every
draw, to a relative tolerance of 1e-9 of the largest flow at that node and step. A failure is a bug
in rareflow, not bad input, and raises :class:`MassBalanceError` naming the node, step and draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.model.network import FloatArray, Network

RTOL = 1e-9


class MassBalanceError(AssertionError):
    """Mass is not conserved somewhere: an internal error of the engine."""


def _check(node: str, step: int, lhs: FloatArray, rhs: FloatArray, scale: FloatArray) -> None:
    """Raise if ``lhs`` and ``rhs`` differ by more than RTOL of ``scale`` anywhere."""
    err = np.abs(lhs - rhs)
    tol = RTOL * np.maximum(scale, 1e-300)
    bad = err > tol
    if np.any(bad):
        where = np.argwhere(bad)[0]
        raise MassBalanceError(
            f"mass balance fails at {node}, step {step}, index {tuple(int(i) for i in where)}: "
            f"difference {float(err[tuple(where)]):.3e} exceeds {float(tol[tuple(where)]):.3e}"
        )


@dataclass
class BalanceCheck:
    """The engine's balance checks; all of them are no-ops when disabled."""

    enabled: bool = True

    def held(self, queue: FloatArray) -> FloatArray | None:
        """Return what the licence queues hold per draw and queue column (None if off)."""
        if not self.enabled:
            return None
        # einsum sums the slot and approved/refused axes in one pass (a nested sum is slower).
        held: FloatArray = np.einsum("dqan->dn", queue)
        return held

    def queue(
        self,
        step: int,
        before: FloatArray | None,
        applied: FloatArray,
        decided: FloatArray,
        queue: FloatArray,
    ) -> None:
        """Licence queues: applications in = decisions out + change in what is pending."""
        if not self.enabled or before is None:
            return
        after = np.einsum("dqan->dn", queue)
        scale = np.maximum.reduce([before, applied, decided, after])
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
        after = transit.sum(axis=(1, 2))
        scale = np.maximum.reduce([before, shipped, arrived, after])
        _check("transit", step, before + shipped, arrived + after, scale)

    def processes(self, step: int, runs: FloatArray, net: Network) -> None:
        """Each process: element mass in = element mass out + losses."""
        if not self.enabled:
            return
        # A process that did not run balances trivially (0 = 0): check only those that ran.
        ran = np.flatnonzero(runs.any(axis=0))
        if ran.size == 0:
            return
        r = runs[:, ran, None]
        inputs = r * (net.proc_in[ran] @ net.content)[None]
        outputs = r * (net.proc_out[ran] @ net.content)[None]
        losses = r * net.proc_loss[ran][None]
        _check(
            f"process {[net.processes[j].id for j in ran]}",
            step,
            inputs,
            outputs + losses,
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
        scale = np.maximum.reduce([before, bought, released, after])
        _check("stockpile", step, before + bought, released + after, scale)
        if np.any(after < -RTOL * np.maximum(scale, 1e-300)):
            raise MassBalanceError(f"negative stockpile at step {step}")

    def stock(
        self,
        step: int,
        before: FloatArray,
        arrived: FloatArray,
        local: FloatArray,
        made: FloatArray,
        used: FloatArray,
        delivered: FloatArray,
        after: FloatArray,
    ) -> None:
        """Focal stocks: arrivals + local + made = used + delivered + change in stock."""
        if not self.enabled:
            return
        extra = local
        inflow = arrived + extra + made
        outflow = used + delivered
        scale = np.maximum.reduce([before, inflow, outflow, after])
        _check("stock", step, before + inflow, outflow + after, scale)
        if np.any(after < -RTOL * np.maximum(scale, 1e-300)):
            raise MassBalanceError(f"negative stock at step {step}")

    def holdings(
        self,
        step: int,
        before: FloatArray,
        inflow: FloatArray,
        outflow: FloatArray,
        after: FloatArray,
        node: str = "segment holdings",
        pool: tuple[FloatArray, FloatArray, FloatArray] | None = None,
    ) -> None:
        """Check a segment stock (per draw, segment, grade): before + in = out + after, never < 0.

        ``pool``, (held per magnet, the focal stock of that magnet, the scale of its flows):
        segments hold part of the focal stock, never more than it.
        """
        if not self.enabled:
            return
        scale = np.maximum.reduce([before, inflow, outflow, after])
        _check(node, step, before + inflow, outflow + after, scale)
        if np.any(after < -RTOL * np.maximum(scale, 1e-300)):
            raise MassBalanceError(f"negative {node} at step {step}")
        if pool is not None:
            held, stock, flows = pool
            # Rounding crumbs are judged against the draw's largest holding flow.
            scale_d = np.maximum(np.abs(stock), flows.max(axis=-1, keepdims=True, initial=0.0))
            if np.any(held > stock + RTOL * scale_d + 1e-300):
                raise MassBalanceError(f"{node} exceed the focal stock at step {step}")

    def components(
        self,
        step: int,
        queued: tuple[FloatArray | None, FloatArray, FloatArray, FloatArray],
        stocks: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    ) -> None:
        """Components: their licence queues and the segments' component stocks balance.

        ``queued`` is (before, applied, decided, queue), ``stocks`` (before, arrived, used,
        after).
        """
        if not self.enabled:
            return
        before, applied, decided, queue = queued
        if before is not None:
            after = np.einsum("dqan->dn", queue)
            scale = np.maximum.reduce([before, applied, decided, after])
            _check("component licence queue", step, before + applied, decided + after, scale)
        self.holdings(step, *stocks, node="component stocks")

    def split(self, step: int, whole: FloatArray, parts: FloatArray) -> None:
        """Routes and grades: a sector's need per magnet = the sum of its segments' parts."""
        if not self.enabled:
            return
        _check("segments (routes and grades)", step, whole, parts, np.abs(whole))
