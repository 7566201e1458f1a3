"""Mass balance of the engine, recomputed from its trajectory, and its own checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from tests.engine.strategies import base_network, networks

import rareflow.engine.core as core
import rareflow.engine.exposure as exposure
from rareflow import dims
from rareflow.engine.balance import BalanceCheck, MassBalanceError
from rareflow.engine.core import simulate
from rareflow.model.network import (
    COMMODITY_IDS,
    MAGNETS,
    NETWORK_AXES,
    FloatArray,
    Network,
    sector_segments,
)
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario

RTOL = 1e-9
MAG = np.array([COMMODITY_IDS.index(m) for m in MAGNETS])
OTHER = np.array([k for k in range(len(COMMODITY_IDS)) if k not in MAG])
RANDOM = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def per_draw(arr: FloatArray, n: int) -> FloatArray:
    return np.broadcast_to(arr, (n, *arr.shape[1:]))


@RANDOM
@given(net=networks())
def test_stocks_balance_flows_on_random_scenarios(net: Network) -> None:
    traj = simulate(net, check=False)
    d_n, t_n = net.n_draws, net.n_steps
    before = np.concatenate([per_draw(net.stock0, d_n)[:, None], traj.stock[:, :-1]], axis=1)
    made = traj.production @ net.proc_out
    used = traj.production @ net.proc_in
    # Stockpile releases of materials enter the stock; released magnets go to sectors directly.
    into_stock = np.where(np.isin(np.arange(len(COMMODITY_IDS)), MAG), 0.0, traj.stockpile_out)
    inflow = traj.imports + per_draw(net.local_supply, d_n) + made + into_stock
    outflow = used + traj.exported + traj.stockpile_in
    change = traj.stock - before
    scale = np.maximum.reduce([np.abs(before), np.abs(traj.stock), inflow, outflow])

    # Each commodity but magnets: change in stock = imports + local + made - used - exported.
    np.testing.assert_array_less(
        np.abs(change - (inflow - outflow))[..., OTHER], RTOL * scale[..., OTHER] + 1e-300
    )
    # Deliveries are recorded by sector, not by magnet, so magnets balance as one t_magnet pool;
    # magnets used inside imported components never entered the pool.
    delivered = (
        traj.delivered.sum(axis=2)
        - traj.segment_components.sum(axis=2)
        - traj.stockpile_out[..., MAG].sum(axis=2)
    )
    magnets = (change - (inflow - outflow))[..., MAG].sum(axis=2) + delivered
    np.testing.assert_array_less(
        np.abs(magnets), RTOL * (scale[..., MAG].sum(axis=2) + delivered) + 1e-300
    )

    # The stockpile: change in level = bought - released, and never negative.
    pile_before = np.concatenate(
        [per_draw(net.stockpile0, d_n)[:, None], traj.stockpile[:, :-1]], axis=1
    )
    pile_scale = (
        np.maximum.reduce([pile_before, traj.stockpile, traj.stockpile_in, traj.stockpile_out])
        + 1e-300
    )
    np.testing.assert_array_less(
        np.abs(traj.stockpile - pile_before - traj.stockpile_in + traj.stockpile_out),
        RTOL * pile_scale,
    )
    assert np.all(traj.stockpile >= -RTOL * pile_scale)

    # What arrives is what was shipped a lead time earlier (once the warm start has landed).
    lead = net.lead_steps
    shipped = traj.shipped_by_partner
    assert shipped is not None
    for t in range(int(lead.max(initial=0)), t_n):
        sent = sum(shipped[:, t - lead[p], p] for p in range(len(net.partners)))
        np.testing.assert_allclose(
            traj.imports[:, t], sent, rtol=RTOL, atol=RTOL * float(np.abs(shipped).max())
        )

    # Stocks are non-negative to RTOL of the largest quantity of that commodity in the run.
    run_scale = scale.max(axis=1, keepdims=True)
    assert np.all(traj.stock >= -RTOL * run_scale)
    assert np.all(traj.production >= 0.0)
    assert np.all(traj.production <= per_draw(net.capacity, d_n) * (1 + RTOL))

    # Deliveries <= demand <= requirement x the largest price response; shortfall >= 0. A
    # stockpile's releases and a private buffer serve what the price rationed away, up to the
    # requirement.
    tol = RTOL * max(float(traj.requirement.max(initial=0.0)), 1e-300)
    elastic = np.ones(len(net.sectors), bool) if net.proportional_only else net.elastic
    assert np.all(traj.delivered >= 0.0)
    serves_need = (net.buffer_steps[:, MAG] > 0).any() or (traj.stockpile_out[..., MAG] > 0).any()
    ceiling = np.maximum(traj.demand, traj.requirement) if serves_need else traj.demand
    assert np.all(traj.delivered <= ceiling + tol)
    # Magnets inside components are not rationed by the bare price: demand is at most the need.
    assert np.all(traj.demand[..., elastic] <= traj.requirement[..., elastic] + tol)
    np.testing.assert_allclose(
        traj.demand[..., ~elastic], traj.requirement[..., ~elastic], rtol=RTOL, atol=tol
    )
    assert np.all(traj.requirement - traj.delivered >= -tol)
    assert np.all(traj.price_multiple >= 1.0 - RTOL)
    assert np.all(traj.price_multiple <= net.max_multiple * (1 + RTOL))


@settings(RANDOM, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(net=networks())
def test_checked_run_raises_nothing_on_random_scenarios(net: Network) -> None:
    simulate(net, check=True)


def _first_steps(net: Network, t_n: int) -> Network:
    """The network cut to its first ``t_n`` steps, along every array's declared time axis."""
    changes = {
        name: getattr(net, name)[tuple(slice(t_n) if a == dims.TIME else slice(None) for a in ax)]
        for name, ax in NETWORK_AXES.items()
        if dims.TIME in ax
    }
    return dataclasses.replace(net, **changes)


