"""Write a report's figures as PNG or SVG files with kaleido, on the system's Chromium.

kaleido 1.x drives a Chrome-family browser. rareflow never lets it download one: it uses
``$BROWSER_PATH`` if set, else Debian's ``/usr/bin/chromium``, and stops with a clear message
when neither exists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import kaleido
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from rareflow.errors import InputError
from rareflow.outputs import output_dir
from rareflow.report.geo import geo_assets_js

BROWSER_ENV = "BROWSER_PATH"
"""Environment variable that kaleido (choreographer) reads for the browser's executable."""
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1200
"""Width of exported figures in pixels."""


class ImageFormat(StrEnum):
    """Image formats for exported figures."""

    PNG = "png"
    SVG = "svg"


def browser_path() -> Path:
    """Return the browser kaleido must use.

    Raises
    ------
    rareflow.errors.InputError
        If ``$BROWSER_PATH`` is unset and ``/usr/bin/chromium`` is missing.
    """
    env = os.environ.get(BROWSER_ENV)
    path = Path(env) if env else SYSTEM_CHROMIUM
    if not path.is_file():
        raise InputError(
            f"figure export needs Chromium at {path}: install it (apt-get install chromium) or set "
            f"{BROWSER_ENV} to a Chrome or Chromium executable"
        )
    return path


def write_figures(
    figures: Mapping[str, go.Figure], out_dir: Path, fmt: ImageFormat = ImageFormat.PNG
) -> list[Path]:
    """Write each figure as ``<name>.<fmt>`` in a directory, in one browser session.

    Parameters
    ----------
    figures
        Figures by file name (without extension).
    out_dir
        Directory to write into; created if missing (its parent must exist).
    fmt
        PNG or SVG.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    rareflow.errors.InputError
        If no browser is found or the directory cannot be written.
    """
    # kaleido finds the browser through BROWSER_PATH; setting it stops any search or download.
    browser_path()
    out_dir = output_dir(out_dir, "the figures folder")
    paths = [out_dir / f"{name}.{fmt.value}" for name in figures]
    with _page() as page:
        specs = [
            {"fig": fig, "path": path, "opts": {"format": fmt.value, "width": WIDTH}}
            for fig, path in zip(figures.values(), paths, strict=True)
        ]
        errors = kaleido.write_fig_from_object_sync(specs, kopts={"page_generator": page})
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"figure export failed for {', '.join(missing)}: {errors}")
    return paths


@contextmanager
def _page() -> Iterator[kaleido.PageGenerator]:
    """Yield kaleido's page with plotly.js and the world geometry as local files, no MathJax.

    kaleido's default page loads MathJax from a CDN and maps fetch their geometry: this one
    fetches nothing.
    """
    os.environ[BROWSER_ENV] = str(browser_path())
    with tempfile.TemporaryDirectory(prefix="rareflow-kaleido-") as tmp:
        plotly_js = Path(tmp) / "plotly.min.js"
        plotly_js.write_text(get_plotlyjs(), encoding="utf-8")
        assets = Path(tmp) / "geo_assets.js"
        assets.write_text(geo_assets_js(), encoding="utf-8")
        yield kaleido.PageGenerator(plotly=str(plotly_js), mathjax=False, others=[str(assets)])


def image_bytes(fig: go.Figure, fmt: ImageFormat = ImageFormat.PNG) -> bytes:
    """Return one figure as PNG or SVG bytes (for a download), drawn on the system's Chromium.

    Raises
    ------
    rareflow.errors.InputError
        If no browser is found or the browser fails.
    """
    with _page() as page:
        try:
            data = kaleido.calc_fig_sync(
                fig, opts={"format": fmt.value, "width": WIDTH}, kopts={"page_generator": page}
            )
        except Exception as exc:  # kaleido raises its own and the browser's errors
            raise InputError(f"figure export failed: {exc}") from None
    return bytes(data)
