"""Benchmark rareflow's dynamic stock model against flodym 1.1.0 on the same inputs.

Series are regions × sectors (10 × 6 = 60 and 100 × 6 = 600), normal lifetimes by sector, over
T = 100 and 300 years, in the inflow-driven and stock-driven modes, with rareflow's
``convention="flodym"`` so that the results must agree.

Time: wall clock of the compute only. For flodym, ``dsm.compute()`` (which builds the survival
and leaving-probability tables and the cohort arrays) on a model whose dimensions and input
arrays are already built; for rareflow, the whole ``inflow_driven``/``stock_driven`` call
(input checks, computation, xarray results, mass-balance check) on a ready DataArray. Best of
``--repeats`` runs (default 7, to filter out load from other jobs; fewer once the runs of one
case have taken 30 s). The runs (each on a freshly built flodym model) follow each other with
the garbage collector off while timed, as ``timeit`` does: the steady state of a loop over
scenarios or draws. ``--cold`` instead times each run right after a full ``gc.collect()``
(the earlier protocol): that walk over the ~140 000 live objects of the process evicts the
CPU caches, which costs rareflow's sub-millisecond calls about 0.5 ms of cache refills and
flodym's 20 ms-1 s computations nothing measurable.

Memory: peak of traced allocations during that compute, by :mod:`tracemalloc`, which NumPy
reports its array buffers to; so it counts every array either side allocates, inputs excluded.
BLAS work buffers are not traced (small next to flodym's ``T × T × series`` arrays).

``--per-series-lifetimes`` gives every series its own lifetime (rareflow's worst case: one
Toeplitz matrix pair per series instead of one per sector). ``--draws N`` adds an ensemble of
N lifetimes per sector (a ``DRAW`` dim on the lifetime only; rareflow broadcasts the inflow,
flodym gets it broadcast), for the 60-series cases only (flodym would need ~35 GiB at
T = 300 × 600 × 20); the series column then counts region × sector × draw.

BLAS runs on one thread (the script re-executes itself with ``OPENBLAS_NUM_THREADS=1``).

Run: ``.venv/bin/python bench/stocks.py`` (add ``--per-series-lifetimes`` for the worst case,
``--cold`` for cold caches).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable

import flodym as fd
import numpy as np
import xarray as xr

from rareflow.dims import COUNTRY, DRAW, SECTOR, YEAR
from rareflow.stocks import NormalLifetime, inflow_driven, stock_driven

N_SECTORS = 6
MIB = 2**20


def _inputs(
    n_years: int, n_series: int, per_series: bool, draws: int
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Inflows over (year, region, sector); mean lifetimes by sector, by series, or by draw."""
    rng = np.random.default_rng(42)
    n_regions = n_series // N_SECTORS
    years = np.arange(2100 - n_years, 2100)
    growth = np.exp(0.03 * np.arange(n_years))[:, None, None]
    inflow = growth * rng.uniform(0.5, 1.5, size=(n_years, n_regions, N_SECTORS))
    coords = {YEAR: years, COUNTRY: np.arange(n_regions), SECTOR: np.arange(N_SECTORS)}
    da_inflow = xr.DataArray(inflow, dims=[YEAR, COUNTRY, SECTOR], coords=coords)
    series = {COUNTRY: coords[COUNTRY], SECTOR: coords[SECTOR]}
    sectors = {SECTOR: coords[SECTOR]}
    mean = xr.DataArray(np.linspace(4.0, 25.0, N_SECTORS), dims=[SECTOR], coords=sectors)
    if per_series:
        factor = rng.uniform(0.8, 1.2, size=(n_regions, N_SECTORS))
        mean = mean * xr.DataArray(factor, dims=[COUNTRY, SECTOR], coords=series)
    if draws:
        # An ensemble of uncertain lifetimes: every draw × sector has its own mean.
        factor = rng.uniform(0.8, 1.2, size=(N_SECTORS, draws))
        draw_coords = {SECTOR: coords[SECTOR], DRAW: np.arange(draws)}
        mean = mean * xr.DataArray(factor, dims=[SECTOR, DRAW], coords=draw_coords)
    return da_inflow, mean, 0.3 * mean


def _flodym_dims(template: xr.DataArray) -> fd.DimensionSet:
    letters = {YEAR: "t", COUNTRY: "r", SECTOR: "s", DRAW: "d"}
    return fd.DimensionSet(
        dim_list=[
            fd.Dimension(name=str(d), letter=letters[str(d)], items=[int(i) for i in template[d]])
            for d in template.dims
        ]
    )


