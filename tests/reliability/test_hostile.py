"""The hostile-input suite: over 10,000 generated cases, 0 tracebacks, hangs, wrong runs or losses.

Issue 21's acceptance: bad YAML, bad CSV overlays, bad trade files, bad paths, bad run ids, huge
sizes, NaN and infinities, corrupted store files, full and read-only disks. Each case is judged
by :class:`tests.reliability.hostile.Tally` (see its module); the counts are printed at the end
of the pytest run. Files that rareflow did not write (a bystander in every folder it touches)
must all still be there afterwards.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from tests.reliability.hostile import (
    HOSTILE_CELLS,
    Tally,
    bombs,
    mutate_doc,
    mutate_text,
)

from rareflow.data.load import MAX_VALUE, RawTable, check_table, embedded_dir, load_dataset
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.data.trade import read_trade, write_user_trade
from rareflow.engine.run import run, with_overrides
from rareflow.errors import RareflowError
from rareflow.scenario.common import FIRST_DAY, LAST_DAY
from rareflow.scenario.load import load_scenario, parse_scenario, preset_names, preset_text
from rareflow.scenario.schema import Scenario
from rareflow.store import RunStore
from rareflow.store.records import record_of_run

SEED = 20260
SCENARIO_VALUE_CASES = 5000
SCENARIO_TEXT_CASES = 1200
CSV_CASES = 3000
TRADE_CASES = 1000
RUN_ID_CASES = 300
STORE_CASES = 60
ACCEPTED_RUNS = 6
"""Accepted scenario mutants that are also run (2 draws), their results checked."""
ACCEPTED_IMPORTS = 3
"""Accepted trade files that are also written and the overlay loaded."""
BYSTANDER = "not-rareflows.txt"


def _numbers(obj: Any) -> Iterator[Any]:
    if isinstance(obj, dict):
        for value in obj.values():
            yield from _numbers(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _numbers(value)
    else:
        yield obj


def _scenario_ok(sc: Scenario) -> str | None:
    for value in _numbers(sc.model_dump()):
        if isinstance(value, float) and (not math.isfinite(value) or abs(value) > 1e12):
            return f"accepted the number {value}"
        if isinstance(value, date) and not FIRST_DAY <= value <= LAST_DAY:
            return f"accepted the date {value}"
    return None


def _run_ok(sc: Scenario) -> str | None:
    res = run(with_overrides(sc, draws=2), draws=np.arange(2)).results
    short = res["shortfall"].to_numpy()
    if not np.isfinite(short).all() or (short < -1e-9).any():
        return "a run gave a shortfall that is not finite or is negative"
    return None


def _bystanders(*folders: Path) -> list[Path]:
    made = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / BYSTANDER
        path.write_text(f"a user's file in {folder.name}\n", encoding="utf-8")
        made.append(path)
    return made


def _scenarios(tally: Tally, rng: random.Random) -> None:
    presets = {name: yaml.safe_load(preset_text(name)) for name in preset_names()}
    texts = {name: preset_text(name) for name in preset_names()}
    runs = 0
    for i in range(SCENARIO_VALUE_CASES):
        name = rng.choice(sorted(presets))
        text = yaml.safe_dump(mutate_doc(presets[name], rng), allow_unicode=True)

        def check(sc: Scenario) -> str | None:
            nonlocal runs
            problem = _scenario_ok(sc)
            if problem is None and runs < ACCEPTED_RUNS and sc.horizon_months <= 120:
                runs += 1
                problem = _run_ok(sc)
            return problem

        tally.run("scenario YAML, values", f"{name} #{i}", lambda t=text: parse_scenario(t), check)
    for i in range(SCENARIO_TEXT_CASES):
        name = rng.choice(sorted(texts))
        text = mutate_text(texts[name], rng)
        tally.run("scenario YAML, text", f"{name} #{i}", lambda t=text: parse_scenario(t),
                  _scenario_ok)  # fmt: skip
    for label, text in bombs():
        tally.run("scenario YAML, bombs", label, lambda t=text: parse_scenario(t), _scenario_ok)


CSV_TABLES = (
    "exchange_rates",
    "facilities",
    "intensities",
    "trade",
    "sector_activity",
    "countries",
)


def _mutate_csv(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        row = rng.randrange(len(lines))
        cells = lines[row].split(",")
        if roll < 0.7:
            cells[rng.randrange(len(cells))] = rng.choice(HOSTILE_CELLS)
            lines[row] = ",".join(cells)
        elif roll < 0.8:
            lines.insert(row, lines[row])
        elif roll < 0.9:
            lines[row] = ",".join([*cells, rng.choice(HOSTILE_CELLS)])
        else:
            lines = lines[: row + 1]
    return "\n".join(lines) + rng.choice(["\n", "", "\r\n", '"'])


def _table_ok(text: str) -> Callable[[pd.DataFrame], str | None]:
    def check(df: pd.DataFrame) -> str | None:
        body = [line for line in text.splitlines()[1:] if line.strip(" ,\r")]
        if len(df) != len(body):
            return f"{len(body)} rows in the file, {len(df)} read (a row swallowed?)"
        for column in df.columns:
            if df[column].dtype.kind == "f":
                values = df[column].dropna().to_numpy()
                if not np.isfinite(values).all() or (np.abs(values) > MAX_VALUE).any():
                    return f"column {column} accepted {values.max()}"
        return None

    return check


def _tables(tally: Tally, rng: random.Random) -> None:
    texts = {n: (embedded_dir() / f"{n}.csv").read_text(encoding="utf-8") for n in CSV_TABLES}
    # Keep each table short: the first 12 rows, enough to hold every kind of cell.
    texts = {n: "\n".join(t.splitlines()[:13]) + "\n" for n, t in texts.items()}
    for i in range(CSV_CASES):
        name = rng.choice(CSV_TABLES)
        text = _mutate_csv(texts[name], rng)
        raw = RawTable(TABLES_BY_NAME[name], f"{name}.csv", text, "user data")
        tally.run("CSV overlay", f"{name} #{i}", lambda r=raw: check_table(r), _table_ok(text))


TRADE_HEADER = (
    "freqCode,refYear,reporterISO,flowCode,partnerCode,partnerISO,partner2Code,cmdCode,"
    "customsCode,motCode,netWgt,primaryValue"
)
TRADE_ROW = ["A", "2023", "IND", "M", "156", "CHN", "0", "850511", "C00", "0", "4500", "200000"]


def _trades(tally: Tally, rng: random.Random, tmp: Path) -> None:
    imports = 0
    for i in range(TRADE_CASES):
        rows = []
        for _ in range(rng.randint(1, 5)):
            cells = list(TRADE_ROW)
            for _ in range(rng.randint(0, 2)):
                cells[rng.randrange(len(cells))] = rng.choice(HOSTILE_CELLS)
            rows.append(",".join(cells))
        path = tmp / f"trade-{i % 7}.csv"
        path.write_text("\n".join([TRADE_HEADER, *rows]) + "\n", encoding="utf-8")

        def check(result: Any) -> str | None:
            nonlocal imports
            values = result.trade["value"].to_numpy(dtype=float)
            if not np.isfinite(values).all() or (values < 0).any():
                return "accepted a value that is not finite or is negative"
            if imports < ACCEPTED_IMPORTS and not result.trade.empty:
                imports += 1
                folder = tmp / f"import-{imports}"
                try:
                    write_user_trade(result, folder)
                except RareflowError:
                    return None
                load_dataset(folder)  # what was written must load
            return None

        tally.run("trade file", f"#{i}", lambda p=path: read_trade(p, source_id="hostile"), check)


def _paths(tally: Tally, tmp: Path) -> None:
    folder = tmp / "paths"
    folder.mkdir()
    (folder / "dir").mkdir()
    os.mkfifo(folder / "fifo")
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "broken").symlink_to(folder / "nowhere")
    (folder / "binary").write_bytes(bytes(range(256)) * 40)
    (folder / "utf16").write_text("name: x\n", encoding="utf-16")
    (folder / "empty").write_bytes(b"")
    with (folder / "huge").open("wb") as fh:  # sparse: 60 MB that take no space
        fh.truncate(60 * 1024 * 1024)
    with (folder / "mb").open("wb") as fh:
        fh.truncate(1_000_001)
    junk = folder / "junk-data"
    junk.mkdir()
    (junk / "trade.csv").write_text("importer\n\x00\n", encoding="utf-8")
    (junk / "countries.csv").write_bytes(b"\xff\xfe")
    names = [
        "", ".", "/", "/dev/null", "/dev/zero", "/proc/self/mem", "dir", "fifo", "loop", "broken",
        "binary", "utf16", "empty", "huge", "mb", "junk-data", "nowhere", "x" * 5000,
        "a\x00b", "new\nline", "../" * 40, "~", "-", "--help", "*", "dir/../dir",
    ]  # fmt: skip
    actions: dict[str, Callable[[str], Any]] = {
        "scenario": load_scenario,
        "data dir": load_dataset,
        "trade file": lambda p: read_trade(p, source_id="hostile"),
        "store": lambda p: RunStore(p).list(),
    }
    for name in names:
        target = name if name.startswith(("/", "~")) or name == "" else str(folder / name)
        for what, action in actions.items():
            if what == "store" and name in ("/", "/proc/self/mem", "dir/../dir", "~"):
                continue  # a store in / or a real folder would be created: not a bad path
            tally.run("path", f"{what}: {name[:30]!r}", lambda a=action, t=target: a(t),
                      lambda _: None)  # fmt: skip


def _store(tally: Tally, rng: random.Random, tmp: Path) -> None:
    sc = with_overrides(load_scenario("china-2025-april"), draws=2, horizon_months=12)
    result = run(sc)
    original = tmp / "store"
    run_id = RunStore(original).save(record_of_run(result, preset_text("china-2025-april")),
                                      result.results)  # fmt: skip
    saved = RunStore(original).results(run_id)
    pieces = ["", ".", "..", "../x", "/etc/passwd", "\x00", "*", "?", "%2e%2e", "CON", "\n",
              run_id, run_id.upper(), run_id[:-1], run_id + "x", "é", " " + run_id,
              "runs"]  # fmt: skip
    store = RunStore(original)
    for i in range(RUN_ID_CASES):
        rid = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
        if i % 3 == 0:
            rid = rid * rng.randint(1, 400)

        def same_id(info: Any, rid: str = rid) -> str | None:
            return None if info.id == rid else f"asked for {rid!r}, got {info.id}"

        tally.run("run id", repr(rid[:40]), lambda r=rid: store.get(r), same_id)
    files = sorted(p for p in original.rglob("*") if p.is_file())
    for i in range(STORE_CASES):
        copy = tmp / f"store-{i}"
        shutil.copytree(original, copy)
        mine = _bystanders(copy, copy / "runs", copy / "tmp")
        victim = copy / rng.choice(files).relative_to(original)
        roll = rng.random()
        data = victim.read_bytes()
        if roll < 0.3:
            victim.write_bytes(data[: rng.randrange(len(data) + 1)])
        elif roll < 0.6 and data:
            at = rng.randrange(len(data))
            victim.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
        elif roll < 0.8:
            victim.write_bytes(rng.choice([b"", b"\x00" * 64, b"{", b"null", b"[]", b"PAR1"]))
        else:
            victim.unlink()
        label = f"{victim.relative_to(copy)}"

        def equal(ds: xr.Dataset) -> str | None:
            return None if ds.equals(saved) else "corrupted results returned as good"

        actions: list[tuple[Callable[[], Any], Callable[[Any], str | None]]] = [
            (lambda c=copy: RunStore(c).list(), lambda _: None),
            (lambda c=copy: RunStore(c).results(run_id), equal),
            (lambda c=copy: RunStore(c).verify(), lambda _: None),
        ]
        for action, check in actions:
            tally.run("store file", label, action, check)
        for path in mine:
            if not path.exists():
                tally.counts["store file", "wrong"] += 1
                tally.findings.append(f"store file / {label}: deleted {path}")


@pytest.fixture
def disks(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A full (64 KB, filled) and a read-only tmpfs, when this process may mount them."""
    made: dict[str, Path] = {}
    if os.geteuid() == 0:
        for name, options in (("full", "size=64k"), ("readonly", "size=64k")):
            mount = tmp_path / name
            mount.mkdir()
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
                                  capture_output=True, check=False)  # fmt: skip
            if done.returncode == 0:
                made[name] = mount
        if "full" in made:
            _bystanders(made["full"] / "data", made["full"] / "store")
            with contextlib.suppress(OSError):
                (made["full"] / "filler").write_bytes(b"\0" * 200_000)
        if "readonly" in made:
            _bystanders(made["readonly"] / "data", made["readonly"] / "store")
            subprocess.run(["mount", "-o", "remount,ro", str(made["readonly"])], check=False)
    try:
        yield made
    finally:
        for mount in made.values():
            subprocess.run(["umount", str(mount)], check=False, capture_output=True)


