"""Colours and labels shared by every figure, so the report and the dashboard look the same."""

from __future__ import annotations

import plotly.io as pio

from rareflow import display

SHOCK = "#c0392b"
"""Colour of the shock run."""
BASELINE = "#2c7fb8"
"""Colour of the baseline run."""
UNMET = "rgba(192, 57, 43, 0.55)"
"""Colour of unmet requirement (shortfall) in a Sankey."""
NEUTRAL = "rgba(120, 120, 120, 0.45)"
"""Colour of stock changes and exports in a Sankey."""
PARTNER_COLOURS = {"CHN": "#d95f02", "ROW": "#1b9e77"}
"""Partner colours; other partners get ``OTHER_PARTNER``."""
OTHER_PARTNER = "#7570b3"
FONT = "Helvetica, Arial, sans-serif"
TEMPLATE = "plotly_white"
"""Plotly's template of every figure: made plotly's default when the report loads, so each new
figure takes it once, unvalidated (naming it in a figure's layout validates the whole template
again, about a tenth of a report's build time)."""
pio.templates.default = TEMPLATE


def label(identifier: str) -> str:
    """Return an id (``ev_car``) as its display name (:func:`rareflow.display.name`)."""
    return display.name(identifier)


def unit_label(unit: str) -> str:
    """Return a unit id (``t_magnet``) as written for a reader (:func:`rareflow.display.unit`)."""
    return display.unit(unit)


def rgba(hex_colour: str, alpha: float) -> str:
    """Return a ``#rrggbb`` colour with an alpha, for bands and links."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def layout(title: str, height: int = 420) -> dict[str, object]:
    """Return the layout every figure starts from."""
    return {
        # Title pinned to the top so legends placed above the plots never run into it.
        "title": {
            "text": title,
            "x": 0.0,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "pad": {"t": 12},
            "font": {"size": 16},
        },
        "font": {"family": FONT, "size": 12},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 70, "b": 40},
    }
