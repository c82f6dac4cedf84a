"""The application layer (--layer app): the W&B operator and instance on the infra module's cluster (R-K8S-1).

Three kinds of checks:

* parsed HCL of the generated module (providers, releases, variables, data sources);
* the module's locals evaluated by terraform itself: the variable and ``locals``
  blocks are cut out of the generated text, the data sources they read are
  replaced by (sensitive) stand-ins, and ``terraform apply`` (no provider needed)
  prints the WeightsAndBiases custom resource and the other Helm values as JSON;
* ``terraform fmt -check`` and the offline schema check over the whole matrix.

``terraform validate`` cannot run here: the kubernetes and helm providers are not
in the local plugin mirror, so the schema check stands in for it.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import urllib.parse
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from conftest import APP_DOMAIN, WANDB_SERVICE_ACCOUNTS_WEAVE, DOMAIN_ARGS, blocks, generate, local_value, parsed, resource, terraform, terraform_or_skip, variable_default
from generator.catalog import load_catalog
from generator.plan import _wandb_plan
from generator.render import environment
from generator.schema_check import check_text

CLOUDS = ("aws", "gcp", "azure")
COMBOS = [(c, e, p) for c in CLOUDS for e in ("dev", "prod") for p in ("models", "weave", "both")]
APP = ("--layer", "app")
DOMAIN = "wandb.example.com"
CLOUD_PROVIDER = {"aws": "aws", "gcp": "google", "azure": "azurerm"}
WEAVE = {"models": False, "weave": True, "both": True}
W_AND_B_IMAGES = ("wandb/local", "wandb/console", "wandb/megabinary", "wandb/weave-python", "wandb/weave-trace")

# Stand-in infra outputs, keyed by the infra module's output names.
INFRA_OUTPUTS: dict[str, dict[str, Any]] = {
    "aws": {
        "region": "us-east-1",
        "domain": DOMAIN,
        "wandb_namespace": "default",
        "cluster_name": "wandb",
        "vpc_id": "vpc-0123456789abcdef0",
        "lb_controller_role_arn": "arn:aws:iam::123456789012:role/wandb-lb-controller",
        "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/wandb-wandb/0123456789abcdef",
        "traces_target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/wandb-traces/fedcba9876543210",
        "console_target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/wandb-console/0a1b2c3d4e5f6a7b",
        "db_endpoint": "wandb-metadata.cluster-abc.example",
        "db_port": 3306,
        "db_name": "wandb_local",
        "db_username": "wandb",
        "db_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc",
        "bucket_name": "wandb-artifacts-123456789012",
        "bucket_region": "us-east-1",
        "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/0000",
        "wandb_role_arn": "arn:aws:iam::123456789012:role/wandb-wandb",
        "airgapped": False,
        "image_registry": "",
        "sized_wandb_size": "small",
    },
    "gcp": {
        "project_id": "my-project-123",
        "region": "us-central1",
        "domain": DOMAIN,
        "wandb_namespace": "default",
        "cluster_name": "wandb",
        "db_private_ip": "10.20.0.3",
        "db_port": 3306,
        "db_name": "wandb_local",
        "db_username": "wandb",
        "db_password_secret_id": "projects/my-project-123/secrets/wandb-db-password",
        "bucket_name": "wandb-artifacts-abc",
        "service_account_email": "wandb-sa@my-project-123.iam.gserviceaccount.com",
        "static_ip_name": "wandb-ingress",
        "certificate_name": "wandb-1a2b3c4d",
        "security_policy_name": "wandb-ingress",
        "airgapped": False,
        "image_registry": "",
        "sized_wandb_size": "small",
    },
    "azure": {
        "subscription_id": "33333333-3333-3333-3333-333333333333",
        "domain": DOMAIN,
        "wandb_namespace": "default",
        "cert_manager_namespace": "cert-manager",
        "cert_manager_service_account": "cert-manager",
        "storage_key_secret_id": "https://wandbkvabc.vault.example/secrets/storage-key",
        "tenant_id": "11111111-1111-1111-1111-111111111111",
        "resource_group_name": "wandb-rg",
        "cluster_name": "wandb-aks",
        "oidc_issuer_url": "https://oidc.example/tenant/cluster/",
        "storage_class_name": "managed-csi-premium",
        "ingress_class_name": "azure-application-gateway",
        "cert_manager_dns01": {
            "client_id": "22222222-2222-2222-2222-222222222222",
            "subscription_id": "33333333-3333-3333-3333-333333333333",
            "resource_group_name": "dns-rg",
            "hosted_zone_name": "example.com",
        },
        "db_fqdn": "wandb-mysql-abc.mysql.example",
        "db_port": 3306,
        "db_name": "wandb_local",
        "db_username": "wandb",
        "db_password_secret_id": "https://wandbkvabc.vault.example/secrets/mysql-password",
        "key_vault_name": "wandbkvabc",
        "storage_account_name": "wandbabc",
        "storage_container_name": "wandb",
        "wandb_identity_client_id": "44444444-4444-4444-4444-444444444444",
        "airgapped": False,
        "image_registry": "",
        "sized_wandb_size": "small",
    },
}
# Inputs that are not infra outputs (every app input now is one: issue 14).
OWN_INPUTS: dict[str, dict[str, Any]] = {"aws": {}, "gcp": {}, "azure": {}}
# The data sources the layer reads secrets and cluster facts from, replaced by
# stand-ins for evaluation (sensitive, as the real attributes are).
# URL-unreserved characters only, as the infrastructure modules generate (the DSN and
# the mysqld exporter read the same key: test_the_password_reads_the_same_both_ways).
DB_PASSWORD = "Ab3-x_y.z~9Q"
STORAGE_KEY = "c3RvcmFnZS1rZXk="
DATA_STANDINS = {
    "aws": {
        "data.aws_secretsmanager_secret_version.db.secret_string": f"sensitive({json.dumps(DB_PASSWORD)})",
        "data.aws_eks_cluster.this.identity[0].oidc[0].issuer": '"https://oidc.eks.example/id/ABC"',
    },
    "gcp": {"data.google_secret_manager_secret_version.db_password.secret_data": f"sensitive({json.dumps(DB_PASSWORD)})"},
    "azure": {
        "data.azurerm_key_vault_secret.db_password.value": f"sensitive({json.dumps(DB_PASSWORD)})",
        "data.azurerm_key_vault_secret.storage_key.value": f"sensitive({json.dumps(STORAGE_KEY)})",
    },
}
# Cloud-specific locals printed next to the custom resource.
EXTRA_LOCALS = {
    "aws": ["target_group_bindings", "lb_controller_values", "lb_controller_chart_auth", "images_to_mirror"],
    "gcp": ["images_to_mirror"],
    "azure": ["cluster_issuer_manifest", "cert_manager_values", "cert_manager_chart_auth", "images_to_mirror"],
}
IDENTITY_ANNOTATION = {
    "aws": ("eks.amazonaws.com/role-arn", INFRA_OUTPUTS["aws"]["wandb_role_arn"]),
    "gcp": ("iam.gke.io/gcp-service-account", INFRA_OUTPUTS["gcp"]["service_account_email"]),
    "azure": ("azure.workload.identity/client-id", INFRA_OUTPUTS["azure"]["wandb_identity_client_id"]),
}


def app_text(cloud: str, env: str, products: str) -> str:
    return generate(cloud, env, products, *APP, *APP_DOMAIN)


def app_doc(cloud: str, env: str, products: str) -> dict[str, Any]:
    return parsed(cloud, env, products, *APP, *APP_DOMAIN)


def locals_of(doc: dict[str, Any]) -> dict[str, Any]:
    return blocks(doc, "locals")


# ---- Evaluating the locals with terraform ------------------------------------------


def _top_level_blocks(text: str) -> list[tuple[str, str]]:
    """(block type, text) of each top-level block of fmt-formatted HCL."""
    found: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        match = re.match(r"^([a-z_]+)\b.*\{$", line)
        if not match:
            i += 1
            continue
        start = i
        while lines[i] != "}":
            i += 1
        found.append((match.group(1), "\n".join(lines[start : i + 1])))
        i += 1
    return found


def tfvars(cloud: str, env: str, products: str, **overrides: Any) -> dict[str, Any]:
    weave_only = {"traces_target_group_arn"} if not WEAVE[products] else set()
    values: dict[str, Any] = {k: v for k, v in INFRA_OUTPUTS[cloud].items() if k not in weave_only}
    # The cell's own preset: the app layer's default is what the same cell's infrastructure outputs
    # (test_the_size_preset_follows_the_infrastructure_nodes), so the stand-in is left out.
    values.pop("sized_wandb_size")
    values.update(OWN_INPUTS[cloud], license="test-license")
    if WEAVE[products] and env == "prod":
        values.update(clickhouse_host="clickhouse.example.com", clickhouse_password="ch-secret")
    values.update(overrides)
    return values


@lru_cache(maxsize=None)
def _evaluate(cloud: str, env: str, products: str, overrides_json: str) -> dict[str, Any]:
    text = app_text(cloud, env, products)
    kept = "\n\n".join(body for kind, body in _top_level_blocks(text) if kind in ("variable", "locals"))
    for reference, standin in DATA_STANDINS[cloud].items():
        kept = kept.replace(reference, standin)
    leftover = re.findall(r"\bdata\.[a-z_]+\.[a-z_]+", kept)
    assert not leftover, f"locals read data sources without a stand-in: {sorted(set(leftover))}"
    outputs = {"wandb_cr": "local.wandb_cr", "operator_values": "local.operator_values",
               "manifests_chart": "local.manifests_chart"}
    outputs.update({name: f"local.{name}" for name in EXTRA_LOCALS[cloud]})
    # Not sensitive: terraform refuses these outputs if any secret flowed into them.
    kept += "".join(f'\n\noutput "{name}" {{\n  value = {expr}\n}}' for name, expr in outputs.items())
    kept += '\n\noutput "credentials" {\n  value     = local.credentials\n  sensitive = true\n}\n'
    work = Path(tempfile.mkdtemp(prefix=f"gen-tf-app-{cloud}-"))
    (work / "main.tf").write_text(kept)
    (work / "test.auto.tfvars.json").write_text(json.dumps(tfvars(cloud, env, products, **json.loads(overrides_json))))
    for args in (["init", "-input=false", "-backend=false"], ["apply", "-input=false", "-auto-approve"]):
        done = terraform(args, work)
        assert done.returncode == 0, f"terraform {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    done = terraform(["output", "-json"], work)
    assert done.returncode == 0, done.stderr
    return {name: out["value"] for name, out in json.loads(done.stdout).items()}


def evaluate(cloud: str, env: str, products: str, **overrides: Any) -> dict[str, Any]:
    terraform_or_skip()
    return _evaluate(cloud, env, products, json.dumps(overrides, sort_keys=True))


def values_of(result: dict[str, Any]) -> dict[str, Any]:
    return result["wandb_cr"]["spec"]["values"]


# ---- The whole matrix: fmt and schema ---------------------------------------------


def test_fmt_clean_across_the_matrix(tmp_path: Path) -> None:
    binary = terraform_or_skip()
    for cloud, env, products in COMBOS:
        (tmp_path / f"{cloud}-{env}-{products}.tf").write_text(app_text(cloud, env, products))
        (tmp_path / f"{cloud}-{env}-{products}-nodomain.tf").write_text(generate(cloud, env, products, *APP))
    done = subprocess.run([binary, "fmt", "-check", "-list=true", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, f"not fmt-clean: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("cloud,env,products", COMBOS)
def test_schema_check_has_no_findings(cloud: str, env: str, products: str) -> None:
    """Stands in for terraform validate: kubernetes 2.38 / helm 3.1.1 are not installable here."""
    for text in (app_text(cloud, env, products), generate(cloud, env, products, *APP)):
        findings = check_text(text, filename=f"{cloud}-{env}-{products}")
        assert findings == [], "\n".join(str(f) for f in findings)


@pytest.mark.parametrize("cloud,env,products", COMBOS)
def test_no_kubernetes_manifest_and_no_plaintext_password(cloud: str, env: str, products: str) -> None:
    doc = app_doc(cloud, env, products)
    types = {address.split(".")[0] for address in blocks(doc, "resource")}
    assert "kubernetes_manifest" not in types  # its CRD would have to exist at plan time
    names = set(blocks(doc, "variable"))
    assert not {n for n in names if "mysql" in n or n.startswith("db_pass") and n != "db_password_secret_id"}
    # The only password-carrying local reads the cloud's secret.
    password = locals_of(doc)["mysql_password"]
    source = next(iter(DATA_STANDINS[cloud]))
    assert source in password, password


# ---- Providers and versions ----------------------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
def test_required_providers_are_the_app_pins(cloud: str) -> None:
    doc = app_doc(cloud, "prod", "both")
    catalog = load_catalog(cloud, ())
    required = doc["terraform"][0]["required_providers"][0]
    assert set(required) == {CLOUD_PROVIDER[cloud], "kubernetes", "helm"}
    assert required["kubernetes"] == {"source": "hashicorp/kubernetes", "version": ">= 2.38, < 3.0"}
    assert required["helm"] == {"source": "hashicorp/helm", "version": ">= 3.1.1, < 4.0"}
    cloud_pin = catalog.cloud.providers[CLOUD_PROVIDER[cloud]]
    assert required[CLOUD_PROVIDER[cloud]] == {"source": cloud_pin.source, "version": cloud_pin.version}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_helm_provider_uses_helm3_attribute_syntax(cloud: str) -> None:
    doc = app_doc(cloud, "dev", "models")
    providers = {name: body for entry in doc["provider"] for name, body in entry.items()}
    kubernetes = providers["helm"]["kubernetes"]
    assert isinstance(kubernetes, dict), "helm 3: kubernetes = { ... } is an attribute, not a block"
    assert kubernetes["host"] == providers["kubernetes"]["host"]
    assert kubernetes["cluster_ca_certificate"] == providers["kubernetes"]["cluster_ca_certificate"]
    assert kubernetes["cluster_ca_certificate"].startswith("${base64decode(data.")
    if cloud == "azure":  # Entra ID only: kubelogin
        assert kubernetes["exec"]["command"] == providers["kubernetes"]["exec"][0]["command"] == "kubelogin"
    else:
        assert kubernetes["token"] == providers["kubernetes"]["token"]


def test_cluster_data_sources() -> None:
    aws = blocks(app_doc("aws", "prod", "both"), "data")
    assert aws["aws_eks_cluster.this"]["name"] == aws["aws_eks_cluster_auth.this"]["name"] == "${var.cluster_name}"
    assert aws["aws_secretsmanager_secret_version.db"]["secret_id"] == "${var.db_secret_arn}"
    gcp = blocks(app_doc("gcp", "prod", "both"), "data")
    assert gcp["google_container_cluster.this"]["name"] == "${var.cluster_name}"
    assert "google_client_config.this" in gcp
    assert gcp["google_secret_manager_secret_version.db_password"]["secret"] == "${var.db_password_secret_id}"
    azure = blocks(app_doc("azure", "prod", "both"), "data")
    assert azure["azurerm_kubernetes_cluster.this"]["name"] == "${var.cluster_name}"
    assert azure["azurerm_key_vault_secret.db_password"]["key_vault_id"] == "${data.azurerm_key_vault.this.id}"
    assert "var.db_password_secret_id" in azure["azurerm_key_vault_secret.db_password"]["name"]


# ---- Operator and custom resource releases --------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
def test_operator_release_from_pinned_chart(cloud: str) -> None:
    doc = app_doc(cloud, "prod", "both")
    chart = load_catalog(cloud, ()).reference.operator_chart
    assert variable_default(doc, "chart_repository") == chart.repository
    assert variable_default(doc, "operator_chart_name") == chart.name == "operator"
    assert variable_default(doc, "operator_chart_version") == chart.version == "1.4.8"
    assert variable_default(doc, "operator_namespace") == "wandb"
    release = resource(doc, "helm_release.operator")
    assert release["repository"] == "${var.chart_repository}"
    assert release["chart"] == "${var.operator_chart_name}"
    assert release["version"] == "${var.operator_chart_version}"
    assert release["namespace"] == "${var.operator_namespace}"
    assert release["create_namespace"] is True
    assert release["atomic"] is True and release["wait"] is True
    assert release["values"] == ["${yamlencode(local.operator_values)}"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_custom_resource_goes_through_the_local_chart(cloud: str) -> None:
    doc = app_doc(cloud, "prod", "both")
    release = resource(doc, "helm_release.wandb")
    assert release["chart"] == "${local.manifests_chart}"
    assert release["namespace"] == "${var.wandb_namespace}"
    assert release["values"] == ["${yamlencode({manifests = [local.wandb_cr]})}"]
    assert release["atomic"] is True and release["wait"] is True
    assert {"${helm_release.operator}", "${kubernetes_secret_v1.credentials}"} <= set(release["depends_on"])
    if cloud == "aws":
        # The controller's service webhook must answer before W&B's services
        # are created, and outlive their removal on destroy.
        assert "${helm_release.aws_load_balancer_controller}" in release["depends_on"]
    conditions = [p["condition"] for p in release["lifecycle"][0]["precondition"]]
    assert any(
        "var.airgapped" in c and "var.wandb_release" in c and "var.image_registry" in c and "var.operator_image_tag" in c
        for c in conditions
    )
    assert "${urlencode(local.mysql_password) == local.mysql_password}" in conditions
    secret = resource(doc, "kubernetes_secret_v1.credentials")
    assert secret["data"] == "${local.credentials}"
    assert secret["metadata"][0] == {"name": "${local.credentials_secret}", "namespace": "${var.wandb_namespace}"}
    assert variable_default(doc, "wandb_namespace") == "default"
    assert variable_default(doc, "manifests_chart_path") == ""


@pytest.mark.parametrize("cloud", CLOUDS)
def test_license_is_sensitive_and_required(cloud: str) -> None:
    license_var = blocks(app_doc(cloud, "dev", "models"), "variable")["license"]
    assert license_var["sensitive"] is True
    assert "default" not in license_var
    assert license_var["type"] == "${string}" or license_var["type"] == "string"


def test_manifests_chart_templates() -> None:
    env = environment()
    chart = env.get_template("app/chart/Chart.yaml.j2").render(plan=type("P", (), {"cloud": "aws"})())
    assert "apiVersion: v2" in chart.splitlines() and "name: wandb-manifests" in chart.splitlines()
    body = env.get_template("app/chart/manifests.yaml.j2").render(plan=None)
    assert body.startswith("{{ range .Values.manifests -}}") and "{{ toYaml . }}" in body


# ---- The custom resource, evaluated ---------------------------------------------------


@pytest.mark.parametrize("cloud,env,products", COMBOS)
def test_custom_resource_values(cloud: str, env: str, products: str) -> None:
    result = evaluate(cloud, env, products)
    cr = result["wandb_cr"]
    assert cr["apiVersion"] == "apps.wandb.com/v1" and cr["kind"] == "WeightsAndBiases"
    assert cr["metadata"]["name"] == "wandb" and cr["metadata"]["namespace"] == "default"
    assert cr["spec"]["chart"] == {}  # the release channel picks the chart
    glob = values_of(result)["global"]
    assert glob["host"] == f"https://{DOMAIN}"
    assert glob["cloudProvider"] == cloud
    assert glob["licenseSecret"] == {"name": "wandb-credentials", "key": "license"}
    assert "license" not in glob
    infra = INFRA_OUTPUTS[cloud]
    mysql = glob["mysql"]
    assert mysql["port"] == 3306 and mysql["database"] == "wandb_local" and mysql["user"] == "wandb"
    assert mysql["host"] == {"aws": infra.get("db_endpoint"), "gcp": infra.get("db_private_ip"), "azure": infra.get("db_fqdn")}[cloud]
    assert mysql["passwordSecret"] == {"name": "wandb-credentials", "passwordKey": "MYSQL_PASSWORD"}
    assert "password" not in mysql
    bucket = glob["bucket"]
    if cloud == "aws":
        assert bucket == {"provider": "s3", "name": infra["bucket_name"], "region": infra["bucket_region"], "kmsKey": infra["kms_key_arn"]}
    elif cloud == "gcp":
        assert bucket == {"provider": "gcs", "name": infra["bucket_name"]}
    else:
        # The chart reads the account key from the credentials secret, never from the custom resource.
        assert bucket == {
            "provider": "az", "name": infra["storage_account_name"], "path": infra["storage_container_name"],
            "secret": {"secretName": "wandb-credentials", "accessKeyName": "AZURE_STORAGE_ACCESS_KEY"},
        }
        assert result["credentials"]["AZURE_STORAGE_ACCESS_KEY"] == STORAGE_KEY
        assert STORAGE_KEY not in json.dumps(result["wandb_cr"])
    credentials = result["credentials"]
    assert credentials["license"] == "test-license"
    # Raw: the password is URL-unreserved, so the DSN (decoded) and the exporter (raw) agree.
    assert credentials["MYSQL_PASSWORD"] == DB_PASSWORD == urllib.parse.quote_plus(DB_PASSWORD)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_service_accounts_carry_the_cloud_identity(cloud: str) -> None:
    values = values_of(evaluate(cloud, "prod", "both"))
    annotation, identity = IDENTITY_ANNOTATION[cloud]
    for component in ("app", "api", "console", "parquet", "glue", "weave", "weave-trace", "settingsMigrationJob"):
        account = values[component]["serviceAccount"]
        assert account["annotations"][annotation] == identity, component
        assert account["name"] == "wandb-" + re.sub(r"(?<!^)(?=[A-Z])", "-", component).lower()
    if cloud == "azure":
        assert values["global"]["pod"]["labels"] == {"azure.workload.identity/use": "true"}
        assert values["global"]["storageClass"] == INFRA_OUTPUTS["azure"]["storage_class_name"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_ingress_and_tls_termination(cloud: str) -> None:
    result = evaluate(cloud, "prod", "models")
    values = values_of(result)
    infra = INFRA_OUTPUTS[cloud]
    if cloud == "aws":
        # The infra ALB terminates TLS; its target group is bound to the app service itself (issue 14:
        # the chart's nginx is a local-development proxy that rewrites Host to $host:8080).
        assert values["ingress"] == {"install": False}
        assert "nginx" not in values
        assert values["global"]["storageClass"] == "wandb-gp3"
        # Models: the app and the System Console (/console, always routed by the chart's Ingress).
        assert sorted(result["target_group_bindings"]) == ["app", "console"]
        binding = result["target_group_bindings"]["app"]
        assert binding["apiVersion"] == "elbv2.k8s.aws/v1beta1" and binding["kind"] == "TargetGroupBinding"
        assert binding["metadata"] == {"name": "wandb-app", "namespace": "default"}
        assert binding["spec"] == {
            "targetGroupARN": infra["target_group_arn"],
            "targetType": "ip",
            "serviceRef": {"name": "wandb-app", "port": 8080},
        }
        console = result["target_group_bindings"]["console"]
        assert console["metadata"] == {"name": "wandb-console", "namespace": "default"}
        assert console["spec"] == {
            "targetGroupARN": infra["console_target_group_arn"],
            "targetType": "ip",
            "serviceRef": {"name": "wandb-console", "port": 8082},
        }
        traces = evaluate(cloud, "prod", "both")["target_group_bindings"]["weave-trace"]["spec"]
        assert traces == {
            "targetGroupARN": infra["traces_target_group_arn"],
            "targetType": "ip",
            "serviceRef": {"name": "wandb-weave-trace", "port": 8722},
        }
        controller = result["lb_controller_values"]
        assert controller["clusterName"] == infra["cluster_name"] and controller["vpcId"] == infra["vpc_id"]
        assert controller["region"] == "us-east-1"
        assert controller["serviceAccount"]["name"] == "aws-load-balancer-controller"
        assert controller["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": infra["lb_controller_role_arn"]}
        assert "image" not in controller
    elif cloud == "gcp":
        assert values["ingress"]["annotations"] == {
            "kubernetes.io/ingress.class": "gce",
            "kubernetes.io/ingress.global-static-ip-name": infra["static_ip_name"],
            "ingress.gcp.kubernetes.io/pre-shared-cert": infra["certificate_name"],
            "kubernetes.io/ingress.allow-http": "false",
        }
        assert values["global"]["gcpSecurityPolicy"] == infra["security_policy_name"]
    else:
        ingress = values["ingress"]
        assert ingress["class"] == infra["ingress_class_name"]
        assert ingress["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
        assert ingress["annotations"]["appgw.ingress.kubernetes.io/ssl-redirect"] == "true"  # DNS-01: no HTTP challenge
        assert ingress["tls"] == [{"hosts": [DOMAIN], "secretName": "wandb-tls"}]
        issuer = result["cluster_issuer_manifest"]
        assert issuer["kind"] == "ClusterIssuer" and issuer["metadata"]["name"] == "letsencrypt"
        dns = infra["cert_manager_dns01"]
        assert issuer["spec"]["acme"]["solvers"] == [{"dns01": {"azureDNS": {
            "subscriptionID": dns["subscription_id"],
            "resourceGroupName": dns["resource_group_name"],
            "hostedZoneName": dns["hosted_zone_name"],
            "environment": "AzurePublicCloud",
            "managedIdentity": {"clientID": dns["client_id"]},
        }}}]
        manager = result["cert_manager_values"]
        assert manager["crds"] == {"enabled": True}
        assert manager["serviceAccount"] == {"name": "cert-manager", "annotations": {"azure.workload.identity/client-id": dns["client_id"]}}
        assert manager["podLabels"] == {"azure.workload.identity/use": "true"}


def test_azure_without_dns_zone_uses_http01() -> None:
    result = evaluate("azure", "dev", "models", cert_manager_dns01=None, acme_email="ops@example.com")
    acme = result["cluster_issuer_manifest"]["spec"]["acme"]
    assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "azure-application-gateway"}}}]
    assert acme["email"] == "ops@example.com"
    assert result["cert_manager_values"]["serviceAccount"]["annotations"] == {}
    # Issue 14: the HTTP-01 challenge is answered over plain HTTP, which a forced redirect would break.
    assert "appgw.ingress.kubernetes.io/ssl-redirect" not in values_of(result)["ingress"]["annotations"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_product_mix_and_tier_sizing(cloud: str) -> None:
    sizes = {}
    for env in ("dev", "prod"):
        for products in ("models", "weave", "both"):
            doc = app_doc(cloud, env, products)
            sizes[(env, products)] = variable_default(doc, "sized_wandb_size")
            values = values_of(evaluate(cloud, env, products))
            assert values["global"]["size"] == sizes[(env, products)]
            if WEAVE[products]:
                assert values["weave-trace"]["install"] is True
                assert values["global"]["weave-trace"] == {"enabled": True}
                jwt = values["app"]["internalJWTMap"]
                assert [j["subject"] for j in jwt] == [
                    "system:serviceaccount:default:wandb-weave-trace",
                    "system:serviceaccount:default:wandb-weave-trace-worker",
                ]
                clickhouse = values["global"]["clickhouse"]
                if env == "prod":  # external ClickHouse, required in prod
                    assert "default" not in blocks(doc, "variable")["clickhouse_host"]
                    assert clickhouse["host"] == "clickhouse.example.com"
                    assert clickhouse["passwordSecret"]["name"] == "wandb-credentials"
                    assert values["clickhouse"] == {"install": False}
                else:  # dev: the chart's in-cluster ClickHouse
                    assert variable_default(doc, "clickhouse_host") == ""
                    assert values["clickhouse"] == {"install": True}
            else:
                assert "weave-trace" not in values and "weave-trace" not in values["global"]
                assert "clickhouse" not in values and "internalJWTMap" not in values["app"]
                assert "clickhouse_host" not in blocks(doc, "variable")
    # Issue 13: the largest preset whose every pod fits a node (tests/test_capacity.py): medium's
    # parquet pod needs 15 cores, more than an 8-core node leaves, or (on AKS) a 16-core one.
    assert sizes[("dev", "models")] == sizes[("dev", "both")] == "small"
    assert sizes[("prod", "models")] == "small"
    assert sizes[("prod", "weave")] == sizes[("prod", "both")] == ("small" if cloud == "azure" else "large")


def test_external_clickhouse_password_goes_to_the_secret() -> None:
    result = evaluate("aws", "prod", "both")
    assert result["credentials"]["CLICKHOUSE_PASSWORD"] == "ch-secret"
    assert "CLICKHOUSE_PASSWORD" not in evaluate("aws", "prod", "models")["credentials"]
    assert "CLICKHOUSE_PASSWORD" not in evaluate("aws", "dev", "both")["credentials"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_airgapped_variables_reach_every_release(cloud: str) -> None:
    doc = app_doc(cloud, "prod", "models")
    assert variable_default(doc, "image_registry") == ""
    assert variable_default(doc, "airgapped") is False
    assert variable_default(doc, "wandb_release") is None
    public = evaluate(cloud, "prod", "models")
    # Issue 14: the controller image is pinned by default (the chart's default is latest, pulled always).
    assert public["operator_values"] == {
        "airgapped": False, "image": {"repository": "wandb/controller", "tag": "1.22.0", "pullPolicy": "IfNotPresent"},
    }
    assert values_of(public)["global"]["repositoryPrefix"] == values_of(public)["global"]["imageRegistry"] == ""

    registry = "registry.internal:5000/mirror"
    release = {"chart_version": "0.43.8", "image_tags": {repo: "0.75.1" for repo in W_AND_B_IMAGES}}
    mirrored = evaluate(cloud, "prod", "models", airgapped=True, image_registry=registry,
                        chart_repository="https://charts.internal/wandb", wandb_release=release,
                        operator_image_tag="1.22.0")
    assert mirrored["operator_values"] == {
        "airgapped": True, "image": {"repository": f"{registry}/wandb/controller", "tag": "1.22.0", "pullPolicy": "IfNotPresent"},
    }
    # Issue 14: a pinned release pins every W&B image; nothing runs as latest.
    for component in ("app", "console", "parquet", "weave", "settingsMigrationJob"):
        assert values_of(mirrored)[component]["image"] == {"tag": "0.75.1"}, component
    assert not [i for i in mirrored["images_to_mirror"] if i.endswith(":latest")]
    assert "image" not in values_of(public)["app"]
    assert values_of(mirrored)["prometheus"]["instance"]["server"]["image"] == {"repository": f"{registry}/prometheus/prometheus"}
    glob = values_of(mirrored)["global"]
    assert glob["repositoryPrefix"] == glob["imageRegistry"] == registry
    assert mirrored["wandb_cr"]["spec"]["chart"] == {
        "url": "https://charts.internal/wandb", "name": "operator-wandb", "version": "0.43.8",
    }
    oci = evaluate(cloud, "prod", "models", chart_repository="oci://registry.internal/charts/", wandb_release=release)
    assert oci["wandb_cr"]["spec"]["chart"] == {"url": "oci://registry.internal/charts/operator-wandb", "version": "0.43.8"}
    # A mirror with credentials: the operator reads them from the credentials
    # secret (the custom resource only names it).
    reference = {"name": "wandb-credentials", "usernameKey": "HELM_USERNAME", "passwordKey": "HELM_PASSWORD"}
    for repository in ("https://charts.internal/wandb", "oci://registry.internal/charts"):
        authed = evaluate(cloud, "prod", "models", chart_repository=repository, wandb_release=release,
                          chart_repository_username="robot", chart_repository_password="s3cret")
        assert authed["wandb_cr"]["spec"]["chart"]["credentialSecret"] == reference
        assert "s3cret" not in json.dumps(authed["wandb_cr"])
        assert {k: authed["credentials"][k] for k in ("HELM_USERNAME", "HELM_PASSWORD")} == {
            "HELM_USERNAME": "robot", "HELM_PASSWORD": "s3cret"}
    assert "HELM_USERNAME" not in mirrored["credentials"]
    channel = evaluate(cloud, "prod", "models", chart_repository_username="robot", chart_repository_password="s3cret")
    assert channel["wandb_cr"]["spec"]["chart"] == {}
    assert "HELM_PASSWORD" not in channel["credentials"]
    if cloud == "aws":
        assert mirrored["lb_controller_values"]["serviceAccount"]["name"] == "aws-load-balancer-controller"
        release = resource(doc, "helm_release.aws_load_balancer_controller")
        assert release["repository"] == "${var.lb_controller_chart_repository}"
        assert "var.image_registry" in release["values"][0]
    if cloud == "azure":
        manager = mirrored["cert_manager_values"]
        assert manager["image"] == {"repository": f"{registry}/jetstack/cert-manager-controller"}
        assert manager["webhook"] == {"image": {"repository": f"{registry}/jetstack/cert-manager-webhook"}}
        assert "image" not in public["cert_manager_values"]


@pytest.mark.parametrize("cloud,auth,repository", [
    ("aws", "lb_controller_chart_auth", "lb_controller_chart_repository"),
    ("azure", "cert_manager_chart_auth", "cert_manager_chart_repository"),
])
def test_mirror_credentials_stay_on_the_mirror_host(cloud: str, auth: str, repository: str) -> None:
    mirror = {"chart_repository": "https://charts.internal/wandb", "chart_repository_username": "robot"}
    assert evaluate(cloud, "dev", "models", **mirror)[auth] is False  # controller chart from its public default
    assert evaluate(cloud, "dev", "models", **mirror, **{repository: "https://charts.internal/controllers"})[auth] is True
    assert evaluate(cloud, "dev", "models", **{repository: "https://charts.internal/controllers"})[auth] is False
    release = resource(app_doc(cloud, "dev", "models"), "helm_release." + ("aws_load_balancer_controller" if cloud == "aws" else "cert_manager"))
    assert release["repository_username"] == f"${{local.{auth} ? var.chart_repository_username : null}}"


def test_manifests_chart_path_default_and_override() -> None:
    assert evaluate("gcp", "dev", "models")["manifests_chart"].endswith("/charts/wandb-manifests")
    assert evaluate("gcp", "dev", "models", manifests_chart_path="/srv/chart")["manifests_chart"] == "/srv/chart"


# ---- The contract with the infra module -------------------------------------------------


@pytest.mark.parametrize("cloud,env,products", COMBOS)
def test_consumed_infra_outputs_exist(cloud: str, env: str, products: str) -> None:
    """Issue 14: the catalog's app_inputs are the one list: every app variable documented as an infra
    output is one of them and named exactly like it, and the infra module has each as an output."""
    contract = set(_wandb_plan(load_catalog(cloud, ()), products).app_inputs)
    infra_outputs = set(blocks(parsed(cloud, env, products, *DOMAIN_ARGS), "output"))
    app_vars = blocks(app_doc(cloud, env, products), "variable")
    documented = {}
    for name, body in app_vars.items():
        match = re.match(r"Infrastructure output ([a-z0-9_]+):", body["description"])
        if match:
            documented[name] = match.group(1)
    assert all(name == output for name, output in documented.items()), documented
    assert set(documented) == contract
    missing = contract - infra_outputs
    assert not missing, f"the {cloud} infra module lacks outputs the app layer reads: {sorted(missing)}"
    assert contract <= set(INFRA_OUTPUTS[cloud])


def test_eks_auth_exec_keeps_access_through_long_applies() -> None:
    """The providers' EKS token lives 15 minutes; with eks_auth = "exec" (the default) the AWS CLI
    renews it, so Helm waits that add up to more than that do not lose access mid-apply."""
    doc = app_doc("aws", "prod", "both")
    assert variable_default(doc, "eks_auth") == "exec"
    assert blocks(doc, "variable")["eks_auth"]["validation"][0]["condition"] == '${contains(["exec", "token"], var.eks_auth)}'
    eks_exec = local_value(doc, "eks_exec")
    assert eks_exec["command"] == "aws"
    assert eks_exec["args"] == ["eks", "get-token", "--cluster-name", "${var.cluster_name}", "--region", "${var.region}"]
    providers = {name: body for entry in doc["provider"] for name, body in entry.items()}
    kubernetes = providers["kubernetes"]
    token = '${var.eks_auth == "token" ? data.aws_eks_cluster_auth.this.token : null}'
    assert kubernetes["token"] == token
    (exec_block,) = [d["exec"] for d in kubernetes["dynamic"] if "exec" in d]
    assert exec_block["for_each"] == '${var.eks_auth == "exec" ? [local.eks_exec] : []}'
    assert exec_block["content"][0]["command"] == "${exec.value.command}"
    helm = providers["helm"]["kubernetes"]
    assert helm["token"] == token
    assert helm["exec"] == '${var.eks_auth == "exec" ? local.eks_exec : null}'


# ---- One contract for both layers (issue 14) ------------------------------------------------


def _infra_bound_accounts(cloud: str, products: str) -> list[str]:
    """The service accounts the infrastructure module's cloud identity trusts, read from its code."""
    doc = parsed(cloud, "prod", products, *DOMAIN_ARGS)
    if cloud == "azure":
        credentials = blocks(doc, "resource")
        subjects = [
            body["subject"] for address, body in credentials.items()
            if address.startswith("azurerm_federated_identity_credential.wandb_")
        ]
        return [s.removeprefix("system:serviceaccount:${var.wandb_namespace}:") for s in subjects]
    if cloud == "aws":
        trust = blocks(doc, "data")["aws_iam_policy_document.wandb_assume"]["statement"][0]["condition"]
        (subject,) = [c for c in trust if c["variable"].endswith(":sub")]
        # Exactly the named accounts: no wildcard over the namespace.
        assert subject["test"] == "StringEquals"
        assert subject["values"] == '${[for account in var.wandb_service_accounts : "system:serviceaccount:${var.wandb_namespace}:${account}"]}'
    return variable_default(doc, "wandb_service_accounts")


