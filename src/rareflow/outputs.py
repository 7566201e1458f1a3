"""Where and how rareflow writes: one rule for every output path, and CSV cells made safe.

The rule: the folder that holds an output must already exist; rareflow creates the output itself
(a file, or the one directory an export or a figure set fills) but never the folders above it, so
a typing mistake in a path is an error rather than a new tree of folders. An output file that is a
directory, an output directory that is a file, and a parent that is a file are errors too. Each
error names the option and the path, and nothing is written.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from rareflow.errors import InputError


def _check_parent(path: Path, what: str) -> None:
    parent = path.parent
    if not parent.exists():
        raise InputError(
            f"{what} {path}: its folder {parent} does not exist (rareflow creates the output, "
            "not the folders above it)"
        )
    if not parent.is_dir():
        raise InputError(f"{what} {path}: {parent} is a file, not a folder")


def output_file(path: Path | str, what: str) -> Path:
    """Check that a file can be written at ``path`` under the output rule.

    Parameters
    ----------
    path
        The file to write.
    what
        How to name it in a message, e.g. ``--out``.

    Returns
    -------
    pathlib.Path
        The path, with ``~`` expanded.

    Raises
    ------
    rareflow.errors.InputError
        If its folder is missing or a file, or the path is a directory.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputError(f"{what} {target}: is a folder; give a file name")
    _check_parent(target, what)
    return target


def output_dir(path: Path | str, what: str, *, create: bool = True) -> Path:
    """Create the output directory ``path`` (not its parents) under the output rule.

    Parameters
    ----------
    path
        The directory to fill; it may exist already.
    what
        How to name it in a message, e.g. ``--figures``.
    create
        Create it now; False only checks that it could be (to check before long work).

    Returns
    -------
    pathlib.Path
        The directory, with ``~`` expanded.

    Raises
    ------
    rareflow.errors.InputError
        If it is a file, its folder is missing or a file, or it cannot be created.
    """
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{what} {target}: is a file, not a folder")
    if not target.exists():
        _check_parent(target, what)
        if not create:
            return target
        try:
            target.mkdir()
        except FileExistsError:
            if not target.is_dir():
                raise InputError(f"{what} {target}: is a file, not a folder") from None
        except OSError as exc:
            raise InputError(f"{what} {target}: cannot create it: {exc.strerror}") from None
    return target


def write_text_atomic(text: str, path: Path, what: str = "the report") -> Path:
    """Write a text file atomically (a partial file never has the final name).

    Parameters
    ----------
    text
        The file's content.
    path
        Where to write it; checked with :func:`output_file`.
    what
        How to name the file in a message.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    rareflow.errors.InputError
        If the path breaks the output rule or the file cannot be written (a read-only or full
        disk), naming the path and the reason.
    """
    path = output_file(path, what)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None
    return path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection)."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise(text: str) -> str:
    """Return a text cell that a spreadsheet shows as text, never runs as a formula.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'`` (which spreadsheets hide), unless it is a plain number such as ``-5`` or ``+1e3``.
    """
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return f"'{text}"
    return text
