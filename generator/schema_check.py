"""Offline Terraform schema checker.

Checks ``resource``, ``data`` and ``provider`` blocks of Terraform (HCL)
configuration against the provider schemas in ``generator/schemas/*.json``
(produced by ``tools/extract_schemas.py`` from the cdktf prebuilt provider
packages), without needing ``terraform init`` or registry access.

What is reported (``Finding.kind``):

* ``unknown_provider``           - the type's provider (prefix up to the first
  ``_``) or a ``provider "x"`` block has no schema / is not allowed;
* ``unknown_resource_type``, ``unknown_data_source``;
* ``unknown_argument``, ``unknown_block`` - at any nesting depth, including
  inside ``dynamic "x" { content { ... } }``;
* ``missing_required_argument``, ``missing_required_block``.

Meta-arguments (count, for_each, depends_on, provider, lifecycle,
provisioner, connection; alias/version in provider blocks) are always
allowed; ``lifecycle`` contents are checked against Terraform's own rules.
Other top-level blocks (module, variable, output, locals, terraform, check,
moved, import, removed, ephemeral) are not checked.

Usage::

    python -m generator.schema_check FILE_OR_DIR... [--provider NAME ...]

prints one finding per line; exit status 1 if there are findings, 0 if none,
2 on usage or HCL parse errors.
"""
from __future__ import annotations

import argparse
import difflib
import functools
import importlib.resources
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, Union

import hcl2

__all__ = [
    "KINDS",
    "Finding",
    "HclParseError",
    "available_providers",
    "check_files",
    "check_text",
    "load_schema",
    "main",
    "provider_for_type",
]

UNKNOWN_RESOURCE_TYPE = "unknown_resource_type"
UNKNOWN_DATA_SOURCE = "unknown_data_source"
UNKNOWN_ARGUMENT = "unknown_argument"
UNKNOWN_BLOCK = "unknown_block"
MISSING_REQUIRED_ARGUMENT = "missing_required_argument"
MISSING_REQUIRED_BLOCK = "missing_required_block"
UNKNOWN_PROVIDER = "unknown_provider"
# terraform.io/builtin/terraform: part of Terraform itself (schemas/terraform.json).
BUILTIN_PROVIDER = "terraform"

KINDS = (
    UNKNOWN_RESOURCE_TYPE,
    UNKNOWN_DATA_SOURCE,
    UNKNOWN_ARGUMENT,
    UNKNOWN_BLOCK,
    MISSING_REQUIRED_ARGUMENT,
    MISSING_REQUIRED_BLOCK,
    UNKNOWN_PROVIDER,
)

_SCHEMA_PACKAGE = "generator"
_SCHEMA_DIR = "schemas"
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# Top-level block types that are not checked.
_IGNORED_TOP_LEVEL = frozenset({
    "module", "variable", "output", "locals", "terraform", "check", "moved",
    "import", "removed", "ephemeral",
})


@dataclass(frozen=True)
class Finding:
    """One schema problem.

    ``address`` is a Terraform-like path, e.g.
    ``aws_s3_bucket.artifacts.cors_rule[0].foo``,
    ``data.aws_iam_policy_document.x.statement[1]`` or
    ``aws_s3_bucket.b.dynamic.grant.content.foo``; ``file`` is set by
    :func:`check_files` (and by :func:`check_text` when given a filename)."""

    kind: str
    address: str
    message: str
    file: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.file}: " if self.file else ""
        return f"{prefix}{self.address}: {self.message} [{self.kind}]"


class HclParseError(ValueError):
    """The text is not valid HCL (as far as python-hcl2 can tell)."""


# ---------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------

def _schema_files():
    return importlib.resources.files(_SCHEMA_PACKAGE).joinpath(_SCHEMA_DIR)


@functools.lru_cache(maxsize=None)
def available_providers() -> tuple[str, ...]:
    """Short names (``aws``, ``google``, ...) of the bundled provider schemas."""
    root = _schema_files()
    if not root.is_dir():
        return ()
    return tuple(sorted(
        entry.name[: -len(".json")] for entry in root.iterdir()
        if entry.name.endswith(".json") and _PROVIDER_NAME.match(entry.name[: -len(".json")])
    ))