@pytest.mark.parametrize("cloud,products", [(c, p) for c in CLOUDS for p in ("models", "both")])
def test_every_service_account_the_app_names_is_bound_by_the_infra_and_the_reverse(cloud: str, products: str) -> None:
    values = values_of(evaluate(cloud, "prod", products))
    annotation, _ = IDENTITY_ANNOTATION[cloud]
    named = [
        body["serviceAccount"]["name"] for body in values.values()
        if isinstance(body, dict) and annotation in body.get("serviceAccount", {}).get("annotations", {})
    ]
    bound = _infra_bound_accounts(cloud, products)
    assert sorted(named) == sorted(bound)
    assert len(set(bound)) == len(bound)
    # Both sides are the chart's own names: <release>-<component in kebab case>.
    for component, body in values.items():
        if isinstance(body, dict) and "serviceAccount" in body:
            assert body["serviceAccount"]["name"] == "wandb-" + re.sub(r"(?<!^)(?=[A-Z])", "-", component).lower()
    expected = {"models": [a for a in WANDB_SERVICE_ACCOUNTS_WEAVE if "weave-trace" not in a], "both": WANDB_SERVICE_ACCOUNTS_WEAVE}
    assert sorted(bound) == sorted(expected[products])
    # The namespace: the infrastructure's variable and output, the app's input of the same name.
    infra = parsed(cloud, "prod", products, *DOMAIN_ARGS)
    assert blocks(infra, "output")["wandb_namespace"]["value"] == "${var.wandb_namespace}"
    assert variable_default(infra, "wandb_namespace") == variable_default(app_doc(cloud, "prod", products), "wandb_namespace") == "default"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_internal_jwt_map_names_service_accounts_that_exist(cloud: str) -> None:
    values = values_of(evaluate(cloud, "prod", "both"))
    accounts = {body["serviceAccount"]["name"] for body in values.values() if isinstance(body, dict) and "serviceAccount" in body}
    subjects = [entry["subject"] for entry in values["app"]["internalJWTMap"]]
    assert subjects == ["system:serviceaccount:default:wandb-weave-trace", "system:serviceaccount:default:wandb-weave-trace-worker"]
    for subject in subjects:
        assert subject.rsplit(":", 1)[1] in accounts  # the chart creates it and the infra binds it
        assert subject.rsplit(":", 1)[1] in _infra_bound_accounts(cloud, "both")


