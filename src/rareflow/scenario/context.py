"""What shocks and levers need to write themselves into a network."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from rareflow.errors import ScenarioError
from rareflow.ids import Element
from rareflow.model.network import COMMODITIES, TRACKED_ELEMENTS, FloatArray, Network
from rareflow.scenario.sampling import Sampler

if TYPE_CHECKING:
    from rareflow.data.load import Dataset
    from rareflow.model.chain import Chain

PermitKind = Literal["extraction", "processing"]


@dataclass
class Modifiers:
    """What levers change for the levers applied after them (typed; never sampler keys).

    Levers of the ``MODIFIERS`` phase write here before the others are applied, whatever their
    place in the scenario; compile hands the same object to the cost models, so a lever's
    ``apply`` and its ``cost`` see the same values.

    Parameters
    ----------
    permit_cap_months
        (1 or D,) most months a permit of each kind may take (``regulatory_reform``).
    thorium_cost_factor
        (1 or D,) multiplier on the cost of handling thorium by-products (``regulatory_reform``).
    licence_probability
        (1 or D,) chance a private block is licensed to handle radioactive by-products
        (``regulatory_reform``); None: the block's own figure.
    discount_rate_cut
        (1 or D,) cut in the cost of capital of the investments a ``consortium`` backs, a share
        per year; ``finance`` subtracts it from its discount rate.
    discount_rate_read
        Whether a lever has read ``discount_rate_cut`` (a consortium listed after it would be
        missed: it refuses).
    """

    permit_cap_months: dict[PermitKind, FloatArray] = field(default_factory=dict)
    thorium_cost_factor: FloatArray | None = None
    licence_probability: FloatArray | None = None
    discount_rate_cut: FloatArray = field(default_factory=lambda: np.zeros(1))
    discount_rate_read: bool = False

    def permit_months(self, kind: PermitKind, default: FloatArray) -> FloatArray:
        """Months a permit of ``kind`` takes: ``default``, capped by a reform if there is one."""
        cap = self.permit_cap_months.get(kind)
        return default if cap is None else np.minimum(default, cap)

    def cost_of_capital_cut(self) -> FloatArray:
        """Return the cut in the cost of capital, recording that it was read."""
        self.discount_rate_read = True
        return self.discount_rate_cut


@dataclass
class Applied:
    """What a lever's ``apply`` produced, for its cost model to consume (never to draw again).

    Parameters
    ----------
    inputs
        Cost inputs by field, as drawn (``(1,)`` or ``(D,)``), in the field's unit.
    outputs
        Anything else the cost needs from ``apply`` (schedules, appraisals, steps), by name.
    basis
        One line per cost input: its value and whether the scenario or ``lever_costs.csv``
        gave it (with the row's source).
    """

    inputs: dict[str, FloatArray] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    basis: list[str] = field(default_factory=list)


@dataclass
class CompileContext:
    """The network being compiled, with helpers to address its time steps and commodities.

    Parameters
    ----------
    net
        The network (arrays already allocated, at their baseline values).
    chain
        The focal country's chain it was built from.
    sampler
        Draws uncertain numbers for the network's draws.
    magnet_elements
        For each magnet commodity, the elements its typical composition contains.
    dataset
        The dataset the chain came from.
    modifiers
        What levers applied so far changed for the others (see :class:`Modifiers`).
    applied
        What each lever's ``apply`` produced for its cost model, by the lever's path
        (:class:`Applied`).
    """

    net: Network
    chain: Chain
    sampler: Sampler
    magnet_elements: dict[str, frozenset[Element]]
    dataset: Dataset
    modifiers: Modifiers = field(default_factory=Modifiers)
    applied: dict[str, Applied] = field(default_factory=dict)

    def record(self, path: str) -> Applied:
        """Return the record of what the lever at ``path`` produced (created on first use)."""
        return self.applied.setdefault(path, Applied())

    def active(self, start: date, end: date | None = None) -> NDArray[np.bool_]:
        """(T,) True for steps in [start, end) (see :meth:`Network.active`)."""
        return self.net.active(start, end)

    def step_of(self, day: date) -> int:
        """Index of the step containing a day, clipped to the horizon."""
        return self.net.step_of(day)

    def commodities(self, elements: Iterable[Element], forms: Iterable[str]) -> NDArray[np.bool_]:
        """(K,) True for commodities of the given forms that contain any of the elements."""
        wanted, form_set = set(elements), set(forms)
        mask = np.zeros(len(COMMODITIES), dtype=bool)
        for k, c in enumerate(COMMODITIES):
            if c.form not in form_set:
                continue
            if c.form == "magnet":
                has = self.magnet_elements.get(c.id, frozenset())
            elif c.form == "concentrate":
                has = frozenset(TRACKED_ELEMENTS) | frozenset(Element)
            else:
                has = frozenset(
                    e for i, e in enumerate(TRACKED_ELEMENTS) if self.net.content[k, i] > 0
                )
            mask[k] = bool(wanted & has)
        return mask

    def widen(self, name: str) -> FloatArray:
        """Give a network array with a leading draw axis one row per draw, and return it.

        Arrays that do not vary across draws are stored with a draw axis of length 1; a lever
        whose effect is uncertain widens the array before writing draw-specific values.
        """
        arr: FloatArray = getattr(self.net, name)
        if arr.shape[0] == 1 and self.net.n_draws > 1:
            arr = np.repeat(arr, self.net.n_draws, axis=0)
            setattr(self.net, name, arr)
        return arr

    def scale_inputs(self, process: str, factor: float) -> None:
        """Change a process's yield: its inputs per unit of output are multiplied by ``factor``.

        The element losses are recomputed from the recipe, so the process's element balance
        (in = out + losses) still holds; a factor that would make it create mass is refused.
        """
        net = self.net
        j = [p.id for p in net.processes].index(process)
        proc_in = net.proc_in.copy()
        proc_in[j] *= factor
        loss = proc_in[j] @ net.content - net.proc_out[j] @ net.content
        if np.any(loss < -1e-12):
            raise ScenarioError(
                f"a yield gain of {1 / factor - 1:.0%} at {process} would make it create "
                "element mass; the largest possible gain is smaller"
            )
        net.proc_in = proc_in
        proc_loss = net.proc_loss.copy()
        proc_loss[j] = np.maximum(loss, 0.0)
        net.proc_loss = proc_loss

    def partner(self, code: str) -> int:
        """Index of a partner in the network."""
        return self.net.partners.index(code)

    def chain_groupings(self) -> dict[str, set[str]]:
        """Members of each partner grouping (groupings.csv)."""
        rows = self.dataset.table("groupings")
        return {str(g): set(map(str, m)) for g, m in rows.groupby("grouping")["country"]}

    def known_countries(self) -> set[str]:
        """Country codes of the dataset."""
        return set(map(str, self.dataset.table("countries")["country"]))
