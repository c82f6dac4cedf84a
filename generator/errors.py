"""Domain exceptions. The CLI turns each into one stderr line and exit code 2."""

from __future__ import annotations


class GenTfError(Exception):
    """Base of every error gen-tf reports to the user; ``str()`` is one line."""


class OptionError(GenTfError):
    """A command-line option (or config key) has a value gen-tf cannot use."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        self.detail = message
        super().__init__(f"{option}: {message}")


class CatalogError(GenTfError):
    """A catalog file is missing, malformed or inconsistent."""

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path = path
        self.field = field
        super().__init__(f"catalog {path}: {field}: {message}")


class RenderError(GenTfError):
    """A template could not be rendered (a bug in gen-tf, reported with its place)."""
