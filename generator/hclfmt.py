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

It also trims trailing whitespace, folds runs of blank lines into one and drops
blank lines just inside a block's brackets. Tests
prove the result with ``terraform fmt -check``; gen-tf itself never needs
terraform.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# What matters to layout on one line, leftmost first: a string with no
# interpolation (skipped whole), the start of any other string (skipped by
# _skip_string), a comment, a bracket, and "=".
_TOKEN = re.compile(r'"(?:[^"\\$%]|\\.|[$%](?!\{))*"|"|#|//|[()\[\]{}]|=')
_OPEN = "([{"


class _Line(NamedTuple):
    text: str  # stripped content
    net: int  # bracket change over the line
    leading_closers: int
    assign: int  # index of the attribute's "=", or -1


def _scan(text: str) -> _Line:
    """Bracket balance and the top-level ``=`` of one stripped line, skipping strings and comments."""
    net = 0
    assign = -1
    leading = 0
    seen_other = False
    pos = 0
    search = _TOKEN.search
    while (match := search(text, pos)) is not None:
        token = match.group()
        start = match.start()
        if not seen_other and start > pos and not text[pos:start].isspace():
            seen_other = True
        pos = match.end()
        first = token[0]
        if first == '"':
            if len(token) == 1:
                pos = _skip_string(text, pos)
            seen_other = True
        elif token == "#" or token == "//":
            break
        elif first in _OPEN:
            net += 1
            seen_other = True
        elif first in ")]}":
            net -= 1
            if not seen_other:
                leading += 1
        else:  # "=": an assignment unless part of ==, !=, <=, >= or =>
            if (
                net == 0
                and assign < 0
                and 0 < start < len(text) - 1
                and text[start - 1] not in "=!<>"
                and text[start + 1] not in "=>"
            ):
                assign = start
            seen_other = True
    return _Line(text, net, leading, assign)


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
        line = _scan(stripped)
        # A blank line right inside a block's brackets (after its opening line, before its
        # closing one) is dropped: terraform fmt keeps either, and optional template parts
        # (a lifecycle block only in prod) leave no gap behind.
        if blank_pending and stripped[0] not in "}])" and not (lines[-1] is not None and lines[-1].net > 0):
            lines.append(None)
        blank_pending = False
        lines.append(line)

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
