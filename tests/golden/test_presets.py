"""Every preset's results at a fixed seed match the stored digests (tests/golden/presets.json).

The digests were taken before the architecture refactor of issue 15; presets added later have
none and are not compared. A change of results on purpose regenerates them
(``PYTHONPATH=src python tests/golden/digests.py``) and lists the change in the README's result
changes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.golden.digests import GOLDEN, digest_array, preset_digest, same

STORED = json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STORED))
def test_preset_results_unchanged(name: str) -> None:
    now = preset_digest(name)
    assert sorted(now) == sorted(STORED[name])
    changed = {key: why for key in now if (why := same(STORED[name][key], now[key])) is not None}
    assert not changed, f"{name}: results changed: {changed}"


def test_digests_tell_a_small_change_from_a_rounding_one() -> None:
    values = np.linspace(0.0, 1.0, 50)
    assert same(digest_array(values), digest_array(values.copy())) is None
    rounded = values.copy()
    rounded[7] = np.nextafter(rounded[7], 2.0)  # one ulp: within RTOL of the sums
    assert same(digest_array(values), digest_array(rounded)) is None
    changed = values.copy()
    changed[7] *= 1.0 + 1e-9
    assert same(digest_array(values), digest_array(changed)) is not None
