"""Where templates, catalogs and schemas live.

In a wheel they are package data (``generator/templates``, ``generator/catalogs``,
mapped there by pyproject.toml); in a source checkout they sit at the repository
root beside the package. Both layouts resolve here and nowhere else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the directory ``name`` ("templates" or "catalogs")."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"gen-tf data directory {name!r} is missing from the installation")
