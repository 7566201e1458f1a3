"""Private buffer lever: schema, direction of effect, the subsidy's arithmetic, the preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+private-buffer"
K = COMMODITY_IDS.index("magnet_ndfeb_sintered")


def _scenario(levers: list[dict[str, Any]], name: str = "china-2025-april") -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": 6, "seed": 2, "levers": levers})
    return Scenario.model_validate(data)


def _lever(weeks: float, **extra: Any) -> dict[str, Any]:
    return {"type": "private_buffer", "extra_weeks": weeks, "price_usd_per_kg": 50, **extra}


def test_cover_rises_and_opening_stock_does_not() -> None:
    base = compile_scenario(_scenario([])).network
    more = compile_scenario(_scenario([_lever(6)])).network
    steps = 6 * 7 / (365.25 / 12)
    np.testing.assert_allclose(more.cover_steps[:, K] - base.cover_steps[:, K], steps)
    np.testing.assert_allclose(more.stock0, base.stock0)
    others = [k for k in range(len(COMMODITY_IDS)) if k != K]
    np.testing.assert_allclose(more.cover_steps[:, others], base.cover_steps[:, others])


def test_a_larger_buffer_raises_stock_before_the_shock_and_cuts_shortfall() -> None:
    small, large = (run(_scenario([_lever(w)])).results for w in (2.0, 8.0))
    march = small.time.dt.strftime("%Y-%m") == "2025-03"
    k_stock = {"material": "magnet_ndfeb_sintered"}
    # Draw by draw (same seed, same cover drawn from inventories.csv's 11-16 weeks).
    gain = large.stock.sel(k_stock).where(march, drop=True) - small.stock.sel(k_stock).where(
        march, drop=True
    )
    assert float(gain.min()) > 0.0
    assert float(large.shortfall.sum()) < float(small.shortfall.sum())


def test_subsidy_is_share_of_holding_cost_of_the_buffer() -> None:
    sc = _scenario([_lever(4, subsidy_share=0.5, holding_cost_per_year=0.1)])
    res = run(sc).results
    net = compile_scenario(sc).network
    extra = 4 * 7 / (365.25 / 12)
    held = res.stock.sel(material="magnet_ndfeb_sintered").transpose("draw", "time").to_numpy()
    held = held * extra / net.cover_steps[:, K][:, None]
    expected = held * 50 * 1000 * 0.1 * 0.5 / 12
    got = res["lever_cost"].sel(component="subsidy").sum("lever").to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    total = res["lever_cost"].sum(["lever", "component"])
    by_year = total.groupby(total["time"].dt.year).sum("time").sum("year")
    np.testing.assert_allclose(by_year, total.sum("time"), rtol=1e-12)


def test_a_magnet_buffer_without_a_price_takes_the_datasets() -> None:
    # prices.csv now prices sintered NdFeB (China's 2024 export unit value, USD 49.2/kg).
    res = run(_scenario([{"type": "private_buffer", "extra_weeks": 2}])).results
    assert float(res["lever_cost"].sum()) > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"extra_weeks": -1}, "extra_weeks"),
        ({"subsidy_share": 1.5}, "subsidy_share"),
        ({"holding_cost_per_year": 2}, "holding_cost_per_year"),
        ({"material": "oxide_ndpr"}, "material"),
        ({"start": "2025-06"}, "start"),
    ],
)
def test_schema_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    text = yaml.safe_dump({"name": "x", "levers": [{**_lever(2), **change}]})
    with pytest.raises(ScenarioError, match=field):
        parse_scenario(text)


def test_preset_runs_with_a_cost() -> None:
    res = run(_scenario(load_scenario(PRESET).model_dump()["levers"], PRESET)).results
    assert float(res["lever_cost"].sum()) > 0