def _exhausting_network() -> tuple[Network, int]:
    """A one-draw network whose Dy metal process uses up an oxide stock that rounds below zero."""
    t_n = 2
    base = _first_steps(base_network(), t_n)
    k_n, p_n = len(COMMODITY_IDS), len(base.partners)
    k = COMMODITY_IDS.index("oxide_dy")
    j = [p.id for p in base.processes].index("metal_dy")
    need = float(base.proc_in[j, k])
    # An opening stock for which stock - (stock / need) * need rounds to -1 ulp.
    opening = next(v for v in np.linspace(1.0, 2.0, 1001) if v - (v / need) * need < 0)
    stock0 = np.zeros((1, k_n))
    stock0[0, k] = opening
    capacity = np.zeros((1, t_n, len(base.processes)))
    capacity[0, :, j] = 100.0
    net = dataclasses.replace(
        base,
        draws=np.arange(1),
        requirement0=np.zeros_like(base.requirement0),
        stock0=stock0,
        capacity=capacity,
        cover_steps=np.zeros((1, k_n)),
        lead_steps=np.zeros(p_n, dtype=np.int64),
        surge=np.zeros((1, t_n, p_n)),
        licensed=np.zeros((0, t_n, p_n, k_n)),
        licence_scale=np.zeros((1, 0, p_n)),
        approval=np.zeros((1, 0, t_n)),
        delay_steps=np.zeros((1, 0, t_n)),
        cut=np.ones((1, t_n, p_n, k_n)),  # nothing arrives: the opening stock is all there is
        local_supply=np.zeros((1, t_n, k_n)),
        growth=base.growth[:1],
        elasticity=base.elasticity[:1],
        **sector_segments(base.sectors, t_n, 0, np.zeros(1)),
    )
    return net, k


def test_processing_to_exhaustion_leaves_no_negative_stock() -> None:
    net, k = _exhausting_network()
    traj = simulate(net, check=False)
    assert traj.stock[0, 0, k] <= 0.0  # used up: the reproduction still reproduces
    simulate(net, check=True)


@pytest.mark.parametrize("preset", ["china-embargo-full", "china-2025-april"])
def test_a_control_that_cuts_every_partner_runs_the_magnet_stock_to_zero_not_below(
    preset: str,
) -> None:
    # A content rule catching all of every other exporter's supply (affected share 1): the
    # segments use the whole magnet stock, and their use, summed grade by grade, once left it a
    # rounding crumb below zero that the next step with no flows refused (MassBalanceError at
    # step 7 or 8).
    scenario = load_scenario(preset)
    shocks = list(scenario.shocks)
    shocks[0] = shocks[0].model_copy(
        update={"reexport_content_rule": 0.001, "reexport_affected_share": 1.0}
    )
    cut = scenario.model_copy(update={"shocks": shocks, "draws": 20})
    net = compile_scenario(cut).network
    traj = simulate(net, check=True)
    assert traj.stock.min() >= 0.0
    assert (traj.stock[..., MAG] == 0.0).any()  # the case this is about: a magnet runs out
    whole = simulate(compile_scenario(scenario.model_copy(update={"draws": 20})).network)
    assert traj.delivered.sum() < whole.delivered.sum()


