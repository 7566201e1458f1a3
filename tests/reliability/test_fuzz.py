"""Fuzzing: hostile or random input gives rareflow's own validation errors, never a crash.

Scenario YAML (random documents built from the schema's keys and hostile values) and dataset
CSV files (random and mutated tables) are fed to the loaders; anything other than success or a
``RareflowError`` fails the test. Counts are reported at the end of the pytest run.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import read_rows

from rareflow.data.load import RawTable, validate
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.data.trade import read_trade
from rareflow.errors import RareflowError
from rareflow.scenario.load import parse_scenario

KEYS = [
    "name", "country", "start", "horizon_months", "step_months", "draws", "seed", "sampling",
    "shocks", "levers", "allocation", "prices", "parameters", "type", "exporter", "elements",
    "forms", "licence", "from", "delay_days", "approval_probability", "fraction", "end",
    "suspended", "material", "target_months", "partner", "t_per_year", "dist", "low", "high",
    "mode", "median", "sigma", "priority", "rule", "elasticity", "colour", "!!python/object",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["2025-04", "2025-13-45", "CHN", "IND", "Dy", "Xx", "export_control",
                     "stockpile", "supply_contract", "uniform", "beta", "all", "1e309", "-0"]),
)  # fmt: skip
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    ),
    max_leaves=25,
)


def _counted(name: str, record: Callable[[str, object], None]) -> Callable[[], None]:
    count = {"n": 0}

    def tick() -> None:
        count["n"] += 1
        record(f"fuzz_cases:{name}", count["n"])

    return tick


def _only_our_errors(action: Callable[[], Any]) -> None:
    """Run an action; success and rareflow's own errors (with a message) are the only outcomes."""
    try:
        action()
    except RareflowError as exc:
        message = exc.user_message()
    else:
        return
    assert message


@pytest.mark.slow
def test_scenario_fuzz_10000(record_property: Callable[[str, object], None]) -> None:
    tick = _counted("scenario YAML", record_property)

    @settings(
        max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(doc=DOCS, as_text=st.booleans(), junk=st.text(max_size=40))
    def fuzz(doc: Any, as_text: bool, junk: str) -> None:
        tick()
        text = junk if as_text else yaml.safe_dump(doc, allow_unicode=True)
        _only_our_errors(lambda: parse_scenario(text, "fuzz.yaml"))

    fuzz()


def test_scenario_fuzz_quick(record_property: Callable[[str, object], None]) -> None:
    tick = _counted("scenario YAML (quick)", record_property)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(doc=st.dictionaries(st.sampled_from(KEYS), DOCS, max_size=8))
    def fuzz(doc: dict[str, Any]) -> None:
        tick()
        _only_our_errors(lambda: parse_scenario(yaml.safe_dump(doc), "fuzz.yaml"))

    fuzz()


CSV_CHARS = st.sampled_from([*string.printable, "é", "\x00", '"', ",", "\r", "—"])


def test_dataset_csv_fuzz(record_property: Callable[[str, object], None]) -> None:
    tick = _counted("dataset CSV", record_property)
    rows = read_rows("facilities")
    header = ",".join(rows[0].keys())

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=st.lists(st.lists(st.text(CSV_CHARS, max_size=12), max_size=16), max_size=6),
        keep_header=st.booleans(),
    )
    def fuzz(body: list[list[str]], keep_header: bool) -> None:
        tick()
        lines = [header] if keep_header else []
        lines += [",".join(cells) for cells in body]
        raw = RawTable(TABLES_BY_NAME["facilities"], "facilities.csv", "\n".join(lines))
        _only_our_errors(lambda: validate([raw]))

    fuzz()


def test_trade_csv_fuzz(tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    tick = _counted("trade CSV", record_property)
    header = "refYear,reporterISO,partnerISO,flowCode,cmdCode,netWgt,primaryValue"

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=st.lists(st.lists(st.text(CSV_CHARS, max_size=10), max_size=9), max_size=6))
    def fuzz(body: list[list[str]]) -> None:
        tick()
        path = tmp_path / "trade.csv"
        path.write_text(
            "\n".join([header, *(",".join(c) for c in body)]),
            encoding="utf-8",
            errors="surrogatepass",
        )
        _only_our_errors(lambda: read_trade(path, source_id="fuzz"))

    fuzz()
