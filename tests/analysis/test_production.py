"""Production lost: physical shortfall and demand forgone, units and value, by sector."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rareflow import dims
from rareflow.analysis.production import sector_values
from rareflow.analysis.summary import draw_scalars, monthly_by_sector, sector_summary
from rareflow.cli import app
from rareflow.data.load import load_dataset
from rareflow.engine.run import run
from rareflow.scenario.load import load_scenario


@pytest.fixture(scope="module")
def april() -> tuple[object, object]:
    sc = load_scenario("china-2025-april").model_copy(update={"draws": 8, "seed": 4})
    return run(sc).results, sector_values(load_dataset(), "IND")


def test_units_per_tonne_from_the_tables_by_hand() -> None:
    """An electric car needs intensity x share kg of magnet, so a tonne makes 1000 / that."""
    rows = pd.read_csv("src/rareflow/data/tables/intensities.csv", dtype={"value": float}).query(
        "sector == 'ev_car' and material == 'magnet_ndfeb_sintered' and choice == 'chosen'"
    )
    kg = float(rows.query("metric == 'intensity'")["value"].iloc[0])
    share = float(rows.query("metric == 'share_of_units'")["value"].iloc[0])
    values = sector_values(load_dataset(), "IND")
    assert values["ev_car"].units_per_t == pytest.approx(1000 / (kg * share))
    assert values["ev_car"].unit_label == "units"
    assert values["wind"].unit_label == "MW"
    # Rs 6 crore per MW of turbines (unit_values.csv) is 6e7 rupees.
    assert values["wind"].inr_per_unit == pytest.approx(6e7)


def test_physical_and_forgone_add_up_to_the_shortfall(april: tuple[object, object]) -> None:
    results, values = april
    scalars = draw_scalars(results, 1, values)  # type: ignore[arg-type]
    np.testing.assert_allclose(
        scalars["cumulative_physical_t"] + scalars["cumulative_forgone_t"],
        scalars["cumulative_shortfall_t"],
        rtol=1e-9,
    )
    assert float(scalars["cumulative_physical_t"].min()) >= -1e-9
    assert float(scalars["cumulative_forgone_t"].min()) >= -1e-9


def test_value_lost_is_units_times_unit_value(april: tuple[object, object]) -> None:
    results, values = april
    scalars = draw_scalars(results, 1, values)  # type: ignore[arg-type]
    car = scalars.sel({dims.SECTOR: "ev_car"})
    units = car["cumulative_shortfall_t"] * values["ev_car"].units_per_t  # type: ignore[index]
    np.testing.assert_allclose(car["units_lost"], units)
    np.testing.assert_allclose(car["value_lost_inr_crore"], units * 15e5 / 1e7)
    # A sector with no unit value is not valued at zero.
    assert np.isnan(scalars.sel({dims.SECTOR: "electronics"})["value_lost_inr_crore"]).all()


def test_threshold_decides_which_months_count(april: tuple[object, object]) -> None:
    results, values = april
    default = sector_summary(results, 1, values)  # type: ignore[arg-type]
    strict = sector_summary(results, 1, values, threshold=0.5)  # type: ignore[arg-type]
    by = {s["sector"]: s for s in default}
    for s in strict:
        assert (
            s["months_in_shortfall"]["median"] <= by[s["sector"]]["months_in_shortfall"]["median"]
        )
    assert any(
        s["months_in_shortfall"]["median"] < by[s["sector"]]["months_in_shortfall"]["median"]
        for s in strict
    )


def test_monthly_series_are_percent_of_that_months_requirement(
    april: tuple[object, object],
) -> None:
    results, values = april
    monthly = monthly_by_sector(results, values)  # type: ignore[arg-type]
    first = monthly["ev_car"][0]
    assert first["month"] == "2025-01"
    assert set(first) == {
        "month", "physical_shortfall_pct", "forgone_pct", "units_lost", "value_lost_inr_crore"
    }  # fmt: skip
    peak = max(m["physical_shortfall_pct"]["median"] + m["forgone_pct"]["median"]
               for m in monthly["ev_car"])  # fmt: skip
    assert 0 < peak <= 100


def test_run_json_has_monthly_lists_and_names_unvalued_sectors() -> None:
    out = CliRunner().invoke(
        app, ["run", "china-2025-april", "--draws", "6", "--no-store", "-q", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["short_above_pct"] == 1.0
    assert "electronics" in doc["unvalued_sectors"]
    car = next(s for s in doc["sectors"] if s["sector"] == "ev_car")
    assert len(car["monthly"]) == 36
    assert set(car["monthly"][5]["physical_shortfall_pct"]) == {"median", "p5", "p95"}
    assert car["value_lost_inr_crore"]["median"] > 0
    higher = CliRunner().invoke(
        app,
        ["run", "china-2025-april", "--draws", "6", "--no-store", "-q", "--format", "json",
         "--short-above", "60"],
    )  # fmt: skip
    car60 = next(s for s in json.loads(higher.output)["sectors"] if s["sector"] == "ev_car")
    assert car60["months_in_shortfall"]["median"] < car["months_in_shortfall"]["median"]
