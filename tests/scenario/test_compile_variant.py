"""A variant compiled from a prepared scenario equals the same scenario compiled afresh.

The optimiser compiles a scenario's phases before the levers once (:func:`prepare`) and finishes
a copy for each lever it probes (:func:`compile_variant`); this holds it to a fresh
:func:`compile_scenario` of every option it offers, array by array.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rareflow.analysis.optimize import default_options
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.model.network import Network
from rareflow.scenario.compile import (
    Compiled,
    compile_scenario,
    compile_variant,
    prepare,
    shares_prepared,
)
from rareflow.scenario.load import load_scenario

BASE = "repeat-2029"


def _same(a: Compiled, b: Compiled) -> None:
    for f in dataclasses.fields(Network):
        x, y = getattr(a.network, f.name), getattr(b.network, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        elif isinstance(x, dict):
            assert x.keys() == y.keys(), f.name
        else:
            assert x == y, f.name
    assert a.notes == b.notes
    assert a.warnings == b.warnings
    assert a.applied.keys() == b.applied.keys()
    for path, record in a.applied.items():
        other = b.applied[path]
        assert record.basis == other.basis
        for name, values in record.inputs.items():
            np.testing.assert_array_equal(values, other.inputs[name], err_msg=f"{path}.{name}")


def _options() -> list[tuple[str, list[dict[str, object]]]]:
    sc = load_scenario(BASE)
    return [(o.name, o.levers_at(o.upper)) for o in default_options(sc, 300.0)]


@pytest.mark.parametrize(("name", "levers"), _options(), ids=[n for n, _ in _options()])
def test_every_option_compiles_as_afresh(
    name: str, levers: list[dict[str, object]], dataset: Dataset
) -> None:
    base = with_overrides(load_scenario(BASE), draws=6, horizon_months=60)
    prepared = prepare(base, None, dataset)
    variant = with_overrides(base, levers=levers)
    fresh = compile_scenario(variant, None, dataset)
    _same(compile_variant(prepared, variant), fresh)
    # An option naming a partner the base network lacks is finished from a state prepared
    # with that partner, compiled once and kept for every variant that names it.
    partners = prepared.new_partners(variant)
    assert shares_prepared(prepared, variant) == (not partners), name
    if partners:
        kept = prepared.for_partners(partners)
        assert kept is prepared.for_partners(partners)
        assert shares_prepared(kept, variant)
        assert not shares_prepared(kept, base)


def test_the_prepared_state_is_not_changed_by_its_variants(dataset: Dataset) -> None:
    base = with_overrides(load_scenario(BASE), draws=4, horizon_months=48)
    prepared = prepare(base, None, dataset)
    (_, levers), *_ = _options()
    compile_variant(prepared, with_overrides(base, levers=levers))
    _same(compile_variant(prepared, base), compile_scenario(base, None, dataset))


def test_a_scenario_that_differs_otherwise_is_compiled_afresh(dataset: Dataset) -> None:
    base = with_overrides(load_scenario(BASE), draws=4, horizon_months=48)
    prepared = prepare(base, None, dataset)
    other = with_overrides(base, seed=base.seed + 1)
    assert not shares_prepared(prepared, other)
    _same(compile_variant(prepared, other), compile_scenario(other, None, dataset))
