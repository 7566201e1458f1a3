"""Issue 16, data stage: routes, grades, buyer groups and adaptation, their query and their view.

The tables are read through :mod:`rareflow.data.query`; ``rareflow exposure`` shows them per
sector with their sources and says that the engine does not use them yet.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rareflow import display
from rareflow.cli import app, output
from rareflow.cli.exposure import ENGINE_NOTE, Exposure, exposure_of, sector_rows
from rareflow.data import query
from rareflow.data.load import Dataset, load_dataset
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.errors import DataError, InputError

TABLES = ("magnet_routes", "magnet_grades", "buyer_groups", "adaptation")
ROUTES_HEADER = "country,sector,route,value,low,high,unit,year,source_id,choice,note"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset()


def test_every_row_cites_a_known_source_and_assumptions_are_labelled(dataset: Dataset) -> None:
    sources = dataset.table("sources").set_index("source_id")
    for name in TABLES:
        rows = dataset.table(name)
        assert not rows.empty, name
        for source, note in zip(rows["source_id"], rows["note"], strict=True):
            assert source in sources.index, (name, source)
            if sources.loc[source, "kind"] == "assumption":
                assert "ASSUMPTION" in str(note) or "rareflow" in str(note), (name, note)


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("magnet_routes", None),
        ("magnet_grades", "share_of_need"),
        ("buyer_groups", "share_of_sector"),
    ],
)
def test_shares_of_each_sector_add_to_one(dataset: Dataset, name: str, metric: str | None) -> None:
    group = TABLES_BY_NAME[name].shares[0]
    rows = dataset.chosen(name)
    if metric is not None:
        rows = rows[rows["metric"] == metric]
    for key, part in rows.groupby(["country", "sector"]):
        assert math.isclose(part["value"].sum(), 1.0, abs_tol=group.tolerance), key


def test_shares_that_do_not_add_up_are_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "magnet_routes.csv").write_text(
        f"{ROUTES_HEADER}\nIND,two_wheeler,bare_import,0.9,,,fraction,2025,"
        "rareflow-assumption,chosen,mine\n",
        "utf-8",
    )
    with pytest.raises(DataError) as info:
        load_dataset(tmp_path)
    message = info.value.user_message()
    assert "magnet_routes.csv" in message
    assert "sector=two_wheeler sum to 1.3" in message


def test_every_sector_with_routes_has_a_requirement_grades_and_buyer_groups(
    dataset: Dataset,
) -> None:
    e = exposure_of(dataset, "IND")
    assert len(e.routes) >= 6
    for sector, split in e.routes.items():
        assert sector in e.need, sector
        assert set(split.parts) == {"bare_import", "embedded_import", "domestic"}
        assert sum(e.grades[sector].shares.values()) == pytest.approx(1, abs=0.01)
        assert e.groups[sector], sector


def test_a_sector_without_rows_is_shown_as_such(dataset: Dataset) -> None:
    e = exposure_of(dataset, "IND")
    trimmed = Exposure(
        e.country,
        e.data_version,
        e.need,
        {k: v for k, v in e.routes.items() if k != "wind"},
        e.grades,
        e.groups,
        e.content,
        e.mechanisms,
        e.recorded_bare,
    )
    row = next(r for r in sector_rows(trimmed) if r["sector"] == "wind")
    assert row["routes"] == "no rows"
    assert trimmed.implied_bare()["value"] < e.implied_bare()["value"]


def test_buyer_groups_add_up_to_the_route_shares(dataset: Dataset) -> None:
    routes = query.magnet_routes(dataset, "IND")
    for sector, groups in query.buyer_groups(dataset, "IND").items():
        by_route: dict[str, float] = {}
        for g in groups:
            by_route[g.route] = by_route.get(g.route, 0.0) + g.share.value
            # A group without a cover row keeps the industry's cover (inventories.csv).
            assert g.cover is None or g.cover.unit == "weeks"
            assert g.adaptation_lag is not None
            assert g.adaptation_lag.unit == "months"
        for route, share in routes[sector].shares.items():
            assert by_route.get(route, 0.0) == pytest.approx(share, abs=0.01), (sector, route)


def test_bare_imports_implied_by_the_routes_bracket_the_870_t_recorded(dataset: Dataset) -> None:
    implied = exposure_of(dataset, "IND").implied_bare()
    assert implied["low"] <= 870 <= implied["high"]


def test_grade_content_light_grades_carry_no_heavy_rare_earths(dataset: Dataset) -> None:
    assert query.grade_content(dataset, "ndfeb_light", "Dy").value == 0
    assert query.grade_content(dataset, "ndfeb_light", "Tb").value == 0
    tb = query.grade_content(dataset, "ndfeb_heavy", "Tb", "IND")
    assert tb.value > 0
    assert tb.low is not None
    assert tb.high is not None
    dy = query.grade_content(dataset, "ndfeb_heavy", "Dy")
    assert dy.sources == ("heim-2023",)
    with pytest.raises(InputError, match="Dy and Tb content only"):
        query.grade_content(dataset, "ndfeb_heavy", "Nd")
    with pytest.raises(InputError, match="no chosen content_dy row of grade smco"):
        query.grade_content(dataset, "smco", "Dy")


def test_adaptation_mechanisms_have_a_lag_and_fall_back_to_all(dataset: Dataset) -> None:
    mechanisms = query.adaptation(dataset, "IND")
    assert set(mechanisms) == {
        "light_re_grades",
        "import_complete_motors",
        "divert_irel_exports",
        "emergency_licences",
    }
    for m in mechanisms.values():
        assert m.get("lag", "two_wheeler") is not None, m.mechanism
    motors = mechanisms["import_complete_motors"]
    reach = motors.get("max_share", "ev_car")  # the 'all' row: magnets, not products, reached
    assert reach is not None
    assert reach.value == pytest.approx(1.0)
    light = mechanisms["light_re_grades"]
    car_lag, scooter_lag = light.get("lag", "ev_car"), light.get("lag", "two_wheeler")
    assert car_lag is not None
    assert scooter_lag is not None
    assert car_lag.value > scooter_lag.value


def test_a_country_without_rows_is_refused_with_a_clear_message(dataset: Dataset) -> None:
    with pytest.raises(InputError, match="no magnet_routes, magnet_grades or buyer_groups rows"):
        exposure_of(dataset, "USA")


def test_cli_table_prints_each_sector_and_the_engine_note(monkeypatch: pytest.MonkeyPatch) -> None:
    # The results console fixes its width when first imported; a worker that imported it at 80
    # columns would wrap the cells this test looks for.
    monkeypatch.setattr(output.console, "width", 250)
    result = CliRunner().invoke(app, ["exposure", "--country", "IND"], terminal_width=250)
    assert result.exit_code == 0, result.output
    # Sectors by their display names in the table (the JSON keeps the ids).
    for sector in ("two_wheeler", "three_wheeler", "ev_car", "ice_vehicle", "wind", "electronics"):
        assert display.name(sector) in result.output
    assert "The engine steps these buyer groups, routes and grades" in result.output
    assert "large_multi_source" in result.output
    assert "bs-2025-light-re" in result.output


def test_cli_json_has_the_fields() -> None:
    result = CliRunner().invoke(app, ["exposure", "--country", "IND", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["engine_uses_these"] is False
    assert doc["note"] == ENGINE_NOTE
    sectors = {s["sector"]: s for s in doc["sectors"]}
    two = sectors["two_wheeler"]
    assert two["routes"]["bare_import"]["value"] == pytest.approx(0.6)
    assert two["routes"]["bare_import"]["sources"] == ["rareflow-assumption"]
    assert two["grades"]["ndfeb_heavy"]["sources"] == ["bs-2025-light-re"]
    group = two["buyer_groups"][0]
    assert set(group) == {"group", "route", "share", "cover_weeks", "adaptation_lag_months"}
    assert two["requirement_t_per_year"] > 0
    assert "bs-2025-08-10-e2w-output" in two["sources"]
    check = doc["bare_import_check"]
    assert check["implied_bare_imports_t_per_year"]["value"] > 0
    assert {a["mechanism"] for a in doc["adaptation"]} >= {"emergency_licences"}


def test_cli_csv_has_one_row_per_figure() -> None:
    result = CliRunner().invoke(app, ["exposure", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "sector,what,item,detail,value,low,high,unit,year,sources"
    assert any(line.startswith("wind,route,bare_import,") for line in lines)
    assert any(",adaptation,divert_irel_exports:capacity," in line for line in lines)


def test_cli_refuses_a_country_without_rows() -> None:
    result = CliRunner().invoke(app, ["exposure", "--country", "USA"])
    assert result.exit_code != 0
