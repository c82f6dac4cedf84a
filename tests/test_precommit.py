"""Issue 12 §4: the README's pre-commit snippet works as written.

The snippet is taken from README.md, its two placeholders (the repository and the commit
to pin) filled with a copy of this checkout, and run by pre-commit itself: the hook passes
on a freshly generated module directory and fails, with a diff, once a generated file is
edited. pre-commit installs gen-tf from that commit into its own environment, as it will
for a team.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def snippet() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(r"\n(    - repo: .*?)\n\n", text, re.S)
    assert match, "README.md has no pre-commit snippet"
    return "\n".join(line[4:] for line in match.group(1).splitlines()) + "\n"


def test_the_readme_pre_commit_snippet_checks_a_module(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to test the pre-commit hook")
    # The hook's repository: this checkout's files (committed or not) as one commit.
    hooks = tmp_path / "gen-tf"
    hooks.mkdir()
    files = git("ls-files", "-co", "--exclude-standard", "-z", cwd=REPO).split("\0")
    for rel in filter(None, files):
        source = REPO / rel
        if source.is_file():
            (hooks / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, hooks / rel)
    git("init", "-q", cwd=hooks)
    git("add", "-A", cwd=hooks)
    git("commit", "-q", "-m", "gen-tf", cwd=hooks)
    sha = git("rev-parse", "HEAD", cwd=hooks)

    project = tmp_path / "platform"
    (project / "infra").mkdir(parents=True)
    (project / "infra" / "gen-tf.yaml").write_text("cloud: aws\nenv: dev\nproducts: models\ndomain: wandb.example.com\n")
    gen_tf = [sys.executable, "-m", "generator.cli"]
    made = subprocess.run([*gen_tf, "--config", "infra/gen-tf.yaml", "--out-dir", "infra"], cwd=project, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    config = snippet()
    config = re.sub(r"<URL of your gen-tf repository or mirror>", str(hooks), config)
    config = re.sub(r"rev: <[^>]*>", f"rev: {sha}", config)
    assert "<" not in config, config
    (project / ".pre-commit-config.yaml").write_text("repos:\n" + config)
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "module", cwd=project)

    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    run = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
    clean = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "gen-tf module is up to date" in clean.stdout and "Passed" in clean.stdout

    variables = project / "infra" / "variables.tf"
    variables.write_text(variables.read_text().replace('default     = "us-east-1"', 'default     = "eu-west-1"', 1))
    drift = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "Failed" in drift.stdout and '-  default     = "eu-west-1"' in drift.stdout
