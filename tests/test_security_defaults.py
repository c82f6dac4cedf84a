"""Issue 10: the defaults a security review accepts. Nothing administrative is open to the internet
unless asked for (--admin-cidr), alarms reach someone in prod, and the AWS CPU alarm watches the writer."""

from __future__ import annotations

import pytest

from conftest import DOMAIN_ARGS, blocks, local_value, parse, parsed, resource, run_cli, variable_default

ADMIN = ("--admin-cidr", "203.0.113.0/24")


def _conditions(body: dict) -> list[dict]:
    return body.get("lifecycle", [{}])[0].get("precondition", [])


# ---- the Kubernetes API ---------------------------------------------------------------------


def test_eks_api_is_private_unless_admin_cidrs_are_given() -> None:
    closed = parsed("aws", "prod", "both", *DOMAIN_ARGS)
    assert variable_default(closed, "cluster_endpoint_public_access") is False
    assert variable_default(closed, "cluster_endpoint_public_access_cidrs") == []
    cluster = resource(closed, "aws_eks_cluster.this")
    assert cluster["vpc_config"][0]["endpoint_public_access"] == "${var.cluster_endpoint_public_access}"
    assert cluster["vpc_config"][0]["endpoint_private_access"] is True
    # EKS opens a public endpoint without a list to 0.0.0.0/0: the module refuses that.
    (endpoint, _admins) = _conditions(cluster)
    assert endpoint["condition"] == "${!var.cluster_endpoint_public_access || length(var.cluster_endpoint_public_access_cidrs) > 0}"
    assert "without them EKS opens the API to 0.0.0.0/0" in endpoint["error_message"]
    opened = parsed("aws", "prod", "both", *DOMAIN_ARGS, *ADMIN)
    assert variable_default(opened, "cluster_endpoint_public_access") is True
    assert variable_default(opened, "cluster_endpoint_public_access_cidrs") == ["203.0.113.0/24"]


def test_eks_private_endpoint_admits_the_vpc_on_443() -> None:
    """With the public endpoint off, the runner of the application layer is inside the VPC or a
    connected network: the cluster security group must admit it on 443 (it admits only its
    members by default), the VPC unless the user names networks."""
    d = parsed("aws", "prod", "both", *DOMAIN_ARGS)
    rule = resource(d, "aws_vpc_security_group_ingress_rule.api_private")
    assert rule["count"] == "${length(local.api_private_cidrs)}"
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (443, 443, "tcp")
    assert rule["security_group_id"] == "${aws_eks_cluster.this.vpc_config[0].cluster_security_group_id}"
    assert rule["cidr_ipv4"] == "${local.api_private_cidrs[count.index]}"
    assert local_value(d, "api_private_cidrs") == (
        "${length(var.cluster_endpoint_private_access_cidrs) > 0 ? var.cluster_endpoint_private_access_cidrs : [local.vpc_cidr]}"
    )
    assert variable_default(d, "cluster_endpoint_private_access_cidrs") == []
    assert "cluster_security_group_id" in blocks(d, "output")


def test_eks_cluster_access_is_explicit_and_conflict_free() -> None:
    d = parsed("aws", "prod", "both", *DOMAIN_ARGS)
    cluster = resource(d, "aws_eks_cluster.this")
    assert cluster["access_config"][0]["bootstrap_cluster_creator_admin_permissions"] is True
    (_endpoint, admins) = _conditions(cluster)
    # The creator already has EKS's own entry: a second one for it would fail with 409.
    assert admins["condition"] == "${!contains(var.cluster_admin_arns, data.aws_iam_session_context.current.issuer_arn)}"
    assert "which EKS already makes cluster admin" in admins["error_message"]
    assert blocks(d, "output")["cluster_admins"]["value"] == (
        "${concat([data.aws_iam_session_context.current.issuer_arn], var.cluster_admin_arns)}"
    )
    conditions = [v["condition"] for v in blocks(d, "variable")["cluster_admin_arns"]["validation"]]
    assert any("(role|user)/" in c for c in conditions)


def test_gke_api_is_private_unless_admin_cidrs_are_given() -> None:
    closed = parsed("gcp", "prod", "both", *DOMAIN_ARGS)
    assert variable_default(closed, "private_endpoint") is True
    assert "0.0.0.0/0" not in variable_default(closed, "cluster_endpoint_authorized_cidrs")
    opened = parsed("gcp", "prod", "both", *DOMAIN_ARGS, *ADMIN)
    assert variable_default(opened, "private_endpoint") is False
    assert variable_default(opened, "cluster_endpoint_authorized_cidrs") == ["203.0.113.0/24"]


def test_aks_api_admits_the_admin_networks_and_the_module_egress_only() -> None:
    d = parsed("azure", "prod", "both", *DOMAIN_ARGS)
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    assert cluster["api_server_access_profile"][0]["authorized_ip_ranges"] == (
        "${local.private_cluster ? [] : concat(var.api_server_authorized_ip_ranges, local.egress_cidrs)}"
    )
    assert blocks(d, "locals")["egress_cidrs"] == '${[for ip in azurerm_public_ip.nat[*].ip_address : "${ip}/32"]}'
    # An empty list would admit every address: refused.
    empty = [c for c in _conditions(cluster) if "egress_cidrs" in c["condition"]]
    assert len(empty) == 1 and "would admit every address" in empty[0]["error_message"]
    assert variable_default(d, "api_server_authorized_ip_ranges") == []
    assert variable_default(parsed("azure", "prod", "both", *DOMAIN_ARGS, *ADMIN), "api_server_authorized_ip_ranges") == ["203.0.113.0/24"]


