"""Widget values to scenarios, without a browser; and the command that serves the app."""

from __future__ import annotations

import dataclasses

import pytest

from rareflow.app import MAIN
from rareflow.app.controls import apply_controls, defaults, lever_fields, lever_models, lever_type
from rareflow.cli.app import streamlit_command
from rareflow.errors import ScenarioError
from rareflow.scenario.load import load_scenario


def test_defaults_round_trip_and_edits_land_in_the_scenario() -> None:
    sc = load_scenario("china-2025-april")
    start = defaults(sc)
    assert start.draws == 500
    assert start.seed == 1
    assert start.cover_weeks == (11.0, 16.0)
    assert start.approval[0, 0] == (0.2, 0.6)
    edited = dataclasses.replace(
        start, draws=30, cover_weeks=(4.0, 4.0), nonchina_surge=1.5, approval={(0, 0): (0.9, 1.0)}
    )
    out = apply_controls(sc, edited)
    assert out.draws == 30
    assert out.parameters.industry_cover_weeks == 4.0
    assert out.parameters.nonchina_surge == 1.5
    phase = out.shocks[0].licence[0]  # type: ignore[union-attr]
    assert (phase.approval_probability.low, phase.approval_probability.high) == (0.9, 1.0)  # type: ignore[union-attr]


def test_out_of_range_value_names_the_field() -> None:
    sc = load_scenario("china-2025-april")
    bad = dataclasses.replace(defaults(sc), elasticity=0.5)
    with pytest.raises(ScenarioError, match=r"field .prices.: elasticity must lie"):
        apply_controls(sc, bad)


def test_lever_forms_come_from_the_schema() -> None:
    sc = load_scenario("baseline")
    models = lever_models()
    assert "capacity" in {lever_type(m) for m in models}
    for model in models:
        specs = lever_fields(model, sc.start)
        if specs is None:
            continue
        assert all(s.name != "type" for s in specs)
    capacity = next(m for m in models if lever_type(m) == "capacity")
    specs = {s.name: s for s in lever_fields(capacity, sc.start) or []}
    assert specs["process"].kind == "choice"
    assert "magnet_ndfeb_sintered" in specs["process"].choices
    lever = {"type": "capacity", "process": "magnet_ndfeb_sintered", "t_per_year": 500.0,
             "online": "2025-06-01"}  # fmt: skip
    out = apply_controls(sc, dataclasses.replace(defaults(sc), levers=[lever]))
    assert len(out.levers) == 1


def test_streamlit_command_is_headless_and_limits_uploads() -> None:
    cmd = streamlit_command(8999, "127.0.0.1")
    assert str(MAIN) in cmd
    assert MAIN.is_file()
    assert "--server.headless=true" in cmd
    assert "--server.port=8999" in cmd
    assert "--server.maxUploadSize=1" in cmd
