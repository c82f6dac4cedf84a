"""The GCP module, requirement by requirement, over every env x products combination.

Assertions read the parsed HCL (python-hcl2 via conftest), not the text. Values
that Terraform decides at plan time from a variable (counts, conditionals) are
checked by their expression plus the variable's default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import WANDB_SERVICE_ACCOUNTS_WEAVE, local_value, ENVS, PRODUCTS, blocks, generate, parsed, resource, terraform, variable_default

CLOUD = "gcp"
COMBOS = [(env, products) for env in ENVS for products in PRODUCTS]
WITH_DNS = ("--domain", "wandb.example.com", "--dns-zone", "example.com")
VARIANTS = [(env, products, extra) for env, products in COMBOS for extra in ((), WITH_DNS)]

# requirements.md, "Machine types per node" (GCP) and the sizing tables.
NODE_TYPES = {
    "dev": {"models": "n2-highmem-2", "weave": "n2-highmem-4", "both": "n2-highmem-4"},
    "prod": {"models": "n2-highmem-8", "weave": "n2-highmem-16", "both": "n2-highmem-16"},
}
DB_TIERS = {"dev": "db-n1-highmem-2", "prod": "db-n1-highmem-8"}
DB_DISK_GIB = {"dev": 100, "prod": 500}
ZONES = {"dev": 2, "prod": 3}
WANDB_KSAS = WANDB_SERVICE_ACCOUNTS_WEAVE
WB_FLAGS = {
    "binlog_row_image": "minimal",
    "max_prepared_stmt_count": "1048576",
    "max_execution_time": "60000",
    "long_query_time": "1",
    "slow_query_log": "on",
    "sort_buffer_size": "67108864",
    "innodb_lru_scan_depth": "100",
}

combos = pytest.mark.parametrize(("env", "products"), COMBOS, ids=[f"{e}-{p}" for e, p in COMBOS])
variants = pytest.mark.parametrize(
    ("env", "products", "extra"),
    VARIANTS,
    ids=[f"{e}-{p}{'-dns' if x else ''}" for e, p, x in VARIANTS],
)


def doc(env: str, products: str, *extra: str) -> dict[str, Any]:
    return parsed(CLOUD, env, products, *extra)


def one_block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The single nested block ``name`` of a parsed body."""
    found = body.get(name)
    assert isinstance(found, list) and len(found) == 1, f"expected one {name} block, got {found!r}"
    return found[0]


def ternary(expr: str, condition_var: str, when_true: str, when_false: str, value: bool) -> str:
    """Resolve ``${var.x ? "A" : "B"}`` for a known value of var.x (and check its shape)."""
    assert expr == f'${{var.{condition_var} ? "{when_true}" : "{when_false}"}}', expr
    return when_true if value else when_false


def validation_conditions(d: dict[str, Any], name: str) -> list[str]:
    return [v["condition"] for v in blocks(d, "variable")[name].get("validation", [])]


def hcl_regexes(condition: str) -> list[str]:
    """The regex literals of ``regex("...", ...)`` calls in a condition, unescaped from HCL."""
    return [m.encode().decode("unicode_escape") for m in re.findall(r'regex\("((?:[^"\\]|\\.)*)"', condition)]


# ---- Kubernetes ---------------------------------------------------------------


@combos
def test_node_pool_is_the_sized_x86_type_and_disk(env: str, products: str) -> None:
    d = doc(env, products)
    tier = "prod" if env == "prod" else "dev"
    assert variable_default(d, "node_machine_type") == NODE_TYPES[tier][products]
    assert variable_default(d, "node_disk_size_gib") == 100
    assert variable_default(d, "node_disk_type") in ("pd-balanced", "pd-ssd")
    config = one_block(resource(d, "google_container_node_pool.this"), "node_config")
    assert config["machine_type"] == "${var.node_machine_type}"
    assert config["disk_size_gb"] == "${var.node_disk_size_gib}"
    assert config["disk_type"] == "${var.node_disk_type}"
    assert one_block(config, "shielded_instance_config") == {
        "enable_secure_boot": True,
        "enable_integrity_monitoring": True,
    }
    assert one_block(config, "workload_metadata_config") == {"mode": "GKE_METADATA"}


@combos
def test_node_type_validation_refuses_arm(env: str, products: str) -> None:
    """R-K8S-5: the variable's validation rejects t2a/c4a (Arm) and accepts the x86 default."""
    d = doc(env, products)
    (condition,) = validation_conditions(d, "node_machine_type")
    shape, arm = hcl_regexes(condition)
    assert "!can(regex(" in condition

    def accepted(machine: str) -> bool:
        return re.search(shape, machine) is not None and re.search(arm, machine) is None

    assert accepted(variable_default(d, "node_machine_type"))
    for machine in ("t2a-standard-4", "c4a-highmem-8", "c4a-standard-16"):
        assert not accepted(machine), machine


@combos
def test_nodes_spread_over_the_tier_zones_with_at_least_two_nodes(env: str, products: str) -> None:
    d = doc(env, products)
    tier = "prod" if env == "prod" else "dev"
    zones = variable_default(d, "node_zone_count")
    assert zones == ZONES[tier]
    (local_values,) = d["locals"]
    assert local_values["zones"] == "${terraform_data.node_zones.input}"
    # Chosen once: the zones up at creation, kept when the region's list changes (a zone DOWN in an
    # incident, a zone added), chosen again only for a new count or region.
    record = resource(d, "terraform_data.node_zones")
    assert record["input"] == "${slice(sort(data.google_compute_zones.available.names), 0, var.node_zone_count)}"
    assert record["triggers_replace"] == ["${var.region}", "${var.node_zone_count}"]
    assert record["lifecycle"][0]["ignore_changes"] == ["input"]
    cluster = resource(d, "google_container_cluster.this")
    pool = resource(d, "google_container_node_pool.this")
    assert cluster["location"] == "${var.region}"
    assert cluster["node_locations"] == pool["node_locations"] == "${local.zones}"

    autoscaling = one_block(pool, "autoscaling")
    assert autoscaling["total_min_node_count"] == "${var.node_min_size}"
    assert autoscaling["total_max_node_count"] == "${var.node_max_size}"
    low, desired, high = (variable_default(d, f"node_{k}_size") for k in ("min", "desired", "max"))
    assert 2 <= low <= desired <= high
    assert low >= zones, "at least one node in every zone"
    assert pool["initial_node_count"] == "${ceil(var.node_desired_size / var.node_zone_count)}"
    assert -(-desired // zones) * zones >= 2


@combos
def test_cluster_is_private_vpc_native_with_workload_identity(env: str, products: str) -> None:
    d = doc(env, products)
    cluster = resource(d, "google_container_cluster.this")
    assert cluster["networking_mode"] == "VPC_NATIVE"
    assert cluster["remove_default_node_pool"] is True
    assert cluster["enable_shielded_nodes"] is True
    assert cluster["min_master_version"] == "${var.kubernetes_version}"
    assert one_block(cluster, "release_channel")["channel"] == "${var.release_channel}"
    assert one_block(cluster, "private_cluster_config")["enable_private_nodes"] is True
    policy = one_block(cluster, "ip_allocation_policy")
    assert policy["cluster_secondary_range_name"] and policy["services_secondary_range_name"]
    assert one_block(cluster, "workload_identity_config")["workload_pool"] == "${var.project_id}.svc.id.goog"
    assert "master_authorized_networks_config" in cluster
    # NetworkPolicy through Dataplane V2 (the Calico add-on off), no client certificates.
    assert cluster["datapath_provider"] == "ADVANCED_DATAPATH"
    assert one_block(cluster, "network_policy") == {"enabled": False}
    auth = one_block(one_block(cluster, "master_auth"), "client_certificate_config")
    assert auth == {"issue_client_certificate": False}
    assert one_block(cluster, "binary_authorization")["evaluation_mode"] == "PROJECT_SINGLETON_POLICY_ENFORCE"
    assert cluster["deletion_protection"] == "${var.deletion_protection}"
    assert variable_default(d, "deletion_protection") is (env == "prod")


@combos
def test_cluster_addons_pd_csi_and_http_load_balancing(env: str, products: str) -> None:
    """R-K8S-3 (PersistentVolumes) and R-K8S-2 (the GKE Ingress controller)."""
    addons = one_block(resource(doc(env, products), "google_container_cluster.this"), "addons_config")
    assert one_block(addons, "gce_persistent_disk_csi_driver_config") == {"enabled": True}
    assert one_block(addons, "http_load_balancing") == {"disabled": False}


@combos
def test_kubernetes_version_is_validated_against_the_minimum(env: str, products: str) -> None:
    d = doc(env, products)
    assert variable_default(d, "kubernetes_version") == "1.36"
    (condition,) = validation_conditions(d, "kubernetes_version")
    # R-K8S-4 and issue 11: the minors the Regular channel offers a new cluster on the catalog's date.
    assert condition == '${contains(["1.34", "1.35", "1.36"], var.kubernetes_version)}'


@combos
def test_cloud_nat_gives_private_nodes_egress(env: str, products: str) -> None:
    """R-NET-1."""
    d = doc(env, products)
    nat = resource(d, "google_compute_router_nat.this")
    assert nat["router"] == "${google_compute_router.this[0].name}"
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    # Google's own addresses while the allowed list is open; two static ones when it is narrowed.
    assert nat["nat_ip_allocate_option"] == '${length(google_compute_address.nat) > 0 ? "MANUAL_ONLY" : "AUTO_ONLY"}'
    assert nat["nat_ips"] == "${google_compute_address.nat[*].self_link}"
    assert resource(d, "google_compute_address.nat")["count"] == "${local.cloud_nat && local.ingress_narrowed ? 2 : 0}"
    router = resource(d, "google_compute_router.this")
    assert router["network"] == "${google_compute_network.this[0].id}"
    # Created by default: a new network, not air-gapped.
    for address in ("google_compute_router.this", "google_compute_router_nat.this"):
        assert resource(d, address)["count"] == "${local.cloud_nat ? 1 : 0}"
    assert local_value(d, "cloud_nat") == "${!local.byo_network && !var.air_gapped}"
    assert variable_default(d, "air_gapped") is False
    assert variable_default(d, "existing_network") == ""
    assert resource(d, "google_compute_subnetwork.this")["private_ip_google_access"] is True


# ---- MySQL ----------------------------------------------------------------------


@combos
def test_cloud_sql_mysql_sized_enterprise_on_ssd(env: str, products: str) -> None:
    d = doc(env, products)
    tier = "prod" if env == "prod" else "dev"
    (local_values,) = d["locals"]
    assert local_values["mysql_database_versions"]["8.0"] == "MYSQL_8_0"
    assert local_values["mysql_database_versions"]["8.4"] == "MYSQL_8_4"
    assert variable_default(d, "mysql_version") == "8.4"  # 8.0 is in paid extended support since 2026-07-01
    (condition,) = validation_conditions(d, "mysql_version")
    assert condition == '${contains(["8.0", "8.4"], var.mysql_version)}'
    instance = resource(d, "google_sql_database_instance.metadata")
    assert instance["database_version"] == "${local.mysql_database_versions[var.mysql_version]}"
    settings = one_block(instance, "settings")
    assert settings["tier"] == "${var.db_tier}"
    assert variable_default(d, "db_tier") == DB_TIERS[tier]
    assert settings["edition"] == "ENTERPRISE"
    assert settings["disk_type"] == "PD_SSD"
    assert settings["disk_size"] == "${var.db_disk_size_gib}"
    assert variable_default(d, "db_disk_size_gib") == DB_DISK_GIB[tier]
    assert settings["disk_autoresize"] is True
    # Autoresize grows the disk; without this a later plan would shrink it back,
    # which the provider turns into replacing the instance.
    assert one_block(instance, "lifecycle")["ignore_changes"] == ["${settings[0].disk_size}"]


@pytest.mark.parametrize("extra", [(), ("--vpc-id", "shared-vpc", "--private-subnet-id", "wandb-nodes")], ids=["own", "byo"])
def test_private_services_and_database_wait_for_the_apis(extra: tuple[str, ...]) -> None:
    """local.network_id is plain text for an existing network, so these need explicit API ordering."""
    d = doc("prod", "both", *extra)
    instance = resource(d, "google_sql_database_instance.metadata")
    assert instance["depends_on"] == [
        "${google_project_service.this}",
        "${google_service_networking_connection.private_services}",
    ]
    assert resource(d, "google_service_networking_connection.private_services")["depends_on"] == ["${google_project_service.this}"]
    # Issue 13: the auto-allocated /20 comes after the subnet and its secondary ranges, which Google
    # then avoids (it picks among ranges that exist); created in parallel it could land on them.
    assert resource(d, "google_compute_global_address.private_services")["depends_on"] == [
        "${google_project_service.this}",
        "${google_compute_subnetwork.this}",
        "${data.google_compute_subnetwork.existing}",
    ]
    # A Shared VPC host's network cannot get a peering range from this project.
    checks = one_block(resource(d, "google_compute_global_address.private_services"), "lifecycle")["precondition"]
    assert checks[-1]["condition"] == '${!local.byo_network || split("/", local.network_id)[1] == var.project_id}'


@combos
def test_cloud_sql_has_no_public_ip(env: str, products: str) -> None:
    d = doc(env, products)
    ip = one_block(one_block(resource(d, "google_sql_database_instance.metadata"), "settings"), "ip_configuration")
    assert ip["ipv4_enabled"] is False
    assert ip["private_network"] == "${local.network_id}"
    assert ip["allocated_ip_range"] == "${local.private_services_range_name}"
    assert "authorized_networks" not in ip
    assert variable_default(d, "db_ssl_mode") == "ENCRYPTED_ONLY"
    peering = resource(d, "google_compute_global_address.private_services")
    assert peering["purpose"] == "VPC_PEERING"
    connection = resource(d, "google_service_networking_connection.private_services")
    assert connection["service"] == "servicenetworking.googleapis.com"


@combos
def test_daily_backups_with_binary_log_kept_a_week_or_more(env: str, products: str) -> None:
    """R-DB-2."""
    d = doc(env, products)
    settings = one_block(resource(d, "google_sql_database_instance.metadata"), "settings")
    backup = one_block(settings, "backup_configuration")
    assert backup["enabled"] is True
    assert backup["binary_log_enabled"] is True
    assert one_block(backup, "backup_retention_settings") == {
        "retained_backups": "${var.backup_retention_days}",
        "retention_unit": "COUNT",
    }
    assert variable_default(d, "backup_retention_days") == (14 if env == "prod" else 7)
    (condition,) = validation_conditions(d, "backup_retention_days")
    assert condition == "${var.backup_retention_days >= 7 && var.backup_retention_days <= 35}"


def test_backup_retention_option_sets_the_default() -> None:
    assert variable_default(doc("dev", "models", "--backup-retention-days", "21"), "backup_retention_days") == 21


@combos
def test_standby_is_regional_in_prod_and_zonal_in_dev(env: str, products: str) -> None:
    """R-DB-5."""
    d = doc(env, products)
    settings = one_block(resource(d, "google_sql_database_instance.metadata"), "settings")
    standby = variable_default(d, "db_standby")
    expected = "REGIONAL" if env == "prod" else "ZONAL"
    assert ternary(settings["availability_type"], "db_standby", "REGIONAL", "ZONAL", standby) == expected


@pytest.mark.parametrize(("flag", "expected"), [("--no-standby", "ZONAL"), ("--standby", "REGIONAL")])
@pytest.mark.parametrize("env", ENVS)
def test_standby_option_overrides_the_tier(env: str, flag: str, expected: str) -> None:
    d = doc(env, "models", flag)
    settings = one_block(resource(d, "google_sql_database_instance.metadata"), "settings")
    standby = variable_default(d, "db_standby")
    assert ternary(settings["availability_type"], "db_standby", "REGIONAL", "ZONAL", standby) == expected


@combos
def test_deletion_protection_in_prod(env: str, products: str) -> None:
    d = doc(env, products)
    instance = resource(d, "google_sql_database_instance.metadata")
    assert instance["deletion_protection"] == "${var.deletion_protection}"
    assert one_block(instance, "settings")["deletion_protection_enabled"] == "${var.deletion_protection}"
    assert variable_default(d, "deletion_protection") is (env == "prod")


@combos
def test_wandb_database_flags(env: str, products: str) -> None:
    d = doc(env, products)
    settings = one_block(resource(d, "google_sql_database_instance.metadata"), "settings")
    flags = {f["name"]: f["value"] for f in settings["database_flags"]}
    for name, value in WB_FLAGS.items():
        assert flags.get(name) == value, name
    assert flags.get("cloudsql_iam_authentication") == "on"


@combos
def test_database_and_users(env: str, products: str) -> None:
    d = doc(env, products)
    assert resource(d, "google_sql_database.wandb")["name"] == "wandb_local"
    user = resource(d, "google_sql_user.wandb")
    assert user["name"] == "wandb"
    assert user["password_wo"] == "${ephemeral.random_password.db.result}"
    assert user["password_wo_version"] == "${var.db_password_version}"
    assert "password" not in user
    version = resource(d, "google_secret_manager_secret_version.db_password")
    assert version["secret_data_wo"] == "${ephemeral.random_password.db.result}"
    assert "secret_data" not in version
    # The only password generator is ephemeral: nothing of it in plan or state.
    assert "random_password" in blocks(d, "ephemeral")
    assert not any(a.startswith("random_") for a in blocks(d, "resource"))
    iam_user = resource(d, "google_sql_user.wandb_iam")
    assert iam_user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key}", inner
            yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{i}]")


@variants
def test_no_literal_password_anywhere(env: str, products: str, extra: tuple[str, ...]) -> None:
    d = doc(env, products, *extra)
    for path, value in _walk(d):
        key = path.rsplit(".", 1)[-1].lower()
        if "password" in key or "secret_data" in key:
            if key.endswith("_version"):
                continue
            assert isinstance(value, (str, list, dict)), f"{path} = {value!r}"
            if isinstance(value, str):
                assert value.startswith("${") and value.endswith("}"), f"{path} holds a literal: {value!r}"
    for name in blocks(d, "variable"):
        if "password" in name and name != "db_password_version":
            pytest.fail(f"variable {name} would carry a password through tfvars")
    for name, out in blocks(d, "output").items():
        value = str(out["value"])
        # A secret's value (not its resource name): the generator, a password attribute, secret data.
        if re.search(r"random_password|\.result\b|\.password(_wo)?\b|secret_data", value) and not out.get("sensitive"):
            pytest.fail(f"output {name} could carry a secret and is not sensitive: {value}")


# ---- Monitoring -------------------------------------------------------------------


@combos
def test_cpu_alert_policy(env: str, products: str) -> None:
    """R-DB-4: CPU above 40% for 300 s, notifying the e-mail channels."""
    d = doc(env, products)
    assert variable_default(d, "db_cpu_alarm_threshold") == 40
    assert variable_default(d, "db_cpu_alarm_period_seconds") == 300
    policy = resource(d, "google_monitoring_alert_policy.db_cpu")
    threshold = one_block(one_block(policy, "conditions"), "condition_threshold")
    assert 'resource.type = "cloudsql_database"' in threshold["filter"]
    assert 'metric.type = "cloudsql.googleapis.com/database/cpu/utilization"' in threshold["filter"]
    assert "google_sql_database_instance.metadata.name" in threshold["filter"]
    assert threshold["comparison"] == "COMPARISON_GT"
    assert threshold["threshold_value"] == "${var.db_cpu_alarm_threshold / 100}"
    assert threshold["duration"] == "${var.db_cpu_alarm_period_seconds}s"
    assert policy["notification_channels"] == (
        "${concat([for channel in google_monitoring_notification_channel.email : channel.id], "
        "google_monitoring_notification_channel.webhook[*].id)}"
    )
    channel = resource(d, "google_monitoring_notification_channel.email")
    assert channel["for_each"] == "${toset(var.alarm_emails)}"
    assert channel["type"] == "email"


# ---- Object storage and identity ------------------------------------------------------


@combos
def test_bucket_cors_and_access(env: str, products: str) -> None:
    """R-OBJ-1 (CORS for pre-signed URLs) and a private, versioned bucket."""
    d = doc(env, products)
    bucket = resource(d, "google_storage_bucket.artifacts")
    cors = one_block(bucket, "cors")
    assert sorted(cors["method"]) == ["GET", "HEAD", "PUT"]
    assert cors["origin"] == ["https://${var.domain}"]
    assert {"ETag", "Content-Type"} <= set(cors["response_header"])
    assert cors["max_age_seconds"] == 3000
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert one_block(bucket, "versioning") == {"enabled": True}
    assert bucket["force_destroy"] == "${!var.deletion_protection}"
    actions = [one_block(rule, "action")["type"] for rule in bucket["lifecycle_rule"]]
    assert "Delete" in actions
    # Usage logs go to the logs bucket when var.access_logs_enabled (default on).
    logging = one_block(bucket, "dynamic")["logging"]
    assert logging["for_each"] == "${google_storage_bucket.logs[*].name}"
    logs = resource(d, "google_storage_bucket.logs")
    assert logs["count"] == "${var.access_logs_enabled ? 1 : 0}"
    assert variable_default(d, "access_logs_enabled") is True
    assert logs["public_access_prevention"] == "enforced" and logs["uniform_bucket_level_access"] is True


