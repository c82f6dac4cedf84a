"""Issue 12 §4: `gen-tf init` writes a commented gen-tf.yaml naming every option as the flags do."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml

from conftest import run_cli
from generator.cli import generate
from generator.init import NOT_CONFIG


def config_keys() -> set[str]:
    """The key each setting of the generate command has in a config file (its flag, without dashes)."""
    keys = set()
    for param in generate.params:
        if isinstance(param, click.Option) and param.name not in NOT_CONFIG:
            flag = max(param.opts, key=len)
            keys.add(flag.lstrip("-"))
    return keys


def test_init_then_config_gives_the_same_module(tmp_path: Path, capsys) -> None:
    config = tmp_path / "gen-tf.yaml"
    code, out, err = run_cli(["init", "--cloud", "gcp", "--env", "prod", "--products", "weave", "-o", str(config)], capsys)
    assert code == 0 and out == "" and f"wrote {config}" in err
    text = config.read_text()
    assert yaml.safe_load(text) == {"cloud": "gcp", "env": "prod", "products": "weave"}
    code, from_config, err = run_cli(["--config", str(config)], capsys)
    assert code == 0, err
    code, from_flags, _ = run_cli(["--cloud", "gcp", "--env", "prod", "--products", "weave"], capsys)
    assert code == 0 and from_config == from_flags


def test_every_option_is_named_and_each_example_reads_back(tmp_path: Path, capsys) -> None:
    text = run_cli(["init", "-o", "-"], capsys)[1]
    # One block per option, help text first; its last line is the key, set or commented out.
    last_lines = [block.splitlines()[-1] for block in text.split("\n\n")[1:]]
    named = {re.match(r"^(?:# )?([a-z][a-z0-9-]*): ", line).group(1) for line in last_lines}
    # Every setting of the generate command has its key, spelled as its flag (--tag is the
    # config's `tags` mapping).
    wanted = {"tags" if k == "tag" else k for k in config_keys()}
    assert wanted - named == set() and named - wanted == set()
    # Each commented example, uncommented, is a value --config accepts for that key.
    examples = dict(re.match(r"^# ([a-z][a-z0-9-]*): (.+)$", line).groups() for line in last_lines)
    for key, value in examples.items():
        if value == '""':
            continue  # a free-text placeholder: the user types the value
        config = tmp_path / f"{key}.yaml"
        config.write_text(f"cloud: aws\nenv: dev\nproducts: models\n{key}: {value}\n")
        if key == "catalog":
            (tmp_path / "overlay.yaml").write_text("{}\n")
        code, _, err = run_cli(["--config", str(config)], capsys)
        assert code == 0, f"{key}: {value}: {err}"


def test_init_never_overwrites_unasked(tmp_path: Path, capsys) -> None:
    config = tmp_path / "gen-tf.yaml"
    config.write_text("cloud: aws  # mine\n")
    code, out, err = run_cli(["init", "--cloud", "azure", "-o", str(config)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "exists; pass --force" in err
    assert config.read_text() == "cloud: aws  # mine\n"
    code, _, _ = run_cli(["init", "--cloud", "azure", "-o", str(config), "--force"], capsys)
    assert code == 0 and yaml.safe_load(config.read_text()) == {"cloud": "azure"}
