"""Mirror check of trade statistics: a country's reported imports against its partners' exports.

The same flow is reported twice in UN Comtrade: by the importer (usually at CIF value) and by the
exporter (at FOB value). The two rarely agree: CIF includes freight and insurance (a few per
cent), flows are dated differently, goods pass through third countries, and products are
classified differently on each side. A large gap is a warning that the import shares rareflow
uses may be off (Gaulier and Zignago 2010, CEPII Working Paper 2010-23, on BACI's reconciliation
of mirror flows). This module lines up the two sides from one Comtrade file that holds both: the
focal country's import rows (reporter = the country, flow M) and its partners' export rows
(reporter = the partner, flow X, partner = the country), for the HS codes rareflow reads
(:data:`rareflow.data.trade.HS_MATERIALS`).

BACI files cannot be mirror-checked: BACI has already reconciled both declarations into one
figure per flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from rareflow.data.trade import (
    DEFAULT_MAX_BYTES,
    HS_MATERIALS,
    OTHER_MAGNETS,
    ROW,
    WORLD_CODES,
    Layout,
    _check_file,
    _country,
    _detect,
    _normalise,
    _number,
    _open_csv,
    _Problems,
)
from rareflow.errors import DataError, InputError, Problem, display_path

EXPORT_FLOW = {Layout.COMTRADE: "X", Layout.COMTRADE_LEGACY: "2"}
"""Export flow code of each Comtrade layout (re-exports are not exports here)."""


@dataclass(frozen=True)
class MirrorRow:
    """One flow seen from both sides.

    Parameters
    ----------
    partner, material, year
        The partner (exporter), rareflow material and year.
    imports_usd, imports_t
        What the focal country reported importing from the partner (None: not reported).
    exports_usd, exports_t
        What the partner reported exporting to the focal country (None: not reported).
    """

    partner: str
    material: str
    year: int
    imports_usd: float | None
    exports_usd: float | None
    imports_t: float | None
    exports_t: float | None

    @property
    def gap_usd(self) -> float | None:
        """Reported imports minus mirror exports, US dollars (None if a side is missing)."""
        if self.imports_usd is None or self.exports_usd is None:
            return None
        return self.imports_usd - self.exports_usd

    @property
    def gap_share(self) -> float | None:
        """The gap as a fraction of the mirror exports (None if undefined)."""
        gap = self.gap_usd
        if gap is None or not self.exports_usd:
            return None
        return gap / self.exports_usd

    def as_row(self) -> dict[str, object]:
        """Return the flow as a flat row."""
        return {
            "partner": self.partner,
            "material": self.material,
            "year": self.year,
            "imports_usd": self.imports_usd,
            "mirror_exports_usd": self.exports_usd,
            "gap_usd": self.gap_usd,
            "gap_share": self.gap_share,
            "imports_t": self.imports_t,
            "mirror_exports_t": self.exports_t,
        }


@dataclass(frozen=True)
class MirrorTotal:
    """A material's flows of one year summed over the partners reported on both sides."""

    material: str
    year: int
    partners: int
    imports_usd: float
    exports_usd: float

    @property
    def gap_usd(self) -> float:
        """Reported imports minus mirror exports, US dollars."""
        return self.imports_usd - self.exports_usd

    @property
    def gap_share(self) -> float | None:
        """The gap as a fraction of the mirror exports (None when they are 0)."""
        return self.gap_usd / self.exports_usd if self.exports_usd else None

    def as_row(self) -> dict[str, object]:
        """Return the total as a flat row."""
        return {
            "material": self.material,
            "year": self.year,
            "partners": self.partners,
            "imports_usd": self.imports_usd,
            "mirror_exports_usd": self.exports_usd,
            "gap_usd": self.gap_usd,
            "gap_share": self.gap_share,
        }


@dataclass(frozen=True)
class MirrorCheck:
    """Every flow of a focal country seen from both sides, and totals by material and year.

    Parameters
    ----------
    country
        The focal (importing) country.
    file
        The file read.
    rows
        One per (partner, material, year), sorted.
    """

    country: str
    file: str
    rows: tuple[MirrorRow, ...]

    def totals(self) -> list[MirrorTotal]:
        """Per material and year, the partners reported on both sides summed.

        Only partners reported on both sides are summed, so that a flow one side left out does
        not count as a gap.
        """
        groups: dict[tuple[str, int], list[MirrorRow]] = {}
        for r in self.rows:
            if r.imports_usd is not None and r.exports_usd is not None:
                groups.setdefault((r.material, r.year), []).append(r)
        return [
            MirrorTotal(
                material,
                year,
                len(rows),
                math.fsum(r.imports_usd or 0.0 for r in rows),
                math.fsum(r.exports_usd or 0.0 for r in rows),
            )
            for (material, year), rows in sorted(groups.items())
        ]


