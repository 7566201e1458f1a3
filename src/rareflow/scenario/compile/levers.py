"""Compile phase: levers by their declared phase, in scenario order within a phase.

``MODIFIERS`` levers (regulatory reform) run first and only change what later levers read
(:class:`rareflow.scenario.context.Modifiers`); ``EFFECTS`` levers then write into the network
(see :mod:`rareflow.scenario.levers.base`). Before each lever applies, its cost inputs are
resolved and drawn (the scenario's value, else ``lever_costs.csv``) into its record, which its
cost model reads; the record's basis lines become run notes. A lever that changes neither the
network nor the modifiers is reported: it cannot act within the horizon (no silent no-op).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rareflow.scenario.compile.work import Work


def _fingerprint(state: object) -> list[tuple[str, object]]:
    """Summarise every field of a dataclass (arrays: shape, sum, sum of squares)."""
    out: list[tuple[str, object]] = []
    for f in dataclasses.fields(state):  # type: ignore[arg-type]
        value = getattr(state, f.name)
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            a = value.astype(np.float64, copy=False)
            out.append((f.name, (a.shape, float(np.nansum(a)), float(np.nansum(a * a)))))
        elif isinstance(value, np.ndarray):
            out.append((f.name, value.shape))
        else:
            out.append((f.name, repr(value)))
    return out


def apply_levers(work: Work) -> None:
    """Apply every lever of the scenario, by phase, then by position."""
    ctx = work.ctx
    net = ctx.net
    if work.scenario.costs.discount_rate is not None and not work.scenario.levers:
        work.warnings.append(
            "costs.discount_rate is set but the scenario has no levers: there is no cost to "
            "discount"
        )
    levers = sorted(enumerate(work.scenario.levers), key=lambda il: (il[1].phase, il[0]))
    for i, lever in levers:
        path = f"levers[{i}]"
        for name in lever.cost_fields():
            lever.cost_input(ctx, path, name)
        before = _fingerprint(net), _fingerprint(ctx.modifiers)
        lever.apply(ctx, path)
        basis = ctx.record(path).basis
        if basis:
            label = f" {lever.name!r}" if lever.name else ""
            work.notes.append(
                f"lever cost inputs, {path} ({lever.type_tag()}{label}): " + "; ".join(basis)
            )
        if (_fingerprint(net), _fingerprint(ctx.modifiers)) == before:
            end = (net.time[-1] + net.step_months - 1).astype(object)
            label = f" {lever.name!r}" if lever.name else ""
            work.warnings.append(
                f"levers[{i}] ({lever.type_tag()}{label}) changes nothing within the horizon "
                f"({work.scenario.start:%Y-%m} to {end:%Y-%m}): check its dates (a plant "
                "online, or a contract starting, after the horizon ends)"
            )
