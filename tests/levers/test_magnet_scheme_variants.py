"""Presets of the magnet_scheme lever: the earlier Rs 1,345 crore proposal and a generic PLI."""

from __future__ import annotations

import pytest

from rareflow.analysis.costs import cost_table
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.levers.magnet_scheme import MagnetScheme
from rareflow.scenario.load import load_scenario


@pytest.mark.parametrize(
    "preset", ["china-2025-april+magnet-scheme-proposal", "china-2025-april+pli"]
)
def test_variant_is_the_magnet_scheme_lever(preset: str) -> None:
    sc = load_scenario(preset)
    assert [type(lever) for lever in sc.levers] == [MagnetScheme]


def test_proposal_spends_within_its_outlay() -> None:
    sc = with_overrides(load_scenario("china-2025-april+magnet-scheme-proposal"), draws=8)
    res = run(sc).results
    total = next(r for r in cost_table(res) if r["lever"] == "all")
    # policies.csv: Rs 1,345 crore in all (mhi-repm-proposal-2025).
    assert 0 < total["inr_crore_p95"] <= 1345.0


def test_pli_pays_on_output_only() -> None:
    sc = with_overrides(load_scenario("china-2025-april+pli"), draws=8)
    cost = run(sc).results["lever_cost"]
    assert float(cost.sel(component="capital_subsidy").sum()) == 0.0
    assert float(cost.sel(component="sales_incentive").sum()) > 0.0
