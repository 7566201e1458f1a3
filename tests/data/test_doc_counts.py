"""Issue 21 item 7: the dataset's counts quoted in the docs are generated from the data, and this
test fails when a document differs from what the generator would write."""

from __future__ import annotations

from pathlib import Path

import pytest

from rareflow.data.doccounts import counts, update

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/dataset.md"]


@pytest.mark.parametrize("name", DOCS)
def test_documented_counts_match_the_data(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "<!-- count:" in text
    assert update(text, counts()) == text, (
        f"{name} quotes stale dataset counts: run `python -m rareflow.data.doccounts {name}`"
    )


def test_every_table_has_its_row_count_in_dataset_md() -> None:
    facts = counts()
    text = (ROOT / "docs" / "dataset.md").read_text(encoding="utf-8")
    for key, rows in facts.items():
        if key.startswith("rows_"):
            assert f"| {key.removeprefix('rows_')} | {rows:,} |" in text, key


def test_update_rewrites_markers_and_table_rows() -> None:
    facts = {"sources": 1234, "tables": 2, "rows": 5, "rows_sources": 1234, "rows_prices": 81}
    text = (
        "<!-- count:sources -->9<!-- /count --> sources\n"
        "| sources | 7 | citations |\n| prices | 81 | x |\n| other | 3 | y |\n"
    )
    assert update(text, facts) == (
        "<!-- count:sources -->1,234<!-- /count --> sources\n"
        "| sources | 1,234 | citations |\n| prices | 81 | x |\n| other | 3 | y |\n"
    )
    with pytest.raises(KeyError, match="unknown count 'stars'"):
        update("<!-- count:stars -->1<!-- /count -->", facts)
