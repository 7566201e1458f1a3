"""Recycling in a run's results: share of magnet needs met, EoL-RIR, and the rates a target takes.

Two indicators, computed from the ``recycled``, ``requirement``, ``imports`` and
``local_supply`` variables of :func:`rareflow.engine.run.run` and their ``element_content``:

- **Recycled share** of magnet needs: rare-earth mass recovered (Nd, Pr, Dy, Tb), expressed as
  tonnes of sintered NdFeB at its typical composition, over the magnet requirement of all
  sectors (t magnet). For magnet-to-magnet recycling it is recycled magnets over required
  magnets; for hydrometallurgy the oxide's rare earths count as the magnets they could make.
  The EU Critical Raw Materials Act's recycling benchmark is 25% of consumption by 2030
  (policies.csv); the strategy article cites "a quarter of magnet requirements" within a decade.
- **End-of-life recycling input rate** (EoL-RIR) of each element: the element recovered from
  end-of-life (old) scrap over the element's total input to the country's production system:
  arrivals of every material plus domestic supply (mine feed and recycling), each converted to
  element mass. This is the definition of the European Commission's criticality assessments
  and Eurostat's indicator ``cei_srm010``: "how much of [a raw material's] input into the
  production system comes from the recycling of old scrap", excluding new (process) scrap
  (Eurostat, reference metadata of cei_srm010, 2022; Blengini et al., Methodology for
  establishing the EU list of critical raw materials, European Commission, 2017).

Yearly values are ratios of yearly sums (not means of monthly ratios). :func:`rates_for_target`
runs a scenario over a grid of collection and recovery rates and reports, for each, the first
month the recycled share reaches a target and the share in a given year.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from rareflow import dims
from rareflow.analysis.summary import spread
from rareflow.data.load import Dataset, records
from rareflow.engine.run import run, with_overrides
from rareflow.errors import InputError, ScenarioError
from rareflow.ids import MAGNET_ELEMENTS, SINTERED_NDFEB
from rareflow.scenario.schema import Scenario

"""The magnet whose rare-earth content converts recovered rare earths into magnet-equivalents."""
WINDOW = 12
"""Steps over which :func:`first_month_reaching` counts a share (a year of monthly steps)."""
NEEDED = ("recycled", "requirement", "imports", "local_supply", "element_content")


def _check(results: xr.Dataset) -> None:
    missing = [name for name in NEEDED if name not in results.variables]
    if missing:
        raise InputError(
            f"these results lack {', '.join(missing)}: they come from a rareflow version before "
            "recycling was recorded; rerun the scenario (`rareflow runs rerun ID`)"
        )


def _magnet_elements(results: xr.Dataset) -> list[str]:
    present = set(map(str, results[dims.ELEMENT].to_numpy()))
    return [e.value for e in MAGNET_ELEMENTS if e.value in present]


def _element_mass(results: xr.Dataset, name: str) -> xr.DataArray:
    """(draw, time, element) t of element metal in a per-material variable."""
    content = results["element_content"].sel({dims.ELEMENT: _magnet_elements(results)})
    return (results[name] * content).sum(dims.MATERIAL)


def _yearly(da: xr.DataArray) -> xr.DataArray:
    years = da[dims.TIME].dt.year.rename(dims.YEAR)
    return da.groupby(years).sum(dims.TIME)


def recycling_flows(results: xr.Dataset) -> xr.Dataset:
    """Numerators and denominators of the indicators, per draw and step.

    Returns
    -------
    xarray.Dataset
        ``recycled_magnet_eq`` and ``requirement`` (t magnet, draw x time), ``recycled_element``
        and ``input_element`` (t of element metal, draw x time x element).
    """
    _check(results)
    elements = _magnet_elements(results)
    per_magnet = float(
        results["element_content"]
        .sel({dims.MATERIAL: SINTERED_NDFEB, dims.ELEMENT: elements})
        .sum()
    )
    recycled = _element_mass(results, "recycled")
    inputs = _element_mass(results, "imports") + _element_mass(results, "local_supply")
    return xr.Dataset(
        {
            "recycled_magnet_eq": recycled.sum(dims.ELEMENT) / per_magnet,
            "requirement": results["requirement"].sum(dims.SECTOR),
            "recycled_element": recycled,
            "input_element": inputs,
        }
    )


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    return num / den.where(den > 0)


def recycling_indicators(results: xr.Dataset, *, yearly: bool = False) -> xr.Dataset:
    """Recycled share of magnet needs and EoL-RIR by element, per step or per year.

    Parameters
    ----------
    results
        A run's results.
    yearly
        Ratios of yearly sums over a ``year`` dim instead of ``time``.

    Returns
    -------
    xarray.Dataset
        ``recycled_share`` (draw x time or year) and ``eol_rir`` (draw x time or year x
        element), fractions (NaN where the denominator is 0); ``recycled_magnet_eq`` and
        ``requirement`` in t magnet.

    Raises
    ------
    rareflow.errors.InputError
        If the results predate the recording of recycling.
    """
    flows = recycling_flows(results)
    if yearly:
        flows = flows.map(_yearly)
    out = xr.Dataset(
        {
            "recycled_share": _ratio(flows["recycled_magnet_eq"], flows["requirement"]),
            "eol_rir": _ratio(flows["recycled_element"], flows["input_element"]),
            "recycled_magnet_eq": flows["recycled_magnet_eq"],
            "requirement": flows["requirement"],
        }
    )
    out["recycled_share"].attrs["unit"] = "fraction"
    out["eol_rir"].attrs["unit"] = "fraction"
    out["recycled_magnet_eq"].attrs["unit"] = "t_magnet"
    out["requirement"].attrs["unit"] = "t_magnet"
    return out


def first_month_reaching(results: xr.Dataset, target: float, window: int = WINDOW) -> str | None:
    """First month (YYYY-MM) the recycled share of the last ``window`` steps reaches ``target``.

    The share counts recycled magnet-equivalents and requirement over the trailing window (12
    monthly steps: a year's needs), so the yearly steps of end-of-life flows do not make
    January spikes; it is the median over draws that must reach the target.
    """
    flows = recycling_flows(results)
    rolled = flows[["recycled_magnet_eq", "requirement"]].rolling({dims.TIME: window}).sum()
    share = _ratio(rolled["recycled_magnet_eq"], rolled["requirement"])
    median = share.median(dims.DRAW, skipna=True).to_numpy()
    hit = np.flatnonzero(np.nan_to_num(median, nan=-1.0) >= target)
    if not hit.size:
        return None
    return str(np.datetime_as_string(share[dims.TIME].to_numpy()[hit[0]], unit="M"))


def yearly_rows(results: xr.Dataset) -> list[dict[str, Any]]:
    """One row per year: recycled magnet-equivalents, requirement, share and EoL-RIR by element.

    Each figure is the median with the 5th-95th percentiles over draws (``median``, ``p5``,
    ``p95``).
    """
    ind = recycling_indicators(results, yearly=True)
    rows = []
    for year in map(int, ind[dims.YEAR].to_numpy()):
        at = ind.sel({dims.YEAR: year})
        row: dict[str, Any] = {
            "year": year,
            "recycled_t": spread(at["recycled_magnet_eq"].to_numpy()),
            "requirement_t": spread(at["requirement"].to_numpy()),
            "recycled_share": spread(at["recycled_share"].to_numpy()),
        }
        for element in map(str, ind[dims.ELEMENT].to_numpy()):
            row[f"eol_rir_{element}"] = spread(
                at["eol_rir"].sel({dims.ELEMENT: element}).to_numpy()
            )
        rows.append(row)
    return rows


@dataclass(frozen=True)
class TargetPoint:
    """One point of a grid of recycling rates and what it achieves.

    Parameters
    ----------
    collection
        Collection rate of every sector (None: as the scenario's levers set it, by default each
        sector's rates in recycling.csv).
    preprocessing
        Pre-processing yield of every sector (None: as the scenario's levers set it).
    recovery
        Recovery of every lever (None: as the scenario's levers set it, by default each route's
        row of recycling.csv).
    first_month
        First month the median recycled share reaches the target (None: not in the horizon).
    share_in_year
        Median (5th-95th percentile) recycled share over the target year.
    """

    collection: float | None
    preprocessing: float | None
    recovery: float | None
    first_month: str | None
    share_in_year: dict[str, float | None]

    def as_row(self) -> dict[str, Any]:
        """Return the point as a flat row."""
        return {
            "collection": "scenario" if self.collection is None else self.collection,
            "preprocessing": "scenario" if self.preprocessing is None else self.preprocessing,
            "recovery": "scenario" if self.recovery is None else self.recovery,
            "first_month": self.first_month,
            "share_in_year": self.share_in_year,
        }


def _with_rates(
    scenario: Scenario,
    collection: float | None,
    preprocessing: float | None,
    recovery: float | None,
) -> Scenario:
    data = scenario.model_dump(mode="json", by_alias=True)
    for lever in data["levers"]:
        if lever.get("type") == "recycling":
            for name, value in (
                ("collection_rate", collection),
                ("preprocessing_yield", preprocessing),
                ("recovery", recovery),
            ):
                if value is not None:
                    lever[name] = value
    return Scenario.model_validate(data)


def rates_for_target(
    scenario: Scenario,
    target: float,
    year: int,
    collections: Sequence[float | None],
    recoveries: Sequence[float | None],
    *,
    preprocessing: Sequence[float | None] = (None,),
    dataset: Dataset | None = None,
    draws: int = 20,
    progress: Callable[[int, int], None] | None = None,
) -> list[TargetPoint]:
    """Run a scenario's recycling at each collection x recovery (x pre-processing) rate.

    Each point sets the rates on every recycling lever of the scenario (None keeps the lever's
    own setting, which defaults to the dataset's), runs it with ``draws`` draws and the
    scenario's seed, and finds the first month the median recycled share of the trailing year
    reaches ``target`` (:func:`first_month_reaching`) and the share over ``year``. A point with
    collection, pre-processing and recovery all 1 is the ceiling: every magnet leaving use,
    recovered.

    Raises
    ------
    rareflow.errors.ScenarioError
        If the scenario has no recycling lever or its horizon ends before ``year``.
    rareflow.errors.InputError
        If the target is not a share in (0, 1].
    """
    if not 0 < target <= 1:
        raise InputError(f"--recycling-target must be a share in (0, 1], got {target:g}")
    if not any(getattr(lever, "type", "") == "recycling" for lever in scenario.levers):
        raise ScenarioError(f"scenario '{scenario.name}' has no recycling lever to vary")
    start = np.datetime64(scenario.start.strftime("%Y-%m"), "M")
    last = start + np.timedelta64(scenario.horizon_months - 1, "M")
    if last < np.datetime64(f"{year}-12", "M"):
        raise ScenarioError(
            f"scenario '{scenario.name}' ends {last}, before the end of {year}: extend "
            "horizon_months"
        )
    grid = [(c, p, r) for p in preprocessing for c in collections for r in recoveries]
    points = []
    for i, (c, p, r) in enumerate(grid):
        variant = with_overrides(_with_rates(scenario, c, p, r), draws=draws)
        results = run(variant, dataset=dataset, keep_partners=False).results
        yearly = recycling_indicators(results, yearly=True)["recycled_share"]
        window = max(12 // scenario.step_months, 1)
        points.append(
            TargetPoint(
                c,
                p,
                r,
                first_month_reaching(results, target, window),
                spread(yearly.sel({dims.YEAR: year}).to_numpy()),
            )
        )
        if progress is not None:
            progress(i + 1, len(grid))
    return points


def secondary_resources(dataset: Dataset, country: str) -> list[dict[str, Any]]:
    """Secondary sources of rare earths in a country (secondary_resources.csv), latest figures.

    For fly ash and red mud, also the rare earths they contain each year and what the recorded
    recovery would return (``generated x ree_content`` and ``x recovery``, element mass of all
    rare earths, mostly La, Ce and Y: the sources give no share of magnet rare earths, and no
    cost of recovery was found).

    Returns
    -------
    list of dict
        One row per resource and metric: ``resource``, ``metric``, ``value``, ``low``,
        ``high``, ``unit``, ``year``, ``source_id``, ``basis`` (``cited``, ``derived`` or
        ``assumption``).
    """
    table = dataset.chosen("secondary_resources")
    table = table[table["country"] == country]
    kinds = dataset.table("sources").set_index("source_id")["kind"]
    rows: list[dict[str, Any]] = []
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records(table.sort_values("year")):
        latest[(str(r["resource"]), str(r["metric"]))] = r
    for (resource, metric), r in latest.items():
        source = str(r["source_id"])
        rows.append(
            {
                "resource": resource,
                "metric": metric,
                "value": float(r["value"]),
                "low": None if not np.isfinite(r["low"]) else float(r["low"]),
                "high": None if not np.isfinite(r["high"]) else float(r["high"]),
                "unit": str(r["unit"]),
                "year": int(r["year"]),
                "source_id": source,
                "basis": "derived"
                if source == "rareflow-derived"
                else ("assumption" if kinds.get(source) == "assumption" else "cited"),
            }
        )
    for resource in ("fly_ash", "red_mud"):
        generated = latest.get((resource, "generated"))
        content = latest.get((resource, "ree_content"))
        if generated is None or content is None or generated["unit"] != "t_per_year":
            continue
        contained = float(generated["value"]) * float(content["value"])
        derived = [("contained_ree", contained)]
        recovery = latest.get((resource, "recovery"))
        if recovery is not None:
            derived.append(("recoverable_ree", contained * float(recovery["value"])))
        rows.extend(
            {
                "resource": resource,
                "metric": metric,
                "value": value,
                "low": None,
                "high": None,
                "unit": "t_metal_per_year",
                "year": int(generated["year"]),
                "source_id": "rareflow-derived",
                "basis": "derived",
            }
            for metric, value in derived
        )
    order = {name: i for i, name in enumerate(("e_waste", "fly_ash", "red_mud"))}
    return sorted(rows, key=lambda r: (order.get(r["resource"], len(order)), r["metric"]))


def indicator_rows(results: xr.Dataset) -> list[dict[str, Any]]:
    """Rows in the layout of :func:`rareflow.indicators.run_view.summarise`, for a run's recycling.

    ``recycled_share`` (material ``magnets``) and ``eol_rir`` (material: each element) with
    ``mean`` the ratio of the horizon's sums (median over draws) and ``first_month``,
    ``last_month``, ``min_month``, ``max_month`` taken from the monthly median over draws. No rows
    when nothing is recycled.
    """
    flows = recycling_flows(results)
    if not float(flows["recycled_magnet_eq"].sum()) > 0:
        return []
    monthly = recycling_indicators(results)
    total = flows.sum(dims.TIME)
    series = {
        ("magnets", "recycled_share"): (
            monthly["recycled_share"],
            _ratio(total["recycled_magnet_eq"], total["requirement"]),
        )
    }
    for element in map(str, monthly[dims.ELEMENT].to_numpy()):
        pick = {dims.ELEMENT: element}
        series[(element, "eol_rir")] = (
            monthly["eol_rir"].sel(pick),
            _ratio(total["recycled_element"].sel(pick), total["input_element"].sel(pick)),
        )
    rows = []
    for (material, name), (over_time, whole) in series.items():
        median = over_time.median(dims.DRAW, skipna=True)
        rows.append(
            {
                "material": material,
                "indicator": name,
                "mean": float(whole.median(skipna=True)),
                "first_month": float(median.isel({dims.TIME: 0})),
                "last_month": float(median.isel({dims.TIME: -1})),
                "min_month": float(median.min(skipna=True)),
                "max_month": float(median.max(skipna=True)),
            }
        )
    return rows
