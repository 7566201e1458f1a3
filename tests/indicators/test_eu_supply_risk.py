"""EU supply risk and economic importance (JRC 2017 methodology, doi:10.2760/73303).

The formulas are checked here on hand-worked values and their invariants. The reproduction of
published EU 2023 SR values from public inputs ('Study on the critical raw materials for the EU
2023 - Final report', doi:10.2873/725585) is in ``test_eu_sr_2023.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from rareflow.cli import criticality
from rareflow.errors import InputError
from rareflow.indicators.eu_supply_risk import (
    MaterialInput,
    country_supply_risk,
    economic_importance,
    eu_supply_risk,
    hhi_wgi_t,
    load_materials,
    scale_wgi,
    scale_wgi_mean,
    supply_risk,
)

EXAMPLE = (
    Path(__file__).parents[2] / "src" / "rareflow" / "indicators" / "data" / "eu_sr_example.json"
)


def test_hhi_wgi_t_hand_worked() -> None:
    # CN 80 % (WGI 6, t 1.2) and AU 20 % (WGI 2): (80^2*6*1.2 + 20^2*2) / 10,000
    # = (46,080 + 800) / 10,000 = 4.688
    assert hhi_wgi_t({"CN": 80, "AU": 20}, {"CN": 6, "AU": 2}, {"CN": 1.2}) == pytest.approx(4.688)


def test_hhi_wgi_t_monopoly_of_worst_governance_is_ten() -> None:
    assert hhi_wgi_t({"XX": 100}, {"XX": 10}) == pytest.approx(10.0)


def test_supply_risk_hand_worked() -> None:
    # IR = 1: both terms weigh 1/2: (4.688 + 3.232) / 2 = 3.96; x (1 - 0.1) x 0.9 = 3.2076
    assert supply_risk(4.688, 3.232, 1.0, 0.1, 0.9) == pytest.approx(3.2076)
    # IR = 0: only sourcing counts.
    assert supply_risk(4.688, 3.232, 0.0, 0.0, 1.0) == pytest.approx(3.232)


def test_example_file_matches_hand_arithmetic() -> None:
    # example-A: HHI_GS = 4.688 (above); HHI_EU = (60^2*6*1.2 + 40^2*4) / 10,000 = 3.232.
    # example-B: one supplier, WGI 6, no EU data: HHI = 6 for both terms; SR = 6.
    results = {r.material: r for r in map(eu_supply_risk, load_materials(EXAMPLE))}
    assert results["example-A"].hhi_wgi_t_sourcing == pytest.approx(3.232)
    assert results["example-A"].supply_risk == pytest.approx(3.2076)
    assert results["example-B"].supply_risk == pytest.approx(6.0)
    assert results["example-B"].sourcing == "global"


def test_null_eu_shares_equals_eu_shares_set_to_global() -> None:
    base = load_materials(EXAMPLE)[0]
    without = base.model_copy(update={"eu_shares": None})
    with_global = base.model_copy(update={"eu_shares": dict(base.global_shares)})
    assert eu_supply_risk(without).supply_risk == pytest.approx(
        eu_supply_risk(with_global).supply_risk
    )


def test_country_perspective_uses_import_shares() -> None:
    # India sourcing 50 % CN (WGI 6), 50 % JP (WGI 1.5): (2,500*6 + 2,500*1.5) / 10,000 = 1.875;
    # global 100 % CN: 6. IR = 1: (6 + 1.875) / 2 = 3.9375; EoL 0, SI 1.
    r = country_supply_risk(
        "oxide",
        global_shares={"CN": 100},
        import_shares={"CN": 50, "JP": 50},
        wgi_scaled={"CN": 6, "JP": 1.5},
        import_reliance=1.0,
        eol_rir=0.0,
        substitution_index=1.0,
    )
    assert r.hhi_wgi_t_sourcing == pytest.approx(1.875)
    assert r.supply_risk == pytest.approx(3.9375)
    assert r.sourcing == "IN"


def test_economic_importance_hand_worked() -> None:
    # 60 % of uses in C29 (VA 200), 40 % in C27 (VA 100); largest sector VA 250; SI_EI 0.95:
    # (0.6*200 + 0.4*100) / 250 * 10 * 0.95 = 160 / 250 * 9.5 = 6.08
    ei = economic_importance({"C29": 0.6, "C27": 0.4}, {"C29": 200, "C27": 100}, 250, 0.95)
    assert ei == pytest.approx(6.08)


def test_scale_wgi() -> None:
    assert scale_wgi(2.5) == 0.0
    assert scale_wgi(-2.5) == 10.0
    assert scale_wgi(0.0) == 5.0


def test_scale_wgi_mean_averages_then_scales() -> None:
    # mean(0.0, 1.0) = 0.5; (2.5 - 0.5) * 2 = 4.0
    assert scale_wgi_mean([0.0, 1.0]) == pytest.approx(4.0)
    assert scale_wgi_mean([-0.4, -0.2]) == pytest.approx(scale_wgi(-0.3))
    with pytest.raises(ValueError, match="empty"):
        scale_wgi_mean([])


shares = st.dictionaries(
    st.sampled_from(["CN", "AU", "US", "MM", "MY", "VN", "IN"]),
    st.floats(0.1, 100),
    min_size=1,
).map(lambda d: {k: v * 100 / sum(d.values()) for k, v in d.items()})
wgi_values = st.floats(0, 10)


@given(shares, wgi_values, st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_sr_between_zero_and_ten(
    s: dict[str, float], w: float, ir: float, eol: float, si: float
) -> None:
    wgi = dict.fromkeys(s, w)
    hhi = hhi_wgi_t(s, wgi)
    assert 0.0 <= supply_risk(hhi, hhi, ir, eol, si) <= 10.0 + 1e-9


@given(shares, st.floats(0, 9))
def test_sr_increases_with_wgi(s: dict[str, float], w: float) -> None:
    low = hhi_wgi_t(s, dict.fromkeys(s, w))
    high = hhi_wgi_t(s, dict.fromkeys(s, w + 1))
    assert supply_risk(high, high, 0.5, 0.0, 1.0) >= supply_risk(low, low, 0.5, 0.0, 1.0)


@given(st.floats(1, 99), wgi_values)
def test_sr_increases_with_concentration(top: float, w: float) -> None:
    # Moving supply from the smaller to the larger of two equally governed producers raises SR.
    even = {"CN": 50.0, "AU": 50.0}
    skewed = {"CN": max(top, 100 - top), "AU": min(top, 100 - top)}
    wgi = {"CN": w, "AU": w}
    assert hhi_wgi_t(skewed, wgi) >= hhi_wgi_t(even, wgi) - 1e-12


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "materials.json"
    path.write_text(json.dumps(data))
    return path


def _valid() -> dict[str, object]:
    return json.loads(EXAMPLE.read_text())[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"import_reliance": 1.5}, "[0] ('example-A').import_reliance"),
        ({"wgi_scaled": {"CN": 6, "AU": 2}}, "wgi_scaled has no value for MY"),
        ({"global_shares": {"CN": 90, "AU": 20}}, "global_shares add up to 110"),
        ({"global_shares": {"China": 100}}, "global_shares.China"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_material_and_field(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    path = _write(tmp_path, [{**_valid(), **change}])
    with pytest.raises(InputError) as info:
        load_materials(path)
    assert "materials.json" in str(info.value)
    assert expected in str(info.value)


def test_missing_field_is_reported(tmp_path: Path) -> None:
    item = _valid()
    del item["eu_shares"]
    with pytest.raises(InputError, match=r"\[0\] \('example-A'\)\.eu_shares: Field required"):
        load_materials(_write(tmp_path, [item]))


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(criticality.app, name="criticality")
    return app


def test_cli_json() -> None:
    result = CliRunner().invoke(
        _app(), ["criticality", "eu-sr", "--input", str(EXAMPLE), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["material"] == "example-A"
    assert rows[0]["supply_risk"] == pytest.approx(3.2076)
    assert {"hhi_wgi_t_global", "hhi_wgi_t_sourcing"} <= rows[0].keys()


def test_cli_table() -> None:
    result = CliRunner().invoke(_app(), ["criticality", "eu-sr", "--input", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "example-B" in result.output


def test_cli_missing_file_is_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["criticality", "eu-sr", "--input", str(tmp_path / "nope.json")]
    )
    assert isinstance(result.exception, InputError)
    assert "nope.json: cannot read the file" in str(result.exception)


def test_model_forbids_extra_fields() -> None:
    assert MaterialInput.model_config.get("extra") == "forbid"


def test_shares_over_100_by_rounding_are_scaled_and_noted(tmp_path: Path) -> None:
    # The EU's published shares reach 101 % after rounding (issue 21, item 5).
    rounded = {**_valid(), "global_shares": {"CN": 60.6, "AU": 40.4}, "eu_shares": None}
    exact = {**_valid(), "global_shares": {"CN": 60.0, "AU": 40.0}, "eu_shares": None}
    item = load_materials(_write(tmp_path, [rounded]))[0]
    assert item.global_shares == pytest.approx({"CN": 60.0, "AU": 40.0})
    got = eu_supply_risk(item)
    want = eu_supply_risk(load_materials(_write(tmp_path, [exact]))[0])
    assert got.supply_risk == pytest.approx(want.supply_risk)
    assert (
        got.note == "global_shares added up to 101 %: scaled to 100 % (rounding tolerance 2 points)"
    )
    assert want.note == ""


def test_shares_beyond_the_rounding_tolerance_are_refused(tmp_path: Path) -> None:
    item = {**_valid(), "global_shares": {"CN": 60.0, "AU": 42.5}}
    with pytest.raises(InputError, match=r"add up to 102.5 %.*up to 2 points over 100"):
        load_materials(_write(tmp_path, [item]))


def test_cli_shows_the_note(tmp_path: Path) -> None:
    path = _write(tmp_path, [{**_valid(), "global_shares": {"CN": 60.6, "AU": 40.4}}])
    result = CliRunner().invoke(
        _app(), ["criticality", "eu-sr", "--input", str(path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert "scaled to 100 %" in json.loads(result.output)[0]["note"]
