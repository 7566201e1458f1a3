"""The dashboard: a streamlit app over the engine, the run store and the report's figures.

Start it with ``rareflow app``. :mod:`~rareflow.app.controls` turns widget values into a
scenario (pure functions, tested without a browser), :mod:`~rareflow.app.downloads` makes the
files a user downloads, and :mod:`~rareflow.app.main` is the page.
"""

from pathlib import Path

MAIN = Path(__file__).with_name("main.py")
"""The streamlit script."""

__all__ = ["MAIN"]
