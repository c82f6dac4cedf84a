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


def cache_dir(kind: str) -> Path | None:
    """A per-user, per-version cache folder (``$XDG_CACHE_HOME/gen-tf/<kind>-<version>``), created on demand.

    Caches only speed runs up; output never depends on them. ``None`` when
    ``GEN_TF_NO_CACHE`` is set or the folder cannot be created.
    """
    if os.environ.get("GEN_TF_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base, "gen-tf", f"{kind}-{__version__}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder
