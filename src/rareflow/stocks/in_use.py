"""A country's magnets in use: historic inflows by sector, stocks and end-of-life outflows.

One source of truth for what entered use and when, shared by :func:`in_use_stocks` (stocks today,
with uncertainty) and the recycling lever (:func:`end_of_life`, what leaves use each year).

Inflows into use
----------------
For each sector of the country and each year since :data:`FIRST_YEAR`, in tonnes of magnet:

``inflow(y) = activity(y) x intensity x share of units using the magnet x (1 - share exported)``

- ``activity``: the sector's chosen rows of ``sector_activity.csv`` (production, else sales, else
  installations, as :mod:`rareflow.model.demand`); between cited years log-linear interpolation;
  after the last cited year the sector's growth (``demand_growth.csv``, latest row, as the
  engine); before the earliest cited year a back-cast (``in_use_history.csv``): either an
  assumed growth rate, or a growth calibrated so that cumulative activity matches a cited
  cumulative figure (installed wind capacity).
- ``intensity`` and ``share of units``: ``intensities.csv`` (the engine's figures, held constant
  over time: an assumption, since no history of magnet content per product was found).
- ``share exported``: ``in_use_history.csv``; products made for export leave the country's stock.

Stocks and outflows
-------------------
Each sector's inflows age with its lifetime distribution (``lifetimes.csv``) in the cohort model
of :func:`rareflow.stocks.inflow_driven` [1]_. Element stocks are magnet stocks times the element
content of each magnet (``magnet_composition.csv``), as Du and Graedel [2]_ split magnet stocks
into Nd, Pr, Dy and Tb.

Uncertainty
-----------
Each number with a published or assumed range (``low``, ``high``) is drawn per draw from a
triangular distribution over that range with the chosen value as its mode: intensities, shares of
units, activity rows, back-cast growth rates, lifetime parameters and element contents (a
composition's ``low``/``high`` rows). Numbers without a range are fixed. The draws come from the
scenario sampler (:class:`rareflow.scenario.sampling.Sampler`, passed in as an
:class:`Uncertain`), so stock inputs take part in random, Latin-hypercube and Sobol designs and in
sensitivity analysis like every scenario number; each has its own stream named
``stocks.TABLE:KEY`` (e.g. ``stocks.intensities:ev_car:magnet_ndfeb_sintered:intensity``), so
draw *d* does not depend on how many draws run.

References
----------
.. [1] D. B. Müller, "Stock dynamics for forecasting material flows—Case study for housing in
   The Netherlands", Ecol. Econ. 59(1):142-156, 2006.
.. [2] X. Du and T. E. Graedel, "Global Rare Earth In-Use Stocks in NdFeB Permanent Magnets",
   J. Ind. Ecol. 15(6):836-843, 2011 (from 1983, the first year of NdFeB magnets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import scipy.optimize
import xarray as xr

from rareflow import dims
from rareflow.cache import BoundedCache
from rareflow.data.load import LINE, ORIGIN, Dataset, records
from rareflow.data.query import (
    activity_rows,
    growth_rows,
    latest_row,
    magnet_intensities,
    matching,
)
from rareflow.errors import DataError, InputError, Problem
from rareflow.ids import MAGNET_ELEMENTS
from rareflow.stocks.dynamic import inflow_driven
from rareflow.stocks.lifetimes import (
    FixedLifetime,
    FloatArray,
    LognormalLifetime,
    NormalLifetime,
    WeibullLifetime,
)

FIRST_YEAR = 1983
"""First year of every inflow series: sintered NdFeB magnets reached the market in 1983-84 (Du
and Graedel 2011 count magnet stocks from 1983), so nothing entered use before."""
LAST_YEAR = 2100
"""Latest year a stock can be asked for (growth beyond the cited years is a projection)."""
CUMULATIVE_UNIT = {"mw_per_year": "mw", "units_per_year": "count"}
"""Unit a cumulative activity figure must have, by the sector's activity unit."""

