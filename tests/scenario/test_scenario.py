"""Scenario schema, loading and presets: bad scenarios are named precisely, presets are valid."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from rareflow.engine.run import with_overrides
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.distributions import Beta, LogNormal, Normal, Triangular, Uniform, uniforms
from rareflow.scenario.load import load_scenario, parse_scenario, preset_names, preset_text

BASE = """
name: test
start: 2025-01
horizon_months: 12
draws: 10
shocks:
  - type: export_control
    start: 2025-04-04
    elements: [Dy, Tb]
    licence:
      - from: 2025-04-04
        delay_days: 60
        approval_probability: 0.5
"""


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return info.value.user_message()


def test_presets_are_listed_and_valid() -> None:
    names = preset_names()
    assert {
        "baseline",
        "china-2025-april",
        "china-2025-october",
        "china-embargo-full",
        "myanmar-disruption",
    } <= set(names)
    for name in names:
        sc = load_scenario(name)
        assert sc.name == name
        assert parse_scenario(preset_text(name)) == sc


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (("elements", ["Dy", "Xx"]), "shocks[0].elements[1]", "Input should be"),
        (("end", "2024-01-01"), "shocks[0]", "is before start"),
        (("colour", "red"), "shocks[0].colour", "unknown key"),
        (("start", "2025-13-45"), "shocks[0].start", "expected a date"),
    ],
)
def test_bad_shock_fields_are_named(change: tuple[str, object], field: str, expected: str) -> None:
    data = yaml.safe_load(BASE)
    data["shocks"][0][change[0]] = change[1]
    msg = _error(yaml.safe_dump(data))
    assert f"field '{field}'" in msg
    assert expected in msg


def test_probability_above_one_is_named() -> None:
    data = yaml.safe_load(BASE)
    data["shocks"][0]["licence"][0]["approval_probability"] = 1.5
    msg = _error(yaml.safe_dump(data))
    assert "field 'shocks[0].licence[0].approval_probability'" in msg
    assert "must lie in [0, 1]" in msg


def test_negative_duration_is_named() -> None:
    data = yaml.safe_load(BASE)
    data["shocks"][0]["licence"][0]["delay_days"] = -5
    assert "field 'shocks[0].licence[0].delay_days': delay_days must lie in [0, 3650]" in _error(
        yaml.safe_dump(data)
    )
    data = yaml.safe_load(BASE)
    data["horizon_months"] = -3
    assert "field 'horizon_months'" in _error(yaml.safe_dump(data))


def test_unknown_top_level_key_and_bad_yaml_are_named() -> None:
    assert "field 'colour': unknown key" in _error(BASE + "colour: blue\n")
    assert "line" in _error("name: [unclosed\n")
    assert "mapping" in _error("- just\n- a list\n")


def test_python_tags_and_alias_bombs_are_refused() -> None:
    assert "not valid YAML" in _error("name: !!python/object/apply:os.system ['echo hi']\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefghijklmno", "bcdefghijklmnop", strict=True)
    )
    assert "aliases" in _error(bomb)


def test_distributions_accepted_anywhere_a_number_is() -> None:
    data = yaml.safe_load(BASE)
    data["shocks"][0]["licence"][0]["approval_probability"] = {"dist": "beta", "a": 2, "b": 3}
    data["shocks"][0]["licence"][0]["delay_days"] = {
        "dist": "lognormal",
        "median": 90,
        "sigma": 0.5,
    }
    sc = parse_scenario(yaml.safe_dump(data))
    assert isinstance(sc.shocks[0].licence[0].approval_probability, Beta)


def test_validate_command_exits_nonzero_on_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("Tb]", "Tb, Unobtainium]"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "rareflow", "scenario", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr
    assert "shocks[0].elements[2]" in result.stderr
    assert "Traceback" not in result.stderr
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    ok = subprocess.run(
        [sys.executable, "-m", "rareflow", "scenario", "validate", str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok:")


def test_uniforms_do_not_depend_on_chunking() -> None:
    whole = uniforms(7, 3, np.arange(100))
    parts = np.concatenate([uniforms(7, 3, np.arange(a, b)) for a, b in ((0, 13), (13, 100))])
    np.testing.assert_array_equal(whole, parts)
    assert whole.min() > 0
    assert whole.max() < 1
    assert not np.array_equal(whole, uniforms(8, 3, np.arange(100)))
    # Roughly uniform: mean and variance of 100k draws.
    big = uniforms(1, 1, np.arange(100_000))
    assert abs(big.mean() - 0.5) < 0.01
    assert abs(big.var() - 1 / 12) < 0.002


def _normal_cdf(x: float, mean: float, sd: float) -> float:
    return 0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2))))


def _truncated_normal_cdf(x: float) -> float:  # mean 2, sd 1, truncated below at 0
    low = _normal_cdf(0, 2, 1)
    return (_normal_cdf(x, 2, 1) - low) / (1 - low)


def _triangular_cdf(x: float) -> float:  # low 0, mode 1, high 4
    return x * x / 4 if x <= 1 else 1 - (4 - x) ** 2 / 12


def _beta25_cdf(x: float) -> float:  # Beta(2, 5): the regularised incomplete beta, expanded
    return 1 - (1 - x) ** 6 - 6 * x * (1 - x) ** 5


@pytest.mark.parametrize(
    ("dist", "cdf"),
    [
        (Uniform(low=1, high=3), lambda x: (x - 1) / 2),
        (Triangular(low=0, mode=1, high=4), _triangular_cdf),
        (Normal(mean=2, sd=1, low=0), _truncated_normal_cdf),
        (LogNormal(median=90, sigma=0.4), lambda x: _normal_cdf(math.log(x), math.log(90), 0.4)),
        (Beta(a=2, b=5), _beta25_cdf),
    ],
)
def test_distribution_quantiles_invert_the_closed_form_cdf(
    dist: object, cdf: Callable[[float], float]
) -> None:
    # Each CDF is written out by hand here, so the inverse CDF is checked against an
    # independent formula, not against the scipy call it is built on.
    u = np.array([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    q = dist.ppf(u)  # type: ignore[attr-defined]
    assert [cdf(float(x)) for x in q] == pytest.approx(u.tolist(), abs=1e-9)


def test_impossible_dates_and_deep_nesting_are_refused_cleanly() -> None:
    # Found by the atheris harness: PyYAML's own date builder raised a plain ValueError.
    assert "a value cannot be read" in _error("name: x\nstart: 2025-13-01\n")
    assert "nested too deeply" in _error("name: " + "[" * 5000 + "]" * 5000 + "\n")


def test_sobol_gives_every_uncertain_number_its_own_dimension() -> None:
    sc = with_overrides(
        load_scenario("china-2025-april+supply-contract"), draws=64, sampling="sobol"
    )
    drawn = compile_scenario(sc).sampler.drawn
    first = drawn["shocks[0].licence[0].approval"]
    other = drawn["shocks[0].licence[1].approval"]
    # Different dimensions of one scrambled Sobol' design: not the same column, nearly
    # uncorrelated, and a chunk of draws equals the same draws of the whole design.
    assert abs(np.corrcoef(first, other)[0, 1]) < 0.2
    part = compile_scenario(sc, np.arange(10, 20)).sampler.drawn["shocks[0].licence[0].approval"]
    np.testing.assert_array_equal(part, first[10:20])
