"""A small bounded cache: no module keeps an unbounded store of past results.

Work that depends only on a dataset version and a few keys (the sources' kinds, a country's
end-of-life flows) is kept in a :class:`BoundedCache`, which forgets the least recently used
entry beyond its size, so a long session over many datasets (sweeps over user data, the
dashboard) does not grow without limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A least-recently-used cache of at most ``maxsize`` entries, safe across threads.

    Parameters
    ----------
    maxsize
        Most entries kept (at least 1).
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._items)

    def peek(self, key: K) -> V | None:
        """Return the entry of ``key`` (now the most recently used), or None if it is not there."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` as the entry of ``key``; the least recently used beyond size go."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def get(self, key: K, make: Callable[[], V]) -> V:
        """Return the entry of ``key``, made by ``make()`` (and kept) if it is not there."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
