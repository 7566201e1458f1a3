"""Load a user's trade statistics (UN Comtrade, CEPII BACI) into rareflow's ``trade`` table.

Analysts refresh the model's import figures from the trade statistics they download. Three CSV
layouts are read, detected from the header:

- ``comtrade``: the current UN Comtrade (Comtrade Plus / API) export, with columns such as
  ``freqCode, refYear, reporterISO, flowCode, partnerCode, partnerISO, cmdCode, netWgt,
  primaryValue``;
- ``comtrade-legacy``: the legacy Comtrade bulk/API CSV, with ``Year, Trade Flow Code, Reporter
  ISO, Partner Code, Partner ISO, Commodity Code, Netweight (kg), Trade Value (US$)``;
- ``baci``: CEPII BACI, ``t,i,j,k,v,q`` (year, exporter, importer, HS6 product, value in thousand
  USD, quantity in metric tonnes), with countries named by BACI's numeric codes, which BACI's own
  ``country_codes_V20xxxx.csv`` (shipped in every BACI archive) maps to ISO alpha-3.

Only imports of the rare-earth HS codes are kept (:data:`HS_MATERIALS`). What is dropped and why:

- the partner **World** (Comtrade ``partnerCode`` 0, ISO ``W00`` or ``WLD``) is the total of the
  partner rows in the same file: keeping it would count every flow twice;
- exports, re-exports and **re-imports** (only Comtrade ``flowCode`` M, legacy ``Trade Flow Code``
  1, are imports; every BACI row is an import of its importer ``j``);
- Comtrade breakdown rows (a second partner, a customs procedure or a mode of transport other than
  the total), whose totals are in the file already;
- the 4-digit code 2846 where the same importer, partner and year also have 2846 HS6 rows;
- rows whose importer is not a country (an "area not elsewhere specified").

Partners that are not countries (Comtrade's and BACI's "areas nes", "Other Asia, nes", ...) are
summed into the partner ``ROW``. Quantities are net weight in tonnes (Comtrade reports kilograms,
BACI tonnes); values are US dollars (Comtrade's primary value, usually CIF for imports; BACI's
reconciled FOB value in thousand dollars times 1000).

Every problem names the file, the 1-based line (the header is line 1) and the column, and all of
them are raised together as one :class:`rareflow.errors.DataError`. Nothing in a file is evaluated:
cells are read as text and numbers are parsed by a strict pattern.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import pandas as pd

from rareflow.data.load import MAX_VALUE, RawTable, embedded_dir, read_raw, validate
from rareflow.data.schema import TABLES_BY_NAME
from rareflow.errors import DataError, InputError, Problem, display_path
from rareflow.ids import Choice
from rareflow.outputs import output_dir


class Layout(StrEnum):
    """Layouts of trade files; ``auto`` detects one from the header."""

    AUTO = "auto"
    COMTRADE = "comtrade"
    COMTRADE_LEGACY = "comtrade-legacy"
    BACI = "baci"


HS_MATERIALS: dict[str, str] = {
    "280530": "hs280530_re_metals",
    "2846": "hs2846_re_compounds",
    "284610": "hs2846_re_compounds",
    "284690": "hs2846_re_compounds",
    "850511": "hs850511_magnets_metal",
    "850519": "hs850519_magnets_other",
}
"""HS codes kept and the rareflow material each is counted in (HS 2022 nomenclature)."""
OTHER_MAGNETS = "850519"
"""HS 8505.19, other permanent magnets (mostly ferrite): kept only when asked for."""

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
"""Largest trade file read by default; bigger files are refused before parsing."""
DEFAULT_MAX_ROWS = 10_000_000
"""Most data rows read from one file by default."""
MAX_PROBLEMS = 500
"""Reading stops after this many problems: the file is evidently of another kind."""

ROW = "ROW"
WORLD_CODES = frozenset({"W00", "WLD"})
_ISO3 = re.compile(r"[A-Z]{3}")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_YEAR = re.compile(r"\d{4}")
_SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_TRADE = TABLES_BY_NAME["trade"]
_SOURCES = TABLES_BY_NAME["sources"]
TRADE_COLUMNS: tuple[str, ...] = tuple(c.name for c in _TRADE.all_columns)
SOURCES_COLUMNS: tuple[str, ...] = tuple(c.name for c in _SOURCES.all_columns)


@dataclass(frozen=True)
class _Spec:
    """Where a layout keeps each field, and how its units convert to rareflow's."""

    layout: Layout
    label: str
    required: tuple[str, ...]
    year: str
    importer: str
    partner: str
    hs: str
    weight: str
    value: str
    weight_to_t: float
    value_to_usd: float
    weight_note: str
    value_note: str
    flow: str | None = None
    import_flow: str = ""
    partner_code: str | None = None
    frequency: str | None = None
    totals: Mapping[str, frozenset[str]] = field(default_factory=dict)
    period: str | None = None


