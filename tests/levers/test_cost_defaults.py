"""Every lever costs something by default (issue 17 item 2), discounted at a stated rate, and its
cost consumes what its ``apply`` produced (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
import yaml
from scipy.optimize import brentq

from rareflow import units
from rareflow.analysis.costs import cost_table, discount_factors, present_value
from rareflow.data.load import Dataset
from rareflow.engine.run import run
from rareflow.errors import InputError
from rareflow.model.finance import irr, npv
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.levers.base import convert_cost
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

FREE_BY_SOURCE: dict[str, str] = {}
"""Lever types whose default cost a cited source puts at zero (none so far)."""


def _tag(cls: type) -> str:
    return str(cls.model_fields["type"].default)  # type: ignore[attr-defined]


def _preset_of(tag: str) -> str:
    """The ``china-2025-april+`` preset whose levers include this type."""
    for name in (tag.replace("_", "-"), {"finance": "finance"}.get(tag, "")):
        if not name:
            continue
        try:
            load_scenario(f"china-2025-april+{name}")
        except Exception:
            continue
        return f"china-2025-april+{name}"
    raise AssertionError(f"no china-2025-april preset for lever type {tag}")


def _without_cost_fields(scenario: Scenario, tag: str) -> Scenario:
    """The scenario with the cost fields of its ``tag`` levers left empty (defaults apply)."""
    data = scenario.model_dump(mode="json", by_alias=True)
    cls = next(c for c in LEVER_TYPES if _tag(c) == tag)
    for lever in data["levers"]:
        if lever["type"] == tag:
            for name in getattr(cls, "cost_defaults", {}):
                lever.pop(name, None)
    data["draws"] = 4
    return Scenario.model_validate(data)


@pytest.mark.parametrize("tag", sorted(_tag(c) for c in LEVER_TYPES))
def test_no_lever_type_is_free_by_default(tag: str, dataset: Dataset) -> None:
    scenario = _without_cost_fields(load_scenario(_preset_of(tag)), tag)
    results = run(scenario, dataset=dataset, keep_partners=False).results
    cost = results["lever_cost"]
    mine = [
        str(label)
        for label, lever in zip(cost["lever"].to_numpy(), scenario.levers, strict=True)
        if lever.type_tag() == tag
    ]
    total = float(cost.sel(lever=mine).sum())
    if tag in FREE_BY_SOURCE:
        assert total == 0.0
    else:
        assert total > 0.0, f"{tag} costs nothing by default"


def test_every_default_cost_row_is_positive_and_labelled(dataset: Dataset) -> None:
    for cls in LEVER_TYPES:
        for name, spec in getattr(cls, "cost_defaults", {}).items():
            from rareflow.data.lever_costs import lever_cost  # noqa: PLC0415

            row = lever_cost(dataset, spec.lever or _tag(cls), spec.parameter)
            assert row.value > 0, f"{_tag(cls)}.{name}"
            assert row.source_id


def test_npv_and_irr_against_hand_computed_values() -> None:
    # One year: -100 now, +110 in a year: IRR 10%, NPV at 10% zero.
    assert float(irr(np.array([[-100.0, 110.0]]))[0]) == pytest.approx(0.10, abs=1e-9)
    assert float(npv(np.array([-100.0, 110.0]), 0.10)) == pytest.approx(0.0, abs=1e-9)
    # -100, +60, +60: 60x + 60x^2 = 100 with x = 1/(1+r): x = (sqrt(23/3) - 1) / 2.
    x = (np.sqrt(23.0 / 3.0) - 1.0) / 2.0
    hand = 1.0 / x - 1.0
    cash = np.array([-100.0, 60.0, 60.0])
    by_brent = brentq(lambda r: float(npv(cash, r)), 0.0, 1.0, xtol=1e-14)
    assert hand == pytest.approx(0.1306623862918075, abs=1e-12)
    assert float(irr(cash[None, :])[0]) == pytest.approx(by_brent, abs=1e-9)
    assert float(npv(cash, 0.08)) == pytest.approx(-100 + 60 / 1.08 + 60 / 1.08**2)


def _costed(values: list[float], rate: float) -> xr.Dataset:
    time = np.array(["2025-01", "2025-07", "2026-01"], dtype="datetime64[M]").astype(
        "datetime64[ns]"
    )
    data = np.array(values, dtype=float).reshape(1, 3, 1, 1)
    cost = xr.DataArray(
        data,
        coords={"draw": [0], "time": time, "lever": ["x"], "component": ["capex"]},
        dims=("draw", "time", "lever", "component"),
        attrs={"unit": "usd_2025", "inr_per_usd": 85.0, "discount_rate": rate},
    )
    return xr.Dataset({"lever_cost": cost})


def test_lever_costs_are_discounted_to_the_first_month() -> None:
    results = _costed([100.0, 100.0, 100.0], 0.08)
    factors = discount_factors(results["time"], 0.08).to_numpy()
    assert factors == pytest.approx([1.0, 1.08**-0.5, 1 / 1.08])
    assert float(present_value(results).sum()) == pytest.approx(100 + 100 / 1.08**0.5 + 100 / 1.08)
    total = next(r for r in cost_table(results) if r["lever"] == "x" and r["year"] == "total")
    assert total["usd_million"] == pytest.approx(300e-6)
    assert total["npv_usd_million"] == pytest.approx((100 + 100 / 1.08**0.5 + 100 / 1.08) * 1e-6)
    assert total["npv_inr_crore"] == pytest.approx(total["npv_usd_million"] * 1e6 * 85 / 1e7)
    # At a zero rate the NPV is the undiscounted total.
    flat = next(r for r in cost_table(_costed([1.0, 2.0, 3.0], 0.0)) if r["year"] == "total")
    assert flat["npv_usd_million"] == pytest.approx(flat["usd_million"])


def test_cost_units_convert_and_mismatches_are_refused() -> None:
    one = np.array([1.0])
    assert convert_cost(one, "usd_million", "inr_crore", 85.0)[0] == pytest.approx(8.5)
    assert convert_cost(one, "inr_crore", "usd_million", 85.0)[0] == pytest.approx(1 / 8.5)
    assert convert_cost(one, "usd_per_kg", "usd_per_t", 85.0)[0] == pytest.approx(1000.0)
    with pytest.raises(InputError, match="cannot stand for a field in usd_per_kg"):
        convert_cost(one, "inr_crore", "usd_per_kg", 85.0)
    # A capital cost per t a year of capacity is neither a price nor convertible across bases.
    reo, magnet = "usd_per_t_reo_per_year", "usd_per_t_magnet_per_year"
    assert convert_cost(one, reo, reo, 85.0)[0] == 1.0
    for source, target in ((reo, magnet), (reo, "usd_per_t"), ("usd_per_t", magnet)):
        with pytest.raises(InputError, match=f"cannot stand for a field in {target}"):
            convert_cost(one, source, target, 85.0)
    with pytest.raises(ValueError, match="different kind or mass basis"):
        units.convert(1.0, reo, magnet)


def test_cost_consumes_what_apply_drew(dataset: Dataset) -> None:
    from rareflow.scenario.compile import compile_scenario  # noqa: PLC0415

    scenario = load_scenario("china-2025-april+capacity").model_copy(update={"draws": 5})
    compiled = compile_scenario(scenario, None, dataset)
    record = compiled.applied["levers[0]"]
    capex = record.inputs["capex_inr_crore"]
    assert capex.shape == (5,)
    assert "from lever_costs.csv" in record.basis[0]
    results = run(scenario, dataset=dataset, keep_partners=False).results
    spent = results["lever_cost"].sel(lever=results["lever_cost"]["lever"][0], component="capex")
    usd = spent.sum("time").to_numpy()
    rate = results["lever_cost"].attrs["inr_per_usd"]
    # Capex spent before the horizon is sunk: compare where the whole build lies inside it.
    inside = usd > 0
    assert np.allclose(usd[inside] * rate / 1e7, capex[inside], rtol=1e-9)


def _run_json(path: Path, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-m", "rareflow", "run", str(path), "--draws", "4", "--no-store",
         "--format", "json", *extra],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def test_run_reports_costs_by_year_with_npv_and_their_basis(tmp_path: Path) -> None:
    data = load_scenario("china-2025-april+capacity").model_dump(mode="json", by_alias=True)
    data["name"] = "capacity-costs"
    default = tmp_path / "default.yaml"
    default.write_text(yaml.safe_dump(data), encoding="utf-8")
    doc = _run_json(default)
    costs = doc["lever_costs"]
    assert costs["discount_rate"] == pytest.approx(0.08)
    assert "murty-2018-parameters" in costs["discount_basis"]
    totals = [r for r in costs["rows"] if r["year"] == "total" and r["lever"] != "all"]
    assert totals
    assert all(r["inr_crore"] > 0 for r in totals)
    assert all(r["npv_inr_crore"] < r["inr_crore"] for r in totals)  # spent after 2025-01
    years = {r["year"] for r in costs["rows"] if r["year"] != "total"}
    assert years
    assert all(y.isdigit() for y in years)
    assert any("capex_inr_crore" in n and "from lever_costs.csv" in n for n in doc["notes"])
    # A user's value overrides the default, the note says so, and a zero rate gives NPV = total.
    data["levers"][0]["capex_inr_crore"] = 100.0
    data["costs"] = {"discount_rate": 0.0}
    given = tmp_path / "given.yaml"
    given.write_text(yaml.safe_dump(data), encoding="utf-8")
    doc = _run_json(given)
    assert any("capex_inr_crore 100 inr_crore (scenario)" in n for n in doc["notes"])
    overall = next(r for r in doc["lever_costs"]["rows"] if r["lever"] == "all")
    assert overall["npv_inr_crore"] == pytest.approx(overall["inr_crore"], rel=1e-9)
    assert doc["lever_costs"]["discount_basis"].startswith("scenario")


def test_finance_reports_irr_and_share_of_draws_built(dataset: Dataset) -> None:
    from rareflow.analysis.costs import investments  # noqa: PLC0415

    scenario = load_scenario("china-2025-april+finance").model_copy(update={"draws": 20})
    results = run(scenario, dataset=dataset, keep_partners=False).results
    (one,) = investments(results)
    built = results["investment_built"].to_numpy()[:, 0]
    assert one["share_of_draws_built"] == pytest.approx(built.mean())
    npv_built = results["investment_npv"].to_numpy()[:, 0]
    assert np.all(npv_built[built] >= 0)
    assert np.all(npv_built[~built] < 0)
    irrs = results["investment_irr"].to_numpy()[:, 0]
    finite = irrs[np.isfinite(irrs)]
    assert one["irr"]["median"] == pytest.approx(float(np.median(finite)))


NOT_A_COST: dict[str, str] = {
    "finance.price_growth_per_year": "a price path, not a cost",
    "finance.capex_subsidy_share": "a subsidy a scenario chooses, not a cost",
    "finance.country_risk_premium": "an add-on to the discount rate a scenario chooses",
    "substitution.price_acceleration": "a speed of adoption",
    "regulatory_reform.thorium_cost_factor": "a factor on thorium handling, 1 by default",
    "technology_tie.royalty_usd_per_kg": "a fixed royalty instead of royalty_share's default",
}
"""Number fields whose names sound like money but which set no cost of their own."""
DATA_DEFAULTS: dict[str, str] = {
    "recycling.capex_usd_per_t_per_year": "recycling.csv's reference plant, else lever_costs.csv"
}
"""Empty money fields whose default another table (or a route's row) gives."""
MONEY_WORDS = ("capex", "opex", "cost", "premium", "royalty", "investment", "fee", "upfront")


@pytest.mark.parametrize("cls", LEVER_TYPES, ids=_tag)
def test_no_cost_field_defaults_to_zero(cls: type) -> None:
    """Every money field either has a non-zero default or takes one from lever_costs.csv."""
    tag = _tag(cls)
    defaults = getattr(cls, "cost_defaults", {})
    for spec in cls.field_specs():  # type: ignore[attr-defined]
        key = f"{tag}.{spec.name}"
        if key in NOT_A_COST or not any(w in spec.name for w in MONEY_WORDS):
            continue
        if not spec.kind.startswith("number") or spec.required:
            continue
        if spec.default is None:
            # Empty: a lever_costs.csv row, or a price of prices.csv, stands in.
            assert spec.name in defaults or key in DATA_DEFAULTS or "price" in spec.name, (
                f"{key}: empty, no default row"
            )
        else:
            assert spec.default != 0 or tag in FREE_BY_SOURCE, f"{key} defaults to 0"


class _NoDraws:
    """A sampler that refuses to draw: a cost model must consume what ``apply`` drew."""

    def draw(self, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"a cost model drew again: {args[1:]}")


@pytest.mark.parametrize(
    "preset",
    [
        "china-2025-april+substitution",
        "china-2025-april+exploration-pipeline",
        "china-2025-april+consortium",
        "china-2025-april+technology-tie",
    ],
)
def test_cost_models_draw_nothing_again(preset: str, dataset: Dataset) -> None:
    """The costs of these levers come from what apply recorded, not from new draws."""
    import dataclasses  # noqa: PLC0415

    from rareflow.engine.run import lever_costs  # noqa: PLC0415
    from rareflow.scenario.compile import compile_scenario  # noqa: PLC0415

    scenario = load_scenario(preset).model_copy(update={"draws": 3})
    compiled = compile_scenario(scenario, None, dataset)
    results = run(scenario, dataset=dataset, keep_partners=False).results
    mine = [
        i
        for i, lever in enumerate(scenario.levers)
        if preset.endswith(lever.type_tag().replace("_", "-"))
    ]
    assert mine
    levers = [scenario.levers[i] for i in mine]
    only = scenario.model_copy(update={"levers": levers})
    applied = {f"levers[{k}]": compiled.applied[f"levers[{i}]"] for k, i in enumerate(mine)}
    strict = dataclasses.replace(compiled, sampler=_NoDraws(), applied=applied)  # type: ignore[arg-type]
    cost = lever_costs(only, strict, results, dataset)
    assert cost is not None
    expected = results["lever_cost"].isel(lever=mine).sum("lever")
    np.testing.assert_allclose(cost.sum("lever").sum("component"), expected.sum("component"))
