"""Golden figures of the recycling-quarter-2035 preset and of India's in-use stocks.

The figures in ``data/recycling_quarter_2035.json`` were read from a run; regenerate them after an
intended change of data or model with

    .venv/bin/python tests/analysis/test_recycling_preset.py --regenerate

and review the difference (``git diff tests/analysis/data``) before committing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rareflow.analysis.recycling import first_month_reaching, recycling_indicators
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.scenario.sampling import Sampler
from rareflow.stocks.in_use import in_use_stocks

GOLDEN = Path(__file__).parent / "data" / "recycling_quarter_2035.json"
RTOL = 1e-6
DRAWS = 40
STOCK_DRAWS = 200


def draws(n: int, seed: int) -> Sampler:
    """The scenario sampler over ``n`` random draws (the stocks model draws through it)."""
    return Sampler(seed, "random", n, np.arange(n))


def compute() -> dict[str, Any]:
    """The figures the golden file holds, from a fresh run."""
    dataset = load_dataset()
    scenario = with_overrides(load_scenario("recycling-quarter-2035"), draws=DRAWS)
    results = run(scenario, dataset=dataset, keep_partners=False).results
    yearly = recycling_indicators(results, yearly=True).median("draw")
    stocks = in_use_stocks(dataset, "IND", 2025, draws(STOCK_DRAWS, 0)).stocks
    total = stocks.sum("sector").median("draw")
    return {
        "command": "run recycling-quarter-2035 with 40 draws (seed 1); stocks IND 2025, 200 draws",
        "recycled_share_2030": float(yearly["recycled_share"].sel(year=2030)),
        "recycled_share_2035": float(yearly["recycled_share"].sel(year=2035)),
        "recycled_t_2035": float(yearly["recycled_magnet_eq"].sel(year=2035)),
        "requirement_t_2035": float(yearly["requirement"].sel(year=2035)),
        "eol_rir_nd_2035": float(yearly["eol_rir"].sel(year=2035, element="Nd")),
        "first_month_5pct": first_month_reaching(results, 0.05),
        "first_month_25pct": first_month_reaching(results, 0.25),
        "stock_2025_magnet_t": float(total["magnet_stock"]),
        "stock_2025_nd_t": float(total["element_stock"].sel(element="Nd")),
        "stock_2025_dy_t": float(total["element_stock"].sel(element="Dy")),
    }


def test_preset_matches_its_golden_figures() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = compute()
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=RTOL), key
        else:
            assert got[key] == value, key
    # The answer the preset gives: a quarter of needs is not reached by 2035.
    assert got["first_month_25pct"] is None
    assert got["recycled_share_2035"] < 0.25


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/analysis/test_recycling_preset.py --regenerate")
    GOLDEN.write_text(json.dumps(compute(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
