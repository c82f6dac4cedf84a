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
    or when it or ``gen-tf/`` belongs to another user: caches hold compiled
    code and pickles, so gen-tf only loads what the user wrote. Both folders
    are made 0700; one of the user's own that others could write to (an older
    gen-tf under umask 002) is made private again and its entries dropped.
    """
    if os.environ.get("GEN_TF_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    suffix = f"-{fingerprint}" if fingerprint else ""
    root = Path(base, "gen-tf")
    folder = root / f"{kind}-{__version__}{suffix}"
    try:
        Path(base).mkdir(parents=True, exist_ok=True)
        for path in (root, folder):
            path.mkdir(mode=0o700, exist_ok=True)
            if not _secure(path, purge=path is folder):
                return None
    except OSError:
        return None
    return folder


def _secure(path: Path, purge: bool) -> bool:
    """Whether ``path`` is the user's own; if others could write to it, close it (and, with
    ``purge``, drop the entries they could have planted)."""
    info = path.stat()
    owner = getattr(os, "getuid", None)
    if owner is not None and info.st_uid != owner():
        return False
    if info.st_mode & 0o022:
        path.chmod(0o700)
        if purge:
            for entry in path.iterdir():
                if entry.is_file() or entry.is_symlink():
                    entry.unlink()
    return True
