"""The embedded, cited reference dataset and loaders for user data.

``Dataset`` and ``load_dataset`` are imported on first use (they need pandas), so that importing a
submodule such as :mod:`rareflow.data.schema` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rareflow.data.load import Dataset, load_dataset

__all__ = ["Dataset", "load_dataset"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rareflow.data import load  # noqa: PLC0415 - lazy by design

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
