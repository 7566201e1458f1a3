"""A focal country's chain as a readable view: what it makes, what it imports, and from whom.

For each stage and each key element (Nd, Pr, Dy, Tb, Sm) and for sintered NdFeB, the view gives
domestic production or capacity, imports by source country, China's share of world output and of
the country's imports, and the source of each figure. It backs ``rareflow chain``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rareflow import units
from rareflow.data.load import Dataset, load_dataset
from rareflow.data.query import import_shares, latest_rows
from rareflow.ids import KEY_ELEMENTS, SINTERED_NDFEB, Element, Stage
from rareflow.model.chain import Chain, build_chain
from rareflow.model.composition import material_elements

CHINA = "CHN"
VIEW_STAGES = (Stage.MINING, Stage.SEPARATION, Stage.METAL, Stage.ALLOY, Stage.MAGNET)
NDFEB_MATERIALS = frozenset({"alloy_ndfeb", SINTERED_NDFEB})


def _figure(row: pd.Series) -> dict[str, Any]:
    return {
        "value": float(row["value"]),
        "unit": row["unit"],
        "year": int(row["year"]),
        "source_id": row["source_id"],
    }


def _carries(dataset: Dataset, material: str, item: str) -> bool:
    if item == SINTERED_NDFEB:
        return material in NDFEB_MATERIALS
    return Element(item) in material_elements(dataset, material)


def _domestic(chain: Chain, dataset: Dataset, stage: Stage, item: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if stage is Stage.MINING:
        if item == SINTERED_NDFEB:
            return out
        # Only REO-basis figures can be split by element; gross tonnes of mineral cannot.
        reo = chain.nodes["unit"].map(lambda u: units.get(str(u)).basis == units.Basis.REO)
        mines = chain.nodes[
            (chain.nodes["country"] == chain.country)
            & (chain.nodes["stage"] == Stage.MINING.value)
            & reo
        ]
        if chain.country not in chain.ore_shares.coords["country"].to_numpy():
            for _, row in mines.iterrows():
                out.append(
                    {
                        **_figure(row),
                        "what": "all rare earths (no element split known)",
                        "metric": "output",
                    }
                )
            return out
        share = float(chain.ore_shares.sel(country=chain.country, element=item))
        mix = dataset.chosen("country_deposit_mix")
        mix_sources = sorted(set(mix[mix["country"] == chain.country]["source_id"]))
        deposit_sources = sorted(set(dataset.chosen("deposit_element_shares")["source_id"]))
        for _, row in mines.iterrows():
            fig = _figure(row)
            fig["value"] = fig["value"] * share
            fig["what"] = f"{item} content of mine output ({share:.1%} of REO)"
            fig["metric"] = "output"
            fig["source_id"] = "; ".join([row["source_id"], *mix_sources, *deposit_sources])
            out.append(fig)
        return out
    rows = chain.nodes[
        (chain.nodes["country"] == chain.country) & (chain.nodes["stage"] == stage.value)
    ]
    for _, row in rows.iterrows():
        if not _carries(dataset, str(row["material"]), item):
            continue
        fig = _figure(row)
        fig["what"] = str(row["material"]) + (
            f" at {row['facility']}" if isinstance(row.get("facility"), str) else ""
        )
        fig["metric"] = row["metric"] + (
            f" ({row['status']})" if isinstance(row.get("status"), str) else ""
        )
        out.append(fig)
    return out


def _partner_shares(links: pd.DataFrame) -> tuple[list[dict[str, Any]], str | None]:
    """Partner shares of one material's imports in its latest year, preferring quantity."""
    for metric, basis in (("share_of_quantity", "quantity"), ("share_of_value", "value")):
        rows = links[links["metric"] == metric]
        if not rows.empty:
            year = rows["year"].max()
            rows = rows[rows["year"] == year].sort_values("value", ascending=False)
            return (
                [
                    {
                        "partner": r["partner"],
                        "share": float(r["value"]),
                        "year": int(r["year"]),
                        "source_id": r["source_id"],
                    }
                    for _, r in rows.iterrows()
                ],
                basis,
            )
    for metric in ("quantity", "value"):
        rows = links[links["metric"] == metric]
        if not rows.empty:
            year = rows["year"].max()
            rows = rows[rows["year"] == year]
            total = float(rows["value"].sum())
            if total > 0 and len(set(rows["partner"])) > 1:
                return (
                    [
                        {
                            "partner": r["partner"],
                            "share": float(r["value"]) / total,
                            "year": int(r["year"]),
                            "source_id": r["source_id"],
                        }
                        for _, r in rows.sort_values("value", ascending=False).iterrows()
                    ],
                    metric,
                )
    return [], None


