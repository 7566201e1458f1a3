"""Diverted IREL oxide: domestic oxide supply after the lag; magnet only through India's plants."""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.engine.run import run
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+divert-irel-exports"
OXIDE = COMMODITY_IDS.index("oxide_ndpr")


def _scenario(levers: list[dict[str, Any]], draws: int = 4) -> Scenario:
    data = load_scenario("china-2025-april").model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 5, "levers": levers})
    return Scenario.model_validate(data)


DIVERT = {
    "type": "divert_irel_exports",
    "start": "2025-04-01",
    "lag_months": 6,
    "t_per_year": 1000,
    "ndpr_share": 0.3,
}
PLANTS = [
    {"type": "capacity", "process": "metal_ndpr", "t_per_year": 300, "online": "2025-01",
     "ramp_months": 0},
    {"type": "capacity", "process": "magnet_ndfeb_sintered", "t_per_year": 1000,
     "online": "2025-01", "ramp_months": 0},
]  # fmt: skip


def test_oxide_enters_domestic_supply_after_the_lag_in_t_of_oxide() -> None:
    base = compile_scenario(_scenario([])).network
    net = compile_scenario(_scenario([DIVERT])).network
    added = net.local_supply[:, :, OXIDE] - base.local_supply[:, :, OXIDE]
    np.testing.assert_allclose(added[:, :9], 0.0)
    np.testing.assert_allclose(added[:, 9:], 1000 * 0.3 / 12)


def test_without_conversion_plants_the_oxide_is_exported_and_the_notes_say_so() -> None:
    base = run(_scenario([]))
    out = run(_scenario([DIVERT]))
    np.testing.assert_allclose(out.results.shortfall, base.results.shortfall)
    kept = float(
        (out.results.local_supply - base.results.local_supply).sel(material="oxide_ndpr").sum()
    )
    more_exported = float(
        (out.results.exported - base.results.exported).sel(material="oxide_ndpr").sum()
    )
    stock = float(
        (out.results.stock - base.results.stock).sel(material="oxide_ndpr").isel(time=-1).sum()
    )
    assert kept > 0
    np.testing.assert_allclose(more_exported + stock, kept, rtol=1e-9)
    assert any("stays oxide" in n for n in out.notes)


def test_with_plants_the_oxide_feeds_them_in_place_of_imports() -> None:
    base = run(_scenario(PLANTS)).results
    res = run(_scenario([*PLANTS, DIVERT])).results
    oxide = {"material": "oxide_ndpr"}
    assert float(res.imports.sel(oxide).sum()) < float(base.imports.sel(oxide).sum())
    metal = {"process": "metal_ndpr"}
    assert float(res.production.sel(metal).sum()) >= float(base.production.sel(metal).sum())
    assert float(res.shortfall.sum()) <= float(base.shortfall.sum()) + 1e-9


def test_cost_is_the_premium_on_the_oxide_kept() -> None:
    sc = _scenario([{**DIVERT, "premium": 0.2}])
    res = run(sc).results
    price = float(compile_scenario(sc).network.base_price[OXIDE]) * 1000
    got = float(res.lever_cost.sum())
    assert got == np.float64(got)
    np.testing.assert_allclose(got, 4 * 1000 * 0.3 / 12 * 27 * price * 0.2, rtol=1e-9)


def test_preset_runs_with_a_cost() -> None:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    res = run(Scenario.model_validate({**data, "draws": 4})).results
    assert float(res["lever_cost"].sum()) > 0