SPECS: dict[Layout, _Spec] = {
    Layout.COMTRADE: _Spec(
        Layout.COMTRADE,
        label="UN Comtrade",
        required=(
            "freqCode",
            "refYear",
            "reporterISO",
            "flowCode",
            "partnerCode",
            "partnerISO",
            "cmdCode",
            "netWgt",
            "primaryValue",
        ),
        year="refYear",
        importer="reporterISO",
        partner="partnerISO",
        hs="cmdCode",
        weight="netWgt",
        value="primaryValue",
        weight_to_t=1e-3,
        value_to_usd=1.0,
        weight_note="net weight (netWgt, kg) / 1000",
        value_note="primaryValue in USD (import value as reported, usually CIF)",
        flow="flowCode",
        import_flow="M",
        partner_code="partnerCode",
        frequency="freqCode",
        # Breakdown rows sit beside their totals; only the totals are kept.
        totals={
            "partner2Code": frozenset({"", "0"}),
            "customsCode": frozenset({"", "C00"}),
            "motCode": frozenset({"", "0"}),
        },
    ),
    Layout.COMTRADE_LEGACY: _Spec(
        Layout.COMTRADE_LEGACY,
        label="UN Comtrade (legacy)",
        required=(
            "Year",
            "Trade Flow Code",
            "Reporter ISO",
            "Partner Code",
            "Partner ISO",
            "Commodity Code",
            "Netweight (kg)",
            "Trade Value (US$)",
        ),
        year="Year",
        importer="Reporter ISO",
        partner="Partner ISO",
        hs="Commodity Code",
        weight="Netweight (kg)",
        value="Trade Value (US$)",
        weight_to_t=1e-3,
        value_to_usd=1.0,
        weight_note="net weight (Netweight (kg)) / 1000",
        value_note="Trade Value (US$) as reported (usually CIF for imports)",
        flow="Trade Flow Code",
        import_flow="1",
        partner_code="Partner Code",
        period="Period",
    ),
    Layout.BACI: _Spec(
        Layout.BACI,
        label="CEPII BACI",
        required=("t", "i", "j", "k", "v", "q"),
        year="t",
        importer="j",
        partner="i",
        hs="k",
        weight="q",
        value="v",
        weight_to_t=1.0,
        value_to_usd=1e3,
        weight_note="BACI quantity q in metric tonnes",
        value_note="BACI value v (thousand USD, reconciled FOB) x 1000",
    ),
}

_AUTHOR = {
    Layout.COMTRADE: "UN Comtrade",
    Layout.COMTRADE_LEGACY: "UN Comtrade",
    Layout.BACI: "CEPII BACI",
}
_PUBLISHER = {
    Layout.COMTRADE: "United Nations Statistics Division",
    Layout.COMTRADE_LEGACY: "United Nations Statistics Division",
    Layout.BACI: "CEPII",
}
_TITLE = {
    Layout.COMTRADE: "UN Comtrade Database",
    Layout.COMTRADE_LEGACY: "UN Comtrade Database (legacy)",
    Layout.BACI: "BACI: International Trade Database at the Product-Level",
}
_URL = {
    Layout.COMTRADE: "https://comtradeplus.un.org/",
    Layout.COMTRADE_LEGACY: "https://comtradeplus.un.org/",
    Layout.BACI: "https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
}


@dataclass(frozen=True)
class MaterialSummary:
    """What an import kept for one material.

    Parameters
    ----------
    material
        rareflow material id.
    source_rows
        Import rows of the file counted in it.
    partners
        Distinct partners (``ROW`` included).
    quantity_t
        Total net weight, tonnes.
    value_usd
        Total value, US dollars.
    """

    material: str
    source_rows: int
    partners: int
    quantity_t: float
    value_usd: float