def _imports(chain: Chain, dataset: Dataset, stage: Stage, item: str) -> list[dict[str, Any]]:
    materials = dataset.table("materials").set_index("material")
    out = []
    for material, links in chain.links.groupby("material"):
        mat = str(material)
        if mat not in materials.index or materials.loc[mat, "stage"] != stage.value:
            continue
        aggregate = materials.loc[mat, "form"] == "aggregate"
        if not aggregate and not _carries(dataset, mat, item):
            continue
        if aggregate and item == SINTERED_NDFEB and stage is not Stage.MAGNET:
            continue
        partners, basis = _partner_shares(links)
        totals = links[(links["partner"] == "WLD") | links["metric"].isin(["quantity", "value"])]
        totals = latest_rows(totals, ["metric"])
        out.append(
            {
                "material": mat,
                "covers": "all rare earths in this trade class" if aggregate else item,
                "share_basis": basis,
                "partners": partners,
                "totals": [
                    {"metric": r["metric"], "partner": r["partner"], **_figure(r)}
                    for _, r in totals.iterrows()
                ],
            }
        )
    return out


def _china_world(dataset: Dataset, stage: Stage) -> dict[str, Any] | None:
    shares = dataset.chosen("stage_shares")
    rows = shares[
        (shares["stage"] == stage.value)
        & (shares["country"] == CHINA)
        & (shares["metric"] == "share_of_output")
    ]
    if rows.empty:
        return None
    return _figure(latest_rows(rows).iloc[0])


def chain_view(country: str = "IND", dataset: Dataset | None = None) -> dict[str, Any]:
    """Build the chain view of a focal country.

    Returns
    -------
    dict
        ``country``, ``data_version`` and ``entries``: one per stage and item, each with
        ``domestic`` figures, ``imports`` by material with partner shares, ``china_share_world`` and
        ``china_share_imports``, every figure with its ``source_id``, and ``engine_split``: the
        stage's partner split the engine uses (:func:`rareflow.data.query.import_shares`; None
        where the dataset has neither trade rows nor world shares).
    """
    ds = dataset if dataset is not None else load_dataset()
    chain = build_chain(country, ds)
    items = [*(e.value for e in KEY_ELEMENTS), SINTERED_NDFEB]
    entries = []
    for stage in VIEW_STAGES:
        world = _china_world(ds, stage)
        split = import_shares(ds, country, stage.value)
        engine_split = (
            {
                "basis": split.basis,
                "shares": dict(split.shares),
                "sources": list(split.sources),
                "note": split.note,
            }
            if split.shares
            else None
        )
        for item in items:
            if item == SINTERED_NDFEB and stage not in (Stage.ALLOY, Stage.MAGNET):
                continue
            imports = _imports(chain, ds, stage, item)
            china_imports = [
                {
                    "material": imp["material"],
                    "share": p["share"],
                    "year": p["year"],
                    "source_id": p["source_id"],
                }
                for imp in imports
                for p in imp["partners"]
                if p["partner"] == CHINA
            ]
            entries.append(
                {
                    "stage": stage.value,
                    "item": item,
                    "domestic": _domestic(chain, ds, stage, item),
                    "imports": imports,
                    "china_share_world": world,
                    "china_share_imports": china_imports,
                    "engine_split": engine_split,
                }
            )
    return {"country": country, "data_version": chain.data_version, "entries": entries}


def chain_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a chain view into one row per stage and item, for tables and CSV."""
    rows = []
    for e in view["entries"]:
        dom = e["domestic"]
        domestic = (
            "; ".join(f"{d['value']:,.4g} {d['unit']} {d['metric']} ({d['year']})" for d in dom)
            or "none reported"
        )
        imports = "; ".join(
            f"{imp['material']}: "
            + ", ".join(f"{p['partner']} {p['share']:.0%}" for p in imp["partners"])
            for imp in e["imports"]
            if imp["partners"]
        )
        split = e.get("engine_split")
        stand_in: list[str] = []
        if not imports and split is not None and split["basis"] == "world output":
            stand_in = split["sources"]
            top = sorted(split["shares"].items(), key=lambda kv: -kv[1])[:3]
            imports = "none reported; the engine uses world output: " + ", ".join(
                f"{p} {v:.0%}" for p, v in top
            )
        imports = imports or "none reported"
        world = e["china_share_world"]
        china_imp = e["china_share_imports"]
        sources = sorted(
            {s for d in dom for s in str(d["source_id"]).split("; ")}
            | {p["source_id"] for imp in e["imports"] for p in imp["partners"]}
            | ({world["source_id"]} if world else set())
            | set(stand_in)
        )
        rows.append(
            {
                "stage": e["stage"],
                "item": e["item"],
                "domestic": domestic,
                "imports_by_source": imports,
                "china_share_world": f"{world['value']:.0%} ({world['year']})" if world else "",
                "china_share_imports": ", ".join(
                    f"{c['share']:.0%} of {c['material']} ({c['year']})" for c in china_imp
                ),
                "sources": ", ".join(sources),
            }
        )
    return rows
