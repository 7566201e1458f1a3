"""Every row of a table keyed by what reads it is read by the model; a user's row nothing reads is
refused (no silent no-ops).

``lever_costs.csv`` (lever, parameter), ``adaptation.csv`` (mechanism, parameter),
``recycling.csv`` (parameter, sector), ``policies.csv`` (policy, parameter) and
``control_parameters.csv`` (control, parameter) declare the keys the model reads
(:class:`rareflow.data.schema.Reads`); their accessors record each key asked for and refuse an
undeclared one. Building every preset's levers with their cost fields left empty (so each default
row is read), and the variants presets do not use, and running the 2025 backtest must ask for
exactly the declared keys; every embedded row of the first three must have a declared key (the
other two are mostly context: only their declared rows must exist).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import load_refusal

from rareflow.analysis.backtest import episode_2025
from rareflow.data.lever_costs import lever_cost
from rareflow.data.load import Dataset, load_dataset
from rareflow.data.query import adaptation, control_row, policy, recycling_row
from rareflow.data.schema import TABLES, TABLES_BY_NAME, Reads
from rareflow.engine.run import run
from rareflow.scenario.levers.base import REGISTRY
from rareflow.scenario.load import load_scenario, preset_names
from rareflow.scenario.schema import Scenario

KEYED = [t for t in TABLES if t.reads is not None]

OTHER_FORMS = {
    "technology_tie": ("royalty_usd_per_kg",),
    "recycling": (
        "capex_usd_per_t_per_year",
        "collection_rate",
        "preprocessing_yield",
        "recovery",
        "lead_months",
    ),
}
"""Fields that replace a dataset default when given (a fixed royalty, a plant's own capex, the
recycling chain's rates and lead time)."""

KNOWN_UNREAD: dict[str, set[tuple[str, str]]] = {
    "lever_costs": {
        ("magnet_scheme", "capex"),
        ("magnet_scheme", "lead_time"),
        ("magnet_scheme", "programme_cost"),
        ("magnet_scheme", "reference_capacity"),
    },
    "adaptation": set(),
    "recycling": set(),
}
"""Embedded rows nothing reads yet (found 2026-12-06): the magnet scheme's costs are its policy's
outlays (its fields, policies.csv), so its rows for the programme, the beneficiaries' private
capex and the build time wait for a decision on whether the scheme's plants' capex is a cost of
the lever. The list must match the data exactly, so a new unread row fails and a fixed one must
leave the list."""


def _reads(name: str) -> Reads:
    reads = TABLES_BY_NAME[name].reads
    assert reads is not None
    return reads


def _declared(reads: Reads) -> set[tuple[str, str]]:
    return {(a, b) for a, bs in reads.keys.items() for b in bs}


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A scenario's data with every lever's cost fields empty, so their rows are read."""
    for lever in data["levers"]:
        for name in (*REGISTRY[lever["type"]].cost_defaults, *OTHER_FORMS.get(lever["type"], ())):
            lever.pop(name, None)
    return {**data, "draws": 2}


def _cases() -> list[dict[str, Any]]:
    """Every preset with levers, and the variants no preset uses (a magnet plant financed)."""
    cases = []
    for name in preset_names():
        data = load_scenario(name).model_dump(mode="json", by_alias=True)
        if data["levers"]:
            cases.append(_with_defaults(data))
    finance = load_scenario("china-2025-april+finance").model_dump(mode="json", by_alias=True)
    for lever in finance["levers"]:
        if lever["type"] == "finance":
            lever["process"] = "magnet_ndfeb_sintered"
    cases.append(_with_defaults(finance))
    return cases


@pytest.mark.slow
def test_the_keys_read_are_exactly_the_declared_ones(dataset: Dataset) -> None:
    for table in KEYED:
        _reads(table.name).requested.clear()
    for data in _cases():
        run(Scenario.model_validate(data), dataset=dataset, keep_partners=False)
    episode_2025.backtest(dataset, draws=2)
    for table in KEYED:
        reads = _reads(table.name)
        never = _declared(reads) - reads.requested
        assert not never, f"{table.filename}: declared as read but nothing asked for {never}"


def test_every_embedded_row_has_a_key_the_model_reads(dataset: Dataset) -> None:
    for table in (t for t in KEYED if not _reads(t.name).context):
        reads = _reads(table.name)
        a, b = reads.columns
        rows = dataset.table(table.name)
        pairs = {(str(x), str(y)) for x, y in zip(rows[a], rows[b], strict=True)}
        unread = {(x, y) for x, y in pairs if not reads.allows(x, y)}
        assert unread == KNOWN_UNREAD[table.name], (
            f"{table.filename}: rows nothing reads {sorted(unread - KNOWN_UNREAD[table.name])}; "
            f"no longer unread: {sorted(KNOWN_UNREAD[table.name] - unread)}"
        )


def test_every_key_read_of_a_context_table_has_an_embedded_row(dataset: Dataset) -> None:
    context = [t for t in KEYED if _reads(t.name).context]
    assert {t.name for t in context} == {"policies", "control_parameters"}
    for table in context:
        reads = _reads(table.name)
        rows = dataset.chosen(table.name)
        for column, value in reads.where.items():
            rows = rows[rows[column] == value]
        a, b = reads.columns
        pairs = {(str(x), str(y)) for x, y in zip(rows[a], rows[b], strict=True)}
        assert _declared(reads) <= pairs, f"{table.filename}: {_declared(reads) - pairs}"
        assert len(pairs) > len(_declared(reads)), f"{table.filename} has no context rows"


def test_an_undeclared_key_cannot_be_read(dataset: Dataset) -> None:
    with pytest.raises(KeyError, match="for lever 'consortium' it reads parameter capex, premium"):
        lever_cost(dataset, "consortium", "programme_cost")
    licences = adaptation(dataset, "IND")["emergency_licences"]
    with pytest.raises(KeyError, match="mechanism 'emergency_licences', parameter 'capacity'"):
        licences.get("capacity", "all")
    with pytest.raises(KeyError, match="policy 'repm-scheme-2025', parameter 'capital_subsidy'"):
        policy(dataset, "repm-scheme-2025", "capital_subsidy")
    with pytest.raises(KeyError, match="only rows with destination IND are read"):
        control_row(dataset, "cn-2025-04", "USA", "first_licence_delay")
    with pytest.raises(KeyError, match="for parameter 'recovery' it reads sector all"):
        recycling_row(dataset, "IND", "magnet_to_magnet", "wind", "recovery")


def _user_table(tmp_path: Path, name: str, *rows: str) -> Path:
    header = (Path(__file__).parents[2] / "src/rareflow/data/tables" / f"{name}.csv").read_text(
        "utf-8"
    )
    folder = tmp_path / "user"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.csv").write_text("\n".join([header.splitlines()[0], *rows]) + "\n", "utf-8")
    return folder


def test_a_user_lever_cost_row_nothing_reads_is_refused(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "lever_costs",
        "consortium,premium,0.25,0.1,0.3,fraction,2025,rareflow-assumption,chosen,read",
        "consortium,programme_cost,18000,,,inr_crore,2025,pib-ncmm-2025,chosen,not read",
        "stockpile,capex,1,,,usd_million,2025,rareflow-assumption,chosen,not read",
    )
    message = load_refusal(folder)
    assert (
        "lever_costs.csv, row 3, column 'parameter': the model reads no lever 'consortium' "
        "parameter 'programme_cost' row, so this row would change no result (the levers' cost "
        "defaults read lever_costs.csv: for lever 'consortium' it reads parameter capex, premium)"
    ) in message
    assert "row 4" in message
    assert "lever 'stockpile'" in message
    assert "row 2" not in message


def test_a_user_adaptation_row_nothing_reads_is_refused(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "adaptation",
        "IND,emergency_licences,all,capacity,4,,,count,2025,et-2025-applications,chosen,firms",
    )
    message = load_refusal(folder)
    assert "adaptation.csv, row 2, column 'parameter'" in message
    assert "for mechanism 'emergency_licences' it reads parameter lag" in message


def test_a_user_row_the_model_reads_changes_a_result(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "adaptation",
        "IND,emergency_licences,all,lag,2,,,months,2025,rareflow-assumption,chosen,sooner",
    )
    scenario = load_scenario("china-2025-april+emergency-licences")
    data = _with_defaults(scenario.model_dump(mode="json", by_alias=True))
    for lever in data["levers"]:
        lever.pop("lag_months", None)
    scenario = Scenario.model_validate(data)
    base = run(scenario, dataset=load_dataset(), keep_partners=False).results
    mine = run(scenario, dataset=load_dataset(folder), keep_partners=False).results
    assert float(mine["shortfall"].sum()) != float(base["shortfall"].sum())


def test_a_user_policy_row_nothing_reads_is_refused(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "policies",
        "ncmm,IND,outlay_psu,20000,,,inr_crore,2025,pib-ncmm-2025,chosen,read",
        "repm-scheme-2025,IND,capital_subsidy,1500,,,inr_crore,2025,pib-repm-2025,chosen,not read",
    )
    message = load_refusal(folder)
    assert (
        "policies.csv, row 3, column 'parameter': the model reads no policy 'repm-scheme-2025' "
        "parameter 'capital_subsidy' row, so this row would change no result (the exploration "
        "pipeline's outlay costs read policies.csv: it reads only policy ncmm parameter "
        "outlay_government, outlay_psu; the table's other rows are context, shown by `rareflow "
        "data show` and cited in the docs, not model inputs"
    ) in message
    assert "row 2" not in message


def test_a_user_control_row_for_another_destination_is_refused(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "control_parameters",
        "cn-2025-04,USA,first_licence_delay,150,,,days,2025,et-2025-applications,chosen,other",
        "cn-2025-04,IND,applications_pending,70,,,count,2025,et-2025-applications,chosen,more",
    )
    message = load_refusal(folder)
    assert (
        "control_parameters.csv, row 2, column 'destination': the model reads no control_id "
        "'cn-2025-04' parameter 'first_licence_delay' destination 'USA' row"
    ) in message
    assert "for control_id 'cn-2025-04' it reads parameter first_licence_delay with " in message
    assert "control_parameters.csv, row 3, column 'parameter'" in message


def test_a_user_control_row_the_backtest_reads_changes_its_comparison(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "control_parameters",
        "cn-2025-04,IND,first_licence_delay,120,,,days,2025,et-2025-applications,chosen,sooner",
    )
    scenario = load_scenario(episode_2025.PRESET)
    base = episode_2025._licence_comparison(scenario, load_dataset())
    mine = episode_2025._licence_comparison(scenario, load_dataset(folder))
    assert base[0].observed == "209 (reported later)"
    assert mine[0].observed == "120 (reported later)"


def test_a_user_recycling_row_nothing_reads_is_refused(tmp_path: Path) -> None:
    folder = _user_table(
        tmp_path,
        "recycling",
        "IND,any,ev_car,collection_rate_formal,0.05,,,fraction,2022,rareflow-assumption,chosen,r",
        "IND,magnet_to_magnet,ev_car,recovery,0.9,,,fraction,2025,rareflow-assumption,chosen,n",
    )
    message = load_refusal(folder)
    assert (
        "recycling.csv, row 3, column 'sector': the model reads no parameter 'recovery' sector "
        "'ev_car' row, so this row would change no result (the recycling lever's defaults read "
        "recycling.csv: for parameter 'recovery' it reads sector all)"
    ) in message
    assert "row 2" not in message
