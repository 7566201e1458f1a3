"""Advisory file locks (``fcntl.flock``) that serialise access to the store across processes.

A lock belongs to an open file description, so it is released when the holder closes the file or
dies: a killed writer never leaves the store locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rareflow.errors import StoreError

_POLL_SECONDS = 0.01


def try_lock(path: Path) -> int | None:
    """Take an exclusive lock on ``path`` without waiting.

    Parameters
    ----------
    path
        The lock file; created if absent.

    Returns
    -------
    int or None
        The open descriptor holding the lock (close it to release), or None if another holder
        has it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def is_held(path: Path) -> bool:
    """Return whether another open file description holds a lock on ``path`` (never creates it).

    Parameters
    ----------
    path
        A lock file; a missing one is not held.

    Returns
    -------
    bool
        True if the lock is held by a live process.
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def exclusive_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the duration of a ``with`` block.

    Parameters
    ----------
    path
        The lock file; created if absent.
    timeout
        Seconds to wait for the lock.

    Yields
    ------
    None
        While the lock is held.

    Raises
    ------
    StoreError
        If the lock could not be taken within ``timeout`` seconds, or the lock file cannot be
        opened (a read-only or full disk).
    """
    deadline = time.monotonic() + timeout
    while (fd := _try_lock_or_explain(path)) is None:
        if time.monotonic() >= deadline:
            raise StoreError(
                f"the run store at {path.parent} is busy: another process held its lock for more "
                f"than {timeout:g} s; try again, or check for a stuck rareflow process"
            )
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        os.close(fd)


def _try_lock_or_explain(path: Path) -> int | None:
    try:
        return try_lock(path)
    except OSError as exc:
        raise StoreError(
            f"cannot lock the run store at {path.parent}: {path}: {exc.strerror or exc}"
        ) from None
