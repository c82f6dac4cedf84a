"""Issue 13, day 2: the lifecycle blocks and preconditions docs/day2.md rests on.

docs/day2.md tabulates, per cloud, what a change to a running deployment plans and what it
does to data and uptime. Each outcome that comes from the generated module rather than
from the provider alone is asserted here on the parsed output: ``ignore_changes`` lists,
``create_before_destroy``, ``prevent_destroy`` (prod only, lifted by --no-prevent-destroy),
the preconditions that refuse a change Azure fixes at creation (their conditions evaluated
by Terraform itself), AKS's rotation through temporary pools, and the ``moved`` blocks.
The last tests keep the page honest: every resource address it names is generated, its
``prevent_destroy`` table is the modules' own, and every variable or precondition that
sends the reader to it is covered there. AWS outcomes are also planned against an emulator
by tests/test_e2e_aws.py; only the AWS lifecycle details that test does not read are here.
"""

from __future__ import annotations

import json
import re
import subprocess
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CLOUDS,
    DOMAIN_ARGS,
    ENVS,
    REPO,
    blocks,
    local_value,
    parsed,
    resource,
    terraform_env,
    terraform_or_skip,
    variable_default,
)

DAY2_DOC = REPO / "docs" / "day2.md"

# What prod protects with prevent_destroy: every resource holding W&B's data or the key to it.
PROTECTED = {
    "aws": {"aws_kms_key.this", "aws_rds_cluster.metadata", "aws_s3_bucket.artifacts", "aws_s3_bucket.logs"},
    "gcp": {
        "google_sql_database_instance.metadata",
        "google_sql_database.wandb",
        "google_secret_manager_secret.db_password",
        "google_storage_bucket.artifacts",
    },
    "azure": {
        "azurerm_key_vault.this",
        "azurerm_mysql_flexible_server.metadata",
        "azurerm_mysql_flexible_database.wandb",
        "azurerm_storage_account.artifacts",
        "azurerm_storage_container.wandb",
    },
}

# azurerm 4.55 internal/services/storage/storage_account_resource.go L1188-1202: a change of
# account_replication_type between these two families forces a new account.
ZONE_REDUNDANT = {"ZRS", "GZRS", "RAGZRS"}
NOT_ZONE_REDUNDANT = {"LRS", "GRS", "RAGRS"}


def doc(cloud: str, env: str = "prod", *extra: str) -> dict[str, Any]:
    return parsed(cloud, env, "both", *DOMAIN_ARGS, *extra)


def lifecycle(body: dict[str, Any]) -> dict[str, Any]:
    """The resource's one lifecycle block ({} without one)."""
    found = body.get("lifecycle", [])
    assert len(found) <= 1, f"more than one lifecycle block: {found}"
    return found[0] if found else {}


def one(body: dict[str, Any], block: str) -> dict[str, Any]:
    found = body[block]
    assert len(found) == 1, f"{block}: {found}"
    return found[0]


def precondition_on(body: dict[str, Any], variable: str) -> dict[str, str]:
    """The one precondition whose condition reads var.<variable>."""
    found = [p for p in lifecycle(body).get("precondition", []) if re.search(rf"\bvar\.{variable}\b", p["condition"])]
    assert len(found) == 1, f"preconditions reading var.{variable}: {found}"
    return found[0]


def protected(module: dict[str, Any]) -> set[str]:
    return {a for a, body in blocks(module, "resource").items() if lifecycle(body).get("prevent_destroy") is True}


def unwrap(expression: str) -> str:
    assert expression.startswith("${") and expression.endswith("}"), expression
    return expression[2:-1]


def substitute(expression: str, values: dict[str, Any]) -> str:
    """The expression with each named reference replaced by an HCL literal; every var. and
    local. reference must be among them (a new reference makes the test say so)."""
    for name in sorted(values, key=len, reverse=True):
        expression = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", json.dumps(values[name]), expression)
    left = re.findall(r"\b(?:var|local)\.[\w.]+", expression)
    assert not left, f"references the test does not set: {left}"
    return expression