def test_key_vault_denies_by_default() -> None:
    d = parsed("azure", "prod", "both", *DOMAIN_ARGS, *ADMIN)
    acls = resource(d, "azurerm_key_vault.this")["network_acls"][0]
    assert acls["default_action"] == "Deny"
    assert acls["bypass"] == "AzureServices"
    assert acls["ip_rules"] == '${[for cidr in concat(var.key_vault_allowed_cidrs, local.egress_cidrs) : trimsuffix(cidr, "/32")]}'
    assert variable_default(d, "key_vault_allowed_cidrs") == ["203.0.113.0/24"]


def test_no_checkov_suppression_hides_an_open_api() -> None:
    """CKV_AWS_38/39 used to hide a public API open to 0.0.0.0/0; AZURE_6 an unrestricted one."""
    from conftest import generate

    for cloud, checks in (("aws", ("CKV_AWS_38", "CKV_AWS_39")), ("azure", ("CKV_AZURE_6", "CKV_AZURE_109"))):
        text = generate(cloud, "prod", "both", *DOMAIN_ARGS)
        for check in checks:
            assert f"checkov:skip={check}:" not in text, (cloud, check)


@pytest.mark.parametrize(
    "argv,words",
    [
        ([*ADMIN, "--private-endpoint"], "--admin-cidr: opens the Kubernetes API"),
        (["--admin-cidr", "203.0.113.7/24"], "--admin-cidr: '203.0.113.7/24' has host bits set; the network is 203.0.113.0/24"),
        (["--allowed-cidr", "10.0.0.1/8"], "--allowed-cidr: '10.0.0.1/8' has host bits set"),
        ([*ADMIN, *ADMIN], "--admin-cidr: lists the same CIDR twice"),
        (["--alarm-email", "not-an-address"], "--alarm-email: 'not-an-address' is not an e-mail address"),
    ],
)
def test_admin_and_alarm_options_are_checked(capsys, argv: list[str], words: str) -> None:
    code, out, err = run_cli(["--cloud", "aws", "--env", "prod", "--products", "both", *argv], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err


# ---- alarms that reach someone ---------------------------------------------------------------


TARGETS = {
    "aws": "aws_sns_topic.alarms",
    "gcp": "google_monitoring_alert_policy.db_cpu",
    "azure": "azurerm_monitor_action_group.alarms",
}


@pytest.mark.parametrize("cloud", TARGETS)
def test_prod_alarms_must_reach_someone(cloud: str) -> None:
    prod = parsed(cloud, "prod", "both", *DOMAIN_ARGS)
    (check,) = [c for c in _conditions(resource(prod, TARGETS[cloud])) if "alarm_emails" in c["condition"]]
    assert check["condition"] == '${length(var.alarm_emails) > 0 || var.alarm_webhook_url != ""}'
    assert "in prod the database CPU alarm (R-DB-4) must reach someone" in check["error_message"]
    dev = parsed(cloud, "dev", "both", *DOMAIN_ARGS)
    assert not [c for c in _conditions(resource(dev, TARGETS[cloud])) if "alarm_emails" in c["condition"]]
    emails = parsed(cloud, "prod", "both", *DOMAIN_ARGS, "--alarm-email", "ops@example.com")
    assert variable_default(emails, "alarm_emails") == ["ops@example.com"]
    assert variable_default(emails, "alarm_webhook_url") == ""


def test_aws_cpu_alarm_watches_the_writer() -> None:
    alarm = resource(parsed("aws", "prod", "both", *DOMAIN_ARGS), "aws_cloudwatch_metric_alarm.db_cpu")
    assert alarm["dimensions"] == {"DBClusterIdentifier": "${aws_rds_cluster.metadata.cluster_identifier}", "Role": "WRITER"}
    assert alarm["threshold"] == "${var.db_cpu_alarm_threshold}"


def test_alarm_webhooks_are_wired() -> None:
    aws = parsed("aws", "prod", "both", *DOMAIN_ARGS)
    webhook = resource(aws, "aws_sns_topic_subscription.alarm_webhook")
    assert webhook["protocol"] == "https" and webhook["endpoint"] == "${var.alarm_webhook_url}"
    azure = resource(parsed("azure", "prod", "both", *DOMAIN_ARGS), "azurerm_monitor_action_group.alarms")
    assert azure["dynamic"][-1]["webhook_receiver"]["content"][0]["service_uri"] == "${webhook_receiver.value}"
    gcp = resource(parsed("gcp", "prod", "both", *DOMAIN_ARGS), "google_monitoring_notification_channel.webhook")
    assert gcp["type"] == "webhook_tokenauth" and gcp["labels"] == {"url": "${var.alarm_webhook_url}"}
