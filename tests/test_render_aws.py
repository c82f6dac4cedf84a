"""The AWS module, asserted requirement by requirement on the parsed HCL."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import DOMAIN_ARGS, blocks, generate, local_value, parse, parsed, resource, variable_default

SIZES = {  # typed from requirements.md
    ("dev", "models"): ("r6i.large", "db.r6g.large"),
    ("dev", "weave"): ("r6i.xlarge", "db.r6g.large"),
    ("dev", "both"): ("r6i.xlarge", "db.r6g.large"),
    ("prod", "models"): ("r6i.2xlarge", "db.r6g.2xlarge"),
    ("prod", "weave"): ("r6i.4xlarge", "db.r6g.2xlarge"),
    ("prod", "both"): ("r6i.4xlarge", "db.r6g.2xlarge"),
}
COMBOS = [(e, p) for e in ("dev", "test", "prod") for p in ("models", "weave", "both")]
TIER = {"dev": "dev", "test": "dev", "prod": "prod"}


def doc(env: str, products: str, *extra: str) -> dict[str, Any]:
    return parsed("aws", env, products, *DOMAIN_ARGS, *extra)


def resolve(d: dict[str, Any], value: Any) -> Any:
    """Replace a bare ``${var.x}`` with the variable's default."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{var\.([a-z0-9_]+)\}", value)
        if match:
            return variable_default(d, match.group(1))
    return value


@pytest.mark.parametrize("env,products", COMBOS)
def test_nodes_sized_x86_and_spread(env: str, products: str) -> None:
    """R-K8S-5, R-LAYER-1, sizing table: node type, disk, counts and zones."""
    d = doc(env, products)
    node_type = SIZES[(TIER[env], products)][0]
    group = resource(d, "aws_eks_node_group.this")
    assert [resolve(d, t) for t in group["instance_types"]] == [node_type]
    assert group["ami_type"] == "AL2023_x86_64_STANDARD"
    scaling = group["scaling_config"][0]
    zones = 3 if env == "prod" else 2
    assert resolve(d, scaling["min_size"]) >= 2
    assert resolve(d, scaling["min_size"]) >= zones  # raised where W&B needs more (tests/test_capacity.py)
    assert resolve(d, scaling["desired_size"]) >= resolve(d, scaling["min_size"])
    assert resolve(d, scaling["max_size"]) >= resolve(d, scaling["desired_size"])
    assert group["subnet_ids"] == "${slice(local.private_subnet_ids, 0, var.node_zone_count)}"
    assert variable_default(d, "node_zone_count") == zones
    template = resource(d, "aws_launch_template.nodes")
    ebs = template["block_device_mappings"][0]["ebs"][0]
    assert resolve(d, ebs["volume_size"]) == 100
    assert ebs["volume_type"] == "gp3" and ebs["encrypted"] is True
    assert template["metadata_options"][0]["http_tokens"] == "required"  # IMDSv2


