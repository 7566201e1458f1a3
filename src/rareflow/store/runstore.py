"""The run store: a DuckDB catalogue of runs and their results in Parquet.

Layout of a store directory::

    catalogue.duckdb       runs and their files' checksums
    lock                   fcntl lock file serialising catalogue access across processes
    runs/<run id>/         a committed run: run.json, dataset.json, data/*.parquet, coords/*.parquet
    tmp/<name>/            a run being written (staging), with tmp/<name>.lock held by its writer

A run is written into ``tmp/``, fsynced, checksummed, renamed into ``runs/`` and only then
catalogued, in one DuckDB transaction; every reader goes through the catalogue, so a run is visible
exactly when its row is committed. Whatever a crash leaves behind (a staging directory, a renamed
but uncatalogued run, the remains of a deletion) is invisible and removed by the next opening of the
store or by ``verify(repair=True)``.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import platformdirs
import xarray as xr

from rareflow.dims import DRAW
from rareflow.errors import StoreError
from rareflow.store.codec import (
    LAYOUT_FILE,
    DatasetWriter,
    fsync_dir,
    read_dataset,
    write_json,
)
from rareflow.store.locking import exclusive_lock, try_lock
from rareflow.store.records import (
    RunInfo,
    RunRecord,
    StoredFile,
    StoreProblem,
    check_run_id,
    new_run_id,
)

STORE_ENV = "RAREFLOW_STORE"
"""Environment variable naming the default store directory."""
RUN_FILE = "run.json"
"""Name of the file in a run's directory holding its id, save time and record."""

