"""Partner capacity: offtake from a plant abroad arrives as a contract; capex adds up."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+partner-capacity"


def _scenario(changes: dict[str, Any], draws: int = 8, horizon: int = 60) -> Scenario:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    data["levers"][0].update(changes)
    data.update({"draws": draws, "seed": 2, "horizon_months": horizon})
    return Scenario.model_validate(data)


def test_offtake_arrives_after_the_build_with_the_partners_reliability() -> None:
    net = compile_scenario(_scenario({"ramp_months": 0})).network
    est = net.partners.index("EST")
    monthly = net.contract[0, :, est].sum(axis=1)
    # Invested 2025-10, 2.2 years to build (lead_times.csv: 26.4 months): first output in the
    # month after step 9 + 26.4 = 35.4, i.e. step 35 once the partial month is counted.
    assert monthly[:35].sum() == 0.0
    # Half of 3,000 t/yr, at the MSP reliability of 0.95.
    assert monthly[35] == pytest.approx(3000 * 0.5 * 0.95 / 12)


@pytest.mark.parametrize(("small", "large"), [(0.2, 0.6), (0.5, 1.0)])
def test_more_offtake_never_lowers_supply_or_raises_shortfall(small: float, large: float) -> None:
    runs = [run(_scenario({"offtake_share": s, "investment": "2025-02"})) for s in (small, large)]
    nets = [compile_scenario(r.scenario).network for r in runs]
    assert np.all(nets[1].contract >= nets[0].contract)
    short = [float(r.results.shortfall.sum()) for r in runs]
    assert short[1] <= short[0] * (1 + 1e-9) + 1e-9


def test_capex_is_paid_over_the_build_and_adds_up() -> None:
    res = run(_scenario({"investment": "2025-06"}, draws=4)).results
    cost = res["lever_cost"].sel(component="capex")
    usd = 300 * 1e7 / res["lever_cost"].attrs["inr_per_usd"]
    np.testing.assert_allclose(cost.sum("time").squeeze(), usd, rtol=1e-12)
    months = (cost.isel(draw=0).squeeze() > 0).sum()
    assert int(months) == 26  # 2.2 years (lead_times.csv), paid in whole months


def test_schema_errors_name_the_field() -> None:
    text = "name: x\nlevers:\n  - type: partner_capacity\n    t_per_year: 5\n"
    text += "    investment: 2025-01\n"
    with pytest.raises(ScenarioError, match="partner"):
        parse_scenario(text + "    partner: CHN\n")
    with pytest.raises(ScenarioError, match="offtake_share"):
        parse_scenario(text + "    partner: AUS\n    offtake_share: 2\n")