def test_arm_node_types_rejected_by_the_variable() -> None:
    d = doc("prod", "both")
    condition = blocks(d, "variable")["node_instance_type"]["validation"][0]["condition"]
    regex = re.search(r'regex\("(.+?)", var', condition).group(1).replace("\\\\", "\\")
    for arm in ("r6g.large", "m7gd.xlarge", "c6gn.2xlarge", "r8g.4xlarge"):
        assert re.search(regex, arm), arm
    for x86 in ("r6i.large", "m6i.xlarge", "r7iz.2xlarge", "r6a.large", "m5.large"):
        assert not re.search(regex, x86), x86


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_eks_cluster(env: str) -> None:
    d = doc(env, "both")
    cluster = resource(d, "aws_eks_cluster.this")
    assert cluster["version"] == "${var.kubernetes_version}"
    validation = blocks(d, "variable")["kubernetes_version"]["validation"][0]
    # R-K8S-4 and issue 11: the versions EKS still creates on the catalog's date, none below 1.29.
    assert validation["condition"] == '${contains(["1.32", "1.33", "1.34", "1.35", "1.36"], var.kubernetes_version)}'
    assert variable_default(d, "kubernetes_version") == "1.36"
    assert cluster["upgrade_policy"][0]["support_type"] == "${var.eks_support_type}"
    assert variable_default(d, "eks_support_type") == "STANDARD"
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert cluster["encryption_config"][0]["provider"][0]["key_arn"] == "${aws_kms_key.this.arn}"
    assert set(cluster["enabled_cluster_log_types"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert cluster["vpc_config"][0]["endpoint_private_access"] is True


def test_network_has_three_zones_and_nat_egress() -> None:
    """R-NET-1: private + public subnets in up to 3 AZs, NAT egress for the nodes."""
    d = doc("prod", "both")
    assert local_value(d, "azs") == (
        "${slice(data.aws_availability_zones.available.names, 0, "
        "min(3, length(data.aws_availability_zones.available.names)))}"
    )
    assert resource(d, "aws_subnet.private")["count"] == "${local.create_network ? local.zone_count : 0}"
    assert resource(d, "aws_subnet.public")["count"] == "${local.internet ? local.zone_count : 0}"
    assert resource(d, "aws_nat_gateway.this")["count"] == "${local.nat_count}"
    assert local_value(d, "nat_count") == "${local.internet ? (var.single_nat_gateway ? 1 : local.zone_count) : 0}"
    assert local_value(d, "internet") == "${local.create_network && !var.air_gapped}"
    assert variable_default(d, "existing_vpc_id") == "" and variable_default(d, "air_gapped") is False
    assert variable_default(d, "single_nat_gateway") is False  # one per zone in prod
    assert variable_default(doc("dev", "both"), "single_nat_gateway") is True
    route = resource(d, "aws_route_table.private")["dynamic"][0]["route"]
    assert route["content"][0]["cidr_block"] == "0.0.0.0/0"
    assert "aws_nat_gateway.this" in route["for_each"]


def test_bring_your_own_network() -> None:
    byo = ("--vpc-id", "vpc-0123456789abcdef0", "--private-subnet-id", "subnet-0123456789abcd001", "--private-subnet-id", "subnet-0123456789abcd002",
           "--public-subnet-id", "subnet-0123456789abcd003", "--public-subnet-id", "subnet-0123456789abcd004")
    d = doc("prod", "both", *byo)
    assert variable_default(d, "existing_vpc_id") == "vpc-0123456789abcdef0"
    assert variable_default(d, "existing_private_subnet_ids") == ["subnet-0123456789abcd001", "subnet-0123456789abcd002"]
    assert variable_default(d, "existing_public_subnet_ids") == ["subnet-0123456789abcd003", "subnet-0123456789abcd004"]
    assert local_value(d, "create_network") == '${var.existing_vpc_id == ""}'
    assert resource(d, "aws_vpc.this")["count"] == "${local.create_network ? 1 : 0}"
    assert local_value(d, "private_subnet_ids") == "${local.create_network ? aws_subnet.private[*].id : var.existing_private_subnet_ids}"
    assert resource(d, "aws_eks_cluster.this")["vpc_config"][0]["subnet_ids"] == "${local.private_subnet_ids}"
    assert resource(d, "aws_db_subnet_group.metadata")["subnet_ids"] == "${local.private_subnet_ids}"
    assert resource(d, "aws_rds_cluster_instance.standby")["availability_zone"] == "${local.private_azs[1]}"


def test_air_gapped() -> None:
    """R-NET-2: no internet gateway/NAT, VPC endpoints, internal load balancer, private registry."""
    d = doc("dev", "both", "--air-gapped", "--image-registry", "registry.corp.example/wandb")
    assert variable_default(d, "air_gapped") is True
    assert variable_default(d, "image_registry") == "registry.corp.example/wandb"
    assert resource(d, "aws_internet_gateway.this")["count"] == "${local.internet ? 1 : 0}"
    endpoints = resource(d, "aws_vpc_endpoint.interface")
    assert "ecr.dkr" in endpoints["for_each"] and "sts" in endpoints["for_each"]
    assert resource(d, "aws_vpc_endpoint.s3")["vpc_endpoint_type"] == "Gateway"
    assert resource(d, "aws_lb.wandb")["internal"] == "${var.air_gapped}"
    # The app layer's inputs of the same names (catalogs/aws.yaml app_inputs), empty when unset.
    assert blocks(d, "output")["image_registry"]["value"] == "${var.image_registry}"
    assert blocks(d, "output")["airgapped"]["value"] == "${var.air_gapped}"



@pytest.mark.parametrize("env", ["dev", "prod"])
def test_metrics_server_serves_the_charts_autoscalers(env: str) -> None:
    """W&B's chart scales its components with HorizontalPodAutoscalers, which need the resource
    metrics API; EKS has no Metrics Server unless the community add-on is installed."""
    addon = resource(doc(env, "both"), "aws_eks_addon.metrics_server")
    assert addon["addon_name"] == "metrics-server"
    assert addon["cluster_name"] == "${aws_eks_cluster.this.name}"
    assert addon["depends_on"] == ["${aws_eks_node_group.this}"]  # its pod needs a node to become active


def test_csi_driver_and_lb_controller_iam() -> None:
    """R-K8S-3 (EBS CSI add-on with IRSA role) and R-K8S-2 (LB controller IAM)."""
    d = doc("dev", "models")
    addon = resource(d, "aws_eks_addon.ebs_csi")
    assert addon["addon_name"] == "aws-ebs-csi-driver"
    assert addon["service_account_role_arn"] == "${aws_iam_role.ebs_csi.arn}"
    trust = blocks(d, "data")["aws_iam_policy_document.ebs_csi_assume"]["statement"][0]
    subs = [c for c in trust["condition"] if c["variable"].endswith(":sub")]
    assert subs[0]["values"] == ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    assert resource(d, "aws_iam_openid_connect_provider.eks")["client_id_list"] == ["sts.amazonaws.com"]
    lb = blocks(d, "data")["aws_iam_policy_document.lb_controller"]
    actions = {a for s in lb["statement"] for a in s["actions"]}
    assert {"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:CreateLoadBalancer"} <= actions
    assert resource(d, "aws_iam_role_policy.lb_controller")["role"] == "${aws_iam_role.lb_controller.id}"


@pytest.mark.parametrize("env,products", COMBOS)
def test_aurora_mysql(env: str, products: str) -> None:
    """R-DB-1/2/3/5: Aurora MySQL 3, sized, encrypted, private, backed up, standby in prod."""
    d = doc(env, products)
    prod = TIER[env] == "prod"
    cluster = resource(d, "aws_rds_cluster.metadata")
    assert cluster["engine"] == "aurora-mysql"
    # Issue 11: the major only, so automatic minor upgrades never make a plan fight.
    assert local_value(d, "aurora_engine_versions") == {"8.0": "8.0", "8.4": "8.4"}
    assert local_value(d, "aurora_parameter_families") == {"8.0": "aurora-mysql8.0", "8.4": "aurora-mysql8.4"}
    assert cluster["engine_version"] == "${local.aurora_engine_versions[var.mysql_version]}"
    assert variable_default(d, "mysql_version") == "8.4"
    for group in ("aws_rds_cluster_parameter_group.metadata", "aws_db_parameter_group.metadata"):
        assert resource(d, group)["family"] == "${local.aurora_parameter_families[var.mysql_version]}"
        assert resource(d, group)["lifecycle"][0]["create_before_destroy"] is True
    assert cluster["storage_encrypted"] is True and cluster["kms_key_id"] == "${aws_kms_key.this.arn}"
    # Issue 14: a password Terraform owns (write-only), not RDS-managed (RDS rotates that one weekly).
    assert "manage_master_user_password" not in cluster
    assert cluster["master_password_wo"] == "${ephemeral.aws_secretsmanager_random_password.db.random_password}"
    assert cluster["master_password_wo_version"] == "${var.db_password_version}"
    assert "master_password" not in cluster
    assert resolve(d, cluster["backup_retention_period"]) == (14 if prod else 7)
    assert resolve(d, cluster["backup_retention_period"]) >= 7
    assert re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", resolve(d, cluster["preferred_backup_window"]))
    assert resolve(d, cluster["deletion_protection"]) is prod
    primary = resource(d, "aws_rds_cluster_instance.primary")
    assert resolve(d, primary["instance_class"]) == SIZES[(TIER[env], products)][1]
    assert "engine_version" not in primary  # the cluster's; a copy would fight its upgrades
    assert primary["publicly_accessible"] is False
    standby = resource(d, "aws_rds_cluster_instance.standby")
    assert standby["count"] == "${var.db_standby ? 1 : 0}"
    assert variable_default(d, "db_standby") is prod
    assert primary["availability_zone"] == "${local.private_azs[0]}" and standby["availability_zone"] == "${local.private_azs[1]}"


def test_standby_switch() -> None:
    assert variable_default(doc("prod", "both", "--no-standby"), "db_standby") is False
    assert variable_default(doc("dev", "both", "--standby"), "db_standby") is True


def test_retention_option_and_validation() -> None:
    d = doc("dev", "both", "--backup-retention-days", "21")
    assert variable_default(d, "backup_retention_days") == 21
    condition = blocks(d, "variable")["backup_retention_days"]["validation"][0]["condition"]
    assert "var.backup_retention_days >= 7" in condition


def test_db_only_reachable_from_cluster() -> None:
    d = doc("prod", "both")
    rule = resource(d, "aws_vpc_security_group_ingress_rule.metadata_from_cluster")
    assert rule["from_port"] == 3306 and rule["to_port"] == 3306
    assert "cluster_security_group_id" in rule["referenced_security_group_id"]
    assert "cidr_ipv4" not in rule


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_cpu_alarm(env: str) -> None:
    """R-DB-4: CPU above 40% for 5 minutes, notifying SNS."""
    d = doc(env, "both")
    alarm = resource(d, "aws_cloudwatch_metric_alarm.db_cpu")
    assert alarm["namespace"] == "AWS/RDS" and alarm["metric_name"] == "CPUUtilization"
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert resolve(d, alarm["threshold"]) == 40
    assert resolve(d, alarm["period"]) * alarm["evaluation_periods"] == 300
    assert alarm["dimensions"]["DBClusterIdentifier"] == "${aws_rds_cluster.metadata.cluster_identifier}"
    assert alarm["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"]


def test_bucket() -> None:
    """R-OBJ-1: CORS for pre-signed URLs; public access blocked, SSE-KMS, versioning, TLS only."""
    d = doc("prod", "both")
    rule = resource(d, "aws_s3_bucket_cors_configuration.artifacts")["cors_rule"][0]
    assert set(rule["allowed_methods"]) == {"GET", "PUT", "HEAD"}
    assert rule["allowed_origins"] == ["https://${var.domain}"]
    assert variable_default(d, "domain") == "wandb.example.com"
    assert rule["expose_headers"] == ["ETag"]
    block = resource(d, "aws_s3_bucket_public_access_block.artifacts")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    sse = resource(d, "aws_s3_bucket_server_side_encryption_configuration.artifacts")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert resource(d, "aws_s3_bucket_versioning.artifacts")["versioning_configuration"][0]["status"] == "Enabled"
    deny = blocks(d, "data")["aws_iam_policy_document.artifacts_bucket"]["statement"][0]
    assert deny["effect"] == "Deny"
    assert deny["condition"][0] == {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}


def test_wandb_irsa_role_can_read_write_and_presign() -> None:
    d = doc("dev", "both")
    trust = blocks(d, "data")["aws_iam_policy_document.wandb_assume"]["statement"][0]
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert trust["principals"][0]["identifiers"] == ["${aws_iam_openid_connect_provider.eks.arn}"]
    policy = blocks(d, "data")["aws_iam_policy_document.wandb_bucket"]
    by_sid = {s["sid"]: s for s in policy["statement"]}
    # W&B's documented minimum (wandb/terraform-aws-wandb modules/secure_storage_connector).
    assert set(by_sid["Bucket"]["actions"]) >= {
        "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetBucketCORS",
        "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:ListBucketMultipartUploads",
    }
    assert by_sid["Bucket"]["resources"] == ["${aws_s3_bucket.artifacts.arn}"]
    assert {"s3:GetObject*", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} <= set(by_sid["ReadWriteObjects"]["actions"])
    assert by_sid["ReadWriteObjects"]["resources"] == ["${aws_s3_bucket.artifacts.arn}/*"]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(by_sid["UseBucketKey"]["actions"])
    assert not any("*" == a or a.endswith(":*") for s in policy["statement"] for a in s["actions"])


def test_dns_and_tls_with_a_zone() -> None:
    """R-DNS-1 (A alias record) and R-TLS-1 (ACM certificate, TLS at the load balancer)."""
    d = doc("prod", "both")
    assert variable_default(d, "dns_zone_name") == "example.com"
    record = resource(d, "aws_route53_record.wandb")
    assert record["type"] == "A" and record["name"] == "${var.domain}"
    assert record["alias"][0]["name"] == "${aws_lb.wandb.dns_name}"
    cert = resource(d, "aws_acm_certificate.wandb")
    assert cert["validation_method"] == "DNS" and cert["domain_name"] == "${var.domain}"
    listener = resource(d, "aws_lb_listener.https")
    assert listener["protocol"] == "HTTPS" and listener["port"] == 443
    assert listener["certificate_arn"] == "${local.certificate_arn}"
    assert resource(d, "aws_lb_listener.http")["default_action"][0]["redirect"][0]["protocol"] == "HTTPS"


def test_without_a_zone_the_module_takes_a_certificate() -> None:
    d = parsed("aws", "dev", "models")
    assert variable_default(d, "dns_zone_name") == ""
    assert "default" not in blocks(d, "variable")["domain"]  # required at apply time
    assert resource(d, "aws_route53_record.wandb")["count"] == "${local.manage_dns ? 1 : 0}"
    pre = resource(d, "aws_lb_listener.https")["lifecycle"][0]["precondition"][0]
    assert pre["condition"] == '${local.certificate_arn != ""}'


def test_outputs_and_no_secrets() -> None:
    d = doc("prod", "both")
    outputs = blocks(d, "output")
    for name in ("cluster_name", "cluster_endpoint", "kubeconfig_command", "db_endpoint", "db_secret_arn", "bucket_name", "url"):
        assert name in outputs, name
    assert outputs["db_secret_arn"]["value"] == "${aws_secretsmanager_secret.db_password.arn}"
    # The password exists only in memory during apply: generated by an ephemeral resource and written
    # to write-only arguments alone, from URL-unreserved characters (letters and digits).
    text = generate("aws", "prod", "both", *DOMAIN_ARGS)
    ephemeral = parse(text)["ephemeral"][0]["aws_secretsmanager_random_password"]["db"]
    assert ephemeral["exclude_punctuation"] is True and ephemeral["include_space"] is False
    version = resource(d, "aws_secretsmanager_secret_version.db_password")
    assert version["secret_string_wo"] == "${ephemeral.aws_secretsmanager_random_password.db.random_password}"
    assert "secret_string" not in version
    assert not re.search(r"^\s*(master_)?password\s*=", text, flags=re.M | re.I)


def test_tags_reach_every_resource() -> None:
    d = doc("dev", "both", "--tag", "team=ml")
    assert variable_default(d, "tags") == {"team": "ml"}
    provider = d["provider"][0]["aws"]
    assert provider["default_tags"][0]["tags"] == "${local.tags}"


@pytest.mark.parametrize("extra", [(), ("--air-gapped", "--image-registry", "registry.corp.example/wandb")])
def test_narrowed_allowed_cidrs_let_wandb_reach_itself(extra: tuple[str, ...]) -> None:
    """The chart points the API and Weave's trace server at W&B's public URL; with a narrowed
    ingress_allowed_cidrs those calls pass from the NAT gateways (internet-facing) or the VPC
    (internal, air-gapped), and nothing is added while the list is open."""
    d = doc("prod", "both", "--allowed-cidr", "203.0.113.0/24", *extra)
    assert variable_default(d, "ingress_allowed_cidrs") == ["203.0.113.0/24"]
    assert local_value(d, "ingress_narrowed") == '${!contains(var.ingress_allowed_cidrs, "0.0.0.0/0")}'
    nat = resource(d, "aws_vpc_security_group_ingress_rule.lb_https_from_nat")
    assert nat["count"] == "${local.ingress_narrowed ? local.nat_count : 0}"
    assert nat["cidr_ipv4"] == "${aws_eip.nat[count.index].public_ip}/32"
    assert (nat["from_port"], nat["to_port"], nat["security_group_id"]) == (443, 443, "${aws_security_group.lb.id}")
    (duplicate,) = nat["lifecycle"][0]["precondition"]
    assert duplicate["condition"] == '${!contains(var.ingress_allowed_cidrs, "${aws_eip.nat[count.index].public_ip}/32")}'
    vpc = resource(d, "aws_vpc_security_group_ingress_rule.lb_https_from_vpc")
    assert vpc["count"] == "${local.ingress_narrowed && var.air_gapped && !contains(var.ingress_allowed_cidrs, local.vpc_cidr) ? 1 : 0}"
    assert vpc["cidr_ipv4"] == "${local.vpc_cidr}"
