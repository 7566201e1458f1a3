"""Magnet cluster lever: schema, earlier capacity, yields, capex, the preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from rareflow.engine.run import run
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

PRESET = "china-2025-april+magnet-cluster"
PLANT = {"type": "capacity", "process": "magnet_ndfeb_sintered", "t_per_year": 1200}


def _scenario(levers: list[dict[str, Any]], name: str = "china-2025-april") -> Scenario:
    data = load_scenario(name).model_dump(mode="json", by_alias=True)
    data.update({"draws": 4, "seed": 2, "levers": levers})
    return Scenario.model_validate(data)


def _cluster(**extra: Any) -> dict[str, Any]:
    return {"type": "magnet_cluster", "start": "2025-01", "months_earlier": 6, **extra}


def test_hosted_capacity_comes_months_earlier() -> None:
    plant = {**PLANT, "online": "2026-01", "ramp_months": 6}
    base = compile_scenario(_scenario([plant])).network
    sooner = compile_scenario(_scenario([plant, _cluster()])).network
    j = [p.id for p in base.processes].index("magnet_ndfeb_sintered")
    np.testing.assert_allclose(sooner.capacity[0, :-6, j], base.capacity[0, 6:, j])
    assert np.all(sooner.capacity[..., j] >= base.capacity[..., j])
    # Same as the plant coming online six months sooner.
    early = compile_scenario(_scenario([{**plant, "online": "2025-07"}])).network
    np.testing.assert_allclose(sooner.capacity[..., j], early.capacity[..., j])


def test_earlier_capacity_never_raises_shortfall() -> None:
    plant = {**PLANT, "online": "2025-06", "ramp_months": 3}
    base = float(run(_scenario([plant])).results.shortfall.sum())
    sooner = float(run(_scenario([plant, _cluster()])).results.shortfall.sum())
    assert sooner <= base * (1 + 1e-9)


def test_cluster_before_its_plants_is_refused() -> None:
    plant = {**PLANT, "online": "2026-01"}
    with pytest.raises(ScenarioError, match=r"levers\[0\]\.months_earlier"):
        compile_scenario(_scenario([_cluster(), plant]))


def test_yield_gain_keeps_the_balance() -> None:
    base = compile_scenario(_scenario([])).network
    cut = compile_scenario(
        _scenario([_cluster(months_earlier=0, loss_cut={"magnet_ndfeb_sintered": 0.1})])
    ).network
    j = [p.id for p in base.processes].index("magnet_ndfeb_sintered")
    assert cut.proc_in[j].sum() < base.proc_in[j].sum()
    np.testing.assert_allclose(
        cut.proc_in[j] @ cut.content, cut.proc_out[j] @ cut.content + cut.proc_loss[j], atol=1e-12
    )


def test_capex_is_paid_over_the_build() -> None:
    plant = {**PLANT, "online": "2026-01"}
    sc = _scenario([plant, _cluster(capex_inr_crore=240, build_months=12)])
    # The cluster's own cost (the plant it hosts has its own, from lever_costs.csv).
    cost = run(sc).results["lever_cost"].isel(lever=1).sum("component")
    rate = cost.attrs["inr_per_usd"]
    assert float(cost.isel(draw=0).sum()) == pytest.approx(240 * 1e7 / rate)
    in_2025 = cost.time.dt.year == 2025
    assert float(cost.where(~in_2025, 0).sum()) == 0.0
    by_year = cost.groupby(cost["time"].dt.year).sum("time").sum("year")
    np.testing.assert_allclose(by_year, cost.sum("time"), rtol=1e-12)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"months_earlier": -1}, "months_earlier"),
        ({"build_months": 0}, "build_months"),
        ({"loss_cut": {"magnet_ndfeb_sintered": 2}}, "loss_cut.magnet_ndfeb_sintered"),
        ({"loss_cut": {"magnet_smco": 0.1}}, "loss_cut.magnet_smco"),
        ({"processes": ["mine"]}, "processes"),
        ({"capex_inr_crore": -5}, "capex_inr_crore"),
    ],
)
def test_schema_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    text = yaml.safe_dump({"name": "x", "levers": [{**_cluster(), **change}]})
    with pytest.raises(ScenarioError, match=field):
        parse_scenario(text)


def test_preset_runs_with_a_cost() -> None:
    res = run(_scenario(load_scenario(PRESET).model_dump()["levers"], PRESET)).results
    assert float(res["lever_cost"].sel(lever="tamil-nadu-cluster").sum()) > 0