_CATALOGUE = "catalogue.duckdb"
_LOCK = "lock"
_RUNS = "runs"
_TMP = "tmp"
_SCHEMA_VERSION = "1"
_FILE_PATTERN = re.compile(
    r"\A(?:(?:data|coords)/[A-Za-z0-9_-]{1,90}\.parquet|run\.json|dataset\.json)\Z"
)
_HASH_BLOCK = 1 << 20

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        data_version VARCHAR NOT NULL,
        code_version VARCHAR NOT NULL,
        seed BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        saved_at TIMESTAMP NOT NULL,
        parent_id VARCHAR,
        record VARCHAR NOT NULL,
        structure VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS files (
        run_id VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        size BIGINT NOT NULL,
        PRIMARY KEY (run_id, path)
    )""",
]


def default_store_path() -> Path:
    """Return the default store directory.

    Returns
    -------
    pathlib.Path
        ``$RAREFLOW_STORE`` if set, else ``store`` in rareflow's user data directory.
    """
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path("rareflow") / "store"


def sha256_file(path: Path) -> tuple[str, int]:
    """Return the hex SHA-256 digest and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _naive_utc(moment: datetime) -> datetime:
    # DuckDB's TIMESTAMP is naive; the catalogue keeps UTC.
    return moment.astimezone(UTC).replace(tzinfo=None)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class RunStore:
    """A directory of runs: catalogue in DuckDB, results in Parquet.

    Opening a store creates it if needed and removes what crashed writers left behind.

    Parameters
    ----------
    path
        The store directory; by default :func:`default_store_path`.
    lock_timeout
        Seconds to wait for another process to finish with the catalogue.

    Raises
    ------
    StoreError
        If the store cannot be created or locked, or its catalogue cannot be read.
    """

    def __init__(self, path: Path | str | None = None, *, lock_timeout: float = 30.0) -> None:
        chosen = Path(path) if path is not None else default_store_path()
        self.path = chosen.expanduser().resolve()
        self.lock_timeout = lock_timeout
        try:
            (self.path / _RUNS).mkdir(parents=True, exist_ok=True)
            (self.path / _TMP).mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the run store at {self.path}: {exc}") from exc
        with self._locked(), self._connect() as con:
            for statement in _SCHEMA:
                con.execute(statement)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [_SCHEMA_VERSION]
            )
            version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None or version[0] != _SCHEMA_VERSION:
                raise StoreError(f"run store at {self.path} has an unknown schema {version!r}")
            for orphan in self._orphans(con):
                _remove(orphan)

    # --- writing ---------------------------------------------------------------------------

    def save(self, record: RunRecord, results: xr.Dataset) -> str:
        """Save a run and its results.

        Parameters
        ----------
        record
            The run's record.
        results
            The run's results, written variable by variable.

        Returns
        -------
        str
            The new run's id.
        """
        with self._writer(record, append_dim=None) as writer:
            writer.append(results)
            return writer.commit()

    def begin_run(self, record: RunRecord, *, append_dim: str = DRAW) -> RunWriter:
        """Start a run whose results arrive in chunks along ``append_dim``.

        Nothing is visible in the store until :meth:`RunWriter.commit`. Use the writer as a context
        manager so that it is aborted (and its files removed) if commit is never reached.

        Parameters
        ----------
        record
            The run's record (its summary may be replaced at commit).
        append_dim
            The dimension that chunks are appended along, by default ``draw``.

        Returns
        -------
        RunWriter
            The writer; call ``append`` for each chunk, then ``commit``.
        """
        return self._writer(record, append_dim=append_dim)

    def _writer(self, record: RunRecord, append_dim: str | None) -> RunWriter:
        name = uuid.uuid4().hex
        lock_path = self.path / _TMP / f"{name}.lock"
        # Staging is created under the store lock so that cleanup never sees it half-made.
        with self._locked():
            fd = try_lock(lock_path)
            if fd is None:
                raise StoreError(f"staging lock {lock_path} is unexpectedly held")
            try:
                (self.path / _TMP / name).mkdir()
            except OSError:
                os.close(fd)
                lock_path.unlink(missing_ok=True)
                raise
        return RunWriter(self, record, self.path / _TMP / name, fd, append_dim)

    def _commit(self, staging: Path, record: RunRecord, layout: dict[str, Any]) -> str:
        saved_at = datetime.now(UTC)
        run_id = new_run_id(saved_at)
        write_json(
            staging / RUN_FILE,
            {
                "id": run_id,
                "saved_at": saved_at.isoformat(),
                "record": json.loads(record.model_dump_json()),
            },
        )
        fsync_dir(staging)
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        sums = [(rel, *sha256_file(staging / rel)) for rel in files]
        structure = {
            "dims": layout["dims"],
            "variables": [v["name"] for v in layout["variables"] if v["role"] == "data"],
        }
        final = self.path / _RUNS / run_id
        with self._locked():
            staging.rename(final)
            fsync_dir(self.path / _RUNS)
            fsync_dir(self.path / _TMP)
            try:
                with self._connect() as con:
                    con.begin()
                    con.execute(
                        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            run_id,
                            record.kind,
                            record.name,
                            record.data_version,
                            record.code_version,
                            record.seed,
                            _naive_utc(record.started_at),
                            _naive_utc(record.finished_at),
                            _naive_utc(saved_at),
                            record.parent_id,
                            record.model_dump_json(),
                            json.dumps(structure),
                        ],
                    )
                    con.executemany(
                        "INSERT INTO files VALUES (?, ?, ?, ?)",
                        [[run_id, rel, digest, size] for rel, digest, size in sums],
                    )
                    con.commit()
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise
        return run_id

    # --- reading ---------------------------------------------------------------------------

    def list(self) -> builtins.list[RunInfo]:
        """Return every committed run, oldest first.

        Returns
        -------
        list of RunInfo
            One entry per run.
        """
        with self._locked(), self._connect() as con:
            rows = con.execute(
                "SELECT id, saved_at, record, structure FROM runs ORDER BY id"
            ).fetchall()
            files = con.execute(
                "SELECT run_id, path, sha256, size FROM files ORDER BY run_id, path"
            ).fetchall()
        by_run: dict[str, builtins.list[StoredFile]] = {}
        for run_id, path, digest, size in files:
            by_run.setdefault(run_id, []).append(StoredFile(path=path, sha256=digest, size=size))
        return [_info(row, by_run.get(row[0], [])) for row in rows]

    def get(self, run_id: str) -> RunInfo:
        """Return one run's catalogue entry.

        Parameters
        ----------
        run_id
            The run's id.

        Returns
        -------
        RunInfo
            Its metadata, record and files.

        Raises
        ------
        StoreError
            If the id is malformed or no such run is in the store.
        """
        check_run_id(run_id)
        with self._locked(), self._connect() as con:
            row = con.execute(
                "SELECT id, saved_at, record, structure FROM runs WHERE id = ?", [run_id]
            ).fetchone()
            files = con.execute(
                "SELECT path, sha256, size FROM files WHERE run_id = ? ORDER BY path", [run_id]
            ).fetchall()
        if row is None:
            raise StoreError(f"no run {run_id!r} in the store at {self.path}")
        return _info(row, [StoredFile(path=p, sha256=d, size=s) for p, d, s in files])

    def results(self, run_id: str, *, check: bool = True) -> xr.Dataset:
        """Load a run's results.

        Parameters
        ----------
        run_id
            The run's id.
        check
            Check every file against its recorded checksum first.

        Returns
        -------
        xarray.Dataset
            The results exactly as saved.

        Raises
        ------
        StoreError
            If the run is unknown, a file fails its checksum or cannot be read.
        """
        info = self.get(run_id)
        run_dir = self._run_dir(run_id)
        if check:
            problems = self._check_files(info, run_dir)
            if problems:
                details = "; ".join(str(p) for p in problems)
                raise StoreError(f"run {run_id} failed verification: {details}")
        try:
            layout = json.loads((run_dir / LAYOUT_FILE).read_text(encoding="utf-8"))
            return read_dataset(run_dir, layout)
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"cannot read the results of run {run_id}: {exc}") from exc

    # --- export, verify, delete ------------------------------------------------------------

    def export(
        self, run_id: str, directory: Path, *, overwrite: bool = False
    ) -> builtins.list[Path]:
        """Copy a run's files (Parquet, ``run.json``, ``dataset.json``) into ``directory``.

        Also writes ``SHA256SUMS`` (in ``sha256sum -c`` format) so the copy can be checked.

        Parameters
        ----------
        run_id
            The run's id.
        directory
            Destination directory, created if absent.
        overwrite
            Replace files that already exist there.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        StoreError
            If the run is unknown, a target exists and ``overwrite`` is false, a target would lie
            outside ``directory``, ``directory`` is inside the store, or a copied file does not
            match its checksum.
        """
        info = self.get(run_id)
        run_dir = self._run_dir(run_id)
        dest = Path(directory).expanduser().resolve()
        if dest.is_relative_to(self.path):
            raise StoreError(f"refusing to export into the run store itself ({dest})")
        sums_file = "SHA256SUMS"
        relpaths = [_checked_relpath(f.path, run_id) for f in info.files]
        targets = {rel: dest / rel for rel in [*relpaths, sums_file]}
        for rel, target in targets.items():
            # resolve() follows any symlink already there, so none can redirect a write outside.
            if not target.resolve().is_relative_to(dest):
                raise StoreError(f"refusing to export {rel}: {target} lies outside {dest}")
        existing = [str(t) for t in targets.values() if t.exists() or t.is_symlink()]
        if existing and not overwrite:
            raise StoreError(
                f"refusing to overwrite {len(existing)} file(s) in {dest} (first: {existing[0]}); "
                "use overwrite to replace them"
            )
        written: builtins.list[Path] = []
        for stored in info.files:
            target = targets[stored.path]
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
            shutil.copyfile(run_dir / stored.path, partial)
            if sha256_file(partial)[0] != stored.sha256:
                partial.unlink()
                raise StoreError(f"run {run_id}: {stored.path} does not match its checksum")
            partial.replace(target)
            written.append(target)
        lines = "".join(f"{f.sha256}  {f.path}\n" for f in info.files)
        partial = dest / f".{sums_file}.{uuid.uuid4().hex}.part"
        partial.write_text(lines, encoding="utf-8")
        partial.replace(targets[sums_file])
        written.append(targets[sums_file])
        return written

    def verify(self, *, repair: bool = False) -> builtins.list[StoreProblem]:
        """Check every run's files against the checksums recorded when it was saved.

        Parameters
        ----------
        repair
            Remove what crashed writers left behind (staging directories, uncatalogued run
            directories). Runs that fail verification are never removed: they are reported.

        Returns
        -------
        list of StoreProblem
            Missing, unexpected or altered files, and (without ``repair``) leftovers; empty if
            all is well.
        """
        with self._locked(), self._connect() as con:
            orphans = self._orphans(con)
            if repair:
                for orphan in orphans:
                    _remove(orphan)
        problems = [
            StoreProblem(
                "left behind by an interrupted write (run verify with repair to remove)",
                path=orphan.relative_to(self.path).as_posix(),
            )
            for orphan in ([] if repair else orphans)
        ]
        infos = self.list()
        for info in infos:
            problems.extend(self._check_files(info, self._run_dir(info.id)))
        if problems:
            # A run deleted while we hashed is not a problem.
            current = {info.id for info in self.list()}
            problems = [p for p in problems if p.run_id is None or p.run_id in current]
        return problems

    def delete(self, run_id: str) -> None:
        """Delete a run: its catalogue rows, then its files.

        Parameters
        ----------
        run_id
            The run's id.

        Raises
        ------
        StoreError
            If the id is malformed or no such run is in the store.
        """
        check_run_id(run_id)
        with self._locked():
            with self._connect() as con:
                con.begin()
                found = con.execute("SELECT count(*) FROM runs WHERE id = ?", [run_id]).fetchone()
                if found is None or found[0] == 0:
                    con.rollback()
                    raise StoreError(f"no run {run_id!r} in the store at {self.path}")
                con.execute("DELETE FROM files WHERE run_id = ?", [run_id])
                con.execute("DELETE FROM runs WHERE id = ?", [run_id])
                con.commit()
            # Uncatalogued now: if we die before the files are gone, cleanup removes them.
            run_dir = self._run_dir(run_id)
            if run_dir.exists():
                trash = self.path / _TMP / f"deleted-{run_id}"
                run_dir.rename(trash)
                shutil.rmtree(trash)

    # --- internals -------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        return self.path / _RUNS / check_run_id(run_id)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with exclusive_lock(self.path / _LOCK, self.lock_timeout):
            yield

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Connections are short-lived and only opened under the store lock: DuckDB locks its file
        # for as long as a connection is open, which would shut out other processes.
        try:
            con = duckdb.connect(str(self.path / _CATALOGUE))
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open the catalogue of the run store at {self.path}: {exc}"
            ) from exc
        try:
            yield con
        finally:
            con.close()

    def _orphans(self, con: duckdb.DuckDBPyConnection) -> builtins.list[Path]:
        """Return leftovers of interrupted writes; the store lock must be held."""
        catalogued = {row[0] for row in con.execute("SELECT id FROM runs").fetchall()}
        orphans = [p for p in (self.path / _RUNS).iterdir() if p.name not in catalogued]
        tmp = self.path / _TMP
        for entry in tmp.iterdir():
            if entry.suffix == ".lock":
                staging = entry.with_suffix("")
                if not staging.exists() and _unlocked(entry):
                    orphans.append(entry)
                continue
            lock_path = tmp / f"{entry.name}.lock"
            if not lock_path.exists() or _unlocked(lock_path):
                orphans.append(entry)
                if lock_path.exists():
                    orphans.append(lock_path)
        return orphans

    def _check_files(self, info: RunInfo, run_dir: Path) -> builtins.list[StoreProblem]:
        problems: builtins.list[StoreProblem] = []
        if not run_dir.is_dir():
            return [StoreProblem("run directory is missing", info.id, f"{_RUNS}/{info.id}")]
        recorded = {f.path for f in info.files}
        for stored in info.files:
            where = f"{_RUNS}/{info.id}/{stored.path}"
            try:
                path = run_dir / _checked_relpath(stored.path, info.id)
                digest, size = sha256_file(path)
            except (OSError, StoreError) as exc:
                problems.append(StoreProblem(f"cannot read file: {exc}", info.id, where))
                continue
            if digest != stored.sha256 or size != stored.size:
                problems.append(
                    StoreProblem(
                        f"checksum mismatch: recorded sha256 {stored.sha256[:12]}… "
                        f"({stored.size} bytes), found {digest[:12]}… ({size} bytes)",
                        info.id,
                        where,
                    )
                )
        for path in sorted(run_dir.rglob("*")):
            rel = path.relative_to(run_dir).as_posix()
            if path.is_file() and rel not in recorded:
                problems.append(
                    StoreProblem("unexpected file", info.id, f"{_RUNS}/{info.id}/{rel}")
                )
        return problems


