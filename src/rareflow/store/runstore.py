"""The run store: a DuckDB catalogue of runs and their results in Parquet.

Layout of a store directory::

    catalogue.duckdb       runs and their files' checksums
    lock                   fcntl lock file serialising catalogue access across processes
    runs/<run id>/         a committed run: run.json, dataset.json, SHA256SUMS, data/*.parquet,
                           coords/*.parquet
    tmp/<name>/            a run being written (staging), with tmp/<name>.lock held by its writer
    tmp/deleted-<run id>/  a run being deleted
    quarantine/<batch>/    what ``repair`` moved aside, with ``reasons.json`` saying why

A run is written into ``tmp/``, fsynced, checksummed (``SHA256SUMS`` in the run's directory),
renamed into ``runs/`` and only then catalogued, in one DuckDB transaction; every reader goes
through the catalogue, so a run is visible exactly when its row is committed.

Opening a store never deletes or moves anything. Whatever a crash leaves behind (a staging
directory, a renamed but uncatalogued run, the remains of a deletion) is invisible, and
:meth:`RunStore.verify` reports it. Opening with ``repair=True`` puts complete runs back into the
catalogue from their own records (``run.json``, ``dataset.json``, ``SHA256SUMS``), rebuilds a
missing or unreadable catalogue the same way, and moves the rest of what rareflow wrote into
``quarantine/``; entries rareflow did not write are left where they are and reported.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import duckdb
import platformdirs
import pydantic
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
from rareflow.store.locking import exclusive_lock, is_held, try_lock
from rareflow.store.records import (
    RUN_ID_PATTERN,
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
SUMS_FILE = "SHA256SUMS"
"""Name of the file in a run's directory holding its other files' checksums (``sha256sum`` form)."""

_CATALOGUE = "catalogue.duckdb"
_LOCK = "lock"
_RUNS = "runs"
_TMP = "tmp"
_QUARANTINE = "quarantine"
_REASONS = "reasons.json"
_OWN_ENTRIES = frozenset({_CATALOGUE, f"{_CATALOGUE}.wal", _LOCK, _RUNS, _TMP, _QUARANTINE})
_SCHEMA_VERSION = "1"
_FILE_PATTERN = re.compile(
    r"\A(?:(?:data|coords)/[A-Za-z0-9_-]{1,90}\.parquet|run\.json|dataset\.json|SHA256SUMS)\Z"
)
_STAGING = re.compile(r"\A[0-9a-f]{32}\Z")
_STAGING_LOCK = re.compile(r"\A[0-9a-f]{32}\.lock\Z")
_DELETED = "deleted-"
_SUM_LINE = re.compile(r"\A([0-9a-f]{64})  (\S+)\Z")
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


Action = Literal["recatalogue", "quarantine", "forget-and-quarantine", "leave"]


@dataclass(frozen=True)
class _Finding:
    """One entry of the store directory that the catalogue does not account for."""

    path: Path
    message: str
    action: Action
    run_id: str | None = None


class RunStore:
    """A directory of runs: catalogue in DuckDB, results in Parquet.

    Opening a store creates it if needed; it never deletes or moves anything unless asked to
    repair it.

    Parameters
    ----------
    path
        The store directory; by default :func:`default_store_path`. An explicit directory's
        parent must exist (the default's parents are created).
    lock_timeout
        Seconds to wait for another process to finish with the catalogue.
    repair
        Repair the store while opening it (see :meth:`repair`, whose findings are kept in
        :attr:`repairs`): rebuild a missing or unreadable catalogue from the runs' own records,
        put complete uncatalogued runs back, and quarantine what interrupted writes left.
    create
        Create the store if it does not exist (False for commands that only read or check).

    Raises
    ------
    StoreError
        If the path is empty or not a directory (or missing, without ``create``), the directory
        holds other things than a run store, the catalogue is missing or unreadable (without
        ``repair``), or the store cannot be created or locked.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        lock_timeout: float = 30.0,
        repair: bool = False,
        create: bool = True,
    ) -> None:
        if path is not None and not str(path).strip():
            raise StoreError(
                "the run store path is empty (it would mean the current directory): give the "
                "store's directory, or leave it out for the default"
            )
        chosen = Path(path) if path is not None else default_store_path()
        self.lock_timeout = lock_timeout
        self.repairs: builtins.list[StoreProblem] = []
        try:
            self.path = chosen.expanduser().resolve()
            exists = self.path.exists()
        except (OSError, RuntimeError, ValueError) as exc:  # a loop, a NUL, a name too long
            raise StoreError(
                f"cannot use {str(chosen)[:200]!r} as a run store: {str(exc)[:200]}"
            ) from None
        if not create and not exists:
            raise StoreError(
                f"there is no run store at {self.path}: nothing has been stored there (give the "
                "store's directory with --store, or store a run first)"
            )
        try:
            self._create(explicit=path is not None, repair=repair)
        except (OSError, RuntimeError, ValueError) as exc:
            raise StoreError(
                f"cannot use {str(chosen)[:200]!r} as a run store: {str(exc)[:200]}"
            ) from None
        with self._locked():
            if repair:
                self.repairs = self._repair_catalogue()
            with self._connect() as con:
                for statement in _SCHEMA:
                    con.execute(statement)
                con.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [_SCHEMA_VERSION]
                )
                row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != _SCHEMA_VERSION:
                raise StoreError(f"run store at {self.path} has an unknown schema {row!r}")
            if repair:
                self.repairs.extend(self._repair_entries())

    def _create(self, *, explicit: bool, repair: bool) -> None:
        """Create the store's directories, refusing a directory that is not a run store."""
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"the run store path {self.path} is a file, not a directory")
        if self.path.is_dir():
            self._check_is_store(repair=repair)
        elif explicit and not self.path.parent.is_dir():
            raise StoreError(
                f"cannot create the run store at {self.path}: its parent directory "
                f"{self.path.parent} does not exist"
            )
        try:
            self.path.mkdir(parents=not explicit, exist_ok=True)
            (self.path / _RUNS).mkdir(exist_ok=True)
            (self.path / _TMP).mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the run store at {self.path}: {exc.strerror or exc}"
            ) from None

    def _check_is_store(self, *, repair: bool) -> None:
        """Refuse a directory that is not a run store, or whose catalogue is lost."""
        try:
            names = {entry.name for entry in self.path.iterdir()}
            runs = (
                [p.name for p in (self.path / _RUNS).iterdir()]
                if (self.path / _RUNS).is_dir()
                else []
            )
        except OSError as exc:
            raise StoreError(f"cannot read the run store at {self.path}: {exc.strerror}") from None
        if _CATALOGUE in names or repair:
            return
        if any(RUN_ID_PATTERN.match(name) for name in runs):
            raise StoreError(
                f"the run store at {self.path} has lost its catalogue ({_CATALOGUE}) but holds "
                f"{len(runs)} entries in {_RUNS}/; nothing was changed. Rebuild the catalogue "
                f"from the runs' own records with `rareflow runs repair --store {self.path}`"
            )
        if not names <= _OWN_ENTRIES or runs:
            raise StoreError(
                f"{self.path} is not a rareflow run store (it has no {_CATALOGUE}) and is not "
                "empty; give a new or empty directory for a new store"
            )

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
        # Staging is created under the store lock so that verify never sees it half-made.
        with self._locked():
            try:
                fd = try_lock(lock_path)
            except OSError as exc:
                raise _disk_error(self.path, exc) from None
            if fd is None:
                raise StoreError(f"staging lock {lock_path} is unexpectedly held")
            try:
                (self.path / _TMP / name).mkdir()
            except OSError as exc:
                os.close(fd)
                lock_path.unlink(missing_ok=True)
                raise _disk_error(self.path, exc) from None
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
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        sums = [(rel, *sha256_file(staging / rel)) for rel in files]
        # The run carries its own checksums, so a lost catalogue can be rebuilt and checked.
        with (staging / SUMS_FILE).open("w", encoding="utf-8") as fh:
            fh.write("".join(f"{digest}  {rel}\n" for rel, digest, _ in sums))
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(staging)
        sums = sorted([*sums, (SUMS_FILE, *sha256_file(staging / SUMS_FILE))])
        structure = _structure(layout)
        final = self.path / _RUNS / run_id
        with self._locked():
            staging.rename(final)
            fsync_dir(self.path / _RUNS)
            fsync_dir(self.path / _TMP)
            try:
                with self._connect() as con:
                    con.begin()
                    _insert_run(con, run_id, saved_at, record, structure, sums)
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
            return self._all_runs(con)

    def _all_runs(self, con: duckdb.DuckDBPyConnection) -> builtins.list[RunInfo]:
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

    # --- export, verify, repair, delete ----------------------------------------------------

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
            Destination directory, created if absent; its parent must exist.
        overwrite
            Replace files that already exist there.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        StoreError
            If the run is unknown, ``directory`` is a file or its parent is missing, a target
            exists and ``overwrite`` is false, a target would lie outside ``directory``,
            ``directory`` is inside the store, a copied file does not match its checksum, or the
            files cannot be written.
        """
        info = self.get(run_id)
        run_dir = self._run_dir(run_id)
        dest = Path(directory).expanduser().resolve()
        if dest.is_relative_to(self.path):
            raise StoreError(f"refusing to export into the run store itself ({dest})")
        if dest.exists() and not dest.is_dir():
            raise StoreError(f"cannot export run {run_id} to {dest}: it is a file, not a directory")
        if not dest.exists() and not dest.parent.is_dir():
            raise StoreError(
                f"cannot export run {run_id} to {dest}: its parent directory {dest.parent} "
                "does not exist"
            )
        copied = [f for f in info.files if f.path != SUMS_FILE]
        relpaths = [_checked_relpath(f.path, run_id) for f in copied]
        targets = {rel: dest / rel for rel in [*relpaths, SUMS_FILE]}
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
        try:
            dest.mkdir(exist_ok=True)
            for stored in copied:
                target = targets[stored.path]
                target.parent.mkdir(exist_ok=True)
                partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
                shutil.copyfile(run_dir / stored.path, partial)
                if sha256_file(partial)[0] != stored.sha256:
                    partial.unlink()
                    raise StoreError(f"run {run_id}: {stored.path} does not match its checksum")
                partial.replace(target)
                written.append(target)
            lines = "".join(f"{f.sha256}  {f.path}\n" for f in copied)
            partial = dest / f".{SUMS_FILE}.{uuid.uuid4().hex}.part"
            partial.write_text(lines, encoding="utf-8")
            partial.replace(targets[SUMS_FILE])
        except OSError as exc:
            for leftover in dest.rglob(".*.part"):
                leftover.unlink(missing_ok=True)
            where = exc.filename or dest
            raise StoreError(
                f"cannot export run {run_id} to {dest}: {where}: {exc.strerror or exc}"
            ) from None
        written.append(targets[SUMS_FILE])
        return written

    def verify(self) -> builtins.list[StoreProblem]:
        """Check every run's files against the checksums recorded when it was saved.

        Also reports what the catalogue does not account for: runs missing from it, what
        interrupted writes left, entries rareflow did not write, and what :meth:`repair`
        quarantined. Nothing is changed.

        Returns
        -------
        list of StoreProblem
            Missing, unexpected or altered files and unaccounted entries (errors), and entries
            left alone or quarantined (warnings); empty if all is well.
        """
        with self._locked(), self._connect() as con:
            findings = self._findings(con)
            infos = self._all_runs(con)
        problems = [
            StoreProblem(
                f.message,
                run_id=f.run_id,
                path=self._rel(f.path),
                severity="warning" if f.action == "leave" else "error",
            )
            for f in findings
        ]
        problems.extend(self._quarantined())
        damaged = [p for info in infos for p in self._check_files(info, self._run_dir(info.id))]
        if damaged:
            # A run deleted while we hashed (without the lock) is not a problem.
            current = {info.id for info in self.list()}
            problems.extend(p for p in damaged if p.run_id in current)
        return problems

    def repair(self) -> builtins.list[StoreProblem]:
        """Repair the store, deleting nothing.

        Complete runs missing from the catalogue (a write interrupted after its files were in
        place) are put back from their own records, checked against their ``SHA256SUMS``;
        what interrupted writes and deletions left, and unreadable run directories, are moved
        into ``quarantine/`` with a ``reasons.json``; entries that rareflow did not write are left
        where they are. Runs whose files fail their checksums stay as they are (they are
        evidence) and :meth:`verify` keeps reporting them.

        Returns
        -------
        list of StoreProblem
            What was done to each entry (severity ``warning`` for entries left alone).
        """
        with self._locked():
            return self._repair_entries()

    def delete(self, run_id: str) -> None:
        """Delete a run: its directory is moved aside, then its catalogue rows and files go.

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
                found = con.execute("SELECT count(*) FROM runs WHERE id = ?", [run_id]).fetchone()
            if found is None or found[0] == 0:
                raise StoreError(f"no run {run_id!r} in the store at {self.path}")
            # Moved out of runs/ first: if we die before the rows go, repair finds the remains
            # of a deletion (and quarantines them) rather than a run to put back.
            run_dir = self._run_dir(run_id)
            trash = self.path / _TMP / f"{_DELETED}{run_id}"
            if run_dir.exists():
                run_dir.rename(trash)
            with self._connect() as con:
                con.begin()
                con.execute("DELETE FROM files WHERE run_id = ?", [run_id])
                con.execute("DELETE FROM runs WHERE id = ?", [run_id])
                con.commit()
            if trash.exists():
                shutil.rmtree(trash)

    # --- internals -------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        return self.path / _RUNS / check_run_id(run_id)

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.path).as_posix()

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
            raise self._unreadable(exc) from None
        try:
            yield con
        except (duckdb.Error, _DamagedEntryError) as exc:
            raise self._unreadable(exc) from None
        finally:
            con.close()

    def _unreadable(self, exc: Exception) -> StoreError:
        return StoreError(
            f"cannot use the catalogue of the run store at {self.path}: {exc}. Nothing was "
            f"changed; `rareflow runs repair --store {self.path}` rebuilds it from the runs' own "
            "records (the damaged file is kept in quarantine/)"
        )

    def _findings(self, con: duckdb.DuckDBPyConnection) -> builtins.list[_Finding]:
        """Entries under ``runs/`` and ``tmp/`` the catalogue does not account for (lock held)."""
        catalogued = {row[0] for row in con.execute("SELECT id FROM runs").fetchall()}
        findings: builtins.list[_Finding] = []
        for entry in sorted((self.path / _RUNS).iterdir()):
            if entry.name in catalogued:
                continue
            if RUN_ID_PATTERN.match(entry.name) and entry.is_dir() and not entry.is_symlink():
                try:
                    _own_record(entry)
                    _read_sums(entry)
                except StoreError as exc:
                    findings.append(
                        _Finding(
                            entry,
                            f"run directory not in the catalogue and unreadable ({exc}); "
                            "`rareflow runs repair` moves it to quarantine/",
                            "quarantine",
                            entry.name,
                        )
                    )
                    continue
                findings.append(
                    _Finding(
                        entry,
                        "complete run not in the catalogue (a write interrupted just before "
                        "cataloguing, or a lost catalogue); `rareflow runs repair` puts it back",
                        "recatalogue",
                        entry.name,
                    )
                )
            else:
                findings.append(_foreign(entry))
        tmp = self.path / _TMP
        for entry in sorted(tmp.iterdir()):
            name = entry.name
            if _STAGING_LOCK.match(name) and entry.is_file() and not entry.is_symlink():
                if not (tmp / name.removesuffix(".lock")).exists() and not is_held(entry):
                    findings.append(_leftover(entry, "lock file of an interrupted write"))
            elif _STAGING.match(name) and entry.is_dir() and not entry.is_symlink():
                lock_path = tmp / f"{name}.lock"
                if not is_held(lock_path):
                    findings.append(_leftover(entry, "staging of an interrupted write"))
                    if lock_path.exists():
                        findings.append(_leftover(lock_path, "lock file of an interrupted write"))
            elif (
                name.startswith(_DELETED)
                and RUN_ID_PATTERN.match(name.removeprefix(_DELETED))
                and entry.is_dir()
                and not entry.is_symlink()
            ):
                run_id = name.removeprefix(_DELETED)
                still = run_id in catalogued
                findings.append(
                    _Finding(
                        entry,
                        "remains of an interrupted deletion"
                        + (" (the run is still catalogued)" if still else "")
                        + "; `rareflow runs repair` moves them to quarantine/",
                        "forget-and-quarantine" if still else "quarantine",
                        run_id,
                    )
                )
            elif not (_STAGING_LOCK.match(name) and entry.is_file()):
                findings.append(_foreign(entry))
        return findings

    def _quarantined(self) -> builtins.list[StoreProblem]:
        quarantine = self.path / _QUARANTINE
        if not quarantine.is_dir():
            return []
        return [
            StoreProblem(
                f"moved aside by `rareflow runs repair` (why: {_QUARANTINE}/{batch.name}/"
                f"{_REASONS}); rareflow never deletes it: check it and delete it by hand",
                path=self._rel(batch),
                severity="warning",
            )
            for batch in sorted(quarantine.iterdir())
        ]

    def _repair_catalogue(self) -> builtins.list[StoreProblem]:
        """Quarantine a catalogue that cannot be read in full (lock held); rebuilt afterwards."""
        catalogue = self.path / _CATALOGUE
        if not catalogue.exists():
            return [StoreProblem("catalogue missing: rebuilt from the runs' own records")]
        try:
            con = duckdb.connect(str(catalogue))
            try:
                tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
                if {"meta", "runs", "files"} <= tables:
                    self._all_runs(con)
                    return []
            finally:
                con.close()
            reason = "catalogue lacks rareflow's tables"
        except (duckdb.Error, _DamagedEntryError) as exc:
            reason = f"catalogue unreadable ({exc})"
        batch = self._new_batch()
        moved = []
        for name in (_CATALOGUE, f"{_CATALOGUE}.wal"):
            if (self.path / name).exists():
                (self.path / name).rename(batch / name)
                moved.append(name)
        _write_reasons(batch, dict.fromkeys(moved, reason))
        return [
            StoreProblem(
                f"{reason}: moved to {self._rel(batch)}/ and rebuilt from the runs' own records",
                path=_CATALOGUE,
            )
        ]

    def _repair_entries(self) -> builtins.list[StoreProblem]:
        """Act on every finding (lock held); see :meth:`repair`."""
        with self._connect() as con:
            findings = self._findings(con)
        done: builtins.list[StoreProblem] = []
        batch: Path | None = None
        reasons: dict[str, str] = {}
        for finding in findings:
            rel = self._rel(finding.path)
            if finding.action == "leave":
                done.append(StoreProblem(finding.message, finding.run_id, rel, severity="warning"))
                continue
            if finding.action == "recatalogue":
                note = self._recatalogue(finding.path)
                done.append(StoreProblem(f"put back into the catalogue{note}", finding.run_id, rel))
                continue
            if finding.action == "forget-and-quarantine":
                with self._connect() as con:
                    con.begin()
                    con.execute("DELETE FROM files WHERE run_id = ?", [finding.run_id])
                    con.execute("DELETE FROM runs WHERE id = ?", [finding.run_id])
                    con.commit()
            batch = batch or self._new_batch()
            target = batch / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            finding.path.rename(target)
            reasons[rel] = finding.message.split(";")[0]
            done.append(
                StoreProblem(f"moved to {self._rel(target)} ({reasons[rel]})", finding.run_id, rel)
            )
        if batch is not None:
            _write_reasons(batch, reasons)
            fsync_dir(self.path / _RUNS)
            fsync_dir(self.path / _TMP)
        return done

    def _new_batch(self) -> Path:
        batch = self.path / _QUARANTINE / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}Z"
        batch.mkdir(parents=True)
        return batch

    def _recatalogue(self, run_dir: Path) -> str:
        """Catalogue a complete run from its own records (lock held); return a note."""
        run_id, saved_at, record, structure = _own_record(run_dir)
        note = ""
        recorded = _read_sums(run_dir)
        present = sorted(
            p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()
        )
        if recorded is None:
            note = f" (it has no {SUMS_FILE}: its files are taken as they are now)"
            sums = [(rel, *sha256_file(run_dir / rel)) for rel in present]
        else:
            # Recorded checksums are kept even where the files now differ: verify reports that.
            sums = [
                (rel, digest, (run_dir / rel).stat().st_size if (run_dir / rel).is_file() else 0)
                for rel, digest in recorded.items()
            ]
            sums.append((SUMS_FILE, *sha256_file(run_dir / SUMS_FILE)))
        with self._connect() as con:
            con.begin()
            _insert_run(con, run_id, saved_at, record, structure, sorted(sums))
            con.commit()
        return note

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


