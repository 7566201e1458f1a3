"""Results on disk: one Parquet file per variable, plus a JSON layout.

Each data variable and each coordinate goes to its own Parquet file with one column per dimension
(holding the dimension's labels, or positions where the dimension has no coordinate), so that
analysts can query a run with DuckDB or pandas directly. A variable of two or more dimensions has
its last dimension spread into columns, one per label (``stock``: columns ``draw``, ``time`` and
one per material); other variables have one value column. ``dataset.json`` records everything else
that :func:`read_dataset` needs to rebuild the Dataset exactly: dimension sizes and order, every
variable's dims, dtype, attributes and columns, and the Dataset's attributes.

Values are written in row groups of bounded size, variable by variable (the variables in
parallel), and chunk by chunk along an append dimension (an ensemble's ``draw``), so memory stays
bounded however large the results are. Dimension columns are dictionary-encoded: a run is written
at close to the speed of a plain Parquet write of its values (``bench/store.py``).
"""

from __future__ import annotations

import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from rareflow.errors import StoreError

FORMAT_VERSION = 2
"""Version of the on-disk layout, recorded in ``dataset.json``.

1: every variable long-form (a column per dimension and one value column). 2: a variable of two or
more dimensions has its last dimension spread into columns (one per label), which costs the
dimension columns once per row of the other dimensions instead of once per value. Both are read.
"""
_READABLE = frozenset({1, 2})
_MAX_SPREAD = 4096
"""Largest dimension spread into columns; a longer one stays a dimension column."""
LAYOUT_FILE = "dataset.json"
"""Name of the layout file in a run's directory."""
DATA_DIR = "data"
COORDS_DIR = "coords"

_ROWS_PER_GROUP = 1 << 20
# Parquet has no complex type; "O" is accepted only when every value is a string (or None).
_SUPPORTED_KINDS = frozenset("biufMmUSOT")
_STRING_DTYPE = "StringDType"


def _writer_threads() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0))))