@dataclass(frozen=True)
class TradeImport:
    """The result of reading a trade file.

    Parameters
    ----------
    trade
        Rows in the layout of rareflow's ``trade`` table (:data:`TRADE_COLUMNS`).
    source
        The ``sources`` row citing the file (:data:`SOURCES_COLUMNS`).
    layout
        The layout read.
    file
        The file's name.
    rows_read
        Data rows in the file.
    rows_kept
        Rows counted in ``trade``.
    skipped
        Rows left out, by reason.
    materials
        A summary per material.
    """

    trade: pd.DataFrame
    source: dict[str, str | int]
    layout: Layout
    file: str
    rows_read: int
    rows_kept: int
    skipped: dict[str, int]
    materials: tuple[MaterialSummary, ...]


@dataclass(frozen=True)
class WriteReport:
    """What :func:`write_user_trade` wrote.

    Parameters
    ----------
    trade_path, sources_path
        The files written.
    added
        Imported rows whose key was not in the user's ``trade.csv`` before.
    replaced
        Existing rows replaced by an imported row with the same key.
    total
        Rows in ``trade.csv`` after the write.
    """

    trade_path: Path
    sources_path: Path
    added: int
    replaced: int
    total: int


@dataclass
class _Flow:
    """One kept import row of the file, in rareflow's terms."""

    line: int
    importer: str
    partner: str
    raw_partner: str
    hs: str
    year: int
    quantity_t: float | None
    value_usd: float


class _Problems:
    """Collects problems of one file; stops reading when there are too many."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, message: str, line: int | None = None, column: str | None = None) -> None:
        self.items.append(Problem(message, self.file, line, column))
        if len(self.items) >= MAX_PROBLEMS:
            self.items.append(Problem(f"stopped after {MAX_PROBLEMS} problems", self.file))
            raise DataError(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DataError(self.items)


def _normalise(name: str) -> str:
    """Header key that ignores case, spaces and punctuation ('Netweight (kg)' ~ 'netweightkg')."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _check_file(path: Path, max_bytes: int) -> None:
    name = display_path(path)[:200]
    try:
        if not path.exists():
            raise DataError([Problem("file not found", name)])
        if not path.is_file():
            raise DataError([Problem("is not a file", name)])
        size = path.stat().st_size
    except (OSError, ValueError) as exc:  # a name too long, a NUL in it
        raise DataError([Problem(f"cannot be read ({str(exc)[:200]})", name)]) from None
    if size > max_bytes:
        raise DataError(
            [
                Problem(
                    f"file is {size:,} bytes; at most {max_bytes:,} are accepted (raise the "
                    "limit to read it)",
                    name,
                )
            ]
        )


