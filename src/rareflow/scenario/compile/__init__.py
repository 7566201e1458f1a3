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

Many scenarios that differ only by levers added after their own (the optimiser's probes, mixes
and single levers) share every phase before the levers: :func:`prepare` compiles those phases
once, and :func:`compile_variant` finishes a copy of that state for each variant, with the
result a fresh :func:`compile_scenario` would give (or compiles it afresh where it could not).
"""

from __future__ import annotations

import copy
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
    return _compiled(work)


def _compiled(work: Work) -> Compiled:
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


LEVERS_PHASE = [name for name, _ in PHASES].index("levers")
"""Index of the levers phase: :func:`prepare` stops before it."""


@dataclass(frozen=True)
class Prepared:
    """A scenario compiled up to its levers, to finish for variants that add levers to it.

    Parameters
    ----------
    work
        The state after the baseline, shocks and segments (never changed: each variant
        finishes a copy).
    draws
        The global draw indices it was compiled for (None: all).
    partners
        Partners kept apart from ROW beyond those the scenario names: the state prepared for
        variants whose added levers name them (:meth:`for_partners`).
    """

    work: Work
    draws: np.ndarray | None
    partners: frozenset[str] = frozenset()
    _by_partners: dict[frozenset[str], Prepared] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def scenario(self) -> Scenario:
        """The scenario it was prepared from."""
        return self.work.scenario

    def new_partners(self, scenario: Scenario) -> frozenset[str]:
        """Partners that ``scenario``'s added levers name and the scenario's own network lacks."""
        own = set(self.work.ctx.net.partners) - self.partners
        added = scenario.levers[len(self.scenario.levers) :]
        return frozenset(p for lever in added for p in lever.partners()) - own

    def for_partners(self, partners: frozenset[str]) -> Prepared:
        """Return the scenario prepared with ``partners`` kept apart (compiled once, then kept).

        A lever that names a partner outside the network changes its shape and pooling, so its
        variants are finished from a state prepared with that partner (as compiling the
        variant afresh would name it), shared by every variant that names the same partners.
        """
        if partners == self.partners:
            return self
        if partners not in self._by_partners:
            self._by_partners[partners] = prepare(
                self.scenario, self.draws, self.work.ctx.dataset, partners
            )
        return self._by_partners[partners]


def prepare(
    scenario: Scenario,
    draws: np.ndarray | None = None,
    dataset: Dataset | None = None,
    partners: frozenset[str] = frozenset(),
) -> Prepared:
    """Compile a scenario's phases before the levers, once, for :func:`compile_variant`.

    ``partners`` are kept apart from ROW as levers added later will name them
    (:meth:`Prepared.for_partners`).
    """
    ds = dataset if dataset is not None else load_dataset()
    work = baseline(scenario, ds, scenario_sampler(scenario, draws, ds), partners)
    for _name, phase in PHASES[:LEVERS_PHASE]:
        phase(work)
    return Prepared(work, draws, partners)


def _levers_added(prepared: Prepared, scenario: Scenario) -> bool:
    """Whether ``scenario`` is the prepared one with levers appended, drawn lever-blind."""
    base = prepared.scenario
    return (
        scenario.sampling != "sobol"
        and scenario.levers[: len(base.levers)] == base.levers
        and scenario.model_copy(update={"levers": base.levers}) == base
    )


def shares_prepared(prepared: Prepared, scenario: Scenario) -> bool:
    """Whether ``scenario`` can be finished from ``prepared`` as it is.

    It must be the prepared scenario with levers appended (every other field equal), drawn by
    a design whose streams do not depend on the levers (not Sobol'), and its added levers must
    name exactly the partners the state was prepared with beyond the scenario's own network (a
    new partner changes the network's shape and pooling; :meth:`Prepared.for_partners`).
    """
    return _levers_added(prepared, scenario) and (
        prepared.new_partners(scenario) == prepared.partners
    )


def compile_variant(prepared: Prepared, scenario: Scenario) -> Compiled:
    """Compile ``scenario``, the prepared one with levers appended, from the prepared state.

    Gives what :func:`compile_scenario` gives for the same draws: the phases before the levers
    do not read the levers (but for the partners they name, which select the state prepared
    with those partners), and every random stream is keyed by its path, so a copy of the
    prepared state with the sampler's lever streams named for ``scenario`` draws the same
    numbers. Where the state cannot be shared, the scenario is compiled afresh.
    """
    ds = prepared.work.ctx.dataset
    if not prepared.partners and _levers_added(prepared, scenario):
        prepared = prepared.for_partners(prepared.new_partners(scenario))
    if not shares_prepared(prepared, scenario):
        return compile_scenario(scenario, prepared.draws, ds)
    shared = {id(ds): ds, id(prepared.work.ctx.chain): prepared.work.ctx.chain}
    work = copy.deepcopy(prepared.work, memo=shared)
    work.scenario = scenario
    work.ctx.sampler.stream_names = stream_paths(scenario.levers)
    for _name, phase in PHASES[LEVERS_PHASE:]:
        phase(work)
    return _compiled(work)


__all__ = [
    "PHASES",
    "Compiled",
    "Prepared",
    "Work",
    "baseline",
    "compile_scenario",
    "compile_variant",
    "prepare",
    "price_parameter",
    "shares_prepared",
]
