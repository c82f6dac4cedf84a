"""Terraform's own verdicts on the output: fmt on every module, validate on every AWS module,
and the variables' validation rules evaluated by terraform itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import COMBOS, DOMAIN_ARGS, generate, terraform, terraform_or_skip

pytestmark = pytest.mark.terraform

AWS_COMBOS = [(e, p) for e in ("dev", "test", "prod") for p in ("models", "weave", "both")]


def _cloud_ready(cloud: str) -> bool:
    from generator.resources import data_dir

    return (data_dir("templates") / cloud / "cluster.tf.j2").exists()


@pytest.mark.parametrize("cloud,env,products", COMBOS)
@pytest.mark.parametrize("with_zone", [True, False], ids=["zone", "nozone"])
def test_fmt_clean(tmp_path: Path, cloud: str, env: str, products: str, with_zone: bool) -> None:
    terraform_or_skip()
    extra = DOMAIN_ARGS if with_zone else ()
    (tmp_path / "main.tf").write_text(generate(cloud, env, products, *extra))
    proc = terraform(["fmt", "-check", "-diff", "-no-color", "main.tf"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("env,products", AWS_COMBOS)
@pytest.mark.parametrize("with_zone", [True, False], ids=["zone", "nozone"])
def test_aws_validates(aws_workdir: Path, env: str, products: str, with_zone: bool) -> None:
    extra = DOMAIN_ARGS if with_zone else ()
    (aws_workdir / "main.tf").write_text(generate("aws", env, products, *extra))
    proc = terraform(["validate", "-json", "-no-color"], aws_workdir)
    result = json.loads(proc.stdout)
    assert result["valid"] is True, json.dumps(result["diagnostics"], indent=1)
    assert result["error_count"] == 0
    assert result["warning_count"] == 0, json.dumps(result["diagnostics"], indent=1)


@pytest.mark.parametrize("extra", [
    ("--allowed-cidr", "203.0.113.0/24"),
    ("--allowed-cidr", "203.0.113.0/24", "--air-gapped", "--image-registry", "registry.corp.example/wandb"),
    ("--admin-cidr", "198.51.100.0/24", "--alarm-email", "ops@example.com"),
], ids=["narrowed", "narrowed-air-gapped", "admin"])
def test_aws_network_variants_validate(aws_workdir: Path, extra: tuple[str, ...]) -> None:
    (aws_workdir / "main.tf").write_text(generate("aws", "prod", "both", *DOMAIN_ARGS, *extra))
    proc = terraform(["validate", "-json", "-no-color"], aws_workdir)
    result = json.loads(proc.stdout)
    assert result["valid"] is True and result["warning_count"] == 0, json.dumps(result["diagnostics"], indent=1)


def test_validate_catches_a_broken_module(aws_workdir: Path, tmp_path: Path) -> None:
    """The check above can fail: a wrong argument makes terraform say invalid."""
    broken = tmp_path / "broken"
    shutil.copytree(aws_workdir, broken, symlinks=True)
    text = generate("aws", "dev", "models").replace("enable_key_rotation     = true", "enable_key_rotation = true\n  key_rotation_colour = 1")
    (broken / "main.tf").write_text(text)
    proc = terraform(["validate", "-json", "-no-color"], broken)
    assert json.loads(proc.stdout)["valid"] is False


# ---- variable validation rules, evaluated by terraform ----------------------

def _variables_only(cloud: str, tmp: Path) -> Path:
    """Just the variables of a module, so terraform can plan it without any provider."""
    from generator.catalog import load_catalog
    from generator.options import parse_options
    from generator.plan import build_plan
    from generator.render import render_topic

    plan = build_plan(parse_options({"cloud": cloud, "env": "prod", "products": "both"}), load_catalog(cloud))
    (tmp / "variables.tf").write_text(render_topic(cloud, "variables", plan.context()))
    return tmp


# Sample values for variables a module requires (no default), so terraform can plan it.
SAMPLES = {
    "domain": "wandb.example.com",
    "project_id": "wandb-project-123",
    "subscription_id": "00000000-0000-0000-0000-000000000000",
}


@pytest.mark.parametrize(
    "cloud,assignment,ok",
    [
        (c, a, ok)
        for c in ("aws", "gcp", "azure")
        for a, ok in (
            ("kubernetes_version=1.28", False),
            # Issue 11: only the minors the cloud still creates on the catalog's date (all offer 1.35).
            ("kubernetes_version=1.29", False),
            ("kubernetes_version=1.35", True),
            ("kubernetes_version=1.37", False),
            ("kubernetes_version=latest", False),
            ("mysql_version=5.7", False),
            ("mysql_version=8.0", True),
            ("mysql_version=8.4", True),
            # Issue 10: who the alarm reaches, with the same rules as --alarm-email.
            ('alarm_emails=["ops@example.com"]', True),
            ('alarm_emails=["not-an-address"]', False),
            ("alarm_webhook_url=http://insecure.example", False),
            ("alarm_webhook_url=https://hooks.example/alert", True),
            ("backup_retention_days=3", False),
            ("backup_retention_days=7", True),
            ("name=Bad_Name", False),
            ("name=abcdefghijklmnopqrst", True),  # 20 characters
            ("name=a-b", True),  # 3 characters with a hyphen, as --name allows
            ("name=x-1", True),
            ("name=ab", False),
            ("name=ab-", False),
            ("name=a--b", False),
            ("name=abcdefghijklmnopqrstu", False),  # 21
            ("name=a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t", False),  # 39, single hyphens
            ("name=sthree-abc", False),  # S3 reserves the prefix
            ("name=amzn-s3-demo-x", False),
            ("name=googly", False),  # Cloud Storage refuses goog...
            ("name=my-google-ml", False),
            ("domain=" + "a" * 59 + ".x.io", True),  # 64 characters: a certificate's common name
            ("domain=" + "a" * 60 + ".x.io", False),  # 65
        )
    ],
)
def test_variable_rules_hold_in_terraform(tmp_path: Path, cloud: str, assignment: str, ok: bool) -> None:
    """R-K8S-4, R-DB-1, R-DB-2: the module itself refuses what the CLI refuses."""
    if not _cloud_ready(cloud):
        pytest.skip(f"{cloud} templates are not written yet")
    work = _variables_only(cloud, tmp_path)
    required = _required_variables((work / "variables.tf").read_text())
    unknown = set(required) - set(SAMPLES)
    assert not unknown, f"add sample values for required variables {unknown}"
    samples = [f"-var={name}={SAMPLES[name]}" for name in required]
    args = ["plan", "-input=false", "-no-color", "-refresh=false", *samples, f"-var={assignment}"]
    proc = terraform(args, work)
    if ok:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0
        assert "Invalid value for variable" in proc.stderr


def _required_variables(text: str) -> list[str]:
    from conftest import blocks, parse

    return [name for name, body in blocks(parse(text), "variable").items() if "default" not in body]
