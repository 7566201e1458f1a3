"""Benchmark rareflow's dynamic stock model against flodym 1.1.0 on the same inputs.

Series are regions × sectors (10 × 6 = 60 and 100 × 6 = 600), normal lifetimes by sector, over
T = 100 and 300 years, in the inflow-driven and stock-driven modes, with rareflow's
``convention="flodym"`` so that the results must agree.

Time: wall clock of the compute only, the two sides alternating in this process. For flodym,
``dsm.compute()`` (which builds the survival and leaving-probability tables and the cohort
arrays) on a model whose dimensions and input arrays are already built; for rareflow, the whole
``inflow_driven``/``stock_driven`` call (input checks, computation, xarray results, mass-balance
check) on a ready DataArray. Each side runs once cold (its first run in the case), then
``--repeats`` warm rounds (default 3), the order swapped every round, each run timed with the
garbage collector off (as ``timeit``); ``--cold`` instead times each run right after a full
``gc.collect()``, whose walk over the process's objects evicts the CPU caches. Printed: the cold
run, min, median and max of the warm runs, and the speed-up of the medians with the range of
the per-round ratios.

Memory: the whole process's peak resident memory (``ru_maxrss``), interpreter and imports
included, of each side alone in a fresh process (``stocks_child.py``, which imports only that
side's library) computing the case once on the same inputs; the two sides' processes alternate,
``--repeats`` rounds, and the medians are printed. ``--no-memory`` leaves this out.

``--per-series-lifetimes`` gives every series its own lifetime (rareflow's worst case: one
Toeplitz matrix pair per series instead of one per sector). ``--draws N`` adds an ensemble of
N lifetimes per sector (a ``DRAW`` dim on the lifetime only; rareflow broadcasts the inflow,
flodym gets it broadcast), for the 60-series cases only (flodym would need ~35 GiB at
T = 300 × 600 × 20); the series column then counts region × sector × draw.

BLAS runs on one thread (the script re-executes itself with ``OPENBLAS_NUM_THREADS=1``). The
load average (the machine is shared) is printed at the start and the end.

Run: ``.venv/bin/python bench/stocks.py`` (add ``--per-series-lifetimes`` for the worst case,
``--cold`` for cold caches).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import flodym as fd
import numpy as np
import xarray as xr

from paired import Timing
from rareflow.dims import COUNTRY, DRAW, SECTOR, YEAR
from rareflow.stocks import NormalLifetime, inflow_driven, stock_driven

N_SECTORS = 6


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


def _paired(
    sides: dict[str, tuple[Callable[[], object], Callable[[object], object]]],
    repeats: int,
    cold: bool,
) -> dict[str, Timing]:
    """Time ``compute(build())`` of each side, the compute alone: cold once, then alternating.

    Each side's first run is its cold one; then ``repeats`` rounds, the order swapped every
    round. Each run is timed with the garbage collector off (or, with ``cold``, right after a
    full collection). Neither library leaves reference cycles, so memory is freed between runs.
    """
    out = {label: Timing() for label in sides}

    def once(label: str) -> float:
        build, compute = sides[label]
        model = build()
        if cold:
            gc.collect()
        else:
            gc.disable()
        start = time.perf_counter()
        compute(model)
        elapsed = time.perf_counter() - start
        gc.enable()
        del model
        return elapsed

    gc.collect()
    for label in sides:
        out[label].cold = once(label)
    order = list(sides)
    for round_ in range(repeats):
        for label in order if round_ % 2 == 0 else order[::-1]:
            out[label].warm.append(once(label))
    return out


def _process_peaks(saved: dict[str, np.ndarray], mode: str, repeats: int) -> dict[str, float]:
    """Median whole-process peak (MiB) of each side alone in a fresh process, alternating."""
    peaks: dict[str, list[float]] = {"rareflow": [], "flodym": []}
    child = Path(__file__).with_name("stocks_child.py")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inputs.npz"
        np.savez(path, **saved)
        order = list(peaks)
        for round_ in range(max(repeats, 1)):
            for side in order if round_ % 2 == 0 else order[::-1]:
                out = subprocess.run(
                    [sys.executable, str(child), side, str(path), mode],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                peaks[side].append(int(out.stdout.split()[-1]) / 1024)
    return {side: statistics.median(values) for side, values in peaks.items()}


def _case(
    n_years: int,
    n_series: int,
    mode: str,
    per_series: bool,
    draws: int,
    repeats: int,
    cold: bool,
    memory: bool,
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

    times = _paired(
        {"rareflow": (lambda: None, rareflow_compute), "flodym": (flodym_build, flodym_compute)},
        repeats,
        cold,
    )
    ours, theirs = rareflow_compute(None), flodym_compute(flodym_build())
    assert isinstance(ours, xr.Dataset)
    assert isinstance(theirs, fd.DynamicStockModel)
    diff = 0.0
    for variable in ("stock", "outflow", "inflow"):
        a = ours[variable].transpose(*order).values
        b = getattr(theirs, variable).values
        diff = max(diff, float(np.abs(a - b).max() / np.abs(b).max()))
    r, f = times["rareflow"], times["flodym"]
    rounds = [b / a for a, b in zip(r.warm, f.warm, strict=True)]
    mem = "| - | - | - |"
    if memory:
        saved = {
            "years": inflow[YEAR].values,
            "inflow": inflow.values,
            "inflow_dims": np.array([str(d) for d in inflow.dims]),
            "stock": stock.values,
            "stock_dims": np.array([str(d) for d in stock.dims]),
            "mean": mean.values,
            "mean_dims": np.array([str(d) for d in mean.dims]),
            "given": given_values,
            "flodym_mean": np.array(mean_values),
            "flodym_dims": np.array([str(d) for d in order]),
        }
        peaks = _process_peaks(saved, mode, repeats)
        ratio = peaks["flodym"] / peaks["rareflow"]
        mem = f"| {peaks['rareflow']:>8,.0f} | {peaks['flodym']:>8,.0f} | {ratio:>6.1f}x |"
    series = n_series * max(draws, 1)
    return (
        f"| {n_years:>4} | {series:>6} | {mode:<6} | {r.cold:.4f} | {min(r.warm):.4f} | "
        f"{r.median:.4f} | {max(r.warm):.4f} | {f.cold:.3f} | {min(f.warm):.3f} | "
        f"{f.median:.3f} | {max(f.warm):.3f} | {f.median / r.median:>5.0f}x "
        f"({min(rounds):.0f}-{max(rounds):.0f}x) {mem} {diff:>8.1e} |"
    )


def main() -> None:
    # One BLAS thread for both libraries: the machine has 2 cores and is shared, and threaded
    # BLAS on small matrices then mostly measures contention. Must be set before BLAS loads.
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
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
    parser.add_argument("--only", help="one case, T,SERIES (e.g. 300,600)")
    parser.add_argument(
        "--no-memory", action="store_true", help="leave out the whole-process memory runs"
    )
    args = parser.parse_args()
    memory = not args.no_memory
    start_load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    # Warm both libraries (imports, scipy, BLAS threads) before any timing.
    _case(10, 6, "inflow", args.per_series_lifetimes, args.draws, 1, args.cold, memory=False)
    _case(10, 6, "stock", args.per_series_lifetimes, args.draws, 1, args.cold, memory=False)
    print(
        f"{args.repeats} warm rounds, alternating; lifetimes "
        f"{'per series' if args.per_series_lifetimes else 'per sector'}"
        f"{f', {args.draws} draws' if args.draws else ''}; load average {start_load} at start"
    )
    print(
        "|    T | series | mode   | rareflow s cold | min | median | max | flodym s cold | min | "
        "median | max | speed-up (rounds) | rareflow peak MiB | flodym peak MiB | "
        "mem ratio (flodym/rareflow) | max rel diff |"
    )
    print("|" + "---|" * 16)
    # With draws, flodym's T × T × series arrays outgrow the machine beyond 60 series.
    cases = [
        (n_years, n_series)
        for n_years in ((100,) if args.quick else (100, 300))
        for n_series in ((60,) if args.draws or args.quick else (60, 600))
    ]
    if args.only:
        n_years, n_series = (int(v) for v in args.only.split(","))
        cases = [(n_years, n_series)]
    for n_years, n_series in cases:
        for mode in ("inflow", "stock"):
            line = _case(
                n_years,
                n_series,
                mode,
                args.per_series_lifetimes,
                args.draws,
                args.repeats,
                args.cold,
                # --quick measures memory once, so that the path runs in make bench-quick.
                memory and not (args.quick and mode == "stock"),
            )
            print(line, flush=True)
    print("load average {:.2f} {:.2f} {:.2f} at end".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
