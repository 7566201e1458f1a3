"""Compile phases after the levers: what depends on the network the levers left.

- :func:`mine_feed`: domestic mine output (the country's, plus new mines from levers) feeds
  separation up to its capacity (at the baseline recipe); the rest has other uses;
- :func:`opening_stocks`: the industry opens with its cover of the requirement as drawn and of
  its processes' inputs at the baseline recipes.
"""

from __future__ import annotations

import numpy as np

from rareflow.model.network import COMMODITIES, COMMODITY_IDS
from rareflow.scenario.compile.work import Work


def mine_feed(work: Work) -> None:
    """Feed domestic mine output to separation, up to its capacity (other local supply kept)."""
    net, chain = work.ctx.net, work.ctx.chain
    mine = chain.mine_production
    if chain.country not in mine.coords["country"].to_numpy():
        return
    per_step = float(mine.sel(country=chain.country)) / 12.0 * net.step_months
    j_sep = [p.id for p in net.processes].index("separation_ndpr")
    k_conc = COMMODITY_IDS.index("concentrate_mixed")
    mined = per_step + net.local_supply[:, :, k_conc]
    feed = np.minimum(mined, net.capacity[:, :, j_sep] * work.proc_in[j_sep, k_conc])
    d_local = max(feed.shape[0], net.local_supply.shape[0])
    net.local_supply = np.broadcast_to(
        net.local_supply, (d_local, net.n_steps, len(COMMODITIES))
    ).copy()
    net.local_supply[:, :, k_conc] = feed


def opening_stocks(work: Work) -> None:
    """Open with the cover of the requirement as drawn (uncertain activity or intensity)."""
    net, scale = work.ctx.net, work.requirement_scale
    req0 = work.requirement0[None] if scale is None else work.requirement0[None] * scale
    use0 = req0.sum(axis=1) + (net.capacity[:, 0] @ work.proc_in).max(axis=0)
    net.stock0 = work.cover_steps * use0