def _open_csv(path: Path, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """Yield (line, fields) of a CSV file, the header first; bad CSV becomes a problem.

    Undecodable bytes are replaced rather than refused: codes and numbers are ASCII, and a
    replaced byte in one of them is reported by the checks on that cell.
    """
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            first = fh.readline()
            fh.seek(0)
            # Comtrade exports are comma-separated; some spreadsheet saves use tabs or semicolons.
            delimiter = max(",\t;", key=first.count)
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            try:
                for fields in reader:
                    yield reader.line_num, fields
            except csv.Error as exc:
                problems.add(f"not valid CSV: {exc}", reader.line_num + 1)
    except OSError as exc:  # a device or a file that cannot be read
        problems.add(f"cannot be read ({exc.strerror or exc})", 1)


def _expected(layout: Layout) -> str:
    return f"{layout.value}: {', '.join(SPECS[layout].required)}"


def _detect(header: Sequence[str], layout: Layout, problems: _Problems) -> _Spec:
    """Choose the layout (or check the one asked for) and report missing columns."""
    present = {_normalise(h) for h in header}

    def missing(spec: _Spec) -> list[str]:
        return [c for c in spec.required if _normalise(c) not in present]

    if layout is Layout.AUTO:
        # The layout with most of its columns present; half of them at least, or none matches.
        scored = sorted(SPECS.values(), key=lambda s: len(missing(s)) / len(s.required))
        best = scored[0]
        if len(missing(best)) > len(best.required) / 2:
            shown = ", ".join(h for h in header[:12] if h) or "(none)"
            expected = "; ".join(_expected(x) for x in SPECS)
            problems.add(
                f"header matches no known trade layout; it has: {shown}. Expected the "
                f"columns of {expected}",
                1,
            )
            problems.raise_if_any()
    else:
        best = SPECS[layout]
    for column in missing(best):
        problems.add(f"required column of the {best.layout.value} layout is missing", 1, column)
    problems.raise_if_any()
    return best


def _number(text: str, column: str, line: int, problems: _Problems) -> float | None:
    """Parse a non-negative finite number; empty or 'NA' is missing (None)."""
    text = text.strip()
    if text in ("", "NA"):
        return None
    if not _NUMBER.fullmatch(text):
        problems.add(
            f"'{text[:40]}' is not a number; expected a plain decimal number", line, column
        )
        return None
    number = float(text)
    if not math.isfinite(number) or number > MAX_VALUE:
        problems.add(f"'{text[:40]}' is not a finite number within {MAX_VALUE:g}", line, column)
        return None
    if number < 0:
        problems.add(f"negative value {number:g}; expected a value >= 0", line, column)
        return None
    return number


def read_baci_country_codes(
    path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, str]:
    """Read BACI's ``country_codes_V20xxxx.csv``: numeric code -> ISO alpha-3.

    Parameters
    ----------
    path
        The file shipped in every BACI archive, with columns ``country_code, country_name,
        country_iso2, country_iso3`` (older versions: ``iso_3digit_alpha``).
    max_bytes
        Largest file accepted.

    Returns
    -------
    dict
        Code without leading zeros -> alpha-3; areas that are not countries (BACI's ``S19``,
        ``R20``, a blank ISO code, ...) map to ``ROW``.

    Raises
    ------
    rareflow.errors.DataError
        Naming file, line and column of each problem.
    """
    path = Path(path)
    _check_file(path, max_bytes)
    problems = _Problems(display_path(path))
    rows = _open_csv(path, problems)
    _, header = next(rows, (1, []))
    keys = [_normalise(h) for h in header]
    iso_key = next((k for k in ("countryiso3", "iso3digitalpha") if k in keys), None)
    if "countrycode" not in keys or iso_key is None:
        problems.add(
            "expected BACI country codes with columns country_code, country_name, "
            "country_iso2, country_iso3",
            1,
        )
        problems.raise_if_any()
    assert iso_key is not None  # narrowed: raise_if_any raised otherwise
    code_at, iso_at = keys.index("countrycode"), keys.index(iso_key)
    codes: dict[str, str] = {}
    for line, fields in rows:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) <= max(code_at, iso_at):
            problems.add(f"has {len(fields)} fields; the header has {len(header)}", line)
            continue
        code, iso = fields[code_at].strip(), fields[iso_at].strip().upper()
        if not code.isdigit():
            problems.add(f"'{code[:20]}' is not a numeric country code", line, header[code_at])
            continue
        codes[code.lstrip("0") or "0"] = iso if _ISO3.fullmatch(iso) else ROW
    problems.raise_if_any()
    if not codes:
        raise DataError([Problem("no country codes in the file", problems.file)])
    return codes


def _country(
    text: str, column: str, line: int, codes: Mapping[str, str] | None, problems: _Problems
) -> str | None:
    """Map a country cell to ISO alpha-3, ``ROW`` for areas nes; None (a problem) if unknown."""
    text = text.strip()
    if codes is not None:
        key = text.lstrip("0") or "0"
        if text.isdigit() and key in codes:
            return codes[key]
        problems.add(
            f"unknown country code '{text[:20]}': not in the BACI country codes file", line, column
        )
        return None
    iso = text.upper()
    if _ISO3.fullmatch(iso):
        return iso
    # Comtrade names areas that are not countries with codes like _X, X1, S19, R20.
    if re.fullmatch(r"[A-Z_][A-Z0-9_]{1,3}", iso) and not iso.isalpha():
        return ROW
    problems.add(f"unknown country code '{text[:20]}'; expected an ISO alpha-3 code", line, column)
    return None


