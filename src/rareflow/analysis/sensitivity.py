"""Global sensitivity of a scenario's outcomes to its uncertain inputs, with SALib.

Two methods, named as in SALib (Herman and Usher 2017, 'SALib: an open-source Python library for
sensitivity analysis', JOSS 2(9), 97; Iwanaga, Usher and Herman 2022, Socio-Environmental Systems
Modelling 4, 18155):

- :func:`sobol`: Saltelli's sampling scheme on a scrambled Sobol' sequence (Saltelli 2002,
  Computer Physics Communications 145, 280-297; Saltelli et al. 2010, CPC 181, 259-270) and the
  variance-based first-order and total indices ``S1`` and ``ST`` (Sobol' 1993/2001; Homma and
  Saltelli 1996), with bootstrap confidence intervals (Archer, Saltelli and Sobol 1997).
- :func:`morris`: elementary effects on a grid of ``levels`` (Morris 1991, Technometrics 33,
  161-174) with ``mu_star``, the mean absolute effect (Campolongo, Cariboni and Saltelli 2007,
  Environmental Modelling & Software 22, 1509-1518), ``sigma`` and a bootstrap interval of
  ``mu_star``.

Both work on a model of the unit hypercube: a function from an ``(N, k)`` array of uniforms to
``(N,)`` or ``(N, m)`` outputs. A plain Python function is such a model (the Ishigami test); so is
:class:`ScenarioModel`, which runs the engine with each uncertain number of a scenario (every
distribution in it, and its ``uncertain:`` dataset scalings) fixed per draw: the design's uniforms
go to the engine's own sampler as a design matrix and through each distribution's inverse CDF,
after an affine squeeze into ``[TAIL, 1 - TAIL]`` so that unbounded distributions stay finite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from rareflow import dims
from rareflow.data.load import Dataset
from rareflow.engine.core import simulate
from rareflow.engine.results import to_dataset
from rareflow.engine.run import lever_costs, with_overrides
from rareflow.errors import InputError
from rareflow.model.network import FloatArray
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.schema import Scenario

INPUT = "input"
"""Dimension of a sensitivity result's uncertain inputs."""
OUTPUT = "output"
"""Dimension of a sensitivity result's outcomes."""
TAIL = 1e-3
"""Probability left out in each tail when uniforms are mapped through an inverse CDF."""
TOTAL = "total"
"""Output name: cumulative shortfall over every sector (t magnet)."""
COST = "cost"
"""Output name: total lever cost over the horizon (US$ of the price year)."""
CHUNK_DRAWS = 4096
"""Draws the engine runs at once while evaluating a design (bounds memory)."""

UnitModel = Callable[[FloatArray], FloatArray]
"""A model of the unit hypercube: ``(N, k)`` uniforms to ``(N,)`` or ``(N, m)`` outputs."""
Method = Literal["sobol", "morris"]
RANK_BY: dict[str, str] = {"sobol": "ST", "morris": "mu_star"}
"""The index drivers are ranked by, per method."""


@dataclass(frozen=True)
class Sensitivity:
    """Sensitivity indices of some outputs to some inputs.

    Parameters
    ----------
    method
        ``sobol`` or ``morris``.
    inputs
        Input names (for a scenario: the paths of its uncertain numbers).
    outputs
        Output names.
    indices
        Index name to an ``(outputs, inputs)`` array: ``S1, S1_conf, ST, ST_conf`` for Sobol';
        ``mu, mu_star, mu_star_conf, sigma`` for Morris. ``_conf`` is the half-width of the
        bootstrap confidence interval at ``conf_level``.
    evaluations
        Model runs made (rows of the design).
    seed
        Seed of the design and of the bootstrap.
    conf_level
        Confidence level of the intervals.
    labels
        Readable description of each input (its distribution), if known.
    """

    method: Method
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    indices: dict[str, FloatArray]
    evaluations: int
    seed: int
    conf_level: float
    labels: tuple[str, ...] = ()

    def ranking(self, output: str) -> list[dict[str, Any]]:
        """Return the inputs in rank order (largest ``ST`` or ``mu_star`` first) for one output."""
        o = self.outputs.index(output)
        key = self.indices[RANK_BY[self.method]][o]
        order = np.argsort(-np.nan_to_num(key, nan=-np.inf), kind="stable")
        rows = []
        for rank, i in enumerate(order, start=1):
            row: dict[str, Any] = {"rank": rank, "input": self.inputs[i]}
            if self.labels:
                row["distribution"] = self.labels[i]
            for name, values in self.indices.items():
                row[name] = float(values[o, i])
            rows.append(row)
        return rows

    def to_dataset(self) -> xr.Dataset:
        """Return the indices as an ``xarray.Dataset`` with dims ``output`` and ``input``."""
        return xr.Dataset(
            {name: ((OUTPUT, INPUT), values) for name, values in self.indices.items()},
            coords={OUTPUT: list(self.outputs), INPUT: list(self.inputs)},
            attrs={
                "method": self.method,
                "evaluations": self.evaluations,
                "seed": self.seed,
                "conf_level": self.conf_level,
            },
        )


