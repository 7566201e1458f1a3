"""rareflow: an open model of rare-earth supply chains from mines to magnets.

The public API for notebooks lives here; see the README for a tour.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rareflow")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