def _rows(
    path: Path,
    spec_for: Layout,
    problems: _Problems,
    *,
    codes: Mapping[str, str] | None,
    hs_kept: Collection[str],
    importers: Collection[str] | None,
    max_rows: int,
) -> tuple[_Spec, list[_Flow], int, dict[str, int]]:
    """Read a trade file's rows, keep rare-earth imports and check the cells that are used."""
    rows = _open_csv(path, problems)
    _, header = next(rows, (1, []))
    header = [h.strip() for h in header]
    spec = _detect(header, spec_for, problems)
    if spec.layout is Layout.BACI and codes is None:
        raise InputError(
            f"{problems.file}: a BACI file needs BACI's country codes file "
            "(country_codes_V20xxxx.csv, in the same archive): pass --country-codes"
        )
    at = {_normalise(h): i for i, h in reversed(list(enumerate(header)))}

    def col(name: str | None) -> int | None:
        return None if name is None else at.get(_normalise(name))

    # _detect has checked that every required column is in the header.
    i_year, i_imp, i_par = (
        at[_normalise(spec.year)],
        at[_normalise(spec.importer)],
        at[_normalise(spec.partner)],
    )
    i_hs, i_wgt, i_val = (
        at[_normalise(spec.hs)],
        at[_normalise(spec.weight)],
        at[_normalise(spec.value)],
    )
    i_flow, i_pcode = col(spec.flow), col(spec.partner_code)
    i_freq, i_period = col(spec.frequency), col(spec.period)
    totals = [(i, spec.totals[c]) for c in spec.totals if (i := col(c)) is not None]
    skipped = dict.fromkeys(
        (
            "other products",
            "not imports",
            "partner World",
            "breakdown rows",
            "importer not selected",
            "importer not a country",
        ),
        0,
    )
    flows: list[_Flow] = []
    seen: dict[tuple[str, str, str, int], int] = {}
    monthly_reported = False
    read = 0
    for line, fields in rows:
        if not any(f.strip() for f in fields):
            continue
        read += 1
        if read > max_rows:
            problems.add(
                f"more than {max_rows:,} data rows; raise the limit to read this file", line
            )
            break
        if len(fields) != len(header):
            problems.add(f"has {len(fields)} fields; the header has {len(header)}", line)
            continue
        hs = fields[i_hs].strip().replace(".", "")
        if spec.layout is Layout.BACI and len(hs) == 5 and hs.isdigit():
            hs = "0" + hs  # BACI files read and rewritten as numbers lose the leading zero
        if hs not in hs_kept:
            skipped["other products"] += 1
            continue
        if i_flow is not None and fields[i_flow].strip() != spec.import_flow:
            skipped["not imports"] += 1
            continue
        if any(fields[i].strip() not in ok for i, ok in totals):
            skipped["breakdown rows"] += 1
            continue
        monthly = (i_freq is not None and fields[i_freq].strip().upper() != "A") or (
            i_period is not None and len(fields[i_period].strip()) > 4
        )
        if monthly:
            if not monthly_reported:
                where = i_freq if i_freq is not None else i_period
                problems.add(
                    "not annual data; download annual (yearly) figures",
                    line,
                    header[where] if where is not None else None,
                )
                monthly_reported = True
            continue
        raw_partner = fields[i_par].strip().upper()
        if raw_partner in WORLD_CODES or (i_pcode is not None and fields[i_pcode].strip() == "0"):
            skipped["partner World"] += 1
            continue
        year_text = fields[i_year].strip()
        year = int(year_text) if _YEAR.fullmatch(year_text) else None
        if year is None or not 1900 <= year <= 2100:
            problems.add(
                f"'{year_text[:20]}' is not a year; expected four digits", line, header[i_year]
            )
        importer = _country(fields[i_imp], header[i_imp], line, codes, problems)
        partner = _country(fields[i_par], header[i_par], line, codes, problems)
        weight = _number(fields[i_wgt], header[i_wgt], line, problems)
        value = _number(fields[i_val], header[i_val], line, problems)
        if value is None and fields[i_val].strip() in ("", "NA"):
            problems.add("value is missing; expected a number", line, header[i_val])
        if year is None or importer is None or partner is None or value is None:
            continue
        if importer == ROW:
            skipped["importer not a country"] += 1
            continue
        if importers is not None and importer not in importers:
            skipped["importer not selected"] += 1
            continue
        key = (importer, raw_partner, hs, year)
        if key in seen:
            problems.add(
                f"duplicate of line {seen[key]}: the same importer, partner, product and year",
                line,
                header[i_hs],
            )
            continue
        seen[key] = line
        flows.append(
            _Flow(
                line,
                importer,
                partner,
                raw_partner,
                hs,
                year,
                None if weight is None else weight * spec.weight_to_t,
                value * spec.value_to_usd,
            )
        )
    return spec, flows, read, skipped