@combos
def test_cloud_armor_policy(env: str, products: str) -> None:
    """R-NET-3: the allowed networks in, Log4Shell probes and everything else out."""
    d = doc(env, products)
    rules = {r["priority"]: r for r in resource(d, "google_compute_security_policy.ingress")["rule"]}
    assert rules[100]["action"] == "deny(403)"
    assert one_block(one_block(rules[100], "match"), "expr")["expression"] == "evaluatePreconfiguredExpr('cve-canary')"
    allowed = one_block(one_block(rules[1000], "match"), "config")["src_ip_ranges"]
    assert rules[1000]["action"] == "allow" and allowed == "${local.armor_allowed_ranges}"
    assert "var.ingress_allowed_cidrs" in local_value(d, "armor_allowed_ranges")
    assert rules[2147483647]["action"] == "deny(403)"
    assert variable_default(d, "ingress_allowed_cidrs") == ["0.0.0.0/0"]


@combos
def test_workload_identity_bindings_and_roles(env: str, products: str) -> None:
    d = doc(env, products)
    # Issue 14: the contract's accounts (wandb-filemeta among them; weave-trace only with Weave).
    expected = WANDB_KSAS if products != "models" else [a for a in WANDB_KSAS if "weave-trace" not in a]
    assert variable_default(d, "wandb_service_accounts") == expected
    assert variable_default(d, "wandb_namespace") == "default"
    binding = resource(d, "google_service_account_iam_member.wandb_workload_identity")
    assert binding["for_each"] == "${toset(var.wandb_service_accounts)}"
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["service_account_id"] == "${google_service_account.wandb.name}"
    assert binding["member"] == (
        "serviceAccount:${google_container_cluster.this.workload_identity_config[0].workload_pool}"
        "[${var.wandb_namespace}/${each.value}]"
    )
    token = resource(d, "google_service_account_iam_member.wandb_token_creator")
    assert token["role"] == "roles/iam.serviceAccountTokenCreator"
    assert token["service_account_id"] == "${google_service_account.wandb.name}"
    (local_values,) = d["locals"]
    assert token["member"] == "${local.wandb_member}"
    assert local_values["wandb_member"] == "serviceAccount:${google_service_account.wandb.email}"
    bucket_roles = resource(d, "google_storage_bucket_iam_member.wandb")
    assert "roles/storage.objectAdmin" in bucket_roles["for_each"]
    assert bucket_roles["bucket"] == "${google_storage_bucket.artifacts.name}"
    sql_roles = resource(d, "google_project_iam_member.wandb_cloudsql")
    assert "roles/cloudsql.client" in sql_roles["for_each"]
    # W&B's backend logs to Cloud Logging as this account (the official module grants it too).
    log_writer = resource(d, "google_project_iam_member.wandb_log_writer")
    assert (log_writer["role"], log_writer["member"]) == ("roles/logging.logWriter", "${local.wandb_member}")
    assert "logging.googleapis.com" in resource(d, "google_project_service.this")["for_each"]


# ---- DNS and TLS -------------------------------------------------------------------


@variants
def test_static_ip_certificate_and_a_record(env: str, products: str, extra: tuple[str, ...]) -> None:
    """R-DNS-1 / R-TLS-1: the A record exists only with a zone; the managed certificate always."""
    d = doc(env, products, *extra)
    address = resource(d, "google_compute_global_address.ingress")
    assert address["address_type"] == "EXTERNAL"
    (local_values,) = d["locals"]
    assert local_values["manage_dns"] == '${var.dns_zone_name != ""}'

    zone = variable_default(d, "dns_zone_name")
    assert zone == ("example.com" if extra else "")
    record = resource(d, "google_dns_record_set.wandb")
    assert record["count"] == "${local.manage_dns ? 1 : 0}"
    assert record["type"] == "A"
    assert record["name"] == "${var.domain}."
    assert record["rrdatas"] == ["${google_compute_global_address.ingress.address}"]
    lookup = blocks(d, "data")["google_dns_managed_zones.this"]
    assert lookup["count"] == "${local.manage_dns ? 1 : 0}"

    certificate = resource(d, "google_compute_managed_ssl_certificate.wandb")
    assert certificate["count"] == '${var.ssl_certificate_name == "" ? 1 : 0}'
    assert variable_default(d, "ssl_certificate_name") == ""
    assert one_block(certificate, "managed")["domains"] == ["${var.domain}."]

    outputs = blocks(d, "output")
    assert outputs["static_ip_name"]["value"] == "${google_compute_global_address.ingress.name}"
    assert outputs["static_ip_address"]["value"] == "${google_compute_global_address.ingress.address}"
    assert outputs["certificate_name"]["value"] == "${local.certificate_name}"
    if extra:
        assert variable_default(d, "domain") == "wandb.example.com"
    else:
        assert "default" not in blocks(d, "variable")["domain"]


