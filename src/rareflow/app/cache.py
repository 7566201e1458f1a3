"""Results the dashboard has computed, kept per (scenario, data version, seed) for every session.

A result is keyed by :func:`fingerprint`: a hash of the resolved scenario (every default filled
in, so the seed and the draws are part of it) and the dataset's version. The same settings
asked for again, in any session, are shown at once; a changed setting is a new key, so results
are always those of the exact scenario shown. The cache holds a few entries (least recently used
go first), so memory stays bounded however many sessions come and go.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from rareflow.cache import BoundedCache
from rareflow.scenario.load import resolved_yaml
from rareflow.scenario.schema import Scenario

T = TypeVar("T")
MAX_ENTRIES = 8
"""Results kept; an entry is a report and its headline (the results stay in the store), well under
1 MB at any number of draws (:mod:`rareflow.app.compute`)."""


def fingerprint(scenario: Scenario, data_version: str) -> str:
    """Return the key of a scenario's results: a hash of its resolved YAML and the data version."""
    text = f"{data_version}\n{resolved_yaml(scenario)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ResultCache(Generic[T]):
    """A small thread-safe least-recently-used cache; one computation per key at a time.

    The entries are a :class:`rareflow.cache.BoundedCache`; this adds a lock per key, so that
    sessions asking for the same key at once wait for one computation.

    Parameters
    ----------
    max_entries
        Entries kept.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._items: BoundedCache[str, T] = BoundedCache(max_entries)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.max_entries = max_entries

    def get(self, key: str) -> T | None:
        """Return the entry for a key, or None."""
        return self._items.peek(key)

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> tuple[T, bool]:
        """Return the entry for a key, computing it if missing; and whether it was cached.

        Two sessions asking for the same key at once compute it once.
        """
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            hit = self.get(key)
            if hit is not None:
                return hit, True
            value = compute()
            with self._lock:
                self._items.put(key, value)
                self._key_locks.pop(key, None)
            return value, False

    def clear(self) -> None:
        """Drop every entry."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
