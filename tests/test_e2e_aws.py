"""End to end: the generated AWS module applied, changed on paper, and destroyed, against moto.

1. ``gen-tf --cloud aws --env dev|prod --products both --domain wandb.example.com
   --dns-zone example.com --alarm-email ops@example.com`` writes two modules (dev one
   Kubernetes minor below gen-tf's default, so the day-2 plans can raise it). Each stays
   as generated; the test only adds ``zz_override.tf`` beside it
   (tests/e2e/zz_override.tf.tmpl), which points the AWS provider at a local emulator.
2. Both modules are called from one root (``module "dev"``, ``module "prod"``), so a single
   ``terraform apply`` builds them side by side, each against its own moto server: the
   provider's fixed waits (about 60 s for a load balancer, 30 s per RDS step) then overlap.
3. pytest-terraform's ``terraform`` fixture runs init, plan and apply on that root once for
   this file and destroys it at teardown. Its fixtures look a module up by name under
   ``--tf-mod-dir``; the session fixture here generates the root into a temporary folder
   and points that setting at it before the fixture runs.
4. boto3 reads back from the emulator what was built.
5. Day 2 (issue 13), on the applied dev module: for each change an operator makes (node
   type, zone count, database class, standby, retention, Kubernetes minor, tags, domain) a
   ``zz_day2_override.tf`` sets the variable's new default (in a copy of the root, so the
   plans run side by side against the applied state), ``terraform plan -refresh=false``
   plans it, and ``terraform show -json`` proves that no stateful resource is deleted and
   that the node group is replaced new-first or updated in place. Nothing is applied.
6. Teardown, the documented way: the prod module is regenerated with
   ``--no-prevent-destroy`` (only its lifecycle lines change), ``deletion_protection =
   false`` is applied to what it protects, both are destroyed, and boto3 confirms nothing
   the modules made is left.

The emulator, its gaps, the stand-ins this test adds and the plan noise moto's invented
attributes cause (filtered by ``EMULATOR_NOISE``) are described in docs/e2e.md.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import IN_CI, REPO, TERRAFORMRC, blocks, local_value, parse, terraform_or_skip, variable_default


def _require(module: str) -> Any:
    """Import a test dependency: missing is a failure in CI, a skip elsewhere."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if IN_CI:
            raise
        pytest.skip(f"the e2e test needs {module} (pip install -e '.[test]'): {exc}", allow_module_level=True)


boto3 = _require("boto3")
_require("moto.server")
tf = _require("pytest_terraform.tf")

from e2e.eks_gaps import EksGapProxy  # noqa: E402 - after the dependency guard

E2E = Path(__file__).resolve().parent / "e2e"
REGION = "us-east-1"
DOMAIN = "wandb.example.com"
ZONE = "example.com"
NAME = "wandb"
ALARM_EMAIL = "ops@example.com"
ENVS = ("dev", "prod")
ROOT = "aws_e2e"
# Seconds any one terraform command may take (apply takes about 2 minutes).
TERRAFORM_TIMEOUT = 480
DAY2_OVERRIDE = "zz_day2_override.tf"

# The AWS API each resource, data source or ephemeral resource type talks to, by the
# provider's endpoint name; None: computed by the provider without a call. Longest prefix wins.
SERVICE_OF_PREFIX = {
    "aws_acm_": "acm",
    "aws_availability_zones": "ec2",
    "aws_caller_identity": "sts",
    "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_db_": "rds",
    "aws_default_security_group": "ec2",
    "aws_eip": "ec2",
    "aws_eks_": "eks",
    "aws_elb_service_account": None,
    "aws_flow_log": "ec2",
    "aws_iam_": "iam",
    "aws_iam_policy_document": None,
    "aws_internet_gateway": "ec2",
    "aws_kms_": "kms",
    "aws_launch_template": "ec2",
    "aws_lb": "elbv2",
    "aws_nat_gateway": "ec2",
    "aws_partition": None,
    "aws_rds_": "rds",
    "aws_route53_": "route53",
    "aws_route_table": "ec2",
    "aws_s3_": "s3",
    "aws_secretsmanager_": "secretsmanager",
    "aws_security_group": "ec2",
    "aws_sns_": "sns",
    "aws_subnet": "ec2",
    "aws_vpc": "ec2",
    "aws_wafv2_": "wafv2",
}


# ---- generation and the override ---------------------------------------------------


def gen_args(env: str, *extra: str) -> list[str]:
    """gen-tf's options for one environment's module; prod needs an alarm recipient."""
    return [
        "--cloud", "aws", "--env", env, "--products", "both",
        "--domain", DOMAIN, "--dns-zone", ZONE, "--alarm-email", ALARM_EMAIL, *extra,
    ]  # fmt: skip


