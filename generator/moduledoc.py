"""The documentation files written beside a module: README.md and terraform.tfvars.example.

Everything documented is read back from the rendered HCL (gen-tf's own, fmt-clean
output, so a small line scanner suffices and no HCL parser is needed at run
time): variables and outputs, the resources and data sources, and the Terraform
and provider version constraints of versions.tf.

The README's reference part sits between ``<!-- BEGIN_TF_DOCS -->`` and
``<!-- END_TF_DOCS -->`` in terraform-docs' layout (Requirements, Providers,
Modules, Resources, Inputs, Outputs), so a team that runs terraform-docs over the
module rewrites only that part and leaves the hand-written one above it alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{$')
_ATTR = re.compile(r"^  ([a-z_]+)\s*= (.*)$")
_RESOURCE = re.compile(r'^(resource|data) "([^"]+)" "([^"]+)" \{\}?$')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)$")
_OPENERS = ("{", "[", "(")

PLACEHOLDER = "CHANGE-ME"


@dataclass(frozen=True)
class Field:
    kind: str
    name: str
    type: str  # HCL text; a multi-line type keeps its lines, indented as at the top level
    description: str
    default: str | None  # HCL text (multi-line like type), None when required
    sensitive: bool

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Resource:
    mode: str  # "resource" or "data"
    type: str
    name: str

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}" if self.mode == "resource" else f"data.{self.type}.{self.name}"


@dataclass(frozen=True)
class Requirement:
    name: str  # "terraform" or a provider's local name
    source: str  # "" for terraform
    version: str


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
                value, i = _value(value, lines, i)
                attrs[key] = value
            elif lines[i].startswith("  ") and lines[i].rstrip().endswith("{"):
                i = _skip_block(lines, i)  # validation { ... }: conditions are not documented
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


def _value(first: str, lines: list[str], i: int) -> tuple[str, int]:
    """An attribute's value starting on line ``i``: one line, or (an open bracket, a heredoc) every
    line up to the one at the attribute's indent that closes it, dedented to the top level."""
    first = first.rstrip()
    heredoc = _HEREDOC.search(first)
    if heredoc:
        body = [first]
        while i + 1 < len(lines):
            i += 1
            body.append(lines[i])
            if lines[i].strip() == heredoc.group(1):
                break
        return "\n".join(body), i
    if not first.endswith(_OPENERS):
        return first, i
    body = [first]
    while i + 1 < len(lines):
        i += 1
        line = lines[i]
        body.append(line[2:] if line.startswith("  ") else line.lstrip())
        if line.startswith("  ") and not line.startswith("   ") and line.strip()[:1] in "}])":
            break
    return "\n".join(body), i


def _skip_block(lines: list[str], i: int) -> int:
    """The index of the line closing the nested block opened on line ``i`` (same indent)."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    closing = " " * indent + "}"
    while i + 1 < len(lines):
        i += 1
        if lines[i] == closing:
            break
    return i


def _unquote(text: str) -> str:
    """A string literal's value: a quoted string's, or a heredoc's lines (<<- ones dedented)."""
    heredoc = _HEREDOC.search(text.split("\n", 1)[0])
    if heredoc and "\n" in text:
        body = text.split("\n")[1:-1]
        if text.startswith("<<-"):
            indent = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
            body = [line[indent:] for line in body]
        return "\n".join(body)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def scan_resources(text: str) -> list[Resource]:
    """Every resource and data source declared at the top level, in terraform-docs' order:
    managed resources, then data sources, each by type and name."""
    found = {Resource(*m.groups()) for line in text.splitlines() if (m := _RESOURCE.match(line))}
    return sorted(found, key=lambda r: (r.mode != "resource", r.type, r.name))


def scan_requirements(text: str) -> list[Requirement]:
    """required_version and each entry of required_providers, from a terraform block."""
    found: list[Requirement] = []
    lines = text.splitlines()
    in_providers = False
    current: dict[str, str] = {}
    name = ""
    for line in lines:
        stripped = line.strip()
        if line.startswith("  required_version"):
            found.append(Requirement("terraform", "", _unquote(stripped.split("=", 1)[1].strip())))
        elif line == "  required_providers {":
            in_providers = True
        elif in_providers and line == "  }":
            in_providers = False
        elif in_providers and re.fullmatch(r"    [A-Za-z0-9_-]+ = \{", line):
            name, current = stripped.split(" ", 1)[0], {}
        elif in_providers and line.startswith("      ") and "=" in stripped:
            key, value = (part.strip() for part in stripped.split("=", 1))
            current[key] = _unquote(value)
        elif in_providers and line == "    }" and name:
            found.append(Requirement(name, current.get("source", ""), current.get("version", "")))
            name = ""
    return found


