"""Results round-trip through Parquet exactly: variables, dims, coords, dtypes and attributes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rareflow.errors import StoreError
from rareflow.store import RunRecord, RunStore
from rareflow.store.codec import read_dataset

MakeRecord = Callable[..., RunRecord]


def assert_same(expected: xr.Dataset, actual: xr.Dataset) -> None:
    xr.testing.assert_identical(expected, actual)
    for name, var in expected.variables.items():
        assert actual.variables[name].dtype == var.dtype, name
        assert actual.variables[name].dims == var.dims, name
    assert list(actual.data_vars) == list(expected.data_vars)


_texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=4)


@st.composite
def datasets(draw: st.DrawFn) -> xr.Dataset:
    dims = draw(st.lists(st.sampled_from(["time", "country", "draw", "node"]), unique=True))
    sizes = {d: draw(st.integers(0, 3)) for d in dims}
    coords: dict[str, Any] = {}
    for dim in dims:
        n = sizes[dim]
        if not draw(st.booleans()):
            continue  # a dimension without a coordinate
        if dim == "time":
            ticks = draw(
                st.lists(st.integers(-(2**60), 2**60), min_size=n, max_size=n, unique=True)
            )
            coords[dim] = np.array(ticks, dtype="datetime64[ns]")
        elif dim == "country":
            labels = draw(st.lists(_texts, min_size=n, max_size=n, unique=True))
            coords[dim] = np.array(labels, dtype=draw(st.sampled_from([object, str])))
        else:
            coords[dim] = np.array(
                draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n, unique=True)),
                dtype=np.int64,
            )
    data_vars: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(["supply", "demand", "price"]), unique=True)):
        var_dims = tuple(draw(st.permutations(dims))[: draw(st.integers(0, len(dims)))])
        values = draw(
            arrays(np.float64, tuple(sizes[d] for d in var_dims), elements=st.floats(width=64))
        )
        data_vars[name] = (var_dims, values, {"units": draw(_texts), "long_name": name})
    return xr.Dataset(data_vars, coords=coords, attrs={"title": draw(_texts), "n": 3})


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("store"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds=datasets())
def test_round_trip_random_datasets(
    shared_store: RunStore, make_record: MakeRecord, ds: xr.Dataset
) -> None:
    run_id = shared_store.save(make_record(), ds)
    assert_same(ds, shared_store.results(run_id))


def test_round_trip_many_dtypes(store: RunStore, make_record: MakeRecord) -> None:
    ds = xr.Dataset(
        {
            "flag": (("x",), np.array([True, False, True])),
            "count": (("x",), np.array([1, -2, 3], dtype=np.int32)),
            "small": (("x",), np.array([1, 2, 255], dtype=np.uint8)),
            "ratio": (("x", "y"), np.arange(6, dtype=np.float32).reshape(3, 2)),
            "when": (("x",), np.array(["2030-01-01", "NaT", "2031-06-30"], dtype="datetime64[s]")),
            "lag": (("x",), np.array([1, 2, 3], dtype="timedelta64[D]")),
            "label": (("x",), np.array(["a", None, "c"], dtype=object)),
            "code": (("y",), np.array(["NdPr", "Dy"], dtype=np.dtypes.StringDType())),
            "raw": (("y",), np.array([b"ab", b"c"])),
            "total": ((), np.float64(7.5), {"units": "t"}),
            "value": (("value",), np.array([0.5, 1.5])),
        },
        coords={
            "x": [10, 20, 30],
            "y": ["p", "q"],
            "x_name": ("x", ["ten", "twenty", "thirty"], {"note": "non-index coordinate"}),
            "epoch": np.datetime64("2030-01-01T00:00:00.000000001", "ns"),
        },
        attrs={
            "units": "t REO",
            "shape": (2, 3),
            "weights": np.array([0.25, 0.75]),
            "seed": np.int64(9),
            "nested": {"a": [1, 2.5, None], "b": {"c": "d"}},
            "start": np.datetime64("2030-01-01", "D"),
            "flag": True,
        },
    )
    run_id = store.save(make_record(), ds)
    assert_same(ds, store.results(run_id))


def test_parquet_files_spread_the_last_dimension_into_columns(
    store: RunStore, make_record: MakeRecord, dataset: xr.Dataset
) -> None:
    run_id = store.save(make_record(), dataset)
    run_dir = store.path / "runs" / run_id
    table = pq.read_table(run_dir / "data" / "supply.parquet")
    countries = [str(c) for c in dataset.country.values]
    assert table.column_names == ["time", *countries]
    assert table.num_rows == 6
    assert str(table.schema.field("time").type) == "timestamp[ns]"
    frame = table.to_pandas()
    assert frame.iloc[0][countries[1]] == dataset.supply.values[0, 1]
    assert list(frame["time"]) == list(dataset.time.values)
    # A one-dimensional variable keeps a dimension column and a value column.
    price = pq.read_table(run_dir / "data" / "price.parquet")
    assert price.column_names == ["time", "value"]


def test_clashing_column_labels_fall_back_to_a_value_column(
    store: RunStore, make_record: MakeRecord
) -> None:
    ds = xr.Dataset(
        {
            "twice": (("t", "c"), np.arange(4.0).reshape(2, 2)),
            "clash": (("t", "k"), np.arange(4.0).reshape(2, 2)),
        },
        coords={"c": ["a", "a"], "k": ["t", "x"]},
    )
    run_id = store.save(make_record(), ds)
    run_dir = store.path / "runs" / run_id
    assert pq.read_table(run_dir / "data" / "twice.parquet").column_names == ["t", "c", "value"]
    assert pq.read_table(run_dir / "data" / "clash.parquet").column_names == ["t", "k", "value"]
    assert_same(ds, store.results(run_id))


def test_format_1_long_form_runs_are_still_read(tmp_path: Path) -> None:
    ds = xr.Dataset(
        {"supply": (("time", "country"), np.arange(6.0).reshape(3, 2), {"units": "t"})},
        coords={"time": np.arange(3), "country": ["CHN", "IND"]},
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "coords").mkdir()
    pq.write_table(
        pa.table(
            {"time": [0, 0, 1, 1, 2, 2], "country": ["CHN", "IND"] * 3, "value": np.arange(6.0)}
        ),
        tmp_path / "data" / "supply.parquet",
    )
    pq.write_table(pa.table({"time": np.arange(3)}), tmp_path / "coords" / "time.parquet")
    pq.write_table(pa.table({"country": ["CHN", "IND"]}), tmp_path / "coords" / "country.parquet")

    def spec(name: str, role: str, dims: list[str], dtype: str, column: str) -> dict[str, Any]:
        return {
            "name": name,
            "role": role,
            "file": f"{role}s/{name}.parquet" if role == "coord" else f"data/{name}.parquet",
            "dims": dims,
            "file_dims": dims,
            "dtype": dtype,
            "attrs": {},
            "value_column": column,
        }

    layout = {
        "format": 1,
        "dims": {"time": 3, "country": 2},
        "append_dim": None,
        "attrs": {},
        "variables": [
            spec("time", "coord", ["time"], "<i8", "time"),
            spec("country", "coord", ["country"], "<U3", "country"),
            {
                **spec("supply", "data", ["time", "country"], "<f8", "value"),
                "attrs": {"units": "t"},
            },
        ],
    }
    assert_same(ds, read_dataset(tmp_path, layout))


def test_hostile_variable_names_stay_in_the_run_directory(
    store: RunStore, make_record: MakeRecord
) -> None:
    ds = xr.Dataset(
        {"../../escape": ("x", [1.0]), "/etc/passwd": ("x", [2.0]), "a b": ("x", [3.0])}
    )
    run_id = store.save(make_record(), ds)
    assert_same(ds, store.results(run_id))
    files = sorted(f.path for f in store.get(run_id).files)
    assert all("/" not in f.removeprefix("data/").removeprefix("coords/") for f in files)
    assert not (store.path.parent / "escape.parquet").exists()


def test_streamed_chunks_along_draw(store: RunStore, make_record: MakeRecord) -> None:
    rng = np.random.default_rng(1)
    full = xr.Dataset(
        {
            "shortfall": (("time", "draw"), rng.random((4, 10)), {"units": "t"}),
            "capacity": (("time",), rng.random(4), {"units": "t/yr"}),
            "weight": (("draw",), rng.random(10)),
        },
        coords={
            "time": np.arange(4),
            "draw": np.arange(10),
            "member": ("draw", [f"m{i}" for i in range(10)]),
        },
        attrs={"kind": "ensemble"},
    )
    with store.begin_run(make_record(kind="ensemble")) as writer:
        for start in range(0, 10, 3):
            writer.append(full.isel(draw=slice(start, start + 3)))
        run_id = writer.commit({"p95": 1.0})
    assert_same(full, store.results(run_id))
    info = store.get(run_id)
    assert info.record.summary == {"p95": 1.0}
    assert info.dims == {"time": 4, "draw": 10}


def test_streamed_draw_without_coordinate_gets_positions(
    store: RunStore, make_record: MakeRecord
) -> None:
    with store.begin_run(make_record()) as writer:
        for _ in range(3):
            writer.append(xr.Dataset({"v": (("draw",), np.ones(2))}))
        run_id = writer.commit()
    table = pq.read_table(store.path / "runs" / run_id / "data" / "v.parquet")
    assert table.column("draw").to_pylist() == [0, 1, 2, 3, 4, 5]


def test_mismatched_chunk_is_refused_and_nothing_is_saved(
    store: RunStore, make_record: MakeRecord
) -> None:
    with store.begin_run(make_record()) as writer:
        writer.append(xr.Dataset({"v": (("draw", "t"), np.ones((2, 3)))}))
        with pytest.raises(StoreError, match="dimension 't' has size 4, expected 3"):
            writer.append(xr.Dataset({"v": (("draw", "t"), np.ones((2, 4)))}))
    assert store.list() == []
    assert list((store.path / "tmp").iterdir()) == []


def test_writer_left_without_commit_leaves_nothing(
    store: RunStore, make_record: MakeRecord
) -> None:
    with store.begin_run(make_record()) as writer:
        writer.append(xr.Dataset({"v": (("draw",), np.ones(2))}))
    assert store.list() == []
    assert list((store.path / "tmp").iterdir()) == []
    with pytest.raises(StoreError, match="already committed or aborted"):
        writer.append(xr.Dataset({"v": (("draw",), np.ones(2))}))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array([1 + 2j]), "Parquet cannot hold"),
        (np.array([{"a": 1}], dtype=object), "must all be strings or missing"),
    ],
)
def test_unstorable_values_are_refused(
    store: RunStore, make_record: MakeRecord, values: np.ndarray[Any, Any], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        store.save(make_record(), xr.Dataset({"v": ("x", values)}))
    assert store.list() == []


def test_unstorable_attribute_is_refused(
    store: RunStore, make_record: MakeRecord, tmp_path: Path
) -> None:
    with pytest.raises(StoreError, match="attribute of type"):
        store.save(make_record(), xr.Dataset(attrs={"path": tmp_path}))
