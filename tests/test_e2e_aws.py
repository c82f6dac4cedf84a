"""End to end: the generated AWS module applied and destroyed for real, against moto.

1. ``gen-tf --cloud aws --env dev|prod --products both --domain wandb.example.com
   --dns-zone example.com`` writes two modules. Each stays byte-for-byte as generated;
   the test only adds ``zz_override.tf`` beside it (tests/e2e/zz_override.tf.tmpl),
   which points the AWS provider at a local emulator.
2. Both modules are called from one root (``module "dev"``, ``module "prod"``), so a single
   ``terraform apply`` builds them side by side, each against its own moto server: the
   provider's fixed waits (about 60 s for a load balancer, 30 s per RDS step) then overlap
   and the test stays near 4 minutes instead of 7.
3. pytest-terraform's ``terraform`` fixture runs init, plan and apply on that root and
   destroys it at teardown. Its fixtures look a module up by name under
   ``--tf-mod-dir``; the session fixture here generates the root into a temporary
   folder and points that setting at it before the fixture runs.
4. boto3 reads back from the emulator what was built; then the prod module is
   unprotected the documented way (apply ``deletion_protection = false``), both are
   destroyed, and boto3 confirms nothing the modules made is left.

The emulator and its gaps (and the two stand-ins this test adds) are described in
docs/e2e.md. moto invents some attributes, so a second plan is not expected to be empty.
"""

from __future__ import annotations

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
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import IN_CI, REPO, TERRAFORMRC, blocks, parse, terraform_or_skip, variable_default


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

pytestmark = pytest.mark.e2e

E2E = Path(__file__).resolve().parent / "e2e"
REGION = "us-east-1"
DOMAIN = "wandb.example.com"
ZONE = "example.com"
NAME = "wandb"
ENVS = ("dev", "prod")
ROOT = "aws_e2e"
# Seconds any one terraform command may take (apply takes about 2.5 minutes).
TERRAFORM_TIMEOUT = 480


@dataclass(frozen=True)
class Expected:
    db_class: str
    backup_days: int
    db_instances: int
    node_type: str
    min_nodes: int
    deletion_protection: bool


EXPECTED = {
    "dev": Expected("db.r6g.large", 7, 1, "r6i.xlarge", 2, False),
    "prod": Expected("db.r6g.2xlarge", 14, 2, "r6i.4xlarge", 3, True),
}

# The AWS API each resource or data source type talks to, by the provider's endpoint
# name; None: computed by the provider without a call. Longest prefix wins.
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


def gen_tf(env: str) -> str:
    """The module the real CLI writes."""
    argv = ["--cloud", "aws", "--env", env, "--products", "both", "--domain", DOMAIN, "--dns-zone", ZONE]
    proc = subprocess.run(
        [sys.executable, "-m", "generator", *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def service_of(kind: str) -> str | None:
    matches = [p for p in SERVICE_OF_PREFIX if kind.startswith(p)]
    assert matches, f"{kind}: unknown AWS service; add its prefix to SERVICE_OF_PREFIX and an endpoint to the override"
    return SERVICE_OF_PREFIX[max(matches, key=len)]


def services_used(doc: dict[str, Any]) -> dict[str, set[str]]:
    """{endpoint name: resource/data types that need it} for one parsed module."""
    used: dict[str, set[str]] = {}
    for kind in ("resource", "data"):
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


def test_every_service_the_modules_use_has_an_endpoint() -> None:
    """Without an endpoint the provider would go to real AWS: refuse before any apply."""
    template = (E2E / "zz_override.tf.tmpl").read_text()
    for env in ENVS:
        doc = parse(gen_tf(env))
        assert services_used(doc), "no AWS resources parsed"
        assert not missing_endpoints(doc, template), f"{env}: services without an endpoint in the override"


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
    with ExitStack() as cleanup, pytest.MonkeyPatch.context() as mp:
        emulators: dict[str, Emulator] = {}
        modules: dict[str, Path] = {}
        docs: dict[str, dict[str, Any]] = {}
        digests: dict[str, str] = {}
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

            text = gen_tf(env)
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
        yield Stack(root, emulators, modules, docs, digests)


# pytest-terraform: a function-scoped fixture named aws_e2e that runs terraform init,
# plan and apply in <--tf-mod-dir>/aws_e2e and destroys at teardown. Called as a
# statement, not as a decorator, so the test does not also get the `terraform` mark.
tf.terraform(ROOT, scope="function", teardown=tf.terraform.TEARDOWN_ON)


# ---- checks against the emulator --------------------------------------------------------


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


def check_database(emu: Emulator, exp: Expected) -> None:
    rds = emu.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"{NAME}-metadata")["DBClusters"][0]
    assert cluster["Engine"] == "aurora-mysql", cluster["Engine"]
    assert cluster["EngineVersion"].startswith("8.0."), cluster["EngineVersion"]
    assert cluster["BackupRetentionPeriod"] == exp.backup_days
    assert cluster["StorageEncrypted"] is True
    assert cluster["DeletionProtection"] is exp.deletion_protection
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


def check_cluster(emu: Emulator, out: dict[str, Any], exp: Expected, doc: dict[str, Any]) -> None:
    eks = emu.client("eks")
    cluster = eks.describe_cluster(name=out["cluster_name"])["cluster"]
    assert cluster["version"] == variable_default(doc, "kubernetes_version")
    group = eks.describe_nodegroup(clusterName=out["cluster_name"], nodegroupName=f"{NAME}-nodes")["nodegroup"]
    assert group["instanceTypes"] == [exp.node_type]
    scaling = group["scalingConfig"]
    assert scaling["minSize"] == exp.min_nodes, scaling
    assert scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"], scaling
    assert len(group["subnets"]) == variable_default(doc, "node_zone_count"), group["subnets"]
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
    assert alarm["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": f"{NAME}-metadata"}]
    assert alarm["AlarmActions"] == [out["alarm_topic_arn"]]


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

    attributes = lb_attributes(elbv2, lb["LoadBalancerArn"])
    resources = blocks(doc, "resource")
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


# ---- the test -----------------------------------------------------------------------------


def test_apply_verify_destroy(stack: Stack, aws_e2e: Any) -> None:
    outputs = {env: aws_e2e.outputs[env]["value"] for env in ENVS}
    for env in ENVS:
        emu, out, exp, doc = stack.emulators[env], outputs[env], EXPECTED[env], stack.docs[env]
        assert out["url"] == f"https://{DOMAIN}"
        check_bucket(emu, out)
        check_database(emu, exp)
        check_cluster(emu, out, exp, doc)
        check_alarm(emu, out)
        check_dns_and_tls(emu, out, doc)
        check_protection(emu, exp.deletion_protection)

    # prod keeps its database, load balancer and buckets: lift that the documented way
    # (deletion_protection = false, applied to what it protects), then destroy.
    runner = aws_e2e.terraform
    shutil.copy(E2E / "zz_teardown_override.tf", stack.modules["prod"] / "zz_teardown_override.tf")
    targets = [f"-target=module.prod.{address}" for address in protected_resources(stack.docs["prod"])]
    assert any("aws_rds_cluster." in t for t in targets), targets
    runner._run_cmd(runner._get_cmd_args("apply", plan="") + ["-refresh=false", *targets])
    check_protection(stack.emulators["prod"], False)

    runner.destroy()
    for env in ENVS:
        assert leftovers(stack.emulators[env]) == {}, f"{env}: left after destroy"
        text = (stack.modules[env] / "main.tf").read_text()
        assert hashlib.sha256(text.encode()).hexdigest() == stack.digests[env], f"{env}: module changed"
