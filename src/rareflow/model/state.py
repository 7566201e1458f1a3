"""Declared state: every array the engine reads or writes names its dimensions once.

A dataclass field holding an array declares its axes with ``field(metadata=axes(...))``, using the
names of :mod:`rareflow.dims`. Everything that depends on an array's layout is derived from that
declaration: which arrays carry the ensemble axis ``draw`` first (and may give it length 1 when
the same for every draw), slicing by draw, shape checks, the results' labels, and the test
strategies that build random networks. Adding a dimension to an array is a change of its
declaration (and of the code that computes along it), nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

import numpy as np

from rareflow.dims import DRAW

AXES = "axes"
"""Metadata key of a field's declared axes."""

T = TypeVar("T")


def axes(*names: str, **labels: str) -> dict[str, object]:
    """Field metadata declaring an array's axes, in order (``field(metadata=axes(DRAW, TIME))``).

    Keyword ``labels`` (``unit``, ``description``, ``label``) travel with it, for arrays that
    become labelled results.
    """
    return {AXES: names, **labels}


def declared(cls: type[Any]) -> dict[str, tuple[str, ...]]:
    """Axes of every array field of a dataclass, by field name, in field order."""
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return {f.name: tuple(f.metadata[AXES]) for f in fields(cls) if AXES in f.metadata}


def labels(cls: type[Any]) -> dict[str, Mapping[str, Any]]:
    """Return the metadata (axes and labels) of every array field of a dataclass, by name."""
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return {f.name: f.metadata for f in fields(cls) if AXES in f.metadata}


def draw_first(cls: type[Any]) -> frozenset[str]:
    """Array fields whose first axis is ``draw`` (of length 1 when the same for every draw)."""
    return frozenset(name for name, ax in declared(cls).items() if ax and ax[0] == DRAW)


def shape_of(names: tuple[str, ...], sizes: Mapping[str, int]) -> tuple[int, ...]:
    """Return the shape of an array with the given axes, from the length of each dimension."""
    return tuple(sizes[n] for n in names)


def check_shapes(obj: object, sizes: Mapping[str, int]) -> None:
    """Raise ``ValueError`` naming the first array whose shape does not match its declaration.

    A leading ``draw`` axis may have length 1 (the same value for every draw).
    """
    for name, ax in declared(type(obj)).items():
        value = getattr(obj, name)
        if value is None:
            continue
        want = shape_of(ax, sizes)
        got = tuple(np.shape(value))
        shared = ax[:1] == (DRAW,) and got[:1] == (1,) and got[1:] == want[1:]
        if got != want and not shared:
            raise ValueError(f"{type(obj).__name__}.{name}: shape {got}, declared {ax} = {want}")


def take_draws(obj: T, start: int, stop: int) -> T:
    """Return a copy of a dataclass with every draw-first array sliced to draws ``start:stop``.

    Arrays shared by all draws (leading length 1) are kept whole.
    """
    changes = {}
    for name in draw_first(type(obj)):
        value = getattr(obj, name)
        if value is not None and value.shape[0] > 1:
            changes[name] = value[start:stop]
    return replace(obj, **changes)  # type: ignore[type-var]
