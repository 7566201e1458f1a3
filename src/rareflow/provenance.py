"""Which code made a result: rareflow's version, its git commit, and a hash of its sources.

A version number alone ("0.1.0") does not tell two builds apart, so every run records
:func:`code_version`: the version, the git commit when the package is a git checkout (with
``-modified`` when its files differ from that commit), and always the SHA-256 of the installed
package's own files, which identifies the code whether or not git is at hand.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from functools import cache
from pathlib import Path

from rareflow import __version__

_PACKAGE = Path(__file__).resolve().parent
_GIT_TIMEOUT_S = 5.0


def sources_hash(package: Path = _PACKAGE) -> str:
    """Return the SHA-256 of a package's files (names and bytes), compiled caches excluded.

    Parameters
    ----------
    package
        The package directory; by default rareflow's own.

    Returns
    -------
    str
        The hex digest.
    """
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    )
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def git_commit(package: Path = _PACKAGE) -> str | None:
    """Return the git commit a package's sources are checked out at, or None if they are not.

    Parameters
    ----------
    package
        The package directory; by default rareflow's own.

    Returns
    -------
    str or None
        The full commit id, followed by ``-modified`` if the package's tracked files differ from
        it; None if git is missing or the package's files are not tracked by a repository (an
        installed wheel inside some other repository is not taken for a checkout).
    """
    git = shutil.which("git")
    if git is None:
        return None

    def ask(*args: str) -> str | None:
        try:
            done = subprocess.run(
                [git, "-C", str(package), *args],
                capture_output=True,
                text=True,
                timeout=_GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    if not ask("ls-files", "--error-unmatch", "--", "__init__.py"):
        return None
    commit = ask("rev-parse", "--verify", "HEAD")
    if not commit:
        return None
    status = ask("status", "--porcelain", "--untracked-files=no", "--", ".")
    return commit if status == "" else f"{commit}-modified"


@cache
def code_version() -> str:
    """Return the code version that runs record, computed once per process.

    Returns
    -------
    str
        For example ``0.1.0 git:2ba952d0e1f2...-modified sources:sha256:0123456789abcdef``
        (the git part only for a checkout; the sources hash always, its first 16 hex digits).
    """
    commit = git_commit()
    parts = [__version__]
    if commit is not None:
        parts.append(f"git:{commit}")
    parts.append(f"sources:sha256:{sources_hash()[:16]}")
    return " ".join(parts)
