"""Issue 21 item 7: docs/levers-supply.md's table is generated; its base column (no uncertainty)
is rerun here and compared with the document."""

from __future__ import annotations

from pathlib import Path

import pytest

from rareflow.analysis.supply_table import base_feed, documented_base_feeds

DOC = Path(__file__).resolve().parents[2] / "docs" / "levers-supply.md"


def test_documented_base_separation_feed_is_the_models() -> None:
    feeds = documented_base_feeds(DOC.read_text(encoding="utf-8"))
    assert set(feeds) == {120, 180, 300}
    for horizon, documented in feeds.items():
        assert base_feed(horizon) == pytest.approx(documented, abs=0.5), (
            f"docs/levers-supply.md: base feed over {horizon} months is stale; run "
            "`python -m rareflow.analysis.supply_table docs/levers-supply.md`"
        )