def _drop_hs4_totals(flows: list[_Flow], skipped: dict[str, int]) -> list[_Flow]:
    """Drop 2846 (4-digit) rows where HS6 2846 rows give the same flow in detail."""
    detailed = {
        (f.importer, f.raw_partner, f.year)
        for f in flows
        if f.hs.startswith("2846") and len(f.hs) == 6
    }
    kept = [
        f for f in flows if not (f.hs == "2846" and (f.importer, f.raw_partner, f.year) in detailed)
    ]
    skipped["2846 totals beside HS6 rows"] = len(flows) - len(kept)
    return kept


def _table(flows: Sequence[_Flow], spec: _Spec, source_id: str, file: str) -> pd.DataFrame:
    """Sum flows into trade rows: one quantity and one value row per key."""
    groups: dict[tuple[str, str, str, int], list[_Flow]] = {}
    for f in flows:
        groups.setdefault((f.importer, f.partner, HS_MATERIALS[f.hs], f.year), []).append(f)
    records: list[dict[str, object]] = []
    for (importer, partner, material, year), group in sorted(groups.items()):
        codes = "+".join(sorted({f.hs for f in group}))
        where = f"{spec.label} imports, HS {codes}, {len(group)} row(s) of {file}"
        if partner == ROW:
            areas = ", ".join(sorted({f.raw_partner for f in group}))
            where += f"; partner ROW sums areas not elsewhere specified ({areas})"
        base = {
            "importer": importer,
            "partner": partner,
            "material": material,
            "low": math.nan,
            "high": math.nan,
            "year": year,
            "source_id": source_id,
            "choice": Choice.CHOSEN.value,
        }
        weighed = [f.quantity_t for f in group if f.quantity_t is not None]
        if weighed:
            note = f"{where}; {spec.weight_note}"
            if len(weighed) < len(group):
                note += (
                    f"; weight missing in {len(group) - len(weighed)} of {len(group)} rows, "
                    "so the quantity understates"
                )
            records.append(
                {
                    **base,
                    "metric": "quantity",
                    "value": math.fsum(weighed),
                    "unit": "t",
                    "note": note,
                }
            )
        records.append(
            {
                **base,
                "metric": "value",
                "value": math.fsum(f.value_usd for f in group),
                "unit": "usd",
                "note": f"{where}; {spec.value_note}",
            }
        )
    df = pd.DataFrame.from_records(records, columns=list(TRADE_COLUMNS))
    return df.astype({"value": "float64", "low": "float64", "high": "float64", "year": "int64"})


def _summaries(flows: Sequence[_Flow]) -> tuple[MaterialSummary, ...]:
    by_material: dict[str, list[_Flow]] = {}
    for f in flows:
        by_material.setdefault(HS_MATERIALS[f.hs], []).append(f)
    return tuple(
        MaterialSummary(
            material=m,
            source_rows=len(g),
            partners=len({f.partner for f in g}),
            quantity_t=math.fsum(f.quantity_t for f in g if f.quantity_t is not None),
            value_usd=math.fsum(f.value_usd for f in g),
        )
        for m, g in sorted(by_material.items())
    )