def _problem(inputs: Sequence[str]) -> dict[str, Any]:
    if not inputs:
        raise InputError("nothing to analyse: the model has no uncertain inputs")
    return {"num_vars": len(inputs), "names": list(inputs), "bounds": [[0.0, 1.0]] * len(inputs)}


def _evaluate(model: UnitModel, x: FloatArray, outputs: Sequence[str] | None) -> FloatArray:
    y = np.asarray(model(x), dtype=np.float64)
    y = y[:, None] if y.ndim == 1 else y
    if y.shape[0] != x.shape[0] or (outputs is not None and y.shape[1] != len(outputs)):
        raise InputError(
            f"the model returned shape {y.shape} for {x.shape[0]} points and "
            f"{len(outputs) if outputs is not None else 'any'} outputs"
        )
    return y


def _names(y: FloatArray, outputs: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(outputs) if outputs is not None else tuple(f"y{i}" for i in range(y.shape[1]))


def sobol(
    model: UnitModel,
    inputs: Sequence[str],
    *,
    outputs: Sequence[str] | None = None,
    samples: int = 1024,
    seed: int = 0,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    labels: Sequence[str] = (),
) -> Sensitivity:
    """First-order and total Sobol' indices by Saltelli sampling (SALib).

    The design has ``samples * (k + 2)`` rows (no second-order terms). An output that does not
    vary has no sensitivity: its indices are 0.

    Parameters
    ----------
    model
        A model of the unit hypercube (see :data:`UnitModel`).
    inputs
        Names of the ``k`` inputs (columns of the design).
    outputs
        Names of the model's outputs (columns of its result).
    samples
        Base sample size ``N``, a power of 2 (Sobol' sequence balance).
    seed
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    conf_level
        Confidence level of the bootstrap intervals.
    num_resamples
        Bootstrap resamples.
    labels
        Readable description of each input.
    """
    if samples < 2 or samples & (samples - 1):
        raise InputError(f"--samples must be a power of 2 for Sobol' sampling; got {samples}")
    problem = _problem(inputs)
    x = sobol_sample.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
    y = _evaluate(model, x, outputs)
    keys = ("S1", "S1_conf", "ST", "ST_conf")
    out = {k: np.zeros((y.shape[1], len(inputs))) for k in keys}
    for m in range(y.shape[1]):
        if np.ptp(y[:, m]) == 0:
            continue
        res = sobol_analyze.analyze(
            problem,
            y[:, m],
            calc_second_order=False,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        for k in keys:
            out[k][m] = np.asarray(res[k], dtype=np.float64)
    return Sensitivity(
        "sobol", tuple(inputs), _names(y, outputs), out, len(x), seed, conf_level, tuple(labels)
    )


def morris(
    model: UnitModel,
    inputs: Sequence[str],
    *,
    outputs: Sequence[str] | None = None,
    trajectories: int = 64,
    levels: int = 4,
    seed: int = 0,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    labels: Sequence[str] = (),
) -> Sensitivity:
    """Elementary effects (Morris 1991) with ``mu_star`` (Campolongo et al. 2007), via SALib.

    The design has ``trajectories * (k + 1)`` rows on a grid of ``levels`` levels per input.

    Parameters
    ----------
    model
        A model of the unit hypercube (see :data:`UnitModel`).
    inputs
        Names of the ``k`` inputs.
    outputs
        Names of the model's outputs.
    trajectories
        Number of one-at-a-time trajectories.
    levels
        Grid levels per input (even, so that steps are balanced).
    seed
        Seed of the trajectories and of the bootstrap.
    conf_level
        Confidence level of the bootstrap interval of ``mu_star``.
    num_resamples
        Bootstrap resamples.
    labels
        Readable description of each input.
    """
    problem = _problem(inputs)
    x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    y = _evaluate(model, x, outputs)
    keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    out = {k: np.zeros((y.shape[1], len(inputs))) for k in keys}
    for m in range(y.shape[1]):
        res = morris_analyze.analyze(
            problem,
            x,
            y[:, m],
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=levels,
            seed=seed,
        )
        for k in keys:
            out[k][m] = np.asarray(res[k], dtype=np.float64)
    return Sensitivity(
        "morris", tuple(inputs), _names(y, outputs), out, len(x), seed, conf_level, tuple(labels)
    )


def _describe(dist: object) -> str:
    """Describe a distribution in a few words: its type and its 0.1%-99.9% range."""
    ppf = getattr(dist, "ppf", None)
    kind = str(getattr(dist, "dist", type(dist).__name__))
    if ppf is None:
        return kind
    lo, hi = ppf(np.array([TAIL, 1.0 - TAIL]))
    return f"{kind} {float(lo):.4g}..{float(hi):.4g}"


@dataclass
class ScenarioModel:
    """A scenario as a model of the unit hypercube: one column per uncertain number.

    Calling it with an ``(N, k)`` array runs the engine on ``N`` draws whose uncertain numbers are
    the design's uniforms (squeezed into ``[TAIL, 1 - TAIL]``) mapped through their distributions,
    and returns the chosen outputs per draw: cumulative shortfall over the horizon (``total``, or
    one sector's), or the total lever cost (``cost``, US$ of the price year).

    Build it with :func:`scenario_model`.
    """

    scenario: Scenario
    dataset: Dataset
    inputs: tuple[str, ...]
    labels: tuple[str, ...]
    outputs: tuple[str, ...]
    progress: Callable[[int, int], None] | None = None

    def __call__(self, unit: FloatArray) -> FloatArray:
        """Run the engine at the design's points; return ``(N, len(outputs))``."""
        n = unit.shape[0]
        sc = with_overrides(self.scenario, draws=n)
        squeezed = TAIL + (1.0 - 2.0 * TAIL) * np.asarray(unit, dtype=np.float64)
        design = {p: squeezed[:, i] for i, p in enumerate(self.inputs)}
        out = np.zeros((n, len(self.outputs)))
        starts = range(0, n, CHUNK_DRAWS)
        for c, a in enumerate(starts):
            draws = np.arange(a, min(a + CHUNK_DRAWS, n))
            compiled = compile_scenario(sc, draws, self.dataset, design_matrix=design)

            def tick(done: int, total: int, c: int = c) -> None:
                if self.progress is not None:
                    self.progress(c * total + done, len(starts) * total)

            traj = simulate(compiled.network, keep_partners=False, progress=tick)
            res = to_dataset(traj, compiled.network)
            short = res["shortfall"].sum(dims.TIME)
            for o, name in enumerate(self.outputs):
                if name == TOTAL:
                    out[draws, o] = short.sum(dims.SECTOR).to_numpy()
                elif name == COST:
                    cost = lever_costs(sc, compiled, res, self.dataset)
                    assert cost is not None  # scenario_model offers cost only with levers
                    out[draws, o] = cost.sum([dims.TIME, dims.LEVER, "component"]).to_numpy()
                else:
                    out[draws, o] = short.sel({dims.SECTOR: name}).to_numpy()
        return out


def scenario_model(
    scenario: Scenario,
    dataset: Dataset,
    outputs: Sequence[str] = (TOTAL,),
    progress: Callable[[int, int], None] | None = None,
) -> ScenarioModel:
    """Make a scenario's sensitivity model: find its uncertain numbers and check the outputs.

    The uncertain numbers are found by compiling and running the scenario for one draw and
    reading which paths the sampler drew from a distribution that is not fixed (shocks, levers,
    parameters, prices, lever costs and ``uncertain:`` scalings alike).

    Parameters
    ----------
    scenario
        The scenario.
    dataset
        The dataset.
    outputs
        ``total``, ``cost`` or sector ids with a requirement.
    progress
        Called with (steps done, steps in all) while the engine runs.

    Raises
    ------
    InputError
        If an output is unknown, or ``cost`` is asked of a scenario without levers.
    """
    probe = with_overrides(scenario, draws=1)
    compiled = compile_scenario(probe, None, dataset)
    res = to_dataset(simulate(compiled.network, keep_partners=False), compiled.network)
    lever_costs(probe, compiled, res, dataset)
    dists = compiled.sampler.distributions
    sectors = [
        str(s)
        for s in res[dims.SECTOR].to_numpy()
        if float(res["requirement"].sel({dims.SECTOR: s}).sum()) > 0
    ]
    allowed = [TOTAL, *sectors, *([COST] if scenario.levers else [])]
    for name in outputs:
        if name not in allowed:
            raise InputError(
                f"unknown output '{name}' for {scenario.name}: expected one of "
                f"{', '.join(allowed)}" + ("" if scenario.levers else " (cost needs levers)")
            )
    return ScenarioModel(
        scenario,
        dataset,
        tuple(dists),
        tuple(_describe(d) for d in dists.values()),
        tuple(outputs),
        progress,
    )


def analyse(
    model: ScenarioModel,
    method: Method,
    *,
    samples: int,
    seed: int,
    conf_level: float = 0.95,
) -> Sensitivity:
    """Run one method on a scenario model (``samples``: Sobol' base size or Morris trajectories)."""
    if method == "sobol":
        return sobol(
            model,
            model.inputs,
            outputs=model.outputs,
            samples=samples,
            seed=seed,
            conf_level=conf_level,
            labels=model.labels,
        )
    return morris(
        model,
        model.inputs,
        outputs=model.outputs,
        trajectories=samples,
        seed=seed,
        conf_level=conf_level,
        labels=model.labels,
    )
