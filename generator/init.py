"""``gen-tf init``: a commented config file naming every option, as the flags name it.

Each option of the generate command becomes a key spelled like its flag
(``k8s-version``), commented out with its help text, except the ones given to
``init`` itself, which are written as values. ``--config`` reads the result
(hyphens and underscores are the same key there). The text comes from the
command's own option definitions, so the file and the flags cannot drift apart.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

# Options that are not settings of a module (they say what to do with it).
NOT_CONFIG = {"config_file", "out_dir", "output_file", "check", "dry_run", "report_format", "force", "version", "help"}


def _yaml_value(value: Any) -> str:
    """A YAML flow value that reads back as the same string, number, boolean or list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def config_text(command: click.Command, values: dict[str, Any]) -> str:
    """The config file: a header, then a commented block per option (values given are set)."""
    lines = [
        "# gen-tf configuration: every option of `gen-tf --cloud ... --env ... --products ...`,",
        "# spelled as its flag. Use it with `gen-tf --config THIS_FILE [--out-dir DIR]`; flags",
        "# given on the command line override it. cloud, env and products are required.",
        "",
    ]
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in NOT_CONFIG or param.name is None:
            continue
        # The key is the long flag's name (--admin-cidr: admin-cidr); tags are one mapping.
        key = "tags" if param.name == "tags" else max(param.opts, key=len).lstrip("-")
        lines += ["# " + line for line in textwrap.wrap(param.help or "", 88)]
        if param.name in values and values[param.name] not in (None, (), {}):
            lines.append(f"{key}: {_yaml_value(values[param.name])}")
        else:
            example = {
                "tags": "{team: ml-platform}",
                "catalog": "[overlay.yaml]",
                "standby": "true",
                "prevent-destroy": "true",
                "private-endpoint": "false",
                "air-gapped": "false",
            }.get(key, "[]" if param.multiple else '""')
            lines.append(f"# {key}: {example}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