def _measure(
    build: Callable[[], object], compute: Callable[[object], object], repeats: int, cold: bool
) -> tuple[float, float, object]:
    """Best time of ``compute(build())`` over the compute alone, and its traced peak memory.

    The runs follow each other, each timed with the garbage collector off (as ``timeit``);
    with ``cold``, each is timed right after a full collection instead. Neither library leaves
    reference cycles, so memory is freed between runs either way. Stops repeating once the
    runs have taken 30 s. The peak is of one more run, traced from just before ``compute``
    (what ``build`` allocated is not counted).
    """
    best = float("inf")
    spent = 0.0
    gc.collect()
    for _ in range(repeats):
        model = build()
        if cold:
            gc.collect()
        else:
            gc.disable()
        start = time.perf_counter()
        compute(model)
        elapsed = time.perf_counter() - start
        gc.enable()
        best = min(best, elapsed)
        spent += elapsed
        del model
        if spent > 30.0:
            break
    model = build()
    gc.collect()
    tracemalloc.start()
    result = compute(model)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / MIB, result


def _case(
    n_years: int, n_series: int, mode: str, per_series: bool, draws: int, repeats: int, cold: bool
) -> str:
    inflow, mean, std = _inputs(n_years, n_series, per_series, draws)
    lifetime = NormalLifetime(mean=mean, std=std)
    order = [YEAR, COUNTRY, SECTOR] + ([DRAW] if draws else [])
    stock = inflow_driven(inflow, lifetime, convention="flodym").stock.transpose(*order)
    dims = _flodym_dims(stock)
    model_class = fd.InflowDrivenDSM if mode == "inflow" else fd.StockDrivenDSM
    known = {"inflow": inflow} if mode == "inflow" else {"stock": stock}
    name, given = next(iter(known.items()))
    given_values = given.broadcast_like(stock).transpose(*order).values.copy()
    shape = (1, *stock.shape[1:])
    mean_values = np.broadcast_to(mean.broadcast_like(stock).transpose(*order).values[:1], shape)

    def flodym_build() -> object:
        lifetime_model = fd.NormalLifetime(
            dims=dims, mean=np.array(mean_values), std=0.3 * np.array(mean_values)
        )
        array = fd.StockArray(dims=dims, values=given_values.copy())
        return model_class(dims=dims, lifetime_model=lifetime_model, **{name: array})

    def flodym_compute(dsm: object) -> object:
        assert isinstance(dsm, fd.DynamicStockModel)
        dsm.compute()
        return dsm

    def rareflow_compute(_: object) -> object:
        if mode == "inflow":
            return inflow_driven(inflow, lifetime, convention="flodym")
        return stock_driven(stock, lifetime, convention="flodym")

    r_s, r_mib, ours = _measure(lambda: None, rareflow_compute, repeats, cold)
    f_s, f_mib, theirs = _measure(flodym_build, flodym_compute, repeats, cold)
    assert isinstance(ours, xr.Dataset)
    assert isinstance(theirs, fd.DynamicStockModel)
    diff = 0.0
    for variable in ("stock", "outflow", "inflow"):
        a = ours[variable].transpose(*order).values
        b = getattr(theirs, variable).values
        diff = max(diff, float(np.abs(a - b).max() / np.abs(b).max()))
    series = n_series * max(draws, 1)
    return (
        f"| {n_years:>4} | {series:>6} | {mode:<6} | {r_s:>10.5f} | {f_s:>8.4f} | "
        f"{f_s / r_s:>7.0f}x | {r_mib:>12.2f} | {f_mib:>10.1f} | {f_mib / r_mib:>8.0f}x | "
        f"{diff:>12.1e} |"
    )


def main() -> None:
    # One BLAS thread for both libraries: the machine has 2 cores and is shared, and threaded
    # BLAS on small matrices then mostly measures contention. Must be set before BLAS loads.
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--per-series-lifetimes", action="store_true")
    parser.add_argument(
        "--draws", type=int, default=0, help="an ensemble of lifetimes by draw × sector"
    )
    parser.add_argument(
        "--cold", action="store_true", help="time each run right after a full gc.collect()"
    )
    parser.add_argument(
        "--quick", action="store_true", help="T = 100 and 60 series only (make bench-quick)"
    )
    args = parser.parse_args()
    # Warm both libraries (imports, scipy, BLAS threads) before any timing.
    _case(10, 6, "inflow", args.per_series_lifetimes, args.draws, 1, args.cold)
    _case(10, 6, "stock", args.per_series_lifetimes, args.draws, 1, args.cold)
    print(
        "|    T | series | mode   | rareflow s | flodym s | speed-up | rareflow MiB | "
        "flodym MiB | mem ratio (flodym/rareflow) | max rel diff |"
    )
    print("|" + "---|" * 10)
    # With draws, flodym's T × T × series arrays outgrow the machine beyond 60 series.
    for n_years in (100,) if args.quick else (100, 300):
        for n_series in (60,) if args.draws or args.quick else (60, 600):
            for mode in ("inflow", "stock"):
                line = _case(
                    n_years,
                    n_series,
                    mode,
                    args.per_series_lifetimes,
                    args.draws,
                    args.repeats,
                    args.cold,
                )
                print(line, flush=True)


if __name__ == "__main__":
    main()