Basis = Literal["cited", "derived", "assumption"]
LifetimeModel = NormalLifetime | WeibullLifetime | LognormalLifetime | FixedLifetime
LIFETIME_PARAMETERS: dict[str, dict[str, str]] = {
    "normal": {"mean": "mean", "sd": "std"},
    "lognormal": {"mean": "mean", "sd": "std"},
    "weibull": {"scale": "scale", "shape": "shape"},
    "fixed": {"mean": "lifetime"},
}
"""lifetimes.csv parameter -> model parameter, by distribution."""
_LIFETIME_CLASSES: dict[str, Callable[..., LifetimeModel]] = {
    "normal": NormalLifetime,
    "lognormal": LognormalLifetime,
    "weibull": WeibullLifetime,
    "fixed": FixedLifetime,
}


@dataclass(frozen=True)
class InputUse:
    """One input of the in-use model and where it comes from.

    Parameters
    ----------
    input
        What the figure is (activity, intensity, lifetime mean, back-cast, ...).
    sector
        The sector it applies to, or ``all``.
    table
        Dataset table (or ``model`` for a rule of this module).
    source_id
        Source of the rows used (sources.csv), or ``rareflow-derived`` for a rule.
    basis
        ``cited``, ``derived`` (arithmetic on cited figures) or ``assumption``.
    detail
        Years covered, the value used, or the rule applied.
    """

    input: str
    sector: str
    table: str
    source_id: str
    basis: Basis
    detail: str

    def as_row(self) -> dict[str, str]:
        """Return the input as a flat row."""
        return {
            "input": self.input,
            "sector": self.sector,
            "table": self.table,
            "source_id": self.source_id,
            "basis": self.basis,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Inflows:
    """Magnets entering use each year, with their sources.

    Parameters
    ----------
    inflow
        t magnet per year over ``year``, ``sector``, ``material`` and, with draws, ``draw``.
    sources
        Every input used.
    """

    inflow: xr.DataArray
    sources: tuple[InputUse, ...]


@dataclass(frozen=True)
class InUseStocks:
    """Magnets and rare earths in use in a country at the end of a year.

    Parameters
    ----------
    stocks
        ``magnet_stock`` (t magnet, sector x draw), ``element_stock`` (t of element metal,
        sector x element x draw), ``inflow`` and ``outflow`` (t magnet in the year, sector x
        draw); attributes ``country`` and ``year``.
    sources
        Every input used (:class:`InputUse`).
    """

    stocks: xr.Dataset
    sources: tuple[InputUse, ...]


class Uncertain(Protocol):
    """Where the stock model's uncertain numbers are drawn (the scenario sampler).

    :class:`rareflow.scenario.sampling.Sampler` is one: the stocks layer sits below the scenario
    layer, so it names only what it needs.
    """

    @property
    def draws(self) -> np.ndarray:
        """Global indices of the draws wanted."""
        ...  # pragma: no cover - a protocol

    def triangular(self, path: str, low: float, mode: float, high: float) -> FloatArray:
        """Return (D,) draws of a number triangular over [low, high] with its mode."""
        ...  # pragma: no cover - a protocol


class _Draws:
    """Triangular draws over published ranges through a sampler, or central values without."""

    def __init__(self, sampler: Uncertain | None) -> None:
        self.sampler = sampler

    @property
    def n(self) -> int:
        """Length of the draw axis of every array (1 when not sampling)."""
        return 1 if self.sampler is None else len(self.sampler.draws)

    def number(self, key: str, value: float, low: float | None, high: float | None) -> FloatArray:
        """Return (n,) draws of a number: triangular over [low, high], mode ``value``."""
        lo = value if low is None else low
        hi = value if high is None else high
        if self.sampler is None or hi <= lo:
            return np.full(self.n, value)
        drawn = self.sampler.triangular(f"stocks.{key}", lo, value, hi)
        return np.asarray(np.broadcast_to(drawn, (self.n,)), dtype=np.float64)

    def row(self, key: str, row: dict[str, object]) -> FloatArray:
        """Return (n,) draws of a dataset row's value over its own low-high range."""
        return self.number(
            key, _number(row["value"]), _optional(row["low"]), _optional(row["high"])
        )


def _number(value: object) -> float:
    return float(str(value))


def _optional(value: object) -> float | None:
    """Return a range bound, or None where the cell is empty (NaN)."""
    number = float(str(value)) if value is not None else float("nan")
    return number if np.isfinite(number) else None


_SOURCE_KINDS: BoundedCache[str, dict[str, str]] = BoundedCache(8)
"""Kind of each source id, by dataset version (looking up sources.csv row by row is slow)."""
_END_OF_LIFE: BoundedCache[tuple[str, str, int], xr.DataArray] = BoundedCache(64)
"""End-of-life flows by (dataset version, country, last year): every compile of a recycling
lever asks for them, and they depend on nothing else."""


def _basis(dataset: Dataset, source_id: str) -> Basis:
    if source_id == "rareflow-derived":
        return "derived"

    def make() -> dict[str, str]:
        table = dataset.table("sources")
        return dict(zip(table["source_id"].astype(str), table["kind"].astype(str), strict=True))

    kinds = _SOURCE_KINDS.get(dataset.version, make)
    return "assumption" if kinds.get(source_id) == "assumption" else "cited"


def _problem(row: dict[str, object], column: str, message: str) -> DataError:
    return DataError([Problem(message, str(row[ORIGIN]), int(str(row[LINE])), column)])


def _years_text(years: Iterable[int]) -> str:
    """Years as compact runs: 1983-2016, 2018."""
    ys = sorted(set(years))
    runs: list[tuple[int, int]] = []
    for y in ys:
        if runs and runs[-1][1] == y - 1:
            runs[-1] = (runs[-1][0], y)
        else:
            runs.append((y, y))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def check_country(dataset: Dataset, country: str) -> None:
    """Raise an InputError unless ``country`` is in the dataset and has sector activity."""
    known = set(map(str, dataset.table("countries")["country"]))
    if country not in known:
        raise InputError(
            f"unknown country '{country}': expected an ISO 3166-1 alpha-3 code of countries.csv "
            f"({', '.join(sorted(known))})"
        )
    activity = dataset.chosen("sector_activity")
    if activity[activity["country"] == country].empty:
        with_data = sorted(set(map(str, activity["country"])))
        raise InputError(
            f"the dataset has no sector activity for {country} (sector_activity.csv), so its "
            f"magnets in use cannot be estimated; countries with activity data: "
            f"{', '.join(with_data)} (add your own rows: README, 'Your own data')"
        )


def _activity_unit(dataset: Dataset, sector: str) -> str:
    return str(dataset.table("sectors").set_index("sector").loc[sector, "activity_unit"])


def _activity_rows(dataset: Dataset, country: str, sector: str) -> dict[int, dict[str, object]]:
    """Return the chosen activity row of each year (preferred metric), checked for its unit."""
    unit = _activity_unit(dataset, sector)
    every = matching(dataset, "sector_activity", country=country, sector=sector)
    for r in records(every):
        if r["unit"] != unit:
            raise _problem(
                r, "unit", f"unit mismatch: {sector} activity is counted in {unit}; got {r['unit']}"
            )
    return {int(str(r["year"])): r for r in records(activity_rows(dataset, country, sector))}


def _interpolate(years: np.ndarray, cited: dict[int, FloatArray]) -> FloatArray:
    """(Y, n) activity at ``years`` between cited years: log-linear, linear where one is 0."""
    known = sorted(cited)
    out = np.empty((len(years), next(iter(cited.values())).shape[0]))
    for i, y in enumerate(years.tolist()):
        if y in cited:
            out[i] = cited[y]
            continue
        lo = max(k for k in known if k < y)
        hi = min(k for k in known if k > y)
        w = (y - lo) / (hi - lo)
        a, b = cited[lo], cited[hi]
        positive = (a > 0) & (b > 0)
        log_mix = np.where(positive, a, 1.0) ** (1 - w) * np.where(positive, b, 1.0) ** w
        out[i] = np.where(positive, log_mix, a + w * (b - a))
    return out


def _calibrated_growth(
    first_value: FloatArray, years_back: int, missing: FloatArray, row: dict[str, object]
) -> FloatArray:
    """(n,) growth ``g`` with ``first_value * sum_{k=1..years_back} (1+g)^-k == missing``."""
    k = np.arange(1, years_back + 1, dtype=np.float64)
    out = np.empty_like(first_value)
    for d, (a0, target) in enumerate(zip(first_value.tolist(), missing.tolist(), strict=True)):
        if not target > 0:
            raise _problem(
                row,
                "value",
                f"cumulative activity {_number(row['value']):g} by {row['year']} is not above "
                "the activity cited (and interpolated) from the earliest cited year to then, so "
                "it cannot calibrate a back-cast",
            )

        def gap(g: float, a0: float = a0, target: float = target) -> float:
            return float(a0 * np.sum((1.0 + g) ** -k) - target)

        if gap(-0.5) * gap(10.0) > 0:
            raise _problem(
                row,
                "value",
                "no back-cast growth between -50% and +1000% a year reproduces the cumulative "
                f"activity {_number(row['value']):g} by {row['year']}",
            )
        out[d] = scipy.optimize.brentq(gap, -0.5, 10.0, xtol=1e-12)
    return out


def _backcast_growth(
    dataset: Dataset,
    country: str,
    sector: str,
    years: np.ndarray,
    series: FloatArray,
    first: int,
    draw: _Draws,
) -> tuple[FloatArray, InputUse]:
    """(n,) growth before the earliest cited year: assumed, or calibrated to a cumulative figure."""
    table = dataset.chosen("in_use_history")
    mine = table[(table["country"] == country) & (table["sector"] == sector)].sort_values("year")
    backcast_rows = records(mine[mine["parameter"] == "backcast_growth"])
    anchor_rows = records(mine[mine["parameter"] == "cumulative_activity"])
    what = "activity before the earliest cited year"
    if backcast_rows and anchor_rows:
        raise _problem(
            anchor_rows[-1],
            "parameter",
            f"{country} {sector} has both a backcast_growth and a cumulative_activity row; give "
            "one (a cumulative figure calibrates the growth)",
        )
    if anchor_rows:
        row = anchor_rows[-1]
        activity_unit = _activity_unit(dataset, sector)
        wanted = CUMULATIVE_UNIT[activity_unit]
        if row["unit"] != wanted:
            raise _problem(
                row,
                "unit",
                f"unit mismatch: the cumulative activity of {sector} (counted in {activity_unit}) "
                f"must be in {wanted}; got {row['unit']}",
            )
        year = int(str(row["year"]))
        if not first <= year <= int(years[-1]):
            raise _problem(
                row,
                "year",
                f"a cumulative figure must date from between the earliest cited activity ({first}) "
                f"and the last year modelled ({int(years[-1])})",
            )
        missing = _number(row["value"]) - series[(years >= first) & (years <= year)].sum(axis=0)
        growth = _calibrated_growth(series[years == first][0], first - int(years[0]), missing, row)
        source = str(row["source_id"])
        detail = (
            f"{int(years[0])}-{first - 1} back-cast at {float(np.median(growth)):.3g} a year, "
            f"calibrated to a cumulative {_number(row['value']):,.6g} {row['unit']} by {year}"
        )
        return growth, InputUse(
            what, sector, "in_use_history", source, _basis(dataset, source), detail
        )
    if not backcast_rows:
        raise DataError(
            [
                Problem(
                    f"no backcast_growth or cumulative_activity row for {country} {sector}: the "
                    f"in-use model needs one to extend the sector's activity before {first}",
                    "in_use_history.csv",
                )
            ]
        )
    row = backcast_rows[-1]
    growth = draw.row(f"in_use_history:{country}:{sector}:backcast_growth", row)
    source = str(row["source_id"])
    detail = f"{int(years[0])}-{first - 1} back-cast at {_number(row['value']):.3g} a year"
    if _optional(row["low"]) is not None:
        detail += f" ({_number(row['low']):.3g}-{_number(row['high']):.3g})"
    return growth, InputUse(what, sector, "in_use_history", source, _basis(dataset, source), detail)


def _activity(
    dataset: Dataset, country: str, sector: str, years: np.ndarray, draw: _Draws
) -> tuple[FloatArray, list[InputUse]]:
    """(Y, n) activity of a sector over ``years``, and the inputs it rests on."""
    rows = _activity_rows(dataset, country, sector)
    cited: dict[int, FloatArray] = {}
    by_source: dict[str, list[int]] = {}
    for year, r in rows.items():
        cited[year] = draw.row(f"sector_activity:{country}:{sector}:{r['metric']}:{year}", r)
        by_source.setdefault(str(r["source_id"]), []).append(year)
    sources = [
        InputUse("activity", sector, "sector_activity", s, _basis(dataset, s), _years_text(ys))
        for s, ys in by_source.items()
    ]
    first, last = min(cited), max(cited)
    out = np.zeros((len(years), draw.n))
    inside = (years >= first) & (years <= last)
    out[inside] = _interpolate(years[inside], cited)
    gaps = [y for y in years[inside].tolist() if y not in cited]
    if gaps:
        sources.append(
            InputUse(
                "activity between cited years",
                sector,
                "model",
                "rareflow-derived",
                "derived",
                f"log-linear interpolation, {_years_text(gaps)}",
            )
        )
    after = years > last
    if after.any():
        growth = growth_rows(dataset, country, [sector]).get(sector)
        g = 0.0 if growth is None else _number(growth["value"])
        out[after] = cited[last][None, :] * (1.0 + g) ** (years[after] - last)[:, None]
        source = "rareflow-assumption" if growth is None else str(growth["source_id"])
        sources.append(
            InputUse(
                "activity after the last cited year",
                sector,
                "demand_growth",
                source,
                _basis(dataset, source),
                f"{_years_text(years[after].tolist())} at {g:.4g} a year"
                + (" (no demand_growth row: held constant)" if growth is None else ""),
            )
        )
    before = years < first
    if before.any():
        back, use = _backcast_growth(dataset, country, sector, years, out, first, draw)
        steps = (years[before] - first).astype(np.float64)
        out[before] = cited[first][None, :] * (1.0 + back[None, :]) ** steps[:, None]
        sources.append(use)
    return out, sources


def _intensity(
    dataset: Dataset, sector: str, draw: _Draws
) -> tuple[dict[str, FloatArray], list[InputUse]]:
    """(n,) t of each magnet per unit of activity (intensity x share of units), and sources.

    The intensities are the engine's (:func:`rareflow.data.query.magnet_intensities`).
    """
    out: dict[str, FloatArray] = {}
    sources: list[InputUse] = []
    for one in magnet_intensities(dataset, sector):
        material, r = one.material, one.intensity
        value = draw.row(f"intensities:{sector}:{material}:intensity", r) * one.to_tonnes
        sources.append(_row_use("intensity", sector, "intensities", r, dataset))
        if one.share is not None:
            value = value * draw.row(f"intensities:{sector}:{material}:share_of_units", one.share)
            sources.append(_row_use("share of units", sector, "intensities", one.share, dataset))
        out[material] = value
    return out, sources


def _range_text(low: float | None, high: float | None) -> str:
    """Return `` (low-high)`` for a range with a bound, else an empty string."""
    if low is None and high is None:
        return ""
    return f" ({'' if low is None else f'{low:.4g}'}-{'' if high is None else f'{high:.4g}'})"


def _row_use(what: str, sector: str, table: str, row: dict[str, object], ds: Dataset) -> InputUse:
    """Describe an input that is one dataset row: its value and range."""
    source = str(row["source_id"])
    detail = f"{_number(row['value']):.4g} {row['unit']}"
    detail += _range_text(_optional(row["low"]), _optional(row["high"]))
    return InputUse(what, sector, table, source, _basis(ds, source), detail)


def magnet_inflows(
    dataset: Dataset, country: str, last_year: int, *, sampler: Uncertain | None = None
) -> Inflows:
    """Magnets entering use in a country each year from :data:`FIRST_YEAR` to ``last_year``.

    Parameters
    ----------
    dataset
        The dataset.
    country
        ISO alpha-3 code with sector activity in the dataset.
    last_year
        Last year of the series.
    sampler
        Draws of the uncertain inputs (:class:`Uncertain`); None for central values (no
        ``draw`` dim).

    Returns
    -------
    Inflows
        t magnet per year over ``year``, ``sector`` (those with activity), ``material``.

    Raises
    ------
    rareflow.errors.InputError
        For an unknown country or one without activity data.
    rareflow.errors.DataError
        For a unit mismatch or a missing or impossible back-cast row, naming the row.
    """
    check_country(dataset, country)
    if not FIRST_YEAR <= last_year <= LAST_YEAR:
        raise InputError(f"year {last_year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    draw = _Draws(sampler)
    activity = dataset.chosen("sector_activity")
    history = dataset.chosen("in_use_history")
    # The series runs at least to the last cited year, so a back-cast can be calibrated to a
    # cumulative figure later than the year asked for; it is cut to ``last_year`` at the end.
    cited_until = max(
        FIRST_YEAR,
        *activity[activity["country"] == country]["year"].astype(int),
        *history[history["country"] == country]["year"].astype(int),
    )
    years = np.arange(FIRST_YEAR, max(last_year, cited_until) + 1)
    present = set(map(str, activity[activity["country"] == country]["sector"]))
    order = list(map(str, dataset.table("sectors")["sector"]))
    sectors = [s for s in order if s in present]
    per_sector: dict[str, dict[str, FloatArray]] = {}
    sources: list[InputUse] = []
    for sector in sectors:
        series, used = _activity(dataset, country, sector, years, draw)
        intensity, used_intensity = _intensity(dataset, sector, draw)
        kept = np.ones(draw.n)
        exported = latest_row(
            dataset, "in_use_history", country=country, sector=sector, parameter="share_exported"
        )
        if exported is not None:
            kept = 1.0 - draw.row(f"in_use_history:{country}:{sector}:share_exported", exported)
            used_intensity.append(
                _row_use("share exported", sector, "in_use_history", exported, dataset)
            )
        per_sector[sector] = {m: series * (v * kept)[None, :] for m, v in intensity.items()}
        sources.extend([*used, *used_intensity])
    materials = sorted({m for values in per_sector.values() for m in values})
    data = np.zeros((len(years), len(sectors), len(materials), draw.n))
    for s, sector in enumerate(sectors):
        for material, values in per_sector[sector].items():
            data[:, s, materials.index(material)] = values
    coords = {dims.YEAR: years, dims.SECTOR: sectors, dims.MATERIAL: materials}
    inflow = xr.DataArray(
        data, coords={**coords, dims.DRAW: np.arange(draw.n)}, dims=[*coords, dims.DRAW]
    )
    inflow = inflow.sel({dims.YEAR: slice(FIRST_YEAR, last_year)})
    if sampler is None:
        inflow = inflow.isel({dims.DRAW: 0}, drop=True)
    inflow.attrs["unit"] = "t_magnet_per_year"
    return Inflows(inflow, tuple(sources))


def sector_lifetimes(
    dataset: Dataset, sectors: list[str], *, sampler: Uncertain | None = None
) -> tuple[list[tuple[LifetimeModel, list[str]]], tuple[InputUse, ...]]:
    """Each sector's lifetime distribution (lifetimes.csv), grouped by distribution family.

    Parameters are drawn through ``sampler`` (central values without one).

    Returns
    -------
    tuple
        ``[(lifetime, sectors)]``, one lifetime per distribution family with parameters over
        ``sector`` (and ``draw`` with draws), and the inputs used.

    Raises
    ------
    rareflow.errors.DataError
        If a sector has no chosen lifetime, several distributions, or misses a parameter.
    """
    draw = _Draws(sampler)
    table = dataset.chosen("lifetimes")
    families: dict[str, dict[str, dict[str, FloatArray]]] = {}
    sources: list[InputUse] = []
    for sector in sectors:
        rows = records(table[table["sector"] == sector])
        kinds = sorted({str(r["distribution"]) for r in rows})
        if len(kinds) != 1:
            problem = "has no chosen lifetime" if not kinds else f"has several ({', '.join(kinds)})"
            raise DataError([Problem(f"sector {sector} {problem}", "lifetimes.csv")])
        kind = kinds[0]
        names = LIFETIME_PARAMETERS[kind]
        given = {str(r["parameter"]): r for r in rows}
        missing = sorted(set(names) - set(given))
        if missing:
            raise DataError(
                [
                    Problem(
                        f"{kind} lifetime of {sector} lacks {', '.join(missing)}", "lifetimes.csv"
                    )
                ]
            )
        families.setdefault(kind, {})[sector] = {
            names[p]: draw.row(f"lifetimes:{sector}:{kind}:{p}", given[p]) for p in names
        }
        sources.extend(
            _row_use(f"lifetime {p}", sector, "lifetimes", given[p], dataset) for p in names
        )
    groups: list[tuple[LifetimeModel, list[str]]] = []
    for kind, by_sector in families.items():
        members = list(by_sector)
        params = {
            name: xr.DataArray(
                np.stack([by_sector[s][name] for s in members]),
                coords={dims.SECTOR: members, dims.DRAW: np.arange(draw.n)},
                dims=[dims.SECTOR, dims.DRAW],
            )
            for name in next(iter(by_sector.values()))
        }
        if sampler is None:
            params = {k: v.isel({dims.DRAW: 0}, drop=True) for k, v in params.items()}
        groups.append((_LIFETIME_CLASSES[kind](**params), members))
    return groups, tuple(sources)


def _flows(inflow: xr.DataArray, groups: list[tuple[LifetimeModel, list[str]]]) -> xr.Dataset:
    """Stocks and outflows of every sector, each family of lifetimes run on its own sectors."""
    parts = [
        inflow_driven(inflow.sel({dims.SECTOR: members}), lifetime)[["stock", "outflow"]]
        for lifetime, members in groups
    ]
    merged = xr.concat(parts, dims.SECTOR) if len(parts) > 1 else parts[0]
    return merged.sel({dims.SECTOR: inflow[dims.SECTOR].to_numpy()}).transpose(*inflow.dims)


def end_of_life(
    dataset: Dataset, country: str, last_year: int, *, sampler: Uncertain | None = None
) -> xr.DataArray:
    """Magnets leaving use each year, by sector.

    The flows the recycling lever collects: :func:`magnet_inflows` aged by
    :func:`sector_lifetimes`, summed over magnet materials. Without a sampler, central values
    (no ``draw`` dim), computed once per dataset version, country and year (a copy is
    returned). With one, every uncertain input (activity, intensities, share exported, lifetime
    parameters) is drawn through it on the same paths as :func:`in_use_stocks`, so the flows
    take part in ensembles, LHS and Sobol designs like any other number of a scenario.

    Returns
    -------
    xarray.DataArray
        t magnet per year over ``year`` (from :data:`FIRST_YEAR`) and ``sector`` (and ``draw``
        with a sampler).
    """

    def make() -> xr.DataArray:
        inflows = magnet_inflows(dataset, country, last_year, sampler=sampler)
        sectors = list(inflows.inflow[dims.SECTOR].to_numpy())
        groups, _ = sector_lifetimes(dataset, sectors, sampler=sampler)
        out = _flows(inflows.inflow, groups)["outflow"].sum(dims.MATERIAL)
        out.attrs["unit"] = "t_magnet_per_year"
        return out

    if sampler is not None:
        return make()
    return _END_OF_LIFE.get((dataset.version, country, last_year), make).copy()


def _element_content(
    dataset: Dataset, materials: list[str], draw: _Draws
) -> tuple[xr.DataArray, list[InputUse]]:
    """(material, element, draw) t of element metal per t of magnet, drawn over low-high rows."""
    comp = dataset.chosen("magnet_composition")
    elements = [e.value for e in MAGNET_ELEMENTS]
    out = np.zeros((len(materials), len(elements), draw.n))
    sources: list[InputUse] = []
    for i, material in enumerate(materials):
        for j, element in enumerate(elements):
            rows = {
                str(r["metric"]): r
                for r in records(
                    comp[(comp["material"] == material) & (comp["component"] == element)]
                )
            }
            if "typical" not in rows:
                continue
            typical = rows["typical"]
            low = _number(rows["low"]["value"]) if "low" in rows else None
            high = _number(rows["high"]["value"]) if "high" in rows else None
            key = f"magnet_composition:{material}:{element}"
            out[i, j] = draw.number(key, _number(typical["value"]), low, high)
            source = str(typical["source_id"])
            detail = f"{_number(typical['value']):.4g} {typical['unit']}" + _range_text(low, high)
            sources.append(
                InputUse(
                    f"{element} content of {material}",
                    "all",
                    "magnet_composition",
                    source,
                    _basis(dataset, source),
                    detail + (" (low/high rows)" if low is not None or high is not None else ""),
                )
            )
    content = xr.DataArray(
        out,
        coords={dims.MATERIAL: materials, dims.ELEMENT: elements, dims.DRAW: np.arange(draw.n)},
        dims=[dims.MATERIAL, dims.ELEMENT, dims.DRAW],
    )
    return content, sources


def in_use_stocks(dataset: Dataset, country: str, year: int, sampler: Uncertain) -> InUseStocks:
    """Magnets and their Nd, Pr, Dy and Tb in use in a country at the end of ``year``.

    Parameters
    ----------
    dataset
        The dataset.
    country
        ISO alpha-3 code with sector activity in the dataset.
    year
        Year whose end-of-year stock is wanted.
    sampler
        Draws of the uncertain inputs, e.g. ``Sampler(seed, "lhs", n, np.arange(n))``
        (:class:`rareflow.scenario.sampling.Sampler`); at least one draw.

    Returns
    -------
    InUseStocks
        Stocks over ``sector`` x ``element`` x ``draw`` and every input used.

    Raises
    ------
    rareflow.errors.InputError
        For an unknown country, one without activity data, a year out of range or no draws.
    rareflow.errors.DataError
        For inconsistent dataset rows (named).
    """
    if len(sampler.draws) < 1:
        raise InputError("draws must be at least 1, got 0")
    draw = _Draws(sampler)
    inflows = magnet_inflows(dataset, country, year, sampler=sampler)
    sectors = list(map(str, inflows.inflow[dims.SECTOR].to_numpy()))
    groups, lifetime_sources = sector_lifetimes(dataset, sectors, sampler=sampler)
    flows = _flows(inflows.inflow, groups).sel({dims.YEAR: year})
    materials = list(map(str, inflows.inflow[dims.MATERIAL].to_numpy()))
    content, content_sources = _element_content(dataset, materials, draw)
    in_year = inflows.inflow.sel({dims.YEAR: year})
    stocks = xr.Dataset(
        {
            "magnet_stock": flows["stock"].sum(dims.MATERIAL),
            "element_stock": (flows["stock"] * content)
            .sum(dims.MATERIAL)
            .transpose(dims.SECTOR, dims.ELEMENT, dims.DRAW),
            "inflow": in_year.sum(dims.MATERIAL),
            "outflow": flows["outflow"].sum(dims.MATERIAL),
        },
        attrs={"country": country, "year": year},
    )
    units = {
        "magnet_stock": "t_magnet",
        "element_stock": "t_metal",
        "inflow": "t_magnet_per_year",
        "outflow": "t_magnet_per_year",
    }
    for name, unit in units.items():
        stocks[name].attrs["unit"] = unit
    stocks = stocks.drop_vars(dims.YEAR, errors="ignore")
    return InUseStocks(stocks, (*inflows.sources, *lifetime_sources, *content_sources))


def summary_rows(stocks: xr.Dataset) -> list[dict[str, object]]:
    """Median and 5th-95th percentiles over draws of each sector's stocks (and the total).

    Returns
    -------
    list of dict
        One row per sector and ``total``: ``sector``, then for ``magnet`` and each element a
        mapping ``{median, p5, p95}`` (t magnet, t of element metal).
    """
    total = stocks.sum(dims.SECTOR).expand_dims({dims.SECTOR: ["total"]})
    both = xr.concat([stocks, total], dims.SECTOR)
    q = both.quantile([0.05, 0.5, 0.95], dim=dims.DRAW)
    rows: list[dict[str, object]] = []
    for sector in map(str, both[dims.SECTOR].to_numpy()):
        row: dict[str, object] = {"sector": sector}
        parts = {"magnet": q["magnet_stock"].sel({dims.SECTOR: sector})}
        for element in map(str, both[dims.ELEMENT].to_numpy()):
            parts[element] = q["element_stock"].sel({dims.SECTOR: sector, dims.ELEMENT: element})
        for name, values in parts.items():
            p5, p50, p95 = (float(v) for v in values.to_numpy())
            row[name] = {"median": p50, "p5": p5, "p95": p95}
        rows.append(row)
    return rows