def _disks(tally: Tally, disks: dict[str, Path], tmp: Path) -> None:
    file = tmp / "good-trade.csv"
    file.write_text(f"{TRADE_HEADER}\n{','.join(TRADE_ROW)}\n", encoding="utf-8")
    imported = read_trade(file, source_id="hostile")
    sc = with_overrides(load_scenario("baseline"), draws=2, horizon_months=12)
    result = run(sc)
    record = record_of_run(result, preset_text("baseline"))
    for name, mount in disks.items():
        for _ in range(5):
            tally.run("full or read-only disk", f"{name}: import-trade",
                      lambda m=mount: write_user_trade(imported, m / "data"),
                      lambda _: None)  # fmt: skip
            tally.run("full or read-only disk", f"{name}: save a run",
                      lambda m=mount: RunStore(m / "store").save(record, result.results),
                      lambda _: None)  # fmt: skip
        for folder in ("data", "store"):
            if not (mount / folder / BYSTANDER).exists():
                tally.counts["full or read-only disk", "wrong"] += 1
                tally.findings.append(f"{name}: deleted {folder}/{BYSTANDER}")


@pytest.mark.slow
def test_hostile_inputs(
    tmp_path: Path, disks: dict[str, Path], record_property: Callable[[str, object], None]
) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    _scenarios(tally, rng)
    _tables(tally, rng)
    _trades(tally, rng, tmp_path)
    _paths(tally, tmp_path)
    _store(tally, rng, tmp_path)
    _disks(tally, disks, tmp_path)
    for line in tally.lines():
        record_property(f"hostile:{line.split(':')[0]}", line.split(": ", 1)[1])
    assert not tally.findings, "\n".join(tally.findings)
    assert tally.total() >= 10_000
    assert tally.total("accepted") > 100  # the generators also make inputs that are fine
    assert tally.total("refused") > 5000
