"""Config files (YAML or TOML): every command-line option as a key.

Keys may be written with hyphens or underscores (``k8s-version`` or
``k8s_version``); ``tags`` is a mapping. Command-line flags override the file.
Unknown keys fail with the closest known key as a suggestion.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

from .errors import GenTfError


class ConfigError(GenTfError):
    """A config file is unreadable or holds an unknown key or a bad value."""

    def __init__(self, path: str, key: str, message: str) -> None:
        self.path = path
        self.key = key
        super().__init__(f"config {path}: {key}: {message}")


# Config keys that name an option's field differently: `catalog` (one file or a list) is --catalog.
ALIASES = {"catalog": "catalogs"}


def _tags(path: str, key: str, value: dict[Any, Any]) -> dict[str, str]:
    """Tags as strings; an empty value (YAML `owner:`) or a nested value is an error, not the text "None"."""
    tags: dict[str, str] = {}
    for name, item in value.items():
        if item is None or isinstance(item, (dict, list)):
            shown = "empty" if item is None else f"a {type(item).__name__}"
            raise ConfigError(path, f"{key}.{name}", f"is {shown}; give each tag a string value (quote numbers and dates)")
        if isinstance(item, bool):
            raise ConfigError(path, f"{key}.{name}", f"is {str(item).lower()}, a boolean; quote it if you mean the text")
        tags[str(name)] = str(item)
    return tags


def _catalogs(path: str, key: str, value: Any) -> list[str]:
    """Catalog overlays: one path or a list, relative to the config file's folder."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) and item for item in items):
        raise ConfigError(path, key, "must be a catalog file path or a list of them")
    base = Path(path).parent
    return [item if Path(item).is_absolute() else str(base / item) for item in items]


def read_config(path: str, known: list[str]) -> dict[str, Any]:
    """The file's settings as ``{field: value}``; ``known`` lists the accepted field names."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, "file", f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "file", f"is not UTF-8 text (byte {exc.start})") from None
    if file.suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, "toml", f"is not valid TOML ({exc})") from None
    else:
        import yaml  # only with --config: a run without one never imports PyYAML

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "yaml"
            raise ConfigError(path, where, "is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(path, "top level", "must be a mapping of option names to values")
    from .options import OPTION_OF

    # Each key may be spelled as its flag (`admin-cidr`, `private-subnet-id`, `tag`) or as the
    # option's field (`admin_cidrs`): `gen-tf init` writes the flags' spelling.
    aliases = {**{flag.lstrip("-").replace("-", "_"): name for name, flag in OPTION_OF.items()}, **ALIASES}
    settings: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        key = aliases.get(key, key)
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(path, str(raw_key), f"unknown key{hint} Allowed: {', '.join(sorted(known))}")
        if key == "tags" and not isinstance(value, dict):
            raise ConfigError(path, str(raw_key), "must be a mapping of tag names to values")
        if key == "tags":
            value = _tags(path, str(raw_key), value)
        if key == "catalogs":
            value = _catalogs(path, str(raw_key), value)
        settings[key] = value
    return settings
