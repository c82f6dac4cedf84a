"""Tests for generator.schema_check (offline provider-schema checker) and the
schema files produced by tools/extract_schemas.py.

The terraform-backed tests check that, for AWS (the one provider in the local
mirror), the checker and ``terraform validate`` agree, and that the schema
extracted from the cdktf jsii assembly matches ``terraform providers schema``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from generator import schema_check
from generator.schema_check import Finding, HclParseError, check_files, check_text, load_schema

REPO = Path(__file__).resolve().parent.parent
TERRAFORMRC = REPO / "tests" / "terraformrc.hcl"
PLUGIN_MIRROR = Path("/opt/tf-plugins")
AWS_VERSION = "5.100.0"

try:  # shared helpers (tests/conftest.py, owned by the lead)
    from conftest import terraform_env as _shared_terraform_env
    from conftest import terraform_or_skip as _shared_terraform_or_skip
except ImportError:  # pragma: no cover - fallback when run without that conftest
    _shared_terraform_env = None
    _shared_terraform_or_skip = None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


def _terraform() -> str:
    """terraform binary with the hashicorp/aws mirror; skip locally / fail in CI."""
    if _shared_terraform_or_skip is not None:
        path = _shared_terraform_or_skip(need_mirror=True)
    else:
        path = shutil.which("terraform") or "/usr/local/bin/terraform"
        if not os.access(path, os.X_OK):
            _skip_or_fail("terraform is not installed")
        if not PLUGIN_MIRROR.is_dir():
            _skip_or_fail(f"provider mirror {PLUGIN_MIRROR} is missing")
    if not any(PLUGIN_MIRROR.glob(f"*/hashicorp/aws/{AWS_VERSION}")):
        _skip_or_fail(f"hashicorp/aws {AWS_VERSION} is not in the provider mirror {PLUGIN_MIRROR}")
    return path


def _terraform_env() -> dict[str, str]:
    if _shared_terraform_env is not None:
        env = _shared_terraform_env()
    else:
        env = dict(os.environ)
        env.update(TF_CLI_CONFIG_FILE=str(TERRAFORMRC), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    # Installing from an unpacked filesystem mirror symlinks the ~700 MB
    # provider; a plugin cache would make terraform copy it instead.
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    return env


def hcl(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


def addresses(findings: list[Finding]) -> list[str]:
    return [f.address for f in findings]


# ---------------------------------------------------------------------------
# Valid configurations, one per provider
# ---------------------------------------------------------------------------

AWS_VALID = hcl('''
    variable "egress_cidrs" {
      type    = list(string)
      default = ["0.0.0.0/0"]
    }

    provider "aws" {
      region = "us-west-2"
      default_tags {
        tags = { app = "wandb" }
      }
    }

    provider "aws" {
      alias  = "east"
      region = "us-east-1"
    }

    resource "aws_s3_bucket" "artifacts" {
      bucket        = "wandb-artifacts"
      force_destroy = true
      tags          = { Name = "artifacts" }

      lifecycle {
        prevent_destroy = false
        ignore_changes  = [tags]
        precondition {
          condition     = length(var.egress_cidrs) > 0
          error_message = "need a cidr"
        }
      }
    }

    resource "aws_s3_bucket_cors_configuration" "artifacts" {
      bucket = aws_s3_bucket.artifacts.id
      cors_rule {
        allowed_methods = ["GET", "PUT"]
        allowed_origins = ["*"]
        allowed_headers = ["*"]
      }
      dynamic "cors_rule" {
        for_each = toset(["HEAD"])
        iterator = m
        content {
          allowed_methods = [m.value]
          allowed_origins = ["*"]
        }
      }
    }

    resource "aws_security_group" "db" {
      name   = "wandb-db"
      vpc_id = "vpc-123456"
      ingress {
        from_port   = 3306
        to_port     = 3306
        protocol    = "tcp"
        cidr_blocks = ["10.0.0.0/16"]
        self        = false
      }
      dynamic "egress" {
        for_each = var.egress_cidrs
        content {
          from_port   = 0
          to_port     = 0
          protocol    = "-1"
          cidr_blocks = [egress.value]
        }
      }
    }

    data "aws_iam_policy_document" "assume" {
      statement {
        actions = ["sts:AssumeRole"]
        principals {
          type        = "Service"
          identifiers = ["ec2.amazonaws.com"]
        }
      }
    }

    resource "aws_iam_role" "node" {
      provider           = aws.east
      count              = 1
      name               = "wandb-node"
      assume_role_policy = data.aws_iam_policy_document.assume.json
      depends_on         = [aws_s3_bucket.artifacts]
    }

    resource "aws_lb_listener" "https" {
      for_each          = toset(["a"])
      load_balancer_arn = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/x/y"
      port              = 443
      default_action {
        type = "fixed-response"
        fixed_response {
          content_type = "text/plain"
          status_code  = "404"
        }
      }
    }

    resource "aws_db_instance" "db" {
      identifier     = "wandb"
      engine         = "mysql"
      instance_class = "db.t3.medium"
      timeouts {
        create = "60m"
      }
      provisioner "local-exec" {
        command = "echo created"
      }
    }

    output "bucket" {
      value = aws_s3_bucket.artifacts.bucket
    }

    locals {
      name = "wandb"
    }
''')

GOOGLE_VALID = hcl('''
    provider "google" {
      project = "my-project"
      region  = "us-central1"
    }

    data "google_client_config" "current" {}

    resource "google_storage_bucket" "files" {
      name                        = "wandb-files"
      location                    = "US"
      uniform_bucket_level_access = true
      force_destroy               = true
      cors {
        origin          = ["*"]
        method          = ["GET", "PUT"]
        response_header = ["*"]
        max_age_seconds = 3600
      }
      lifecycle_rule {
        action {
          type = "Delete"
        }
        condition {
          age = 30
        }
      }
    }

    resource "google_service_account" "sa" {
      account_id   = "wandb"
      display_name = "W&B"
    }

    resource "google_sql_database_instance" "db" {
      name                = "wandb"
      database_version    = "MYSQL_8_0"
      region              = "us-central1"
      deletion_protection = false
      settings {
        tier = "db-n1-standard-2"
        ip_configuration {
          ipv4_enabled    = false
          private_network = "projects/p/global/networks/n"
        }
        backup_configuration {
          enabled            = true
          binary_log_enabled = true
        }
        dynamic "database_flags" {
          for_each = { max_connections = "1000" }
          content {
            name  = database_flags.key
            value = database_flags.value
          }
        }
      }
    }

    resource "google_redis_instance" "cache" {
      name           = "wandb"
      memory_size_gb = 4
      tier           = "STANDARD_HA"
    }

    resource "google_container_cluster" "gke" {
      name                     = "wandb"
      location                 = "us-central1"
      initial_node_count       = 1
      remove_default_node_pool = true
      deletion_protection      = false
      workload_identity_config {
        workload_pool = "my-project.svc.id.goog"
      }
    }

    resource "google_container_node_pool" "pool" {
      name       = "default"
      cluster    = google_container_cluster.gke.id
      node_count = 2
      node_config {
        machine_type = "n2-standard-4"
        oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
      }
    }
''')

AZURERM_VALID = hcl('''
    provider "azurerm" {
      features {}
      subscription_id = "00000000-0000-0000-0000-000000000000"
    }

    data "azurerm_client_config" "current" {}

    resource "azurerm_resource_group" "rg" {
      name     = "wandb"
      location = "eastus"
    }

    resource "azurerm_storage_account" "sa" {
      name                     = "wandbfiles"
      resource_group_name      = azurerm_resource_group.rg.name
      location                 = azurerm_resource_group.rg.location
      account_tier             = "Standard"
      account_replication_type = "LRS"
      blob_properties {
        cors_rule {
          allowed_headers    = ["*"]
          allowed_methods    = ["GET", "PUT"]
          allowed_origins    = ["*"]
          exposed_headers    = ["*"]
          max_age_in_seconds = 3600
        }
      }
    }

    resource "azurerm_storage_container" "files" {
      name               = "files"
      storage_account_id = azurerm_storage_account.sa.id
    }

    resource "azurerm_kubernetes_cluster" "aks" {
      name                = "wandb"
      location            = azurerm_resource_group.rg.location
      resource_group_name = azurerm_resource_group.rg.name
      dns_prefix          = "wandb"
      default_node_pool {
        name       = "default"
        vm_size    = "Standard_D4s_v3"
        node_count = 2
      }
      identity {
        type = "SystemAssigned"
      }
    }
''')

KUBERNETES_VALID = hcl('''
    provider "kubernetes" {
      host                   = "https://example.invalid"
      cluster_ca_certificate = "cert"
      token                  = "token"
    }

    resource "kubernetes_namespace" "ns" {
      metadata {
        name   = "wandb"
        labels = { app = "wandb" }
      }
    }

    resource "kubernetes_secret" "s" {
      metadata {
        name      = "mysql"
        namespace = kubernetes_namespace.ns.metadata[0].name
      }
      data = { password = "p" }
      type = "Opaque"
    }

    resource "kubernetes_deployment" "d" {
      metadata {
        name = "web"
      }
      spec {
        selector {
          match_labels = { app = "web" }
        }
        template {
          metadata {
            labels = { app = "web" }
          }
          spec {
            container {
              name  = "web"
              image = "nginx"
              port {
                container_port = 80
              }
            }
          }
        }
      }
    }
''')

HELM_VALID = hcl('''
    provider "helm" {
      kubernetes = {
        host                   = "https://example.invalid"
        token                  = "token"
        cluster_ca_certificate = "cert"
      }
    }

    resource "helm_release" "operator" {
      name             = "operator"
      chart            = "operator"
      repository       = "https://charts.example.invalid"
      namespace        = "wandb"
      create_namespace = true
      values           = [yamlencode({ replicas = 1 })]
      set = [
        { name = "image.tag", value = "1.0" },
      ]
      set_sensitive = [{ name = "license", value = "secret" }]
    }

    data "helm_template" "t" {
      name  = "x"
      chart = "y"
    }
''')

RANDOM_VALID = hcl('''
    resource "random_password" "db" {
      length  = 32
      special = false
    }
    resource "random_string" "suffix" {
      length  = 6
      upper   = false
      special = false
    }
    resource "random_id" "id" {
      byte_length = 4
      prefix      = "wandb-"
      keepers     = { a = "b" }
    }
    resource "random_pet" "p" {}
    resource "random_integer" "i" {
      min = 1
      max = 5
    }
    resource "random_uuid" "u" {}
    resource "random_shuffle" "s" {
      input        = ["a", "b"]
      result_count = 1
    }
    resource "random_bytes" "b" {
      length = 8
    }
''')

VALID = {
    "aws": AWS_VALID,
    "google": GOOGLE_VALID,
    "azurerm": AZURERM_VALID,
    "kubernetes": KUBERNETES_VALID,
    "helm": HELM_VALID,
    "random": RANDOM_VALID,
}


@pytest.mark.parametrize("provider", sorted(VALID))
def test_valid_snippet_has_no_findings(provider):
    findings = check_text(VALID[provider])
    assert findings == [], "\n".join(map(str, findings))
    # ...also when only that provider is allowed
    assert check_text(VALID[provider], providers=[provider]) == []


def test_ignored_top_level_blocks():
    text = hcl('''
        terraform {
          required_version = ">= 1.5"
          required_providers {
            aws = { source = "hashicorp/aws", version = "5.100.0" }
          }
        }
        variable "x" {}
        output "y" { value = 1 }
        locals { z = 1 }
        module "m" {
          source   = "./m"
          anything = true
        }
        moved {
          from = aws_s3_bucket.a
          to   = aws_s3_bucket.b
        }
        import {
          to = aws_s3_bucket.b
          id = "b"
        }
        removed {
          from = aws_s3_bucket.c
          lifecycle { destroy = false }
        }
        check "health" {
          assert {
            condition     = true
            error_message = "x"
          }
        }
        ephemeral "aws_secretsmanager_secret_version" "s" {
          secret_id = "x"
        }
    ''')
    assert check_text(text) == []


# ---------------------------------------------------------------------------
# Seeded errors
# ---------------------------------------------------------------------------

BROKEN = {
    "unknown_resource_type": (
        '''
        resource "aws_s3_buckett" "x" {
          bucket = "a"
        }
        ''',
        "unknown_resource_type", "aws_s3_buckett.x",
    ),
    "unknown_data_source": (
        '''
        data "aws_iam_policy_documentt" "x" {}
        ''',
        "unknown_data_source", "data.aws_iam_policy_documentt.x",
    ),
    "unknown_argument": (
        '''
        resource "aws_s3_bucket" "artifacts" {
          bucket     = "a"
          bucket_nme = "b"
        }
        ''',
        "unknown_argument", "aws_s3_bucket.artifacts.bucket_nme",
    ),
    "unknown_nested_argument": (
        '''
        resource "aws_s3_bucket_cors_configuration" "c" {
          bucket = "a"
          cors_rule {
            allowed_methods = ["GET"]
            allowed_origins = ["*"]
          }
          cors_rule {
            allowed_methods = ["GET"]
            allowed_origins = ["*"]
            foo             = 1
          }
        }
        ''',
        "unknown_argument", "aws_s3_bucket_cors_configuration.c.cors_rule[1].foo",
    ),
    "unknown_block": (
        '''
        resource "aws_s3_bucket" "b" {
          bucket = "a"
          versioning_config {
            enabled = true
          }
        }
        ''',
        "unknown_block", "aws_s3_bucket.b.versioning_config",
    ),
    "unknown_block_in_dynamic_content": (
        '''
        resource "aws_s3_bucket_cors_configuration" "c" {
          bucket = "a"
          dynamic "cors_rule" {
            for_each = toset(["GET"])
            content {
              allowed_methods = [cors_rule.value]
              allowed_origins = ["*"]
              headers {
                name = "x"
              }
            }
          }
        }
        ''',
        "unknown_block", "aws_s3_bucket_cors_configuration.c.dynamic.cors_rule.content.headers",
    ),
    "unknown_argument_in_dynamic_content": (
        '''
        resource "aws_s3_bucket_cors_configuration" "c" {
          bucket = "a"
          dynamic "cors_rule" {
            for_each = toset(["GET"])
            content {
              allowed_methods = [cors_rule.value]
              allowed_origins = ["*"]
              allowed_methodz = ["PUT"]
            }
          }
        }
        ''',
        "unknown_argument", "aws_s3_bucket_cors_configuration.c.dynamic.cors_rule.content.allowed_methodz",
    ),
    "missing_required_argument": (
        '''
        resource "aws_iam_role" "r" {
          name = "x"
        }
        ''',
        "missing_required_argument", "aws_iam_role.r.assume_role_policy",
    ),
    "missing_required_block": (
        '''
        resource "aws_lb_listener" "l" {
          load_balancer_arn = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/x/y"
          port              = 443
        }
        ''',
        "missing_required_block", "aws_lb_listener.l.default_action",
    ),
    "nested_missing_required_argument": (
        '''
        resource "aws_s3_bucket_cors_configuration" "c" {
          bucket = "a"
          cors_rule {
            allowed_methods = ["GET"]
          }
        }
        ''',
        "missing_required_argument", "aws_s3_bucket_cors_configuration.c.cors_rule[0].allowed_origins",
    ),
    "nested_missing_required_block": (
        '''
        resource "aws_lb_listener" "l" {
          load_balancer_arn = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/x/y"
          default_action {
            type = "forward"
            forward {
            }
          }
        }
        ''',
        "missing_required_block", "aws_lb_listener.l.default_action[0].forward[0].target_group",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_seeded_error_is_found(case):
    text, kind, address = BROKEN[case]
    findings = check_text(hcl(text))
    assert [(f.kind, f.address) for f in findings] == [(kind, address)], "\n".join(map(str, findings))


def test_unknown_provider():
    text = hcl('''
        resource "null_resource" "n" {}
        data "tls_certificate" "c" { url = "x" }
        provider "google-beta" {}
        resource "google_storage_bucket" "b" {
          name     = "b"
          location = "US"
        }
    ''')
    findings = check_text(text)
    assert [(f.kind, f.address) for f in findings] == [
        ("unknown_provider", "null_resource.n"),
        ("unknown_provider", "data.tls_certificate.c"),
        ("unknown_provider", "provider.google-beta"),
    ]
    # restricting the providers: google is now unknown too
    restricted = check_text(text, providers=["aws"])
    assert "google_storage_bucket.b" in addresses(restricted)
    assert set(kinds(restricted)) == {"unknown_provider"}


def test_block_vs_argument_confusion():
    text = hcl('''
        resource "aws_s3_bucket" "b" {
          versioning = { enabled = true }
          tags {
            a = "b"
          }
        }
        resource "helm_release" "r" {
          name  = "x"
          chart = "y"
          set {
            name  = "a"
            value = "b"
          }
        }
    ''')
    findings = check_text(text)
    assert [(f.kind, f.address) for f in findings] == [
        ("unknown_argument", "aws_s3_bucket.b.versioning"),
        ("unknown_block", "aws_s3_bucket.b.tags"),
        ("unknown_block", "helm_release.r.set"),
    ]
    assert "is a block" in findings[0].message
    assert "is an argument" in findings[1].message


def test_meta_arguments_and_lifecycle():
    ok = hcl('''
        resource "random_pet" "p" {
          count      = 2
          depends_on = []
          provider   = random.other
          lifecycle {
            create_before_destroy = true
            replace_triggered_by  = []
            postcondition {
              condition     = true
              error_message = "x"
            }
          }
          provisioner "local-exec" {
            command = "x"
          }
          connection {
            host = "x"
          }
        }
        data "aws_caller_identity" "me" {
          for_each = toset([])
          lifecycle {
            postcondition {
              condition     = true
              error_message = "x"
            }
          }
        }
    ''')
    assert check_text(ok) == []
    bad = hcl('''
        resource "random_pet" "p" {
          lifecycle {
            prevent_destroi = true
            precondition {
              condition = true
            }
          }
        }
        data "aws_caller_identity" "me" {
          lifecycle {
            create_before_destroy = true
          }
          provisioner "local-exec" {
            command = "x"
          }
        }
    ''')
    assert [(f.kind, f.address) for f in check_text(bad)] == [
        ("unknown_argument", "random_pet.p.lifecycle[0].prevent_destroi"),
        ("missing_required_argument", "random_pet.p.lifecycle[0].precondition[0].error_message"),
        ("unknown_argument", "data.aws_caller_identity.me.lifecycle[0].create_before_destroy"),
        ("unknown_block", "data.aws_caller_identity.me.provisioner"),
    ]


def test_dynamic_block_rules():
    text = hcl('''
        resource "aws_s3_bucket_cors_configuration" "c" {
          bucket = "a"
          dynamic "cors_rule" {
            labels  = []
            foreach = []
            content {
              allowed_methods = ["GET"]
              allowed_origins = ["*"]
            }
          }
          dynamic "cors_rulez" {
            for_each = []
            content {}
          }
          dynamic "cors_rule" {
            for_each = []
          }
        }
    ''')
    assert [(f.kind, f.address) for f in check_text(text)] == [
        ("unknown_argument", "aws_s3_bucket_cors_configuration.c.dynamic.cors_rule.foreach"),
        ("missing_required_argument", "aws_s3_bucket_cors_configuration.c.dynamic.cors_rule.for_each"),
        ("unknown_block", "aws_s3_bucket_cors_configuration.c.dynamic.cors_rulez"),
        ("missing_required_block", "aws_s3_bucket_cors_configuration.c.dynamic.cors_rule.content"),
    ]


def test_required_block_satisfied_by_dynamic_block():
    text = hcl('''
        resource "aws_lb_listener" "l" {
          load_balancer_arn = "x"
          dynamic "default_action" {
            for_each = toset(["forward"])
            content {
              type = default_action.value
            }
          }
        }
    ''')
    assert check_text(text) == []


def test_attributes_as_blocks_are_checked():
    """aws_security_group.ingress is a list-of-object attribute that Terraform
    also accepts as blocks; block members are all optional but must exist."""
    text = hcl('''
        resource "aws_security_group" "sg" {
          ingress {
            from_port = 1
          }
          ingress {
            protocol = "tcp"
            portz    = 2
          }
        }
    ''')
    assert [(f.kind, f.address) for f in check_text(text)] == [
        ("unknown_argument", "aws_security_group.sg.ingress[1].portz"),
    ]


def test_provider_blocks():
    text = hcl('''
        provider "aws" {
          alias   = "x"
          regoin  = "us-east-1"
        }
        provider "azurerm" {
          subscription_id = "x"
        }
        provider "kubernetes" {
          exec {
            command = "aws"
          }
        }
    ''')
    assert [(f.kind, f.address) for f in check_text(text)] == [
        ("unknown_argument", "provider.aws.x.regoin"),
        ("missing_required_block", "provider.azurerm.features"),
        ("missing_required_argument", "provider.kubernetes.exec[0].api_version"),
    ]


def test_finding_is_frozen_and_one_line():
    (finding,) = check_text(hcl(BROKEN["unknown_nested_argument"][0]), filename="main.tf")
    with pytest.raises(FrozenInstanceError):
        finding.kind = "x"  # type: ignore[misc]
    line = str(finding)
    assert "\n" not in line
    assert line.startswith("main.tf: aws_s3_bucket_cors_configuration.c.cors_rule[1].foo: ")
    assert line.endswith("[unknown_argument]")
    assert finding.kind in schema_check.KINDS


def test_did_you_mean():
    (finding,) = check_text(hcl(BROKEN["unknown_resource_type"][0]))
    assert "did you mean 'aws_s3_bucket'" in finding.message


def test_parse_error():
    with pytest.raises(HclParseError):
        check_text('resource "aws_s3_bucket" "x" {\n', filename="bad.tf")


def test_check_files_module_and_cli(tmp_path, capsys):
    module = tmp_path / "mod"
    (module / "sub").mkdir(parents=True)
    (module / "main.tf").write_text(AWS_VALID)
    (module / "broken.tf").write_text(hcl(BROKEN["unknown_argument"][0]).replace('"artifacts"', '"other"'))
    (module / "sub" / "more.tf").write_text(hcl(BROKEN["missing_required_argument"][0]))
    (module / ".terraform").mkdir()
    (module / ".terraform" / "ignored.tf").write_text('resource "aws_nope" "x" {}\n')

    findings = check_files(module)
    assert [(Path(f.file).name, f.kind) for f in findings] == [
        ("broken.tf", "unknown_argument"),
        ("more.tf", "missing_required_argument"),
    ]
    assert check_files([module / "main.tf"]) == []

    assert schema_check.main([str(module / "main.tf")]) == 0
    assert capsys.readouterr().out == ""
    assert schema_check.main([str(module)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].endswith("[unknown_argument]")
    assert schema_check.main([str(tmp_path / "missing.tf")]) == 2

    proc = subprocess.run(
        [sys.executable, "-m", "generator.schema_check", str(module / "sub")],
        cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    assert proc.returncode == 1, proc.stderr
    assert "aws_iam_role.r.assume_role_policy" in proc.stdout


# ---------------------------------------------------------------------------
# Schema files
# ---------------------------------------------------------------------------

EXPECTED = {
    "aws": ("hashicorp/aws", "5.100.0", "cdktf-cdktf-provider-aws==20.1.0"),
    "google": ("hashicorp/google", "6.50.0", "cdktf-cdktf-provider-google==16.12.1"),
    "azurerm": ("hashicorp/azurerm", "4.55.0", "cdktf-cdktf-provider-azurerm==14.23.1"),
    "kubernetes": ("hashicorp/kubernetes", "2.38.0", "cdktf-cdktf-provider-kubernetes==12.1.1"),
    "helm": ("hashicorp/helm", "3.1.1", "cdktf-cdktf-provider-helm==12.1.2"),
    "random": ("hashicorp/random", "3.7.2", "cdktf-cdktf-provider-random==12.0.1"),
}


@pytest.mark.parametrize("provider", sorted(EXPECTED))
def test_schema_file_metadata_and_determinism(provider):
    doc = load_schema(provider)
    assert (doc["provider"], doc["version"], doc["source_package"]) == EXPECTED[provider]
    assert doc["resources"]
    assert set(doc) == {"provider", "version", "source_package", "resources", "data_sources", "provider_config"}
    assert all(t.startswith(provider + "_") for t in [*doc["resources"], *doc["data_sources"]])
    # compact, sorted: what tools/extract_schemas.py writes, byte for byte
    raw = (REPO / "generator" / "schemas" / f"{provider}.json").read_bytes()
    assert raw == (json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n").encode()


def test_load_schema_errors():
    assert set(EXPECTED) <= set(schema_check.available_providers())
    with pytest.raises(LookupError):
        load_schema("nosuchprovider")
    with pytest.raises(LookupError):
        load_schema("../generator/schemas/aws")


def test_schema_name_mapping_quirks():
    aws = load_schema("aws")["resources"]
    # jsii property `selfAttribute` is Terraform's `self`
    ingress = aws["aws_security_group"]["args"]["ingress"]
    assert ingress["block_syntax"] and "self" in ingress["schema"]["args"]
    # no meta-arguments leak in from cdktf's TerraformMetaArguments
    for meta in ("count", "for_each", "depends_on", "lifecycle", "provider", "provisioners", "connection"):
        assert meta not in aws["aws_s3_bucket"]["args"] and meta not in aws["aws_s3_bucket"]["blocks"]
    # computed-only attributes are not arguments
    assert "arn" not in aws["aws_s3_bucket"]["args"]
    assert "bucket_domain_name" not in aws["aws_s3_bucket"]["args"]
    # registry link hidden in a JSDoc custom tag (description contains "@hourly")
    k8s = load_schema("kubernetes")["resources"]
    assert "schedule" in k8s["kubernetes_cron_job_v1"]["blocks"]["spec"]["schema"]["args"]
    # plugin-framework nested attributes are arguments, not blocks
    helm = load_schema("helm")
    assert "set" in helm["resources"]["helm_release"]["args"]
    assert "block_syntax" not in helm["resources"]["helm_release"]["args"]["set"]
    assert "kubernetes" in helm["provider_config"]["args"]
    # cdktf's provider `alias` is a meta-argument
    assert "alias" not in load_schema("aws")["provider_config"]["args"]


def _load_extractor():
    spec = importlib.util.spec_from_file_location("extract_schemas", REPO / "tools" / "extract_schemas.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["extract_schemas"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_extractor_on_synthetic_assembly():
    ex_mod = _load_extractor()
    url = "https://docs.invalid/providers/hashicorp/demo/1.2.3/docs/resources/thing"

    def link(name, cls="Thing"):
        return f"Docs at Terraform Registry: {{@link {url}#{name} {cls}#{name}}}"

    def prop(name, ty, docs, optional=True):
        p = {"name": name, "type": ty, "docs": docs}
        if optional:
            p["optional"] = True
        return p

    array_of = lambda fqn: {"union": {"types": [{"fqn": "cdktf.IResolvable"},  # noqa: E731
                                                {"collection": {"elementtype": {"fqn": fqn}, "kind": "array"}}]}}
    A = "@demo/p"
    types = {
        f"{A}.thing.Thing": {
            "kind": "class", "base": "cdktf.TerraformResource", "fqn": f"{A}.thing.Thing",
            "docs": {"summary": f"Represents a {{@link {url} demo_thing}}."},
            "initializer": {"parameters": [{"name": "scope"}, {"name": "id"},
                                           {"name": "config", "type": {"fqn": f"{A}.thing.ThingConfig"}}]},
        },
        f"{A}.thing.ThingConfig": {
            "kind": "interface", "datatype": True, "interfaces": ["cdktf.TerraformMetaArguments"],
            "properties": [
                prop("name", {"primitive": "string"}, {"summary": "The name.", "remarks": link("name")}, optional=False),
                prop("selfAttribute", {"primitive": "boolean"}, {"summary": link("self") + "."}),
                prop("schedule", {"primitive": "string"},
                     {"summary": "Cron, e.g.", "custom": {"hourly": "or so.\n\n" + link("schedule")}}),
                prop("codeField", {"primitive": "string"}, {"summary": "lost link */"}),
                prop("rule", array_of(f"{A}.thing.ThingRule"), {"summary": "rule block.", "remarks": link("rule")},
                     optional=False),
                prop("single", {"fqn": f"{A}.thing.ThingSingle"}, {"summary": "single block.", "remarks": link("single")}),
                prop("opaque", {"fqn": "cdktf.IResolvable"}, {"summary": "opaque block.", "remarks": link("opaque")}),
                prop("ingress", array_of(f"{A}.thing.ThingIngress"), {"summary": link("ingress") + "."}),
                prop("setting", array_of(f"{A}.thing.ThingSetting"), {"summary": "Settings.", "remarks": link("setting")}),
            ],
        },
        f"{A}.thing.ThingRule": {"kind": "interface", "datatype": True, "properties": [
            prop("port", {"primitive": "number"}, {"summary": link("port") + "."}, optional=False)]},
        f"{A}.thing.ThingSingle": {"kind": "interface", "datatype": True, "properties": []},
        f"{A}.thing.ThingIngress": {"kind": "interface", "datatype": True, "properties": [
            prop("fromPort", {"primitive": "number"}, {"summary": link("from_port") + "."}),
            prop("toPort", {"primitive": "number"}, {"summary": link("to_port") + "."})]},
        f"{A}.thing.ThingSetting": {"kind": "interface", "datatype": True, "properties": [
            prop("key", {"primitive": "string"}, {"summary": "Key.", "remarks": link("key")}, optional=False),
            prop("value", {"primitive": "string"}, {"summary": "Value.", "remarks": link("value")})]},
        f"{A}.provider.DemoProvider": {
            "kind": "class", "base": "cdktf.TerraformProvider", "fqn": f"{A}.provider.DemoProvider",
            "docs": {"summary": "Represents a {@link https://docs.invalid/providers/hashicorp/demo/1.2.3/docs demo}."},
            "initializer": {"parameters": [{"name": "config", "type": {"fqn": f"{A}.provider.DemoProviderConfig"}}]},
        },
        f"{A}.provider.DemoProviderConfig": {"kind": "interface", "datatype": True, "properties": [
            prop("alias", {"primitive": "string"}, {"summary": "Alias name.", "remarks": link("alias", "DemoProvider")}),
            prop("region", {"primitive": "string"}, {"summary": link("region", "DemoProvider") + "."})]},
    }
    pkg = ex_mod.ProviderPackage("demo", "cdktf-demo", "1.0.0", "hashicorp/demo", "1.2.3")
    ex = ex_mod.Extractor({"name": A, "types": types})
    resources, data_sources, provider_config, versions = ex.extract(pkg)
    assert versions == {"1.2.3"} and data_sources == {}
    assert provider_config == {"args": {"region": {"required": False}}, "blocks": {}}
    thing = resources["demo_thing"]
    assert thing["args"] == {
        "name": {"required": True},
        "self": {"required": False},
        "schedule": {"required": False},
        "code_field": {"required": False},
        "ingress": {"required": False, "block_syntax": True, "schema": {
            "args": {"from_port": {"required": False}, "to_port": {"required": False}}, "blocks": {}}},
        "setting": {"required": False},
    }
    assert thing["blocks"] == {
        "rule": {"required": True, "schema": {"args": {"port": {"required": True}}, "blocks": {}}},
        "single": {"required": False, "max_items": 1, "schema": {"args": {}, "blocks": {}}},
        "opaque": {"required": False, "schema": {"any": True, "args": {}, "blocks": {}}},
    }
    assert ex.stats["name_fallbacks"] == ["demo_thing.codeField->code_field"]


# ---------------------------------------------------------------------------
# Agreement with real terraform (AWS, local provider mirror)
# ---------------------------------------------------------------------------

VERSIONS_TF = hcl(f'''
    terraform {{
      required_providers {{
        aws = {{
          source  = "hashicorp/aws"
          version = "{AWS_VERSION}"
        }}
      }}
    }}
''')

TF_CASES = {"valid": (AWS_VALID, None), **{name: (hcl(text), kind) for name, (text, kind, _a) in BROKEN.items()}}

# terraform's diagnostic summary for each kind of finding
TF_SUMMARY = {
    "unknown_resource_type": "Invalid resource type",
    "unknown_data_source": "Invalid data source",
    "unknown_argument": "Unsupported argument",
    "unknown_block": "Unsupported block type",
    "missing_required_argument": "Missing required argument",
    "missing_required_block": "Insufficient",  # "Insufficient <name> blocks"
}


def _validate_dir(terraform: str, env: dict[str, str], workdir: Path, text: str) -> dict:
    workdir.mkdir(parents=True)
    (workdir / "versions.tf").write_text(VERSIONS_TF)
    (workdir / "main.tf").write_text(text)
    init = subprocess.run([terraform, "init", "-backend=false", "-input=false", "-no-color"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, f"terraform init failed in {workdir}:\n{init.stdout}\n{init.stderr}"
    val = subprocess.run([terraform, "validate", "-json", "-no-color"],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    return json.loads(val.stdout)


@pytest.fixture(scope="module")
def terraform_results(tmp_path_factory):
    terraform = _terraform()
    env = _terraform_env()
    root = tmp_path_factory.mktemp("tf-validate")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(_validate_dir, terraform, env, root / name, text)
                   for name, (text, _kind) in TF_CASES.items()}
        results = {name: fut.result() for name, fut in futures.items()}
    return root, results


@pytest.mark.terraform
@pytest.mark.parametrize("case", sorted(TF_CASES))
def test_checker_agrees_with_terraform_validate(terraform_results, case):
    root, results = terraform_results
    result = results[case]
    findings = check_files(root / case)
    _text, kind = TF_CASES[case]
    diags = [d for d in result.get("diagnostics", []) if d["severity"] == "error"]
    if kind is None:
        assert result["valid"] is True, json.dumps(diags, indent=1)
        assert findings == [], "\n".join(map(str, findings))
    else:
        assert result["valid"] is False, f"terraform accepted the {case} snippet"
        assert kind in kinds(findings), "\n".join(map(str, findings)) or "checker found nothing"
        assert any(d["summary"].startswith(TF_SUMMARY[kind]) for d in diags), json.dumps(diags, indent=1)


def _tf_to_expected(block: dict) -> dict:
    """terraform `providers schema -json` block -> our schema shape (as
    comparable facts)."""
    args = {}
    for name, attr in (block.get("attributes") or {}).items():
        if attr.get("required") or attr.get("optional"):
            ty = attr.get("type")
            object_list = (isinstance(ty, list) and ty[0] in ("list", "set")
                           and isinstance(ty[1], list) and ty[1][0] == "object")
            args[name] = (bool(attr.get("required")), object_list)
    blocks = {}
    for name, bt in (block.get("block_types") or {}).items():
        blocks[name] = (bt.get("min_items", 0) > 0, bt["nesting_mode"], bt.get("max_items"), bt["block"])
    return {"args": args, "blocks": blocks}


def _has_configurable(block: dict) -> bool:
    if any(a.get("required") or a.get("optional") for a in (block.get("attributes") or {}).values()):
        return True
    return any(_has_configurable(bt["block"]) for bt in (block.get("block_types") or {}).values())


def _compare(tf_block: dict, mine: dict, path: str, problems: list[str]) -> None:
    if mine.get("any"):
        return
    exp = _tf_to_expected(tf_block)
    for name, (required, object_list) in exp["args"].items():
        got = mine["args"].get(name)
        if got is None:
            problems.append(f"{path}.{name}: argument missing")
            continue
        if got["required"] != required:
            problems.append(f"{path}.{name}: required={got['required']}, terraform says {required}")
        if bool(got.get("block_syntax")) != object_list:
            problems.append(f"{path}.{name}: block_syntax={bool(got.get('block_syntax'))}, terraform type differs")
    for name in set(mine["args"]) - set(exp["args"]):
        problems.append(f"{path}.{name}: argument not in terraform schema")
    for name, (required, nesting, max_items, inner) in exp["blocks"].items():
        got = mine["blocks"].get(name)
        if got is None:
            # cdktf leaves out blocks without configurable attributes
            # (e.g. fully computed nested blocks of framework data sources)
            if _has_configurable(inner):
                problems.append(f"{path}.{name}: block missing")
            continue
        if got["schema"].get("any"):
            continue  # cdktf left this block untyped (aws wafv2 / quicksight)
        # cdktf marks a nesting-mode "single" block required when all its
        # attributes are required; Terraform has no min_items for those.
        if got["required"] != required and nesting != "single":
            problems.append(f"{path}.{name}: required={got['required']}, terraform says {required}")
        single = nesting == "single" or max_items == 1
        if (got.get("max_items") == 1) != single:
            problems.append(f"{path}.{name}: max_items={got.get('max_items')}, terraform: {nesting}/{max_items}")
        _compare(inner, got["schema"], f"{path}.{name}", problems)
    for name in set(mine["blocks"]) - set(exp["blocks"]):
        problems.append(f"{path}.{name}: block not in terraform schema")


@pytest.mark.terraform
def test_extracted_aws_schema_matches_terraform(terraform_results):
    """The jsii-derived aws.json agrees with `terraform providers schema -json`."""
    terraform = _terraform()
    root, _results = terraform_results
    proc = subprocess.run([terraform, "providers", "schema", "-json"], cwd=root / "valid",
                          env=_terraform_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    schemas = json.loads(proc.stdout)["provider_schemas"]
    (tf,) = [v for k, v in schemas.items() if k.endswith("/hashicorp/aws")]
    mine = load_schema("aws")
    assert set(mine["resources"]) == set(tf["resource_schemas"])
    assert set(mine["data_sources"]) == set(tf["data_source_schemas"])
    problems: list[str] = []
    _compare(tf["provider"]["block"], mine["provider_config"], "provider", problems)
    for t, s in tf["resource_schemas"].items():
        _compare(s["block"], mine["resources"][t], t, problems)
    for t, s in tf["data_source_schemas"].items():
        _compare(s["block"], mine["data_sources"][t], f"data.{t}", problems)
    assert problems == [], f"{len(problems)} differences:\n" + "\n".join(sorted(problems)[:50])
