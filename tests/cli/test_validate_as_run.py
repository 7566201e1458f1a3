"""`scenario validate` and `data validate` refuse what `run` refuses, and warn about levers that
cannot act within the horizon (issue 21, items 1 and E)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import read_rows, write_table
from typer.testing import CliRunner

from rareflow.cli import app
from rareflow.data.load import Dataset
from rareflow.engine.run import check_scenario, run
from rareflow.errors import RareflowError
from rareflow.scenario.load import parse_scenario

runner = CliRunner()

LATE = """name: late
start: 2025-01
horizon_months: 24
levers:
- type: capacity
  process: magnet_ndfeb_sintered
  t_per_year: 1000
  online: {online}
"""


def _validate(tmp_path: Path, text: str, *extra: str) -> tuple[int, str, BaseException | None]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["scenario", "validate", str(path), *extra])
    return result.exit_code, result.output, result.exception


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\ncountry: XYZ\n", "unknown country 'XYZ'"),
        (
            "name: x\nlevers:\n- {type: supply_contract, partner: ZZZ, material: "
            "magnet_ndfeb_sintered, t_per_year: 100, start: 2025-07, price_usd_per_kg: 60}\n",
            "ZZZ",
        ),
        (
            "name: x\nlevers:\n- {type: stockpile, material: metal_dy, target_months: 3}\n",
            "the dataset has no price for metal_dy; set price_usd_per_kg",
        ),
        (
            "name: x\nshocks:\n- {type: export_control, exporter: ZZZ, start: 2025-04, "
            "elements: [Dy]}\n",
            "shocks[0].exporter: 'ZZZ' is not a country of the dataset",
        ),
        (
            "name: x\nshocks:\n- {type: supply_cut, exporter: QQQ, start: 2025-04, "
            "elements: [Dy], fraction: 0.5}\n",
            "shocks[0].exporter: 'QQQ' is not a country of the dataset",
        ),
    ],
)
def test_validate_refuses_what_run_refuses(tmp_path: Path, text: str, expected: str) -> None:
    code, _, exc = _validate(tmp_path, text)
    assert code != 0
    assert isinstance(exc, RareflowError)
    assert expected in exc.user_message()


def test_a_shock_on_an_unknown_exporter_does_not_run(dataset: Dataset) -> None:
    sc = parse_scenario(
        "name: x\ndraws: 2\nshocks:\n- {type: export_control, exporter: ZZZ, start: 2025-04, "
        "elements: [Dy, Tb]}\n"
    )
    with pytest.raises(RareflowError, match="not a country of the dataset"):
        run(sc, dataset=dataset)


def test_a_lever_after_the_horizon_is_warned_about(tmp_path: Path, dataset: Dataset) -> None:
    late = parse_scenario(LATE.format(online="2030-01"))
    warnings = check_scenario(late, dataset)
    assert len(warnings) == 1
    assert warnings[0].startswith("levers[0] (capacity) changes nothing within the horizon")
    assert "(2025-01 to 2026-12)" in warnings[0]
    assert run(late, dataset=dataset, draws=np.arange(2)).warnings == warnings
    code, output, _ = _validate(tmp_path, LATE.format(online="2030-01"))
    assert code == 0
    assert "warning: levers[0] (capacity) changes nothing" in output
    assert "1 warning(s)" in output


def test_a_lever_within_the_horizon_is_not_warned_about(dataset: Dataset) -> None:
    assert check_scenario(parse_scenario(LATE.format(online="2026-06")), dataset) == ()


def test_data_validate_refuses_what_run_refuses(tmp_path: Path) -> None:
    rows = [
        r | {"unit": "t_magnet_per_mw"}
        for r in read_rows("intensities")
        if r["sector"] == "ev_car" and r["choice"] == "chosen"
    ][:1]
    folder = tmp_path / "user"
    write_table(folder, "intensities", rows)
    result = runner.invoke(app, ["data", "validate", "--data", str(folder)])
    assert result.exit_code != 0
    assert isinstance(result.exception, RareflowError)
    assert "t_magnet_per_mw" in result.exception.user_message()


def test_data_validate_says_ok_for_the_embedded_data() -> None:
    result = runner.invoke(app, ["data", "validate"])
    assert result.exit_code == 0, result.output
    # India, and the other focal countries with cited sectors (issue 18): Germany, Japan, the US.
    assert "the baseline runs for DEU, IND, JPN, USA" in result.output