def read_trade(
    path: Path | str,
    *,
    source_id: str,
    layout: Layout = Layout.AUTO,
    country_codes: Path | str | None = None,
    include_other_magnets: bool = False,
    importers: Collection[str] | None = None,
    title: str | None = None,
    url: str | None = None,
    citation_year: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> TradeImport:
    """Read a Comtrade or BACI CSV file into rows of rareflow's ``trade`` table.

    The partner World is dropped (it totals the partner rows of the same file and would count
    every flow twice); only imports are kept (re-imports and re-exports are not); partners that
    are not countries are summed into ``ROW``. See the module's documentation for every rule.

    Parameters
    ----------
    path
        The CSV file.
    source_id
        Id of the ``sources`` row citing the file, e.g. ``user-comtrade-2025``.
    layout
        The file's layout, or ``auto`` to detect it from the header.
    country_codes
        BACI's ``country_codes_V20xxxx.csv``; required for BACI files.
    include_other_magnets
        Also keep HS 8505.19 (other permanent magnets, mostly ferrite).
    importers
        Keep only these importers (ISO alpha-3), e.g. ``{"IND"}`` for a BACI world file.
    title, url, citation_year
        The citation; default to the database's title and address and the current year.
    max_bytes, max_rows
        Limits on the file's size and its number of data rows.

    Returns
    -------
    TradeImport
        The trade rows, their ``sources`` row and a summary.

    Raises
    ------
    rareflow.errors.DataError
        Listing every problem, each with file, line and column.
    rareflow.errors.InputError
        For arguments that are not valid (source id, importer codes, a BACI file without its
        country codes).
    """
    path = Path(path)
    if not _SOURCE_ID.fullmatch(source_id):
        raise InputError(
            f"source id '{source_id}' is not valid; expected lowercase letters, "
            "digits, '.', '_' or '-', e.g. user-comtrade-2025"
        )
    wanted = None
    if importers is not None:
        wanted = {c.strip().upper() for c in importers}
        if bad := sorted(c for c in wanted if not _ISO3.fullmatch(c)):
            raise InputError(f"importer codes {', '.join(bad)} are not ISO alpha-3 codes")
    _check_file(path, max_bytes)
    file = display_path(path)
    codes = read_baci_country_codes(country_codes, max_bytes=max_bytes) if country_codes else None
    hs_kept = {h for h in HS_MATERIALS if include_other_magnets or h != OTHER_MAGNETS}
    problems = _Problems(file)
    spec, flows, read, skipped = _rows(
        path, layout, problems, codes=codes, hs_kept=hs_kept, importers=wanted, max_rows=max_rows
    )
    problems.raise_if_any()
    flows = _drop_hs4_totals(flows, skipped)
    source: dict[str, str | int] = {
        "source_id": source_id,
        "kind": "dataset",
        "author": _AUTHOR[spec.layout],
        "title": title or _TITLE[spec.layout],
        "publisher": _PUBLISHER[spec.layout],
        "year": citation_year if citation_year is not None else datetime.now(UTC).year,
        "url": url or _URL[spec.layout],
        "note": f"imported by rareflow from {file} ({spec.layout.value} layout): imports of HS "
        f"{', '.join(sorted(hs_kept))}; partner World dropped, areas nes summed as ROW",
    }
    return TradeImport(
        trade=_table(flows, spec, source_id, file),
        source=source,
        layout=spec.layout,
        file=file,
        rows_read=read,
        rows_kept=len(flows),
        skipped={k: v for k, v in skipped.items() if v},
        materials=_summaries(flows),
    )


def _read_existing(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """Read a user table as text rows; its header must be the table's columns."""
    if not path.exists():
        return []
    _check_file(path, DEFAULT_MAX_BYTES)
    problems = _Problems(path.name)
    rows = _open_csv(path, problems)
    _, header = next(rows, (1, []))
    header = [h.strip() for h in header]
    if sorted(header) != sorted(columns):
        problems.add(
            f"header is {', '.join(header) or '(empty)'}; expected {', '.join(columns)}", 1
        )
    out: list[dict[str, str]] = []
    for line, fields in rows:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.add(f"has {len(fields)} fields; the header has {len(header)}", line)
            continue
        out.append(dict(zip(header, fields, strict=True)))
    problems.raise_if_any()
    return out


def _cell(value: object) -> str:
    """Text of a value for CSV: blank for missing, whole floats without '.0'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _write_atomic(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    """Write a CSV next to its target, flush it to disk, then rename it over the target."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # The rename itself is durable only once the directory is synced (POSIX).
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _target(data_dir: Path, name: str) -> Path:
    path = data_dir / name
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InputError(
            f"{path}: not a regular file; rareflow writes only plain files in the "
            "user data directory"
        )
    return path


def _csv_text(columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _check_merged(
    data_dir: Path,
    result: TradeImport,
    sources: Sequence[Mapping[str, str]],
    rows: Sequence[Mapping[str, str]],
) -> None:
    """Refuse an import that would leave the user data directory unloadable; write nothing.

    Every importer and partner must be a country of the dataset (the embedded countries.csv and
    the directory's own), and the directory's tables with the merged ``trade.csv`` and
    ``sources.csv`` must pass the dataset's validation: otherwise every later run would fail on
    the written overlay.
    """
    others = [
        r for r in read_raw(data_dir, layer="user data") if r.table.name not in ("trade", "sources")
    ]
    countries = {
        row.get("country", "").strip()
        for raw in [*read_raw(embedded_dir(), ["countries"]), *others]
        if raw.table.name == "countries"
        for row in csv.DictReader(io.StringIO(raw.text))
    }
    problems = []
    for column in ("importer", "partner"):
        for code, group in result.trade.groupby(column):
            if str(code) in countries:
                continue
            years = sorted({int(y) for y in group["year"]})
            span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
            problems.append(
                Problem(
                    f"{column} '{code}' is not a country of the dataset ({len(group)} row(s), "
                    f"{span}, {', '.join(sorted(set(map(str, group['material']))))}): add it "
                    f"to {data_dir / 'countries.csv'} first, or leave it out of the file; "
                    "nothing was written",
                    result.file,
                    column=column,
                )
            )
    if problems:
        raise DataError(problems)
    merged = [
        *others,
        RawTable(_SOURCES, _SOURCES.filename, _csv_text(SOURCES_COLUMNS, sources), "user data"),
        RawTable(_TRADE, _TRADE.filename, _csv_text(TRADE_COLUMNS, rows), "user data"),
    ]
    try:
        validate(read_raw(embedded_dir()), merged)
    except DataError as exc:
        note = Problem(
            f"importing {result.file} would make {data_dir} invalid; nothing was written",
            result.file,
        )
        raise DataError([note, *exc.problems]) from None


def write_user_trade(result: TradeImport, data_dir: Path | str) -> WriteReport:
    """Merge imported rows into a user data directory's ``trade.csv`` and ``sources.csv``.

    Rows of the existing ``trade.csv`` with the key of an imported row (importer, partner,
    material, metric, year) are replaced; the ``sources`` row with the same ``source_id`` is
    replaced. Each file is written atomically (a temporary file in the same directory, synced,
    then renamed over the old one), sources first so that trade rows never cite a missing source.
    Only ``trade.csv`` and ``sources.csv`` directly in ``data_dir`` are written.

    Parameters
    ----------
    result
        What :func:`read_trade` returned.
    data_dir
        The user data directory (created if missing; its parent must exist).

    Returns
    -------
    WriteReport
        Paths written and rows added, replaced and in total.

    Raises
    ------
    rareflow.errors.DataError
        If an existing ``trade.csv`` or ``sources.csv`` is not of the table's layout.
    rareflow.errors.InputError
        If the directory or a target is not a plain directory or file.
    """
    data_dir = output_dir(data_dir, "the user data directory", create=False)
    trade_path = _target(data_dir, _TRADE.filename)
    sources_path = _target(data_dir, _SOURCES.filename)
    old_trade = _read_existing(trade_path, TRADE_COLUMNS)
    old_sources = _read_existing(sources_path, SOURCES_COLUMNS)

    source_id = str(result.source["source_id"])
    sources = [r for r in old_sources if r["source_id"].strip() != source_id]
    sources.append({c: _cell(result.source.get(c)) for c in SOURCES_COLUMNS})
    sources.sort(key=lambda r: r["source_id"])

    key = _TRADE.key
    new = [
        {c: _cell(v) for c, v in zip(TRADE_COLUMNS, rec, strict=True)}
        for rec in result.trade[list(TRADE_COLUMNS)].itertuples(index=False, name=None)
    ]
    new_keys = {tuple(r[c] for c in key) for r in new}
    kept = [r for r in old_trade if tuple(r[c].strip() for c in key) not in new_keys]
    old_keys = {tuple(r[c].strip() for c in key) for r in old_trade}
    rows = sorted([*kept, *new], key=lambda r: tuple(r[c] for c in key))

    _check_merged(data_dir, result, sources, rows)
    output_dir(data_dir, "the user data directory")
    try:
        _write_atomic(sources_path, SOURCES_COLUMNS, sources)
        _write_atomic(trade_path, TRADE_COLUMNS, rows)
    except OSError as exc:  # a full or read-only disk: each file is whole, old or new
        raise InputError(
            f"{data_dir}: cannot write the user data ({exc.strerror or exc}); "
            f"{_TRADE.filename} is unchanged"
        ) from None
    return WriteReport(
        trade_path=trade_path,
        sources_path=sources_path,
        added=len(new_keys - old_keys),
        replaced=len(old_trade) - len(kept),
        total=len(rows),
    )