# ---- terraform.tfvars.example ------------------------------------------------------


def tfvars_example(fields: list[Field], header_lines: list[str]) -> str:
    """Every variable with its description: required ones assigned a placeholder, sensitive ones
    only named (set them in the environment), the others as their commented default. Each
    commented example is valid HCL once its lines lose their leading ``# ``."""
    lines = [f"# {line}" for line in header_lines] + [
        "#",
        "# Copy to terraform.tfvars and set the required variables (uncommented, with a",
        f"# {PLACEHOLDER} placeholder). The other examples show the default: remove the",
        '# leading "# " of every line of one to change it.',
        "",
    ]
    for field in fields:
        if field.kind != "variable":
            continue
        lines += [f"# {line}".rstrip() for line in (field.description or field.name).splitlines()]
        if field.sensitive:
            lines.append(f"# {field.name}: sensitive; keep it out of files: export TF_VAR_{field.name}=...")
        elif field.default is None:
            lines += f"{field.name} = {placeholder(field.type)}".splitlines()
        else:
            lines += [f"# {line}".rstrip() for line in f"{field.name} = {field.default}".splitlines()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def placeholder(type_text: str) -> str:
    """A value of the type for a required variable: ``"CHANGE-ME"`` for each string, 0, false,
    empty collections, and an object with every attribute it must have (one per line)."""
    parsed, _ = _parse_type(_tokens(type_text), 0)
    return _placeholder_value(parsed, 0)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_][A-Za-z0-9_-]*|\"(?:[^\"\\]|\\.)*\"|-?[0-9][0-9.]*|[(){}\[\],=]", text)


def _parse_type(tokens: list[str], i: int) -> tuple[Any, int]:
    """A type expression as ("string",), ("list", elem), ("object", {name: (type, optional)}), ..."""
    if i >= len(tokens):
        return ("any",), i
    word = tokens[i]
    if word in ("list", "set", "map") and i + 1 < len(tokens) and tokens[i + 1] == "(":
        elem, i = _parse_type(tokens, i + 2)
        return (word, elem), _expect(tokens, i, ")")
    if word == "tuple":
        i = _expect(tokens, i + 1, "(")
        i = _expect(tokens, i, "[")
        elems = []
        while i < len(tokens) and tokens[i] != "]":
            elem, i = _parse_type(tokens, i)
            elems.append(elem)
            if i < len(tokens) and tokens[i] == ",":
                i += 1
        i = _expect(tokens, i, "]")
        return ("tuple", elems), _expect(tokens, i, ")")
    if word == "object":
        i = _expect(tokens, i + 1, "(")
        i = _expect(tokens, i, "{")
        attrs: dict[str, tuple[Any, bool]] = {}
        while i < len(tokens) and tokens[i] != "}":
            name = _unquote(tokens[i])
            i = _expect(tokens, i + 1, "=")
            optional = tokens[i] == "optional"
            if optional:
                attr, i = _parse_type(tokens, i + 2)
                while i < len(tokens) and tokens[i] != ")":  # optional(type, default): skip the default
                    i += 1
                i += 1
            else:
                attr, i = _parse_type(tokens, i)
            attrs[name] = (attr, optional)
            if i < len(tokens) and tokens[i] == ",":
                i += 1
        i = _expect(tokens, i, "}")
        return ("object", attrs), _expect(tokens, i, ")")
    return (word,), i + 1


def _expect(tokens: list[str], i: int, token: str) -> int:
    return i + 1 if i < len(tokens) and tokens[i] == token else i


def _placeholder_value(kind: Any, indent: int) -> str:
    name = kind[0]
    if name in ("list", "set", "tuple"):
        if name == "tuple" and kind[1]:
            return "[" + ", ".join(_placeholder_value(e, indent) for e in kind[1]) + "]"
        return "[]"
    if name == "map":
        return "{}"
    if name == "object":
        needed = {k: t for k, (t, optional) in kind[1].items() if not optional}
        if not needed:
            return "{}"
        pad = " " * (indent + 2)
        width = max(len(_object_key(k)) for k in needed)
        body = []
        for key, attr in needed.items():
            value = _placeholder_value(attr, indent + 2)
            # terraform fmt aligns "=" only across single-line attributes.
            shown = _object_key(key) if "\n" in value else _object_key(key).ljust(width)
            body.append(f"{pad}{shown} = {value}")
        return "{\n" + "\n".join(body) + "\n" + " " * indent + "}"
    if name == "number":
        return "0"
    if name == "bool":
        return "false"
    return json.dumps(PLACEHOLDER)


def _object_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else json.dumps(key)