def fsync_file(path: Path) -> None:
    """Flush a file's contents to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (creations, renames) to stable storage."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, document: Any) -> None:
    """Write ``document`` as JSON to ``path`` and fsync it."""
    with path.open("w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def safe_filename(name: str, taken: set[str]) -> str:
    """Return a file-name stem for a variable called ``name``, unique among ``taken``.

    Only letters, digits, ``_`` and ``-`` survive, so no name can form a path; ``taken`` is
    compared case-insensitively (for case-insensitive file systems) and updated.
    """
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:80] or "_"
    candidate, n = stem, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate.lower())
    return candidate


# --- attributes -------------------------------------------------------------------------------
# Attributes are JSON with tags for what JSON lacks (tuples, numpy arrays and scalars); every dict
# is tagged too, so that no user dict can be mistaken for a tag.


def encode_attr(value: Any) -> Any:
    """Encode an attribute value as tagged JSON.

    Raises
    ------
    StoreError
        If the value is of a type that cannot be stored exactly.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode_attr(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode_attr(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise StoreError("attribute dictionaries must have string keys")
        return {"__dict__": {k: encode_attr(v) for k, v in value.items()}}
    if isinstance(value, np.ndarray | np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufUMm":
            raise StoreError(f"cannot store a numpy attribute of dtype {arr.dtype}")
        items = arr.view("int64") if arr.dtype.kind in "Mm" else arr
        tag = "__ndarray__" if isinstance(value, np.ndarray) else "__npscalar__"
        return {tag: items.tolist(), "dtype": arr.dtype.str, "shape": list(arr.shape)}
    raise StoreError(f"cannot store an attribute of type {type(value).__name__}")


def decode_attr(value: Any) -> Any:
    """Decode a value written by :func:`encode_attr`."""
    if isinstance(value, list):
        return [decode_attr(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode_attr(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: decode_attr(v) for k, v in value["__dict__"].items()}
    dtype = np.dtype(value["dtype"])
    raw = value.get("__ndarray__", value.get("__npscalar__"))
    if dtype.kind in "Mm":
        arr = np.array(raw, dtype="int64").view(dtype)
    else:
        arr = np.array(raw, dtype=dtype)
    arr = arr.reshape(value["shape"])
    return arr if "__ndarray__" in value else arr[()]


def _encode_attrs(attrs: dict[Any, Any], where: str) -> dict[str, Any]:
    if not all(isinstance(k, str) for k in attrs):
        raise StoreError(f"attribute names of {where} must be strings")
    return {k: encode_attr(v) for k, v in attrs.items()}


# --- dtypes and Arrow -------------------------------------------------------------------------


def _dtype_name(dtype: np.dtype[Any]) -> str:
    return _STRING_DTYPE if dtype.kind == "T" else dtype.str


def _dtype_from_name(name: str) -> np.dtype[Any]:
    if name == _STRING_DTYPE:
        return np.dtype(np.dtypes.StringDType())
    return np.dtype(name)


def _to_arrow(values: np.ndarray[Any, Any], what: str) -> pa.Array:
    flat = values.reshape(-1)
    if flat.dtype.kind in "OT":
        try:
            # from_pandas: a missing string (NaN or None, as xarray makes it) becomes null.
            return pa.array(flat.astype(object), type=pa.string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
            raise StoreError(f"{what}: object values must all be strings or missing") from exc
    return pa.array(flat)


def _from_arrow(column: pa.ChunkedArray, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    values: np.ndarray[Any, Any] = column.to_numpy()
    if dtype.kind == "O" and column.null_count:
        values[column.is_null().to_numpy()] = np.nan
    # Arrow gives strings and bytes back as objects; fixed-width dtypes need the cast.
    return values if values.dtype == dtype else values.astype(dtype)


# --- layout -----------------------------------------------------------------------------------


@dataclass
class VarSpec:
    """How one variable of a Dataset is stored.

    Parameters
    ----------
    name
        The variable's name.
    role
        ``coord`` or ``data``.
    file
        Its Parquet file, relative to the run's directory.
    dims
        Its dimensions, in the Dataset's order.
    file_dims
        Its dimensions in the file's row order (an append dimension first).
    dtype
        Its numpy dtype.
    attrs
        Its attributes, encoded by :func:`encode_attr`.
    value_column
        Name of the Parquet column holding its values (when ``spread`` is None).
    spread
        The last of ``file_dims``, if it is spread into one value column per label.
    columns
        With ``spread``: the value columns' names, one per label, in order.
    """

    name: str
    role: Literal["coord", "data"]
    file: str
    dims: tuple[str, ...]
    file_dims: tuple[str, ...]
    dtype: np.dtype[Any]
    attrs: dict[str, Any]
    value_column: str
    spread: str | None = None
    columns: tuple[str, ...] = ()

    @property
    def value_columns(self) -> list[str]:
        """The Parquet columns holding the values, in order."""
        return list(self.columns) if self.spread is not None else [self.value_column]

    @property
    def row_dims(self) -> tuple[str, ...]:
        """The dimensions that have a column in the file, in the file's row order."""
        dims = self.file_dims[:-1] if self.spread is not None else self.file_dims
        return tuple(d for d in dims if d != self.value_column)

    def to_json(self) -> dict[str, Any]:
        """Return the spec as a JSON-serialisable dict."""
        return {
            "name": self.name,
            "role": self.role,
            "file": self.file,
            "dims": list(self.dims),
            "file_dims": list(self.file_dims),
            "dtype": _dtype_name(self.dtype),
            "attrs": self.attrs,
            "value_column": self.value_column,
            "spread": self.spread,
            "columns": list(self.columns),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> VarSpec:
        """Rebuild a spec written by :meth:`to_json`."""
        return cls(
            name=doc["name"],
            role=doc["role"],
            file=doc["file"],
            dims=tuple(doc["dims"]),
            file_dims=tuple(doc["file_dims"]),
            dtype=_dtype_from_name(doc["dtype"]),
            attrs=doc["attrs"],
            value_column=doc["value_column"],
            spread=doc.get("spread"),
            columns=tuple(doc.get("columns", ())),
        )


def _is_index(ds: xr.Dataset, name: str) -> bool:
    return name in ds.dims and name in ds.variables and ds.variables[name].dims == (name,)


def _value_column(name: str, dims: tuple[str, ...], index: bool) -> str:
    if index:
        return name
    column = "value"
    while column in dims:
        column += "_"
    return column


def _names(ds: xr.Dataset) -> None:
    for name in [*ds.variables, *ds.dims]:
        if not isinstance(name, str):
            raise StoreError(f"variable and dimension names must be strings, not {name!r}")
    for name, index in ds.indexes.items():
        if isinstance(index, pd.MultiIndex):
            raise StoreError(f"coordinate {name!r} is a MultiIndex; reset it before saving")


class DatasetWriter:
    """Write a Dataset to Parquet, whole or chunk by chunk along an append dimension.

    Parameters
    ----------
    directory
        The run's (staging) directory.
    append_dim
        Dimension along which chunks are appended, or None to take exactly one Dataset.
    """

    def __init__(self, directory: Path, append_dim: str | None) -> None:
        self._dir = directory
        self._append_dim = append_dim
        self._specs: list[VarSpec] = []
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._sizes: dict[str, int] = {}
        self._attrs: dict[str, Any] = {}
        self._fixed_indexes: dict[str, xr.Variable] = {}
        self._appended = 0
        self._started = False

    def write(self, ds: xr.Dataset) -> None:
        """Write a Dataset, or the next chunk along the append dimension.

        Raises
        ------
        StoreError
            If the Dataset cannot be stored exactly, or a chunk does not match the first.
        """
        if self._append_dim is None and self._started:
            raise StoreError("this writer takes a single Dataset; give an append dimension")
        if self._append_dim is not None and self._append_dim not in ds.dims:
            raise StoreError(f"chunk has no dimension {self._append_dim!r} to append along")
        if self._started:
            self._check_chunk(ds)
        else:
            self._start(ds)
        labels = {str(dim): self._labels(ds, str(dim)) for dim in ds.dims}
        due = [s for s in self._specs if not self._started or self._append_dim in s.dims]
        # Arrow encodes and writes without the GIL: the variables' files are written in
        # parallel, one thread per core (the first error is raised once all have finished).
        with ThreadPoolExecutor(max_workers=_writer_threads()) as pool:
            futures = [
                pool.submit(self._write_variable, spec, ds.variables[spec.name], labels)
                for spec in due
            ]
        for future in futures:
            future.result()
        if not self._started:
            # Variables without the append dimension are complete after the first chunk.
            for spec in self._specs:
                if self._append_dim not in spec.dims:
                    self._writers.pop(spec.name).close()
        if self._append_dim is not None:
            self._appended += ds.sizes[self._append_dim]
        self._started = True

    def close(self) -> dict[str, Any]:
        """Finish every file, write ``dataset.json`` and return the layout.

        Raises
        ------
        StoreError
            If nothing was written.
        """
        if not self._started:
            raise StoreError("no results were written to this run")
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        if self._append_dim is not None:
            self._sizes[self._append_dim] = self._appended
        layout = {
            "format": FORMAT_VERSION,
            "dims": self._sizes,
            "append_dim": self._append_dim,
            "attrs": self._attrs,
            "variables": [spec.to_json() for spec in self._specs],
        }
        for spec in self._specs:
            fsync_file(self._dir / spec.file)
        write_json(self._dir / LAYOUT_FILE, layout)
        for sub in (DATA_DIR, COORDS_DIR):
            fsync_dir(self._dir / sub)
        fsync_dir(self._dir)
        return layout

    def abort(self) -> None:
        """Close any open file; the caller removes the directory."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def _start(self, ds: xr.Dataset) -> None:
        _names(ds)
        self._sizes = {str(d): int(n) for d, n in ds.sizes.items()}
        self._attrs = _encode_attrs(ds.attrs, "the Dataset")
        for sub in (DATA_DIR, COORDS_DIR):
            (self._dir / sub).mkdir()
        taken: dict[str, set[str]] = {DATA_DIR: set(), COORDS_DIR: set()}
        roles: list[tuple[str, Literal["coord", "data"]]] = [
            *((str(n), "coord") for n in ds.coords),
            *((str(n), "data") for n in ds.data_vars),
        ]
        for name, role in roles:
            var = ds.variables[name]
            if var.dtype.kind not in _SUPPORTED_KINDS:
                raise StoreError(
                    f"variable {name!r} has dtype {var.dtype}, which Parquet cannot hold"
                )
            dims = tuple(str(d) for d in var.dims)
            file_dims = dims
            if self._append_dim in dims:
                file_dims = (self._append_dim, *(d for d in dims if d != self._append_dim))
            sub = COORDS_DIR if role == "coord" else DATA_DIR
            value_column = _value_column(name, dims, _is_index(ds, name))
            spread: str | None = None
            columns: tuple[str, ...] = ()
            if len(file_dims) > 1 and file_dims[-1] != self._append_dim:
                names = self._column_names(ds, file_dims[-1])
                if names and len(set(names)) == len(names) and not set(names) & set(file_dims):
                    spread, columns = file_dims[-1], tuple(names)
            self._specs.append(
                VarSpec(
                    name=name,
                    role=role,
                    file=f"{sub}/{safe_filename(name, taken[sub])}.parquet",
                    dims=dims,
                    file_dims=file_dims,
                    dtype=var.dtype,
                    attrs=_encode_attrs(var.attrs, f"variable {name!r}"),
                    value_column=value_column,
                    spread=spread,
                    columns=columns,
                )
            )
            if _is_index(ds, name) and name != self._append_dim:
                self._fixed_indexes[name] = var.copy(deep=False)

    def _check_chunk(self, ds: xr.Dataset) -> None:
        expected = {spec.name: spec for spec in self._specs}
        if set(map(str, ds.variables)) != set(expected):
            raise StoreError(
                f"chunk has variables {sorted(map(str, ds.variables))}, "
                f"expected {sorted(expected)} as in the first chunk"
            )
        for name, var in ds.variables.items():
            spec = expected[str(name)]
            if set(map(str, var.dims)) != set(spec.dims):
                raise StoreError(f"variable {name!r} has dims {var.dims}, expected {spec.dims}")
            if var.dtype != spec.dtype:
                if var.dtype.kind == spec.dtype.kind and var.dtype.kind in "US":
                    spec.dtype = np.promote_types(var.dtype, spec.dtype)
                else:
                    raise StoreError(
                        f"variable {name!r} has dtype {var.dtype}, expected {spec.dtype}"
                    )
        for dim, size in ds.sizes.items():
            expected_size = self._sizes[str(dim)]
            if dim != self._append_dim and size != expected_size:
                raise StoreError(f"dimension {dim!r} has size {size}, expected {expected_size}")
        for name, index in self._fixed_indexes.items():
            if not index.equals(ds.variables[name]):  # type: ignore[no-untyped-call]
                raise StoreError(f"coordinate {name!r} differs from the first chunk's")

    @staticmethod
    def _column_names(ds: xr.Dataset, dim: str) -> list[str]:
        size = ds.sizes[dim]
        if not 0 < size <= _MAX_SPREAD:
            return []
        if _is_index(ds, dim):
            return [str(label) for label in ds.variables[dim].values]
        return [str(i) for i in range(size)]

    def _labels(self, ds: xr.Dataset, dim: str) -> pa.Array:
        if _is_index(ds, dim):
            return _to_arrow(ds.variables[dim].values, f"coordinate {dim!r}")
        start = self._appended if dim == self._append_dim else 0
        return pa.array(np.arange(start, start + ds.sizes[dim], dtype=np.int64))

    def _write_variable(self, spec: VarSpec, var: xr.Variable, labels: dict[str, pa.Array]) -> None:
        var = var.transpose(*spec.file_dims)
        shape = var.shape
        if not shape:
            self._write_table(
                spec, {spec.value_column: _to_arrow(np.asarray(var.values), spec.name)}
            )
            return
        values = np.asarray(var.values)
        step = max(1, _ROWS_PER_GROUP // max(1, math.prod(shape[1:])))
        row_axes = [(i, d) for i, d in enumerate(spec.file_dims) if d in spec.row_dims]
        for start in range(0, max(shape[0], 1), step):
            piece = values[start : start + step]
            rows_shape = piece.shape[:-1] if spec.spread is not None else piece.shape
            columns: dict[str, pa.Array] = {}
            for i, dim in row_axes:
                # The leading dimension's labels are sliced to the piece; the rest are whole.
                dim_labels = labels[dim].slice(start, piece.shape[0]) if i == 0 else labels[dim]
                columns[dim] = _label_column(dim_labels, rows_shape, i)
            if spec.spread is None:
                columns[spec.value_column] = _to_arrow(piece, spec.name)
            else:
                for j, column in enumerate(spec.columns):
                    columns[column] = _to_arrow(piece[..., j], spec.name)
            self._write_table(spec, columns)

    def _write_table(self, spec: VarSpec, columns: dict[str, pa.Array]) -> None:
        table = pa.table(columns)
        writer = self._writers.get(spec.name)
        if writer is None:
            # Dimension columns repeat few labels: dictionary pages, already compact, so neither
            # compressed nor given statistics except for the leading dimension (a draw filter).
            # Values rarely repeat: dictionary-encoding them would be tried, fail and cost a
            # pass, so they are plain pages, compressed.
            labels = list(spec.row_dims)
            writer = pq.ParquetWriter(
                self._dir / spec.file,
                table.schema,
                use_dictionary=labels,
                compression={name: "none" if name in labels else "snappy" for name in columns},
                write_statistics=[*spec.value_columns, *labels[:1]],
            )
            self._writers[spec.name] = writer
        if table.schema != writer.schema:
            table = table.cast(writer.schema)
        writer.write_table(table)


def _label_column(labels: pa.Array, shape: tuple[int, ...], axis: int) -> pa.DictionaryArray:
    """Return the labels of ``axis`` for every row of a C-ordered block of ``shape``.

    The column is a dictionary array (the labels, and the smallest integer positions into them),
    which Parquet writes as dictionary pages directly; readers see the labels themselves.
    """
    inner = math.prod(shape[axis + 1 :])
    outer = math.prod(shape[:axis])
    positions = np.arange(shape[axis], dtype=np.min_scalar_type(-max(shape[axis], 1)))
    if inner != 1:
        positions = np.repeat(positions, inner)
    if outer != 1:
        positions = np.tile(positions, outer)
    return pa.DictionaryArray.from_arrays(pa.array(positions), labels)


def read_dataset(directory: Path, layout: dict[str, Any]) -> xr.Dataset:
    """Rebuild the Dataset stored in ``directory`` with ``layout``.

    Parameters
    ----------
    directory
        The run's directory.
    layout
        The content of its ``dataset.json``.

    Returns
    -------
    xarray.Dataset
        The Dataset as saved: same variables, dims, coords, dtypes and attributes.

    Raises
    ------
    StoreError
        If the layout's format is unknown or a file does not hold the expected number of values.
    """
    if layout.get("format") not in _READABLE:
        raise StoreError(f"unknown results format {layout.get('format')!r} in {LAYOUT_FILE}")
    sizes: dict[str, int] = layout["dims"]
    coords: dict[str, xr.Variable] = {}
    data_vars: dict[str, xr.Variable] = {}
    for doc in layout["variables"]:
        spec = VarSpec.from_json(doc)
        table = pq.read_table(directory / spec.file, columns=spec.value_columns)
        if spec.spread is None:
            values = _from_arrow(table.column(0), spec.dtype)
        else:
            values = np.stack([_from_arrow(c, spec.dtype) for c in table.columns], axis=-1)
        shape = tuple(sizes[d] for d in spec.file_dims)
        if values.size != math.prod(shape):
            raise StoreError(
                f"{spec.file} holds {values.size} values, expected {math.prod(shape)} for {shape}"
            )
        attrs = {k: decode_attr(v) for k, v in spec.attrs.items()}
        var = xr.Variable(spec.file_dims, values.reshape(shape), attrs=attrs)
        target = coords if spec.role == "coord" else data_vars
        target[spec.name] = var.transpose(*spec.dims)
    attrs = {k: decode_attr(v) for k, v in layout["attrs"].items()}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