def _unlocked(lock_path: Path) -> bool:
    fd = try_lock(lock_path)
    if fd is None:
        return False
    os.close(fd)
    return True


def _checked_relpath(rel: str, run_id: str) -> str:
    if _FILE_PATTERN.match(rel) is None:
        raise StoreError(f"run {run_id}: catalogue lists an unexpected file name {rel!r}")
    return rel


def _info(row: tuple[Any, ...], files: builtins.list[StoredFile]) -> RunInfo:
    run_id, saved_at, record, structure = row
    shape = json.loads(structure)
    return RunInfo(
        id=run_id,
        saved_at=saved_at.replace(tzinfo=UTC),
        record=RunRecord.model_validate_json(record),
        dims=shape["dims"],
        variables=shape["variables"],
        files=files,
    )


def _disk_error(path: Path, exc: OSError) -> StoreError:
    """Turn a write failure (a full disk, a read-only mount) into a clear store error."""
    reason = exc.strerror or str(exc)
    return StoreError(
        f"could not write to the run store at {path}: {reason}; this run was not saved, and "
        "the store's finished runs are untouched"
    )


class RunWriter:
    """Writes one run's results chunk by chunk; nothing is visible until :meth:`commit`.

    Obtain one from :meth:`RunStore.begin_run` and use it as a context manager.

    Parameters
    ----------
    store
        The store the run goes into.
    record
        The run's record.
    staging
        The run's staging directory in the store's ``tmp``.
    lock_fd
        Descriptor holding the staging directory's lock (marks it as live, not orphaned).
    append_dim
        The dimension chunks are appended along, or None for a single Dataset.
    """

    def __init__(
        self,
        store: RunStore,
        record: RunRecord,
        staging: Path,
        lock_fd: int,
        append_dim: str | None,
    ) -> None:
        self._store = store
        self._record = record
        self._staging = staging
        self._lock_fd: int | None = lock_fd
        self._data = DatasetWriter(staging, append_dim)

    def append(self, chunk: xr.Dataset) -> None:
        """Write the next chunk of results to Parquet.

        Parameters
        ----------
        chunk
            A Dataset with the same variables as the first chunk; variables along the append
            dimension are appended, the others are taken from the first chunk.

        Raises
        ------
        StoreError
            If the writer is closed, or the chunk does not match the first or cannot be stored.
        """
        self._check_open()
        try:
            self._data.write(chunk)
        except OSError as exc:
            raise _disk_error(self._store.path, exc) from None

    def commit(
        self,
        summary: dict[str, Any] | builtins.list[Any] | None = None,
        *,
        finished_at: datetime | None = None,
    ) -> str:
        """Make the run visible in the store.

        Parameters
        ----------
        summary
            Replaces the record's summary, if given.
        finished_at
            Replaces the record's finish time, if given.

        Returns
        -------
        str
            The new run's id.
        """
        self._check_open()
        update: dict[str, Any] = {}
        if summary is not None:
            update["summary"] = summary
        if finished_at is not None:
            update["finished_at"] = finished_at
        # Validate the changes through the model rather than trusting model_copy(update=...).
        record = RunRecord.model_validate({**self._record.model_dump(), **update})
        try:
            layout = self._data.close()
            run_id = self._store._commit(self._staging, record, layout)
        except OSError as exc:
            raise _disk_error(self._store.path, exc) from None
        self._release()
        return run_id

    def abort(self) -> None:
        """Discard the run and its files; does nothing once committed or aborted."""
        if self._lock_fd is None:
            return
        self._data.abort()
        shutil.rmtree(self._staging, ignore_errors=True)
        self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()

    def _check_open(self) -> None:
        if self._lock_fd is None:
            raise StoreError("this run writer is already committed or aborted")

    def _release(self) -> None:
        assert self._lock_fd is not None
        lock_path = self._staging.parent / f"{self._staging.name}.lock"
        lock_path.unlink(missing_ok=True)
        os.close(self._lock_fd)
        self._lock_fd = None
