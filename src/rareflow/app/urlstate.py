"""The dashboard's state in its URL, so that a link reproduces the view.

The page writes what differs from the scenario's own settings into the query string (``preset``,
``draws``, ``seed``, ``cover``, ``headroom``, ``elasticity``, ``approval0.0``, ``delay0.0``,
``levers``, ``compare``, ``run``). When a page opens, the query string it was opened with is
read once and used as the widgets' starting values; widgets then keep their own state, and the
query string follows them.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from rareflow.app.controls import Controls

SNAPSHOT = "_url_at_open"
"""Session key of the query string the page was opened with."""


def _fmt(value: float) -> str:
    return f"{value:g}"


class UrlState:
    """Read the query string the page opened with; write the current state back.

    Parameters
    ----------
    params
        The page's query parameters (``st.query_params``), or any mutable mapping in tests.
    session
        Where the opening query string is kept (``st.session_state``); a plain dict in tests.
    """

    def __init__(
        self, params: MutableMapping[str, Any], session: MutableMapping[str, Any] | None = None
    ) -> None:
        self.params = params
        store = session if session is not None else _session()
        if SNAPSHOT not in store:
            store[SNAPSHOT] = {k: str(params[k]) for k in params}
        self.opened: dict[str, str] = dict(store[SNAPSHOT])
        self.current: dict[str, str] = {}
        self._preset_matches = True

    def get(self, name: str, default: str = "") -> str:
        """Return a value of the opening query string (settings only for its own preset)."""
        if name not in {"preset", "compare", "run"} and not self._preset_matches:
            return default
        return self.opened.get(name, default)

    def get_int(self, name: str, default: int) -> int:
        """Return an integer value, or the default if missing or not an integer."""
        try:
            return int(self.get(name, str(default)))
        except ValueError:
            return default

    def get_float(self, name: str, default: float) -> float:
        """Return a number, or the default if missing or not a number."""
        try:
            return float(self.get(name, str(default)))
        except ValueError:
            return default

    def get_range(self, name: str, default: tuple[float, float]) -> tuple[float, float]:
        """Return a ``low~high`` range, or the default."""
        text = self.get(name)
        try:
            low, high = (float(x) for x in text.split("~"))
        except ValueError:
            return default
        return (low, high) if low <= high else default

    def get_list(self, name: str) -> list[str]:
        """Return a comma-separated list."""
        text = self.get(name)
        return [x for x in text.split(",") if x]

    def set(self, name: str, value: str) -> None:
        """Set a value of the current state ('' removes it)."""
        if name == "preset":
            self._preset_matches = value == self.opened.get("preset", value)
        self.current[name] = value

    def set_list(self, name: str, values: list[str]) -> None:
        """Set a comma-separated list."""
        self.set(name, ",".join(values))

    def set_controls(self, controls: Controls, start: Controls) -> None:
        """Write the controls that differ from the scenario's own settings."""
        pairs: dict[str, str] = {}
        if controls.draws != start.draws:
            pairs["draws"] = str(controls.draws)
        if controls.seed != start.seed:
            pairs["seed"] = str(controls.seed)
        if controls.cover_weeks != start.cover_weeks:
            pairs["cover"] = "~".join(map(_fmt, controls.cover_weeks))
        if controls.headroom_scale != start.headroom_scale:
            pairs["headroom"] = _fmt(controls.headroom_scale)
        if controls.elasticity != start.elasticity:
            pairs["elasticity"] = _fmt(controls.elasticity)
        for (i, j), r in controls.approval.items():
            if r != start.approval.get((i, j)):
                pairs[f"approval{i}.{j}"] = "~".join(map(_fmt, r))
        for (i, j), r in controls.delay_days.items():
            if r != start.delay_days.get((i, j)):
                pairs[f"delay{i}.{j}"] = "~".join(map(_fmt, r))
        for name, value in pairs.items():
            self.set(name, value)

    def write(self) -> None:
        """Make the page's query string the current state (only if it changed)."""
        wanted = {k: v for k, v in self.current.items() if v}
        if wanted != {k: str(self.params[k]) for k in self.params}:
            self.params.clear()
            self.params.update(wanted)


def _session() -> MutableMapping[str, Any]:
    import streamlit as st  # noqa: PLC0415 (only the page has a session)

    state: MutableMapping[str, Any] = st.session_state  # type: ignore[assignment]
    return state
