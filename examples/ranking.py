"""What each measure buys under the 2029 repeat: the README's ranking table, from real runs.

Every lever preset ``repeat-2029+LEVER`` and the optimiser's mix at two budgets are compared
with the shock alone (:func:`rareflow.analysis.compare.compare_to_shock`: the same draws with
and without the levers, one window), and ranked by cost per tonne of shortfall avoided. Each
cell is the median and the 5th-95th percentiles over paired draws.

Usage: ``python examples/ranking.py [--draws N] [--budgets B1 B2] [--until YEAR]``; it prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from rareflow.analysis.compare import compare_to_shock
from rareflow.analysis.optimize import optimise, with_mix
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import format_spread
from rareflow.data.load import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario, preset_names
from rareflow.scenario.schema import Scenario

VARIANTS = ("magnet-scheme-proposal", "pli")
"""Presets that restate another lever's type with other figures: left out of the ranking."""


def _cell(row: dict[str, Any], key: str, digits: int = 0) -> str:
    """Median [p5..p95], or a dash where no draw has a value (nothing avoided: no ratio)."""
    value = row.get(key)
    return format_spread(value, digits=digits) if value and value["median"] is not None else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budgets", type=float, nargs=2, default=(1000.0, 5000.0))
    parser.add_argument(
        "--until", type=int, default=2034, help="optimiser's last year (the window's: 2034)"
    )
    args = parser.parse_args()

    ds = load_dataset()
    shock = with_overrides(load_scenario("repeat-2029"), draws=args.draws, seed=args.seed)
    presets = [
        p
        for p in preset_names()
        if p.startswith("repeat-2029+") and p.split("+", 1)[1] not in VARIANTS
    ]
    scenarios = [shock] + [
        with_overrides(load_scenario(p), draws=args.draws, seed=args.seed) for p in presets
    ]
    for budget in args.budgets:
        decision = optimise(
            shock, ds, budget=budget, alpha=0.95, until=args.until, draws=args.draws
        )
        mix = with_mix(shock, decision.options, decision.chosen.levels)
        scenarios.append(
            with_overrides(
                mix,
                name=f"optimised mix, ₹{budget:,.0f} crore",
                horizon_months=shock.horizon_months,
            )
        )

    def run_one(sc: Scenario) -> Any:
        return run(sc, dataset=ds).results

    doc = compare_to_shock(scenarios, run_one, values=lambda sc: sector_values(ds, sc.country))
    rows = [r for r in doc["rows"] if r["levers"]]

    def key(row: dict[str, Any]) -> float:
        value = row["cost_per_t_avoided_inr_crore"]["median"]
        return math.inf if value is None else float(value)

    print(f"Window {doc['window']['label']}, {args.draws} paired draws, seed {args.seed}.")
    print()
    print(
        "| measure | cost (₹ crore) | shortfall avoided (t) | value of output saved (₹ crore) "
        "| ₹ crore per t avoided |"
    )
    print("|---|---|---|---|---|")
    for row in sorted(rows, key=key):
        print(
            f"| {row['scenario']} | {_cell(row, 'lever_cost_inr_crore')} | "
            f"{_cell(row, 'avoided_t')} | {_cell(row, 'value_saved_inr_crore')} | "
            f"{_cell(row, 'cost_per_t_avoided_inr_crore', 2)} |"
        )


if __name__ == "__main__":
    main()