class _DamagedEntryError(Exception):
    """A catalogue row that cannot be read back."""


def _info(row: tuple[Any, ...], files: builtins.list[StoredFile]) -> RunInfo:
    run_id, saved_at, record, structure = row
    try:
        shape = json.loads(structure)
        return RunInfo(
            id=run_id,
            saved_at=saved_at.replace(tzinfo=UTC),
            record=RunRecord.model_validate_json(record),
            dims=shape["dims"],
            variables=shape["variables"],
            files=files,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _DamagedEntryError(
            f"the entry of run {run_id!r} is damaged ({type(exc).__name__})"
        ) from None


def _leftover(path: Path, what: str) -> _Finding:
    return _Finding(path, f"{what}; `rareflow runs repair` moves it to quarantine/", "quarantine")


def _foreign(path: Path) -> _Finding:
    return _Finding(path, "not written by rareflow: left where it is", "leave")


def _write_reasons(batch: Path, reasons: dict[str, str]) -> None:
    write_json(
        batch / _REASONS,
        {
            "moved_at": datetime.now(UTC).isoformat(),
            "by": "rareflow runs repair (rareflow never deletes quarantined entries)",
            "entries": reasons,
        },
    )


def _structure(layout: dict[str, Any]) -> dict[str, Any]:
    return {
        "dims": layout["dims"],
        "variables": [v["name"] for v in layout["variables"] if v["role"] == "data"],
    }


def _insert_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    saved_at: datetime,
    record: RunRecord,
    structure: dict[str, Any],
    sums: builtins.list[tuple[str, str, int]],
) -> None:
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


