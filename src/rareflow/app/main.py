"""The rareflow dashboard (a streamlit script; start it with ``rareflow app``).

Pick a preset or upload a scenario YAML, set the parameters and levers, run it with progress
shown, and see the report's findings, charts and tables; compare stored runs; download the
report, the charts and the results. Results are tied to the exact scenario that made them (see
:mod:`rareflow.app.cache`): a changed preset or setting marks them out of date until the next
run. The page's state is kept in its URL, so a link reproduces the view. Uploads are read in
memory, size-checked and parsed with the safe YAML loader; nothing reaches the file system
except runs saved through the run store.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from rareflow import display
from rareflow.app.cache import ResultCache, fingerprint
from rareflow.app.compute import Shown, compute, release_memory
from rareflow.app.controls import (
    Controls,
    FieldSpec,
    apply_controls,
    defaults,
    lever_fields,
    lever_models,
    lever_type,
)
from rareflow.app.downloads import figure_csv, figure_image, results_csv, results_parquet
from rareflow.app.urlstate import UrlState
from rareflow.data.load import Dataset, load_dataset
from rareflow.errors import RareflowError, ScenarioError
from rareflow.report.build import FIGURE_CONFIG, Report, render_html
from rareflow.report.compare import compare_figure, compare_frame, lever_effects
from rareflow.report.source import (
    ReportRun,
    from_store,
)
from rareflow.report.workbook import workbook_bytes
from rareflow.scenario.load import MAX_BYTES, parse_scenario, preset_names, preset_text
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore

PRESET, UPLOAD = "A preset", "Upload a scenario YAML"
# Largest ensemble the dashboard runs, to keep a page responsive (the CLI has no such limit).
MAX_DRAWS = 5000
# Plotly fetches the world map from this folder of the app's own server (static/), not a CDN.
CHART_CONFIG = {**FIGURE_CONFIG, "topojsonURL": "app/static/"}


SHORTFALL_METRIC = "Shortfall over the horizon (t magnet, median)"
TAB_OF = {
    "fan_shortfall": "Shortfall",
    "sector_shortfall": "Shortfall",
    "what_helps": "What helps",
    "fan_prices": "Prices and stocks",
    "fan_stocks": "Prices and stocks",
    "map_imports": "Sources",
}
"""The tab each key message's chart is on."""


@st.cache_resource
def _dataset() -> Dataset:
    return load_dataset()


@st.cache_resource
def _results() -> ResultCache[Shown]:
    return ResultCache()


def _store() -> RunStore:
    return RunStore()


def _scenario_source(url: UrlState) -> tuple[Scenario, str] | None:
    """Return the scenario the user picked and its YAML text, or None if there is none yet."""
    how = st.sidebar.radio("Scenario", [PRESET, UPLOAD], key="source")
    if how == PRESET:
        names = preset_names()
        wanted = url.get("preset", "china-2025-april")
        default = names.index(wanted) if wanted in names else 0
        name = st.sidebar.selectbox("Preset", names, index=default, key="preset")
        url.set("preset", name)
        text = preset_text(name)
        return parse_scenario(text, f"preset {name}"), text
    upload = st.sidebar.file_uploader("Scenario YAML (at most 1 MB)", type=["yaml", "yml"])
    if upload is None:
        st.info("Upload a scenario YAML (see `rareflow scenario show baseline` for the fields).")
        return None
    if upload.size > MAX_BYTES:
        raise ScenarioError(f"{upload.name}: larger than {MAX_BYTES:,} bytes; refused")
    raw = upload.getvalue()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{upload.name}: not UTF-8 text") from None
    return parse_scenario(text, upload.name), text


def _range_slider(
    label: str, lo: float, hi: float, value: tuple[float, float], key: str, helptext: str
) -> tuple[float, float]:
    step = 0.01 if hi <= 1 else (0.5 if hi <= 100 else 1.0)
    out = st.sidebar.slider(label, lo, hi, value, step=step, key=key, help=helptext)
    return float(out[0]), float(out[1])


