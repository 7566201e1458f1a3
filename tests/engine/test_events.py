"""Events, once: both steppers implement exactly the named events, and every check exists."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from tests.engine.strategies import base_network

import rareflow.engine.core as core
from rareflow.engine import reference
from rareflow.engine.balance import BalanceCheck
from rareflow.engine.events import EVENT_NAMES, EVENTS


def _methods(cls: type) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}


def test_both_steppers_implement_exactly_the_events() -> None:
    assert len(set(EVENT_NAMES)) == len(EVENT_NAMES)
    extra = {"record", "trajectory"}
    checks = {f"check_{b}" for e in EVENTS for b in e.balance}
    assert _methods(core._Block) == set(EVENT_NAMES) | checks | {"record"}
    assert _methods(reference._Draw) == set(EVENT_NAMES) | extra


def test_every_listed_check_is_a_balance_check() -> None:
    listed = {b for e in EVENTS for b in e.balance}
    assert listed <= _methods(BalanceCheck)
    # Every balance check the engine has is attached to an event.
    assert _methods(BalanceCheck) - {"held"} == listed


def test_the_events_run_in_the_listed_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    for name in EVENT_NAMES:
        original = getattr(core._Block, name)

        def spy(self: object, t: int, name: str = name, original: Any = original) -> None:
            if t == 0:
                seen.append(name)
            original(self, t)

        monkeypatch.setattr(core._Block, name, spy)
    net = base_network()
    core.simulate(net.take_draws(0, 1), check=False)
    assert seen == list(EVENT_NAMES)
    assert np.isfinite(core.simulate(net).stock).all()
