"""The rareflow dashboard (a streamlit script; start it with ``rareflow app``).

Pick a preset or upload a scenario YAML, set the parameters and levers, run it with progress
shown, and see the report's charts and tables; compare stored runs; download the report and the
results. Uploads are read in memory, size-checked and parsed with the safe YAML loader; nothing
reaches the file system except runs saved through the run store.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
import xarray as xr

from rareflow import dims
from rareflow.app.controls import (
    Controls,
    FieldSpec,
    apply_controls,
    defaults,
    lever_fields,
    lever_models,
    lever_type,
)
from rareflow.app.downloads import results_csv, results_parquet
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import run
from rareflow.errors import RareflowError, ScenarioError
from rareflow.report.build import Report, build_report, render_html
from rareflow.report.compare import compare_figure
from rareflow.report.source import ReportRun, baseline_for, from_result, from_store
from rareflow.scenario.load import MAX_BYTES, parse_scenario, preset_names, preset_text
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.records import record_of_run

PRESET, UPLOAD = "A preset", "Upload a scenario YAML"
# Largest ensemble the dashboard runs, to keep a page responsive (the CLI has no such limit).
MAX_DRAWS = 5000


@st.cache_resource
def _dataset() -> Dataset:
    return load_dataset()


def _store() -> RunStore:
    return RunStore()


def _scenario_source() -> tuple[Scenario, str] | None:
    """Return the scenario the user picked and its YAML text, or None if there is none yet."""
    how = st.sidebar.radio("Scenario", [PRESET, UPLOAD], key="source")
    if how == PRESET:
        names = preset_names()
        default = names.index("china-2025-april") if "china-2025-april" in names else 0
        name = st.sidebar.selectbox("Preset", names, index=default, key="preset")
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


def _range_slider(label: str, lo: float, hi: float, value: tuple[float, float], key: str) -> Any:
    return st.sidebar.slider(label, lo, hi, value, step=0.01 if hi <= 1 else 0.5, key=key)


def _controls(sc: Scenario) -> Controls:
    """Return the main parameters from widgets that start at the scenario's values."""
    start = defaults(sc, dataset=_dataset())
    key = f"{sc.name}-"
    sb = st.sidebar
    sb.subheader("Ensemble")
    draws = sb.number_input("Draws", 1, MAX_DRAWS, start.draws, step=50, key=key + "draws")
    seed = sb.number_input("Seed", 0, 2**31 - 1, start.seed, key=key + "seed")
    sb.subheader("Parameters")
    cover = _range_slider(
        "Industry magnet cover (weeks, drawn uniformly)",
        0.0,
        26.0,
        start.cover_weeks,
        key + "cover",
    )
    approval = {}
    for (i, j), r in start.approval.items():
        shock = sc.shocks[i]
        phase = shock.licence[j]  # type: ignore[union-attr]
        label = f"Approval probability, {shock.name or shock.type} from {phase.start:%Y-%m-%d}"
        approval[i, j] = _range_slider(label, 0.0, 1.0, r, f"{key}approval-{i}-{j}")
    surge = sb.slider(
        "Non-China surge (share of baseline volume)",
        0.0,
        2.0,
        float(start.nonchina_surge),
        0.05,
        key=key + "surge",
    )
    elasticity = sb.slider(
        "Price elasticity of demand", -2.0, -0.01, float(start.elasticity), 0.01, key=key + "el"
    )
    return Controls(
        draws=int(draws),
        seed=int(seed),
        cover_weeks=(float(cover[0]), float(cover[1])),
        approval={k: (float(v[0]), float(v[1])) for k, v in approval.items()},
        nonchina_surge=float(surge),
        elasticity=float(elasticity),
        levers=_lever_widgets(sc.start),
    )