def _controls(sc: Scenario, url: UrlState) -> Controls:
    """Return the main parameters from widgets that start at the scenario's or the URL's values."""
    start = defaults(sc, dataset=_dataset())
    key = f"{sc.name}-"
    sb = st.sidebar
    sb.subheader("Ensemble")
    draws = sb.number_input(
        "Draws", 1, MAX_DRAWS, url.get_int("draws", start.draws), step=50, key=key + "draws",
        help="How many times the uncertain inputs are drawn; figures are medians with the "
        "5th-95th percentile range over draws.",
    )  # fmt: skip
    seed = sb.number_input(
        "Seed", 0, 2**31 - 1, url.get_int("seed", start.seed), key=key + "seed",
        help="The same scenario, data version and seed give the same results.",
    )  # fmt: skip
    sb.subheader("Main uncertainties")
    cover = _range_slider(
        "Industry magnet cover (weeks of use held, drawn uniformly)", 0.0, 26.0,
        url.get_range("cover", start.cover_weeks), key + "cover",
        "Magnets the industry holds when the shock starts, in weeks of its use.",
    )  # fmt: skip
    approval, delay = {}, {}
    for (i, j), r in start.approval.items():
        shock = sc.shocks[i]
        phase = shock.licence[j]  # type: ignore[union-attr]
        when = f"{shock.name or shock.type}, applications from {phase.start:%d %b %Y}"
        approval[i, j] = _range_slider(
            f"Licence approval probability ({when})", 0.0, 1.0,
            url.get_range(f"approval{i}.{j}", r), f"{key}approval-{i}-{j}",
            "Share of licence applications approved (0-1); a changed range is drawn uniformly.",
        )  # fmt: skip
        d = start.delay_days[i, j]
        delay[i, j] = _range_slider(
            f"Licence delay, days from application to decision ({when})", 0.0,
            max(400.0, d[1]), url.get_range(f"delay{i}.{j}", d), f"{key}delay-{i}-{j}",
            "Days a licence takes; the main uncertainty of a control. Untouched, the scenario's "
            "own distribution applies; a changed range is drawn uniformly.",
        )  # fmt: skip
    headroom = sb.slider(
        "Partner headroom (x the dataset's)", 0.0, 3.0,
        url.get_float("headroom", float(start.headroom_scale)), 0.05, key=key + "headroom",
        help="Multiplies how far partners outside the controls can raise output "
        "(supplier_headroom.csv); other importers compete for it (importers.csv).",
    )  # fmt: skip
    elasticity = sb.slider(
        "Price elasticity of demand", -2.0, -0.01,
        url.get_float("elasticity", float(start.elasticity)), 0.01, key=key + "el",
        help="Change in demand per change in price (-0.3: a doubling cuts demand by about 19%).",
    )  # fmt: skip
    controls = Controls(
        draws=int(draws),
        seed=int(seed),
        cover_weeks=cover,
        approval=approval,
        delay_days=delay,
        headroom_scale=float(headroom),
        elasticity=float(elasticity),
        levers=_lever_widgets(sc.start, url),
    )
    url.set_controls(controls, start)
    return controls


def _number(label: str, spec: FieldSpec, key: str) -> Any:
    # An uncertain default (a distribution) stays the lever's own unless a number is typed.
    plain = isinstance(spec.default, int | float) and not isinstance(spec.default, bool)
    hint = "the lever's default" if spec.default is None else f"default: {_describe(spec.default)}"
    if spec.kind == "integer":
        return st.number_input(label, value=int(spec.default or 0), key=key, help=spec.help)
    return st.number_input(
        label, value=float(spec.default) if plain else None, key=key, help=spec.help,
        placeholder="default" if plain else hint, format="%g",
    )  # fmt: skip


