"""The engine's month: one named list of events, implemented by both steppers.

:mod:`rareflow.engine.core` (vectorised over draws) and :mod:`rareflow.engine.reference` (plain
loops over one draw) each define one method per event, named as here, and step a month by
calling them in this order; the mass-balance checks of :mod:`rareflow.engine.balance` listed
with an event are run on what that event moved. A new mechanism is a new event here, then its
method in both steppers (a test checks that both implement exactly this list).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One event of the engine's month.

    Parameters
    ----------
    name
        The method name both steppers implement.
    does
        What happens, in a line.
    balance
        The mass-balance checks (:class:`rareflow.engine.balance.BalanceCheck` methods) run on
        what the event moved.
    """

    name: str
    does: str
    balance: tuple[str, ...] = ()


EVENTS: tuple[Event, ...] = (
    Event(
        "requirement",
        "each sector's requirement grows with demand; sectors outside the priority tiers answer "
        "the price; each sector's need splits into its segments (buyer groups), their grades "
        "and routes (bare magnets from the national pool, or inside imported components)",
        ("split",),
    ),
    Event(
        "orders",
        "buyers order their plan (the bare route's need) plus a share of the gap to their "
        "target position, split by partner share; of a magnet, a control licenses the share in "
        "grades it reaches; licensed parts join each control's queue; expected refusals are "
        "sought from partners with room",
    ),
    Event(
        "licences",
        "applications reach a decision after their delay: approved parts ship, the rest is refused",
        ("queue",),
    ),
    Event(
        "shipping",
        "free and approved orders and contracted volumes, less supply cuts, go to sea for their "
        "partner's lead time",
    ),
    Event(
        "arrivals",
        "goods at the end of their voyage and local supply enter stock; a stockpile releases "
        "materials to processors short of inputs",
        ("transit",),
    ),
    Event(
        "processing",
        "domestic processes run upstream first, limited by capacity and inputs",
        ("processes",),
    ),
    Event(
        "components",
        "segments order components for their embedded need; the part a control reaches (a "
        "content rule, in reached grades) waits for its licence, the rest arrives; each segment "
        "uses the components it holds",
        ("components",),
    ),
    Event(
        "allocation",
        "the pool's unassigned magnets go to segments: needs no control reaches first, then "
        "reached needs tier by tier, in proportion to what each seeks; segments use what they "
        "hold; the stockpile releases to the sectors it serves when they get less than its "
        "trigger's share of their need, or buys while "
        "the market is whole; domestic surplus is exported",
        ("holdings", "stockpile", "stock"),
    ),
    Event(
        "prices",
        "each magnet's price moves toward the multiple that clears supply against requirement",
    ),
)
"""The events of a month, in order."""

EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in EVENTS)
"""Their names, in order."""
