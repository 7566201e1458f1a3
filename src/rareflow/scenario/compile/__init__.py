"""Compile a scenario and its chain into the numeric network the engine steps: named phases.

:func:`compile_scenario` builds the baseline network (:mod:`.baseline`) and then runs
:data:`PHASES` in order, each a function of the shared :class:`~.work.Work`:

1. ``shocks``: export controls and supply cuts (:mod:`.shocks`);
2. ``segments``: buyer groups, routes, grades and what each control reaches (:mod:`.segments`);
3. ``levers``: levers by their declared phase, modifiers first (:mod:`.levers`);
4. ``uncertain inputs``: ``uncertain:`` scalings of the dataset's rows (:mod:`.uncertain`);
5. ``importer competition``: the focal country's share of the headroom of partners outside the
   controls, against the other importing regions (:mod:`.importers`);
6. ``mine feed``, ``opening stocks``: what depends on the network the levers left (:mod:`.after`).

A new step of compilation is a new function in this list; no phase reaches into another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from rareflow.data.load import Dataset, load_dataset
from rareflow.model.chain import Chain
from rareflow.model.network import FloatArray, Network
from rareflow.scenario.compile.after import mine_feed, opening_stocks
from rareflow.scenario.compile.baseline import baseline, price_parameter
from rareflow.scenario.compile.importers import importer_competition
from rareflow.scenario.compile.levers import apply_levers
from rareflow.scenario.compile.segments import apply_segments
from rareflow.scenario.compile.shocks import apply_shocks
from rareflow.scenario.compile.uncertain import scale_inputs, uncertain_paths
from rareflow.scenario.compile.work import Work
from rareflow.scenario.context import Applied, Modifiers
from rareflow.scenario.levers.base import stream_paths
from rareflow.scenario.sampling import Sampler
from rareflow.scenario.schema import Scenario

PHASES: tuple[tuple[str, Callable[[Work], None]], ...] = (
    ("shocks", apply_shocks),
    ("segments", apply_segments),
    ("levers", apply_levers),
    ("uncertain inputs", scale_inputs),
    ("importer competition", importer_competition),
    ("mine feed", mine_feed),
    ("opening stocks", opening_stocks),
)
"""The phases after the baseline, in order."""


@dataclass(frozen=True)
class Compiled:
    """A compiled scenario: the network and what it was built from."""

    network: Network
    chain: Chain
    sampler: Sampler
    notes: tuple[str, ...]
    modifiers: Modifiers
    warnings: tuple[str, ...] = ()
    """Inputs that cannot act within the horizon (e.g. a plant online after it ends)."""
    applied: Mapping[str, Applied] = field(default_factory=dict)
    """What each lever's ``apply`` produced for its cost model, by the lever's path."""


def scenario_sampler(
    scenario: Scenario,
    draws: np.ndarray | None,
    dataset: Dataset,
    design_matrix: Mapping[str, FloatArray] | None = None,
) -> Sampler:
    """Return a scenario's sampler for some of its draws (every Sobol' dimension found first)."""
    draw_idx = np.arange(scenario.draws) if draws is None else np.asarray(draws, dtype=np.int64)
    paths = uncertain_paths()
    if scenario.sampling == "sobol":
        # Sobol' points need one dimension per uncertain number: find every number this scenario
        # draws (its shocks' and levers' included) with a cheap random-design pass first.
        probe = compile_scenario(
            scenario.model_copy(update={"sampling": "random"}), np.arange(2), dataset
        ).sampler
        # In stream-key order, so that a Sobol' dimension does not follow a lever's position.
        found = sorted(
            (path for path, values in probe.drawn.items() if np.size(values) > 1),
            key=probe.stream_key,
        )
        paths = (*paths, *(p for p in found if p not in paths))
    return Sampler(
        scenario.seed,
        scenario.sampling,
        scenario.draws,
        draw_idx,
        paths,
        design_matrix=design_matrix,
        stream_names=stream_paths(scenario.levers),
    )


def compile_scenario(
    scenario: Scenario,
    draws: np.ndarray | None = None,
    dataset: Dataset | None = None,
    design_matrix: Mapping[str, FloatArray] | None = None,
) -> Compiled:
    """Build the network of a scenario for some of its draws.

    Parameters
    ----------
    scenario
        The validated scenario.
    draws
        Global draw indices (default: all of the scenario's draws).
    dataset
        The dataset (default: the embedded one).
    design_matrix
        Uniforms per uncertain path, indexed by global draw, that replace the scenario's design
        for those paths (see :class:`rareflow.scenario.sampling.Sampler`).
    """
    ds = dataset if dataset is not None else load_dataset()
    work = baseline(scenario, ds, scenario_sampler(scenario, draws, ds, design_matrix))
    for _name, phase in PHASES:
        phase(work)
    ctx = work.ctx
    ctx.net.check_shapes()
    return Compiled(
        ctx.net,
        ctx.chain,
        ctx.sampler,
        tuple(work.notes),
        ctx.modifiers,
        tuple(work.warnings),
        dict(ctx.applied),
    )


__all__ = ["PHASES", "Compiled", "Work", "baseline", "compile_scenario", "price_parameter"]
