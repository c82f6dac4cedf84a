"""The README documents what the CLI has: every option and subcommand, the hook it shows, the
make targets its first lines run (issue 12 §4)."""

from __future__ import annotations

import re

import click
import yaml

from conftest import REPO
from generator.cli import cli, generate

README = (REPO / "README.md").read_text()


def test_every_generate_option_is_in_the_usage_table() -> None:
    usage = README.split("## Usage", 1)[1].split("\n## ", 1)[0]
    missing = []
    for param in generate.params:
        if isinstance(param, click.Option) and param.name not in ("version", "help"):
            flags = param.opts + param.secondary_opts
            if not any(f"`{flag}" in usage or f" {flag}`" in usage or f"{flag}\\|" in usage or f"/{flag}`" in usage for flag in flags):
                missing.append(flags[0])
    assert missing == []


def test_every_subcommand_is_documented() -> None:
    commands = set(cli.commands) - {"generate"}
    documented = set(re.findall(r"`gen-tf ([a-z-]+)", README))
    assert commands - documented == set()


def test_first_lines_run_make_targets_that_exist() -> None:
    makefile = (REPO / "Makefile").read_text()
    first = [line.split("#")[0].split() for line in README.splitlines()[2:4]]
    assert [words[:1] for words in first] == [["make"], ["make"]]
    for words in first:
        assert re.search(rf"^{words[1]}:", makefile, re.M), f"make {words[1]} is not a target"


def test_the_pre_commit_snippet_names_the_shipped_hook() -> None:
    hooks = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    shown = re.search(r"- id: ([a-z-]+)\n\s+args: \[([^\]]*)\]", README)
    assert shown and shown.group(1) in hooks
    # The snippet pins a commit and says how (no release tag exists to pin).
    assert "rev: <full commit SHA" in README
