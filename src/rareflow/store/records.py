"""What the run store keeps about a run: its record, its catalogue entry and verification problems.

Run ids are generated here and validated by one strict pattern before any use in a path.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, cast

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from rareflow.analysis.summary import sector_summary
from rareflow.engine.run import RunResult
from rareflow.errors import StoreError
from rareflow.provenance import code_version
from rareflow.scenario.load import resolved_yaml
from rareflow.scenario.schema import Scenario

RUN_ID_PATTERN = re.compile(r"\A[0-9]{8}T[0-9]{6}[0-9]{6}Z-[0-9a-f]{8}\Z")
"""A run id: UTC save time to the microsecond, then 8 random hex digits (sorts by save time)."""

_KIND_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


def new_run_id(now: datetime) -> str:
    """Return a new run id for a run saved at ``now``.

    Parameters
    ----------
    now
        The save time (timezone-aware).

    Returns
    -------
    str
        For example ``20261130T050904123456Z-1a2b3c4d``.
    """
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a well-formed run id.

    Parameters
    ----------
    run_id
        A run id from a user or the catalogue.

    Returns
    -------
    str
        The same id.

    Raises
    ------
    StoreError
        If the id does not match :data:`RUN_ID_PATTERN`; such a string never reaches a path.
    """
    if not isinstance(run_id, str) or RUN_ID_PATTERN.match(run_id) is None:
        raise StoreError(
            f"invalid run id {_shown(run_id)}: expected one like '20261130T050904123456Z-1a2b3c4d' "
            "(see `rareflow runs list`)"
        )
    return run_id


UtcDatetime = Annotated[AwareDatetime, Field(description="A timezone-aware time, kept in UTC.")]


class RunRecord(BaseModel):
    """Everything needed to cite and reproduce a run.

    Parameters
    ----------
    kind
        What produced the run: ``run``, ``ensemble``, ``sensitivity``, ``optimize``, ``backtest``.
    name
        Scenario or preset name.
    scenario_given
        The scenario YAML text as the user gave it.
    scenario_resolved
        The resolved scenario (YAML or JSON) with every default filled in.
    data_version
        Hash of the data the run used.
    calibration
        The calibration overlaid on the embedded data (``--calibration``), if any.
    data_dir
        The directory of user tables overlaid on the dataset (``--data`` or ``$RAREFLOW_DATA``),
        as an absolute path, if any; ``rareflow runs rerun`` reads it again.
    code_version
        Version of rareflow (and commit, if known) that made the run.
    seed
        Seed of the random number generator.
    started_at, finished_at
        When the run started and finished (timezone-aware; stored in UTC).
    summary
        Headline results, JSON-serialisable.
    parent_id
        Run this one derives from (for example the ensemble of a sensitivity analysis).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(pattern=_KIND_PATTERN)
    name: str
    scenario_given: str
    scenario_resolved: str
    data_version: str
    code_version: str
    seed: int = Field(ge=0, lt=2**63)
    calibration: str | None = None
    data_dir: str | None = None
    started_at: UtcDatetime
    finished_at: UtcDatetime
    summary: dict[str, JsonValue] | list[JsonValue] = Field(default_factory=dict)
    parent_id: str | None = None

    @field_validator("started_at", "finished_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("parent_id")
    @classmethod
    def _valid_parent(cls, value: str | None) -> str | None:
        if value is not None and RUN_ID_PATTERN.match(value) is None:
            raise ValueError(f"parent_id {value!r} is not a run id")
        return value


class StoredFile(BaseModel):
    """One file of a stored run, with the checksum recorded when the run was saved.

    Parameters
    ----------
    path
        Path relative to the run's directory, with ``/`` separators.
    sha256
        Hex SHA-256 digest of the file's bytes.
    size
        Size in bytes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str
    size: int


def record_for(
    kind: str,
    scenario: Scenario,
    *,
    given: str,
    data_version: str,
    started_at: datetime,
    calibration: str | None = None,
    data_dir: Path | None = None,
    summary: dict[str, JsonValue] | list[JsonValue] | None = None,
    finished_at: datetime | None = None,
) -> RunRecord:
    """Return the record of a run of ``kind`` made from a scenario, finished now by default.

    ``data_dir`` is the user data directory overlaid (``Dataset.user_dir``), kept as an
    absolute path so that the run can be rerun on the same data.
    """
    return RunRecord(
        kind=kind,
        name=scenario.name,
        scenario_given=given,
        scenario_resolved=resolved_yaml(scenario),
        data_version=data_version,
        code_version=code_version(),
        seed=scenario.seed,
        calibration=calibration,
        data_dir=str(data_dir.expanduser().resolve()) if data_dir is not None else None,
        started_at=started_at,
        finished_at=finished_at if finished_at is not None else datetime.now(UTC),
        summary=summary if summary is not None else {},
    )


def record_of_run(result: RunResult, given: str, data_dir: Path | None = None) -> RunRecord:
    """Return the record of a `rareflow run`: its per-sector summary and data notes.

    ``data_dir`` is the user data directory the run's dataset overlaid, if any.
    """
    return record_for(
        "run",
        result.scenario,
        given=given,
        data_version=result.data_version,
        calibration=result.calibration,
        data_dir=data_dir,
        started_at=result.started_at,
        finished_at=result.finished_at,
        summary={
            "sectors": cast(
                list[JsonValue], sector_summary(result.results, result.scenario.step_months)
            ),
            "notes": list(result.notes),
        },
    )


class RunInfo(BaseModel):
    """A catalogued run: its id, record, results' shape and files.

    Parameters
    ----------
    id
        The run id.
    saved_at
        When the run was committed to the store (UTC).
    record
        The run's record.
    dims
        Sizes of the results' dimensions.
    variables
        Names of the results' data variables.
    files
        The run's files and their checksums.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    saved_at: UtcDatetime
    record: RunRecord
    dims: dict[str, int]
    variables: list[str]
    files: list[StoredFile]

    @property
    def size(self) -> int:
        """Total size of the run's files in bytes."""
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class StoreProblem:
    """One problem found by :meth:`rareflow.store.RunStore.verify`.

    Parameters
    ----------
    message
        What is wrong.
    run_id
        The run concerned, if any.
    path
        The file or directory concerned, relative to the store.
    severity
        ``error`` for damage or entries the catalogue should account for; ``warning`` for
        entries rareflow did not write (left in place) and quarantined ones.
    """

    message: str
    run_id: str | None = None
    path: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.run_id, self.path) if p)
        text = f"{where}: {self.message}" if where else self.message
        return f"warning: {text}" if self.severity == "warning" else text