def mirror_check(
    path: Path | str,
    country: str,
    *,
    layout: Layout = Layout.AUTO,
    include_other_magnets: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MirrorCheck:
    """Line up a country's reported imports with its partners' reported exports to it.

    Parameters
    ----------
    path
        A Comtrade CSV (current or legacy layout) holding both the country's import rows and the
        partners' export rows to it.
    country
        The focal country (ISO alpha-3).
    layout
        The file's layout, or ``auto``.
    include_other_magnets
        Also check HS 8505.19 (mostly ferrite).
    max_bytes
        Largest file read.

    Raises
    ------
    rareflow.errors.InputError
        For a country code that is not alpha-3, or a BACI file (already reconciled).
    rareflow.errors.DataError
        Naming file, line and column of each bad cell, or when the file has no row of either side.
    """
    focal = country.strip().upper()
    if len(focal) != 3 or not focal.isalpha():
        raise InputError(f"country '{country}' is not an ISO alpha-3 code")
    path = Path(path)
    _check_file(path, max_bytes)
    problems = _Problems(display_path(path))
    rows = _open_csv(path, problems)
    _, header = next(rows, (1, []))
    header = [h.strip() for h in header]
    spec = _detect(header, layout, problems)
    if spec.layout is Layout.BACI:
        raise InputError(
            f"{problems.file}: BACI has already reconciled each flow's import and export "
            "declarations into one figure, so it has no mirror to check; use a UN Comtrade file "
            "with both the country's imports and its partners' exports"
        )
    assert spec.flow is not None  # Comtrade layouts name their flow column
    at = {_normalise(h): i for i, h in reversed(list(enumerate(header)))}

    def col(name: str) -> int:
        return at[_normalise(name)]

    i_flow, i_rep, i_par = col(spec.flow), col(spec.importer), col(spec.partner)
    i_hs, i_year, i_wgt, i_val = col(spec.hs), col(spec.year), col(spec.weight), col(spec.value)
    totals = [(col(c), ok) for c, ok in spec.totals.items() if _normalise(c) in at]
    kept_hs = {h for h in HS_MATERIALS if include_other_magnets or h != OTHER_MAGNETS}
    export_flow = EXPORT_FLOW[spec.layout]
    sides: dict[tuple[str, str, int], dict[str, list[float | None]]] = {}
    for line, fields in rows:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.add(f"has {len(fields)} fields; the header has {len(header)}", line)
            continue
        hs = fields[i_hs].strip().replace(".", "")
        flow = fields[i_flow].strip()
        if hs not in kept_hs or flow not in (spec.import_flow, export_flow):
            continue
        if any(fields[i].strip() not in ok for i, ok in totals):
            continue
        reporter = _country(fields[i_rep], header[i_rep], line, None, problems)
        partner = _country(fields[i_par], header[i_par], line, None, problems)
        if reporter is None or partner is None or fields[i_par].strip().upper() in WORLD_CODES:
            continue
        if flow == spec.import_flow and reporter == focal and partner != ROW:
            side, other = "imports", partner
        elif flow == export_flow and partner == focal and reporter != ROW:
            side, other = "exports", reporter
        else:
            continue
        year_text = fields[i_year].strip()
        if not (year_text.isdigit() and len(year_text) == 4):
            problems.add(f"'{year_text[:20]}' is not a year", line, header[i_year])
            continue
        weight = _number(fields[i_wgt], header[i_wgt], line, problems)
        value = _number(fields[i_val], header[i_val], line, problems)
        key = (other, HS_MATERIALS[hs], int(year_text))
        entry = sides.setdefault(
            key, {"imports": [], "exports": [], "imports_t": [], "exports_t": []}
        )
        entry[side].append(None if value is None else value * spec.value_to_usd)
        entry[f"{side}_t"].append(None if weight is None else weight * spec.weight_to_t)
    problems.raise_if_any()
    if not sides:
        raise DataError(
            [
                Problem(
                    f"no import rows reported by {focal} and no export rows to {focal} of HS "
                    f"{', '.join(sorted(kept_hs))}",
                    problems.file,
                )
            ]
        )

    def total(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return math.fsum(known) if known else None

    out = [
        MirrorRow(
            partner,
            material,
            year,
            total(s["imports"]),
            total(s["exports"]),
            total(s.get("imports_t", [])),
            total(s.get("exports_t", [])),
        )
        for (partner, material, year), s in sorted(sides.items())
    ]
    return MirrorCheck(focal, problems.file, tuple(out))