@combos
def test_outputs(env: str, products: str) -> None:
    outputs = blocks(doc(env, products), "output")
    for name in (
        "url",
        "cluster_name",
        "cluster_endpoint",
        "kubeconfig_command",
        "db_private_ip",
        "db_connection_name",
        "db_password_secret_id",
        "bucket_name",
        "service_account_email",
        "static_ip_name",
        "static_ip_address",
        "certificate_name",
    ):
        assert name in outputs, name
    assert outputs["kubeconfig_command"]["value"].startswith("gcloud container clusters get-credentials ")


# ---- Labels ------------------------------------------------------------------------


def _labelled(body: dict[str, Any], schema: dict[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    for arg in ("labels", "user_labels", "resource_labels"):
        if arg in schema["args"]:
            yield f"{path}.{arg}", body.get(arg)
    for name, nested in schema["blocks"].items():
        for i, inner in enumerate(body.get(name, []) if isinstance(body.get(name), list) else []):
            if isinstance(inner, dict):
                yield from _labelled(inner, nested["schema"], f"{path}.{name}[{i}]")


@combos
def test_every_labelable_resource_gets_the_labels(env: str, products: str) -> None:
    from generator.schema_check import load_schema

    d = doc(env, "models", "--tag", "team=ml")
    assert variable_default(d, "labels") == {"team": "ml"}
    (local_values,) = d["locals"]
    assert local_values["labels"].startswith("${merge(var.labels, {")
    assert 'wandb-managed-by = "gen-tf"' in local_values["labels"]
    schemas = load_schema("google")["resources"]
    found = 0
    for address, body in blocks(doc(env, products), "resource").items():
        if address.startswith("terraform_data."):
            continue  # Terraform's built-in record of the nodes' zones: nothing in the cloud to label
        for path, value in _labelled(body, schemas[address.split(".")[0]], address):
            if path in ("google_monitoring_notification_channel.email.labels", "google_monitoring_notification_channel.webhook.labels"):
                continue  # the channel's configuration (email_address, url), not resource labels
            if re.search(r"\.node_config\[0\]\.labels$", path):
                continue  # Kubernetes node labels, not GCP resource labels
            assert value == "${local.labels}", f"{path} = {value!r}"
            found += 1
    assert found >= 7
    provider = blocks(doc(env, products), "provider")["google"]
    assert provider["default_labels"] == "${local.labels}"


# ---- Whole-output checks ----------------------------------------------------------------


@pytest.mark.terraform
@variants
def test_terraform_fmt_check(env: str, products: str, extra: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(generate(CLOUD, env, products, *extra), encoding="utf-8")
    result = terraform(["fmt", "-check", "-diff", "main.tf"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@variants
def test_schema_check_has_no_findings(env: str, products: str, extra: tuple[str, ...]) -> None:
    from generator.schema_check import check_text

    findings = check_text(generate(CLOUD, env, products, *extra), providers=["google", "random"])
    assert findings == [], "\n".join(str(f) for f in findings)


@variants
def test_only_google_and_random_providers(env: str, products: str, extra: tuple[str, ...]) -> None:
    d = doc(env, products, *extra)
    (terraform_block,) = d["terraform"]
    (required,) = terraform_block["required_providers"]
    assert required["google"] == {"source": "hashicorp/google", "version": ">= 6.50, < 7.0"}
    assert set(required) == {"google", "random"}
    assert terraform_block["required_version"] == ">= 1.11"
    types = {a.split(".")[0] for a in blocks(d, "resource")} | {a.split(".")[0] for a in blocks(d, "data")}
    # terraform_data is Terraform's built-in provider, never declared or installed.
    assert all(t.startswith("google_") or t == "terraform_data" for t in types), types



# ---- Network options (--vpc-id, --private-endpoint, --allowed-cidr, --air-gapped) -----

BYO = ("--vpc-id", "shared-vpc", "--private-subnet-id", "wandb-nodes")
PRIVATE = ("--private-endpoint",)
ALLOWED = ("--allowed-cidr", "203.0.113.0/24", "--allowed-cidr", "198.51.100.0/24")
AIR_GAPPED = ("--air-gapped", "--image-registry", "registry.corp.example/wandb")
ALL_OPTIONS = BYO + PRIVATE + ALLOWED + AIR_GAPPED
OPTION_SETS = {"byo": BYO, "private": PRIVATE, "allowed": ALLOWED, "airgap": AIR_GAPPED, "all": ALL_OPTIONS}
NETWORK_VARIANTS = [(env, name) for env in ("dev", "prod") for name in OPTION_SETS]
network_variants = pytest.mark.parametrize(
    ("env", "option_set"), NETWORK_VARIANTS, ids=[f"{e}-{n}" for e, n in NETWORK_VARIANTS]
)
# Resources of a network the module creates, and of its egress.
NETWORK_RESOURCES = ("google_compute_network.this", "google_compute_subnetwork.this", "google_compute_firewall.deny_ingress")
EGRESS_RESOURCES = ("google_compute_router.this", "google_compute_router_nat.this")


def count_for(expr: str, flags: dict[str, bool]) -> int:
    """Resolve a ``${local.x ? 1 : 0}`` / ``${local.x ? 0 : 1}`` count for known values of its flag."""
    match = re.fullmatch(r"\$\{(local|var)\.(\w+) \? ([01]) : ([01])\}", expr)
    assert match, expr
    return int(match.group(3) if flags[match.group(2)] else match.group(4))


def network_flags(d: dict[str, Any]) -> dict[str, bool]:
    """local.byo_network and local.cloud_nat for the variables' defaults (their expressions checked too)."""
    assert local_value(d, "byo_network") == '${var.existing_network != ""}'
    assert local_value(d, "cloud_nat") == "${!local.byo_network && !var.air_gapped}"
    byo = variable_default(d, "existing_network") != ""
    return {"byo_network": byo, "cloud_nat": not byo and not variable_default(d, "air_gapped")}


@combos
def test_default_network_is_created_with_nat(env: str, products: str) -> None:
    """R-NET-1: without network options the module builds its own VPC, subnet and Cloud NAT."""
    d = doc(env, products)
    flags = network_flags(d)
    for address in NETWORK_RESOURCES + EGRESS_RESOURCES:
        assert count_for(resource(d, address)["count"], flags) == 1, address
    assert count_for(blocks(d, "data")["google_compute_subnetwork.existing"]["count"], flags) == 0
    assert variable_default(d, "existing_subnetwork") == ""
    assert variable_default(d, "private_endpoint") is True  # issue 10: no public API without --admin-cidr
    assert variable_default(d, "image_registry") == ""
    subnet = resource(d, "google_compute_subnetwork.this")
    assert [r["range_name"] for r in subnet["secondary_ip_range"]] == [
        "${var.pods_secondary_range_name}",
        "${var.services_secondary_range_name}",
    ]


@combos
def test_existing_network_replaces_the_created_one(env: str, products: str) -> None:
    """--vpc-id / --private-subnet-id: no VPC, subnet, firewall, router or NAT; the given names everywhere."""
    d = doc(env, products, *BYO)
    assert variable_default(d, "existing_network") == "shared-vpc"
    assert variable_default(d, "existing_subnetwork") == "wandb-nodes"
    assert variable_default(d, "pods_secondary_range_name") == "pods"
    assert variable_default(d, "services_secondary_range_name") == "services"
    flags = network_flags(d)
    for address in NETWORK_RESOURCES + EGRESS_RESOURCES:
        assert count_for(resource(d, address)["count"], flags) == 0, address
    # The existing subnetwork is looked up and checked (network, Private Google Access, secondary ranges).
    existing = blocks(d, "data")["google_compute_subnetwork.existing"]
    assert count_for(existing["count"], flags) == 1
    assert existing["self_link"] == "${local.subnetwork_id}"
    assert len(one_block(existing, "lifecycle")["postcondition"]) == 3
    cluster = resource(d, "google_container_cluster.this")
    assert cluster["network"] == "${local.network_id}"
    assert cluster["subnetwork"] == "${local.subnetwork_id}"
    policy = one_block(cluster, "ip_allocation_policy")
    assert policy["cluster_secondary_range_name"] == "${var.pods_secondary_range_name}"
    assert policy["services_secondary_range_name"] == "${var.services_secondary_range_name}"
    assert "var.existing_network" in local_value(d, "network_id") and "google_compute_network.this[*].id" in local_value(d, "network_id")
    assert "var.existing_subnetwork" in local_value(d, "subnetwork_id")
    # Private services access for Cloud SQL is still created, on the existing network,
    # unless private_services_range_name names the network's existing range.
    assert variable_default(d, "private_services_range_name") == ""
    for address in ("google_compute_global_address.private_services", "google_service_networking_connection.private_services"):
        body = resource(d, address)
        assert body["count"] == '${var.private_services_range_name == "" ? 1 : 0}', address
        assert body["network"] == "${local.network_id}", address
    ip = one_block(one_block(resource(d, "google_sql_database_instance.metadata"), "settings"), "ip_configuration")
    assert ip["private_network"] == "${local.network_id}"
    assert blocks(d, "output")["network_name"]["value"] == "${local.network_name}"


def test_existing_network_and_subnetwork_go_together() -> None:
    conditions = validation_conditions(doc("dev", "models", *BYO), "existing_subnetwork")
    assert '${(var.existing_network == "") == (var.existing_subnetwork == "")}' in conditions


@pytest.mark.parametrize("flags", [(), PRIVATE, ("--admin-cidr", "203.0.113.0/24")], ids=["default", "private", "admin"])
def test_private_endpoint_option(flags: tuple[str, ...]) -> None:
    """--private-endpoint: the API server has an internal IP only; authorized networks stay internal."""
    d = doc("prod", "both", *flags)
    # Issue 10: private unless admin networks are given (then public to those networks only).
    private = "--admin-cidr" not in flags
    assert variable_default(d, "private_endpoint") is private
    cluster = resource(d, "google_container_cluster.this")
    config = one_block(cluster, "private_cluster_config")
    assert config["enable_private_endpoint"] == "${var.private_endpoint}"
    assert config["enable_private_nodes"] is True
    authorized = variable_default(d, "cluster_endpoint_authorized_cidrs")
    if private:
        assert authorized == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    else:
        assert authorized == ["203.0.113.0/24"]
    networks = one_block(cluster, "master_authorized_networks_config")["dynamic"][0]["cidr_blocks"]
    assert networks["for_each"] == "${var.cluster_endpoint_authorized_cidrs}"
    conditions = [p["condition"] for p in one_block(cluster, "lifecycle")["precondition"]]
    assert '${!var.private_endpoint || !contains(var.cluster_endpoint_authorized_cidrs, "0.0.0.0/0")}' in conditions


def test_allowed_cidrs_feed_cloud_armor() -> None:
    """--allowed-cidr (R-NET-3): the Cloud Armor allow rule's ranges default to the given CIDRs."""
    d = doc("prod", "models", *ALLOWED)
    assert variable_default(d, "ingress_allowed_cidrs") == ["203.0.113.0/24", "198.51.100.0/24"]
    rules = {r["priority"]: r for r in resource(d, "google_compute_security_policy.ingress")["rule"]}
    allowed = one_block(one_block(rules[1000], "match"), "config")["src_ip_ranges"]
    assert allowed == "${local.armor_allowed_ranges}"
    assert local_value(d, "armor_allowed_ranges") == '${[for cidr in var.ingress_allowed_cidrs : cidr == "0.0.0.0/0" ? "*" : cidr]}'
    # W&B calls its own public URL: narrowed, its Cloud NAT addresses are admitted by a second rule.
    assert local_value(d, "ingress_narrowed") == '${!contains(var.ingress_allowed_cidrs, "0.0.0.0/0")}'
    own = rules[1001]
    assert own["action"] == "allow"
    assert one_block(one_block(own, "match"), "config")["src_ip_ranges"] == (
        '${length(google_compute_address.nat) > 0 ? [for address in google_compute_address.nat[*].address : "${address}/32"] : '
        "local.armor_allowed_ranges}"
    )


@combos
def test_air_gapped_has_no_nat_and_hands_over_the_registry(env: str, products: str) -> None:
    """--air-gapped (R-NET-2): no router or Cloud NAT; Private Google Access stays on; the registry is output."""
    d = doc(env, products, *AIR_GAPPED)
    assert variable_default(d, "air_gapped") is True
    assert variable_default(d, "image_registry") == "registry.corp.example/wandb"
    flags = network_flags(d)
    for address in EGRESS_RESOURCES:
        assert count_for(resource(d, address)["count"], flags) == 0, address
    for address in NETWORK_RESOURCES:
        assert count_for(resource(d, address)["count"], flags) == 1, address
    assert resource(d, "google_compute_subnetwork.this")["private_ip_google_access"] is True
    outputs = blocks(d, "output")
    # The app layer's inputs of the same names (catalogs/gcp.yaml app_inputs), empty when unset.
    assert outputs["image_registry"]["value"] == "${var.image_registry}"
    assert outputs["airgapped"]["value"] == "${var.air_gapped}"
    assert '${!var.air_gapped || var.image_registry != ""}' in validation_conditions(d, "image_registry")


AR_REGISTRY_COUNT = '${can(regex("^[a-z0-9-]+-docker\\\\.pkg\\\\.dev/${var.project_id}(/|$)", var.image_registry)) ? 1 : 0}'


@pytest.mark.parametrize("extra", [(), AIR_GAPPED], ids=["default", "airgap"])
def test_nodes_may_pull_from_an_artifact_registry_mirror_in_the_project(extra: tuple[str, ...]) -> None:
    """The custom node account lacks Artifact Registry read; granted when image_registry is this project's AR."""
    d = doc("prod", "both", *extra)
    grant = resource(d, "google_project_iam_member.nodes_artifact_registry")
    assert grant["count"] == AR_REGISTRY_COUNT
    assert grant["role"] == "roles/artifactregistry.reader"
    assert grant["member"] == "serviceAccount:${google_service_account.nodes.email}"
    (pattern,) = hcl_regexes(grant["count"])
    project = "my-project"
    pattern = pattern.replace("${var.project_id}", project)
    assert re.search(pattern, f"us-central1-docker.pkg.dev/{project}/wandb")
    assert re.search(pattern, f"europe-docker.pkg.dev/{project}")
    assert not re.search(pattern, "us-central1-docker.pkg.dev/other-project/wandb")
    assert not re.search(pattern, variable_default(d, "image_registry"))


@pytest.mark.terraform
@network_variants
def test_network_options_fmt_check(env: str, option_set: str, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(generate(CLOUD, env, "both", *OPTION_SETS[option_set], *WITH_DNS), encoding="utf-8")
    result = terraform(["fmt", "-check", "-diff", "main.tf"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@network_variants
def test_network_options_schema_check(env: str, option_set: str) -> None:
    from generator.schema_check import check_text

    findings = check_text(generate(CLOUD, env, "both", *OPTION_SETS[option_set]), providers=["google", "random"])
    assert findings == [], "\n".join(str(f) for f in findings)
