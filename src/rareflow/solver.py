"""HiGHS, the LP solver rareflow uses (stress tests, the policy-mix optimiser), made quiet.

HiGHS prints a banner on standard output the first time it starts, which would corrupt the
CLI's JSON output; :func:`new_highs` starts it with standard output redirected once per process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import highspy

_banner_shown = False


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: HiGHS prints a banner there on first use."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def new_highs() -> Any:
    """Return a silent HiGHS instance (its banner would corrupt the CLI's JSON output)."""
    global _banner_shown  # noqa: PLW0603 - the banner is printed once per process
    # highspy.Highs.__init__ has no annotations, hence the ignores.
    if _banner_shown:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    else:
        with _quiet_stdout():
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        _banner_shown = True
    h.silent()
    return h
