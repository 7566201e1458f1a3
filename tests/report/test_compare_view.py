"""The dashboard's compare view: what a stored run's levers buy against its stored shock alone."""

from __future__ import annotations

from rareflow.analysis.compare import paired_effect
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import format_spread
from rareflow.data.load import Dataset
from rareflow.engine.run import run, with_overrides
from rareflow.report.compare import lever_effects
from rareflow.report.source import from_result
from rareflow.scenario.load import load_scenario


def test_a_lever_run_beside_its_shock_alone_shows_the_paired_effect(dataset: Dataset) -> None:
    lever = with_overrides(load_scenario("china-2025-april+stockpile"), draws=6, seed=4)
    shock = with_overrides(load_scenario("china-2025-april"), draws=6, seed=4)
    other_seed = with_overrides(shock, seed=5)
    runs = {
        name: from_result(run(sc, dataset=dataset))
        for name, sc in (("lever", lever), ("shock", shock), ("other seed", other_seed))
    }
    frame = lever_effects(runs, dataset)
    assert frame is not None
    assert list(frame.columns) == ["lever, 2025-01 to 2027-12 (36 months)"]
    effect = paired_effect(
        runs["lever"].results,
        runs["shock"].results,
        lever.step_months,
        sector_values(dataset, lever.country),
    )
    column = frame.iloc[:, 0]
    assert column["shortfall avoided (t magnet)"] == format_spread(effect["avoided_t"])
    assert "benefit-cost ratio (value saved / cost)" in column.index
    # Without the same draws and seed there is no pair: nothing to show, never a mismatched one.
    assert lever_effects({"lever": runs["lever"], "other": runs["other seed"]}, dataset) is None
