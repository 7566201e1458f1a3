"""Widget values to scenarios, without a browser; and the command that serves the app."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rareflow.app import MAIN
from rareflow.app.cache import ResultCache, fingerprint
from rareflow.app.controls import (
    apply_controls,
    defaults,
    field_unit,
    lever_fields,
    lever_models,
    lever_type,
    run_name,
)
from rareflow.app.urlstate import UrlState
from rareflow.cli.dashboard import streamlit_command
from rareflow.errors import ScenarioError
from rareflow.scenario.distributions import Triangular
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.load import load_scenario
from rareflow.store.runstore import STORE_ENV


def test_defaults_round_trip_and_edits_land_in_the_scenario() -> None:
    sc = load_scenario("china-2025-april")
    start = defaults(sc)
    assert start.draws == 500
    assert start.seed == 1
    assert start.cover_weeks == (11.0, 16.0)
    assert start.approval[0, 0] == (0.2, 0.6)
    edited = dataclasses.replace(
        start, draws=30, cover_weeks=(4.0, 4.0), headroom_scale=1.5, approval={(0, 0): (0.9, 1.0)}
    )
    out = apply_controls(sc, edited)
    assert out.draws == 30
    assert out.parameters.industry_cover_weeks == 4.0
    assert [(u.table, u.scale) for u in out.uncertain] == [("supplier_headroom", 1.5)]
    phase = out.shocks[0].licence[0]  # type: ignore[union-attr]
    assert (phase.approval_probability.low, phase.approval_probability.high) == (0.9, 1.0)  # type: ignore[union-attr]


def test_licence_delay_is_a_control_and_untouched_keeps_its_distribution() -> None:
    sc = load_scenario("china-2025-april")
    start = defaults(sc)
    assert start.delay_days[0, 0][0] < start.delay_days[0, 0][1]
    same = apply_controls(sc, start)
    phase = same.shocks[0].licence[0]  # type: ignore[union-attr]
    assert isinstance(phase.delay_days, Triangular)  # untouched: the preset's own triangular
    changed = apply_controls(sc, dataclasses.replace(start, delay_days={(0, 0): (200.0, 220.0)}))
    phase = changed.shocks[0].licence[0]  # type: ignore[union-attr]
    assert (phase.delay_days.low, phase.delay_days.high) == (200.0, 220.0)  # type: ignore[union-attr]


def test_run_name_carries_levers_and_settings() -> None:
    sc = load_scenario("china-2025-april")
    start = defaults(sc)
    lever = {"type": "stockpile", "target_months": 3.0}
    edited = dataclasses.replace(start, draws=40, headroom_scale=2.0, levers=[lever])
    name = run_name(sc, edited)
    assert name.startswith("china-2025-april (")
    assert "+stockpile" in name
    assert "headroom x2" in name
    assert "40 draws" in name
    assert apply_controls(sc, edited).name == name
    assert run_name(sc, dataclasses.replace(start, draws=sc.draws)) == "china-2025-april"


def test_out_of_range_value_names_the_field() -> None:
    sc = load_scenario("china-2025-april")
    bad = dataclasses.replace(defaults(sc), elasticity=0.5)
    with pytest.raises(ScenarioError, match=r"field .prices.: elasticity must lie"):
        apply_controls(sc, bad)


def test_every_lever_has_a_form_with_units_and_help() -> None:
    sc = load_scenario("baseline")
    models = lever_models()
    assert {lever_type(m) for m in models} == {lever_type(m) for m in LEVER_TYPES}
    for model in models:
        specs = lever_fields(model, sc.start)
        assert specs is not None, lever_type(model)
        assert all(s.name != "type" for s in specs)
        assert all(s.help for s in specs), lever_type(model)
    by_type = {lever_type(m): {s.name: s for s in lever_fields(m, sc.start) or []} for m in models}
    stockpile = by_type["stockpile"]
    assert stockpile["sectors"].kind == "multichoice"
    assert {"defence", "all"} <= set(stockpile["sectors"].choices)
    assert stockpile["target_months"].label == "target months (months)"
    assert by_type["substitution"]["adoption"].kind == "keyed_form"
    assert by_type["technology_tie"]["loss_cut"].kind == "keyed"
    assert field_unit("capex_inr_crore") == "₹ crore"
    assert field_unit("holding_cost_per_year") == "share a year"


def test_forms_make_valid_levers_for_substitution_and_technology_tie() -> None:
    sc = load_scenario("china-2025-april")
    levers = [
        {"type": "substitution", "option": "ferrite", "adoption": {
            "two_wheeler": {"max_share": 0.3, "start": "2025-10-01", "years": 3.0}}},
        {"type": "technology_tie", "partner": "MYS", "loss_cut": {"metal_ndpr": 0.25},
         "start": "2025-06-01"},
        {"type": "stockpile", "target_months": 3.0, "sectors": ["ev_car", "defence"]},
    ]  # fmt: skip
    out = apply_controls(sc, dataclasses.replace(defaults(sc), levers=levers))
    assert [lever.type for lever in out.levers] == ["substitution", "technology_tie", "stockpile"]  # type: ignore[union-attr]
    assert [str(s) for s in out.levers[2].sectors] == ["ev_car", "defence"]  # type: ignore[union-attr]


def test_fingerprint_changes_with_any_setting_and_cache_is_bounded() -> None:
    sc = load_scenario("china-2025-april")
    start = defaults(sc)
    a = fingerprint(apply_controls(sc, start), "v1")
    assert a == fingerprint(apply_controls(sc, start), "v1")
    assert a != fingerprint(apply_controls(sc, start), "v2")
    assert a != fingerprint(apply_controls(sc, dataclasses.replace(start, seed=2)), "v1")
    assert a != fingerprint(apply_controls(load_scenario("china-2025-october"), start), "v1")
    cache: ResultCache[int] = ResultCache(max_entries=2)
    calls: list[str] = []
    for key in ("a", "b", "a", "c", "b"):
        value, _ = cache.get_or_compute(key, lambda key=key: calls.append(key) or len(calls))
        assert value >= 1
    assert calls == ["a", "b", "c", "b"]
    assert len(cache) == 2


def test_url_state_round_trip() -> None:
    sc = load_scenario("china-2025-april")
    start = defaults(sc)
    params: dict[str, str] = {}
    url = UrlState(params, {})
    url.set("preset", "china-2025-april")
    url.set_controls(dataclasses.replace(start, draws=40, delay_days={(0, 0): (30.0, 60.0)}), start)
    url.set_list("levers", ["stockpile"])
    url.write()
    assert params == {"preset": "china-2025-april", "draws": "40", "delay0.0": "30~60",
                      "levers": "stockpile"}  # fmt: skip
    opened = UrlState(dict(params), {})
    opened.set("preset", "china-2025-april")
    assert opened.get_int("draws", 500) == 40
    assert opened.get_range("delay0.0", (1.0, 2.0)) == (30.0, 60.0)
    assert opened.get_list("levers") == ["stockpile"]
    other = UrlState(dict(params), {})
    other.set("preset", "china-2025-october")  # another preset: the link's settings do not apply
    assert other.get_int("draws", 500) == 500


def test_streamlit_command_is_headless_limits_uploads_and_serves_the_map() -> None:
    cmd = streamlit_command(8999, "127.0.0.1")
    assert str(MAIN) in cmd
    assert MAIN.is_file()
    assert "--server.headless=true" in cmd
    assert "--server.port=8999" in cmd
    assert "--server.maxUploadSize=1" in cmd
    assert "--server.enableStaticServing=true" in cmd
    static = MAIN.with_name("static") / "world_110m.json"
    report_copy = MAIN.parents[1] / "report" / "assets" / "world_110m.json"
    assert static.read_bytes() == report_copy.read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.browser
def test_sigterm_stops_the_app_and_frees_its_port(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ, **{STORE_ENV: str(tmp_path)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "rareflow", "app", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, "rareflow app ended before serving"
                assert time.monotonic() < deadline, "rareflow app did not start"
                time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "the port is still served"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