# ---- gen-tf app-vars: infra outputs into the app layer, no hand work (issue 14) ----------------


def _terraform_output_json(cloud: str, products: str) -> dict[str, Any]:
    """What `terraform output -json` of the infra module prints, with stand-in values for its outputs."""
    outputs = blocks(parsed(cloud, "prod", products, *DOMAIN_ARGS), "output")
    fallback = {"type": "string", "sensitive": False}
    return {
        name: {**fallback, "value": INFRA_OUTPUTS[cloud].get(name, f"stand-in for {name}"), "sensitive": body.get("sensitive", False)}
        for name, body in outputs.items()
    }


@pytest.mark.parametrize("cloud,products", [(c, p) for c in CLOUDS for p in ("models", "both")])
def test_app_vars_feeds_the_app_layer_from_terraform_output(tmp_path: Path, capsys, cloud: str, products: str) -> None:
    from conftest import run_cli

    source = tmp_path / "outputs.json"
    source.write_text(json.dumps(_terraform_output_json(cloud, products)))
    code, out, err = run_cli(["app-vars", "--cloud", cloud, "--input", str(source)], capsys)
    assert code == 0, err
    variables = json.loads(out)
    documented = {
        name for name, body in blocks(app_doc(cloud, "prod", products), "variable").items()
        if body["description"].startswith("Infrastructure output ")
    }
    assert set(variables) == documented
    assert variables == {k: v for k, v in INFRA_OUTPUTS[cloud].items() if k in documented}
    # The app module takes them as they are: its locals evaluate with this file and the license alone.
    result = evaluate(cloud, "prod", products, **variables)
    assert values_of(result)["global"]["host"] == f"https://{DOMAIN}"


