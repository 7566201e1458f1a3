"""An Excel workbook of a run: monthly paths, costs, inputs and the sources they come from.

Sheets: ``About`` (the run, its provenance and key messages), ``Monthly paths`` (by month and
sector: requirement, delivered and shortfall, median and 5th/95th percentiles over draws, t
magnet), ``Prices`` (price multiples by month and material), ``Headline`` and ``Sectors`` (the
report's tables), ``Lever costs`` (US$ and ₹ crore, by year), ``Scenario`` (the resolved
scenario, line by line) and ``Sources`` (the dataset's sources). Written with openpyxl; text
that a spreadsheet would run as a formula is written as text.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import xarray as xr
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from rareflow import dims, display
from rareflow.data.load import Dataset
from rareflow.report.build import Report, build_report
from rareflow.report.kinds import RecordInfo, kind_report
from rareflow.report.source import from_store
from rareflow.store import RunStore

FORMULA_START = ("=", "+", "-", "@")
MAX_WIDTH = 60


def monthly_paths(results: xr.Dataset) -> pd.DataFrame:
    """Return requirement, delivered and shortfall by month and sector (median, p5, p95)."""
    frames = []
    for var in ("requirement", "delivered", "shortfall"):
        if var not in results:
            continue
        q = results[var].quantile([0.05, 0.5, 0.95], dim=dims.DRAW)
        frame = q.to_dataframe(name="value").reset_index()
        wide = frame.pivot_table(
            index=[dims.TIME, dims.SECTOR], columns="quantile", values="value", sort=False
        ).reset_index()
        wide.columns = ["month", "sector", "p5", "median", "p95"]
        wide.insert(0, "variable", display.name(var))
        frames.append(wide)
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.to_datetime(out["month"]).dt.strftime("%Y-%m")
    out["sector"] = out["sector"].map(display.name)
    out["unit"] = "t magnet a month"
    return out


def price_paths(results: xr.Dataset) -> pd.DataFrame:
    """Return price multiples by month and material (median, p5, p95 over draws)."""
    q = results["price_multiple"].quantile([0.05, 0.5, 0.95], dim=dims.DRAW)
    frame = q.to_dataframe(name="value").reset_index()
    wide = frame.pivot_table(
        index=[dims.TIME, dims.MATERIAL], columns="quantile", values="value", sort=False
    ).reset_index()
    wide.columns = ["month", "material", "p5", "median", "p95"]
    wide["month"] = pd.to_datetime(wide["month"]).dt.strftime("%Y-%m")
    wide["material"] = wide["material"].map(display.name)
    wide["unit"] = "× pre-shock price"
    return wide


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, np.generic):
        return value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _sheet(book: Workbook, title: str, frame: pd.DataFrame, note: str = "") -> None:
    ws = book.create_sheet(title[:31])
    start = 1
    if note:
        ws.cell(row=1, column=1, value=_safe(note)).font = Font(italic=True)
        start = 3
    for j, col in enumerate(frame.columns, start=1):
        ws.cell(row=start, column=j, value=str(col)).font = Font(bold=True)
    for i, row in enumerate(frame.itertuples(index=False), start=start + 1):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=_safe(value))
    for j, col in enumerate(frame.columns, start=1):
        width = max([len(str(col)), *(len(str(v)) for v in frame[col].head(200))], default=8)
        ws.column_dimensions[get_column_letter(j)].width = min(width + 2, MAX_WIDTH)
    ws.freeze_panes = ws.cell(row=start + 1, column=1)


def workbook_bytes(report: Report, results: xr.Dataset, dataset: Dataset | None = None) -> bytes:
    """Return the run's workbook as .xlsx bytes.

    Parameters
    ----------
    report
        The run's report (its tables, notes, messages and provenance).
    results
        The run's results (for the monthly paths).
    dataset
        The dataset, for the ``Sources`` sheet (left out if None).
    """
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "About"
    about.append([report.title])
    about["A1"].font = Font(bold=True, size=14)
    about.append([])
    about.append(["Key findings"])
    for m in report.messages:
        about.append([_safe(m.text)])
    about.append([])
    for key, value in report.provenance.items():
        about.append([key, _safe(value)])
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    source = report.notes.get("fan_shortfall", "")
    if "shortfall" in results and dims.SECTOR in results["shortfall"].dims:
        _sheet(book, "Monthly paths", monthly_paths(results), source)
    if "price_multiple" in results:
        _sheet(book, "Prices", price_paths(results), report.notes.get("fan_prices", ""))
    for i, (heading, frame) in enumerate(report.tables.items()):
        title = ("Headline", "Sectors")[i] if i < 2 else f"Indicators {i - 1}"
        _sheet(book, title, display.frame(frame), heading)
    if report.lever_costs is not None:
        _sheet(book, "Lever costs", report.lever_costs, "US$ of 2025; ₹ crore at 2025's rate")
    lines = pd.DataFrame({"scenario as run": report.scenario_yaml.splitlines()})
    _sheet(book, "Scenario", lines)
    if dataset is not None:
        _sheet(book, "Sources", dataset.tables["sources"], "Every figure's source (sources.csv)")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def stored_run_workbook(store: RunStore, run_id: str, dataset: Dataset) -> bytes:
    """Return the workbook of a stored run of any kind (its report's tables and paths).

    A ``run`` gets the monthly paths, prices, headline and sector tables and lever costs; the
    other kinds get their own report's tables (:mod:`rareflow.report.kinds`). Both get the
    scenario and the sources.
    """
    info = store.get(run_id)
    if info.record.kind == "run":
        shock = from_store(store, run_id)
        report = build_report(shock, None, dataset)
        return workbook_bytes(report, shock.results, dataset)
    results = store.results(run_id)
    return workbook_bytes(kind_report(RecordInfo(run_id, info.record), results), results, dataset)
