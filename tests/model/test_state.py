"""The declared state: every engine array names its axes once, and layout follows from that."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tests.engine.strategies import base_network

from rareflow import dims
from rareflow.engine.core import RECORDS, Trajectory, simulate
from rareflow.engine.results import to_dataset
from rareflow.model.network import DRAW_FIRST, NETWORK_AXES, Network
from rareflow.model.state import declared, labels


def test_every_network_array_declares_named_axes() -> None:
    for name, ax in {**NETWORK_AXES, **declared(Trajectory)}.items():
        assert ax, name
        assert set(ax) <= set(dims.ALL), name
        assert len(set(ax)) == len(ax), name
    arrays = {
        f.name
        for f in dataclasses.fields(Network)
        if str(f.type).endswith("Array") or str(f.type).startswith("NDArray")
    }
    assert arrays == set(NETWORK_AXES)


def test_take_draws_slices_exactly_the_draw_first_arrays() -> None:
    net = base_network()
    wide = dataclasses.replace(
        net, **{name: np.repeat(getattr(net, name)[:1], 2, axis=0) for name in DRAW_FIRST}
    )
    part = wide.take_draws(1, 2)
    for name in NETWORK_AXES:
        before, after = getattr(wide, name), getattr(part, name)
        if name in DRAW_FIRST:
            assert after.shape == (1, *before.shape[1:]), name
        else:
            assert after is before, name
    part.check_shapes()


def test_a_shape_off_its_declaration_is_named() -> None:
    net = base_network()
    bad = dataclasses.replace(net, surge=np.zeros((1, net.n_steps + 1, len(net.partners))))
    with pytest.raises(ValueError, match=r"Network\.surge: shape .*'draw', 'time', 'partner'"):
        bad.check_shapes()
    with pytest.raises(ValueError, match="surge"):
        simulate(bad)


def test_results_are_labelled_from_the_trajectory_declaration() -> None:
    net = base_network()
    results = to_dataset(simulate(net), net)
    for name, meta in labels(Trajectory).items():
        label = str(meta.get("label", name))
        assert results[label].dims == meta["axes"], label
        assert results[label].attrs["unit"] == meta["unit"], label
    assert set(RECORDS) == set(declared(Trajectory)) - {"shipped_by_partner"}
