"""The lever contract: every registered lever type, and the documented example, keep the protocol.

See :mod:`rareflow.scenario.levers.base`: one class per module, registered by its tag; a phase;
every field explained, every number with its unit and bounds; a bad number reported at its own
path; random streams on field paths (or declared); an effect on the network or on the modifiers;
cost lines of shape (draw, step).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import pkgutil
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import rareflow.scenario.levers as levers_package
from rareflow.data.load import load_dataset
from rareflow.engine.core import simulate
from rareflow.engine.results import to_dataset
from rareflow.engine.run import with_overrides
from rareflow.model.network import NETWORK_AXES
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.context import Modifiers
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.levers.base import REGISTRY, CostContext, LeverBase, Phase
from rareflow.scenario.load import load_scenario, preset_names
from rareflow.scenario.schema import Scenario

EXAMPLE_FILE = Path(__file__).parents[2] / "docs" / "examples" / "magnet_thrift.py"
BASE = "china-2025-april"


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location("magnet_thrift_example", EXAMPLE_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the class's annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> Iterator[Any]:
    """The docs' example lever, registered only while these tests run."""
    before = dict(REGISTRY)
    module = _load_example()
    yield module
    REGISTRY.clear()
    REGISTRY.update(before)
    del sys.modules[module.__name__]


@cache
def _preset_with(tag: str) -> tuple[Scenario, int]:
    """A preset using a lever type, and the lever's position in it (fewest levers first)."""
    found = []
    for name in preset_names():
        sc = load_scenario(name)
        for i, lever in enumerate(sc.levers):
            if lever.type_tag() == tag:
                found.append((len(sc.levers), name, i))
    assert found, f"no preset uses lever type {tag}"
    _, name, i = min(found)
    return with_overrides(load_scenario(name), draws=3, seed=11), i


def _case(tag: str, example: Any) -> tuple[Scenario, int]:
    if tag == "magnet_thrift":
        base = with_overrides(load_scenario(BASE), draws=3, seed=11)
        lever = example.MagnetThrift.model_validate(example.EXAMPLE)
        return base.model_copy(update={"levers": [lever]}), 0
    return _preset_with(tag)


TAGS = [*sorted(REGISTRY), "magnet_thrift"]


def test_every_lever_module_defines_one_registered_class() -> None:
    for info in pkgutil.iter_modules(levers_package.__path__):
        module = importlib.import_module(f"{levers_package.__name__}.{info.name}")
        own = [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, LeverBase) and c.__module__ == module.__name__
        ]
        if info.name in ("base", "build", "segment_shift"):
            # the protocol itself, helpers shared by levers, and a shared base with no tag
            assert all(c not in REGISTRY.values() for c in own), f"{info.name}: {own}"
            continue
        assert len(own) == 1, f"{info.name}: {own}"
        assert REGISTRY[own[0].type_tag()] is own[0]
    assert set(LEVER_TYPES) == set(REGISTRY.values())


def test_the_example_registers_itself(example: Any) -> None:
    assert REGISTRY["magnet_thrift"] is example.MagnetThrift
    assert example.MagnetThrift not in LEVER_TYPES  # not in the package: not in scenarios


@pytest.mark.parametrize("tag", TAGS)
def test_fields_are_declared(tag: str, example: Any) -> None:
    cls = REGISTRY[tag]
    assert isinstance(cls.phase, Phase)
    for spec in cls.field_specs():
        assert spec.help, f"{tag}.{spec.name}: no meaning in the class docstring"
        assert spec.kind != "other", f"{tag}.{spec.name}: a type forms cannot show"
        if spec.kind in ("number", "integer"):
            assert spec.unit, f"{tag}.{spec.name}: no unit (Annotated[Number, Spec(...)])"
            assert spec.low is not None, f"{tag}.{spec.name}: no lower bound"
            assert spec.high is not None, f"{tag}.{spec.name}: no upper bound"


