"""GeoPolRisk (Gemechu et al. 2016; Santillán-Saldivar et al. 2021 for the CF)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rareflow.errors import DataError
from rareflow.indicators.geopolrisk import (
    GeoPolRiskInput,
    geopolrisk,
    geopolrisk_table,
    political_instability,
)


def _india() -> GeoPolRiskInput:
    return GeoPolRiskInput(
        world_production={"CN": 60, "AU": 20, "US": 20},
        imports={"CN": 50, "MY": 30},
        instability={"CN": 0.6, "MY": 0.4},
        domestic_production=20,
        price=10,
    )


def test_hand_worked() -> None:
    # HHI = 0.6^2 + 0.2^2 + 0.2^2 = 0.44; p_A = 20 + 50 + 30 = 100;
    # import risk = (0.6*50 + 0.4*30) / 100 = 0.42; score = 0.44 * 0.42 = 0.1848; CF = 1.848
    r = geopolrisk(_india())
    assert r.hhi == pytest.approx(0.44)
    assert r.import_risk == pytest.approx(0.42)
    assert r.score == pytest.approx(0.1848)
    assert r.characterisation_factor == pytest.approx(1.848)


def test_domestic_production_dilutes_risk() -> None:
    more = _india().model_copy(update={"domestic_production": 120})
    assert geopolrisk(more).score < geopolrisk(_india()).score


def test_table_one_row_per_material() -> None:
    table = geopolrisk_table({"NdPr oxide": _india()})
    assert table.loc["NdPr oxide", "score"] == pytest.approx(0.1848)


def test_missing_instability_is_rejected() -> None:
    with pytest.raises(ValidationError, match="instability has no value for exporter"):
        GeoPolRiskInput(world_production={"CN": 1}, imports={"VN": 1}, instability={})


def test_no_supply_is_a_data_error() -> None:
    empty = GeoPolRiskInput(world_production={"CN": 1}, imports={}, instability={})
    with pytest.raises(DataError, match="material 'x'"):
        geopolrisk_table({"x": empty})


def test_political_instability_rescaling() -> None:
    assert political_instability(2.5) == 0.0
    assert political_instability(-2.5) == 1.0
    assert political_instability(0.0) == pytest.approx(0.5)


@given(
    st.dictionaries(st.sampled_from(["CN", "AU", "US", "MM"]), st.floats(0.01, 1e4), min_size=1),
    st.floats(0, 1e4),
    st.floats(0, 1),
)
def test_score_in_unit_interval(prod: dict[str, float], imports: float, g: float) -> None:
    r = geopolrisk(
        GeoPolRiskInput(
            world_production=prod,
            imports={"CN": imports},
            instability={"CN": g},
            domestic_production=1.0,
        )
    )
    assert 0.0 <= r.score <= 1.0 + 1e-12
