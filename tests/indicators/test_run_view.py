"""Indicators of a run, over time, and the `indicators` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from rareflow.engine.run import run, with_overrides
from rareflow.indicators.run_view import run_indicators, summarise
from rareflow.scenario.load import load_scenario


def test_baseline_imports_keep_their_published_shares() -> None:
    res = run(with_overrides(load_scenario("baseline"), draws=3)).results
    ind = run_indicators(res)
    share = ind["china_share_of_imports"].sel(material="magnet_ndfeb_sintered")
    # magnets_rare_earth: China 85% of India's imports by value (trade.csv, ICRA 2025); the rest
    # split by world magnet output: Japan 0.10, the rest of the world 0.05 (stage_shares.csv).
    np.testing.assert_allclose(share, 0.85, rtol=1e-9)
    hhi = ind["import_hhi"].sel(material="magnet_ndfeb_sintered")
    np.testing.assert_allclose(hhi, 0.85**2 + 0.10**2 + 0.05**2, rtol=1e-9)


def test_controls_cut_china_share_and_a_contract_lowers_concentration() -> None:
    plain = run_indicators(run(with_overrides(load_scenario("china-2025-april"), draws=5)).results)
    contract = run_indicators(
        run(with_overrides(load_scenario("china-2025-april+supply-contract"), draws=5)).results
    )
    m = {"material": "magnet_ndfeb_sintered"}
    during = {"time": slice("2025-05", "2025-09")}
    assert float(plain["china_share_of_imports"].sel(m).sel(during).max()) < 0.85
    assert float(contract["import_hhi"].sel(m).mean()) < float(plain["import_hhi"].sel(m).mean())
    rows = summarise(contract, ["magnet_ndfeb_sintered"])
    assert {r["indicator"] for r in rows} >= {"import_hhi", "china_share_of_imports"}


def test_indicators_command_compares_with_and_without_levers() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rareflow",
            "indicators",
            "china-2025-april+supply-contract",
            "--draws",
            "5",
            "--format",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {r["variant"] for r in doc["run_indicators"]} == {"without levers", "as given"}
    assert doc["world_stage_concentration"]
    assert set(doc["over_time"]) == {"without levers", "as given"}
