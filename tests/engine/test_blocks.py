"""Stepping draws in blocks gives the same results as stepping them all at once."""

from __future__ import annotations

import numpy as np

from rareflow.engine.core import simulate
from rareflow.engine.run import with_overrides
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario


def test_block_size_does_not_change_results() -> None:
    net = compile_scenario(with_overrides(load_scenario("china-2025-october"), draws=9)).network
    whole = simulate(net, block=9)
    for block in (1, 4):
        parts = simulate(net, block=block)
        for name in ("requirement", "delivered", "stock", "refused", "price_multiple"):
            np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
        assert parts.shipped_by_partner is not None
        assert whole.shipped_by_partner is not None
        np.testing.assert_array_equal(parts.shipped_by_partner, whole.shipped_by_partner)


def test_lever_scenarios_step_in_blocks_too() -> None:
    # Per-draw stockpile and contract arrays must be cut per block like every draw-first array.
    for preset in ("china-2025-april+stockpile", "china-2025-april+supply-contract"):
        net = compile_scenario(with_overrides(load_scenario(preset), draws=7)).network
        whole = simulate(net, block=7)
        parts = simulate(net, block=3)
        for name in ("delivered", "stock", "stockpile", "imports"):
            np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
