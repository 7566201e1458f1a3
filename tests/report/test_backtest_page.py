"""The backtest page's charts: honest axes, one legend entry each, no raw optimizer message."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.analysis.backtest import episode_2010, episode_2025
from rareflow.analysis.backtest.result import BacktestResult
from rareflow.data.load import Dataset
from rareflow.report.backtest import backtest_figure, plain_note, render_backtest_html


@pytest.fixture(scope="module")
def backtest_2010(dataset: Dataset) -> BacktestResult:
    return episode_2010.backtest(dataset, draws=20)


@pytest.fixture(scope="module")
def backtest_2025(dataset: Dataset) -> BacktestResult:
    return episode_2025.backtest(dataset, draws=60)


def _legend_names(fig: Any) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False and t.name]


def test_2010_yearly_exports_are_drawn_per_month(backtest_2010: BacktestResult) -> None:
    fig = backtest_figure(backtest_2010)
    exports = backtest_2010.series[backtest_2010.series["series"] == "china_exports"]
    drawn = [t for t in fig.data if t.name and t.name.endswith("total ÷ months")]
    assert len(drawn) == len(exports)
    for trace, (_, row) in zip(drawn, exports.iterrows(), strict=True):
        # A year's total, on a per-month axis, is its monthly average (12x below the total).
        assert trace.y[0] == pytest.approx(row["observed"] / 12)
    model = backtest_2010.monthly[backtest_2010.monthly["subject"] == "China's exports"]
    assert float(model["central"].max()) < float(exports["observed"].max()) / 6


def test_legends_band_edges_labels_and_log_ticks(
    backtest_2010: BacktestResult, backtest_2025: BacktestResult
) -> None:
    for result in (backtest_2010, backtest_2025):
        fig = backtest_figure(result)
        names = _legend_names(fig)
        assert len(names) == len(set(names)), names
        assert all(t.mode in ("lines", "markers") for t in fig.data)  # no stray dots on bands
        axes = [fig.layout[k] for k in fig.layout if k.startswith("yaxis")]
        assert all(a.title.text for a in axes)
        for axis in axes:
            if axis.type == "log":
                assert axis.tickvals is not None
                assert all(
                    np.log10(v) % 1 in (0.0,) or str(int(v))[0] in "125" for v in axis.tickvals
                )
    assert "model (fitted)" in _legend_names(backtest_figure(backtest_2010))
    names_2025 = _legend_names(backtest_figure(backtest_2025))
    assert "model (out of sample: not fitted)" in names_2025
    assert not any("fit)" in n for n in names_2025)


def test_no_raw_optimizer_message(backtest_2010: BacktestResult) -> None:
    assert "termination condition" not in render_backtest_html(backtest_2010)
    assert plain_note("x, `ftol` termination condition is satisfied.; y") == (
        "x, the fit converged (ftol tolerance reached); y"
    )