def _own_record(
    run_dir: Path,
) -> tuple[str, datetime, RunRecord, dict[str, Any]]:
    """Read a run's id, save time, record and structure from its own files."""
    try:
        document = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
        layout = json.loads((run_dir / LAYOUT_FILE).read_text(encoding="utf-8"))
        run_id = document["id"]
        saved_at = datetime.fromisoformat(document["saved_at"])
        record = RunRecord.model_validate(document["record"])
        structure = _structure(layout)
    except OSError as exc:
        raise StoreError(f"{exc.filename}: {exc.strerror}") from None
    except pydantic.ValidationError as exc:
        raise StoreError(f"{RUN_FILE}: invalid record ({exc.error_count()} problems)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{RUN_FILE} or {LAYOUT_FILE} damaged ({type(exc).__name__})") from None
    if run_id != run_dir.name or saved_at.tzinfo is None:
        raise StoreError(f"{RUN_FILE} names run {run_id!r}, not {run_dir.name!r}")
    return run_id, saved_at, record, structure


def _read_sums(run_dir: Path) -> dict[str, str] | None:
    """Return a run's own recorded checksums, or None if it has none (runs saved before them)."""
    path = run_dir / SUMS_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{SUMS_FILE} unreadable ({type(exc).__name__})") from None
    sums = {}
    for line in text.splitlines():
        match = _SUM_LINE.match(line)
        if match is None or _FILE_PATTERN.match(match[2]) is None:
            raise StoreError(f"{SUMS_FILE} has a malformed line {line[:80]!r}")
        sums[match[2]] = match[1]
    return sums


def _checked_relpath(rel: str, run_id: str) -> str:
    if _FILE_PATTERN.match(rel) is None:
        raise StoreError(f"run {run_id}: catalogue lists an unexpected file name {rel!r}")
    return rel


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
