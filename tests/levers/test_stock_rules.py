"""Stockpile and private buffer: who they release to and when they refill (issue 17, item 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from typing import Any

import numpy as np
import xarray as xr

from rareflow.engine.run import run
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.levers.stockpile import Stockpile
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

SINTERED = {"material": "magnet_ndfeb_sintered"}


def _scenario(name: str, draws: int = 12, **changes: Any) -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 3, **changes})
    return Scenario.model_validate(data)


@cache
def _stockpile_run(with_sectors: bool) -> xr.Dataset:
    """The 2029 repeat with half a month's stockpile; without ``sectors``, the lever's default.

    Half a month (not the preset's three) so that the stockpile runs empty while sectors are
    still short: the state in which a careless refill rule would buy. (A month no longer ran
    empty once appliances, industrial motors and the other sectors added in 2026-12 buy most of
    their magnets inside imported assemblies.)
    """
    sc = _scenario("repeat-2029+stockpile").model_dump(mode="json", by_alias=True)
    sc["levers"][0]["target_months"] = 0.5
    if not with_sectors:
        del sc["levers"][0]["sectors"]
    return run(Scenario.model_validate(sc)).results


def _short(res: xr.Dataset) -> xr.DataArray:
    """Each sector's shortfall of its requirement, relative to the requirement."""
    return (res.requirement - res.delivered) / res.requirement.where(res.requirement > 0)


def test_the_stockpile_serves_every_sector_with_a_requirement_by_default() -> None:
    assert Stockpile(target_t=100).sectors == "all"
    default, explicit = _stockpile_run(with_sectors=False), _stockpile_run(with_sectors=True)
    released = default.stockpile_out.sel(SINTERED)
    assert float(released.sum()) > 0.0
    xr.testing.assert_allclose(released, explicit.stockpile_out.sel(SINTERED))


def test_the_stockpile_never_buys_while_a_sector_it_serves_is_short() -> None:
    res = _stockpile_run(with_sectors=False)
    bought = res.stockpile_in.sel(SINTERED) > 0
    any_short = (_short(res) > 1e-6).any("sector")
    # The shock leaves sectors short for months after the stockpile is empty.
    assert bool((any_short & (res.stockpile.sel(SINTERED) < 1.0)).any())
    assert not bool((bought & any_short).any())
    # It does refill once the market is whole again.
    after = res.time.dt.year >= 2031
    assert float(res.stockpile_in.sel(SINTERED).where(after).sum()) > 0.0


def test_a_priority_sector_is_served_from_the_stockpile_first() -> None:
    """Under the 2029 repeat, e-2W and combustion-engine vehicles (the sectors with the most
    bare, heavy-grade magnet, short) in a priority tier: while they are still short after the
    stockpile's slow release, nothing of the release reaches the other sectors. The trigger
    reads what the served sectors got, not the national stock, which counts the cover segments
    hold for themselves. (Appliances and industrial motors, the tier before 2026-12's route
    rows, now buy most of their magnets inside imported assemblies and are rarely short.)"""
    tier = ["two_wheeler", "ice_vehicle"]
    pile = load_scenario("repeat-2029+stockpile").model_dump(mode="json", by_alias=True)["levers"]
    pile[0].update({"sectors": "all", "start": "2025-01", "release_months": 240})
    sc = _scenario(
        "repeat-2029",
        draws=4,
        levers=pile,
        allocation={"priority": [tier]},
    )
    with_pile = run(sc).results
    alone = run(_scenario("repeat-2029", draws=4, allocation=sc.allocation)).results
    extra = with_pile.delivered - alone.delivered
    released = with_pile.stockpile_out.sel(SINTERED) > 0
    first_short = (_short(with_pile).sel(sector=tier) > 1e-6).any("sector")
    others = extra.drop_sel(sector=tier).sum("sector")
    assert bool((released & first_short).any())
    assert float(np.abs(others.where(released & first_short, 0.0)).max()) < 1e-6
    # and the release does reach the priority tier
    assert float(extra.sel(sector=tier).where(released).sum()) > 0.0


def test_a_private_buffer_serves_what_the_price_rations_before_it_is_rebuilt() -> None:
    """Where a sector is short of its requirement, the stock left is within the industry's own
    cover: the buffer above it has gone to the sectors."""
    sc = _scenario("repeat-2029+private-buffer")
    res = run(sc).results
    net = compile_scenario(sc).network
    k = COMMODITY_IDS.index("magnet_ndfeb_sintered")
    own_cover = xr.DataArray(net.cover_steps[:, k] - net.buffer_steps[:, k], dims="draw")
    short = (_short(res) > 1e-6).any("sector")
    months_held = res.stock.sel(SINTERED) / res.requirement.sum("sector")
    assert bool(short.any())
    assert float((months_held - own_cover).where(short, -1.0).max()) <= 1e-9
    alone = run(_scenario("repeat-2029")).results
    assert float(res.shortfall.sum()) < float(alone.shortfall.sum())


def test_lever_show_states_the_release_and_refill_rules() -> None:
    env = {**os.environ, "COLUMNS": "200"}
    for lever in ("stockpile", "private_buffer"):
        shown = subprocess.run(
            [sys.executable, "-m", "rareflow", "lever", "show", lever, "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        rows = {r["parameter"]: r["meaning"] for r in json.loads(shown.stdout)}
        assert "priority tiers first" in rows["(release rule)"]
        assert "short" in rows["(refill rule)"]