def _field_widget(spec: FieldSpec, key: str) -> Any:
    label = spec.name.replace("_", " ")
    if spec.kind == "choice":
        return st.selectbox(label, spec.choices, key=key)
    if spec.kind == "date":
        start = spec.default if isinstance(spec.default, date) else date.today()
        return st.date_input(label, start, key=key)
    if spec.kind == "text":
        return st.text_input(label, str(spec.default or ""), key=key)
    if spec.kind == "integer":
        return st.number_input(label, value=int(spec.default or 0), key=key)
    if isinstance(spec.default, int | float) and not isinstance(spec.default, bool):
        return st.number_input(label, value=float(spec.default), key=key, placeholder="default")
    # An uncertain default (a distribution) stays the lever's own unless a number is typed.
    hint = "default" if spec.default is None else f"default: {_describe(spec.default)}"
    return st.number_input(label, value=None, key=key, placeholder=hint)


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


def _lever_widgets(start: date) -> list[dict[str, Any]]:
    """Return the levers to add: one form per lever type of the schema, added when checked."""
    st.sidebar.subheader("Levers")
    out = []
    for model in lever_models():
        specs = lever_fields(model, start)
        tag = lever_type(model)
        if specs is None:
            continue  # a required field with no simple widget: set it in the YAML
        with st.sidebar.expander(f"Add a lever: {tag.replace('_', ' ')}"):
            doc = (model.__doc__ or "").strip().splitlines()
            if doc:
                st.caption(doc[0])
            on = st.checkbox("Add this lever", key=f"lever-{tag}-on")
            values = {s.name: _field_widget(s, f"lever-{tag}-{s.name}") for s in specs}
        if on:
            lever = {"type": tag}
            for name, value in values.items():
                if value is None or value == "":
                    continue
                lever[name] = value.isoformat() if isinstance(value, date) else value
            out.append(lever)
    return out


def _run(sc: Scenario, given: str) -> tuple[ReportRun, ReportRun]:
    """Run the scenario and its baseline with a progress bar; store the run."""
    ds = _dataset()
    bar = st.progress(0.0, text=f"Running {sc.name}: {sc.draws:,} draws")

    def shock_progress(done: int, total: int) -> None:
        bar.progress(0.8 * done / max(total, 1), text=f"{sc.name}: step {done} of {total}")

    def base_progress(done: int, total: int) -> None:
        bar.progress(0.8 + 0.2 * done / max(total, 1), text=f"baseline: step {done} of {total}")

    result = run(sc, dataset=ds, progress=shock_progress)
    record = record_of_run(result, given, ds.user_dir)
    run_id = _store().save(record, result.results)
    shock = from_result(result, run_id)
    baseline = baseline_for(shock, ds, base_progress)
    bar.progress(1.0, text=f"Done: stored as run {run_id}")
    return shock, baseline


def _table(frame: pd.DataFrame) -> None:
    st.dataframe(frame, hide_index=True, width="stretch")


