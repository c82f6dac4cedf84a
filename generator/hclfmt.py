"""Lay out rendered HCL the way ``terraform fmt`` does, so output is fmt-clean by construction.

Templates are written for readability; this pass owns the two layout rules that
depend on values (and so cannot be right in a template): indentation by bracket
nesting, and the alignment of ``=`` across consecutive single-line attributes.
It follows hclwrite's rules (the formatter behind ``terraform fmt``):

* a line's indent is two spaces per open multi-line bracket group; a line that
  opens brackets opens one group, however many brackets it opens, and closing
  brackets at its start close groups first;
* ``=`` signs align across a run of consecutive lines that each hold one
  complete ``name = value`` attribute; a blank line, a comment line, a block
  header, a closing bracket or an attribute whose value opens a multi-line
  bracket ends the run.

It also trims trailing whitespace and folds runs of blank lines into one. Tests
prove the result with ``terraform fmt -check``; gen-tf itself never needs
terraform.
"""

from __future__ import annotations

from dataclasses import dataclass

_OPEN = "([{"
_CLOSE = ")]}"


@dataclass
class _Line:
    text: str  # stripped content
    net: int  # bracket change over the line
    leading_closers: int
    assign: int  # index of the attribute's "=", or -1


def _scan(text: str) -> _Line:
    """Bracket balance and the top-level ``=`` of one stripped line, skipping strings and comments."""
    net = 0
    depth = 0
    assign = -1
    leading = 0
    seen_other = False
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i = _skip_string(text, i + 1)
            seen_other = True
            continue
        if ch == "#" or text.startswith("//", i):
            break
        if ch in _OPEN:
            net += 1
            depth += 1
            seen_other = True
        elif ch in _CLOSE:
            net -= 1
            depth -= 1
            if not seen_other:
                leading += 1
        elif ch == "=" and depth == 0 and assign < 0:
            prev = text[i - 1] if i else ""
            nxt = text[i + 1] if i + 1 < n else ""
            if prev not in "=!<>" and nxt not in "=>":
                assign = i
            seen_other = True
        elif not ch.isspace():
            seen_other = True
        i += 1
    return _Line(text=text, net=net, leading_closers=leading, assign=assign)


def _skip_string(text: str, i: int) -> int:
    """Index just past the string that starts before ``i`` (handles escapes and ``${...}``)."""
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            depth = 1
            i += 2
            while i < n and depth:
                if text[i] == '"':
                    i = _skip_string(text, i + 1)
                    continue
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                i += 1
            continue
        i += 1
    return i


def format_hcl(source: str) -> str:
    """Return ``source`` indented and aligned as ``terraform fmt`` would leave it."""
    lines: list[_Line | None] = []
    blank_pending = False
    for raw in source.splitlines():
        stripped = raw.strip()
        if not stripped:
            blank_pending = bool(lines)
            continue
        if blank_pending:
            lines.append(None)
            blank_pending = False
        lines.append(_scan(stripped))

    # Indentation: a stack of bracket counts, one entry per multi-line group.
    out: list[list[str]] = []  # [indent, name, rest] or [indent, text]
    groups: list[int] = []
    for line in lines:
        if line is None:
            out.append([])
            continue
        if line.net > 0:
            indent = len(groups)
            groups.append(line.net)
        elif line.net < 0:
            closed = -line.net
            while closed > 0 and groups:
                if closed >= groups[-1]:
                    closed -= groups.pop()
                else:
                    groups[-1] -= closed
                    closed = 0
            indent = len(groups)
        else:
            indent = len(groups)
        pad = "  " * indent
        if line.assign >= 0 and line.net == 0:
            name = line.text[: line.assign].rstrip()
            value = line.text[line.assign + 1 :].lstrip()
            out.append([pad, name, value])
        elif line.assign >= 0 and line.net > 0:
            name = line.text[: line.assign].rstrip()
            value = line.text[line.assign + 1 :].lstrip()
            out.append([pad + name + " = " + value])
        else:
            out.append([pad + line.text])

    # Alignment of "=" across runs of single-line attributes.
    result: list[str] = []
    run: list[list[str]] = []

    def flush() -> None:
        if not run:
            return
        width = max(len(pad) + len(name) for pad, name, _ in run)
        for pad, name, value in run:
            result.append(f"{pad}{name}{' ' * (width - len(pad) - len(name))} = {value}")
        run.clear()

    for item in out:
        if len(item) == 3:
            run.append(item)
            continue
        flush()
        result.append(item[0] if item else "")
    flush()
    while result and result[-1] == "":
        result.pop()
    return "\n".join(result) + "\n"