def evaluate(expressions: list[str]) -> list[Any]:
    """Terraform's own values for pure expressions (terraform console, one run for all)."""
    binary = terraform_or_skip()
    proc = subprocess.run(
        [binary, "console"],
        input="jsonencode([" + ", ".join(expressions) + "])\n",
        cwd=Path(REPO / "tests"),
        env=terraform_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    values = json.loads(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert len(values) == len(expressions)
    return values


# ---- prevent_destroy ------------------------------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize("products", ["models", "both"])
def test_prevent_destroy_in_prod_only(cloud: str, products: str) -> None:
    """Prod fails any plan that would delete a stateful resource; dev does not; the two
    flags set it either way (docs/day2.md, "Deliberate teardown")."""
    assert protected(parsed(cloud, "prod", products)) == PROTECTED[cloud]
    assert protected(parsed(cloud, "dev", products)) == set()
    assert protected(parsed(cloud, "prod", products, "--no-prevent-destroy")) == set()
    assert protected(parsed(cloud, "dev", products, "--prevent-destroy")) == PROTECTED[cloud]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_lifting_prevent_destroy_leaves_no_empty_lifecycle_block(cloud: str) -> None:
    """--no-prevent-destroy drops whole lifecycle blocks that held only prevent_destroy,
    and keeps everything else in the others (ignore_changes, preconditions)."""
    kept, lifted = blocks(doc(cloud), "resource"), blocks(doc(cloud, "prod", "--no-prevent-destroy"), "resource")
    assert kept.keys() == lifted.keys()
    for address, body in lifted.items():
        assert body.get("lifecycle") != [{}], f"{address}: an empty lifecycle block"
        before = {k: v for k, v in lifecycle(kept[address]).items() if k != "prevent_destroy"}
        assert lifecycle(body) == before, address


# ---- Azure ----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_azure_create_time_record(env: str) -> None:
    """The settings Azure fixes at creation are recorded once and never updated."""
    d = doc("azure", env)
    record = resource(d, "terraform_data.create_time_settings")
    assert record["input"] == {
        "storage_replication_type": "${var.storage_replication_type}",
        "db_geo_redundant_backup": "${var.db_geo_redundant_backup}",
        "db_standby": "${var.db_standby}",
        "private_cluster": "${local.private_cluster}",
        "service_cidr": "${var.service_cidr}",
    }
    assert lifecycle(record) == {"ignore_changes": ["input"]}
    assert local_value(d, "create_time") == "${terraform_data.create_time_settings.output}"
    assert set(local_value(d, "zone_redundant_replication")) == ZONE_REDUNDANT


@pytest.mark.parametrize("env", ENVS)
def test_azure_mysql_ignores_what_azure_moves(env: str) -> None:
    """A failover swaps the zones, auto-grow enlarges the disk: after creation both are
    Azure's (a smaller size would replace the server, a zone alone cannot change)."""
    server = resource(doc("azure", env), "azurerm_mysql_flexible_server.metadata")
    assert lifecycle(server)["ignore_changes"] == [
        "zone",
        "${high_availability[0].standby_availability_zone}",
        "${storage[0].size_gb}",
    ]
    storage = one(server, "storage")
    assert storage["auto_grow_enabled"] is True and storage["size_gb"] == "${var.db_storage_gib}"
    assert server["version"] == "${local.mysql_server_versions[var.mysql_version]}"
    assert local_value(doc("azure", env), "mysql_server_versions") == {"8.0": "8.0.21", "8.4": "8.4"}


@pytest.mark.parametrize("env", ENVS)
def test_azure_preconditions_refuse_create_time_changes(env: str) -> None:
    d = doc("azure", env)
    server = resource(d, "azurerm_mysql_flexible_server.metadata")
    geo = precondition_on(server, "db_geo_redundant_backup")
    assert geo["condition"] == "${local.create_time.db_geo_redundant_backup == var.db_geo_redundant_backup}"
    assert "replace the server" in geo["error_message"] and "docs/day2.md" in geo["error_message"]
    standby = [p for p in lifecycle(server)["precondition"] if "local.create_time.db_standby" in p["condition"]]
    assert [p["condition"] for p in standby] == ['${!var.db_standby || local.create_time.db_standby || startswith(var.db_sku_name, "MO_")}']
    assert "MO_" in standby[0]["error_message"] and "docs/day2.md" in standby[0]["error_message"]
    account = resource(d, "azurerm_storage_account.artifacts")
    replication = precondition_on(account, "storage_replication_type")
    assert replication["condition"] == (
        "${contains(local.zone_redundant_replication, local.create_time.storage_replication_type)"
        " == contains(local.zone_redundant_replication, var.storage_replication_type)}"
    )
    # The way out the message gives: convert in Azure, then record the new value.
    assert "az storage account migration start" in replication["error_message"]
    assert "terraform apply -replace=terraform_data.create_time_settings" in replication["error_message"]
    # The cluster's own ForceNew settings (private API, service range) are refused the same way.
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    (fixed,) = [p for p in lifecycle(cluster)["precondition"] if "local.create_time.private_cluster" in p["condition"]]
    assert fixed["condition"] == (
        "${local.create_time.private_cluster == local.private_cluster && local.create_time.service_cidr == var.service_cidr}"
    )
    assert "would replace the cluster" in fixed["error_message"] and "docs/day2.md" in fixed["error_message"]


def test_azure_preconditions_evaluated_by_terraform() -> None:
    """The generated conditions, evaluated by Terraform, hold exactly where the provider
    changes in place and Azure accepts the change."""
    d = doc("azure")
    replication = precondition_on(resource(d, "azurerm_storage_account.artifacts"), "storage_replication_type")
    server = resource(d, "azurerm_mysql_flexible_server.metadata")
    geo = precondition_on(server, "db_geo_redundant_backup")
    (standby,) = [p for p in lifecycle(server)["precondition"] if "local.create_time.db_standby" in p["condition"]]
    zone_redundant = local_value(d, "zone_redundant_replication")

    cases: list[tuple[str, bool]] = []
    for old, new in product(sorted(ZONE_REDUNDANT | NOT_ZONE_REDUNDANT), repeat=2):
        forces_new = (old in NOT_ZONE_REDUNDANT and new in ZONE_REDUNDANT) or (old in ZONE_REDUNDANT and new in NOT_ZONE_REDUNDANT)
        values = {
            "local.zone_redundant_replication": zone_redundant,
            "local.create_time.storage_replication_type": old,
            "var.storage_replication_type": new,
        }
        cases.append((substitute(unwrap(replication["condition"]), values), not forces_new))
    for old, new in product([False, True], repeat=2):
        values = {"local.create_time.db_geo_redundant_backup": old, "var.db_geo_redundant_backup": new}
        cases.append((substitute(unwrap(geo["condition"]), values), old == new))
    for wanted, created, sku in product([False, True], [False, True], ["GP_Standard_D4ds_v4", "MO_Standard_E4ds_v4"]):
        values = {"var.db_standby": wanted, "local.create_time.db_standby": created, "var.db_sku_name": sku}
        # Zone-redundant HA after creation only on Business Critical (Azure's HA concepts page).
        cases.append((substitute(unwrap(standby["condition"]), values), not wanted or created or sku.startswith("MO_")))

    results = evaluate([expression for expression, _ in cases])
    wrong = [(expression, got) for (expression, expected), got in zip(cases, results) if got is not expected]
    assert wrong == []


@pytest.mark.parametrize("env", ENVS)
def test_azure_key_vault_protection_set_once_by_tier(env: str) -> None:
    vault = resource(doc("azure", env), "azurerm_key_vault.this")
    assert vault["purge_protection_enabled"] is (env == "prod")
    assert vault["soft_delete_retention_days"] == (90 if env == "prod" else 7)
    # Azure refuses turning purge protection off and any later retention change.
    assert lifecycle(vault)["ignore_changes"] == ["purge_protection_enabled", "soft_delete_retention_days"]


@pytest.mark.parametrize("env", ENVS)
def test_azure_node_pools_rotate_instead_of_replacing(env: str) -> None:
    """A new VM size or zone list cycles a pool through a temporary one; unsetting the
    drain timeout would replace the cluster, so it is always written."""
    d = doc("azure", env)
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    system = one(cluster, "default_node_pool")
    wandb = resource(d, "azurerm_kubernetes_cluster_node_pool.wandb")
    assert (system["name"], system["temporary_name_for_rotation"]) == ("system", "systemtmp")
    assert (wandb["name"], wandb["temporary_name_for_rotation"]) == ("wandb", "wandbtmp")
    for pool in (system, wandb):
        # AKS pool names: lowercase letters and digits, at most 12 for Linux pools.
        assert re.fullmatch(r"[a-z][a-z0-9]{0,11}", pool["temporary_name_for_rotation"])
        settings = one(pool, "upgrade_settings")
        assert settings["drain_timeout_in_minutes"] == 30 and settings["max_surge"] == "33%"
        assert pool["orchestrator_version"] == "${var.kubernetes_version}"
        assert pool["zones"] == "${var.node_zones}"
    assert system["vm_size"] == "${var.system_node_vm_size}" and wandb["vm_size"] == "${var.node_vm_size}"
    # The system pool is tainted for AKS's add-ons; W&B never runs on it.
    assert system["only_critical_addons_enabled"] is True and wandb["mode"] == "User"
    # The autoscaler owns the counts.
    assert lifecycle(cluster)["ignore_changes"] == ["${default_node_pool[0].node_count}"]
    assert lifecycle(wandb)["ignore_changes"] == ["node_count"]


@pytest.mark.parametrize("env", ENVS)
def test_azure_gateway_zones_do_not_follow_the_nodes(env: str) -> None:
    """Gateway zones are ForceNew: their own variable, so a node zone change never
    replaces the gateway; AGIC's configuration is not Terraform's."""
    d = doc("azure", env)
    gateway = resource(d, "azurerm_application_gateway.ingress")
    assert gateway["zones"] == "${var.ingress_gateway_zones}"
    assert variable_default(d, "ingress_gateway_zones") == variable_default(d, "node_zones")
    ignored = lifecycle(gateway)["ignore_changes"]
    for agic_owned in ("backend_address_pool", "http_listener", "request_routing_rule", "ssl_certificate", "probe"):
        assert agic_owned in ignored


def test_azure_nat_gateway_is_standard_without_zones() -> None:
    """docs/day2.md, "Egress and zones": one Standard NAT gateway (azurerm 4.55 accepts no
    other SKU), zone left to Azure."""
    nat = resource(doc("azure"), "azurerm_nat_gateway.this")
    assert nat["sku_name"] == "Standard"
    assert "zones" not in nat


@pytest.mark.parametrize("env", ENVS)
def test_azure_deletion_protection_is_management_locks(env: str) -> None:
    d = doc("azure", env)
    for lock, scope in (("metadata", "azurerm_mysql_flexible_server.metadata"), ("artifacts", "azurerm_storage_account.artifacts")):
        body = resource(d, f"azurerm_management_lock.{lock}")
        assert body["count"] == "${var.deletion_protection ? 1 : 0}"
        assert body["scope"] == "${" + scope + ".id}" and body["lock_level"] == "CanNotDelete"
    assert variable_default(d, "deletion_protection") is (env == "prod")


def test_azure_moved_blocks_keep_the_federated_credentials() -> None:
    """gen-tf 0.1's for_each credentials move to one resource each: an upgrade recreates none."""
    d = doc("azure")
    resources = blocks(d, "resource")
    moved = d.get("moved", [])
    credentials = {a for a in resources if a.startswith("azurerm_federated_identity_credential.") and a != "azurerm_federated_identity_credential.cert_manager"}
    assert credentials and len(moved) == len(credentials)
    targets = set()
    for block in moved:
        target = unwrap(block["to"])
        assert target in credentials, target
        source = re.fullmatch(r'azurerm_federated_identity_credential\.wandb\["([a-z0-9-]+)"\]', unwrap(block["from"]))
        assert source, block["from"]
        # The old key is the service account the credential's subject names.
        assert resources[target]["subject"].endswith(":" + source.group(1)), (block, resources[target]["subject"])
        targets.add(target)
    assert targets == credentials


def test_azure_app_layer_always_names_the_tenant() -> None:
    """kubelogin refuses spn and workloadidentity logins without a tenant."""
    args = local_value(parsed("azure", "prod", "both", "--layer", "app"), "kubelogin_args")
    assert '"--tenant-id", var.tenant_id' in args


# ---- GCP ------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_gcp_cloud_sql_changes_in_place(env: str) -> None:
    d = doc("gcp", env)
    instance = resource(d, "google_sql_database_instance.metadata")
    # Autoresize owns the disk; a smaller size would replace the instance.
    assert lifecycle(instance)["ignore_changes"] == ["${settings[0].disk_size}"]
    settings = one(instance, "settings")
    assert settings["disk_autoresize"] is True and settings["disk_size"] == "${var.db_disk_size_gib}"
    assert settings["tier"] == "${var.db_tier}"
    assert settings["availability_type"] == '${var.db_standby ? "REGIONAL" : "ZONAL"}'
    assert instance["database_version"] == "${local.mysql_database_versions[var.mysql_version]}"
    assert local_value(d, "mysql_database_versions") == {"8.0": "MYSQL_8_0", "8.4": "MYSQL_8_4"}
    # Terraform's guard and the API's both follow deletion_protection (teardown step 5).
    assert instance["deletion_protection"] == "${var.deletion_protection}"
    assert settings["deletion_protection_enabled"] == "${var.deletion_protection}"
    assert variable_default(d, "deletion_protection") is (env == "prod")
    # Backups outlive the instance where the tier says so (teardown step 1).
    assert settings["retain_backups_on_delete"] == "${var.keep_backups_on_delete}"
    assert variable_default(d, "keep_backups_on_delete") is (env == "prod")


@pytest.mark.parametrize("env", ENVS)
def test_gcp_password_rotation_keeps_a_secret_version(env: str) -> None:
    d = doc("gcp", env)
    version = resource(d, "google_secret_manager_secret_version.db_password")
    assert lifecycle(version) == {"create_before_destroy": True}
    assert version["secret_data_wo_version"] == "${var.db_password_version}"
    assert resource(d, "google_sql_user.wandb")["password_wo_version"] == "${var.db_password_version}"


@pytest.mark.parametrize("env", ENVS)
def test_gcp_nodes_change_in_place(env: str) -> None:
    """Machine type, disk and zones of a standalone node pool change in place; the
    removed default pool's node_config (ForceNew on the cluster) is ignored."""
    d = doc("gcp", env)
    cluster = resource(d, "google_container_cluster.this")
    pool = resource(d, "google_container_node_pool.this")
    assert "node_pool" not in cluster  # inline pools: machine type changes go undetected
    assert cluster["remove_default_node_pool"] is True
    assert lifecycle(cluster)["ignore_changes"] == ["node_config", "initial_node_count"]
    assert lifecycle(pool)["ignore_changes"] == ["initial_node_count"]
    assert one(pool, "node_config")["machine_type"] == "${var.node_machine_type}"
    assert pool["node_locations"] == cluster["node_locations"] == "${local.zones}"
    # Nodes follow the control plane through the channel, one surge node at a time.
    assert "version" not in pool
    assert one(pool, "management") == {"auto_repair": True, "auto_upgrade": True}
    assert one(pool, "upgrade_settings") == {"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0}
    assert cluster["min_master_version"] == "${var.kubernetes_version}"
    assert one(cluster, "release_channel")["channel"] == "${var.release_channel}"
    assert cluster["deletion_protection"] == "${var.deletion_protection}"


def test_gcp_certificate_is_replaced_new_first() -> None:
    """A new domain gets a certificate of its own name before the old one goes (which
    fails while the Ingress names it: docs/day2.md, "Changing the domain")."""
    d = doc("gcp")
    certificate = resource(d, "google_compute_managed_ssl_certificate.wandb")
    assert lifecycle(certificate) == {"create_before_destroy": True}
    assert "sha1(var.domain)" in certificate["name"]
    assert one(certificate, "managed")["domains"] == ["${var.domain}."]
    assert local_value(d, "certificate_name").startswith('${var.ssl_certificate_name != "" ?')
    assert blocks(d, "output")["certificate_name"]["value"] == "${local.certificate_name}"


def test_gcp_private_services_range_is_ordered_and_checked() -> None:
    d = doc("gcp")
    address = resource(d, "google_compute_global_address.private_services")
    assert "${google_compute_subnetwork.this}" in address["depends_on"]
    assert address["address"] == '${var.private_services_cidr == "" ? null : cidrhost(var.private_services_cidr, 0)}'
    messages = [p["error_message"] for p in lifecycle(address)["precondition"]]
    assert any("must not overlap" in m for m in messages)
    assert any("Shared VPC host" in m and "private_services_range_name" in m for m in messages)
    connection = resource(d, "google_service_networking_connection.private_services")
    assert connection["deletion_policy"] == "ABANDON"


# ---- AWS (what tests/test_e2e_aws.py does not read) -----------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_aws_node_group_replaced_new_first_and_follows_the_cluster(env: str) -> None:
    group = resource(doc("aws", env), "aws_eks_node_group.this")
    assert "node_group_name" not in group and group["node_group_name_prefix"] == "${local.name}-nodes-"
    life = lifecycle(group)
    assert life["create_before_destroy"] is True
    # Raising node_min_size above the group's own desired size fails at apply (docs/day2.md).
    assert life["ignore_changes"] == ["${scaling_config[0].desired_size}"]
    assert group["version"] == "${aws_eks_cluster.this.version}"


@pytest.mark.parametrize("env", ENVS)
def test_aws_database_changes_in_place(env: str) -> None:
    d = doc("aws", env)
    cluster = resource(d, "aws_rds_cluster.metadata")
    assert lifecycle(cluster)["ignore_changes"] == ["availability_zones"]
    assert cluster["allow_major_version_upgrade"] is True
    # Lifting deletion protection to tear down still keeps a final snapshot and the
    # automated backups where the tier says so (docs/day2.md, teardown step 1).
    assert cluster["skip_final_snapshot"] == "${!var.keep_backups_on_delete}"
    assert cluster["delete_automated_backups"] == "${!var.keep_backups_on_delete}"
    assert cluster["final_snapshot_identifier"] == "${local.name}-metadata-final"
    assert variable_default(d, "keep_backups_on_delete") is (env == "prod")
    primary = resource(d, "aws_rds_cluster_instance.primary")
    standby = resource(d, "aws_rds_cluster_instance.standby")
    for body in (cluster, primary, standby):
        assert body["apply_immediately"] == "${var.db_apply_immediately}"
    assert variable_default(d, "db_apply_immediately") is False
    # The staged resize: the standby first, then a failover, then the old writer.
    assert primary["instance_class"] == "${var.db_instance_class}"
    assert standby["instance_class"] == '${var.db_standby_instance_class != "" ? var.db_standby_instance_class : var.db_instance_class}'
    assert (primary["promotion_tier"], standby["promotion_tier"]) == (0, 1)


# ---- docs/day2.md ---------------------------------------------------------------------

SECTION_CLOUD = {"Azure": "azure", "GCP": "gcp", "AWS": "aws"}
PREFIX_CLOUD = {"aws_": "aws", "google_": "gcp", "azurerm_": "azure"}
# Backticked text that names a resource: anything starting with a cloud provider's prefix
# (no variable does), or a helm_/kubernetes_/terraform_ name with a dot (variables such as
# kubernetes_version have none).
ADDRESS_LIKE = re.compile(r"`((?:aws|google|azurerm)_[^`]*|(?:helm|kubernetes|terraform)_[^`.]*\.[^`]*)`")
ADDRESS = re.compile(r"([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)(\[[^\]]+\])?")


def generated_resources(cloud: str) -> set[str]:
    """Every resource address of the cloud's modules: both tiers with a managed zone, and the app layer."""
    found: set[str] = set()
    for module in (doc(cloud, "dev"), doc(cloud, "prod"), parsed(cloud, "prod", "both", "--layer", "app")):
        found |= set(blocks(module, "resource"))
    return found


def doc_addresses() -> list[tuple[str | None, str, int]]:
    """(cloud section or None, address, line number) of every backticked resource address."""
    section, found = None, []
    for number, line in enumerate(DAY2_DOC.read_text().splitlines(), 1):
        if line.startswith("## "):
            section = SECTION_CLOUD.get(line[3:].strip())
        for token in ADDRESS_LIKE.findall(line):
            if re.search(r"\.(go|md|markdown|tf|j2|yaml)$", token):  # a source file, not a resource
                continue
            match = ADDRESS.fullmatch(token)
            assert match, f"docs/day2.md:{number}: `{token}` looks like a resource but is not TYPE.NAME"
            found.append((section, match.group(1), number))
    return found


def test_day2_doc_names_only_generated_resources() -> None:
    addresses = doc_addresses()
    assert len(addresses) >= 60, "the page names fewer resources than it did"
    universe = {cloud: generated_resources(cloud) for cloud in CLOUDS}
    missing = []
    for section, address, number in addresses:
        cloud = next((c for prefix, c in PREFIX_CLOUD.items() if address.startswith(prefix)), section)
        clouds = [cloud] if cloud else list(CLOUDS)
        if not any(address in universe[c] for c in clouds):
            missing.append(f"docs/day2.md:{number}: {address} ({'/'.join(clouds)})")
    assert missing == []


def test_day2_doc_prevent_destroy_table_is_the_modules() -> None:
    lines = DAY2_DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|") and "`prevent_destroy` in prod" in line)
    listed: dict[str, set[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, addresses = [cell.strip() for cell in line.strip("|").split("|")]
        listed[SECTION_CLOUD[name]] = set(re.findall(r"`([^`]+)`", addresses))
    assert listed == {cloud: protected(doc(cloud)) for cloud in CLOUDS}


def test_day2_doc_tables_have_every_column() -> None:
    """Each change row in a cloud's table states the plan, the outcome, the source and
    the module part (five cells, none empty)."""
    section, rows = None, 0
    for number, line in enumerate(DAY2_DOC.read_text().splitlines(), 1):
        if line.startswith("## "):
            section = SECTION_CLOUD.get(line[3:].strip())
        if section and line.startswith("| ") and not line.startswith("| Change ") and not line.startswith("| ---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if len(cells) == 4:  # the Shared VPC roles table
                continue
            assert len(cells) == 5 and all(cells), f"docs/day2.md:{number}: {cells}"
            rows += 1
    assert rows >= 40


@pytest.mark.parametrize("cloud", CLOUDS)
def test_day2_doc_covers_what_points_to_it(cloud: str) -> None:
    """A variable description or a precondition message that sends the reader to
    docs/day2.md is about a variable the page discusses."""
    text = DAY2_DOC.read_text()
    discussed = set(re.findall(r"`([a-z][a-z0-9_]*)`", text))
    pointing: list[tuple[str, set[str]]] = []
    for env in ENVS:
        module = doc(cloud, env)
        for name, variable in blocks(module, "variable").items():
            if "docs/day2.md" in variable.get("description", ""):
                pointing.append((f"variable {name}", {name}))
        for address, body in blocks(module, "resource").items():
            for check in lifecycle(body).get("precondition", []):
                if "docs/day2.md" in check["error_message"]:
                    pointing.append((f"{address} precondition", set(re.findall(r"\bvar\.([a-z0-9_]+)", check["condition"]))))
    if cloud in ("aws", "azure"):
        assert pointing, "nothing in the module points to docs/day2.md any more"
    uncovered = [(what, sorted(names)) for what, names in pointing if not names & discussed]
    assert uncovered == []
