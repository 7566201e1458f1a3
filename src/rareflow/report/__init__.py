"""The report: plotly figures of a run, and one self-contained HTML file that opens offline.

One module per kind of figure (:mod:`~rareflow.report.sankey`, :mod:`~rareflow.report.fan`,
:mod:`~rareflow.report.geo`) and of table (:mod:`~rareflow.report.tables`); :mod:`~.source`
gets the runs (from a scenario or the run store, with the baseline beside them),
:mod:`~.build` assembles figures and tables and writes the HTML, :mod:`~.export` writes the
figures as PNG or SVG. The dashboard (:mod:`rareflow.app`) reuses the same figure functions.
"""

from rareflow.report.build import Report, build_report, write_html
from rareflow.report.source import ReportRun, baseline_for, from_result, from_store

__all__ = [
    "Report",
    "ReportRun",
    "baseline_for",
    "build_report",
    "from_result",
    "from_store",
    "write_html",
]
