"""Hypothesis strategies for small random networks built directly as :class:`Network`.

Processes, recipes, element contents and prices come from the compiled baseline scenario; the
schedules and parameters around them are random, and processes whose recipe does not conserve
element mass stay idle. Hypothesis
draws the structure (sizes, sectors and their order, which arrays vary by draw, lead times) and a
seed; the seed fills the arrays, with exact special values (0, 1, whole-step delays) mixed in so
that the edges of every rule are hit.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from rareflow import dims
from rareflow.ids import Sector
from rareflow.model.network import (
    COMMODITY_IDS,
    DRAW_FIRST,
    MAGNETS,
    NETWORK_AXES,
    TRACKED_ELEMENTS,
    FloatArray,
    Network,
)
from rareflow.model.state import shape_of
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario

K = len(COMMODITY_IDS)
MAGNET_COLUMNS = [COMMODITY_IDS.index(m) for m in MAGNETS]
#: Inputs with a leading draw axis, which a network may give per draw or once for all draws
#: (from the network's declared axes; ``draws`` itself always has one entry per draw).
PER_DRAW = tuple(sorted(DRAW_FIRST - {"draws"}))


@cache
def base_network() -> Network:
    """The baseline scenario compiled for two draws: the source of real processes and recipes."""
    return compile_scenario(load_scenario("baseline").model_copy(update={"draws": 2})).network


def conserving_processes() -> NDArray[np.bool_]:
    """(J,) whether a real recipe conserves element mass (loses, never creates, any element).

    Bonded NdFeB does not: its content is Nd only, but its recipe takes NdPr metal at 3:1, so it
    makes more Nd than it takes (see ``test_real_recipes_conserve_element_mass``). Random
    networks leave such processes idle, so that the balance checks test the engine alone.
    """
    base = base_network()
    created = base.proc_out @ base.content - base.proc_in @ base.content
    return np.asarray(np.all(created <= 1e-12, axis=1))


def _mixed(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    low: float,
    high: float,
    specials: tuple[float, ...] = (),
    p_special: float = 0.25,
) -> FloatArray:
    """Uniform values in [low, high], a share ``p_special`` of them replaced by special values."""
    out = rng.uniform(low, high, size=shape)
    if specials:
        hit = rng.random(shape) < p_special
        out[hit] = rng.choice(np.asarray(specials, dtype=np.float64), size=int(hit.sum()))
    return out


def _sparse(rng: np.random.Generator, shape: tuple[int, ...], p: float, high: float) -> FloatArray:
    """Zero except a share ``p`` of entries, uniform in [0, high] or exactly ``high``."""
    values = _mixed(rng, shape, 0.0, high, specials=(high,))
    return np.where(rng.random(shape) < p, values, 0.0)


@st.composite
def networks(draw: st.DrawFn) -> Network:
    """A random small network: 1-4 draws, 2-12 steps, 1-3 partners, 0-2 export controls."""
    base = base_network()
    d_n = draw(st.integers(1, 4), label="draws")
    t_n = draw(st.integers(2, 12), label="steps")
    p_n = draw(st.integers(1, 3), label="partners")
    c_n = draw(st.integers(0, 2), label="controls")
    order = draw(st.permutations(tuple(Sector)), label="sector order")
    sectors = tuple(order[: draw(st.integers(1, len(order)), label="sectors")])
    s_n = len(sectors)
    varying = draw(st.sets(st.sampled_from(PER_DRAW)), label="inputs varying by draw")
    lead = draw(st.lists(st.integers(0, 2), min_size=p_n, max_size=p_n), label="lead steps")
    proportional_only = draw(st.booleans(), label="proportional only")
    step_months = draw(st.sampled_from((1, 3)), label="step months")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))

    j_n = len(base.processes)
    sizes = {
        dims.DRAW: d_n,
        dims.TIME: t_n,
        dims.SECTOR: s_n,
        dims.MATERIAL: K,
        dims.PARTNER: p_n,
        dims.PROCESS: j_n,
        dims.CONTROL: c_n,
        dims.ELEMENT: len(TRACKED_ELEMENTS),
    }

    def shape(name: str) -> tuple[int, ...]:
        """The array's declared shape, with one draw unless it varies by draw."""
        full = shape_of(NETWORK_AXES[name], sizes)
        return (d_n if name in varying else 1, *full[1:]) if name in DRAW_FIRST else full

    # Real requirement for the sectors drawn, perturbed, and spread over all three magnets.
    index = [base.sectors.index(s) for s in sectors]
    requirement0 = np.zeros(shape("requirement0"))
    requirement0[:, MAGNET_COLUMNS] = base.requirement0[index][:, MAGNET_COLUMNS] * rng.uniform(
        0.0, 2.0, size=(s_n, 1)
    ) + _sparse(rng, (s_n, len(MAGNET_COLUMNS)), 0.5, 40.0)
    # Real capacities perturbed; idle processes sometimes get some capacity too.
    base_capacity = base.capacity[0, 0] * rng.uniform(0.0, 3.0, size=j_n) + _sparse(
        rng, (j_n,), 0.5, 30.0
    )
    base_capacity[~conserving_processes()] = 0.0
    capacity = base_capacity * _mixed(rng, shape("capacity"), 0.0, 1.5, (0.0, 1.0))

    share = _mixed(rng, shape("share"), 0.0, 1.0, (0.0,), p_special=0.3)
    share[0, share.sum(axis=0) == 0.0] = 1.0
    share /= share.sum(axis=0, keepdims=True)

    # Each control covers some commodities from some partners over a window of steps.
    licensed = np.zeros(shape("licensed"))
    for c in range(c_n):
        start, end = np.sort(rng.integers(0, t_n + 1, size=2))
        partners = rng.random(p_n) < 0.6
        kinds = rng.random(K) < 0.6
        licensed[c, start:end] = np.outer(partners, kinds)
    delay_steps = _mixed(rng, shape("delay_steps"), 0.0, 4.0, (0.0, 1.0, 2.0, 3.0))

    price = base.base_price.copy()
    priced_magnets = rng.random(len(MAGNET_COLUMNS)) < 0.5
    price[np.array(MAGNET_COLUMNS)[priced_magnets]] = rng.uniform(20.0, 200.0)

    return Network(
        time=np.datetime64("2025-01", "M") + np.arange(t_n) * step_months,
        step_months=step_months,
        draws=np.arange(d_n, dtype=np.int64),
        sectors=sectors,
        partners=tuple(f"P{p}" for p in range(p_n)),
        processes=base.processes,
        content=base.content,
        requirement0=requirement0,
        growth=_mixed(rng, shape("growth"), -0.2, 0.5, (0.0,)),
        demand_multiplier=_mixed(
            rng, shape("demand_multiplier"), 0.5, 1.5, (1.0, 0.0), p_special=0.1
        ),
        stock0=_mixed(rng, shape("stock0"), 0.0, 300.0, (0.0,), p_special=0.3),
        cover_steps=_mixed(rng, shape("cover_steps"), 0.0, 3.0, (0.0,)),
        restock_steps=_mixed(rng, shape("restock_steps"), 0.5, 6.0, (1.0,)),
        proc_in=base.proc_in,
        proc_out=base.proc_out,
        proc_loss=base.proc_loss,
        capacity=capacity,
        share=share,
        lead_steps=np.array(lead, dtype=np.int64),
        surge=_mixed(rng, shape("surge"), 0.0, 2.0, (0.0,)),
        licensed=licensed,
        licence_scale=_mixed(rng, shape("licence_scale"), 0.0, 1.0, (0.0, 1.0), 0.5),
        approval=_mixed(rng, shape("approval"), 0.0, 1.0, (0.0, 1.0)),
        delay_steps=delay_steps,
        cut=_sparse(rng, shape("cut"), 0.2, 1.0),
        tier=rng.integers(0, 4, size=s_n).astype(np.int64),
        elastic=rng.random(s_n) < 0.6,
        proportional_only=proportional_only,
        elasticity=_mixed(rng, shape("elasticity"), -1.2, -0.05),
        adjustment=_mixed(rng, shape("adjustment"), 0.0, 1.0, (0.0, 1.0)),
        max_multiple=float(rng.uniform(1.5, 10.0)),
        base_price=price,
        local_supply=_sparse(rng, shape("local_supply"), 0.3, 50.0),
        contract=_sparse(rng, shape("contract"), 0.15, 30.0),
        stockpile0=_sparse(rng, shape("stockpile0"), 0.5, 200.0),
        stockpile_target=_sparse(rng, shape("stockpile_target"), 0.4, 300.0),
        stockpile_fill=_sparse(rng, shape("stockpile_fill"), 0.6, 40.0),
        stockpile_release=_sparse(rng, shape("stockpile_release"), 0.6, 60.0),
        stockpile_trigger=_mixed(rng, shape("stockpile_trigger"), 0.0, 1.2, (0.0, 1.0)),
        stockpile_sectors=rng.random(s_n) < 0.5,
        buffer_steps=_sparse(rng, shape("buffer_steps"), 0.3, 2.0),
    )
