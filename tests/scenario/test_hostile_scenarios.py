"""Hostile scenario YAML is refused before it can hang, bloat or change the question.

Each case here was found by hand or by fuzzing (issue 21, items C, D, E and 3): a 'billion laughs'
alias bomb, deep nesting, a huge value quoted back in the message, repeated keys, NaN and
infinities in numbers, out-of-range dates, negative money, and messages that leaked pydantic's
internal names. The numeric checks walk every number of every preset, so a new field is covered
as soon as a preset uses it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from rareflow.errors import ScenarioError
from rareflow.scenario.levers import LEVER_TYPES
from rareflow.scenario.load import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_NODES,
    load_scenario,
    parse_scenario,
    preset_names,
)
from rareflow.scenario.schema import Scenario


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return info.value.user_message()


def _bomb(levels: int, fan: int, field: str) -> str:
    lines = ["a0: &a0 [lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels + 1)]
    return "\n".join([*lines, f"{field}: *a{levels}", "name: x"])


def test_alias_bomb_is_refused_before_it_expands() -> None:
    # 9 x 9 aliases, under 500 bytes: 9**7 lists once expanded. Today's loader quoted the whole
    # expansion back (44 MB) or hung in validation.
    text = _bomb(9, 9, "sampling")
    assert len(text) < 600
    message = _error(text)
    assert f"more than {MAX_NODES:,} values once YAML aliases are expanded" in message
    assert len(message) < 300


def test_many_small_aliases_are_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\nname: x\n"
    assert f"more than {MAX_ALIASES} YAML aliases" in _error(text)


def test_a_few_aliases_still_work() -> None:
    text = (
        "name: x\nshocks:\n- &cut {type: supply_cut, exporter: MMR, start: 2025-01, "
        "elements: [Dy], fraction: 0.5}\n- *cut\n"
    )
    assert len(parse_scenario(text).shocks) == 2


@pytest.mark.parametrize("flow", [True, False])
def test_deep_nesting_is_refused_with_the_limit(flow: bool) -> None:
    depth = MAX_DEPTH + 5
    if flow:
        text = "name: x\ndescription: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "name: x\ndescription:\n" + "".join("  " * i + "- \n" for i in range(depth))
    assert f"nested too deeply (more than {MAX_DEPTH} levels)" in _error(text)


def test_a_huge_value_is_not_quoted_back_in_full() -> None:
    message = _error("name: x\nsampling: " + "y" * 500_000 + "\n")
    assert "field 'sampling'" in message
    assert len(message) < 500


def test_many_problems_are_counted_not_all_listed() -> None:
    doc = {"name": "x", **{f"bogus{i}": 1 for i in range(200)}}
    message = _error(yaml.safe_dump(doc))
    assert "... and 180 more" in message
    assert message.count("\n") <= 22


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("name: x\ndraws: 10\ndraws: 10000000\n", "draws"),
        ("name: x\nparameters:\n  restock_months: 3\n  restock_months: 5\n", "restock_months"),
        ("name: x\nname: y\n", "name"),
    ],
)
def test_a_repeated_key_is_refused(text: str, key: str) -> None:
    assert f"key '{key}' is given twice in one mapping" in _error(text)


def test_a_merge_key_is_not_a_repeated_key() -> None:
    text = "base: &b {restock_months: 0.2}\n"
    with pytest.raises(ScenarioError, match="unknown key"):  # 'base' itself is no field
        parse_scenario(text + "name: x\nparameters:\n  <<: *b\n  restock_months: 2\n")


@pytest.mark.parametrize("start", ["0001-01", "1816-03", "2300-01", "9999-12-01"])
def test_a_start_outside_the_allowed_span_is_refused(start: str) -> None:
    message = _error(f"name: x\nstart: {start}\n")
    assert "field 'start'" in message
    assert "expected one from 1950-01 to 2150-12" in message


def test_a_shock_date_outside_the_span_is_refused() -> None:
    text = (
        "name: x\nshocks:\n- {type: export_control, exporter: CHN, start: 2025-04, "
        "end: 3000-01, elements: [Dy]}\n"
    )
    assert "field 'shocks[0].end'" in _error(text)


Path = tuple[int | str, ...]


def _numbers(obj: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _numbers(value, (*path, i))
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield path, obj


def _replaced(doc: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    here: Any = out
    for part in path[:-1]:
        here = here[part]
    here[path[-1]] = value
    return out


def _preset_docs() -> dict[str, dict[str, Any]]:
    return {n: load_scenario(n).model_dump(mode="json", by_alias=True) for n in preset_names()}


def test_no_number_of_any_preset_accepts_nan_infinity_or_absurd_values() -> None:
    accepted = []
    tried = 0
    for name, doc in _preset_docs().items():
        for path, value in _numbers(doc):
            bad: list[Any] = (
                [math.nan, math.inf, -math.inf, 1e300, -1e300]
                if isinstance(value, float)
                else [10**30, -(10**30)]
            )
            for v in bad:
                tried += 1
                try:
                    Scenario.model_validate(_replaced(doc, path, v))
                except ValueError:
                    continue
                accepted.append(f"{name}: {path} = {v}")
    assert tried > 2000
    assert accepted == []


def test_money_is_never_negative() -> None:
    accepted = []
    for name, doc in _preset_docs().items():
        for path, _ in _numbers(doc):
            field = next((p for p in reversed(path) if isinstance(p, str) and p not in
                          ("low", "high", "mode", "value", "mean", "median")), "")  # fmt: skip
            if not any(w in field for w in ("usd", "inr", "capex", "opex", "subsidy", "budget")):
                continue
            try:
                Scenario.model_validate(_replaced(doc, path, -1.0))
            except ValueError:
                continue
            accepted.append(f"{name}: {path}")
    assert accepted == []


def test_nan_in_a_parameter_is_refused_by_name() -> None:
    message = _error("name: x\nparameters: {restock_months: .nan}\n")
    assert "field 'parameters.restock_months': expected a finite number (got nan)" in message


def test_an_affected_share_without_a_content_rule_is_refused_by_name() -> None:
    shock = (
        "name: x\nshocks:\n  - {type: export_control, start: 2025-04-01, elements: [Dy], "
        "reexport_affected_share: 1.0"
    )
    message = _error(shock + "}\n")
    assert "field 'shocks[0]': reexport_affected_share" in message
    assert "set reexport_content_rule too" in message
    parse_scenario(shock + ", reexport_content_rule: 0.001}\n", "s.yaml")


@pytest.mark.parametrize(
    ("name", "instead"),
    [("nonchina_surge", "supplier_headroom.csv"), ("row_competition", "importers.csv")],
)
def test_replaced_parameters_are_refused_with_what_replaced_them(name: str, instead: str) -> None:
    message = _error(f"name: x\nparameters: {{{name}: 0.3}}\n")
    assert f"{name} is no longer a parameter" in message
    assert instead in message


def test_a_bad_uniform_is_reported_once_without_internals() -> None:
    text = (
        "name: x\nshocks:\n- type: export_control\n  start: 2025-04\n  elements: [Dy]\n"
        "  licence:\n  - from: 2025-04\n    approval_probability: {dist: uniform, low: 0.7, "
        "high: 0.6}\n"
    )
    message = _error(text)
    assert message.splitlines()[1:] == [
        "  - field 'shocks[0].licence[0].approval_probability': high (0.6) must be >= low (0.7)"
    ]


def test_a_word_for_a_number_names_both_forms_once() -> None:
    text = "name: x\nparameters: {restock_months: soon}\n"
    assert _error(text).splitlines()[1:] == [
        "  - field 'parameters.restock_months': expected a number or a distribution such as "
        "{dist: uniform, low: 1, high: 2} (got 'soon')"
    ]


def _lever_examples() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for doc in _preset_docs().values():
        for lever in doc["levers"]:
            found.setdefault(lever["type"], lever)
    return found


def test_every_lever_type_has_an_example_in_the_presets() -> None:
    tags = {str(cls.model_fields["type"].default) for cls in LEVER_TYPES}
    assert tags <= set(_lever_examples())


@pytest.mark.parametrize("tag", sorted(str(c.model_fields["type"].default) for c in LEVER_TYPES))
def test_a_bad_field_of_every_lever_type_is_reported_by_its_own_path(tag: str) -> None:
    lever = _lever_examples()[tag]
    numbers = [
        k for k, v in lever.items() if isinstance(v, float) or (isinstance(v, dict) and "dist" in v)
    ]
    assert numbers, f"{tag} has no number to break"
    field = numbers[0]
    broken = {**lever, field: "lots", "colour": "red"}
    message = _error(yaml.safe_dump({"name": "x", "levers": [broken]}))
    lines = message.splitlines()[1:]
    assert lines[0].startswith(f"  - field 'levers[0].{field}': expected a number")
    assert lines[1].startswith("  - field 'levers[0].colour': unknown key")
    assert len(lines) == 2
    for internal in ("tagged-union", "function-after", f".{tag}.", "float", "constrained"):
        assert internal not in message.replace("a number", "")
