"""The Azure module: parsed HCL checked per requirement, fmt-clean and schema-clean in every combination."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.catalog import load_catalog
from generator.schema_check import check_text, load_schema
from tests.conftest import (
    WANDB_SERVICE_ACCOUNTS_WEAVE,
    DOMAIN_ARGS,
    ENVS,
    PRODUCTS,
    blocks,
    generate,
    local_value,
    parse,
    parsed,
    resource,
    run_cli,
    terraform,
    terraform_or_skip,
    variable_default,
)

CLOUD = "azure"
COMBOS = [(env, products) for env in ENVS for products in PRODUCTS]
VARIANTS = [(env, products, extra) for env, products in COMBOS for extra in ((), DOMAIN_ARGS)]

# requirements.md, "Machine types per node" (Azure).
NODE_SIZE = {
    ("dev", "models"): "Standard_E2_v5",
    ("dev", "weave"): "Standard_E4_v5",
    ("dev", "both"): "Standard_E4_v5",
    ("prod", "models"): "Standard_E8_v5",
    ("prod", "weave"): "Standard_E16_v5",
    ("prod", "both"): "Standard_E16_v5",
}
DB_SKU = {"dev": "MO_Standard_E2ds_v4", "prod": "MO_Standard_E8ds_v4"}
DB_DISK = {"dev": 100, "prod": 500}


def doc(env: str, products: str = "both", *extra: str) -> dict[str, Any]:
    return parsed(CLOUD, env, products, *extra)


def one(body: dict[str, Any], block: str) -> dict[str, Any]:
    """The single nested block ``block`` of a parsed body."""
    found = body.get(block)
    assert isinstance(found, list) and len(found) == 1, f"expected one {block} block, got {found!r}"
    return found[0]


def dynamic(body: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in body.get("dynamic", []):
        if name in entry:
            return entry[name]
    raise AssertionError(f"no dynamic {name!r} block")


def ephemeral(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in document.get("ephemeral", []):
        for kind, named in entry.items():
            for name, body in named.items():
                found[f"{kind}.{name}"] = body
    return found


def resources_of(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in blocks(document, "resource").items() if k.split(".")[0] == kind}


def validations(document: dict[str, Any], name: str) -> list[str]:
    return [v["condition"] for v in blocks(document, "variable")[name].get("validation", [])]


# ---- Versions and providers --------------------------------------------------


def test_terraform_block_pins_azurerm_and_random_and_needs_write_only_support() -> None:
    terraform_block = doc("prod")["terraform"][0]
    # Write-only arguments (administrator_password_wo, value_wo) need Terraform 1.11.
    assert terraform_block["required_version"] == ">= 1.11"
    providers = terraform_block["required_providers"][0]
    assert providers["azurerm"] == {"source": "hashicorp/azurerm", "version": ">= 4.55, < 5.0"}
    assert providers["random"] == {"source": "hashicorp/random", "version": ">= 3.7, < 4.0"}


def test_provider_has_features_and_subscription() -> None:
    provider = blocks(doc("dev"), "provider")["azurerm"]
    assert provider["subscription_id"] == "${var.subscription_id}"
    assert "features" in provider
    assert "default" not in blocks(doc("dev"), "variable")["subscription_id"]


# ---- Kubernetes ----------------------------------------------------------------


@pytest.mark.parametrize(("env", "products"), COMBOS)
def test_node_pool_is_sized_zonal_and_autoscaled(env: str, products: str) -> None:
    d = doc(env, products)
    # Issue 13: W&B has its own pool; the default (system) pool runs AKS's add-ons only, so
    # resizing W&B's nodes never cycles the pool the add-ons live on.
    system = one(resource(d, "azurerm_kubernetes_cluster.this"), "default_node_pool")
    assert system["only_critical_addons_enabled"] is True
    assert system["vm_size"] == "${var.system_node_vm_size}"
    assert variable_default(d, "system_node_vm_size") == ("Standard_D4s_v5" if env == "prod" else "Standard_D2s_v5")
    assert system["zones"] == "${var.node_zones}"
    pool = resource(d, "azurerm_kubernetes_cluster_node_pool.wandb")
    assert pool["mode"] == "User" and pool["kubernetes_cluster_id"] == "${azurerm_kubernetes_cluster.this.id}"
    # A new size or zone list rolls through a temporary pool that takes the pods first.
    assert pool["temporary_name_for_rotation"] == "wandbtmp"
    assert one(pool, "upgrade_settings")["drain_timeout_in_minutes"] == 30
    assert pool["orchestrator_version"] == "${var.kubernetes_version}"
    # R-K8S-5: the reference table's x86 size.
    assert pool["vm_size"] == "${var.node_vm_size}"
    assert variable_default(d, "node_vm_size") == NODE_SIZE[(env, products)]
    # R-LAYER-1: 2 zones in dev, 3 in prod; at least 2 nodes everywhere.
    assert pool["zones"] == "${var.node_zones}"
    assert variable_default(d, "node_zones") == (["1", "2"] if env == "dev" else ["1", "2", "3"])
    assert pool["auto_scaling_enabled"] is True
    assert pool["min_count"] == "${var.node_min_count}"
    assert pool["max_count"] == "${var.node_max_count}"
    assert variable_default(d, "node_min_count") >= 2
    assert variable_default(d, "node_max_count") >= variable_default(d, "node_min_count")
    assert any(">= 2" in c for c in validations(d, "node_min_count"))
    # The sized disk on a managed OS disk.
    assert pool["os_disk_size_gb"] == "${var.node_disk_size_gib}"
    assert variable_default(d, "node_disk_size_gib") == 100
    assert pool["os_disk_type"] == "Managed"
    assert pool["vnet_subnet_id"] == "${local.node_subnet_id}"


def test_node_size_validation_refuses_arm_sizes() -> None:
    conditions = " ".join(validations(doc("prod"), "node_vm_size"))
    assert "p[a-z]*_v" in conditions  # R-K8S-5: Arm sizes carry a p feature letter


@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_version_is_validated_and_patched(env: str) -> None:
    d = doc(env)
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    assert cluster["kubernetes_version"] == "${var.kubernetes_version}"
    assert cluster["automatic_upgrade_channel"] == "patch"
    assert variable_default(d, "kubernetes_version") == "1.36"
    # R-K8S-4 and issue 11: the minors AKS creates without long-term support on the catalog's date.
    assert validations(d, "kubernetes_version") == ['${contains(["1.35", "1.36"], var.kubernetes_version)}']


def test_workload_identity_oidc_and_entra_id() -> None:
    cluster = resource(doc("prod"), "azurerm_kubernetes_cluster.this")
    assert cluster["oidc_issuer_enabled"] is True
    assert cluster["workload_identity_enabled"] is True
    assert cluster["local_account_disabled"] is True
    aad = one(cluster, "azure_active_directory_role_based_access_control")
    assert aad["azure_rbac_enabled"] is True
    assert aad["admin_group_object_ids"] == "${var.cluster_admin_group_object_ids}"
    # Issue 10: a public API server admits the admin networks and the module's own egress address only.
    assert one(cluster, "api_server_access_profile")["authorized_ip_ranges"] == (
        "${local.private_cluster ? [] : concat(var.api_server_authorized_ip_ranges, local.egress_cidrs)}"
    )


@pytest.mark.parametrize(("env", "products"), COMBOS)
def test_disk_csi_and_a_storage_class_the_nodes_can_attach(env: str, products: str) -> None:
    d = doc(env, products)
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    # R-K8S-3
    assert one(cluster, "storage_profile")["disk_driver_enabled"] is True
    size = variable_default(d, "node_vm_size")
    premium = load_catalog(CLOUD).machine(size).premium_storage
    # The reference's Standard_E*_v5 sizes (no "s") cannot attach Premium SSD.
    assert premium is False
    assert variable_default(d, "storage_class_name") == "managed-csi"
    assert blocks(d, "output")["storage_class_name"]["value"] == "${var.storage_class_name}"


def test_every_subnet_has_a_network_security_group() -> None:
    d = doc("prod")
    associated = {
        body["subnet_id"] for body in resources_of(d, "azurerm_subnet_network_security_group_association").values()
    }
    assert set(resources_of(d, "azurerm_subnet")) == {"azurerm_subnet.nodes", "azurerm_subnet.database", "azurerm_subnet.ingress"}
    assert associated == {"${local.node_subnet_id}", "${local.database_subnet_id}", "${local.ingress_subnet_id}"}


def test_nat_gateway_is_the_cluster_egress() -> None:
    d = doc("prod")
    network = one(resource(d, "azurerm_kubernetes_cluster.this"), "network_profile")
    # R-NET-1
    assert network["outbound_type"] == "${local.outbound_type}"
    local_values = blocks(d, "locals")
    assert local_values["nat_gateway"] == "${!local.byo_network && !var.air_gapped}"
    assert "userAssignedNATGateway" in local_values["outbound_type"]
    assert variable_default(d, "air_gapped") is False
    assert variable_default(d, "existing_vnet_id") == ""
    assert network["network_plugin"] == "azure"
    assert network["network_policy"]
    association = resource(d, "azurerm_subnet_nat_gateway_association.nodes")
    assert association["subnet_id"] == "${azurerm_subnet.nodes[0].id}"
    assert association["nat_gateway_id"] == "${azurerm_nat_gateway.this[0].id}"
    ip = resource(d, "azurerm_public_ip.nat")
    assert (ip["sku"], ip["allocation_method"]) == ("Standard", "Static")
    assert resource(d, "azurerm_nat_gateway_public_ip_association.this")["public_ip_address_id"] == "${azurerm_public_ip.nat[0].id}"


def test_ingress_controller_is_agic_on_an_application_gateway_v2() -> None:
    d = doc("prod")
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    # R-K8S-2
    assert one(cluster, "ingress_application_gateway")["gateway_id"] == "${azurerm_application_gateway.ingress.id}"
    gateway = resource(d, "azurerm_application_gateway.ingress")
    assert one(gateway, "sku")["tier"].endswith("_v2")
    assert one(gateway, "gateway_ip_configuration")["subnet_id"] == "${local.ingress_subnet_id}"
    assert one(gateway, "frontend_ip_configuration")["public_ip_address_id"] == "${azurerm_public_ip.ingress.id}"
    agic = "${azurerm_kubernetes_cluster.this.ingress_application_gateway[0].ingress_application_gateway_identity[0].object_id}"
    granted = {
        (r["role_definition_name"], r["scope"])
        for r in resources_of(d, "azurerm_role_assignment").values()
        if r["principal_id"] == agic
    }
    assert ("Contributor", "${azurerm_application_gateway.ingress.id}") in granted
    assert ("Network Contributor", "${local.ingress_subnet_id}") in granted
    assert ("Network Contributor", "${azurerm_public_ip.ingress.id}") in granted
    assert ("Network Contributor", "${azurerm_web_application_firewall_policy.ingress.id}") in granted


# ---- Network options: bring your own network, private API, allowed CIDRs, air-gapped ---------

VNET_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub"
SUBNET_IDS = [f"{VNET_ID}/subnets/{name}" for name in ("aks", "mysql", "appgw")]
BYO_ARGS = ("--vpc-id", VNET_ID, *[arg for subnet in SUBNET_IDS for arg in ("--private-subnet-id", subnet)])
ALLOWED = ["203.0.113.0/24", "198.51.100.0/24"]
REGISTRY = "registry.corp.example/wandb"
ISOLATION_ARGS = (
    "--private-endpoint",
    *[arg for cidr in ALLOWED for arg in ("--allowed-cidr", cidr)],
    "--air-gapped",
    "--image-registry",
    REGISTRY,
)
EXISTING_SUBNETS = ["existing_node_subnet_id", "existing_database_subnet_id", "existing_ingress_subnet_id"]
OTHER_SUBNET = VNET_ID.replace("/hub", "/spoke") + "/subnets/appgw"
NEW_NETWORK = ("azurerm_virtual_network.this", "azurerm_subnet.nodes", "azurerm_subnet.database", "azurerm_subnet.ingress")
NAT = (
    "azurerm_public_ip.nat",
    "azurerm_nat_gateway.this",
    "azurerm_nat_gateway_public_ip_association.this",
    "azurerm_subnet_nat_gateway_association.nodes",
)


def network_defaults(document: dict[str, Any]) -> dict[str, Any]:
    return {
        name: variable_default(document, name)
        for name in (
            "existing_vnet_id",
            "existing_node_subnet_id",
            "existing_database_subnet_id",
            "existing_ingress_subnet_id",
            "private_cluster",
            "ingress_allowed_cidrs",
            "air_gapped",
            "image_registry",
        )
    }


def test_network_option_defaults_without_flags() -> None:
    assert network_defaults(doc("prod")) == {
        "existing_vnet_id": "",
        "existing_node_subnet_id": "",
        "existing_database_subnet_id": "",
        "existing_ingress_subnet_id": "",
        "private_cluster": False,
        "ingress_allowed_cidrs": ["0.0.0.0/0"],
        "air_gapped": False,
        "image_registry": "",
    }


@pytest.mark.parametrize("env", ENVS)
def test_network_option_defaults_come_from_the_flags(env: str) -> None:
    assert network_defaults(doc(env, "both", *BYO_ARGS, *ISOLATION_ARGS)) == {
        "existing_vnet_id": VNET_ID,
        "existing_node_subnet_id": SUBNET_IDS[0],
        "existing_database_subnet_id": SUBNET_IDS[1],
        "existing_ingress_subnet_id": SUBNET_IDS[2],
        "private_cluster": True,
        "ingress_allowed_cidrs": ALLOWED,
        "air_gapped": True,
        "image_registry": REGISTRY,
    }


def test_existing_vnet_needs_all_three_subnets(capsys: pytest.CaptureFixture[str]) -> None:
    """gen-tf refuses a partial set up front rather than leaving Terraform to ask at plan time."""
    from conftest import WANDB_SERVICE_ACCOUNTS_WEAVE, run_cli

    code, out, err = run_cli(
        ["--cloud", CLOUD, "--env", "prod", "--products", "both", "--vpc-id", VNET_ID, "--private-subnet-id", SUBNET_IDS[0]],
        capsys,
    )
    assert code == 2 and out == ""
    assert "--private-subnet-id: give 3 on azure" in err


def test_existing_network_replaces_the_module_network_everywhere() -> None:
    d = doc("prod", "both", *BYO_ARGS)
    for address in NEW_NETWORK:
        assert resource(d, address)["count"] == "${local.byo_network ? 0 : 1}", address
    for address in NAT:
        assert resource(d, address)["count"] == "${local.nat_gateway ? 1 : 0}", address
    local_values = blocks(d, "locals")
    assert local_values["byo_network"] == '${var.existing_vnet_id != ""}'
    assert local_values["vnet_id"] == "${local.byo_network ? var.existing_vnet_id : azurerm_virtual_network.this[0].id}"
    assert local_values["node_subnet_id"] == "${local.byo_network ? var.existing_node_subnet_id : azurerm_subnet.nodes[0].id}"
    assert local_values["ingress_subnet_id"] == (
        "${local.byo_network ? var.existing_ingress_subnet_id : azurerm_subnet.ingress[0].id}"
    )
    # Nothing outside the network's own definitions names the module's network resources directly.
    outside = {
        address: body
        for address, body in blocks(d, "resource").items()
        if address not in NEW_NETWORK + NAT
    }
    text = repr(outside) + repr(blocks(d, "output")) + repr(blocks(d, "data"))
    assert "azurerm_virtual_network.this" not in text
    assert not re.search(r"azurerm_subnet\.(nodes|database|ingress)", text)
    assert "azurerm_nat_gateway.this" not in text
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    assert one(cluster, "default_node_pool")["vnet_subnet_id"] == "${local.node_subnet_id}"
    assert resource(d, "azurerm_role_assignment.cluster_network")["scope"] == "${local.vnet_id}"
    assert resource(d, "azurerm_mysql_flexible_server.metadata")["delegated_subnet_id"] == "${local.database_subnet_id}"
    assert blocks(d, "output")["nat_public_ip"]["value"] == "${one(azurerm_public_ip.nat[*].ip_address)}"
    # The existing network's own egress (R-NET-1).
    assert variable_default(d, "existing_network_outbound_type") == "userDefinedRouting"


def test_private_cluster_drops_authorized_ranges() -> None:
    d = doc("prod", "both", "--private-endpoint")
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    assert cluster["private_cluster_enabled"] == "${local.private_cluster}"
    assert blocks(d, "locals")["private_cluster"] == "${var.private_cluster || var.air_gapped}"
    assert variable_default(d, "private_cluster") is True
    # Authorized IP ranges apply to a public API server only; Azure refuses them on a private one.
    assert one(cluster, "api_server_access_profile")["authorized_ip_ranges"] == (
        "${local.private_cluster ? [] : concat(var.api_server_authorized_ip_ranges, local.egress_cidrs)}"
    )
    assert any("!(var.private_cluster || var.air_gapped)" in c for c in validations(d, "api_server_authorized_ip_ranges"))


def test_allowed_cidrs_are_the_gateway_subnet_rules() -> None:
    d = doc("prod", "both", *ISOLATION_ARGS[1:5], "--domain", "wandb.example.com", "--dns-zone", "example.com")
    assert variable_default(d, "ingress_allowed_cidrs") == ALLOWED
    rules = resources_of(d, "azurerm_network_security_rule")
    web = rules["azurerm_network_security_rule.ingress_web"]
    # Without a DNS zone, cert-manager's HTTP-01 challenge comes from Let's Encrypt addresses
    # no list can name: narrowed port 80 is refused unless DNS-01 (or air-gapped) applies.
    (check,) = one(web, "lifecycle")["precondition"]
    assert check["condition"] == '${var.dns_zone_name != "" || var.air_gapped || !local.ingress_narrowed}'
    assert local_value(d, "ingress_narrowed") == '${!contains(var.ingress_allowed_cidrs, "0.0.0.0/0")}'
    assert "HTTP-01" in check["error_message"] and "dns_zone_name" in check["error_message"]
    # R-NET-3: 80 and 443 from the allowed CIDRs only.
    assert (web["direction"], web["access"], web["protocol"]) == ("Inbound", "Allow", "Tcp")
    assert web["source_address_prefixes"] == "${local.ingress_sources}"
    # Narrowed, the list gains W&B's own NAT egress (it calls its public URL); open, it stays as given.
    assert local_value(d, "ingress_sources") == (
        "${local.ingress_narrowed ? distinct(concat(var.ingress_allowed_cidrs, local.egress_cidrs)) : var.ingress_allowed_cidrs}"
    )
    assert sorted(web["destination_port_ranges"]) == ["443", "80"]
    # What Application Gateway v2 needs regardless.
    manager = rules["azurerm_network_security_rule.ingress_gateway_manager"]
    assert (manager["source_address_prefix"], manager["destination_port_range"]) == ("GatewayManager", "65200-65535")
    balancer = rules["azurerm_network_security_rule.ingress_load_balancer"]
    assert (balancer["source_address_prefix"], balancer["access"]) == ("AzureLoadBalancer", "Allow")
    for body in rules.values():
        assert body["network_security_group_name"] == "${azurerm_network_security_group.ingress.name}"
    association = resource(d, "azurerm_subnet_network_security_group_association.ingress")
    assert association["subnet_id"] == "${local.ingress_subnet_id}"
    assert association["network_security_group_id"] == "${azurerm_network_security_group.ingress.id}"


def test_air_gapped_has_no_egress_and_passes_the_registry_on() -> None:
    d = doc("prod", "both", "--air-gapped", "--image-registry", REGISTRY)
    assert variable_default(d, "air_gapped") is True
    assert variable_default(d, "image_registry") == REGISTRY
    local_values = blocks(d, "locals")
    # R-NET-2: no NAT gateway and outbound type none (a network isolated cluster).
    assert local_values["nat_gateway"] == "${!local.byo_network && !var.air_gapped}"
    assert local_values["outbound_type"].startswith('${var.air_gapped ? "none" : ')
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    assert one(cluster, "network_profile")["outbound_type"] == "${local.outbound_type}"
    # azurerm requires bootstrap_profile.artifact_source = Cache with outbound type none.
    bootstrap = dynamic(cluster, "bootstrap_profile")
    assert bootstrap["for_each"] == "${var.air_gapped ? [1] : []}"
    assert bootstrap["content"][0]["artifact_source"] == "Cache"
    outputs = blocks(d, "output")
    assert outputs["image_registry"]["value"] == "${var.image_registry}"
    assert outputs["airgapped"]["value"] == "${var.air_gapped}"
    assert any('var.image_registry != ""' in c for c in validations(d, "image_registry"))


# R-NET-2: the private endpoints the module creates for its own services (the storage account's
# blob service and the Key Vault), each with its private DNS zone and the zone's link to the
# virtual network unless existing_private_dns_zone_ids names the zone; the subresource and zone
# names come from the catalog's settings.
PRIVATE_ENDPOINTS = {
    "blob": ("${azurerm_storage_account.artifacts.id}", "blob", "privatelink.blob.core.windows.net"),
    "key_vault": ("${azurerm_key_vault.this.id}", "vault", "privatelink.vaultcore.azure.net"),
}
PRIVATE_LINK_RESOURCES = (
    "azurerm_private_endpoint.endpoints",
    "azurerm_private_dns_zone.endpoints",
    "azurerm_private_dns_zone_virtual_network_link.endpoints",
)
def _variables_only(text: str) -> str:
    """The variable blocks of a generated module: terraform plans them with no provider."""
    return "\n".join(re.findall(r'^variable "[^"]+" \{\n.*?^\}\n', text, flags=re.M | re.S))


AIR_GAPPED_ARGS = ("--air-gapped", "--image-registry", REGISTRY)
HUB_BLOB_ZONE = "/subscriptions/0000/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net"


def test_private_endpoint_names_come_from_the_catalog() -> None:
    settings = load_catalog(CLOUD).cloud.settings["private_endpoints"]
    assert {name: (s["subresource"], s["dns_zone"]) for name, s in settings.items()} == {
        name: (subresource, zone) for name, (_, subresource, zone) in PRIVATE_ENDPOINTS.items()
    }


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize(
    ("extra", "existing_vnet_id", "existing_node_subnet_id"),
    [(AIR_GAPPED_ARGS, "", ""), ((*BYO_ARGS, *ISOLATION_ARGS), VNET_ID, SUBNET_IDS[0])],
    ids=["new-network", "existing-network"],
)
def test_air_gapped_private_endpoints_for_blob_and_key_vault(
    env: str, extra: tuple[str, ...], existing_vnet_id: str, existing_node_subnet_id: str
) -> None:
    d = doc(env, "both", *extra)
    assert variable_default(d, "air_gapped") is True
    # The endpoints and links use the network in use, created or existing (local.vnet_id and
    # local.node_subnet_id pick the existing one when existing_vnet_id is set).
    assert variable_default(d, "existing_vnet_id") == existing_vnet_id
    assert variable_default(d, "existing_node_subnet_id") == existing_node_subnet_id
    assert local_value(d, "vnet_id") == "${local.byo_network ? var.existing_vnet_id : azurerm_virtual_network.this[0].id}"
    assert local_value(d, "node_subnet_id") == "${local.byo_network ? var.existing_node_subnet_id : azurerm_subnet.nodes[0].id}"
    # Which services, and the data each needs: from the catalog and the module's own resources.
    assert local_value(d, "private_endpoint_settings") == {
        name: {"subresource": subresource, "dns_zone": zone} for name, (_, subresource, zone) in PRIVATE_ENDPOINTS.items()
    }
    assert local_value(d, "private_endpoint_targets") == {name: target for name, (target, _, _) in PRIVATE_ENDPOINTS.items()}
    assert local_value(d, "private_endpoint_services") == (
        "${var.air_gapped ? toset(keys(local.private_endpoint_settings)) : toset([])}"
    )
    assert local_value(d, "private_dns_zones_created") == (
        "${setsubtract(local.private_endpoint_services, keys(var.existing_private_dns_zone_ids))}"
    )
    zone = resource(d, "azurerm_private_dns_zone.endpoints")
    assert zone["for_each"] == "${local.private_dns_zones_created}"
    assert zone["name"] == "${local.private_endpoint_settings[each.key].dns_zone}"
    assert zone["resource_group_name"] == "${azurerm_resource_group.this.name}"
    link = resource(d, "azurerm_private_dns_zone_virtual_network_link.endpoints")
    assert link["for_each"] == "${azurerm_private_dns_zone.endpoints}"
    assert link["private_dns_zone_name"] == "${each.value.name}"
    assert link["virtual_network_id"] == "${local.vnet_id}"
    assert link["registration_enabled"] is False
    endpoint = resource(d, "azurerm_private_endpoint.endpoints")
    assert endpoint["for_each"] == "${local.private_endpoint_services}"
    assert endpoint["subnet_id"] == "${local.node_subnet_id}"
    assert endpoint["location"] == "${azurerm_resource_group.this.location}"
    connection = one(endpoint, "private_service_connection")
    assert connection["private_connection_resource_id"] == "${local.private_endpoint_targets[each.key]}"
    assert connection["subresource_names"] == ["${local.private_endpoint_settings[each.key].subresource}"]
    assert connection["is_manual_connection"] is False
    group = one(endpoint, "private_dns_zone_group")
    assert group["private_dns_zone_ids"] == [
        "${try(var.existing_private_dns_zone_ids[each.key], azurerm_private_dns_zone.endpoints[each.key].id)}"
    ]
    precondition = endpoint["lifecycle"][0]["precondition"][0]
    assert "local.private_endpoint_settings[each.key].dns_zone" in precondition["condition"]
    for body in (zone, link, endpoint):
        assert body["tags"] == "${local.tags}"
    # Exactly these (the MySQL zone and link are apart).
    found = {a for a in blocks(d, "resource") if a.split(".")[0] in {r.split(".")[0] for r in PRIVATE_LINK_RESOURCES}}
    assert found - {"azurerm_private_dns_zone.mysql", "azurerm_private_dns_zone_virtual_network_link.mysql"} == set(
        PRIVATE_LINK_RESOURCES
    )
    assert variable_default(d, "existing_private_dns_zone_ids") == {}


@pytest.mark.parametrize("extra", [(), BYO_ARGS, ("--private-endpoint",)], ids=["default", "existing-network", "private-api"])
def test_no_private_endpoints_without_air_gapped(extra: tuple[str, ...]) -> None:
    d = doc("prod", "both", *extra)
    assert variable_default(d, "air_gapped") is False
    # Rendered, but keyed by sets that are empty while air_gapped is false (evaluated by
    # terraform in test_terraform_evaluates_the_network_switches).
    assert resource(d, "azurerm_private_endpoint.endpoints")["for_each"] == "${local.private_endpoint_services}"
    # Nothing else refers to them, so nothing else changes with air_gapped.
    others = {address: body for address, body in blocks(d, "resource").items() if address not in PRIVATE_LINK_RESOURCES}
    text = repr(others) + repr(blocks(d, "output")) + repr(blocks(d, "data"))
    assert not re.search(r"azurerm_private_endpoint\.|azurerm_private_dns_zone(_virtual_network_link)?\.endpoints|private_endpoint_", text)


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("zones", "ok"),
    [
        ({}, True),
        ({"blob": HUB_BLOB_ZONE}, True),
        ({"blob": HUB_BLOB_ZONE.lower()}, True),  # resource IDs are case-insensitive; some tools lower-case them
        ({"storage": HUB_BLOB_ZONE}, False),  # not a service the module gives an endpoint
        ({"key_vault": "privatelink.vaultcore.azure.net"}, False),  # a name, not a zone's resource ID
    ],
)
def test_terraform_checks_existing_private_dns_zone_ids(zones: dict[str, str], ok: bool, tmp_path: Path) -> None:
    """The variable's validations, evaluated by terraform on the generated variables alone."""
    terraform_or_skip()
    text = generate(CLOUD, "prod", "both", *AIR_GAPPED_ARGS)
    variables = _variables_only(text)
    (tmp_path / "main.tf").write_text(variables, encoding="utf-8")
    values = {"subscription_id": "00000000-0000-0000-0000-000000000000", "domain": "wandb.example.com"}
    (tmp_path / "test.auto.tfvars.json").write_text(json.dumps({**values, "existing_private_dns_zone_ids": zones}))
    assert terraform(["init", "-input=false", "-backend=false"], tmp_path).returncode == 0
    planned = terraform(["plan", "-input=false", "-no-color", "-lock=false"], tmp_path)
    if ok:
        assert planned.returncode == 0, planned.stdout + planned.stderr
    else:
        assert planned.returncode != 0 and "existing_private_dns_zone_ids" in planned.stderr, planned.stderr


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("extra", "expected", "tfvars"),
    [
        ((), {"new_network": 1, "nat": 1, "outbound": "userAssignedNATGateway", "private": False, "bootstrap": 0, "private_links": [0, 0]}, {}),
        (BYO_ARGS, {"new_network": 0, "nat": 0, "outbound": "userDefinedRouting", "private": False, "bootstrap": 0, "private_links": [0, 0]}, {}),
        (("--private-endpoint",), {"new_network": 1, "nat": 1, "outbound": "userAssignedNATGateway", "private": True, "bootstrap": 0, "private_links": [0, 0]}, {}),
        (("--air-gapped", "--image-registry", REGISTRY), {"new_network": 1, "nat": 0, "outbound": "none", "private": True, "bootstrap": 1, "private_links": [2, 2]}, {}),
        ((*BYO_ARGS, *ISOLATION_ARGS), {"new_network": 0, "nat": 0, "outbound": "none", "private": True, "bootstrap": 1, "private_links": [2, 2]}, {}),
        # A hub network that already resolves the blob zone: an endpoint for both, a zone for the Key Vault only.
        ((*BYO_ARGS, *ISOLATION_ARGS), {"new_network": 0, "nat": 0, "outbound": "none", "private": True, "bootstrap": 1, "private_links": [2, 1]}, {"existing_private_dns_zone_ids": {"blob": HUB_BLOB_ZONE}}),
    ],
)
def test_terraform_evaluates_the_network_switches(
    extra: tuple[str, ...], expected: dict[str, Any], tfvars: dict[str, Any], tmp_path: Path
) -> None:
    """The generated count and switch expressions, evaluated by terraform against the generated defaults."""
    terraform_or_skip()
    d = doc("prod", "both", *extra)
    text = generate(CLOUD, "prod", "both", *extra)
    variables = _variables_only(text)
    # The locals that depend on variables only (the others name resources).
    local_values = {
        name: value[2:-1]
        for name, value in blocks(d, "locals").items()
        if name in ("byo_network", "nat_gateway", "outbound_type", "private_cluster", "private_endpoint_services", "private_dns_zones_created")
    }
    # A literal (parsed as a dict): written back as JSON, which HCL reads as an object.
    local_values["private_endpoint_settings"] = json.dumps(local_value(d, "private_endpoint_settings"))
    cluster = resource(d, "azurerm_kubernetes_cluster.this")
    probes = {
        "new_network": resource(d, "azurerm_virtual_network.this")["count"][2:-1],
        "nat": resource(d, "azurerm_nat_gateway.this")["count"][2:-1],
        "outbound": one(cluster, "network_profile")["outbound_type"][2:-1],
        "private": cluster["private_cluster_enabled"][2:-1],
        "bootstrap": "length(" + dynamic(cluster, "bootstrap_profile")["for_each"][2:-1] + ")",
        # R-NET-2: how many endpoints, and how many zones (and links) the module creates.
        "private_links": "[length(local.private_endpoint_services), length(local.private_dns_zones_created)]",
    }
    module = variables + "\nlocals {\n" + "".join(f"  {k} = {v}\n" for k, v in local_values.items()) + "}\n"
    module += 'output "probes" {\n  value = {\n' + "".join(f"    {k} = {v}\n" for k, v in probes.items()) + "  }\n}\n"
    (tmp_path / "main.tf").write_text(module, encoding="utf-8")
    assert terraform(["init", "-input=false", "-backend=false"], tmp_path).returncode == 0
    args = ["plan", "-input=false", "-no-color", "-lock=false", "-out=plan.bin"]
    args += ["-var", "subscription_id=00000000-0000-0000-0000-000000000000", "-var", "domain=wandb.example.com"]
    for name in ("existing_database_subnet_id", "existing_ingress_subnet_id"):
        if "default" not in blocks(d, "variable")[name]:
            args += ["-var", f"{name}="]
    if tfvars:
        (tmp_path / "test.auto.tfvars.json").write_text(json.dumps(tfvars), encoding="utf-8")
    planned = terraform(args, tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    shown = terraform(["show", "-json", "plan.bin"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)["planned_values"]["outputs"]["probes"]["value"]
    assert values == expected


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("extra", "vnet_cidr", "service_cidr", "ok"),
    [
        ((), "10.20.0.0/16", "172.16.0.0/16", True),
        ((), "10.20.0.0/16", "10.20.128.0/20", False),
        ((), "10.20.0.0/16", "10.16.0.0/12", False),
        ((), "10.20.0.0/16", "10.0.0.0/12", True),
        ((), "10.20.0.0/16", "10.21.0.0/16", True),
        ((), "172.16.0.0/12", "172.16.0.0/16", False),
        # An existing network's address space is its owner's to check.
        (BYO_ARGS, "10.20.0.0/16", "10.20.0.0/16", True),
    ],
)
def test_terraform_refuses_service_cidr_inside_the_vnet(
    extra: tuple[str, ...], vnet_cidr: str, service_cidr: str, ok: bool, tmp_path: Path
) -> None:
    """The cluster's overlap precondition, evaluated by terraform against the generated variables and locals."""
    terraform_or_skip()
    d = doc("prod", "both", *extra)
    text = generate(CLOUD, "prod", "both", *extra)
    variables = _variables_only(text)
    local_values = {
        name: value[2:-1]
        for name, value in blocks(d, "locals").items()
        if name in ("byo_network", "service_vnet_prefix")
    }
    conditions = [p["condition"][2:-1] for p in one(resource(d, "azurerm_kubernetes_cluster.this"), "lifecycle")["precondition"]]
    (condition,) = [c for c in conditions if "service_cidr" in c and "create_time" not in c]
    module = variables + "\nlocals {\n" + "".join(f"  {k} = {v}\n" for k, v in local_values.items()) + "}\n"
    module += f'output "ok" {{\n  value = {condition}\n}}\n'
    (tmp_path / "main.tf").write_text(module, encoding="utf-8")
    assert terraform(["init", "-input=false", "-backend=false"], tmp_path).returncode == 0
    args = ["plan", "-input=false", "-no-color", "-lock=false", "-out=plan.bin"]
    args += ["-var", "subscription_id=00000000-0000-0000-0000-000000000000", "-var", "domain=wandb.example.com"]
    args += ["-var", f"vnet_cidr={vnet_cidr}", "-var", f"service_cidr={service_cidr}"]
    planned = terraform(args, tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    shown = terraform(["show", "-json", "plan.bin"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["planned_values"]["outputs"]["ok"]["value"] is ok


OPTION_VARIANTS = [
    (env, extra) for env in ENVS for extra in (BYO_ARGS, ISOLATION_ARGS, (*BYO_ARGS, *ISOLATION_ARGS, *DOMAIN_ARGS))
]


@pytest.mark.parametrize(("env", "extra"), OPTION_VARIANTS)
def test_schema_check_finds_nothing_with_network_options(env: str, extra: tuple[str, ...]) -> None:
    findings = check_text(generate(CLOUD, env, "both", *extra), providers=["azurerm", "random"])
    assert [str(f) for f in findings] == []


@pytest.mark.terraform
@pytest.mark.parametrize(("env", "extra"), OPTION_VARIANTS)
def test_terraform_fmt_clean_with_network_options(env: str, extra: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(generate(CLOUD, env, "both", *extra), encoding="utf-8")
    result = terraform(["fmt", "-check", "-diff", "main.tf"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- DNS and TLS ----------------------------------------------------------------


@pytest.mark.parametrize("extra", [(), DOMAIN_ARGS])
def test_static_zone_redundant_ip_and_a_record(extra: tuple[str, ...]) -> None:
    d = doc("prod", "both", *extra)
    ip = resource(d, "azurerm_public_ip.ingress")
    assert (ip["sku"], ip["allocation_method"]) == ("Standard", "Static")
    assert ip["zones"] == ["1", "2", "3"]
    # R-DNS-1: an A record for the FQDN, created when a zone is given.
    record = resource(d, "azurerm_dns_a_record.wandb")
    assert record["count"] == "${local.manage_dns ? 1 : 0}"
    assert record["target_resource_id"] == "${azurerm_public_ip.ingress.id}"
    assert blocks(d, "locals")["manage_dns"] == '${var.dns_zone_name != ""}'
    assert variable_default(d, "dns_zone_name") == ("example.com" if extra else "")
    if extra:
        assert variable_default(d, "domain") == "wandb.example.com"
    else:
        assert "default" not in blocks(d, "variable")["domain"]


def test_certificate_is_publicly_issued_never_self_signed() -> None:
    d = doc("prod", "both", *DOMAIN_ARGS)
    # R-TLS-1: nothing in the module makes a self-signed certificate.
    kinds = {address.split(".")[0] for address in blocks(d, "resource")}
    assert not {k for k in kinds if k.startswith("tls_")}
    for body in resources_of(d, "azurerm_key_vault_certificate").values():
        for policy in body.get("certificate_policy", []):
            assert all(p.get("name") != "Self" for p in policy.get("issuer_parameters", []))
    assert not re.search(r'"Self"', generate(CLOUD, "prod", "both", *DOMAIN_ARGS))
    # Let's Encrypt DNS-01 through workload identity: identity, federation, zone role.
    federated = resource(d, "azurerm_federated_identity_credential.cert_manager")
    assert federated["subject"] == "system:serviceaccount:${var.cert_manager_namespace}:${var.cert_manager_service_account}"
    assert federated["issuer"] == "${azurerm_kubernetes_cluster.this.oidc_issuer_url}"
    assert variable_default(d, "cert_manager_namespace") == "cert-manager"
    assert variable_default(d, "cert_manager_service_account") == "cert-manager"
    role = resource(d, "azurerm_role_assignment.cert_manager_dns")
    assert role["role_definition_name"] == "DNS Zone Contributor"
    assert role["scope"] == "${data.azurerm_dns_zone.this[0].id}"
    # TLS 1.2+ with strong ciphers at the gateway where TLS terminates.
    assert one(resource(d, "azurerm_application_gateway.ingress"), "ssl_policy")["policy_name"] == "AppGwSslPolicy20220101S"


def test_gateway_has_a_web_application_firewall() -> None:
    d = doc("prod")
    gateway = resource(d, "azurerm_application_gateway.ingress")
    assert one(gateway, "sku")["tier"] == "WAF_v2"
    assert gateway["firewall_policy_id"] == "${azurerm_web_application_firewall_policy.ingress.id}"
    policy = resource(d, "azurerm_web_application_firewall_policy.ingress")
    settings = one(policy, "policy_settings")
    assert settings["enabled"] is True
    assert settings["mode"] == "${var.ingress_waf_mode}"
    assert variable_default(d, "ingress_waf_mode") == "Detection"
    assert one(one(policy, "managed_rules"), "managed_rule_set")["type"] == "Microsoft_DefaultRuleSet"


# ---- MySQL ------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_mysql_flexible_server_version_size_storage_and_network(env: str) -> None:
    d = doc(env)
    server = resource(d, "azurerm_mysql_flexible_server.metadata")
    # R-DB-1: 8.0 -> 8.0.21; 8.4 the default (8.0 leaves standard support on 2026-12-31).
    assert server["version"] == "${local.mysql_server_versions[var.mysql_version]}"
    assert blocks(d, "locals")["mysql_server_versions"]["8.0"] == "8.0.21"
    assert blocks(d, "locals")["mysql_server_versions"]["8.4"] == "8.4"
    assert variable_default(d, "mysql_version") == "8.4"
    assert server["sku_name"] == "${var.db_sku_name}"
    assert variable_default(d, "db_sku_name") == DB_SKU[env]
    storage = one(server, "storage")
    assert storage["size_gb"] == "${var.db_storage_gib}"
    assert variable_default(d, "db_storage_gib") == DB_DISK[env]
    # R-DB-3: SSD storage that grows, with IOPS scaling.
    assert storage["auto_grow_enabled"] is True
    assert storage["io_scaling_enabled"] is True
    # Private access: the delegated subnet and a private DNS zone linked to the VNet.
    assert server["delegated_subnet_id"] == "${local.database_subnet_id}"
    assert blocks(d, "locals")["database_subnet_id"] == (
        "${local.byo_network ? var.existing_database_subnet_id : azurerm_subnet.database[0].id}"
    )
    delegation = one(one(resource(d, "azurerm_subnet.database"), "delegation"), "service_delegation")
    assert delegation["name"] == "Microsoft.DBforMySQL/flexibleServers"
    assert server["private_dns_zone_id"] == "${azurerm_private_dns_zone.mysql.id}"
    assert resource(d, "azurerm_private_dns_zone.mysql")["name"].endswith(".mysql.database.azure.com")
    link = resource(d, "azurerm_private_dns_zone_virtual_network_link.mysql")
    assert link["virtual_network_id"] == "${local.vnet_id}"
    database = resource(d, "azurerm_mysql_flexible_database.wandb")
    assert (database["name"], database["charset"]) == ("wandb_local", "utf8mb4")


@pytest.mark.parametrize("env", ENVS)
def test_mysql_backups(env: str) -> None:
    d = doc(env)
    server = resource(d, "azurerm_mysql_flexible_server.metadata")
    # R-DB-2: daily backups kept at least 7 days; geo-redundant in prod.
    assert server["backup_retention_days"] == "${var.backup_retention_days}"
    assert variable_default(d, "backup_retention_days") >= 7
    assert any(">= 7" in c for c in validations(d, "backup_retention_days"))
    assert server["geo_redundant_backup_enabled"] == "${var.db_geo_redundant_backup}"
    assert variable_default(d, "db_geo_redundant_backup") is (env == "prod")


@pytest.mark.parametrize(
    ("env", "extra", "standby"),
    [("prod", (), True), ("dev", (), False), ("prod", ("--no-standby",), False), ("dev", ("--standby",), True)],
)
def test_mysql_zone_redundant_standby(env: str, extra: tuple[str, ...], standby: bool) -> None:
    d = doc(env, "both", *extra)
    high_availability = dynamic(resource(d, "azurerm_mysql_flexible_server.metadata"), "high_availability")
    # R-DB-5: ZoneRedundant only when db_standby (prod by default; --no-standby turns it off).
    assert high_availability["for_each"] == "${var.db_standby ? [1] : []}"
    assert high_availability["content"][0]["mode"] == "ZoneRedundant"
    assert variable_default(d, "db_standby") is standby
    # Burstable servers have no high availability: refused before apply.
    conditions = [p["condition"] for p in one(resource(d, "azurerm_mysql_flexible_server.metadata"), "lifecycle")["precondition"]]
    assert '${!var.db_standby || !startswith(var.db_sku_name, "B_")}' in conditions


def test_mysql_server_parameters_come_from_the_catalog() -> None:
    d = doc("prod")
    expected = load_catalog(CLOUD).cloud.mysql_parameters["configurations"]
    configurations = resource(d, "azurerm_mysql_flexible_server_configuration.metadata")
    assert configurations["for_each"] == expected
    assert expected["binlog_row_image"] == "minimal"
    assert expected["max_execution_time"] == "600000"
    assert expected["slow_query_log"] == "ON"


@pytest.mark.parametrize(("env", "products"), COMBOS)
def test_no_literal_password_anywhere(env: str, products: str) -> None:
    d = doc(env, products)
    server = resource(d, "azurerm_mysql_flexible_server.metadata")
    assert "administrator_password" not in server
    # Write-only, from Key Vault, which got it from an ephemeral random value.
    assert server["administrator_password_wo"] == "${ephemeral.azurerm_key_vault_secret.db_password.value}"
    secret = resource(d, "azurerm_key_vault_secret.db_password")
    assert "value" not in secret
    assert secret["value_wo"] == "${ephemeral.random_password.db.result}"
    assert secret["value_wo_version"] == server["administrator_password_wo_version"] == "${var.db_password_version}"
    assert "random_password.db" in ephemeral(d)
    assert not resources_of(d, "random_password") and not resources_of(d, "random_string")
    # No output carries a secret value.
    for name, output in blocks(d, "output").items():
        assert "ephemeral." not in str(output["value"]), name
    text = generate(CLOUD, env, products)
    assert not re.search(r'(?i)password\w*\s*=\s*"', text)


# ---- Monitoring --------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_cpu_alert_over_five_minutes(env: str) -> None:
    d = doc(env)
    alert = resource(d, "azurerm_monitor_metric_alert.db_cpu")
    # R-DB-4: CPU above 40% for 5 minutes.
    assert alert["scopes"] == ["${azurerm_mysql_flexible_server.metadata.id}"]
    criteria = one(alert, "criteria")
    assert criteria["metric_namespace"] == "Microsoft.DBforMySQL/flexibleServers"
    assert criteria["metric_name"] == "cpu_percent"
    assert criteria["aggregation"] == "Average"
    assert criteria["operator"] == "GreaterThan"
    assert criteria["threshold"] == "${var.db_cpu_alarm_threshold}"
    assert variable_default(d, "db_cpu_alarm_threshold") == 40
    assert alert["window_size"] == "${var.db_cpu_alarm_window}"
    assert variable_default(d, "db_cpu_alarm_window") == "PT5M"
    assert alert["frequency"] == "PT1M"
    assert one(alert, "action")["action_group_id"] == "${azurerm_monitor_action_group.alarms.id}"
    receivers = dynamic(resource(d, "azurerm_monitor_action_group.alarms"), "email_receiver")
    assert receivers["for_each"] == "${toset(var.alarm_emails)}"


@pytest.mark.parametrize("env", ENVS)
def test_container_insights_has_its_data_collection_rule(env: str) -> None:
    d = doc(env)
    # The agent authenticates with managed identity, so it collects only what a
    # data collection rule associated with the cluster names.
    oms_agent = one(resource(d, "azurerm_kubernetes_cluster.this"), "oms_agent")
    assert oms_agent["msi_auth_for_monitoring_enabled"] is True
    rule = resource(d, "azurerm_monitor_data_collection_rule.container_insights")
    workspace = one(one(rule, "destinations"), "log_analytics")
    assert workspace["workspace_resource_id"] == "${azurerm_log_analytics_workspace.this.id}"
    flow = one(rule, "data_flow")
    assert flow["destinations"] == [workspace["name"]]
    extension = one(one(rule, "data_sources"), "extension")
    assert extension["extension_name"] == "ContainerInsights"
    assert extension["streams"] == flow["streams"] == ["Microsoft-ContainerInsights-Group-Default"]
    association = resource(d, "azurerm_monitor_data_collection_rule_association.container_insights")
    assert association["target_resource_id"] == "${azurerm_kubernetes_cluster.this.id}"
    assert association["data_collection_rule_id"] == "${azurerm_monitor_data_collection_rule.container_insights.id}"


# ---- Object storage -------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_storage_account_is_private_tls12_and_has_cors(env: str) -> None:
    d = doc(env)
    account = resource(d, "azurerm_storage_account.artifacts")
    assert account["account_kind"] == "StorageV2"
    assert account["account_replication_type"] == "${var.storage_replication_type}"
    assert variable_default(d, "storage_replication_type") == ("ZRS" if env == "prod" else "LRS")
    assert account["min_tls_version"] == "TLS1_2"
    assert account["https_traffic_only_enabled"] is True
    assert account["allow_nested_items_to_be_public"] is False
    # Issue 14: W&B's chart (operator-wandb <= 0.43.8) reaches an az:// bucket only with the account key,
    # which goes through Key Vault to the application layer, never through a file or the custom resource.
    assert account["shared_access_key_enabled"] is True
    secret = resource(d, "azurerm_key_vault_secret.storage_key")
    assert secret["value"] == "${azurerm_storage_account.artifacts.primary_access_key}"
    assert blocks(d, "output")["storage_key_secret_id"]["value"] == "${azurerm_key_vault_secret.storage_key.versionless_id}"
    assert account["infrastructure_encryption_enabled"] is True
    properties = one(account, "blob_properties")
    assert properties["versioning_enabled"] is True
    assert one(properties, "delete_retention_policy")["days"] >= 7
    # R-OBJ-1: CORS for pre-signed URL uploads and downloads from the W&B origin.
    cors = one(properties, "cors_rule")
    assert {"GET", "PUT", "HEAD"} <= set(cors["allowed_methods"])
    assert cors["allowed_origins"] == ["https://${var.domain}"]
    assert cors["allowed_headers"] == ["*"]
    assert "ETag" in cors["exposed_headers"]
    assert cors["max_age_in_seconds"] == 3600
    container = resource(d, "azurerm_storage_container.wandb")
    assert (container["name"], container["container_access_type"]) == ("wandb", "private")
    assert container["storage_account_id"] == "${azurerm_storage_account.artifacts.id}"


def test_storage_account_name_is_derived_and_bounded() -> None:
    d = doc("prod")
    local_values = blocks(d, "locals")
    assert local_values["compact_name"] == '${replace(local.name, "-", "")}'
    assert "sha1(" in local_values["name_suffix"]
    assert local_values["storage_account_name"] == "${substr(local.compact_name, 0, 16)}${local.name_suffix}"
    precondition = one(resource(d, "azurerm_storage_account.artifacts"), "lifecycle")["precondition"][0]
    assert "{3,24}" in precondition["condition"]


def test_wandb_identity_federation_and_storage_roles() -> None:
    d = doc("prod")
    assert variable_default(d, "wandb_namespace") == "default"
    # Issue 14: the contract's accounts, one credential each, written one after another (Azure refuses
    # concurrent federated-credential writes under one identity: terraform-provider-azurerm#19968).
    federated = {a: r for a, r in resources_of(d, "azurerm_federated_identity_credential").items() if a != "azurerm_federated_identity_credential.cert_manager"}
    subjects = [r["subject"] for r in federated.values()]
    assert subjects == [f"system:serviceaccount:${{var.wandb_namespace}}:{sa}" for sa in WANDB_SERVICE_ACCOUNTS_WEAVE]
    chain = list(federated.values())
    assert "depends_on" not in chain[0]
    for previous, credential in zip(federated, chain[1:]):
        assert credential["depends_on"] == ["${" + previous + "}"]
    for credential in chain:
        assert credential["parent_id"] == "${azurerm_user_assigned_identity.wandb.id}"
        assert credential["issuer"] == "${azurerm_kubernetes_cluster.this.oidc_issuer_url}"
        assert credential["audience"] == ["api://AzureADTokenExchange"]
    assert len(chain) <= 20  # Azure's limit per managed identity
    # Issue 11: gen-tf 0.1's for_each addresses move to the new ones.
    moved = [m for m in d.get("moved", [])]
    assert {"from": '${azurerm_federated_identity_credential.wandb["wandb-app"]}', "to": "${azurerm_federated_identity_credential.wandb_app}"} in moved
    principal = "${azurerm_user_assigned_identity.wandb.principal_id}"
    granted = {
        (r["role_definition_name"], r["scope"])
        for r in resources_of(d, "azurerm_role_assignment").values()
        if r["principal_id"] == principal
    }
    assert ("Storage Blob Data Contributor", "${azurerm_storage_container.wandb.id}") in granted
    # R-OBJ-1: user-delegation SAS (pre-signed URLs).
    assert ("Storage Blob Delegator", "${azurerm_storage_account.artifacts.id}") in granted
    # W&B pods get their secrets from the application layer's Kubernetes secret, never from Key
    # Vault: no access policy for W&B's identity, and no Secrets Store CSI add-on running unused.
    assert principal not in [p["object_id"] for p in resources_of(d, "azurerm_key_vault_access_policy").values()]
    assert "key_vault_secrets_provider" not in resource(d, "azurerm_kubernetes_cluster.this")


# ---- Module-wide ------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "products"), COMBOS)
def test_every_taggable_resource_is_tagged(env: str, products: str) -> None:
    d = doc(env, products)
    schema = load_schema("azurerm")["resources"]
    untagged = [
        address
        for address, body in blocks(d, "resource").items()
        if address.split(".")[0] in schema
        and "tags" in schema[address.split(".")[0]]["args"]
        and body.get("tags") != "${local.tags}"
    ]
    assert untagged == []
    assert "${merge(var.tags, {" in blocks(d, "locals")["tags"]
    assert variable_default(d, "tags") == {}


def test_tags_from_the_command_line_become_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--cloud", CLOUD, "--env", "dev", "--products", "both", "--tag", "team=ml"], capsys)
    assert code == 0, err
    assert variable_default(parse(out), "tags") == {"team": "ml"}


def test_outputs() -> None:
    outputs = blocks(doc("prod"), "output")
    for name in (
        "url",
        "tenant_id",
        "resource_group_name",
        "cluster_name",
        "kubeconfig_command",
        "oidc_issuer_url",
        "db_fqdn",
        "db_name",
        "db_username",
        "db_password_secret_id",
        "storage_account_name",
        "storage_container_name",
        "wandb_identity_client_id",
        "ingress_public_ip",
        "storage_class_name",
        "cert_manager_dns01",
    ):
        assert name in outputs, name
    assert outputs["kubeconfig_command"]["value"].startswith("az aks get-credentials ")
    assert outputs["url"]["value"] == "https://${var.domain}"


def test_requirement_ids_are_cited() -> None:
    text = generate(CLOUD, "prod", "both", *DOMAIN_ARGS)
    for requirement in (
        "R-LAYER-1", "R-LAYER-2", "R-K8S-2", "R-K8S-3", "R-K8S-4", "R-K8S-5", "R-DB-1", "R-DB-2",
        "R-DB-3", "R-DB-4", "R-DB-5", "R-OBJ-1", "R-OBJ-2", "R-NET-1", "R-NET-2", "R-NET-3", "R-DNS-1", "R-TLS-1",
    ):
        assert requirement in text, requirement


@pytest.mark.parametrize(("env", "products", "extra"), VARIANTS)
def test_schema_check_finds_nothing(env: str, products: str, extra: tuple[str, ...]) -> None:
    findings = check_text(generate(CLOUD, env, products, *extra), providers=["azurerm", "random"])
    assert [str(f) for f in findings] == []


@pytest.mark.terraform
@pytest.mark.parametrize(("env", "products", "extra"), VARIANTS)
def test_terraform_fmt_clean(env: str, products: str, extra: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(generate(CLOUD, env, products, *extra), encoding="utf-8")
    result = terraform(["fmt", "-check", "-diff", "main.tf"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- Variables and locals evaluated by terraform (no provider needed) ---------------------


@pytest.fixture(scope="module")
def variables_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's variables and locals alone, initialised: enough to plan validations and names."""
    terraform_or_skip()
    from generator.catalog import load_catalog as catalog
    from generator.options import parse_options
    from generator.plan import build_plan
    from generator.render import render_topic

    plan = build_plan(parse_options({"cloud": CLOUD, "env": "prod", "products": "both"}), catalog(CLOUD))
    variables = render_topic(CLOUD, "variables", plan.context())
    local_values = render_topic(CLOUD, "locals", plan.context()).split('data "azurerm_client_config"')[0]
    names = (
        'output "names" {\n  value = [local.storage_account_name, local.key_vault_name]\n}\n'
    )
    path = tmp_path_factory.mktemp("azure-variables")
    (path / "main.tf").write_text(variables + local_values + names, encoding="utf-8")
    result = terraform(["init", "-input=false", "-backend=false"], path)
    assert result.returncode == 0, result.stderr
    return path


def plan_vars(path: Path, **values: str) -> subprocess.CompletedProcess[str]:
    args = ["plan", "-input=false", "-no-color", "-lock=false"]
    base = {"subscription_id": "00000000-0000-0000-0000-000000000000", "domain": "wandb.example.com"}
    for key, value in {**base, **values}.items():
        args += ["-var", f"{key}={value}"]
    return terraform(args, path)


@pytest.mark.terraform
def test_terraform_derives_valid_global_names(variables_module: Path) -> None:
    for name in ("wandb", "a-very-long-name-xyz"):
        result = plan_vars(variables_module, name=name)
        assert result.returncode == 0, result.stderr
        found = re.findall(r'"([a-z0-9]+)"', result.stdout.split("Changes to Outputs")[1])
        storage_account, key_vault = found[:2]
        assert re.fullmatch(r"[a-z0-9]{3,24}", storage_account), storage_account
        assert 3 <= len(key_vault) <= 24 and key_vault[0].isalpha(), key_vault


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({}, True),
        ({"kubernetes_version": "1.28"}, False),
        ({"kubernetes_version": "1.30"}, False),
        ({"kubernetes_version": "1.35"}, True),
        ({"system_node_vm_size": "Standard_D4ps_v5"}, False),
        ({"ingress_gateway_zones": '["1"]'}, False),
        ({"app_deployer_object_ids": '["not-a-guid"]'}, False),
        ({"app_deployer_object_ids": '["11111111-2222-3333-4444-555555555555"]'}, True),
        ({"node_vm_size": "Standard_E4ps_v5"}, False),
        ({"node_vm_size": "Standard_D4pds_v6"}, False),
        ({"node_vm_size": "Standard_E4ads_v5"}, True),
        ({"mysql_version": "5.7"}, False),
        ({"backup_retention_days": "6"}, False),
        ({"node_min_count": "1"}, False),
        ({"storage_class_name": "default"}, False),
        # Bring your own network: a VNet resource ID and its three subnets, all or nothing.
        ({"existing_vnet_id": VNET_ID}, False),
        ({"existing_vnet_id": VNET_ID, **dict(zip(EXISTING_SUBNETS, SUBNET_IDS))}, True),
        ({"existing_vnet_id": VNET_ID, **dict(zip(EXISTING_SUBNETS, SUBNET_IDS[:2] + [OTHER_SUBNET]))}, False),
        ({"existing_vnet_id": "hub", **dict(zip(EXISTING_SUBNETS, SUBNET_IDS))}, False),
        ({"existing_node_subnet_id": SUBNET_IDS[0]}, False),
        ({"existing_network_outbound_type": "none"}, False),
        # Authorized ranges exist only on a public API server.
        ({"api_server_authorized_ip_ranges": '["203.0.113.0/24"]'}, True),
        ({"private_cluster": "true", "api_server_authorized_ip_ranges": '["203.0.113.0/24"]'}, False),
        ({"private_cluster": "true"}, True),
        # R-NET-2: air-gapped needs the mirror.
        ({"air_gapped": "true"}, False),
        ({"air_gapped": "true", "image_registry": REGISTRY}, True),
        ({"image_registry": "https://registry.corp.example"}, False),
        ({"ingress_allowed_cidrs": "[]"}, False),
        ({"ingress_allowed_cidrs": '["203.0.113.0/24"]'}, True),
    ],
)
def test_terraform_variable_validations(variables_module: Path, values: dict[str, str], ok: bool) -> None:
    result = plan_vars(variables_module, **values)
    assert (result.returncode == 0) is ok, result.stdout + result.stderr
