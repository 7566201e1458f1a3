"""Digests of every preset's results at a fixed seed: the record that refactors change nothing.

Each preset runs with ``DRAWS`` draws at seed ``SEED`` (its own other settings unchanged), with
mass-balance checks on. For every numeric variable and coordinate of the results, the digest
keeps the SHA-256 of its float64 bytes and three sums (plain, absolute, and weighted by fixed
pseudo-random weights), so that a comparison is exact when the bytes agree and otherwise allowed
a relative difference of ``RTOL`` on the sums (a different BLAS may round a matrix product in
another order).

Regenerate (only when results change on purpose, with a line in the README's list of result
changes)::

    PYTHONPATH=src python tests/golden/digests.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario, preset_names

DRAWS = 20
SEED = 12345
RTOL = 1e-12
"""Relative tolerance of the sums when the bytes differ (relative to the sum of magnitudes)."""
GOLDEN = Path(__file__).with_name("presets.json")


def _weights(n: int) -> np.ndarray:
    return np.random.default_rng(2026).uniform(0.5, 1.5, size=n)


def digest_array(values: np.ndarray) -> dict[str, Any]:
    """SHA-256 of the float64 bytes, shape, and three sums of an array."""
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    flat = np.nan_to_num(arr.reshape(-1), nan=0.0)
    return {
        "shape": list(arr.shape),
        "sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
        "sum": float(flat.sum()),
        "abs": float(np.abs(flat).sum()),
        "weighted": float(flat @ _weights(flat.size)),
        "nan": int(np.isnan(arr).sum()),
    }


def preset_digest(name: str) -> dict[str, dict[str, Any]]:
    """Digest of every numeric array of one preset's results."""
    scenario = with_overrides(load_scenario(name), draws=DRAWS, seed=SEED)
    results = run(scenario).results
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(map(str, results.variables)):
        values = results[key].to_numpy()
        if np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.bool_):
            out[key] = digest_array(values)
    return out


def all_digests() -> dict[str, dict[str, dict[str, Any]]]:
    """Digests of every preset."""
    return {name: preset_digest(name) for name in preset_names()}


def same(stored: dict[str, Any], now: dict[str, Any]) -> str | None:
    """None if two digests agree (bytes, or sums within RTOL), else what differs."""
    if stored["shape"] != now["shape"] or stored["nan"] != now["nan"]:
        return f"shape/NaN {stored['shape']}/{stored['nan']} -> {now['shape']}/{now['nan']}"
    if stored["sha256"] == now["sha256"]:
        return None
    scale = max(stored["abs"], 1e-300)
    for key in ("sum", "abs", "weighted"):
        if abs(stored[key] - now[key]) > RTOL * scale:
            return f"{key} {stored[key]!r} -> {now[key]!r}"
    return None


def main() -> None:
    """Write the golden digests (see the module docstring); it takes no arguments.

    Checking is ``pytest tests/golden``: an argument such as ``--check`` is refused rather than
    read as a request to rewrite the file.
    """
    if sys.argv[1:]:
        sys.exit(
            f"digests.py takes no arguments (got {' '.join(sys.argv[1:])}): it rewrites "
            f"{GOLDEN.name}; to check the digests, run pytest tests/golden"
        )
    digests = all_digests()
    GOLDEN.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {GOLDEN} ({len(digests)} presets)\n")


if __name__ == "__main__":
    main()