def gen_tf(env: str, *extra: str) -> str:
    """The module the real CLI writes."""
    proc = subprocess.run(
        [sys.executable, "-m", "generator", *gen_args(env, *extra)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def previous_minor(version: str) -> str:
    major, minor = version.split(".")
    return f"{major}.{int(minor) - 1}"


def service_of(kind: str) -> str | None:
    matches = [p for p in SERVICE_OF_PREFIX if kind.startswith(p)]
    assert matches, f"{kind}: unknown AWS service; add its prefix to SERVICE_OF_PREFIX and an endpoint to the override"
    return SERVICE_OF_PREFIX[max(matches, key=len)]


def services_used(doc: dict[str, Any]) -> dict[str, set[str]]:
    """{endpoint name: resource/data/ephemeral types that need it} for one parsed module."""
    used: dict[str, set[str]] = {}
    for kind in ("resource", "data", "ephemeral"):
        for address in blocks(doc, kind):
            rtype = address.split(".")[0]
            service = service_of(rtype)
            if service:
                used.setdefault(service, set()).add(rtype)
    return used


def override_endpoints(text: str) -> dict[str, str]:
    provider = parse(text)["provider"][0]["aws"]
    return provider["endpoints"][0]


def missing_endpoints(module_doc: dict[str, Any], override_text: str) -> dict[str, set[str]]:
    endpoints = override_endpoints(override_text)
    return {s: kinds for s, kinds in services_used(module_doc).items() if s not in endpoints}


def protected_resources(doc: dict[str, Any]) -> list[str]:
    """Addresses whose settings follow var.deletion_protection."""
    return sorted(a for a, body in blocks(doc, "resource").items() if "var.deletion_protection" in json.dumps(body))


def _normalised(text: str) -> list[str]:
    """Lines with runs of blanks collapsed (terraform fmt aligns '=' per block)."""
    return [" ".join(line.split()) for line in text.splitlines()]


LIFECYCLE_LINES = {"", "lifecycle {", "prevent_destroy = true", "}"}


def unexplained_changes(protected: str, unprotected: str) -> list[str]:
    """Differences between a module and its --no-prevent-destroy regeneration other than
    the prevent_destroy lines, the lifecycle blocks left empty without them, and the
    regenerate command in the header; [] when there are none."""
    old, new = _normalised(protected), _normalised(unprotected)
    odd: list[str] = []
    removed: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        gone, added = old[i1:i2], new[j1:j2]
        if op == "replace" and len(gone) == len(added) == 1 and gone[0].startswith("# gen-tf "):
            if gone[0].replace(" --no-prevent-destroy", "") != added[0].replace(" --no-prevent-destroy", ""):
                odd.append(f"header: {gone[0]!r} -> {added[0]!r}")
            elif "--no-prevent-destroy" not in added[0]:
                odd.append(f"header does not name --no-prevent-destroy: {added[0]!r}")
            continue
        odd += [f"+ {line}" for line in added]
        odd += [f"- {line}" for line in gone if line not in LIFECYCLE_LINES]
        removed += gone
    if removed.count("lifecycle {") != removed.count("}"):
        odd.append(f"unbalanced lifecycle blocks removed: {removed}")
    if removed.count("prevent_destroy = true") != old.count("prevent_destroy = true"):
        odd.append("not every prevent_destroy line was removed")
    return odd


ROOT_MODULE = """\
# Written by tests/test_e2e_aws.py: both generated modules, unchanged, in one apply.
module "dev" {
  source = "./dev"
}

module "prod" {
  source = "./prod"
}

output "dev" {
  value = module.dev
}

output "prod" {
  value = module.prod
}
"""


# ---- day 2: the changes an operator makes to a running deployment ----------------------

# What no day-2 plan may delete (a prefix ending in "." is a resource type): the data,
# its key and its secret, and the cluster W&B runs in.
STATEFUL = (
    "aws_s3_bucket.",
    "aws_rds_cluster.",
    "aws_rds_cluster_instance.primary",
    "aws_kms_key.",
    "aws_secretsmanager_secret.",
    "aws_eks_cluster.",
)
REPLACE_NEW_FIRST = ["create", "delete"]
REPLACE_OLD_FIRST = ["delete", "create"]
TO = object()  # in `updated`: the change's new value


@dataclass(frozen=True)
class Day2:
    """One change an operator makes, planned against the applied dev module: the variable's
    new value and what the plan must do to the resources it is about (addresses inside the
    module)."""

    id: str
    variable: str
    to: Any  # None: gen-tf's default Kubernetes version (dev is generated one minor below)
    # Replaced with create_before_destroy: the new one exists before the old one goes.
    replaced_new_first: tuple[str, ...] = ()
    # Replaced old-first, and accepted (nothing stateful, nothing serving traffic alone).
    replaced_old_first: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    # Updated in place: address -> {attribute path (dots; numbers index lists): value after}.
    updated: dict[str, dict[str, Any]] = field(default_factory=dict)


DAY2 = (
    Day2("node-type", "node_instance_type", "r6i.2xlarge", replaced_new_first=("aws_eks_node_group.this",)),
    Day2("zone-count", "node_zone_count", 3, replaced_new_first=("aws_eks_node_group.this",)),
    Day2(
        "db-class",
        "db_instance_class",
        "db.r6g.xlarge",
        updated={"aws_rds_cluster_instance.primary": {"instance_class": TO}},
    ),
    Day2("standby", "db_standby", True, created=("aws_rds_cluster_instance.standby[0]",)),
    Day2(
        "retention",
        "backup_retention_days",
        14,
        updated={"aws_rds_cluster.metadata": {"backup_retention_period": TO}},
    ),
    Day2(
        "k8s-minor",
        "kubernetes_version",
        None,
        updated={"aws_eks_cluster.this": {"version": TO}, "aws_eks_node_group.this": {"version": TO}},
    ),
    Day2(
        "tags",
        "tags",
        {"team": "ml"},
        updated={
            "aws_s3_bucket.artifacts": {"tags_all.team": "ml"},
            "aws_rds_cluster.metadata": {"tags_all.team": "ml"},
            "aws_eks_cluster.this": {"tags_all.team": "ml"},
        },
    ),
    Day2(
        "domain",
        "domain",
        "w2.example.com",
        # A certificate for the new name is issued before the old one goes (create_before_destroy);
        # its validation record is keyed by the name, and the validation (no AWS object, a
        # wait for the ISSUED status) follows the certificate.
        # The A record's name forces a new record (Route53 cannot rename one); the new name is
        # created before the old one goes (create_before_destroy), so one always resolves.
        replaced_new_first=("aws_acm_certificate.wandb[0]", "aws_route53_record.wandb[0]"),
        created=('aws_route53_record.certificate_validation["w2.example.com"]',),
        deleted=('aws_route53_record.certificate_validation["wandb.example.com"]',),
        replaced_old_first=("aws_acm_certificate_validation.wandb[0]",),
        updated={
            "aws_s3_bucket_cors_configuration.artifacts": {"cors_rule.0.allowed_origins": ["https://w2.example.com"]},
        },
    ),
)

# What a plan of the applied dev module shows with no change at all: attributes moto
# invents or leaves out (docs/e2e.md, "Plan noise"). Address -> (actions, why). A day-2
# plan's change to one of these with these actions is not the change's doing.
EMULATOR_NOISE: dict[str, tuple[list[str], str]] = {
    "aws_rds_cluster.metadata": (
        ["update"],
        "moto describes a provisioned cluster with an all-null ScalingConfigurationInfo; the"
        " provider reads it as a scaling_configuration block and plans its serverless defaults",
    ),
    "aws_rds_cluster_instance.primary": (
        ["update"],
        "moto keeps no Enhanced Monitoring or Performance Insights settings: monitoring_interval 0,"
        " monitoring_role_arn and performance_insights_* empty are read back, the module's planned again",
    ),
}


def hcl_value(value: Any) -> str:
    """A Python value as HCL (JSON is HCL for strings, numbers, bools, lists and maps)."""
    return json.dumps(value)


def dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else (value or {}).get(part)
    return value


def changes_of(plan: dict[str, Any], module: str) -> dict[str, list[str]]:
    """{address inside the module: actions} of every managed resource the plan changes."""
    prefix = f"module.{module}."
    found: dict[str, list[str]] = {}
    for rc in plan.get("resource_changes", []):
        actions = rc["change"]["actions"]
        if rc.get("mode") != "managed" or actions == ["no-op"] or not rc["address"].startswith(prefix):
            continue
        found[rc["address"].removeprefix(prefix)] = actions
    return found


def change_of(plan: dict[str, Any], module: str, address: str) -> dict[str, Any]:
    for rc in plan.get("resource_changes", []):
        if rc["address"] == f"module.{module}.{address}":
            return rc["change"]
    raise AssertionError(f"{address} is not in the plan")


def is_stateful(address: str) -> bool:
    return any(address.startswith(p) if p.endswith(".") else address == p for p in STATEFUL)


def is_noise(address: str, actions: list[str]) -> bool:
    return address in EMULATOR_NOISE and EMULATOR_NOISE[address][0] == actions


def test_every_service_the_modules_use_has_an_endpoint() -> None:
    """Without an endpoint the provider would go to real AWS: refuse before any apply."""
    template = (E2E / "zz_override.tf.tmpl").read_text()
    for env in ENVS:
        doc = parse(gen_tf(env))
        assert services_used(doc), "no AWS resources parsed"
        assert not missing_endpoints(doc, template), f"{env}: services without an endpoint in the override"


def test_day2_changes_are_changes_of_the_dev_module() -> None:
    """Each day-2 change names a dev-module variable and moves it off its default."""
    default = parse(gen_tf("dev"))
    dev = parse(gen_tf("dev", "--k8s-version", previous_minor(variable_default(default, "kubernetes_version"))))
    variables = blocks(dev, "variable")
    resources = blocks(dev, "resource")
    for change in DAY2:
        assert change.variable in variables, change
        to = variable_default(default, "kubernetes_version") if change.to is None else change.to
        assert variable_default(dev, change.variable) != to, f"{change.id}: the dev module already has {to!r}"
        named = [
            *change.replaced_new_first, *change.replaced_old_first, *change.created, *change.deleted, *change.updated,
        ]  # fmt: skip
        for address in named:
            assert address.split("[")[0] in resources, f"{change.id}: {address} is not a resource of the module"
        assert not [a for a in named if is_stateful(a) and a not in change.updated], change


def test_prevent_destroy_regeneration_is_compared_line_by_line() -> None:
    """The teardown's check: a --no-prevent-destroy regeneration differs only in lifecycle lines."""
    protected, unprotected = gen_tf("prod"), gen_tf("prod", "--no-prevent-destroy")
    assert "prevent_destroy = true" in protected
    assert "prevent_destroy = true" not in unprotected
    assert unexplained_changes(protected, unprotected) == []
    assert unexplained_changes(protected, unprotected.replace('"aws:kms"', '"AES256"')) != []


# ---- the emulators -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Emulator:
    """One moto server (a child process, stopped by its PID) and the EKS proxy in front of it."""

    env: str
    moto_url: str
    proxy: EksGapProxy
    zone_id: str = ""

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.proxy.url if service == "eks" else self.moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def start_moto(log: Path, stack: ExitStack) -> str:
    port = _free_port()
    env = {
        **os.environ,
        # AWS-managed IAM policies exist (the module attaches AmazonEKSClusterPolicy & co).
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        # moto issues an AMAZON_ISSUED certificate once this many seconds passed since
        # the request, whatever DNS says (default 60); the test checks the record itself.
        "MOTO_ACM_VALIDATION_WAIT": "0",
    }
    out = stack.enter_context(log.open("wb"))
    proc = subprocess.Popen(
        [sys.executable, str(E2E / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
    )

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stack.callback(stop)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"moto server exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                return url
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"moto server did not answer on {url} within 60 s")
            time.sleep(0.2)


@dataclass
class Stack:
    root: Path
    emulators: dict[str, Emulator]
    modules: dict[str, Path]
    docs: dict[str, dict[str, Any]]
    # The extra gen-tf options each module was generated with (regenerated with the same).
    extra: dict[str, tuple[str, ...]]
    # gen-tf's default Kubernetes version: the dev module's day-2 upgrade target.
    k8s_target: str
    # prod regenerated with --no-prevent-destroy for the teardown, made with the same
    # generator run as the applied module (the templates may change while the test runs).
    prod_unprotected: str
    digests: dict[str, str] = field(default_factory=dict)


def _prerequisites() -> None:
    terraform_or_skip(need_mirror=True)
    if not tf.LazyTfBin.resolve(False):
        pytest.fail("pytest-terraform found no terraform binary")


def _bounded_terraform(folder: Path, real: str, seconds: int = TERRAFORM_TIMEOUT) -> Path:
    folder.mkdir()
    wrapper = folder / "terraform"
    wrapper.write_text(f'#!/bin/sh\nexec timeout -k 15 {seconds} "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Emulators up, zones made, modules generated under pytest-terraform's module dir."""
    _prerequisites()
    base = tmp_path_factory.mktemp("e2e")
    parent = base / "modules"
    root = parent / ROOT
    template = (E2E / "zz_override.tf.tmpl").read_text()
    k8s_target = variable_default(parse(gen_tf("dev")), "kubernetes_version")
    extra = {"dev": ("--k8s-version", previous_minor(k8s_target)), "prod": ()}
    with ExitStack() as cleanup, pytest.MonkeyPatch.context() as mp:
        emulators: dict[str, Emulator] = {}
        modules: dict[str, Path] = {}
        docs: dict[str, dict[str, Any]] = {}
        digests: dict[str, str] = {}
        prod_unprotected = ""
        for env in ENVS:
            moto_url = start_moto(base / f"moto-{env}.log", cleanup)
            proxy = EksGapProxy(moto_url, REGION).start()
            cleanup.callback(proxy.stop)
            emu = Emulator(env, moto_url, proxy)
            # The module looks the public zone up (data.aws_route53_zone); it is the
            # operator's, made before the module runs.
            zone = emu.client("route53").create_hosted_zone(Name=ZONE, CallerReference=f"e2e-{env}")
            emu.zone_id = zone["HostedZone"]["Id"]
            emulators[env] = emu

            text = gen_tf(env, *extra[env])
            if env == "prod":
                prod_unprotected = gen_tf(env, *extra[env], "--no-prevent-destroy")
            docs[env] = parse(text)
            override = template.replace("@MOTO@", moto_url).replace("@EKS@", proxy.url)
            missing = missing_endpoints(docs[env], override)
            assert not missing, f"{env}: services without an endpoint in the override: {missing}"
            module = root / env
            module.mkdir(parents=True)
            (module / "main.tf").write_text(text)
            (module / "zz_override.tf").write_text(override)
            modules[env] = module
            digests[env] = hashlib.sha256(text.encode()).hexdigest()
        (root / "main.tf").write_text(ROOT_MODULE)

        mp.setenv("TF_CLI_CONFIG_FILE", str(TERRAFORMRC))
        mp.setenv("CHECKPOINT_DISABLE", "1")
        mp.setenv("TF_IN_AUTOMATION", "1")
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        # pytest-terraform's --tf-mod-dir: where its fixtures look modules up by name.
        mp.setattr(tf.LazyModuleDir, "value", str(parent))
        # pytest-terraform runs terraform without a time limit; bound every command so
        # a resource waiting for a state the emulator never reaches fails, not hangs.
        mp.setattr(tf.LazyTfBin, "value", str(_bounded_terraform(base / "bin", tf.LazyTfBin.resolve())))
        yield Stack(root, emulators, modules, docs, extra, k8s_target, prod_unprotected, digests)


# pytest-terraform: a module-scoped fixture named aws_e2e that runs terraform init, plan
# and apply in <--tf-mod-dir>/aws_e2e once for this file and destroys at teardown. Called
# as a statement, not as a decorator, so no test also gets the `terraform` mark.
tf.terraform(ROOT, scope="module", teardown=tf.terraform.TEARDOWN_ON)


@dataclass
class Applied:
    stack: Stack
    state: Any  # pytest-terraform's TerraformTestApi
    unprotected: bool = False
    destroyed: bool = False

    @property
    def runner(self) -> Any:
        return self.state.terraform

    def terraform(self, *args: str, cwd: Path | None = None) -> str:
        """One terraform command on the root (or a copy of it), as pytest-terraform runs
        them (its data dir), with the output captured; fails with the output's tail."""
        runner = self.runner
        proc = subprocess.run(
            [runner.tf_bin, *args],
            cwd=str(cwd or runner.module_dir),
            env={**os.environ, "TF_IN_AUTOMATION": "yes", "TF_DATA_DIR": str(runner.work_dir)},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"terraform {args[0]} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
        return proc.stdout


def lift_protection(applied: Applied) -> None:
    """The documented teardown of prod: regenerate without prevent_destroy (nothing else
    may change), then apply deletion_protection = false to what it protects."""
    stack, prod = applied.stack, applied.stack.modules["prod"]
    applied.unprotected = True  # tried once: the fixture's teardown does not try again
    protected = (prod / "main.tf").read_text()
    unprotected = stack.prod_unprotected
    assert unexplained_changes(protected, unprotected) == [], "the regeneration changed more than lifecycle lines"
    (prod / "main.tf").write_text(unprotected)
    stack.digests["prod"] = hashlib.sha256(unprotected.encode()).hexdigest()
    shutil.copy(E2E / "zz_teardown_override.tf", prod / "zz_teardown_override.tf")
    targets = [f"-target=module.prod.{address}" for address in protected_resources(stack.docs["prod"])]
    assert any("aws_rds_cluster." in t for t in targets), targets
    runner = applied.runner
    runner._run_cmd(runner._get_cmd_args("apply", plan="") + ["-refresh=false", *targets])


@pytest.fixture(scope="module")
def applied(stack: Stack, aws_e2e: Any) -> Iterator[Applied]:
    """Both modules applied. If the teardown test did not run (a failure with -x, or -k),
    prod is unprotected here so that pytest-terraform's own destroy can remove it."""
    state = Applied(stack, aws_e2e)
    yield state
    if not state.unprotected:
        lift_protection(state)


# ---- checks against the emulator --------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the generated module's variable defaults (and locals) say was built."""

    db_class: str
    backup_days: int
    db_instances: int
    node_type: str
    min_nodes: int
    zones: int
    deletion_protection: bool
    k8s_version: str
    eks_support_type: str
    public_endpoint: bool
    mysql_version: str
    parameter_family: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> "Expected":
        def default(name: str) -> Any:
            return variable_default(doc, name)

        mysql = default("mysql_version")
        return cls(
            db_class=default("db_instance_class"),
            backup_days=default("backup_retention_days"),
            db_instances=2 if default("db_standby") else 1,
            node_type=default("node_instance_type"),
            min_nodes=default("node_min_size"),
            zones=default("node_zone_count"),
            deletion_protection=default("deletion_protection"),
            k8s_version=default("kubernetes_version"),
            eks_support_type=default("eks_support_type"),
            public_endpoint=default("cluster_endpoint_public_access"),
            mysql_version=mysql,
            parameter_family=local_value(doc, "aurora_parameter_families")[mysql],
        )


# The tier's policy, not its sizing: prod keeps a standby and refuses deletion, dev neither.
TIER = {"dev": (1, False), "prod": (2, True)}  # (database instances, deletion protection)


def check_bucket(emu: Emulator, out: dict[str, Any]) -> None:
    s3 = emu.client("s3")
    bucket = out["bucket_name"]
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert len(rules) == 1, rules
    rule = rules[0]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "PUT"], rule
    assert rule["AllowedOrigins"] == [f"https://{DOMAIN}"], rule
    assert "ETag" in rule["ExposeHeaders"], rule
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", sse
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()), block


def check_database(emu: Emulator, out: dict[str, Any], exp: Expected) -> None:
    rds = emu.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"{NAME}-metadata")["DBClusters"][0]
    assert cluster["Engine"] == "aurora-mysql", cluster["Engine"]
    # The module asks for the major only; AWS answers with the build it picked.
    version = cluster["EngineVersion"]
    assert version == exp.mysql_version or version.startswith(f"{exp.mysql_version}."), version
    assert cluster["BackupRetentionPeriod"] == exp.backup_days
    assert cluster["StorageEncrypted"] is True
    assert cluster["DeletionProtection"] is exp.deletion_protection
    group = cluster["DBClusterParameterGroup"]
    assert group.startswith(f"{NAME}-metadata-"), group
    groups = rds.describe_db_cluster_parameter_groups(DBClusterParameterGroupName=group)["DBClusterParameterGroups"]
    assert groups[0]["DBParameterGroupFamily"] == exp.parameter_family, groups
    members = cluster["DBClusterMembers"]
    assert len(members) == exp.db_instances, members
    assert sum(m["IsClusterWriter"] for m in members) == 1, members
    instances = [
        i for i in rds.describe_db_instances()["DBInstances"] if i.get("DBClusterIdentifier") == f"{NAME}-metadata"
    ]
    assert len(instances) == exp.db_instances, [i["DBInstanceIdentifier"] for i in instances]
    assert {i["DBInstanceClass"] for i in instances} == {exp.db_class}
    # R-DB-5: the standby runs in another zone than the writer.
    assert len({i["AvailabilityZone"] for i in instances}) == exp.db_instances
    # The password Terraform generated (ephemeral, write-only) reached the secret W&B reads.
    secret = emu.client("secretsmanager").get_secret_value(SecretId=out["db_secret_arn"])["SecretString"]
    assert len(secret) == 32 and secret.isalnum(), "the db password secret is not the generated password"


def check_cluster(emu: Emulator, out: dict[str, Any], exp: Expected) -> None:
    eks = emu.client("eks")
    cluster = eks.describe_cluster(name=out["cluster_name"])["cluster"]
    assert cluster["version"] == exp.k8s_version
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True, vpc
    assert vpc["endpointPublicAccess"] is exp.public_endpoint, vpc
    # As the module sent it (moto keeps no upgrade policy; the EKS proxy returns it).
    assert cluster["upgradePolicy"] == {"supportType": exp.eks_support_type}, cluster.get("upgradePolicy")
    # The group is named by prefix (a replacement is created before the old one goes).
    groups = eks.list_nodegroups(clusterName=out["cluster_name"])["nodegroups"]
    assert len(groups) == 1 and groups[0].startswith(f"{NAME}-nodes-"), groups
    group = eks.describe_nodegroup(clusterName=out["cluster_name"], nodegroupName=groups[0])["nodegroup"]
    assert group["version"] == cluster["version"], group["version"]
    assert group["instanceTypes"] == [exp.node_type]
    scaling = group["scalingConfig"]
    assert scaling["minSize"] == exp.min_nodes, scaling
    assert scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"], scaling
    assert len(group["subnets"]) == exp.zones, group["subnets"]
    assert group["launchTemplate"]["name"].startswith(f"{NAME}-nodes-"), group["launchTemplate"]
    assert "aws-ebs-csi-driver" in eks.list_addons(clusterName=out["cluster_name"])["addons"]


def check_alarm(emu: Emulator, out: dict[str, Any]) -> None:
    alarms = emu.client("cloudwatch").describe_alarms(AlarmNames=[f"{NAME}-metadata-cpu"])["MetricAlarms"]
    assert len(alarms) == 1, alarms
    alarm = alarms[0]
    assert alarm["MetricName"] == "CPUUtilization"
    assert alarm["Namespace"] == "AWS/RDS"
    assert alarm["Threshold"] == 40
    assert alarm["Period"] == 300
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    dimensions = sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"])
    assert dimensions == [("DBClusterIdentifier", f"{NAME}-metadata"), ("Role", "WRITER")], dimensions
    assert alarm["AlarmActions"] == [out["alarm_topic_arn"]]
    subscriptions = emu.client("sns").list_subscriptions_by_topic(TopicArn=out["alarm_topic_arn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", ALARM_EMAIL)], subscriptions


def records(emu: Emulator) -> list[dict[str, Any]]:
    return emu.client("route53").list_resource_record_sets(HostedZoneId=emu.zone_id)["ResourceRecordSets"]


def check_dns_and_tls(emu: Emulator, out: dict[str, Any], doc: dict[str, Any]) -> None:
    elbv2 = emu.client("elbv2")
    lb = elbv2.describe_load_balancers(Names=[f"{NAME}-wandb"])["LoadBalancers"][0]
    assert lb["DNSName"] == out["load_balancer_dns_name"]
    by_name = {(r["Name"], r["Type"]): r for r in records(emu)}
    a_record = by_name.get((f"{DOMAIN}.", "A"))
    assert a_record, f"no A record for {DOMAIN}: {sorted(by_name)}"
    alias = a_record["AliasTarget"]
    assert alias["DNSName"].rstrip(".").lower().removeprefix("dualstack.") == lb["DNSName"].lower(), alias
    assert alias["HostedZoneId"] == lb["CanonicalHostedZoneId"], alias

    acm = emu.client("acm")
    certs = [c for c in acm.list_certificates()["CertificateSummaryList"] if c["DomainName"] == DOMAIN]
    assert len(certs) == 1, certs
    cert = acm.describe_certificate(CertificateArn=certs[0]["CertificateArn"])["Certificate"]
    assert cert["Status"] == "ISSUED"
    # moto issues without looking at DNS: check the module wrote the record ACM asked for.
    for option in cert["DomainValidationOptions"]:
        wanted = option["ResourceRecord"]
        record = by_name.get((wanted["Name"], wanted["Type"]))
        assert record, f"no validation record {wanted}"
        assert [r["Value"] for r in record["ResourceRecords"]] == [wanted["Value"]]

    listeners = {l["Port"]: l for l in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    assert sorted(listeners) == [80, 443]
    assert listeners[443]["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in listeners[443]["Certificates"]] == [cert["CertificateArn"]]
    assert listeners[443]["DefaultActions"][0]["TargetGroupArn"] == out["target_group_arn"]
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"

    # One listener rule per route besides the app's (the default action): /console always,
    # /traces with Weave, each forwarding its paths to its own target group.
    resources = blocks(doc, "resource")
    expected = {
        out[output]: sorted(resources[f"aws_lb_listener_rule.{name}"]["condition"][0]["path_pattern"][0]["values"])
        for name, output in (("console", "console_target_group_arn"), ("weave_trace", "traces_target_group_arn"))
        if f"aws_lb_listener_rule.{name}" in resources
    }
    assert "aws_lb_listener_rule.console" in resources
    rules = [r for r in elbv2.describe_rules(ListenerArn=listeners[443]["ListenerArn"])["Rules"] if not r["IsDefault"]]
    found = {
        r["Actions"][0]["TargetGroupArn"]: sorted(
            v for c in r["Conditions"] for v in c.get("PathPatternConfig", {}).get("Values", c.get("Values", []))
        )
        for r in rules
    }
    assert len(rules) == len(expected) and found == expected, rules

    attributes = lb_attributes(elbv2, lb["LoadBalancerArn"])
    if "aws_s3_bucket.logs" in resources:
        assert attributes["access_logs.s3.enabled"] == "true"
        assert attributes["access_logs.s3.bucket"] == out["logs_bucket_name"]
    if "aws_wafv2_web_acl_association.wandb" in resources:
        acl = emu.client("wafv2").get_web_acl_for_resource(ResourceArn=lb["LoadBalancerArn"])
        assert acl.get("WebACL", {}).get("Name") == f"{NAME}-wandb", acl


def lb_attributes(elbv2: Any, arn: str) -> dict[str, str]:
    return {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}


def check_protection(emu: Emulator, protected: bool) -> None:
    cluster = emu.client("rds").describe_db_clusters(DBClusterIdentifier=f"{NAME}-metadata")["DBClusters"][0]
    assert cluster["DeletionProtection"] is protected
    elbv2 = emu.client("elbv2")
    lb = elbv2.describe_load_balancers(Names=[f"{NAME}-wandb"])["LoadBalancers"][0]
    attributes = lb_attributes(elbv2, lb["LoadBalancerArn"])
    assert attributes["deletion_protection.enabled"] == str(protected).lower()


def keeps_backups(doc: dict[str, Any]) -> bool:
    """Whether deleting the module's database takes a final snapshot (older modules: never)."""
    return bool(blocks(doc, "variable").get("keep_backups_on_delete", {}).get("default", False))


def leftovers(emu: Emulator) -> dict[str, list[Any]]:
    """Everything of the module's kinds still in the emulator (the zone itself is the test's)."""
    c = emu.client
    ec2, rds, elbv2 = c("ec2"), c("rds"), c("elbv2")
    default_vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault")}
    found: dict[str, list[Any]] = {
        "buckets": [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
        "eks clusters": c("eks").list_clusters()["clusters"],
        "eks add-ons": sorted(emu.proxy.addons),
        "db clusters": [d["DBClusterIdentifier"] for d in rds.describe_db_clusters()["DBClusters"]],
        "db instances": [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]],
        # A final snapshot would be manual; moto keeps the cluster's automated one (AWS deletes it).
        "db snapshots": [
            s["DBClusterSnapshotIdentifier"]
            for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
        ],
        "db subnet groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "db parameter groups": [
            g["DBParameterGroupName"]
            for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
            if g["DBParameterGroupName"].startswith(NAME)
        ],
        "db cluster parameter groups": [
            g["DBClusterParameterGroupName"]
            for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
            if g["DBClusterParameterGroupName"].startswith(NAME)
        ],
        "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
        "records": [(r["Name"], r["Type"]) for r in records(emu) if r["Type"] not in ("NS", "SOA")],
        "certificates": [x["DomainName"] for x in c("acm").list_certificates()["CertificateSummaryList"]],
        "load balancers": [x["LoadBalancerName"] for x in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target groups": [x["TargetGroupName"] for x in elbv2.describe_target_groups()["TargetGroups"]],
        "web acls": [x["Name"] for x in c("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] not in default_vpcs],
        "security groups": [
            g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["VpcId"] not in default_vpcs
        ],
        "nat gateways": [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"],
        "elastic ips": [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]],
        "launch templates": [t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"]],
        "iam roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"] if r["RoleName"].startswith(NAME)],
        "oidc providers": [p["Arn"] for p in c("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]],
        "sns topics": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "log groups": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
        "secrets": [s["Name"] for s in c("secretsmanager").list_secrets()["SecretList"]],
        "kms aliases": [
            a["AliasName"] for a in c("kms").list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")
        ],
        "kms keys not pending deletion": [
            k["KeyId"]
            for k in c("kms").list_keys()["Keys"]
            if c("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
        ],
        "eks proxy errors": list(emu.proxy.errors),
    }
    return {kind: items for kind, items in found.items() if items}


# ---- the tests on the applied modules ---------------------------------------------------------


@pytest.mark.e2e
def test_apply_builds_what_the_modules_say(applied: Applied) -> None:
    stack = applied.stack
    outputs = {env: applied.state.outputs[env]["value"] for env in ENVS}
    for env in ENVS:
        emu, out, doc = stack.emulators[env], outputs[env], stack.docs[env]
        exp = Expected.of(doc)
        assert (exp.db_instances, exp.deletion_protection) == TIER[env], f"{env}: {exp}"
        assert out["url"] == f"https://{DOMAIN}"
        check_bucket(emu, out)
        check_database(emu, out, exp)
        check_cluster(emu, out, exp)
        check_alarm(emu, out)
        check_dns_and_tls(emu, out, doc)
        check_protection(emu, exp.deletion_protection)


@dataclass
class Day2Plan:
    """One day-2 plan: ``terraform show -json`` of it, or why there is none."""

    name: str
    shown: dict[str, Any] | None = None
    error: str = ""
    seconds: tuple[float, float] = (0.0, 0.0)  # plan, show -json

    def changes(self) -> dict[str, list[str]]:
        assert self.shown is not None, f"no plan for {self.name}:\n{self.error}"
        return changes_of(self.shown, "dev")


def plan_dev(applied: Applied, variables: dict[str, Any], name: str) -> Day2Plan:
    """Plan the applied dev module with these variable defaults, without refreshing.

    The root is copied for the plan (the module files, not the state or providers) and the
    override ``zz_day2_override.tf`` goes into the copy's dev folder, so plans can run side
    by side and the applied root is never touched; the copy plans against the applied
    state file and pytest-terraform's data dir (providers), read-only."""
    assert not applied.destroyed, "the modules were already destroyed"
    root = applied.stack.root
    folder = root.parent / f"day2-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(root, folder, ignore=shutil.ignore_patterns("tf_resources.json", DAY2_OVERRIDE))
    (folder / "dev" / DAY2_OVERRIDE).write_text(
        "# Written by tests/test_e2e_aws.py for one day-2 plan.\n"
        + "".join(f'variable "{k}" {{\n  default = {hcl_value(v)}\n}}\n' for k, v in variables.items())
    )
    planfile = folder / "day2.tfplan"
    result = Day2Plan(name)
    started = time.monotonic()
    try:
        applied.terraform(
            "plan", "-input=false", "-no-color", "-lock=false", f"-state={applied.runner.state_path}",
            "-refresh=false", "-target=module.dev", f"-out={planfile}", cwd=folder,
        )  # fmt: skip
        planned = time.monotonic()
        result.shown = json.loads(applied.terraform("show", "-json", "-no-color", str(planfile), cwd=folder))
        result.seconds = (planned - started, time.monotonic() - planned)
    except AssertionError as exc:
        result.error = str(exc)
    return result


def day2_target(stack: Stack, change: Day2) -> Any:
    return stack.k8s_target if change.to is None else change.to


@pytest.fixture(scope="module")
def day2(applied: Applied) -> dict[str, Day2Plan]:
    """Every day-2 plan (and one without a change), run side by side, one per core:
    each is a fresh terraform process that spends most of its time starting the provider."""
    jobs = {"no-change": {}, **{c.id: {c.variable: day2_target(applied.stack, c)} for c in DAY2}}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(plan_dev, applied, variables, name) for name, variables in jobs.items()}
        plans = {name: future.result() for name, future in futures.items()}
    print(f"\nday-2 plans: {time.monotonic() - started:.0f} s for {len(plans)}")
    for plan in plans.values():
        print(f"  {plan.name}: plan {plan.seconds[0]:.1f} s, show -json {plan.seconds[1]:.1f} s")
    return plans


def summary(changes: dict[str, list[str]]) -> str:
    return "\n".join(f"  {'/'.join(actions):14} {address}" for address, actions in sorted(changes.items()))


@pytest.mark.e2e
def test_day2_plan_without_change_is_only_emulator_noise(day2: dict[str, Day2Plan]) -> None:
    """The allow-list EMULATOR_NOISE is what moto makes a no-change plan show, no more."""
    changes = day2["no-change"].changes()
    print(f"\nno-change plan of dev:\n{summary(changes)}")
    unexplained = {a: actions for a, actions in changes.items() if not is_noise(a, actions)}
    assert unexplained == {}, f"changes that are not listed emulator noise:\n{summary(unexplained)}"
    # moto is pinned: an entry that no longer shows is stale, and its doc line with it.
    stale = sorted(set(EMULATOR_NOISE) - set(changes))
    assert stale == [], f"EMULATOR_NOISE lists changes moto no longer causes: {stale}"


@pytest.mark.e2e
@pytest.mark.parametrize("change", DAY2, ids=lambda c: c.id)
def test_day2_change_keeps_state(applied: Applied, day2: dict[str, Day2Plan], change: Day2) -> None:
    """Issue 13: a day-2 change deletes nothing stateful, replaces the node group new-first
    (or updates it in place), and does what it should to the resources it is about."""
    to = day2_target(applied.stack, change)
    assert variable_default(applied.stack.docs["dev"], change.variable) != to
    changes = day2[change.id].changes()
    plan = day2[change.id].shown
    print(f"\n{change.id}: {change.variable} = {to!r}\n{summary(changes)}")

    deleted = {a: actions for a, actions in changes.items() if "delete" in actions and is_stateful(a)}
    assert deleted == {}, f"{change.id} deletes stateful resources:\n{summary(deleted)}"

    for address in change.replaced_new_first:
        assert changes.get(address) == REPLACE_NEW_FIRST, f"{address}: {changes.get(address)}"
    for address in change.replaced_old_first:
        assert changes.get(address) == REPLACE_OLD_FIRST, f"{address}: {changes.get(address)}"
    for address in change.created:
        assert changes.get(address) == ["create"], f"{address}: {changes.get(address)}"
    for address in change.deleted:
        assert changes.get(address) == ["delete"], f"{address}: {changes.get(address)}"
    for address, attributes in change.updated.items():
        assert changes.get(address) == ["update"], f"{address}: {changes.get(address)}"
        planned = change_of(plan, "dev", address)
        for path, value in attributes.items():
            before, after = dig(planned["before"], path), dig(planned["after"], path)
            wanted = to if value is TO else value
            assert after == wanted and before != after, f"{address}.{path}: {before!r} -> {after!r}"
    group = changes.get("aws_eks_node_group.this")
    assert group in (None, ["update"], REPLACE_NEW_FIRST), f"the node group would go before its successor: {group}"

    # Anything else that is deleted must be the change's own doing, declared above.
    declared = {*change.replaced_new_first, *change.replaced_old_first, *change.deleted}
    other = {
        a: actions
        for a, actions in changes.items()
        if "delete" in actions and a not in declared and not is_noise(a, actions)
    }
    assert other == {}, f"{change.id} also deletes:\n{summary(other)}"


@pytest.mark.e2e
def test_teardown_leaves_nothing(applied: Applied) -> None:
    """prod keeps its database, load balancer, buckets and key: lift that the documented
    way (regenerate with --no-prevent-destroy, apply deletion_protection = false), then destroy."""
    stack = applied.stack
    lift_protection(applied)
    check_protection(stack.emulators["prod"], False)

    applied.runner.destroy()
    applied.destroyed = True
    for env in ENVS:
        found = leftovers(stack.emulators[env])
        # keep_backups_on_delete (prod's default): the destroy takes a final snapshot.
        kept = [f"{NAME}-metadata-final"] if keeps_backups(stack.docs[env]) else []
        assert found.pop("db snapshots", []) == kept, f"{env}: final snapshot"
        assert found == {}, f"{env}: left after destroy"
        text = (stack.modules[env] / "main.tf").read_text()
        assert hashlib.sha256(text.encode()).hexdigest() == stack.digests[env], f"{env}: module changed"
        assert not (stack.modules[env] / DAY2_OVERRIDE).exists()