def _field_widget(spec: FieldSpec, key: str) -> Any:
    label = spec.label or spec.name.replace("_", " ")
    if spec.kind == "choice":
        index = spec.choices.index(spec.default) if spec.default in spec.choices else 0
        return st.selectbox(
            label, spec.choices, index=index, key=key, help=spec.help, format_func=display.name
        )
    if spec.kind == "multichoice":
        chosen = [str(v) for v in spec.default] if isinstance(spec.default, list) else []
        if spec.default == "all":
            chosen = ["all"]
        return st.multiselect(
            label, spec.choices, default=chosen, key=key, help=spec.help,
            format_func=lambda v: "every sector" if v == "all" else display.name(v),
        )  # fmt: skip
    if spec.kind == "date":
        start = spec.default if isinstance(spec.default, date) else date.today()
        return st.date_input(label, start, key=key, help=spec.help)
    if spec.kind == "text":
        return st.text_input(label, str(spec.default or ""), key=key, help=spec.help)
    if spec.kind in {"keyed", "keyed_form"}:
        given = dict(spec.default) if isinstance(spec.default, dict) else {}
        keys = st.multiselect(
            f"{label}: for which", spec.choices, default=[k for k in given if k in spec.choices],
            key=key + "-keys", help=spec.help, format_func=display.name,
        )  # fmt: skip
        if spec.kind == "keyed":
            first = next(iter(given.values()), 0.0)
            value = st.number_input(
                f"{label}: value for each", value=float(first), key=key + "-value", format="%g"
            )
            return dict.fromkeys(keys, value)
        inner = {s.name: _field_widget(s, f"{key}-{s.name}") for s in spec.nested}
        return {k: _clean(inner) for k in keys}
    return _number(label, spec, key)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (the lever's default applies) and write dates as text."""
    out: dict[str, Any] = {}
    for name, given in values.items():
        if given is None or given in ("", [], {}):
            continue
        value = "all" if given == ["all"] else given
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def _describe(default: Any) -> str:
    """Return a short text for a default that is not a plain number."""
    dump = getattr(default, "model_dump", None)
    if callable(dump):
        fields = dump()
        kind = fields.pop("dist", "")
        return f"{kind} " + ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items()
        )
    return str(default)


def _lever_widgets(start: date, url: UrlState) -> list[dict[str, Any]]:
    """Return the levers to add: one form per lever type of the schema, added when checked."""
    st.sidebar.subheader("Levers")
    st.sidebar.caption("Each form starts at the lever's defaults, or its preset's values.")
    wanted = set(url.get_list("levers"))
    out, on_types = [], []
    for model in lever_models():
        specs = lever_fields(model, start)
        tag = lever_type(model)
        if specs is None:
            continue  # a required field with no widget: set it in the YAML
        with st.sidebar.expander(f"Add a lever: {display.in_sentence(tag)}"):
            doc = (model.__doc__ or "").strip().splitlines()
            if doc:
                st.caption(doc[0])
            on = st.checkbox("Add this lever", value=tag in wanted, key=f"lever-{tag}-on")
            values = {s.name: _field_widget(s, f"lever-{tag}-{s.name}") for s in specs}
        if on:
            out.append({"type": tag, **_clean(values)})
            on_types.append(tag)
    url.set_list("levers", on_types)
    return out


def _compute(sc: Scenario, given: str, key: str) -> Shown:
    """Run the scenario and its baseline with a progress bar in months; store the run."""
    bar = st.progress(0.0, text=f"Running {sc.name}: {sc.draws:,} draws")

    def progress(share: float, text: str) -> None:
        bar.progress(share, text=text)

    shown = compute(sc, given, key, dataset=_dataset(), store=_store(), progress=progress)
    bar.progress(1.0, text=f"Done: stored as run {shown.run_id}")
    return shown


def _stored(run_id: str) -> ReportRun:
    """Return a shown run, read from the store for a download."""
    return from_store(_store(), run_id)


