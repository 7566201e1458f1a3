"""Lever costs: every lever has a cited or labelled cost, and the queries say what is missing."""

from __future__ import annotations

import pytest

from rareflow.data.lever_costs import COST_PARAMETERS, lever_cost, lever_costs
from rareflow.data.load import Dataset
from rareflow.data.schema import LEVERS
from rareflow.errors import InputError
from rareflow.scenario.levers import LEVER_TYPES


def test_the_table_knows_every_lever_type() -> None:
    types = {str(t.model_fields["type"].default) for t in LEVER_TYPES}
    assert types == set(LEVERS)


@pytest.mark.parametrize("lever", LEVERS)
def test_no_lever_is_free_by_default(dataset: Dataset, lever: str) -> None:
    rows = lever_costs(dataset, lever)
    priced = [rows[p] for p in COST_PARAMETERS if p in rows]
    assert priced, f"{lever} has no cost row"
    for row in rows.values():
        assert row.low <= row.value <= row.high
        # A labelled assumption carries a range, or says what it rests on in its note.
        if row.assumption:
            assert row.low < row.high or "ASSUMPTION" in row.note


def test_a_cited_row_and_its_provenance(dataset: Dataset) -> None:
    capex = lever_cost(dataset, "finance", "capex")
    # Midwest Advanced Materials: about Rs 1,000 crore for about 5,000 t/yr (Business Standard).
    assert (capex.value, capex.unit, capex.source_id) == (1000.0, "inr_crore", "bs-2025-midwest")
    assert not capex.assumption
    scale = lever_cost(dataset, "finance", "reference_capacity")
    assert scale.value == 5000.0
    assert lever_cost(dataset, "stockpile", "holding_cost").assumption


def test_queries_name_what_is_wrong(dataset: Dataset) -> None:
    with pytest.raises(InputError, match="unknown lever type 'dam'"):
        lever_costs(dataset, "dam")
    with pytest.raises(InputError, match="unknown lever cost parameter 'bribes'"):
        lever_cost(dataset, "finance", "bribes")
    with pytest.raises(KeyError, match="lever 'stockpile', parameter 'capex' is not declared"):
        lever_cost(dataset, "stockpile", "capex")
