"""A non-editable wheel ships its templates and catalogs: gen-tf works from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def test_wheel_works_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("gen_tf-*.whl"))

    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr
    assert (target / "generator" / "templates" / "aws" / "cluster.tf.j2").is_file()
    assert (target / "generator" / "catalogs" / "aws.yaml").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import generator, sys; sys.stdout.write(generator.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60,
    )
    assert where.stdout.startswith(str(target)), where.stdout  # not the checkout
    script = target / "bin" / "gen-tf"
    run = subprocess.run(
        [str(script), "--cloud", "aws", "--env", "prod", "--products", "both"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert 'resource "aws_eks_cluster" "this"' in run.stdout