def _table(frame: pd.DataFrame) -> None:
    st.dataframe(frame, hide_index=True, width="stretch")


def _chart(report: Report, name: str) -> None:
    """Show one chart with its note and its downloads (PNG, SVG, CSV, made when clicked)."""
    fig = report.figures[name]
    st.plotly_chart(fig, key=name, theme=None, config=CHART_CONFIG)
    note = report.notes.get(name)
    if note:
        st.caption(note)
    cols = st.columns(6)
    for col, fmt in zip(cols[:2], ("png", "svg"), strict=True):
        col.download_button(
            fmt.upper(), partial(figure_image, fig, fmt),
            file_name=f"{name}.{fmt}", mime="image/png" if fmt == "png" else "image/svg+xml",
            key=f"dl-{name}-{fmt}", on_click="ignore",
        )  # fmt: skip
    cols[2].download_button(
        "CSV", partial(figure_csv, report, name), file_name=f"{name}.csv",
        mime="text/csv", key=f"dl-{name}-csv", on_click="ignore",
    )  # fmt: skip


def _show(shown: Shown) -> None:
    """Show the findings, then the charts and tables in tabs, and the downloads."""
    report, head = shown.report, shown.headline
    st.subheader(f"Results: {shown.name}")
    m1, m2, m3 = st.columns(3)
    m1.metric(SHORTFALL_METRIC, f"{head.shortfall_t:,.1f}")
    m2.metric("Share of the requirement unmet, median", f"{head.unmet_pct:.1f}%")
    m3.metric("Worst month's shortfall, median (t magnet)", f"{head.worst_month_t:,.1f}")
    st.markdown("**What the run shows**")
    for message in report.messages:
        where = TAB_OF.get(message.anchor, "Shortfall")
        st.markdown(f"- {message.text} *(chart: {where} tab)*")
    tabs = st.tabs(
        ["Shortfall", "What helps", "Chain", "Prices and stocks", "Sources", "Tables", "Scenario"]
    )
    with tabs[0]:
        st.markdown("**Headline figures, all sectors**")
        _table(report.tables["Headline figures, all sectors"])
        for name in ("fan_shortfall", "sector_shortfall"):
            _chart(report, name)
    with tabs[1]:
        if "what_helps" in report.figures:
            _chart(report, "what_helps")
        else:
            st.write("This scenario has no levers: add one in the sidebar to see what it avoids.")
    with tabs[2]:
        for name in ("sankey_magnets", "sankey_ndpr"):
            _chart(report, name)
    with tabs[3]:
        for name in ("fan_prices", "fan_stocks"):
            _chart(report, name)
    with tabs[4]:
        _chart(report, "map_imports")
    with tabs[5]:
        for heading, frame in list(report.tables.items())[1:]:
            st.markdown(f"**{heading}**")
            _table(frame)
        st.markdown("**Levers and their costs**")
        if report.lever_costs is None:
            st.write("No levers with costs in this scenario.")
        else:
            _table(report.lever_costs)
    with tabs[6]:
        _table(pd.DataFrame(list(report.provenance.items()), columns=["", "value"]))
        st.code(report.scenario_yaml, language="yaml")
    name, run_id = shown.name, shown.run_id
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button(
        "Download the report (HTML)", lambda: render_html(report),
        file_name=f"{name}-report.html", mime="text/html", key="dl-html", on_click="ignore",
    )  # fmt: skip
    c2.download_button(
        "Download the workbook (Excel)",
        lambda: workbook_bytes(report, _stored(run_id).results, _dataset()),
        file_name=f"{name}.xlsx", key="dl-xlsx", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip
    c3.download_button(
        "Download the results (CSV)", lambda: results_csv(_stored(run_id).results),
        file_name=f"{name}-results.csv", mime="text/csv", key="dl-csv", on_click="ignore",
    )  # fmt: skip
    c4.download_button(
        "Download the results (Parquet)", lambda: results_parquet(_stored(run_id).results),
        file_name=f"{name}-results.parquet", mime="application/octet-stream",
        key="dl-parquet", on_click="ignore",
    )  # fmt: skip


def _compare(url: UrlState) -> None:
    """Show the median shortfall of stored runs, overlaid, with their headline figures."""
    store = _store()
    runs = [r for r in store.list() if r.record.kind == "run"][-50:]
    if not runs:
        st.write("No runs in the store yet.")
        return
    labels = {f"{r.record.name} ({r.id})": r.id for r in reversed(runs)}
    wanted = [label for label, run_id in labels.items() if run_id in url.get_list("compare")]
    picked = st.multiselect("Stored runs to compare", list(labels), default=wanted, key="compare")
    url.set_list("compare", [labels[p] for p in picked])
    if not picked:
        return
    loaded = {p: from_store(store, labels[p]) for p in picked}
    st.plotly_chart(compare_figure(loaded), key="compare-fig", theme=None, config=CHART_CONFIG)
    _table(compare_frame(loaded))
    effects = lever_effects(loaded, _dataset())
    if effects is not None:
        st.markdown("**What the levers buy against the shock alone** (paired draws, one window)")
        _table(effects.reset_index())
    elif any(run.scenario.levers for run in loaded.values()):
        st.caption(
            "Pick also the run of the same scenario without its levers (same draws and seed) to "
            "see what its levers buy against the shock alone."
        )


def _run_tab(url: UrlState) -> None:
    ds = _dataset()
    picked = _scenario_source(url)
    if picked is None:
        return
    base, given = picked
    st.markdown(f"**{base.name}** ({base.country}): {base.description}")
    controls = _controls(base, url)
    sc: Scenario | None = None
    try:
        sc = apply_controls(base, controls, dataset=ds)
    except RareflowError as exc:
        st.error(exc.user_message())
    # The button stays, disabled, while a setting is invalid: the message above says which.
    clicked = st.button("Run", type="primary", key="run", disabled=sc is None)
    key = None if sc is None else fingerprint(sc, ds.version)
    if clicked and sc is not None and key is not None:
        shown, cached = _results().get_or_compute(key, partial(_compute, sc, given, key))
        release_memory()
        if cached:
            st.success(f"Done: stored as run {shown.run_id} (the same settings ran before)")
        st.session_state["shown"] = shown
    elif (
        sc is not None
        and key is not None
        and url.get("run") == "1"
        and "shown" not in st.session_state
    ):
        # A shared link: show the results of its settings (computed once, then cached).
        st.session_state["shown"], _ = _results().get_or_compute(
            key, partial(_compute, sc, given, key)
        )
        release_memory()
    last: Shown | None = st.session_state.get("shown")
    if last is None:
        return
    shown = last
    if shown.key != key:
        st.warning(
            f"Out of date: the last results were for «{shown.name}». The preset or a setting "
            "has changed since; press Run to see the results of these settings."
        )
        return
    url.set("run", "1")  # a link to this page shows these results
    _show(shown)


def main() -> None:
    """Lay out the page."""
    st.set_page_config(page_title="rareflow", layout="wide")
    st.title("rareflow: rare-earth magnets under export controls")
    st.caption(
        "Pick a scenario, set the parameters in the sidebar and press Run. Uncertain figures are "
        "medians with the 5th-95th percentile range over draws. The address of this page keeps "
        "its settings: copy it to share the view."
    )
    url = UrlState(st.query_params)
    run_tab, compare_tab = st.tabs(["Run a scenario", "Compare stored runs"])
    with run_tab:
        try:
            _run_tab(url)
        except RareflowError as exc:
            st.error(exc.user_message())
    with compare_tab:
        try:
            _compare(url)
        except RareflowError as exc:
            st.error(exc.user_message())
    url.write()


if __name__ == "__main__":
    main()
