"""The typed value-chain model, built from the dataset.

``Chain``, ``build_chain`` and ``chain_view`` are imported on first use (they need xarray), so
that importing a submodule such as :mod:`rareflow.model.network` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rareflow.model.chain import Chain, build_chain
    from rareflow.model.view import chain_view

__all__ = ["Chain", "build_chain", "chain_view"]
_HOMES = {"Chain": "chain", "build_chain": "chain", "chain_view": "view"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        from importlib import import_module  # noqa: PLC0415 - lazy by design

        return getattr(import_module(f"rareflow.model.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
