"""Complete motors: bare need moves to imported assemblies after the lag; April vs October; cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.ids import SINTERED_NDFEB
from rareflow.model.network import COMMODITY_IDS
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+import-complete-motors"


def _scenario(
    levers: list[dict[str, Any]], base: str = "china-2025-april", draws: int = 6
) -> Scenario:
    data = load_scenario(base).model_dump(mode="json", by_alias=True)
    data.update({"draws": draws, "seed": 4, "levers": levers})
    return Scenario.model_validate(data)


def _lever(**extra: Any) -> dict[str, Any]:
    return {
        "type": "import_complete_motors",
        "sectors": ["two_wheeler"],
        "groups": ["small_single_importer"],
        "start": "2025-04-01",
        **extra,
    }


def test_the_groups_bare_need_moves_to_components_after_the_lag() -> None:
    net = compile_scenario(_scenario([_lever(lag_months=2, max_share=0.75)])).network
    g = net.segments.index("two_wheeler/small_single_importer")
    emb = np.broadcast_to(net.embedded_share, (net.n_draws, net.n_steps, len(net.segments)))
    np.testing.assert_allclose(emb[:, :5, g], 0.0)
    np.testing.assert_allclose(emb[:, 5:, g], 0.75)
    others = [i for i in range(len(net.segments)) if i != g]
    base = compile_scenario(_scenario([])).network
    np.testing.assert_allclose(
        emb[:, :, others], np.broadcast_to(base.embedded_share, emb.shape)[:, :, others]
    )


def test_defaults_and_errors() -> None:
    net = compile_scenario(_scenario([_lever()])).network  # adaptation.csv: lag 1-3, share 0.5-1
    g = net.segments.index("two_wheeler/small_single_importer")
    last = np.broadcast_to(net.embedded_share, (net.n_draws, net.n_steps, len(net.segments)))[
        :, -1, g
    ]
    assert 0.5 <= float(last.min()) <= float(last.max()) <= 1.0
    with pytest.raises(ScenarioError, match=r"levers\[0\]\.sectors: 'ev_car'|levers\[0\]\.groups"):
        compile_scenario(_scenario([_lever(sectors=["ev_car"])]))


def test_it_helps_against_the_april_list_not_against_a_content_rule() -> None:
    lever = _lever(groups=[], lag_months=1, max_share=1)
    april = [run(_scenario(lv)).results for lv in ([], [lever])]
    two = {"segment": "two_wheeler/small_single_importer"}
    short = [float((r.segment_requirement - r.segment_delivered).sel(two).sum()) for r in april]
    assert short[1] < 0.5 * short[0]
    october = run(_scenario([lever], base="china-2025-october")).results
    assert float(october.segment_refused.sel(two).sum()) > 0  # the content rule reaches them


def test_cost_is_the_duty_share_of_the_magnets_moved() -> None:
    sc = _scenario([_lever(lag_months=1, max_share=1, premium=0.5)])
    res = run(sc).results
    net = compile_scenario(sc).network
    g = net.segments.index("two_wheeler/small_single_importer")
    need = res.segment_requirement.transpose("draw", "time", "segment").to_numpy()[:, :, g]
    moved = np.broadcast_to(net.embedded_share, (net.n_draws, net.n_steps, len(net.segments)))[
        :, :, g
    ]
    price = float(net.base_price[COMMODITY_IDS.index(SINTERED_NDFEB)]) * 1000
    got = res.lever_cost.sum(["lever", "component"]).transpose("draw", "time").to_numpy()
    np.testing.assert_allclose(got, need * moved * price * 0.5, rtol=1e-9)


def test_preset_runs_with_a_cost() -> None:
    data = load_scenario(PRESET).model_dump(mode="json", by_alias=True)
    res = run(Scenario.model_validate({**data, "draws": 4})).results
    assert float(res["lever_cost"].sum()) > 0
