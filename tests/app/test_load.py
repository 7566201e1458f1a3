"""The dashboard under load: 20 sessions run presets at once; all finish, none sees another's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rareflow.scenario.load import load_scenario, preset_names
from rareflow.store import RunStore

SESSIONS = 20


@pytest.mark.slow
@pytest.mark.browser
def test_twenty_concurrent_sessions(chromium: Any, app_url: str, app_store: Path) -> None:
    # Presets without levers (the scenario presets, 36-month horizons); lever presets run up to
    # 300 months and are exercised by their own tests.
    presets = [p for p in preset_names() if not load_scenario(p).levers]
    contexts, pages, chosen = [], [], []
    for i in range(SESSIONS):
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(180_000)
        page.goto(app_url)
        preset = presets[i % len(presets)]
        page.get_by_test_id("stSelectbox").filter(has_text="Preset").click()
        # Type to filter: the dropdown renders only the options near the top of a long list.
        page.keyboard.type(preset)
        page.get_by_role("option", name=preset, exact=True).click()
        # Choosing a preset reruns the page and resets its widgets: wait for it to settle.
        expect(page.get_by_text(f"{preset} (IND)")).to_be_visible()
        expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
        draws = page.get_by_role("spinbutton", name="Draws")
        draws.fill(str(5 + i))  # each session asks for its own number of draws
        draws.press("Enter")
        expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
        expect(draws).to_have_value(str(5 + i))
        contexts.append(context)
        pages.append(page)
        chosen.append(preset)
    # Start every run before waiting for any: the sessions run at the same time.
    for page in pages:
        page.get_by_role("button", name="Run", exact=True).click()
    run_ids = []
    seen: list[tuple[int, str, str, str | None]] = []
    for i, (page, preset) in enumerate(zip(pages, chosen, strict=True)):
        done = page.get_by_text(re.compile(r"Done: stored as run \S+"))
        expect(done).to_be_visible(timeout=300_000)
        run_ids.append(done.inner_text().rsplit(" ", 1)[-1])
        # The page shows its own preset, and the run it stored is its own: its preset, its draws.
        assert f"{preset} (IND)" in page.inner_text("body")
        record = RunStore(app_store).get(run_ids[-1]).record
        stored_draws = re.search(r"^draws: (\d+)$", record.scenario_resolved, re.MULTILINE)
        seen.append((i, preset, record.name, stored_draws.group(1) if stored_draws else None))
    for i, preset, name, stored in seen:
        assert name == f"{preset} ({stored} draws)"
        assert stored == str(5 + i), (i, preset, stored)
    assert len(set(run_ids)) == SESSIONS
    for context in contexts:
        context.close()