# ---- README.md ----------------------------------------------------------------------


def cell(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped, newlines as <br>, and "<" as an entity (a
    description's "https://<domain>" would otherwise read as an HTML tag and vanish)."""
    return text.replace("<", "&lt;").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _pipes(text: str) -> str:
    return text.replace("|", "\\|")


def code_cell(text: str) -> str:
    """HCL text for a table cell: `inline code` on one line, <pre> over several (terraform-docs' way)."""
    if "\n" in text:
        return "<pre>" + cell(text) + "</pre>"
    if "`" in text:
        return "<code>" + cell(text) + "</code>"
    return "`" + _pipes(text) + "`"


def _anchor(kind: str, name: str) -> str:
    """terraform-docs' name cell: an anchor and a link to it."""
    escaped = name.replace("_", "\\_")
    return f'<a name="{kind}_{name}"></a> [{escaped}](#{kind}\\_{escaped})'


def tf_docs(files: dict[str, str]) -> str:
    """The terraform-docs section: Requirements, Providers, Modules, Resources, Inputs, Outputs."""
    fields = scan("".join(files[name] for name in ("variables.tf", "outputs.tf") if name in files))
    requirements = scan_requirements(files.get("versions.tf", ""))
    resources = scan_resources("".join(text for name, text in sorted(files.items()) if name.endswith(".tf")))
    inputs = sorted((f for f in fields if f.kind == "variable"), key=lambda f: f.name)
    outputs = sorted((f for f in fields if f.kind == "output"), key=lambda f: f.name)
    providers = sorted((r for r in requirements if r.name != "terraform"), key=lambda r: r.name)
    out = ["<!-- BEGIN_TF_DOCS -->", "## Requirements", "", "| Name | Version |", "|------|---------|"]
    terraform = [r for r in requirements if r.name == "terraform"]
    out += [f"| {_anchor('requirement', r.name)} | {_pipes(r.version)} |" for r in terraform + providers]
    out += ["", "## Providers", "", "| Name | Version |", "|------|---------|"]
    out += [f"| {_anchor('provider', r.name)} | {_pipes(r.version)} |" for r in providers]
    out += ["", "## Modules", "", "No modules.", "", "## Resources", ""]
    if resources:
        out += ["| Name | Type |", "|------|------|"]
        out += [f"| {r.type}.{r.name} | {'resource' if r.mode == 'resource' else 'data source'} |" for r in resources]
    else:
        out.append("No resources.")
    out += ["", "## Inputs", ""]
    if inputs:
        out += ["| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
        for f in inputs:
            default = "n/a" if f.default is None else code_cell(f.default)
            description = cell(f.description) + (" (sensitive)" if f.sensitive else "")
            out.append(
                f"| {_anchor('input', f.name)} | {description} | {code_cell(f.type or 'any')} | {default} | "
                f"{'yes' if f.required else 'no'} |"
            )
    else:
        out.append("No inputs.")
    out += ["", "## Outputs", ""]
    if outputs:
        out += ["| Name | Description |", "|------|-------------|"]
        out += [
            f"| {_anchor('output', f.name)} | {cell(f.description)}{' (sensitive)' if f.sensitive else ''} |"
            for f in outputs
        ]
    else:
        out.append("No outputs.")
    out.append("<!-- END_TF_DOCS -->")
    return "\n".join(out)


def protected(text: str) -> list[str]:
    """Addresses of the resources whose lifecycle holds ``prevent_destroy = true``, sorted."""
    found: set[str] = set()
    current = None
    for line in text.splitlines():
        match = _RESOURCE.match(line)
        if match:
            current = Resource(*match.groups()).address
        elif line == "}":
            current = None
        elif current and line.strip() == "prevent_destroy = true":
            found.add(current)
    return sorted(found)


def readme_context(plan: Any, files: dict[str, str], cost_line: str = "") -> dict[str, Any]:
    """What templates/module_readme.md.j2 reads besides the plan."""
    fields = scan("".join(files[name] for name in ("variables.tf", "outputs.tf") if name in files))
    code = "".join(text for name, text in sorted(files.items()) if name.endswith(".tf"))
    return {
        "plan": plan,
        "inputs": [f for f in fields if f.kind == "variable"],
        "outputs": [f for f in fields if f.kind == "output"],
        "required": [f for f in fields if f.kind == "variable" and f.required and not f.sensitive],
        "sensitive": [f for f in fields if f.kind == "variable" and f.sensitive],
        "protected": protected(code),
        "controllers": [c for c in plan.app_charts.values() if plan.cloud in c.clouds],
        "tf_docs": tf_docs(files),
        "cost_line": cost_line.strip(),
    }
