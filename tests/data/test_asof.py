"""The dataset as of a date: what a backtest may know."""

from __future__ import annotations

from datetime import date

import pytest

from rareflow.data.asof import as_of, published_by, source_dates
from rareflow.data.load import load_dataset
from rareflow.errors import DataError

CUTOFF = date(2025, 4, 1)


def test_dates_are_read_as_their_last_possible_day() -> None:
    assert published_by("2025-04-04", "x") == date(2025, 4, 4)
    assert published_by("2024-02", "x") == date(2024, 2, 29)
    assert published_by("2025", "x") == date(2025, 12, 31)
    with pytest.raises(DataError, match="'April 2025' is not a date"):
        published_by("April 2025", "sources.csv, row 3")
    with pytest.raises(DataError, match="not a date"):
        published_by("2025-13", "sources.csv, row 3")


def test_no_row_survives_from_a_source_published_on_or_after_the_cutoff() -> None:
    full = load_dataset()
    past, log = as_of(full, CUTOFF)
    dates = source_dates(full)
    sources = full.table("sources")
    kinds = dict(zip(sources["source_id"], sources["kind"], strict=True))
    for name, df in past.tables.items():
        if "source_id" not in df.columns or "choice" not in df.columns:
            continue
        for sid, year in zip(df["source_id"], df["year"], strict=True):
            if sid == "rareflow-derived":
                assert date(int(year) + 1, 12, 31) < CUTOFF, name
            elif kinds[sid] in {"assumption", "calibration"}:
                assert dates[sid] is None
            else:
                when = dates[sid]
                assert when is not None
                assert when < CUTOFF, (name, sid)
    assert sum(log.dropped.values()) > 0
    # Entity tables are definitions, kept whole (the export controls list names the shock).
    assert len(past.table("export_controls")) == len(full.table("export_controls"))


def test_an_older_alternative_takes_the_place_of_a_later_chosen_row() -> None:
    past, log = as_of(load_dataset(), CUTOFF)
    act = past.chosen("sector_activity")
    ev = act[(act["country"] == "IND") & (act["sector"] == "ev_car") & (act["year"] == 2024)]
    assert list(ev["source_id"]) == ["webdunia-2024-fada"]
    assert any("webdunia-2024-fada" in p for p in log.promoted)
    # Each key keeps exactly one chosen row.
    keys = ["country", "sector", "metric", "year"]
    assert not act.duplicated(subset=keys).any()


def test_a_cutoff_after_everything_keeps_everything() -> None:
    full = load_dataset()
    past, log = as_of(full, date(2100, 1, 1))
    assert sum(log.dropped.values()) == 0
    for name, df in full.tables.items():
        assert len(past.tables[name]) == len(df)
    assert past.version != full.version
