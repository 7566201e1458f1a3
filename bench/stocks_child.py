"""One side of ``stocks.py``'s memory comparison, alone in its own process.

``python stocks_child.py SIDE INPUTS.npz MODE`` imports only what ``SIDE`` (``rareflow`` or
``flodym``) needs, reads the inputs ``stocks.py`` saved, computes the model once and prints the
process's peak resident memory in KiB: the whole process, interpreter and imports included, as a
user's script would have it. On Linux it is ``VmHWM`` of ``/proc/self/status``, the peak of this
program's own memory: ``ru_maxrss`` would also count the parent's resident memory at the fork
(Linux carries it over the ``exec``).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np


def rareflow_side(saved: dict[str, np.ndarray], mode: str) -> None:
    """The rareflow model on the saved inputs."""
    import xarray as xr  # noqa: PLC0415 - this side's imports only, in its own process

    from rareflow.stocks import (  # noqa: PLC0415 - this side's imports only
        NormalLifetime,
        inflow_driven,
        stock_driven,
    )

    def array(name: str) -> xr.DataArray:
        dims = [str(d) for d in saved[f"{name}_dims"]]
        coords = {
            d: saved["years"] if d == "year" else np.arange(n)
            for d, n in zip(dims, saved[name].shape, strict=True)
        }
        return xr.DataArray(saved[name], dims=dims, coords=coords)

    mean = array("mean")
    lifetime = NormalLifetime(mean=mean, std=0.3 * mean)
    if mode == "inflow":
        inflow_driven(array("inflow"), lifetime, convention="flodym")
    else:
        stock_driven(array("stock"), lifetime, convention="flodym")


def flodym_side(saved: dict[str, np.ndarray], mode: str) -> None:
    """The flodym model on the saved inputs (already in its layout)."""
    import flodym as fd  # noqa: PLC0415 - this side's imports only, in its own process

    letters = {"year": "t", "country": "r", "sector": "s", "draw": "d"}
    names = [str(d) for d in saved["flodym_dims"]]
    given = saved["given"]
    dims = fd.DimensionSet(
        dim_list=[
            fd.Dimension(
                name=name,
                letter=letters[name],
                items=[int(i) for i in (saved["years"] if name == "year" else range(size))],
            )
            for name, size in zip(names, given.shape, strict=True)
        ]
    )
    mean = saved["flodym_mean"]
    lifetime = fd.NormalLifetime(dims=dims, mean=mean, std=0.3 * mean)
    if mode == "inflow":
        fd.InflowDrivenDSM(
            dims=dims, lifetime_model=lifetime, inflow=fd.StockArray(dims=dims, values=given)
        ).compute()
    else:
        fd.StockDrivenDSM(
            dims=dims, lifetime_model=lifetime, stock=fd.StockArray(dims=dims, values=given)
        ).compute()


def main() -> None:
    side, path, mode = sys.argv[1:4]
    with np.load(Path(path)) as data:
        saved = {k: data[k] for k in data.files}
    (rareflow_side if side == "rareflow" else flodym_side)(saved, mode)
    print(peak_kib())


def peak_kib() -> int:
    """Peak resident memory of this program, in KiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
