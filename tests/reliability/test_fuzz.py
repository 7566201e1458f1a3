"""Fuzzing: hostile or random input gives rareflow's own validation errors, never a crash.

Scenario YAML (random documents built from the schema's keys and hostile values) and dataset
CSV files (random and mutated tables) are fed to the loaders; anything other than success or a
``RareflowError`` is a crash. The counts of accepted, refused and crashed inputs are real (each
test counts its own) and are reported at the end of the pytest run. The trade fuzzer's header
has every column the Comtrade layout requires, so its inputs reach row parsing (counted).
"""

from __future__ import annotations

import csv
import io
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import read_rows

from rareflow.data.load import RawTable, check_table
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.data.trade import read_trade
from rareflow.errors import DataError, RareflowError
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


class _Outcomes:
    """Real counts of a fuzz test's inputs: accepted, refused with a message, crashed."""

    def __init__(self, name: str, record: Callable[[str, object], None]) -> None:
        self.name, self.record = name, record
        self.accepted = self.refused = 0
        self.crashes: list[str] = []

    def judge(self, action: Callable[[], Any]) -> str:
        """Run an action: success or a rareflow error with a message; anything else a crash."""
        try:
            action()
        except RareflowError as exc:
            outcome = "refused" if exc.user_message() else "crash"
            if outcome == "crash":
                self.crashes.append("empty message")
        except Exception as exc:  # every other error is a finding, counted
            outcome = "crash"
            self.crashes.append(f"{type(exc).__name__}: {exc}"[:300])
        else:
            outcome = "accepted"
        self.accepted += outcome == "accepted"
        self.refused += outcome == "refused"
        return outcome

    def report(self) -> None:
        """Record the counts for the end-of-run summary, and fail on any crash."""
        n = self.accepted + self.refused + len(self.crashes)
        self.record(f"fuzz_cases:{self.name}", n)
        self.record(
            f"fuzz_outcomes:{self.name}",
            f"{self.accepted:,} accepted, {self.refused:,} refused, {len(self.crashes)} crashes",
        )
        assert not self.crashes, self.crashes[:5]


@pytest.mark.slow
def test_scenario_fuzz_10000(record_property: Callable[[str, object], None]) -> None:
    outcomes = _Outcomes("scenario YAML", record_property)

    @settings(
        max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(doc=DOCS, as_text=st.booleans(), junk=st.text(max_size=40))
    def fuzz(doc: Any, as_text: bool, junk: str) -> None:
        text = junk if as_text else yaml.safe_dump(doc, allow_unicode=True)
        outcomes.judge(lambda: parse_scenario(text, "fuzz.yaml"))

    fuzz()
    outcomes.report()


def test_scenario_fuzz_quick(record_property: Callable[[str, object], None]) -> None:
    outcomes = _Outcomes("scenario YAML (quick)", record_property)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(doc=st.dictionaries(st.sampled_from(KEYS), DOCS, max_size=8))
    def fuzz(doc: dict[str, Any]) -> None:
        outcomes.judge(lambda: parse_scenario(yaml.safe_dump(doc), "fuzz.yaml"))

    fuzz()
    outcomes.report()


CSV_CHARS = st.sampled_from([*string.printable, "é", "\x00", '"', ",", "\r", "—"])


@pytest.mark.slow
def test_dataset_csv_fuzz(record_property: Callable[[str, object], None]) -> None:
    outcomes = _Outcomes("dataset CSV", record_property)
    rows = read_rows("facilities")
    header = ",".join(rows[0].keys())
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(r.values() for r in rows[:20])
    good = out.getvalue().splitlines()

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=st.lists(
            st.one_of(
                st.sampled_from(good),
                st.lists(st.text(CSV_CHARS, max_size=12), max_size=16).map(",".join),
            ),
            max_size=6,
        ),
        keep_header=st.booleans(),
    )
    def fuzz(body: list[str], keep_header: bool) -> None:
        lines = [header] if keep_header else []
        raw = RawTable(TABLES_BY_NAME["facilities"], "facilities.csv", "\n".join([*lines, *body]))
        outcomes.judge(lambda: check_table(raw))

    fuzz()
    outcomes.report()
    assert outcomes.accepted > 50  # valid rows get through: the checks are not refusing all


TRADE_HEADER = (
    "freqCode,refYear,reporterISO,flowCode,partnerCode,partnerISO,cmdCode,netWgt,primaryValue"
)
"""Every column the Comtrade layout requires (SPECS[Layout.COMTRADE].required)."""
TRADE_GOOD = ["A", "2023", "IND", "M", "156", "CHN", "850511", "4500", "200000"]


def _past_header(exc: DataError) -> bool:
    return all(p.row is not None and p.row > 1 for p in exc.problems)


@pytest.mark.slow
def test_trade_csv_fuzz(tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    outcomes = _Outcomes("trade CSV", record_property)
    past_header = 0
    cell = st.one_of(st.text(CSV_CHARS, max_size=10), st.sampled_from(["", "0", "-1", "1e308"]))

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=st.lists(
            st.lists(st.one_of(st.none(), cell), min_size=9, max_size=10).map(
                lambda cells: (
                    [TRADE_GOOD[i] if c is None else c for i, c in enumerate(cells[:9])] + cells[9:]
                )  # a tenth cell: a row longer than the header
            ),
            max_size=6,
        )
    )
    def fuzz(body: list[list[Any]]) -> None:
        nonlocal past_header
        path = tmp_path / "trade.csv"
        path.write_text(
            "\n".join([TRADE_HEADER, *(",".join(str(c) for c in row) for row in body)]),
            encoding="utf-8",
            errors="surrogatepass",
        )
        try:
            read_trade(path, source_id="fuzz")
        except DataError as exc:
            past_header += _past_header(exc)
        except RareflowError:
            pass
        else:
            past_header += 1
        outcomes.judge(lambda: read_trade(path, source_id="fuzz"))

    fuzz()
    outcomes.report()
    record_property("fuzz_cases:trade CSV rows parsed (past the header)", past_header)
    n = outcomes.accepted + outcomes.refused
    assert past_header >= 0.95 * n  # the header is right: row parsing is what is fuzzed
    assert outcomes.accepted > 100  # and some rows are whole, valid imports