@pytest.mark.parametrize("tag", TAGS)
def test_a_number_out_of_bounds_is_reported_at_its_own_path(tag: str, example: Any) -> None:
    sc, i = _case(tag, example)
    cls = REGISTRY[tag]
    data = sc.levers[i].model_dump(mode="json", by_alias=True)
    for spec in cls.field_specs():
        if spec.high is None or spec.kind not in ("number", "integer"):
            continue
        bad = spec.high + max(1.0, abs(spec.high))
        with pytest.raises(ValidationError) as caught:
            cls.model_validate({**data, spec.name: int(bad) if spec.kind == "integer" else bad})
        locs = [tuple(e["loc"]) for e in caught.value.errors()]
        assert (spec.name,) in locs, f"{tag}.{spec.name}: reported at {locs}"


@pytest.mark.parametrize("tag", TAGS)
def test_apply_draws_on_field_paths_and_cost_has_its_shape(tag: str, example: Any) -> None:
    sc, i = _case(tag, example)
    cls = REGISTRY[tag]
    ds = load_dataset()
    compiled = compile_scenario(sc, None, ds)
    without = compile_scenario(sc.model_copy(update={"levers": sc.levers[:i]}), None, ds)
    # Its effect: on the network's arrays, or on what later levers read.
    changed = [
        name
        for name in NETWORK_AXES
        if not np.array_equal(getattr(compiled.network, name), getattr(without.network, name))
    ]
    assert changed or compiled.modifiers != Modifiers(), f"{tag}: no effect"
    # Its streams: its fields' own paths, or ones it declares.
    prefix = f"levers[{i}]."
    used = {p[len(prefix) :].split(".")[0] for p in compiled.sampler.drawn if p.startswith(prefix)}
    assert used <= set(cls.model_fields) | set(cls.streams), f"{tag}: streams {used}"
    # Its cost: lines of (draw, step) US$, finite.
    net = compiled.network
    results = to_dataset(simulate(net), net)
    ctx = CostContext(net, results, ds, compiled.sampler, compiled.modifiers, compiled.applied)
    for line in sc.levers[i].cost(ctx, f"levers[{i}]"):
        usd = np.broadcast_to(line.usd, (net.n_draws, net.n_steps))
        assert np.isfinite(usd).all(), f"{tag}: {line.component}"
        assert line.component
        assert math.isfinite(float(usd.sum()))


def test_the_example_is_the_file_the_docs_show() -> None:
    text = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "docs/examples/magnet_thrift.py" in text


def test_draws_do_not_follow_a_levers_position() -> None:
    """A lever's streams are keyed by its type and its index among its type's levers."""
    a = {
        "type": "stockpile",
        "material": "magnet_ndfeb_sintered",
        "target_months": {"dist": "uniform", "low": 2, "high": 4},
        "start": "2025-02",
        "price_usd_per_kg": {"dist": "uniform", "low": 50, "high": 90},
    }
    b = {
        "type": "supply_contract",
        "partner": "JPN",
        "material": "magnet_ndfeb_sintered",
        "t_per_year": {"dist": "uniform", "low": 100, "high": 300},
        "start": "2025-06",
    }
    base = load_scenario("china-2025-april").model_dump(mode="json")
    ds = load_dataset()
    drawn = []
    for levers in ([a, b], [b, a]):
        sc = Scenario.model_validate({**base, "draws": 8, "levers": levers})
        sampler = compile_scenario(sc, None, ds).sampler
        by_type = {}
        for i, lever in enumerate(levers):
            for path, values in sampler.drawn.items():
                if path.startswith(f"levers[{i}].") and np.size(values) > 1:
                    by_type[f"{lever['type']}{path[len(f'levers[{i}]') :]}"] = values
        drawn.append(by_type)
    assert drawn[0].keys() == drawn[1].keys()
    assert len(drawn[0]) >= 2
    for key, values in drawn[0].items():
        np.testing.assert_array_equal(values, drawn[1][key], err_msg=key)
