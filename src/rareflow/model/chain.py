"""The typed value chain of a focal country, built from the dataset.

A :class:`Chain` holds what the engine and the views need, as labelled arrays and tables with the
dimensions of :mod:`rareflow.dims`: nodes (country x stage) with their output or capacity, the focal
country's import links by partner and material, sector demand, element contents, yields and
inventories. Building it validates what the dataset's own checks cannot see alone (a focal country
the dataset does not know, intensities whose units do not fit their sector).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import xarray as xr

from rareflow import dims
from rareflow.data.load import HIDDEN, Dataset, load_dataset
from rareflow.data.query import latest_rows
from rareflow.errors import InputError
from rareflow.ids import Stage
from rareflow.model.composition import (
    magnet_element_content,
    metal_fraction_of_oxide,
    ore_element_shares,
)
from rareflow.model.demand import SectorDemand, sector_demand

PROVENANCE = ["year", "source_id", "note"]


@dataclass(frozen=True)
class Chain:
    """A focal country's mines-to-magnets chain.

    Parameters
    ----------
    country
        Focal country (ISO alpha-3).
    data_version
        Hash of the dataset it was built from.
    nodes
        One row per (country, stage, material, metric): world producers and the focal country's
        plants, with value, unit, year and source.
    links
        The focal country's imports: one row per (partner, material, metric), with value, unit,
        year and source.
    stage_share
        Dimensions ``stage``, ``country``: share of world output (fraction).
    mine_production
        Dimension ``country``: t_reo per year, latest chosen figure.
    ore_shares
        Dimensions ``country``, ``element``: element split of each country's REO output.
    magnet_content
        Dimensions ``material``, ``element``: t of element metal per t of magnet.
    metal_fraction
        Dimension ``element``: t of metal per t of oxide.
    demand
        Sector demand for magnets.
    inventories
        Stocks held in the focal country, by holder and material.
    process
        Process parameters (yields, losses), chosen rows.
    """

    country: str
    data_version: str
    nodes: pd.DataFrame
    links: pd.DataFrame
    stage_share: xr.DataArray
    mine_production: xr.DataArray
    ore_shares: xr.DataArray
    magnet_content: xr.DataArray
    metal_fraction: xr.DataArray
    demand: SectorDemand
    inventories: pd.DataFrame
    process: pd.DataFrame

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The chain's stages, upstream first."""
        return tuple(Stage)


def build_chain(country: str = "IND", dataset: Dataset | None = None) -> Chain:
    """Build a focal country's chain from the dataset.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-3 code of the focal country.
    dataset
        The dataset; the embedded one by default.

    Raises
    ------
    rareflow.errors.InputError
        If the country is not in the dataset's countries table.
    rareflow.errors.DataError
        If the dataset's figures do not fit together (e.g. an intensity's unit).
    """
    ds = dataset if dataset is not None else load_dataset()
    countries = ds.table("countries")
    if country not in set(countries["country"]):
        known = ", ".join(sorted(countries["country"]))
        raise InputError(
            f"unknown country '{country}': expected an ISO 3166-1 alpha-3 code from countries.csv "
            f"({known})"
        )

    mines = latest_rows(ds.chosen("mine_production"), ["country"]).reset_index(drop=True)
    mines = mines[mines["country"] != "WLD"]
    mine_nodes = mines.assign(
        stage=Stage.MINING.value, material="concentrate_mixed", metric="output"
    )
    outputs = latest_rows(
        ds.chosen("stage_output"), ["stage", "country", "material", "metric"]
    ).reset_index(drop=True)
    plants = ds.chosen("facilities")
    plants = latest_rows(plants, ["facility", "material", "metric"]).reset_index(drop=True)
    node_cols = ["country", "stage", "material", "metric", "value", "unit", *PROVENANCE]
    nodes = pd.concat(
        [
            mine_nodes[node_cols].assign(facility=None),
            outputs[node_cols].assign(facility=None),
            plants[[*node_cols, "facility", "status"]],
        ],
        ignore_index=True,
    )

    links = ds.chosen("trade")
    links = links[links["importer"] == country]
    links = links.drop(columns=[c for c in HIDDEN if c in links.columns])

    # Each stage's shares come from its latest year alone, so shares of different years never mix.
    shares = ds.chosen("stage_shares").query("metric == 'share_of_output'")
    shares = shares[shares["year"] == shares.groupby("stage")["year"].transform("max")]
    share_table = shares.pivot_table(
        index="stage", columns="country", values="value", aggfunc="sum", fill_value=0.0
    )
    stage_share = xr.DataArray(
        share_table.to_numpy(),
        coords={
            dims.STAGE: share_table.index.to_numpy(),
            dims.COUNTRY: share_table.columns.to_numpy(),
        },
        dims=[dims.STAGE, dims.COUNTRY],
        attrs={"unit": "fraction"},
    )
    mine_production = xr.DataArray(
        mines["value"].to_numpy(dtype=float),
        coords={dims.COUNTRY: mines["country"].to_numpy()},
        dims=[dims.COUNTRY],
        attrs={"unit": "t_reo_per_year"},
    )
    inventories = ds.chosen("inventories")
    inventories = inventories[inventories["country"] == country]
    return Chain(
        country=country,
        data_version=ds.version,
        nodes=nodes,
        links=links.reset_index(drop=True),
        stage_share=stage_share,
        mine_production=mine_production,
        ore_shares=ore_element_shares(ds),
        magnet_content=magnet_element_content(ds),
        metal_fraction=metal_fraction_of_oxide(ds),
        demand=sector_demand(ds, country),
        inventories=inventories.reset_index(drop=True),
        process=ds.chosen("process_parameters").reset_index(drop=True),
    )