def test_real_recipes_conserve_element_mass() -> None:
    net = base_network()
    created = net.proc_out @ net.content - net.proc_in @ net.content
    assert np.all(created <= 1e-12)


class _Leaky:
    """numpy, except that every division comes out ``factor`` times too large."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    def divide(self, *args: Any, **kwargs: Any) -> FloatArray:
        return np.asarray(np.divide(*args, **kwargs)) * self.factor


def test_a_corrupted_step_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    net = base_network()
    monkeypatch.setattr(exposure, "np", _Leaky(1.0))
    simulate(net, check=True)  # the stand-in for numpy is harmless by itself
    # Allocation now hands segments 1% more magnet than the pool has to give.
    monkeypatch.setattr(exposure, "np", _Leaky(1.01))
    with pytest.raises(MassBalanceError, match="stock"):
        simulate(net, check=True)
    simulate(net, check=False)  # and only the check notices


def _controlled_network() -> Network:
    """China's April 2025 controls for two draws: licence queues and goods at sea both fill."""
    return compile_scenario(
        load_scenario("china-2025-april").model_copy(update={"draws": 2})
    ).network


def _after(
    monkeypatch: pytest.MonkeyPatch, event: str, corrupt: Callable[[core._Block], None]
) -> None:
    """Run ``corrupt`` on the block's state right after ``event``, at every step."""
    original = getattr(core._Block, event)

    def corrupted(self: core._Block, t: int) -> None:
        original(self, t)
        corrupt(self)

    monkeypatch.setattr(core._Block, event, corrupted)


@pytest.mark.parametrize(
    ("event", "corrupt", "node"),
    [
        # A licence decision loses 1% of what stays pending.
        ("licences", lambda b: b.queue.__imul__(0.99), "licence queue"),
        # Goods at sea grow by 1% on their way.
        ("shipping", lambda b: b.transit.__imul__(1.01), "transit"),
        # Processing makes 1% more than its recipe, out of nothing.
        ("processing", lambda b: b.stock.__imul__(1.01), "stock"),
        # Components in a segment's stock grow by 1%.
        ("components", lambda b: b.segs.inside.__imul__(1.01), "component stocks"),
        # A segment's holdings of pool magnets grow by 1% as they are allocated.
        ("allocation", lambda b: b.segs.held.__imul__(1.01), "segment holdings"),
    ],
)
def test_a_leak_at_each_node_fails_its_check(
    monkeypatch: pytest.MonkeyPatch,
    event: str,
    corrupt: Callable[[core._Block], None],
    node: str,
) -> None:
    net = _controlled_network()
    simulate(net, check=True)  # the real engine passes
    _after(monkeypatch, event, corrupt)
    with pytest.raises(MassBalanceError, match=node):
        simulate(net, check=True)
    simulate(net, check=False)  # and only the check notices


def test_a_recipe_that_creates_mass_fails_the_process_check() -> None:
    net = base_network()
    ran = int(np.flatnonzero(per_draw(net.capacity, 1)[0].any(axis=0))[0])
    proc_out = net.proc_out.copy()
    proc_out[ran] *= 1.01
    with pytest.raises(MassBalanceError, match=f"process.*{net.processes[ran].id}"):
        simulate(dataclasses.replace(net, proc_out=proc_out), check=True)


def test_a_negative_run_fails_the_process_check() -> None:
    net = base_network()
    runs = np.zeros((2, len(net.processes)))
    runs[1, 0] = -1.0
    with pytest.raises(MassBalanceError, match="non-negative"):
        BalanceCheck().processes(3, runs, net)
    runs[1, 0] = np.nan
    with pytest.raises(MassBalanceError, match="non-negative"):
        BalanceCheck().processes(3, runs, net)
