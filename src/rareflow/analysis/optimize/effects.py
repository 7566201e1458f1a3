"""The LP's data from engine runs: the baseline shortfall, each option's effect per unit level.

Each option's effect comes from its lever's own effect model (the lever protocol,
:meth:`rareflow.scenario.levers.base.LeverBase.effect_model`), measured on a run with the lever
at its upper level; the optimiser does not know lever kinds. A lever without an effect model
falls back to the simulation itself: its effect is the shortfall it avoids in the engine, draw by
draw and month by month, in the probe run at its upper level (exact for a lumpy option, taken
whole or not at all; linear through zero for a continuous one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.analysis.optimize.lp import WEIGHT_CLASS, Problem, calibrate
from rareflow.analysis.optimize.options import DEFAULT_WEIGHTS, Option
from rareflow.analysis.production import sector_values
from rareflow.data.load import Dataset
from rareflow.engine.core import simulate
from rareflow.engine.results import to_dataset
from rareflow.engine.run import lever_costs, with_overrides
from rareflow.errors import InputError, RareflowError
from rareflow.ids import Sector
from rareflow.model.network import FloatArray, Network
from rareflow.scenario.compile import (
    Compiled,
    Prepared,
    compile_scenario,
    compile_variant,
    prepare,
)
from rareflow.scenario.levers import LEVER_TYPES, LeverBase
from rareflow.scenario.levers.base import INR_CRORE, EffectProbe
from rareflow.scenario.schema import Scenario


def modelled_levers() -> list[str]:
    """Return the lever types with an effect model the optimiser can use."""
    return [c.type_tag() for c in LEVER_TYPES if c.effect_model is not LeverBase.effect_model]


def run_variant(
    scenario: Scenario,
    dataset: Dataset,
    prepared: Prepared | None = None,
    compiled: Compiled | None = None,
) -> tuple[Network, xr.Dataset]:
    """Run a scenario as :func:`rareflow.engine.run.run` does, keeping the compiled network.

    With ``prepared`` (the scenario's phases before the levers, compiled once for the same seed
    and draws), only the levers and what follows them are compiled
    (:func:`rareflow.scenario.compile.compile_variant`): the same network, without compiling
    the shared phases again for every probe. With ``compiled``, the scenario is not compiled
    again.
    """
    if compiled is None:
        compiled = (
            compile_scenario(scenario, None, dataset)
            if prepared is None
            else compile_variant(prepared, scenario)
        )
    res = to_dataset(simulate(compiled.network, keep_partners=False), compiled.network)
    costs = lever_costs(scenario, compiled, res, dataset)
    if costs is not None:
        res["lever_cost"] = costs
    return compiled.network, res


def sector_weights(sectors: Sequence[str], weights: Mapping[str, float]) -> FloatArray:
    """Weight of each sector: the user's, else the default (defence 10), else 1."""
    unknown = set(weights) - {s.value for s in Sector}
    if unknown:
        raise InputError(
            f"unknown sector in weights: {', '.join(sorted(unknown))}; expected "
            f"{', '.join(s.value for s in Sector)}"
        )
    full = {**DEFAULT_WEIGHTS, **weights}
    return np.array([float(full.get(s, 1.0)) for s in sectors])


def weighted_loss(results: xr.Dataset, weights: Mapping[str, float]) -> FloatArray:
    """Weighted cumulative shortfall of each draw of a run, t magnet."""
    short = results["shortfall"].sum(dims.TIME).transpose(dims.DRAW, dims.SECTOR)
    w = sector_weights([str(s) for s in short[dims.SECTOR].to_numpy()], weights)
    return np.asarray(short.to_numpy() @ w, dtype=np.float64)


def value_weights(dataset: Dataset, country: str, sectors: Sequence[str]) -> dict[str, float]:
    """₹ crore of output lost per tonne of magnet short, by sector (0 where unvalued).

    From :func:`rareflow.analysis.production.sector_values`: units of product per tonne times
    the value of a unit.
    """
    values = sector_values(dataset, country)
    out = {}
    for sector in sectors:
        value = values.get(sector)
        if value is None or value.inr_per_unit is None:
            out[sector] = 0.0
        else:
            out[sector] = value.units_per_t * value.inr_per_unit / INR_CRORE
    return out


def run_cost(results: xr.Dataset) -> FloatArray:
    """Total lever cost of each draw of a run, ₹ crore (0 without levers)."""
    if "lever_cost" not in results:
        return np.zeros(results.sizes[dims.DRAW])
    cost = results["lever_cost"]
    total = cost.sum([dims.TIME, dims.LEVER, "component"]).to_numpy()
    return np.asarray(total * float(cost.attrs["inr_per_usd"]) / INR_CRORE, dtype=np.float64)