def test_app_vars_refuses_what_it_cannot_use(tmp_path: Path, capsys) -> None:
    from conftest import run_cli

    outputs = _terraform_output_json("aws", "models")
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({k: v for k, v in outputs.items() if k != "db_secret_arn"}))
    code, out, err = run_cli(["app-vars", "--cloud", "aws", "--input", str(partial)], capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "lacks the aws infrastructure outputs db_secret_arn" in err
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({**outputs, "db_endpoint": {**outputs["db_endpoint"], "sensitive": True}}))
    code, _, err = run_cli(["app-vars", "--cloud", "aws", "--input", str(secret)], capsys)
    assert code == 2 and "output db_endpoint is sensitive" in err
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    code, _, err = run_cli(["app-vars", "--cloud", "aws", "--input", str(broken)], capsys)
    assert code == 2 and "is not JSON" in err and "Traceback" not in err


def test_the_size_preset_follows_the_infrastructure_nodes() -> None:
    """The W&B size preset is chosen for the nodes the infrastructure builds (issue 13), so it is an
    infrastructure output in the contract (sized_wandb_size) rather than recomputed by the app layer
    from the default node type: with --node-family the infrastructure may carry a larger preset.
    The user's own choice (wandb_size) is a separate variable app-vars never writes, so a
    regenerated infra.auto.tfvars.json cannot undo it."""
    for cloud, env, products in COMBOS:
        assert "sized_wandb_size" in load_catalog(cloud, ()).cloud.app_inputs
        assert "wandb_size" not in load_catalog(cloud, ()).cloud.app_inputs
        output = blocks(parsed(cloud, env, products, *DOMAIN_ARGS), "output")["sized_wandb_size"]["value"]
        app = app_doc(cloud, env, products)
        assert output == variable_default(app, "sized_wandb_size"), (cloud, env, products)
        assert variable_default(app, "wandb_size") is None
    default = blocks(parsed("azure", "prod", "weave", *DOMAIN_ARGS), "output")["sized_wandb_size"]["value"]
    larger = blocks(parsed("azure", "prod", "weave", *DOMAIN_ARGS, "--node-family", "Standard_D*s_v5"), "output")["sized_wandb_size"]["value"]
    assert (default, larger) == ("small", "large")
    # What app-vars writes reaches the chart; the user's wandb_size wins over it.
    assert values_of(evaluate("azure", "prod", "weave", sized_wandb_size=larger))["global"]["size"] == "large"
    assert values_of(evaluate("azure", "prod", "weave", sized_wandb_size=larger, wandb_size="xlarge"))["global"]["size"] == "xlarge"
    assert values_of(evaluate("azure", "prod", "weave"))["global"]["size"] == "small"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_gke_health_checks_are_stated_not_inferred(cloud: str) -> None:
    """GCP: each routed component's BackendConfig states the load balancer's health check (the
    catalog's route path, on the pods' port for container-native NEGs), so it never depends on
    the GKE Ingress controller inferring it once from a readiness probe. Elsewhere the chart's
    service stays as it is (AWS checks through its target groups, AGIC reads the probes)."""
    values = values_of(evaluate(cloud, "prod", "both"))
    routes = _wandb_plan(load_catalog(cloud, ()), "both").routes
    assert {r.component for r in routes} == {"app", "console", "weave-trace"}
    for route in routes:
        service = values[route.component].get("service")
        if cloud == "gcp":
            assert service == {"healthCheck": {"type": "HTTP", "requestPath": route.health_check, "port": route.pod_port}}
        else:
            assert service is None
    if cloud == "gcp":
        assert values["weave-trace"]["service"]["healthCheck"]["port"] == 8080  # the pod's, not the service's 8722
