"""The returned mix is never worse in the engine, in sample, than the best single lever."""

from __future__ import annotations

import pytest

from rareflow.analysis.optimize import (
    evaluate,
    horizon_months,
    optimise,
    value_weights,
    with_mix,
)
from rareflow.data.load import Dataset
from rareflow.engine.run import with_overrides
from rareflow.ids import Sector
from rareflow.scenario.load import load_scenario

BUDGET, ALPHA, UNTIL, DRAWS = 5000.0, 0.95, 2032, 200


@pytest.mark.slow
def test_the_mix_is_never_worse_in_sample_than_the_best_single_lever(dataset: Dataset) -> None:
    # The README's example (issue 17): the LP adds effects probed one at a time (a stockpile
    # and the industry buffer serve the same shortfall) and releases the stockpile knowing the
    # path. On main 0c22feb its mix loses Rs 489 crore in sample in the engine where the plant
    # at a partner alone loses nothing. Each option alone is simulated here afresh, apart from
    # the optimiser's own runs.
    sc = load_scenario("repeat-2029")
    decision = optimise(sc, dataset, budget=BUDGET, alpha=ALPHA, until=UNTIL, draws=DRAWS)
    h = with_overrides(sc, draws=DRAWS, horizon_months=horizon_months(sc, UNTIL))
    w = value_weights(dataset, sc.country, [s.value for s in Sector])
    unit = decision.problem.unit_cost
    best = None
    for option in decision.options:
        cost = float(unit.sel(lever=option.name))
        level = (
            (1.0 if cost <= BUDGET else 0.0)
            if option.lumpy
            else min(option.upper, BUDGET / cost if cost > 0 else option.upper)
        )
        if level <= 0.0:
            continue
        single = evaluate(with_mix(h, [option], {option.name: level}), dataset, w, ALPHA, sc.seed)
        best = single.risk if best is None else min(best, single.risk)
    assert best is not None
    assert decision.in_sample.seed == sc.seed
    assert decision.in_sample.risk <= best * (1 + 1e-9) + 1e-9
