"""The root conftest keeps non-browser tests free of playwright, and hypothesis reproducible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_ci_profile_is_seeded_and_bounded() -> None:
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci":
        return  # `make test-long` runs the random profile on purpose
    assert settings.default.derandomize
    assert settings.default.max_examples <= 100


def test_collecting_a_non_browser_test_does_not_import_playwright() -> None:
    code = (
        "import sys, pytest\n"
        "pytest.main(['-q', '--collect-only', '-p', 'no:cacheprovider', "
        "'tests/reliability/test_conftest.py'])\n"
        "print('playwright' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout[-2000:]
