"""The documentation files written beside a module: README.md and terraform.tfvars.example.

Variables and outputs are read back from the rendered HCL (gen-tf's own,
fmt-clean output, so a small line scanner suffices and no HCL parser is needed
at run time).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{$')
_ATTR = re.compile(r"^  ([a-z_]+)\s*= (.*)$")


@dataclass(frozen=True)
class Field:
    kind: str
    name: str
    type: str
    description: str
    default: str | None  # HCL text, None when required
    sensitive: bool


def scan(text: str) -> list[Field]:
    """Variables and outputs of a rendered module, in order."""
    fields: list[Field] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _BLOCK.match(lines[i])
        if not match:
            i += 1
            continue
        kind, name = match.groups()
        attrs: dict[str, str] = {}
        i += 1
        while i < len(lines) and lines[i] != "}":
            attr = _ATTR.match(lines[i])
            if attr:
                key, value = attr.groups()
                if value.rstrip().endswith(("{", "[", "(")):
                    body = [value]
                    depth = 1
                    while depth and i + 1 < len(lines):
                        i += 1
                        body.append(lines[i].strip())
                        if lines[i].startswith("  ") and not lines[i].startswith("   ") and lines[i].strip()[:1] in "}])":
                            depth = 0
                    value = " ".join(body)
                attrs[key] = value
            i += 1
        fields.append(
            Field(
                kind=kind,
                name=name,
                type=attrs.get("type", ""),
                description=_unquote(attrs.get("description", '""')),
                default=attrs.get("default"),
                sensitive=attrs.get("sensitive") == "true",
            )
        )
        i += 1
    return fields


def _unquote(text: str) -> str:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def tfvars_example(fields: list[Field], header_lines: list[str]) -> str:
    lines = [f"# {line}" for line in header_lines] + [
        "#",
        "# Copy to terraform.tfvars and set what differs from the defaults.",
        "# Required variables are uncommented; the others show their default.",
        "",
    ]
    for field in fields:
        if field.kind != "variable":
            continue
        lines.append(f"# {field.description}")
        if field.sensitive:
            lines.append(f"# {field.name}: sensitive; keep it out of files: export TF_VAR_{field.name}=...")
        elif field.default is None:
            lines.append(f"{field.name} = {_placeholder(field.type)}")
        else:
            lines.append(f"# {field.name} = {field.default}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _placeholder(type_text: str) -> str:
    if type_text.startswith(("list", "set")):
        return "[]"
    if type_text.startswith(("map", "object")):
        return "{}"
    if type_text == "number":
        return "0"
    if type_text == "bool":
        return "false"
    return '"CHANGE-ME"'


def readme_context(fields: list[Field]) -> dict[str, Any]:
    return {
        "inputs": [f for f in fields if f.kind == "variable"],
        "outputs": [f for f in fields if f.kind == "output"],
    }
