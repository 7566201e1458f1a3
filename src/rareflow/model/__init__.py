"""The typed value-chain model, built from the dataset."""

from rareflow.model.chain import Chain, build_chain
from rareflow.model.view import chain_view

__all__ = ["Chain", "build_chain", "chain_view"]