def build_problem(
    scenario: Scenario,
    dataset: Dataset,
    options: Sequence[Option],
    weights: Mapping[str, float],
    progress: Callable[[int, int], None] | None = None,
    prepared: Prepared | None = None,
) -> Problem:
    """Build the LP's data from engine runs of a scenario (its draws, horizon and seed).

    One run without the options gives the baseline; one run per option at its upper level gives
    its cost per unit, for capacity its output per unit, and the engine's loss that calibrates
    the option's efficiency (:func:`calibrate`). The scenario's phases before the levers are
    compiled once (``prepared``, or here) and shared by every run.

    A lumpy option whose levers the scenario refuses (e.g. a cluster whose plants come online
    after the horizon ends) is left out of the problem and named in its ``left_out``, never
    silently dropped; the problem's ``levers`` are the options it kept.

    Raises
    ------
    InputError
        If options share a name, or none is left.
    """
    names = [o.name for o in options]
    if len(set(names)) != len(names) or not names:
        raise InputError("options need distinct names, and at least one is needed")
    shared = prepare(scenario, None, dataset) if prepared is None else prepared
    base_net, base = run_variant(scenario, dataset, shared)
    d_n, t_n = base_net.n_draws, base_net.n_steps
    short = base["shortfall"].transpose(dims.SECTOR, dims.DRAW, dims.TIME)
    sectors = [str(s) for s in short[dims.SECTOR].to_numpy()]
    w = sector_weights(sectors, weights)
    # Sectors never short in the baseline cannot gain, so their weights need no class.
    short_any = short.to_numpy().any(axis=(1, 2))
    classes = sorted(set(w[short_any].tolist()) or {1.0}, reverse=True)
    pooled = np.stack([short.to_numpy()[w == c].sum(axis=0) for c in classes])
    coords_dt = {dims.DRAW: base[dims.DRAW].to_numpy(), dims.TIME: np.arange(t_n)}
    effect = np.zeros((len(options), d_n, t_n))
    unit_cost = np.zeros(len(options))
    rate = np.zeros(len(options))
    ready = np.zeros(len(options), dtype=np.int64)
    engine_loss: dict[str, float] = {}
    alone_losses = np.zeros((len(options), d_n))
    alone_cost = np.zeros(len(options))
    left_out: list[str] = []
    kept: list[int] = []
    base_cost = run_cost(base).mean()
    base_total = short.sum(dims.SECTOR).transpose(dims.DRAW, dims.TIME).to_numpy()
    levers = scenario.model_dump(mode="json")["levers"]
    for i, option in enumerate(options):
        if progress is not None:
            progress(i, len(options))
        probe_sc = with_overrides(scenario, levers=[*levers, *option.levers_at(option.upper)])
        try:
            compiled = compile_variant(shared, probe_sc)
        except RareflowError as exc:
            if not option.lumpy:
                raise
            left_out.append(f"{option.name}: left out, {exc}")
            continue
        kept.append(i)
        net, res = run_variant(probe_sc, dataset, compiled=compiled)
        alone_losses[i] = weighted_loss(res, weights)
        engine_loss[option.name] = float(alone_losses[i].mean())
        alone_cost[i] = float(run_cost(res).mean())
        unit_cost[i] = float((alone_cost[i] - base_cost) / max(option.upper, 1e-12))
        probe = EffectProbe(base_net, base, net, res, scenario.start, option.upper)
        model = None if option.lumpy else probe_sc.levers[-1].effect_model(probe)
        if model is not None and model.level_field == option.level_field:
            effect[i] = np.broadcast_to(model.supply, (d_n, t_n))
            rate[i] = model.release_rate
            ready[i] = model.ready
        else:
            # The simulation as the effect model: the shortfall the option avoids in the engine.
            total = res["shortfall"].sum(dims.SECTOR).transpose(dims.DRAW, dims.TIME).to_numpy()
            effect[i] = np.maximum(base_total - total, 0.0) / max(option.upper, 1e-12)
    if not kept:
        raise InputError("no option can act within the horizon: " + "; ".join(left_out))
    options = [options[i] for i in kept]
    effect, unit_cost, rate, ready = effect[kept], unit_cost[kept], rate[kept], ready[kept]
    alone_losses, alone_cost = alone_losses[kept], alone_cost[kept]
    lever_coord = {dims.LEVER: [o.name for o in options]}
    mechanical = Problem(
        baseline=xr.DataArray(
            pooled,
            coords={WEIGHT_CLASS: np.arange(len(classes)), **coords_dt},
            dims=(WEIGHT_CLASS, dims.DRAW, dims.TIME),
        ),
        weights=xr.DataArray(np.array(classes), coords={WEIGHT_CLASS: np.arange(len(classes))}),
        effect=xr.DataArray(effect, coords={**lever_coord, **coords_dt}),
        unit_cost=xr.DataArray(unit_cost, coords=lever_coord),
        upper=xr.DataArray([o.upper for o in options], coords=lever_coord),
        release_rate=xr.DataArray(rate, coords=lever_coord),
        ready=xr.DataArray(ready, coords=lever_coord),
        efficiency=xr.DataArray(np.ones(len(options)), coords=lever_coord),
        lumpy=xr.DataArray([o.lumpy for o in options], coords=lever_coord),
        left_out=tuple(left_out),
        alone_losses=xr.DataArray(
            alone_losses, coords={**lever_coord, dims.DRAW: coords_dt[dims.DRAW]}
        ),
        alone_cost=xr.DataArray(alone_cost, coords=lever_coord),
    )
    return calibrate(mechanical, engine_loss)