@functools.lru_cache(maxsize=None)
def load_schema(provider: str) -> dict:
    """The bundled schema document of ``provider`` (e.g. ``"aws"``).

    Keys: provider, version, source_package, resources, data_sources,
    provider_config.  Cached and shared: do not mutate.  Raises
    :class:`LookupError` if there is no schema for ``provider``."""
    if not _PROVIDER_NAME.match(provider or ""):
        raise LookupError(f"invalid provider name {provider!r}")
    resource = _schema_files().joinpath(f"{provider}.json")
    if not resource.is_file():
        raise LookupError(f"no schema for provider {provider!r} (have: {', '.join(available_providers())})")
    return json.loads(resource.read_text(encoding="utf-8"))


def provider_for_type(type_name: str) -> str:
    """Provider short name of a resource/data source type: the prefix up to
    the first ``_`` (``aws_s3_bucket`` -> ``aws``)."""
    return type_name.split("_", 1)[0]


# ---------------------------------------------------------------------------
# Terraform's own (meta) schemas
# ---------------------------------------------------------------------------

def _args(*names: str, required: Sequence[str] = ()) -> dict:
    return {n: {"required": n in required} for n in names}


_CONDITION = {"args": _args("condition", "error_message", required=("condition", "error_message")), "blocks": {}}
_RESOURCE_LIFECYCLE = {
    "args": _args("create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"),
    "blocks": {
        "precondition": {"required": False, "schema": _CONDITION},
        "postcondition": {"required": False, "schema": _CONDITION},
    },
}
_DATA_LIFECYCLE = {"args": {}, "blocks": _RESOURCE_LIFECYCLE["blocks"]}
_OPEN = {"any": True, "args": {}, "blocks": {}}


@dataclass(frozen=True)
class _Meta:
    args: frozenset[str]
    blocks: dict  # name -> schema of the block's body


_RESOURCE_META = _Meta(
    frozenset({"count", "for_each", "depends_on", "provider"}),
    {"lifecycle": _RESOURCE_LIFECYCLE, "provisioner": _OPEN, "connection": _OPEN},
)
_DATA_META = _Meta(frozenset({"count", "for_each", "depends_on", "provider"}), {"lifecycle": _DATA_LIFECYCLE})
_PROVIDER_META = _Meta(frozenset({"alias", "version"}), {})
_NO_META = _Meta(frozenset(), {})

_DYNAMIC_ARGS = {"for_each": True, "iterator": False, "labels": False}


# ---------------------------------------------------------------------------
# HCL helpers (python-hcl2 8.x dict shape with explicit_blocks)
# ---------------------------------------------------------------------------

_SERIALIZATION = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)


def _parse(text: str, filename: str | None) -> dict:
    try:
        return hcl2.loads(text, serialization_options=_SERIALIZATION)
    except Exception as exc:  # lark raises a variety of exception types
        where = filename or "<text>"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HclParseError(f"{where}: cannot parse HCL: {first}") from exc


