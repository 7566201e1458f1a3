"""What shocks and levers need to write themselves into a network."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from rareflow.data.load import Dataset
from rareflow.ids import Element
from rareflow.model.chain import Chain
from rareflow.model.network import COMMODITIES, TRACKED_ELEMENTS, Network
from rareflow.scenario.sampling import Sampler


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
        """(T,) True for steps whose first day lies in [start, end)."""
        days = self.net.time.astype("datetime64[D]")
        mask = days >= np.datetime64(start, "D")
        # A step that contains the start date counts, so a mid-month start is not lost.
        step_end = (
            days
            + np.array([np.timedelta64(self.net.step_months, "M")], dtype="timedelta64[M]").astype(
                "timedelta64[D]"
            )[0]
        )
        mask |= (days < np.datetime64(start, "D")) & (step_end > np.datetime64(start, "D"))
        if end is not None:
            mask &= days < np.datetime64(end, "D")
        return mask

    def step_of(self, day: date) -> int:
        """Index of the step containing a day (clipped to the horizon)."""
        days = self.net.time.astype("datetime64[D]")
        return int(
            np.clip(np.searchsorted(days, np.datetime64(day, "D"), "right") - 1, 0, len(days) - 1)
        )

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
