"""Where templates, catalogs and schemas live.

In a wheel they are package data (``generator/templates``, ``generator/catalogs``,
mapped there by pyproject.toml); in a source checkout they sit at the repository
root beside the package. Both layouts resolve here and nowhere else.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from . import __version__

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the directory ``name`` ("templates" or "catalogs")."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"gen-tf data directory {name!r} is missing from the installation")


def cache_dir(kind: str, fingerprint: str = "") -> Path | None:
    """A per-user cache folder, ``$XDG_CACHE_HOME/gen-tf/<kind>-<version>[-<fingerprint>]``, created on demand.

    Caches only speed runs up; output never depends on them. ``None`` (no
    cache) when ``GEN_TF_NO_CACHE`` is set, when the folder cannot be created,
    or when it or ``gen-tf/`` is not the user's own (another owner, or writable
    by group or others): caches hold compiled code and pickles, so gen-tf only
    loads what the user wrote (the check ssh makes of ``~/.ssh``).
    """
    if os.environ.get("GEN_TF_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    suffix = f"-{fingerprint}" if fingerprint else ""
    folder = Path(base, "gen-tf", f"{kind}-{__version__}{suffix}")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not all(_private(path) for path in (folder.parent, folder)):
            return None
    except OSError:
        return None
    return folder


def _private(path: Path) -> bool:
    info = path.stat()
    owner = getattr(os, "getuid", None)
    return (owner is None or info.st_uid == owner()) and not info.st_mode & 0o022