def _is_block_body(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__is_block__") is True


def _unwrap_labels(value: Any) -> tuple[list[str], dict] | None:
    """A block list element -> (labels, body); None if it is not a block."""
    labels: list[str] = []
    while isinstance(value, dict):
        if _is_block_body(value):
            return labels, value
        keys = [k for k in value if not (k.startswith("__") and k.endswith("__"))]
        if len(keys) != 1:
            return None
        labels.append(keys[0])
        value = value[keys[0]]
    return None


def _split_body(body: dict) -> tuple[dict, dict[str, list[tuple[list[str], dict]]]]:
    """Split a block body into (attributes, {block type: [(labels, body)]})."""
    attrs: dict = {}
    blocks: dict[str, list[tuple[list[str], dict]]] = {}
    for key, value in body.items():
        if key.startswith("__") and key.endswith("__"):
            continue
        if isinstance(value, list) and value:
            unwrapped = [_unwrap_labels(v) for v in value]
            if all(u is not None for u in unwrapped):
                blocks[key] = unwrapped  # type: ignore[assignment]
                continue
        attrs[key] = value
    return attrs, blocks


def _iter_labeled(top: dict, key: str, depth: int) -> Iterator[tuple[list[str], dict]]:
    """Top-level blocks of type ``key`` with ``depth`` labels."""
    for item in top.get(key, []) or []:
        stack = [([], item)]
        while stack:
            labels, node = stack.pop(0)
            if len(labels) == depth:
                if _is_block_body(node):
                    yield labels, node
                continue
            if not isinstance(node, dict):
                continue
            for name, child in node.items():
                if name.startswith("__") and name.endswith("__"):
                    continue
                stack.append((labels + [name], child))


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


# ---------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------

class _Checker:
    def __init__(self, providers: Iterable[str] | None, filename: str | None):
        if providers is None:
            self.providers = set(available_providers())
        else:
            # Terraform's built-in provider (terraform_data) is always there, never declared.
            self.providers = {p for p in providers} | {BUILTIN_PROVIDER}
        self.filename = filename
        self.findings: list[Finding] = []

    def add(self, kind: str, address: str, message: str) -> None:
        self.findings.append(Finding(kind, address, message, self.filename))

    def schema_for(self, provider: str, address: str, what: str) -> dict | None:
        if provider not in self.providers:
            self.add(UNKNOWN_PROVIDER, address,
                     f"{what}: provider {provider!r} is not one of the checked providers "
                     f"({', '.join(sorted(self.providers)) or 'none'})")
            return None
        try:
            return load_schema(provider)
        except LookupError:
            self.add(UNKNOWN_PROVIDER, address, f"{what}: no schema available for provider {provider!r}")
            return None

    # -- top level --------------------------------------------------------

    def check_document(self, doc: dict) -> None:
        for labels, body in _iter_labeled(doc, "resource", 2):
            self.check_typed(labels[0], labels[1], body, data=False)
        for labels, body in _iter_labeled(doc, "data", 2):
            self.check_typed(labels[0], labels[1], body, data=True)
        for labels, body in _iter_labeled(doc, "provider", 1):
            self.check_provider(labels[0], body)

    def check_typed(self, type_name: str, name: str, body: dict, data: bool) -> None:
        address = f"{'data.' if data else ''}{type_name}.{name}"
        what = f"{'data source' if data else 'resource type'} {type_name!r}"
        doc = self.schema_for(provider_for_type(type_name), address, what)
        if doc is None:
            return
        table = doc["data_sources"] if data else doc["resources"]
        schema = table.get(type_name)
        if schema is None:
            kind = UNKNOWN_DATA_SOURCE if data else UNKNOWN_RESOURCE_TYPE
            self.add(kind, address,
                     f"{what} does not exist in {doc['provider']} {doc['version']}{_suggest(type_name, table)}")
            return
        self.check_body(body, schema, address, _DATA_META if data else _RESOURCE_META)

    def check_provider(self, name: str, body: dict) -> None:
        alias = body.get("alias")
        address = f"provider.{name}" + (f".{alias}" if isinstance(alias, str) else "")
        doc = self.schema_for(name, address, "provider block")
        if doc is None:
            return
        self.check_body(body, doc["provider_config"], address, _PROVIDER_META)

    # -- bodies -----------------------------------------------------------

    def check_body(self, body: dict, schema: dict, address: str, meta: _Meta = _NO_META) -> None:
        if schema.get("any"):
            return
        args: dict = schema.get("args", {})
        blocks: dict = schema.get("blocks", {})
        attrs, nested = _split_body(body)

        for name in attrs:
            if name in args or name in meta.args:
                continue
            if name in blocks:
                hint = f"; {name!r} is a block: write `{name} {{ ... }}`"
            else:
                hint = _suggest(name, list(args) + list(meta.args))
            self.add(UNKNOWN_ARGUMENT, f"{address}.{name}", f"unsupported argument {name!r}{hint}")

        present_blocks: set[str] = set()
        block_syntax_args: set[str] = set()
        for name, instances in nested.items():
            if name == "dynamic" and "dynamic" not in blocks:
                for labels, dyn_body in instances:
                    label = labels[0] if labels else ""
                    if self.check_dynamic(label, dyn_body, schema, address):
                        present_blocks.add(label)
                        if label in args:
                            block_syntax_args.add(label)
                continue
            if name in meta.blocks:
                for i, (_labels, inner) in enumerate(instances):
                    self.check_body(inner, meta.blocks[name], f"{address}.{name}[{i}]")
                continue
            sub = self.nested_schema(name, schema)
            if sub is None:
                self.unknown_block(name, schema, meta, f"{address}.{name}")
                continue
            present_blocks.add(name)
            if name in args:
                block_syntax_args.add(name)
            for i, (_labels, inner) in enumerate(instances):
                self.check_body(inner, sub, f"{address}.{name}[{i}]")

        for name, spec in args.items():
            if spec.get("required") and name not in attrs and name not in block_syntax_args:
                self.add(MISSING_REQUIRED_ARGUMENT, f"{address}.{name}",
                         f"the argument {name!r} is required, but was not set")
        for name, spec in blocks.items():
            if spec.get("required") and name not in present_blocks:
                self.add(MISSING_REQUIRED_BLOCK, f"{address}.{name}",
                         f"at least one {name!r} block is required")

    @staticmethod
    def nested_schema(name: str, schema: dict) -> dict | None:
        """Schema of block ``name`` in ``schema`` (also list/set-of-object
        arguments, which Terraform accepts in block syntax)."""
        spec = schema.get("blocks", {}).get(name)
        if spec is not None:
            return spec.get("schema") or _OPEN
        spec = schema.get("args", {}).get(name)
        if spec is not None and spec.get("block_syntax"):
            return spec.get("schema") or _OPEN
        return None

    def unknown_block(self, name: str, schema: dict, meta: _Meta, address: str) -> None:
        if name in schema.get("args", {}):
            hint = f"; {name!r} is an argument: write `{name} = ...`"
        else:
            hint = _suggest(name, list(schema.get("blocks", {})) + list(meta.blocks))
        self.add(UNKNOWN_BLOCK, address, f"blocks of type {name!r} are not expected here{hint}")

    def check_dynamic(self, label: str, body: dict, parent: dict, parent_address: str) -> bool:
        """Check ``dynamic "label" {...}``; True if it generates a known block."""
        address = f"{parent_address}.dynamic.{label}"
        sub = self.nested_schema(label, parent)
        if sub is None:
            self.unknown_block(label, parent, _NO_META, address)
            return False
        attrs, nested = _split_body(body)
        for name in attrs:
            if name not in _DYNAMIC_ARGS:
                self.add(UNKNOWN_ARGUMENT, f"{address}.{name}",
                         f"unsupported argument {name!r} in a dynamic block "
                         f"(allowed: for_each, iterator, labels, content){_suggest(name, _DYNAMIC_ARGS)}")
        for name, required in _DYNAMIC_ARGS.items():
            if required and name not in attrs:
                self.add(MISSING_REQUIRED_ARGUMENT, f"{address}.{name}",
                         f"the argument {name!r} is required in a dynamic block")
        for name, instances in nested.items():
            if name != "content":
                self.add(UNKNOWN_BLOCK, f"{address}.{name}",
                         f"blocks of type {name!r} are not expected in a dynamic block (only content)")
                continue
            for i, (_labels, inner) in enumerate(instances):
                self.check_body(inner, sub, f"{address}.content" if len(instances) == 1 else f"{address}.content[{i}]")
        if "content" not in nested:
            self.add(MISSING_REQUIRED_BLOCK, f"{address}.content", "a dynamic block requires a content block")
        return True


def check_text(text: str, providers: Iterable[str] | None = None, *, filename: str | None = None) -> list[Finding]:
    """Check one HCL document.

    ``providers``: short names of the providers the configuration may use
    (default: every bundled schema); a resource/data source/provider block of
    any other provider is reported as ``unknown_provider``.  ``filename``
    is only used to label findings and parse errors.  Raises
    :class:`HclParseError` if the text cannot be parsed."""
    checker = _Checker(providers, filename)
    checker.check_document(_parse(text, filename))
    return checker.findings


PathLike = Union[str, Path]


def _expand(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(
                f for f in p.rglob("*.tf")
                if f.is_file() and ".terraform" not in f.relative_to(p).parts
            ))
        else:
            out.append(p)
    return out


def check_files(paths: PathLike | Iterable[PathLike], providers: Iterable[str] | None = None) -> list[Finding]:
    """Check .tf files together (a module may span several files).

    ``paths``: files and/or directories (directories are searched
    recursively for ``*.tf``, skipping ``.terraform``).  Findings are in
    file order, then per block (resources, data sources, providers), each
    labeled with its file."""
    providers = None if providers is None else list(providers)
    findings: list[Finding] = []
    for path in _expand(paths):
        findings.extend(check_text(path.read_text(encoding="utf-8"), providers, filename=str(path)))
    return findings


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m generator.schema_check",
        description="Check Terraform files against the bundled provider schemas.",
    )
    ap.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    ap.add_argument("--provider", action="append", dest="providers", metavar="NAME",
                    help="allowed provider (repeatable); default: all bundled: " + ", ".join(available_providers()))
    args = ap.parse_args(argv)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        findings = check_files(args.paths, args.providers)
    except HclParseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