def _show(report: Report, shock: ReportRun) -> None:
    """Show the report's figures and tables in tabs, and the downloads."""
    figs = report.figures
    res = shock.results
    short = res["shortfall"].sum([dims.SECTOR, dims.TIME])
    req = res["requirement"].sum([dims.SECTOR, dims.TIME])
    m1, m2, m3 = st.columns(3)
    m1.metric("Cumulative shortfall, median (t magnet)", f"{float(short.median()):,.1f}")
    m2.metric(
        "Share of the requirement unmet, median",
        f"{float((100 * short / req.where(req > 0)).fillna(0).median()):.2f}%",
    )
    peak = res["shortfall"].sum(dims.SECTOR).max(dims.TIME)
    m3.metric("Peak monthly shortfall, median (t magnet)", f"{float(peak.median()):,.1f}")
    tabs = st.tabs(["Shortfall", "Chain", "Prices and stocks", "Sources", "Tables", "Scenario"])
    with tabs[0]:
        st.subheader("Summary")
        for heading in list(report.tables)[:2]:
            st.markdown(f"**{heading}**")
            _table(report.tables[heading])
        st.plotly_chart(figs["fan_shortfall"], key="fan_shortfall", theme=None)
    with tabs[1]:
        st.plotly_chart(figs["sankey_magnets"], key="sankey_magnets", theme=None)
        st.plotly_chart(figs["sankey_ndpr"], key="sankey_ndpr", theme=None)
    with tabs[2]:
        st.plotly_chart(figs["fan_prices"], key="fan_prices", theme=None)
        st.plotly_chart(figs["fan_stocks"], key="fan_stocks", theme=None)
    with tabs[3]:
        st.plotly_chart(figs["map_imports"], key="map_imports", theme=None)
    with tabs[4]:
        for heading in list(report.tables)[2:]:
            st.markdown(f"**{heading}**")
            _table(report.tables[heading])
        st.markdown("**Levers and their costs**")
        if report.lever_costs is None:
            st.write("No levers with costs in this scenario.")
        else:
            _table(report.lever_costs)
    with tabs[5]:
        _table(pd.DataFrame(list(report.provenance.items()), columns=["", "value"]))
        st.code(report.scenario_yaml, language="yaml")
    name = shock.scenario.name
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Download the report (HTML)",
        render_html(report),
        file_name=f"{name}-report.html",
        mime="text/html",
        key="dl-html",
    )
    c2.download_button(
        "Download the results (CSV)",
        results_csv(shock.results),
        file_name=f"{name}-results.csv",
        mime="text/csv",
        key="dl-csv",
    )
    c3.download_button(
        "Download the results (Parquet)",
        results_parquet(shock.results),
        file_name=f"{name}-results.parquet",
        mime="application/octet-stream",
        key="dl-parquet",
    )


def _compare() -> None:
    """Show the median shortfall of stored runs, overlaid, with their headline figures."""
    store = _store()
    runs = store.list()[-50:]
    if not runs:
        st.write("No runs in the store yet.")
        return
    labels = {f"{r.record.name} ({r.id})": r.id for r in reversed(runs)}
    picked = st.multiselect("Stored runs to compare", list(labels), key="compare")
    if not picked:
        return
    loaded: dict[str, xr.Dataset] = {p: from_store(store, labels[p]).results for p in picked}
    st.plotly_chart(compare_figure(loaded), key="compare-fig", theme=None)
    rows = []
    for label, res in loaded.items():
        short = res["shortfall"].sum([dims.SECTOR, dims.TIME])
        req = res["requirement"].sum([dims.SECTOR, dims.TIME])
        rows.append(
            {
                "run": label,
                "draws": int(res.sizes[dims.DRAW]),
                "cumulative shortfall (t), median": float(short.median()),
                "cumulative shortfall (%), median": float((100 * short / req).median()),
            }
        )
    _table(pd.DataFrame(rows))


def main() -> None:
    """Lay out the page."""
    st.set_page_config(page_title="rareflow", layout="wide")
    st.title("rareflow: rare-earth magnets under export controls")
    st.caption(
        "Pick a scenario, set the parameters in the sidebar and press Run. Uncertain figures are "
        "medians with the 5th-95th percentile range over draws."
    )
    run_tab, compare_tab = st.tabs(["Run a scenario", "Compare stored runs"])
    with run_tab:
        try:
            picked = _scenario_source()
            if picked is None:
                return
            sc, given = picked
            st.markdown(f"**{sc.name}** ({sc.country}): {sc.description}")
            sc = apply_controls(sc, _controls(sc))
            if st.button("Run", type="primary", key="run"):
                shock, baseline = _run(sc, given)
                st.session_state["report"] = build_report(shock, baseline, _dataset())
                st.session_state["shock"] = shock
        except RareflowError as exc:
            st.error(exc.user_message())
            return
        if "report" in st.session_state:
            _show(st.session_state["report"], st.session_state["shock"])
    with compare_tab:
        _compare()


if __name__ == "__main__":
    main()
