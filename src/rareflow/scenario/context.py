"""What shocks and levers need to write themselves into a network."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from rareflow.errors import ScenarioError
from rareflow.ids import Element
from rareflow.model.network import COMMODITIES, TRACKED_ELEMENTS, FloatArray, Network
from rareflow.scenario.sampling import Sampler

if TYPE_CHECKING:
    from rareflow.data.load import Dataset
    from rareflow.model.chain import Chain

REFORM_PREFIX = "reforms."
"""Prefix of the modifiers regulatory reforms record with the sampler's drawn values."""


def reform_value(sampler: Sampler, name: str) -> FloatArray | None:
    """Return a modifier set by a ``regulatory_reform`` lever, or None if none set it.

    Reforms are applied before the other levers (compile.py) and record their modifiers with the
    sampler's drawn values, which compile and the cost models share, so a lever's ``apply`` and
    its ``cost`` see the same reform. Names: ``permit_months.extraction``,
    ``permit_months.processing`` (caps, months), ``thorium_cost_factor`` and
    ``licence_probability`` (see :mod:`rareflow.scenario.levers.regulatory_reform`).
    """
    return sampler.drawn.get(REFORM_PREFIX + name)


CONSORTIUM_PREFIX = "consortium."
"""Prefix of the figures a ``consortium`` lever records with the sampler's drawn values."""


def cost_of_capital_cut(sampler: Sampler) -> FloatArray:
    """Cut in the cost of capital (a share per year) from ``consortium`` levers, 0 if none.

    A consortium of state-owned firms (IREL, NMDC, KABIL) pools investment and shares risk, so
    a project it backs can be financed more cheaply. The consortium records its cut with the
    sampler's drawn values, which compile and the cost models share, so a lever that appraises
    an investment (``finance``) sees the same cut in ``apply`` and ``cost``: subtract it from the
    discount rate. A consortium must be listed before the levers that read it (it checks).
    """
    return sampler.drawn.get(CONSORTIUM_PREFIX + "discount_rate_cut", np.zeros(1))


def permit_months(sampler: Sampler, kind: str, default: FloatArray) -> FloatArray:
    """Return the months a permit of ``kind`` (extraction or processing) takes.

    That is ``default``, capped by a reform's limit if the scenario has one.
    """
    cap = reform_value(sampler, f"permit_months.{kind}")
    return default if cap is None else np.minimum(default, cap)


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
    """

    net: Network
    chain: Chain
    sampler: Sampler
    magnet_elements: dict[str, frozenset[Element]]
    dataset: Dataset

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

    def set_reform(self, name: str, values: FloatArray) -> None:
        """Record a reform's modifier for the levers applied after it (see :func:`reform_value`)."""
        self.sampler.drawn[REFORM_PREFIX + name] = values

    def add_cost_of_capital_cut(self, values: FloatArray) -> None:
        """Record a consortium's cut in the cost of capital (see :func:`cost_of_capital_cut`)."""
        key = CONSORTIUM_PREFIX + "discount_rate_cut"
        self.sampler.drawn[key] = cost_of_capital_cut(self.sampler) + values

    def permit_months(self, kind: str, default: FloatArray) -> FloatArray:
        """Return the months a permit of ``kind`` takes, capped by a reform (see above)."""
        return permit_months(self.sampler, kind, default)

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
